// Compare a converted ONNX model (ONNX Runtime) with its TF.js original (tfjs + wasm).
//
//   NODE_PATH=tools/ref/node_modules node tools/ref/models-verify.js JOBS.json > RESULTS.json
//
// JOBS.json: [{ name, tfjs: "model.json", onnx: "model.onnx" (with the compared
//   tensors exposed as graph outputs), photo: "x.png|jpg", crop: [x,y,w,h]|null,
//   size: [H,W], color: "rgb"|"gray", scale, mean: [..], std: [..],
//   gray: [wr,wg,wb] (for color gray), compare: [tensor names], dump: dir|null,
//   input_npy: NHWC float32 .npy used as the input instead of a photo (optional) }]
// Preprocessing is done once, in tfjs, exactly as the card says:
//   crop -> tf.image.resizeBilinear (TF1 legacy, align_corners=false,
//   half_pixel_centers=false) on 0..255 RGB -> optional gray -> (x*scale-mean)/std.
// The same NHWC tensor goes to tfjs; its NCHW transpose goes to ORT.
// Each compared tensor: rank-4 tfjs outputs are transposed NHWC->NCHW, then
//   rel_l2 = ||ort - tfjs||_2 / ||tfjs||_2 and max_abs = max |ort - tfjs|.
// With dump set, the NCHW input and the ORT outputs are written as .npy.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const ort = require('onnxruntime-node');
const { PNG } = require('pngjs');
const jpeg = require('jpeg-js');
const { npyLoad, npySave } = require('./npy');

function readImage(file) {
  const buf = fs.readFileSync(file);
  const img = /\.png$/i.test(file) ? PNG.sync.read(buf) : jpeg.decode(buf, { useTArray: true });
  const { width, height, data } = img;
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++)
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * 4 + c];
  return tf.tensor4d(rgb, [1, height, width, 3]);
}

function fileHandler(modelJson) {
  return {
    load: async () => {
      const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
      const dir = path.dirname(modelJson);
      const specs = [], bufs = [];
      for (const g of j.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return {
        modelTopology: j.modelTopology, format: j.format, generatedBy: j.generatedBy,
        convertedBy: j.convertedBy, signature: j.signature, userDefinedMetadata: j.userDefinedMetadata,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

function npyTensor(file) {
  const { data, shape } = npyLoad(file);
  return tf.tensor(data, shape);
}

function preprocess(job) {
  if (job.input_npy) return npyTensor(job.input_npy);   // an NHWC tensor given as is
  return tf.tidy(() => {
    let x = readImage(job.photo);
    if (job.crop) {
      const [cx, cy, cw, ch] = job.crop;
      x = tf.slice(x, [0, cy, cx, 0], [1, ch, cw, 3]);
    }
    x = tf.image.resizeBilinear(x, job.size, false, false);
    if (job.color === 'gray') {
      const [r, g, b] = tf.split(x, 3, 3);
      x = tf.addN([tf.mul(r, job.gray[0]), tf.mul(g, job.gray[1]), tf.mul(b, job.gray[2])]);
    }
    const mean = tf.tensor1d(job.mean), std = tf.tensor1d(job.std);
    return tf.div(tf.sub(tf.mul(x, job.scale), mean), std);
  });
}

function toNCHW(t) {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
}

function safe(name) {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

async function runJob(job) {
  const model = await tf.loadGraphModel(fileHandler(job.tfjs));
  const x = preprocess(job);
  const tfOut = model.execute(x, job.compare);
  const tfList = Array.isArray(tfOut) ? tfOut : [tfOut];
  const xn = toNCHW(x);
  const session = await ort.InferenceSession.create(job.onnx, { intraOpNumThreads: 1 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', xn.dataSync(), xn.shape) };
  const ortOut = await session.run(feeds, job.compare);
  const rows = [];
  if (job.dump) {
    fs.mkdirSync(job.dump, { recursive: true });
    npySave(path.join(job.dump, 'input.npy'), xn.dataSync(), xn.shape);
  }
  job.compare.forEach((name, i) => {
    const ref = toNCHW(tfList[i]);
    const a = ortOut[name];
    const shapeRef = ref.shape.join('x'), shapeOrt = a.dims.join('x');
    const r = ref.dataSync(), o = a.data;
    let num = 0, den = 0, maxAbs = 0, maxRef = 0;
    for (let k = 0; k < r.length; k++) {
      const d = o[k] - r[k];
      num += d * d; den += r[k] * r[k];
      maxAbs = Math.max(maxAbs, Math.abs(d)); maxRef = Math.max(maxRef, Math.abs(r[k]));
    }
    rows.push({
      model: job.name,
      photo: job.input_npy ? path.basename(job.input_npy)
        : path.basename(job.photo) + (job.crop ? ` crop ${job.crop.join(',')}` : ''),
      tensor: name, shape: shapeOrt, shape_match: shapeRef === shapeOrt,
      rel_l2: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), max_abs: maxAbs, max_ref: maxRef,
      argmax: r.length <= 1000 ? r.indexOf(Math.max(...r)) : undefined,
    });
    if (job.dump) npySave(path.join(job.dump, safe(name) + '.npy'), o, a.dims);
  });
  tf.dispose([x, xn, ...tfList]);
  return rows;
}

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const rows = [];
  for (const job of jobs) rows.push(...await runJob(job));
  process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
