// Harness replica: a quantizer's straight-through staircase on channel-last float32 data, run in a
// small WebAssembly module of its own (assembly/staircase.ts, built by runtime/build.mjs into
// build/staircase.wasm). Forward: the exact staircase value(x) = v_0 + Σ_j step_j·[x' ≥ t_j],
// x' = x (or −x for a decreasing channel). Backward: the secant slope inside [lo, hi], 0 outside
// (replica.ts says why). The values and gradients are bit for bit those of the per-threshold
// TensorFlow.js ops this replaces (test/harness/replica_staircase.test.ts), several times faster.
import { readFileSync } from "node:fs";
import type { QuantSpec } from "../../compiler/ir/plan.ts";

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  stair_forward(x: number, out: number, n: number, C: number, nt: number, neg: number, thr: number, steps: number, v0: number): void;
  stair_backward(x: number, dy: number, out: number, n: number, C: number, neg: number, lo: number, hi: number, ss: number): void;
}

let wasm: Exports | undefined;
let top = 0; // bump allocator: each quantizer's constants stay; a call's arrays live above `top`

function module(): Exports {
  if (!wasm) {
    const bytes = readFileSync(new URL("./build/staircase.wasm", import.meta.url));
    wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
    top = wasm.heap_base();
  }
  return wasm;
}

function reserve(end: number): void {
  const mem = module().memory, need = end - mem.buffer.byteLength;
  if (need > 0) mem.grow(Math.ceil(need / 65536));
}

function put(a: Float32Array | Uint32Array): number {
  module(); // (sets `top` to the module's heap base on first use)
  const at = (top + 15) & ~15;
  reserve(at + a.byteLength);
  new (a.constructor as Float32ArrayConstructor)(module().memory.buffer, at, a.length).set(a as Float32Array);
  top = at + a.byteLength;
  return at;
}

/** A quantizer's staircase: its constants placed in the module's memory once. */
export interface Staircase { C: number; nt: number; v0: number; neg: number; thr: number; steps: number; lo: number; hi: number; ss: number }

export function staircaseOf(q: QuantSpec): Staircase {
  const C = q.flip.length, L = q.levels.length, nt = L - 1;
  const thr = new Float32Array(nt * C); // [j][c]
  for (let j = 0; j < nt; j++) for (let c = 0; c < C; c++) thr[j * C + c] = q.thr[c * nt + j];
  // the STE window [lo, hi] and slope of each channel: δ = 1 for one threshold (hard tanh), half a step otherwise
  const lo = new Float32Array(C), hi = new Float32Array(C), slope = new Float32Array(C);
  const span = q.levels[L - 1] - q.levels[0];
  for (let c = 0; c < C; c++) {
    const t = Array.from({ length: nt }, (_, j) => q.thr[c * nt + j]).filter(Number.isFinite);
    if (!t.length) continue; // no window: slope 0
    const a = Math.min(...t), b = Math.max(...t);
    const d = nt === 1 || b === a ? 1 : (b - a) / (2 * (nt - 1));
    lo[c] = a - d;
    hi[c] = b + d;
    slope[c] = span / (b - a + 2 * d);
  }
  // float32 slope × sign, for every channel (a decreasing channel without a window gets −0, as 0·(−1) gives)
  const ss = Float32Array.from(slope, (v, c) => v * (q.flip[c] ? -1 : 1));
  return {
    C, nt, v0: Math.fround(q.levels[0]),
    neg: put(Uint32Array.from(q.flip, (f) => (f ? 0x80000000 : 0))), thr: put(thr),
    steps: put(Float32Array.from(q.levels.slice(1), (v, j) => v - q.levels[j])), lo: put(lo), hi: put(hi), ss: put(ss),
  };
}

function check(n: number, last: number, s: Staircase): void {
  if (s.C !== 1 && last !== s.C) throw new Error(`replica: a quantizer of ${s.C} channels on data whose last axis is ${last}`);
  if (n && n % last) throw new Error(`replica: ${n} values are not whole rows of ${last}`);
}

/** value(x) of every element (x channel-last, its last axis `last` long). */
export function stairForward(x: Float32Array, last: number, s: Staircase): Float32Array {
  check(x.length, last, s);
  const m = module(), n = x.length, xo = (top + 15) & ~15, out = xo + 4 * n;
  reserve(out + 4 * n);
  new Float32Array(m.memory.buffer, xo, n).set(x);
  m.stair_forward(xo, out, n, s.C, s.nt, s.neg, s.thr, s.steps, s.v0);
  return new Float32Array(m.memory.buffer, out, n).slice();
}

/** dy times the straight-through derivative at x. */
export function stairBackward(x: Float32Array, dy: Float32Array, last: number, s: Staircase): Float32Array {
  check(x.length, last, s);
  const m = module(), n = x.length, xo = (top + 15) & ~15, dyo = xo + 4 * n, out = dyo + 4 * n;
  reserve(out + 4 * n);
  new Float32Array(m.memory.buffer, xo, n).set(x);
  new Float32Array(m.memory.buffer, dyo, n).set(dy);
  m.stair_backward(xo, dyo, out, n, s.C, s.neg, s.lo, s.hi, s.ss);
  return new Float32Array(m.memory.buffer, out, n).slice();
}
