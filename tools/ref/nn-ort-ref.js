// ONNX Runtime reference for the engine's whole-model tests.
// Usage: node nn-ort-ref.js DIR...
// Each DIR holds meta.json, model-taps.onnx (the model with the tapped
// tensors added as graph outputs) and input.npy, as written by
// tests/nn/make-torchvision-refs.py. Writes DIR/ort/NNN.npy for the output
// and every tap, and DIR/ort.json mapping tensor names to those files.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not .npy`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: only little-endian float32 C-order arrays`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',')
    .map((s) => s.trim()).filter((s) => s.length).map(Number);
  const start = off + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function one(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const sess = await ort.InferenceSession.create(path.join(dir, 'model-taps.onnx'),
    { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = readNpy(path.join(dir, meta.input));
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const names = [meta.output, ...meta.taps];
  const res = await sess.run(feeds, names);
  fs.mkdirSync(path.join(dir, 'ort'), { recursive: true });
  const map = {};
  names.forEach((n, i) => {
    const f = `ort/${String(i).padStart(3, '0')}.npy`;
    writeNpy(path.join(dir, f), res[n].dims, res[n].data);
    map[n] = f;
  });
  fs.writeFileSync(path.join(dir, 'ort.json'), JSON.stringify(map, null, 1));
  console.log(`${dir}: ${names.length} tensors from onnxruntime-node ${require('onnxruntime-node/package.json').version}`);
}

(async () => {
  for (const d of process.argv.slice(2)) await one(d);
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
