// Cross-checks the NumPy references of make-resize-fixtures.py against
// TF.js 4.22 tf.image.resizeBilinear (CPU backend): tf-legacy against
// alignCorners=false, halfPixelCenters=false; half-pixel against
// halfPixelCenters=true. Run once after regenerating the fixtures:
//   cd tools/ref && npm ci --no-audit --no-fund && cd ../..
//   NODE_PATH=$PWD/tools/ref/node_modules node tests/data/imaging/check-resize-tfjs.js
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

function loadNpy(p) {
  const buf = fs.readFileSync(p);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False"))
    throw new Error(p + ': not little-endian C-order float32');
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim())
    .map(Number);
  const off = 10 + hlen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length));
  return { shape, data };
}

async function main() {
  await tf.setBackend('cpu');
  const dir = __dirname;
  const cases = ['up16', 'down', 'down_int', 'mixed', 'one', 'same', 'to_one'];
  let worst = 0;
  for (const c of cases) {
    const inp = loadNpy(path.join(dir, `resize_${c}_in.npy`));
    const x = tf.tensor4d(inp.data, [1, ...inp.shape]);
    for (const [mode, half] of [['tf-legacy', false], ['half-pixel', true]]) {
      const ref = loadNpy(path.join(dir, `resize_${c}_${mode}.npy`));
      const y = tf.image.resizeBilinear(x, [ref.shape[0], ref.shape[1]], false, half);
      const got = y.dataSync();
      let d = 0;
      for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - ref.data[i]));
      console.log(`${c} ${mode}: max |tfjs - numpy| = ${d.toExponential(2)}`);
      if (!(d <= 1e-6)) throw new Error(`${c} ${mode}: differs by ${d}`);
      worst = Math.max(worst, d);
    }
  }
  console.log(`ok (worst ${worst.toExponential(2)})`);
}
main().catch(e => { console.error(e.message); process.exit(1); });
