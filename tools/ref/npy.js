// Float32 .npy reading and writing for the Node reference scripts (ONNX
// Runtime, TF.js), one copy instead of one per script.
'use strict';
const fs = require('fs');

// { data: Float32Array, shape: number[] } of a little-endian float32
// C-order .npy (format version 1, 2 or 3).
function npyLoad(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: need little-endian float32 C order, header ${header}`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = buf.byteOffset + off + hlen;
  if (off + hlen + 4 * n > buf.length) throw new Error(`${file}: shorter than its shape (${shape})`);
  return { data: new Float32Array(buf.buffer.slice(start, start + 4 * n)), shape };
}

// Writes data (any array of numbers) as a version-1 float32 .npy of shape.
function npySave(file, data, shape) {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength)]));
}

module.exports = { npyLoad, npySave };
