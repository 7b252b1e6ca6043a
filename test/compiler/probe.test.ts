// Quantizer recovery by probing (compiler/quant/probe.ts): exact float32 thresholds with the graph's
// own tie rules, decreasing channels (flip), Sign's middle level, and non-monotone staircases (a sum of
// signs with a negative scale, as ABC-Net can learn).
import { describe, expect, it } from "vitest";
import { fromKey, keyOf, probeStaircase, stairValue, type ProbeFn } from "../../compiler/quant/probe.ts";

const f = Math.fround;
const perChannel = (fns: ((x: number) => number)[]): ProbeFn => (x, G) => {
  const C = fns.length, y = new Float32Array(x.length);
  for (let g = 0; g < G; g++) for (let c = 0; c < C; c++) y[g * C + c] = fns[c](x[g * C + c]);
  return y;
};
const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

describe("probeStaircase", () => {
  it("DoReFa 2-bit round(clip(x,0,1)·3)/3: thresholds just above 1/6 and 5/6 (half-to-even), exactly 1/2", () => {
    const q = (x: number) => f(roundHalfEven(f(Math.min(Math.max(x, 0), 1) * 3)) / 3);
    const s = probeStaircase(perChannel([q]), 1);
    if (typeof s === "string") throw new Error(s);
    expect(s.levels).toEqual([0, f(1 / 3), f(2 / 3), 1]);
    const [t1, t2, t3] = s.thr;
    expect(q(t1)).toBe(f(1 / 3));
    expect(q(fromKey(keyOf(t1) - 1))).toBe(0);
    expect(t2).toBe(0.5);
    expect(q(fromKey(keyOf(t3) - 1))).toBe(f(2 / 3));
  });
  it("Sign (sign(0) = 0) has three levels; > vs >= is kept exactly; a decreasing channel is flipped", () => {
    const s = probeStaircase(perChannel([(x) => Math.sign(f(x - 0.25)), (x) => Math.sign(f(0.5 - x))]), 2);
    if (typeof s === "string") throw new Error(s);
    expect(s.levels).toEqual([-1, 0, 1]);
    expect(Array.from(s.flip)).toEqual([0, 1]);
    for (const x of [0.25, fromKey(keyOf(0.25) + 1), fromKey(keyOf(0.25) - 1), 0.5, fromKey(keyOf(0.5) + 1), -3, 7])
      for (let c = 0; c < 2; c++) expect(stairValue(s, c, f(x))).toBe(c ? Math.sign(f(0.5 - f(x))) : Math.sign(f(f(x) - 0.25)));
  });
  it("a non-monotone sum of signs (β = −0.1, 0.4, 0.5) is recovered as a level sequence", () => {
    const t = [0.2, 0.7, 1.3], b = [-0.1, 0.4, 0.5];
    const fn = (shift: number) => (x: number) => {
      let v = 0;
      for (let k = 0; k < 3; k++) v = f(v + f(b[k] * (f(x - t[k] - shift) >= 0 ? 1 : -1)));
      return v;
    };
    const s = probeStaircase(perChannel([fn(0), fn(0.3)]), 2);
    if (typeof s === "string") throw new Error(s);
    expect(s.levels.length).toBe(4);
    for (let i = 0; i < 200; i++) {
      const x = f(-1 + i * 0.0173);
      expect(stairValue(s, 0, x)).toBe(fn(0)(x));
      expect(stairValue(s, 1, x)).toBe(fn(0.3)(x));
    }
  });
  it("refuses a function that is not a staircase", () => {
    expect(probeStaircase(perChannel([(x) => f(x * 2)]), 1)).toMatch(/more than|levels/);
  });
});
