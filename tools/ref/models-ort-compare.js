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
const { npyLoad, npySave } = require('./npy');

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
