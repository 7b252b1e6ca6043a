// Harness data: NumPy .npy read/write (format versions 1–3, C order). Reads float32/float64/
// uint8/int64 arrays as float32; writes float32. Bad files get a clear error.
export interface NdArray {
  shape: number[];
  data: Float32Array;
}

export function readNpy(bytes: Uint8Array, file = "<npy>"): NdArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error(`${file}: not a NumPy .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeStr === undefined) throw new Error(`${file}: malformed .npy header`);
  if (fortran) throw new Error(`${file}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeStr.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((p, d) => p * d, 1);
  const off = hstart + hlen;
  const sizes: Record<string, number> = { "<f4": 4, "<f8": 8, "|u1": 1, "<u1": 1, "<i8": 8, "<i4": 4 };
  const size = sizes[descr];
  if (!size) throw new Error(`${file}: dtype ${descr} is not supported (float32, float64, uint8, int32, int64)`);
  if (bytes.length - off < n * size) throw new Error(`${file}: expected ${n} values of ${descr}, file is truncated`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = off + i * size;
    data[i] = descr === "<f4" ? view.getFloat32(o, true) : descr === "<f8" ? view.getFloat64(o, true)
      : size === 1 ? bytes[o] : descr === "<i4" ? view.getInt32(o, true) : Number(view.getBigInt64(o, true));
  }
  return { shape, data };
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
