// Binary and multi-bit dense layers run packed (BitConv with the bdense maths), not float: a Sign or a
// k-bit quantizer in front of Gemm/MatMul over a [1, F] row, and over a flattened [1, C, H, W] map
// (BinaryNet/XNOR-Net heads: Conv → BN → Sign → Flatten → Gemm). Compared with onnxruntime-node on
// the same file: max|Δ| ≤ 1e-5·max|want| (integer popcounts, one float rounding order away).
import { describe, expect, it } from "vitest";
import { buildModel, floatTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd, runSmall } from "../helpers/small_models.ts";

const pm = (n: number, seed: number, alpha = 0.37) => rnd(n, seed).map((v) => (v >= 0 ? alpha : -alpha)); // ±α weights
const twoBit = (n: number, seed: number) => rnd(n, seed).map((v) => [-0.75, -0.25, 0.25, 0.75][Math.min(3, Math.floor((v + 1) * 2))]);

async function check(bytes: Uint8Array, inShape: number[], samples = 16) {
  const r = await runSmall(bytes, inShape, samples, 5, "dense.onnx");
  expect(r.replicaRel).toBeLessThanOrEqual(1e-4);
  return { res: r.res, rel: r.rel, n: r.want.length, got: r.got.length };
}

describe("binary dense layers run packed", () => {
  it("MLP: Sign → MatMul(±α) → BatchNorm → Sign → Gemm(2-bit weights)", async () => {
    const F = 100, Hd = 70, K = 10;
    const nodes: NodeSpec[] = [
      { op: "Sign", inputs: ["x"], outputs: ["s0"] },
      { op: "MatMul", inputs: ["s0", "w1"], outputs: ["h"] },
      { op: "BatchNormalization", inputs: ["h", "g", "b", "mu", "var"], outputs: ["hb"] },
      { op: "Sign", inputs: ["hb"], outputs: ["s1"] },
      { op: "Gemm", inputs: ["s1", "w2", "b2"], outputs: ["y"], attrs: { transB: 1 } },
    ];
    const inits = [floatTensor("w1", [F, Hd], pm(F * Hd, 3)), floatTensor("g", [Hd], rnd(Hd, 4).map((v) => 1 + v / 2)), floatTensor("b", [Hd], rnd(Hd, 6)),
      floatTensor("mu", [Hd], rnd(Hd, 7)), floatTensor("var", [Hd], rnd(Hd, 8).map((v) => 1 + v * v)), floatTensor("w2", [K, Hd], twoBit(K * Hd, 9)), floatTensor("b2", [K], rnd(K, 10))];
    const r = await check(buildModel({ nodes, inits, input: ["x", [-1, F]], output: ["y", [-1, K]] }), [1, F]);
    expect(r.res.report.layers.filter((l) => l.op === "BitConv").map((l) => l.planes)).toEqual(["1×2", "2×2"]); // Sign has three levels (sign(0) = 0): two planes
    expect(r.got).toBe(r.n);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });

  it("XNOR head: Conv → BatchNorm → Sign → Flatten → Gemm(±α) over a 4×5×6 map", async () => {
    const C = 3, Co = 4, H = 5, W = 6, K = 7;
    const nodes: NodeSpec[] = [
      { op: "Conv", inputs: ["x", "cw"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "BatchNormalization", inputs: ["c", "g", "b", "mu", "var"], outputs: ["cb"] },
      { op: "Sign", inputs: ["cb"], outputs: ["s"] },
      { op: "Flatten", inputs: ["s"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "w", "b2"], outputs: ["y"] },
    ];
    const inits = [floatTensor("cw", [Co, C, 3, 3], rnd(Co * C * 9, 3)), floatTensor("g", [Co], [1, -0.5, 2, 0.7]), floatTensor("b", [Co], rnd(Co, 6)),
      floatTensor("mu", [Co], rnd(Co, 7)), floatTensor("var", [Co], [1, 2, 0.5, 1]), floatTensor("w", [Co * H * W, K], pm(Co * H * W * K, 9)), floatTensor("b2", [K], rnd(K, 10))];
    const r = await check(buildModel({ nodes, inits, input: ["x", [-1, C, H, W]], output: ["y", [-1, K]] }), [1, C, H, W]);
    const bits = r.res.report.layers.filter((l) => l.op === "BitConv");
    expect(bits.length).toBe(1);
    expect(bits[0].out).toEqual([1, K]);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });

  it("float weights over a Sign stay float (and say why)", async () => {
    const F = 20, K = 5;
    const nodes: NodeSpec[] = [{ op: "Sign", inputs: ["x"], outputs: ["s"] }, { op: "MatMul", inputs: ["s", "w"], outputs: ["y"] }];
    const r = await check(buildModel({ nodes, inits: [floatTensor("w", [F, K], rnd(F * K, 3))], input: ["x", [-1, F]], output: ["y", [-1, K]] }), [1, F]);
    expect(r.res.report.layers.some((l) => l.op === "BitConv")).toBe(false);
    expect(r.res.report.notes.join()).toMatch(/dense 20→5\) stays float: its weights do not decompose/);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });
});

describe("weight planes: the fewer of one level set per layer and one per output channel", () => {
  it("XNOR ±α_o weights (a different α per output) take one plane, not one per distinct value", async () => {
    const F = 24, K = 3; // 6 distinct values: one level set for the layer would need several planes
    const alphas = [0.15, 0.4, 0.55];
    const w = rnd(F * K, 4).map((v, i) => (v >= 0 ? 1 : -1) * alphas[i % K]); // [F][K]: column o has ±α_o
    const nodes: NodeSpec[] = [{ op: "Sign", inputs: ["x"], outputs: ["s"] }, { op: "MatMul", inputs: ["s", "w"], outputs: ["y"] }];
    const r = await check(buildModel({ nodes, inits: [floatTensor("w", [F, K], w)], input: ["x", [-1, F]], output: ["y", [-1, K]] }), [1, F]);
    expect(r.res.report.layers.filter((l) => l.op === "BitConv").map((l) => l.planes)).toEqual(["1×2"]);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });
});
