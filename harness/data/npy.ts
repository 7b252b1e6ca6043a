// Harness data: NumPy .npy read/write (format versions 1–3, C order). Reads float32/float64/
// integer/bool arrays as float32 values (unchanged: no scaling) and says which dtype the file held;
// writes float32. Bad files get a clear error.
export interface NdArray {
  shape: number[];
  data: Float32Array;
}

/** NumPy's name of each dtype readNpy takes, by its .npy descr. */
export const NPY_DTYPES: Record<string, { name: string; size: number }> = {
  "<f4": { name: "float32", size: 4 }, "<f8": { name: "float64", size: 8 },
  "|u1": { name: "uint8", size: 1 }, "<u1": { name: "uint8", size: 1 }, "|i1": { name: "int8", size: 1 }, "<i1": { name: "int8", size: 1 },
  "<u2": { name: "uint16", size: 2 }, "<i2": { name: "int16", size: 2 }, "<u4": { name: "uint32", size: 4 }, "<i4": { name: "int32", size: 4 },
  "<i8": { name: "int64", size: 8 }, "<u8": { name: "uint64", size: 8 }, "|b1": { name: "bool", size: 1 },
};

/** `dtype`: NumPy's name of the stored type (float32, uint8, …); `data` holds its values as float32. */
export function readNpy(bytes: Uint8Array, file = "<npy>"): NdArray & { dtype: string } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error(`${file}: not a NumPy .npy file`);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${file}: .npy format version ${major} is not supported (1–3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hstart = major === 1 ? 10 : 12;
  if (bytes.length < hstart) throw new Error(`${file}: malformed .npy header`);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hstart + hlen > bytes.length) throw new Error(`${file}: malformed .npy header (truncated)`);
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeStr === undefined) throw new Error(`${file}: malformed .npy header`);
  if (fortran) throw new Error(`${file}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeStr.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`${file}: malformed .npy header (shape (${shapeStr}))`);
  const n = shape.reduce((p, d) => p * d, 1);
  const off = hstart + hlen;
  const dt = NPY_DTYPES[descr];
  if (!dt) {
    if (descr.startsWith(">")) throw new Error(`${file}: dtype ${descr} is big-endian: save it with .astype('<${descr.slice(1)}')`);
    throw new Error(`${file}: dtype ${descr} is not supported (float32, float64, int8/16/32/64, uint8/16/32/64, bool)`);
  }
  const size = dt.size;
  if (bytes.length - off < n * size) throw new Error(`${file}: expected ${n} values of ${dt.name}, file is truncated`);
  const data = new Float32Array(n);
  const get: (o: number) => number =
    descr === "<f4" ? (o) => view.getFloat32(o, true) : descr === "<f8" ? (o) => view.getFloat64(o, true)
    : dt.name === "uint8" || dt.name === "bool" ? (o) => bytes[o] : dt.name === "int8" ? (o) => view.getInt8(o)
    : descr === "<u2" ? (o) => view.getUint16(o, true) : descr === "<i2" ? (o) => view.getInt16(o, true)
    : descr === "<u4" ? (o) => view.getUint32(o, true) : descr === "<i4" ? (o) => view.getInt32(o, true)
    : descr === "<u8" ? (o) => Number(view.getBigUint64(o, true)) : (o) => Number(view.getBigInt64(o, true));
  for (let i = 0; i < n; i++) data[i] = get(off + i * size);
  return { shape, data, dtype: dt.name };
}

export function writeNpy(a: NdArray): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + a.data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  new Uint8Array(out.buffer, 10 + header.length).set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  return out;
}
