// Runtime benchmark (a benchmark, not a test): G binary-MAC/s (= MACs·M·K per second) of the
// binary kernels on one core, for both builds, over the shapes that matter for ResNets.
import { BUILDS, RawRuntime, type Build } from "../host/raw.ts";
import { setupBconv, writeEpilogue } from "../host/kernel_setup.ts";
import { packBits, wordsFor } from "../../compiler/pack/bits.ts";
import type { BconvRef } from "../reference/kernels.ts";

export interface BenchCase { name: string; cin: number; cout: number; k: number; hw: number; m: number; kk: number }
export const CASES: BenchCase[] = [
  { name: "bconv", cin: 64, cout: 64, k: 3, hw: 32, m: 1, kk: 1 },
  { name: "bconv", cin: 64, cout: 64, k: 3, hw: 32, m: 3, kk: 1 },
  { name: "bconv", cin: 64, cout: 64, k: 3, hw: 32, m: 3, kk: 3 },
  { name: "bconv", cin: 256, cout: 256, k: 3, hw: 16, m: 1, kk: 1 },
  { name: "bconv", cin: 256, cout: 256, k: 3, hw: 16, m: 3, kk: 1 },
  { name: "bconv", cin: 16, cout: 16, k: 3, hw: 32, m: 3, kk: 1 },
  { name: "bconv", cin: 16, cout: 16, k: 3, hw: 32, m: 3, kk: 3 },
  { name: "bconv", cin: 32, cout: 32, k: 3, hw: 16, m: 3, kk: 1 },
  { name: "bconv", cin: 32, cout: 32, k: 3, hw: 16, m: 3, kk: 3 },
  { name: "bconv", cin: 256, cout: 256, k: 1, hw: 16, m: 1, kk: 1 },
  { name: "bdense", cin: 4096, cout: 1024, k: 1, hw: 1, m: 1, kk: 1 },
];

export interface BenchRow { name: string; build: Build; shape: string; gbmac_per_s: number }

function rand(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 1);
}

export function benchCase(build: Build, c: BenchCase, seconds: number): BenchRow {
  const rt = new RawRuntime(build);
  const pad = (c.k - 1) >> 1;
  const a: BconvRef = {
    h: c.hw, w: c.hw, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, stride: 1, padT: pad, padL: pad, oh: c.hw, ow: c.hw,
    x: rand(c.kk * c.hw * c.hw * c.cin, 1), k: c.kk, wbits: rand(c.m * c.cout * c.k * c.k * c.cin, 2), m: c.m, unipolar: false,
    alpha: new Float32Array(c.cout * c.m).fill(0.5), beta: new Float32Array(c.kk).fill(0.5), ca: 0,
  };
  const epi = { c: c.cout, act: 1 as const, lo: 0, hi: 0, bias: new Float32Array(c.cout) };
  let params: number;
  if (c.name === "bdense") {
    // the bdense entry point itself (same operands as a 1×1 bconv on a 1×1 image)
    const L = rt.layout, words = wordsFor(c.cin);
    const out = writeEpilogue(L, epi, 1);
    params = rt.params("bdense", {
      in: L.bytes(packBits(a.x, c.kk, 1, c.cin)), cin: c.cin, in_words: words, k: c.kk, in_plane_stride: words * 8,
      weights: L.bytes(packBits(a.wbits, c.m, c.cout, c.cin)), m: c.m, cout: c.cout, unipolar: 0, alpha: L.f32(a.alpha),
      beta: L.f32(a.beta), cw: 0, ca: 0, wtap: 0, acc: L.alloc(c.cout * 8), epilogue: out.epi, scratch: L.alloc(c.kk * c.m * c.cout * 4 + 16),
    });
  } else params = setupBconv(rt, a, epi).params;
  rt.load();
  const macs = c.hw * c.hw * c.cout * c.cin * c.k * c.k * c.m * c.kk;
  const call = () => rt.call(c.name, params);
  call();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    call();
    reps++;
    t = performance.now();
  }
  const shape = `${c.k}x${c.k} ${c.cin}->${c.cout} ${c.hw}x${c.hw} M${c.m}K${c.kk}`;
  return { name: c.name, build, shape, gbmac_per_s: (macs * reps) / ((t - t0) / 1000) / 1e9 };
}

export function benchKernels(seconds: number, log: (row: BenchRow) => void): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const c of CASES)
    for (const build of BUILDS) {
      const r = benchCase(build, c, seconds);
      rows.push(r);
      log(r);
    }
  return rows;
}
