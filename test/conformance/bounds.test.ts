// The conformance tie adjudicator (scripts/conformance/f64_oracle.ts): evalF64 is the correctly rounded
// float32 evaluation, evalBounds holds every float32 summation order. Checked against float32 sums in
// many orders (they must all fall inside), at an exact quantizer tie (both levels admitted) and away
// from one (a single level: a one-level error there is outside the bounds, so worker.ts calls it wrong).
import { describe, expect, it } from "vitest";
import { evalBounds, evalF64 } from "../../scripts/conformance/f64_oracle.ts";
import { buildModel, floatTensor } from "../helpers/onnx_builder.ts";
import { rng } from "../../harness/rng.ts";

const f32 = Math.fround;
const QONNX: [string, number][] = [["qonnx.custom_op.general", 1]];

/** x [1,C,1,P] → Conv 1×1 with weights w [1,C,1,1] (→ [1,1,1,P]), then optionally a 4-bit unsigned Quant. */
function model(w: number[], P: number, quant: boolean): Uint8Array {
  const C = w.length;
  return buildModel({
    nodes: [
      { op: "Conv", inputs: ["x", "w"], outputs: [quant ? "c" : "y"], attrs: { kernel_shape: [1, 1] } },
      ...(quant ? [{ op: "Quant", domain: "qonnx.custom_op.general", inputs: ["c", "s", "z", "b"], outputs: ["y"], attrs: { signed: 0, narrow: 0, rounding_mode: "ROUND" } }] : []),
    ],
    inits: [floatTensor("w", [1, C, 1, 1], w), floatTensor("s", [], [1]), floatTensor("z", [], [0]), floatTensor("b", [], [4])],
    input: ["x", [1, C, 1, P]], output: ["y", [1, 1, 1, P]], domainOpsets: QONNX,
  });
}

describe("float32 evaluation bounds (conformance tie adjudicator)", () => {
  it("every float32 summation order of a conv lies inside the bounds, which are tight", () => {
    const C = 300, P = 40, r = rng(7);
    const w = Array.from({ length: C }, () => f32((r() - 0.5) * 2));
    const x = Float32Array.from({ length: C * P }, () => f32((r() - 0.5) * 8));
    const bytes = model(w, P, false), inputs = { x: { dims: [1, C, 1, P], data: x } };
    const b = evalBounds(bytes, inputs), e = evalF64(bytes, inputs);
    if ("unavailable" in b || "unavailable" in e) throw new Error("unavailable");
    let spread = 0;
    for (let p = 0; p < P; p++) {
      const terms = w.map((wc, c) => f32(wc * x[c * P + p]));
      const orders = [terms, [...terms].reverse(), [...terms].sort((a, q) => a - q), [...terms].sort((a, q) => Math.abs(q) - Math.abs(a))];
      const sums = orders.map((t) => t.reduce((s, v) => f32(s + v), 0));
      for (let lanes = 2; lanes <= 16; lanes *= 2) { // SIMD-style: lane partial sums, then a tree
        let acc = new Array(lanes).fill(0);
        terms.forEach((v, i) => (acc[i % lanes] = f32(acc[i % lanes] + v)));
        while (acc.length > 1) acc = acc.slice(0, acc.length / 2).map((v, i) => f32(v + acc[i + acc.length / 2]));
        sums.push(acc[0]);
      }
      for (const s of sums) {
        expect(s).toBeGreaterThanOrEqual(b.lo[p]);
        expect(s).toBeLessThanOrEqual(b.hi[p]);
      }
      expect(b.lo[p]).toBeLessThanOrEqual(e.output[p]);
      expect(b.hi[p]).toBeGreaterThanOrEqual(e.output[p]);
      spread = Math.max(spread, Math.max(...sums) - Math.min(...sums));
      // tight: within γ_301·Σ|terms| of the exact value on each side (a few ulps of the sum's magnitude)
      expect(b.hi[p] - b.lo[p]).toBeLessThan(1e-4 * terms.reduce((s, v) => s + Math.abs(v), 0));
    }
    expect(spread).toBeGreaterThan(0); // the orders really do differ, so the containment means something
  });

  it("a quantizer tie admits both levels, a value away from one admits one", () => {
    // channel sums: 2.5 exactly (a ROUND tie: half to even gives 2), 1.25, 3.75, 0.5 (tie → 0), 14.0
    const w = [1, 1];
    const x = Float32Array.from([2, 1, 3, 0.25, 14, /* channel 1: */ 0.5, 0.25, 0.75, 0.25, 0]);
    const bytes = model(w, 5, true), inputs = { x: { dims: [1, 2, 1, 5], data: x } };
    const b = evalBounds(bytes, inputs), e = evalF64(bytes, inputs);
    if ("unavailable" in b || "unavailable" in e) throw new Error("unavailable");
    expect(Array.from(e.output)).toEqual([2, 1, 4, 0, 14]);
    expect(Array.from(b.lo)).toEqual([2, 1, 4, 0, 14]);
    expect(Array.from(b.hi)).toEqual([3, 1, 4, 1, 14]);
  });

  it("a Quant's own division can round onto a tie: a value at one admits both levels", () => {
    const bytes = buildModel({
      nodes: [{ op: "Quant", domain: "qonnx.custom_op.general", inputs: ["x", "s", "z", "b"], outputs: ["y"], attrs: { signed: 0, narrow: 0, rounding_mode: "ROUND" } }],
      inits: [floatTensor("s", [], [0.5]), floatTensor("z", [], [0]), floatTensor("b", [], [4])],
      input: ["x", [1, 1, 1, 3]], output: ["y", [1, 1, 1, 3]], domainOpsets: QONNX,
    });
    const b = evalBounds(bytes, { x: { dims: [1, 1, 1, 3], data: Float32Array.from([1.25, 1.2, 9]) } });
    if ("unavailable" in b) throw new Error(b.unavailable);
    expect(Array.from(b.lo)).toEqual([1, 1, 7.5]); // 2.5 → {2, 3}·0.5; 2.4 → 2·0.5; 18 → clipped to 15·0.5
    expect(Array.from(b.hi)).toEqual([1.5, 1, 7.5]);
  });

  it("an op it cannot bound is reported, not guessed", () => {
    const bytes = buildModel({ nodes: [{ op: "Sigmoid", inputs: ["x"], outputs: ["y"] }], input: ["x", [1, 1, 1, 2]], output: ["y", [1, 1, 1, 2]] });
    const b = evalBounds(bytes, { x: { dims: [1, 1, 1, 2], data: new Float32Array(2) } });
    expect(b).toEqual({ unavailable: "no float64 evaluation of Sigmoid" });
  });
});
