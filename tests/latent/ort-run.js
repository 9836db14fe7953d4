// Runs one ONNX file in ONNX Runtime on each row of a float32 .npy batch,
// one image at a time (the files may fix batch 1), and writes the stacked
// output: the independent reference of test-eval-sampling-model.py.
//
//   NODE_PATH=tools/ref/node_modules node ort-run.js MODEL.onnx INPUT OUTPUT IN.npy OUT.npy
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const path = require('path');
const { npyLoad, npySave } = require(path.join(__dirname, '..', '..', 'tools', 'ref', 'npy.js'));

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
