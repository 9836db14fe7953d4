// Run ONNX files in ONNX Runtime on given .npy inputs and compare with reference .npy outputs.
//
//   NODE_PATH=tools/ref/node_modules node tools/ref/models-ort-compare.js JOBS.json > RESULTS.json
//
// JOBS.json: [{ name, onnx, inputs: {tensor: "x.npy"}, outputs: {tensor: "ref.npy"},
//               dump: dir|null }]
// Every requested output must already be a graph output (the driver adds them).
// Per output: rel_l2 = ||ort - ref||_2 / ||ref||_2, max_abs, shape match.
// With dump set, ORT's outputs are written there as <tensor>.npy (float32).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function npyLoad(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  if (!/'descr': '<f4'/.test(header) || /'fortran_order': True/.test(header))
    throw new Error(`${file}: need little-endian float32 C order, header ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + off + hlen, buf.byteOffset + buf.length));
  return { data, shape };
}

function npySave(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const f32 = Float32Array.from(data);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength)]));
}

async function runJob(job) {
  const session = await ort.InferenceSession.create(job.onnx, { intraOpNumThreads: 1 });
  const feeds = {};
  for (const [name, file] of Object.entries(job.inputs)) {
    const a = npyLoad(file);
    feeds[name] = new ort.Tensor('float32', a.data, a.shape);
  }
  const names = Object.keys(job.outputs);
  const out = await session.run(feeds, names);
  if (job.dump) fs.mkdirSync(job.dump, { recursive: true });
  return names.map((name) => {
    const ref = npyLoad(job.outputs[name]);
    const o = out[name];
    let num = 0, den = 0, maxAbs = 0, maxRef = 0;
    for (let k = 0; k < ref.data.length; k++) {
      const d = o.data[k] - ref.data[k];
      num += d * d; den += ref.data[k] * ref.data[k];
      maxAbs = Math.max(maxAbs, Math.abs(d)); maxRef = Math.max(maxRef, Math.abs(ref.data[k]));
    }
    if (job.dump) npySave(path.join(job.dump, name.replace(/[^A-Za-z0-9_.-]+/g, '_') + '.npy'), o.data, o.dims);
    return {
      model: job.name, tensor: name, shape: o.dims.join('x'),
      shape_match: o.dims.join('x') === ref.shape.join('x') && o.data.length === ref.data.length,
      rel_l2: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), max_abs: maxAbs, max_ref: maxRef,
    };
  });
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const rows = [];
  for (const job of jobs) rows.push(...await runJob(job));
  process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
