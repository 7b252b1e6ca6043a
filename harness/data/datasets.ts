// Harness data: labelled image sets as float32 NCHW pixels in [0, 1] plus int labels.
//   fashion-mnist            the bundled test split (models/data/fashion-mnist, IDX gz)
//   idx:<images>,<labels>    IDX files (gzip or raw), e.g. MNIST / Fashion-MNIST
//   cifar10:<dir>            CIFAR-10 binary batches (test_batch.bin; data_batch_*.bin with --split train)
//   npy:<x.npy>,<y.npy>      NumPy arrays: x float32 [N, C, H, W] in [0, 1], y integer labels [N]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { readNpy } from "./npy.ts";

export interface Dataset {
  name: string;
  x: Float32Array; // [n, c, h, w]
  y: Int32Array;
  n: number;
  shape: [number, number, number]; // c, h, w
}

export class DataError extends Error {}

export const BUNDLED_FMNIST = fileURLToPath(new URL("../../models/data/fashion-mnist/", import.meta.url));

function readMaybeGz(file: string): Uint8Array {
  if (!existsSync(file)) throw new DataError(`${file}: no such file`);
  const b = readFileSync(file);
  return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

export function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const b = readMaybeGz(file);
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 0x08) throw new DataError(`${file}: not an unsigned-byte IDX file`);
  const nd = b[3];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => v.getUint32(4 + 4 * i));
  const n = dims.reduce((p, d) => p * d, 1);
  const data = b.subarray(4 + 4 * nd);
  if (data.length !== n) throw new DataError(`${file}: header promises ${n} values, file holds ${data.length}`);
  return { dims, data };
}

function fromIdx(images: string, labels: string, name: string): Dataset {
  const im = readIdx(images), lb = readIdx(labels);
  const n = im.dims[0];
  if (lb.dims[0] !== n) throw new DataError(`${labels}: ${lb.dims[0]} labels for ${n} images`);
  const [h, w] = im.dims.slice(1);
  const x = new Float32Array(im.data.length);
  for (let i = 0; i < x.length; i++) x[i] = im.data[i] / 255;
  return { name, x, y: Int32Array.from(lb.data), n, shape: [1, h, w] };
}

function fromCifar(dir: string, split: "test" | "train"): Dataset {
  const files = split === "test" ? ["test_batch.bin"] : readdirSync(dir).filter((f) => /^data_batch_\d+\.bin$/.test(f)).sort();
  const rec = 1 + 3 * 32 * 32;
  const parts = files.map((f) => {
    const b = readMaybeGz(join(dir, f));
    if (b.length % rec) throw new DataError(`${join(dir, f)}: ${b.length} bytes is not a whole number of CIFAR-10 records (${rec} bytes)`);
    return b;
  });
  if (!parts.length) throw new DataError(`${dir}: no CIFAR-10 binary batches found`);
  const n = parts.reduce((p, b) => p + b.length / rec, 0);
  const x = new Float32Array(n * 3072), y = new Int32Array(n);
  let k = 0;
  for (const b of parts)
    for (let r = 0; r < b.length / rec; r++, k++) {
      y[k] = b[r * rec];
      if (y[k] > 9) throw new DataError(`${dir}: label ${y[k]} out of range in record ${k}`);
      for (let i = 0; i < 3072; i++) x[k * 3072 + i] = b[r * rec + 1 + i] / 255;
    }
  return { name: "cifar10", x, y, n, shape: [3, 32, 32] };
}

function fromNpy(xf: string, yf: string): Dataset {
  const rd = (f: string) => {
    if (!existsSync(f)) throw new DataError(`${f}: no such file`);
    try {
      return readNpy(readFileSync(f), f);
    } catch (e) {
      throw new DataError((e as Error).message);
    }
  };
  const x = rd(xf), y = rd(yf);
  if (x.shape.length !== 4) throw new DataError(`${xf}: expected [N, C, H, W], got [${x.shape}]`);
  if (y.data.length !== x.shape[0]) throw new DataError(`${yf}: ${y.data.length} labels for ${x.shape[0]} inputs`);
  return { name: "npy", x: x.data, y: Int32Array.from(y.data), n: x.shape[0], shape: [x.shape[1], x.shape[2], x.shape[3]] };
}

export function loadDataset(spec: string, split: "test" | "train" = "test"): Dataset {
  if (spec === "fashion-mnist") {
    const pre = split === "test" ? "t10k" : "train";
    return fromIdx(join(BUNDLED_FMNIST, `${pre}-images-idx3-ubyte.gz`), join(BUNDLED_FMNIST, `${pre}-labels-idx1-ubyte.gz`), "fashion-mnist");
  }
  const [kind, rest] = [spec.slice(0, spec.indexOf(":")), spec.slice(spec.indexOf(":") + 1)];
  if (kind === "idx") {
    const [a, b] = rest.split(",");
    if (!b) throw new DataError("idx: expects idx:<images>,<labels>");
    return fromIdx(a, b, "idx");
  }
  if (kind === "cifar10") return fromCifar(rest, split);
  if (kind === "npy") {
    const [a, b] = rest.split(",");
    if (!b) throw new DataError("npy: expects npy:<x.npy>,<y.npy>");
    return fromNpy(a, b);
  }
  throw new DataError(`unknown dataset '${spec}' (fashion-mnist, idx:<images>,<labels>, cifar10:<dir>, npy:<x>,<y>)`);
}

export function take(d: Dataset, n: number, offset = 0): Dataset {
  const m = Math.max(0, Math.min(n, d.n - offset));
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  return { ...d, n: m, x: d.x.subarray(offset * per, (offset + m) * per), y: d.y.subarray(offset, offset + m) };
}
