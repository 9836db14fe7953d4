// ONNX Runtime latency for comparison with `tensorlens bench`.
// Usage: node nn-ort-bench.js MODEL.onnx [RUNS] [THREADS]
// Prints median_ms=X min_ms=Y runs=N threads=T (batch 1, random input).
'use strict';
const ort = require('onnxruntime-node');

(async () => {
  const [model, runsArg, threadsArg] = process.argv.slice(2);
  const runs = Number(runsArg || 20);
  const threads = Number(threadsArg || 0);
  const opts = threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const sess = await ort.InferenceSession.create(model, opts);
  const meta = sess.inputMetadata ? sess.inputMetadata[0] : null;
  let shape = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : null;
  if (!shape) throw new Error('cannot read the input shape');
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; data[i] = s / 2147483648; }
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  for (let i = 0; i < 3; i++) await sess.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const med = runs % 2 ? ms[(runs - 1) / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
  console.log(`median_ms=${med.toFixed(3)} min_ms=${ms[0].toFixed(3)} runs=${runs} threads=${threads || 'default'}`);
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
