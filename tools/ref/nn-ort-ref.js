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
const { npyLoad, npySave } = require('./npy');

async function one(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const sess = await ort.InferenceSession.create(path.join(dir, 'model-taps.onnx'),
    { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = npyLoad(path.join(dir, meta.input));
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const names = [meta.output, ...meta.taps];
  const res = await sess.run(feeds, names);
  fs.mkdirSync(path.join(dir, 'ort'), { recursive: true });
  const map = {};
  names.forEach((n, i) => {
    const f = `ort/${String(i).padStart(3, '0')}.npy`;
    npySave(path.join(dir, f), res[n].data, res[n].dims);
    map[n] = f;
  });
  fs.writeFileSync(path.join(dir, 'ort.json'), JSON.stringify(map, null, 1));
  console.log(`${dir}: ${names.length} tensors from onnxruntime-node ${require('onnxruntime-node/package.json').version}`);
}

(async () => {
  for (const d of process.argv.slice(2)) await one(d);
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
