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

  it("sums that no float32 order can round stay exact: a tie on the grid is decided half to even", () => {
    // inputs and weights on a binary grid, scale 1: channel sums 2.5 (a ROUND tie: half to even gives 2),
    // 1.25, 3.75, 0.5 (tie → 0), 14.0 — every order sums them exactly, so each has one level
    const w = [1, 1];
    const x = Float32Array.from([2, 1, 3, 0.25, 14, /* channel 1: */ 0.5, 0.25, 0.75, 0.25, 0]);
    const bytes = model(w, 5, true), inputs = { x: { dims: [1, 2, 1, 5], data: x } };
    const b = evalBounds(bytes, inputs), e = evalF64(bytes, inputs);
    if ("unavailable" in b || "unavailable" in e) throw new Error("unavailable");
    expect(Array.from(e.output)).toEqual([2, 1, 4, 0, 14]);
    expect(Array.from(b.lo)).toEqual([2, 1, 4, 0, 14]);
    expect(Array.from(b.hi)).toEqual([2, 1, 4, 0, 14]);
    // the same sums off the grid (weight 1 + 2⁻²³: products need more than 24 bits) can round either way
    const off = evalBounds(model([1 + 2 ** -23, 1], 5, true), inputs);
    if ("unavailable" in off) throw new Error(off.unavailable);
    expect(Array.from(off.lo)).toEqual([2, 1, 4, 0, 14]);
    expect(Array.from(off.hi)).toEqual([3, 1, 4, 1, 14]);
  });

  it("a Quant's own division can round onto a tie: a value at one admits both levels (not with a power-of-two scale)", () => {
    const bytes = buildModel({
      nodes: [{ op: "Quant", domain: "qonnx.custom_op.general", inputs: ["x", "s", "z", "b"], outputs: ["y"], attrs: { signed: 0, narrow: 0, rounding_mode: "ROUND" } }],
      inits: [floatTensor("s", [], [0.1]), floatTensor("z", [], [0]), floatTensor("b", [], [4])],
      input: ["x", [1, 1, 1, 3]], output: ["y", [1, 1, 1, 3]], domainOpsets: QONNX,
    });
    const b = evalBounds(bytes, { x: { dims: [1, 1, 1, 3], data: Float32Array.from([0.25, 0.24, 9]) } });
    if ("unavailable" in b) throw new Error(b.unavailable);
    // 0.25/f32(0.1) = 2.49999996…, within the division's rounding of 2.5 → {2, 3}·0.1; 2.4 → 2·0.1; 90 → clipped to 15·0.1
    expect(Array.from(b.lo)).toEqual([f32(0.2), f32(0.2), f32(1.5)]);
    expect(Array.from(b.hi)).toEqual([f32(0.3), f32(0.2), f32(1.5)]);
  });

  it("an op it cannot bound is reported, not guessed", () => {
    const bytes = buildModel({ nodes: [{ op: "Sigmoid", inputs: ["x"], outputs: ["y"] }], input: ["x", [1, 1, 1, 2]], output: ["y", [1, 1, 1, 2]] });
    const b = evalBounds(bytes, { x: { dims: [1, 1, 1, 2], data: new Float32Array(2) } });
    expect(b).toEqual({ unavailable: "no float64 evaluation of Sigmoid" });
  });
});

// A small QONNX network the compiler turns into binary layers: Conv (4-bit weights) on the float input,
// BatchNorm, Relu, 3-bit Quant → Conv (4-bit weights) → Relu → 3-bit Quant → Conv (4-bit weights).
// upTo: end the graph at that tensor (its output), for a look at an intermediate.
function qonnxNet(upTo = "y"): Uint8Array {
  const r = rng(11), q4 = (n: number) => Array.from({ length: n }, () => Math.round((r() - 0.5) * 14) * 0.125);
  const Q = (x: string, s: string, bits: string, y: string, signed: number) =>
    ({ op: "Quant", domain: "qonnx.custom_op.general", inputs: [x, s, "z", bits], outputs: [y], attrs: { signed, narrow: signed, rounding_mode: "ROUND" } });
  const conv = (x: string, w: string, y: string) => ({ op: "Conv", inputs: [x, w], outputs: [y], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
  const nodes = [
      Q("w1f", "sw", "b4", "w1", 1), conv("x", "w1", "c1"),
      { op: "BatchNormalization", inputs: ["c1", "g", "beta", "mean", "var"], outputs: ["n1"] },
      { op: "Relu", inputs: ["n1"], outputs: ["r1"] }, Q("r1", "sa", "b3", "a1", 0),
      Q("w2f", "sw", "b4", "w2", 1), conv("a1", "w2", "c2"), { op: "Relu", inputs: ["c2"], outputs: ["r2"] }, Q("r2", "sa", "b3", "a2", 0),
      Q("w3f", "sw", "b4", "w3", 1), conv("a2", "w3", "y"),
  ];
  const end = nodes.findIndex((n) => n.outputs[0] === upTo);
  return buildModel({
    nodes: nodes.slice(0, end + 1),
    inits: [
      floatTensor("w1f", [8, 3, 3, 3], q4(216)), floatTensor("w2f", [8, 8, 3, 3], q4(576)), floatTensor("w3f", [4, 8, 3, 3], q4(288)),
      floatTensor("sw", [], [0.125]), floatTensor("sa", [], [0.25]), floatTensor("z", [], [0]), floatTensor("b4", [], [4]), floatTensor("b3", [], [3]),
      floatTensor("g", [8], q4(8).map((v) => 1 + v)), floatTensor("beta", [8], q4(8)), floatTensor("mean", [8], q4(8)), floatTensor("var", [8], q4(8).map((v) => 0.5 + v * v)),
    ],
    input: ["x", [1, 3, 12, 12]], output: [upTo, [1, upTo === "y" ? 4 : 8, 12, 12]], domainOpsets: QONNX,
  });
}

describe("layer-by-layer judging of a bundle's quantized tensors", async () => {
  const { compile } = await import("../../compiler/index.ts");
  const { loadBundle } = await import("../../runtime/host/loader.ts");
  const { quantizedTensors } = await import("../../scripts/conformance/bundle_trace.ts");
  const bytes = qonnxNet(), res = compile(bytes, { file: "qnet.onnx" }), bundle = await loadBundle(res.wasm);
  const x = Float32Array.from({ length: 3 * 144 }, rng(3)), inputs = { x: { dims: [1, 3, 12, 12], data: x } };
  const judge = (anchors: Map<string, Float64Array>) => {
    const b = evalBounds(bytes, inputs, anchors);
    if ("unavailable" in b) throw new Error(b.unavailable);
    return b;
  };

  it("reads the bundle's packed activations back as the graph's quantizer outputs, inside their bounds", () => {
    expect(res.plan.steps.filter((s) => s.op === "BitConv").length).toBe(2);
    const t = quantizedTensors(res, bundle, x);
    expect([...t.keys()].sort()).toEqual(["a1", "a2"]);
    const b = judge(t);
    expect(b.checks.map((c) => [c.name, c.outside])).toEqual([["a1", 0], ["a2", 0]]);
    expect(b.checks.every((c) => c.open < c.values / 50)).toBe(true); // tight: few values left between levels
    const got = bundle.run(x);
    got.forEach((v, i) => { expect(v).toBeGreaterThanOrEqual(b.lo[i] - 1e-4); expect(v).toBeLessThanOrEqual(b.hi[i] + 1e-4); });
    // the levels really vary (a constant tensor would pass any channel or pixel mix-up)
    expect(new Set(t.get("a1")).size).toBeGreaterThan(3);
  });

  it("a level moved where the bounds leave one level, or a channel-order mix-up, lies outside", () => {
    const t = quantizedTensors(res, bundle, x), b0 = judge(t);
    // one value of a1 moved by one level (0.25) at a place with a single admissible level
    const a1 = Float64Array.from(t.get("a1")!);
    const i = a1.findIndex((v) => v > 0.3 && v < 1.5);
    a1[i] += 0.25;
    expect(judge(new Map([["a1", a1], ["a2", t.get("a2")!]])).checks[0].outside).toBe(1);
    // a1 read as pixel-major (channels-last) instead of ONNX order
    const cl = t.get("a1")!, pix = 144, mixed = Float64Array.from(cl, (_, k) => cl[(k % pix) * 8 + Math.floor(k / pix)]);
    expect(judge(new Map([["a1", mixed]])).checks[0].outside).toBeGreaterThan(100);
    expect(b0.checks[0].outside).toBe(0);
  });

  it("an exact tie (a sum no float32 order rounds) admits only the half-to-even level", () => {
    const t = quantizedTensors(res, bundle, x);
    expect(judge(t).checks[1].open).toBe(0); // grid-exact layer: every a2 value has one admissible level
    const r2 = evalF64(qonnxNet("r2"), inputs); // a2's input, exact, from the bundle-independent evaluation
    if ("unavailable" in r2) throw new Error(r2.unavailable);
    // the bundle's a1 is the exact a1 here, so r2 is a2's input in the bundle too; find an a2 value whose
    // input is exactly halfway between levels
    const a1 = evalF64(qonnxNet("a1"), inputs);
    if ("unavailable" in a1) throw new Error(a1.unavailable);
    expect(Array.from(t.get("a1")!)).toEqual(Array.from(a1.output));
    const a2 = Float64Array.from(t.get("a2")!), i = Array.from(r2.output).findIndex((v, k) => (v / 0.25) % 1 === 0.5 && v < 1.5 && a2[k] === Math.round(v / 0.25 / 2) * 2 * 0.25);
    expect(i).toBeGreaterThanOrEqual(0);
    a2[i] += a2[i] * 4 === Math.floor(r2.output[i] * 4) ? 0.25 : -0.25; // the other neighbour: half away from even
    expect(judge(new Map([["a1", t.get("a1")!], ["a2", a2]])).checks[1].outside).toBe(1);
  });
});
