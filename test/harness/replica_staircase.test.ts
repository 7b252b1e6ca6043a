// The replica's staircase (harness/replica/staircase.ts, a WebAssembly module of its own) against the
// TensorFlow.js ops it replaced — per threshold a broadcast compare, a cast, a multiply and an add;
// backward the window compares and two multiplies — bit for bit (Object.is: signed zeros count),
// forward and backward, on values that sit exactly on thresholds and window edges, ±0, ±∞, NaN,
// decreasing channels, negative level steps, channels without finite thresholds (increasing and
// decreasing), and channel counts that take the SIMD loop (multiples of 4), the scalar tail, or both.
import { describe, expect, it } from "vitest";
import type { QuantSpec } from "../../compiler/ir/plan.ts";
import { tf, tfReady, type Tensor } from "../../harness/replica/tf.ts";
import { staircaseOf, stairBackward, stairForward } from "../../harness/replica/staircase.ts";

// the replaced form, as it was in harness/replica/replica.ts
function reference(q: QuantSpec, x: Float32Array, dy: Float32Array, shape: number[]): { v: Float32Array; g: Float32Array } {
  const C = q.flip.length, L = q.levels.length, nt = L - 1;
  return tf.tidy(() => {
    const sgn = tf.tensor1d(Float32Array.from(q.flip, (f) => (f ? -1 : 1)));
    const thr = Array.from({ length: nt }, (_, j) => tf.tensor1d(Float32Array.from({ length: C }, (_, c) => q.thr[c * nt + j])));
    const lo = new Float32Array(C), hi = new Float32Array(C), slope = new Float32Array(C);
    const span = q.levels[L - 1] - q.levels[0];
    for (let c = 0; c < C; c++) {
      const t = Array.from({ length: nt }, (_, j) => q.thr[c * nt + j]).filter(Number.isFinite);
      if (!t.length) continue;
      const a = Math.min(...t), b = Math.max(...t);
      const d = nt === 1 || b === a ? 1 : (b - a) / (2 * (nt - 1));
      lo[c] = a - d; hi[c] = b + d; slope[c] = span / (b - a + 2 * d);
    }
    const xt = tf.tensor(x, shape), xp = tf.mul(xt, sgn);
    let v: Tensor = tf.fill(shape, q.levels[0]);
    thr.forEach((t, j) => (v = tf.add(v, tf.mul(tf.cast(tf.greaterEqual(xp, t), "float32"), q.levels[j + 1] - q.levels[j]))));
    const inside = tf.cast(tf.logicalAnd(tf.greaterEqual(xp, tf.tensor1d(lo)), tf.lessEqual(xp, tf.tensor1d(hi))), "float32");
    const g = tf.mul(tf.tensor(dy, shape), tf.mul(inside, tf.mul(tf.tensor1d(slope), sgn)));
    return { v: v.dataSync() as Float32Array, g: g.dataSync() as Float32Array };
  });
}

function quant(C: number, levels: number[], seed: number): QuantSpec {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const nt = levels.length - 1;
  const thr = new Float32Array(C * nt);
  for (let c = 0; c < C; c++) {
    const t = Array.from({ length: nt }, () => Math.fround(r() * 2 - 1)).sort((a, b) => a - b);
    if (c === 2 || c === 4) t.fill(Infinity); // channels no value reaches: no STE window (4 is decreasing: slope −0)
    if (c === 1) t[0] = 0; // a threshold at zero: ±0 inputs sit on it
    for (let j = 0; j < nt; j++) thr[c * nt + j] = t[j];
  }
  return {
    source: "x", levels, thr, flip: Uint8Array.from({ length: C }, (_, c) => c % 3 === 1 ? 1 : 0), planes: 1, lut: new Uint8Array(levels.length),
    unipolar: false, scales: new Float32Array(1), offset: 0, encoding: "thermometer",
  };
}

function inputs(q: QuantSpec, rows: number, seed: number): { x: Float32Array; dy: Float32Array } {
  const C = q.flip.length, nt = q.levels.length - 1;
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45];
  const x = new Float32Array(rows * C), dy = new Float32Array(rows * C);
  for (let i = 0; i < x.length; i++) {
    const c = i % C, k = r();
    const t = q.thr[c * nt + Math.floor(r() * nt)], sign = q.flip[c] ? -1 : 1;
    // on a threshold (either side of the flip), on a window edge, a special value, or anywhere
    x[i] = k < 0.25 && Number.isFinite(t) ? sign * t : k < 0.35 && Number.isFinite(t) ? sign * (t + (nt === 1 ? 1 : 0)) : k < 0.45 ? special[Math.floor(r() * special.length)] : (r() * 2 - 1) * 1.5;
    dy[i] = r() < 0.1 ? [0, -0, -1][Math.floor(r() * 3)] : r() * 2 - 1;
  }
  return { x, dy };
}

const fmt = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

describe("replica staircase", () => {
  it("equals the TensorFlow.js ops bit for bit, forward and backward", async () => {
    await tfReady();
    const cases: [number, number[]][] = [
      [16, [-1, 1]], [64, [-0.213, 0.213]], [6, [0, 1, 2, 3]], [32, [-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25]],
      // non-ascending levels from −0: a negative step, where 0·step = −0 keeps the sum −0
      [5, [-0, -1, -2]], [8, [-0, -1, -2]], [8, [-0, -1]], [5, [0.5, 0.25, 0.3]],
      [1, [-1, 0, 1]], [3, [-1, 1]],
    ];
    let checked = 0;
    for (const [C, levels] of cases) {
      const q = quant(C, levels, C * 7 + levels.length);
      const s = staircaseOf(q);
      const rows = 37, { x, dy } = inputs(q, rows, C + 11);
      const shape = [1, rows, C];
      const want = reference(q, x, dy, shape);
      const v = stairForward(x, C, s), g = stairBackward(x, dy, C, s);
      for (let i = 0; i < x.length; i++) {
        if (!Object.is(v[i], want.v[i])) throw new Error(`C ${C} levels ${levels}: value ${i} (x ${fmt(x[i])}): ${fmt(v[i])} vs tfjs ${fmt(want.v[i])}`);
        if (!Object.is(g[i], want.g[i])) throw new Error(`C ${C} levels ${levels}: gradient ${i} (x ${fmt(x[i])}, dy ${fmt(dy[i])}): ${fmt(g[i])} vs tfjs ${fmt(want.g[i])}`);
      }
      checked += x.length;
    }
    expect(checked).toBeGreaterThan(4000);
  });

  it("refuses data whose last axis is not the quantizer's channels", () => {
    const s = staircaseOf(quant(16, [-1, 1], 1));
    expect(() => stairForward(new Float32Array(24), 8, s)).toThrow(/16 channels/);
  });
});
