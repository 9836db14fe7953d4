// Runs single-op ONNX models with ONNX Runtime for make-kernel-refs.py's
// cross-check: node run-ort.js DIR reads DIR/manifest.json, a list of
// {model, inputs: [{name, file, dims}], output_file}, and writes each first
// output as raw little-endian float32. Inputs are raw float32 (int64 when a
// name ends in "_i64").
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function main() {
  const dir = process.argv[2];
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json')));
  for (const m of manifest) {
    const session = await ort.InferenceSession.create(path.join(dir, m.model));
    const feeds = {};
    for (const inp of m.inputs) {
      const buf = fs.readFileSync(path.join(dir, inp.file));
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      if (inp.name.endsWith('_i64'))
        feeds[inp.name] = new ort.Tensor('int64', new BigInt64Array(ab), inp.dims);
      else
        feeds[inp.name] = new ort.Tensor('float32', new Float32Array(ab), inp.dims);
    }
    const out = await session.run(feeds);
    const y = out[session.outputNames[0]];
    fs.writeFileSync(path.join(dir, m.output_file), Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
