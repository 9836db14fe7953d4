// Runs one ONNX file in ONNX Runtime on each row of a float32 .npy batch,
// one image at a time (the files may fix batch 1), and writes the stacked
// output: the independent reference of test-eval-sampling-model.py.
//
//   NODE_PATH=tools/ref/node_modules node ort-run.js MODEL.onnx INPUT OUTPUT IN.npy OUT.npy
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function npyLoad(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (buf[6] !== 1 || !/'descr': '<f4'/.test(header)) throw new Error(`${file}: need v1 <f4`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const body = buf.subarray(10 + hlen);
  const data = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { data, shape };
}

function npySave(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, inName, outName, inFile, outFile] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const x = npyLoad(inFile);
  const n = x.shape[0], per = x.data.length / n;
  let out = null, outShape = null;
  for (let i = 0; i < n; i++) {
    const feed = { [inName]: new ort.Tensor('float32', x.data.slice(i * per, (i + 1) * per),
                                            [1, ...x.shape.slice(1)]) };
    const y = (await session.run(feed, [outName]))[outName];
    if (!out) {
      out = new Float32Array(n * y.data.length);
      outShape = [n, ...y.dims.slice(1)];
    }
    out.set(y.data, i * y.data.length);
  }
  npySave(outFile, out, outShape);
}

main().catch((e) => { console.error(e); process.exit(1); });
