// Layers whose parameters are activations (graph inputs), the ONNX backend tests' form: a Gemm whose
// B or C is an input (matmul_f32 + an elementwise epilogue), a Conv / ConvTranspose whose weights and
// bias are inputs (an im2col index map + matmul_f32 per group), BatchNormalization / InstanceNormalization
// whose statistics are inputs. Each small model is built here, run through the bundle and through
// onnxruntime-node on the same bytes with the same seeded inputs; Gemm is also bit-exact against the
// reference interpreter's Gemm (the same float32 operations in the same order).
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Node } from "../../compiler/ir/graph.ts";
import { tensor } from "../../compiler/ir/tensor.ts";
import { REGISTRY } from "../../compiler/ops/registry.ts";
import { buildModel, floatTensor, type AttrValue, type NodeSpec } from "../helpers/onnx_builder.ts";
import { oneNode as run, type Input } from "../helpers/one_node.ts";
import { rnd } from "../helpers/small_models.ts";

const gemmNode = (inputs: string[], attrs: Record<string, AttrValue> = {}): NodeSpec => ({ op: "Gemm", inputs, outputs: ["y"], attrs });

describe("Gemm with activation operands", () => {
  const cases: [string, Input[], Record<string, AttrValue>, string[]][] = [
    ["A·B", [["a", [3, 5]], ["b", [5, 4]]], {}, ["a", "b"]],
    ["Aᵀ·Bᵀ·α + β·C (matrix C)", [["a", [5, 3]], ["b", [4, 5]], ["c", [3, 4]]], { transA: 1, transB: 1, alpha: { f: 0.25 }, beta: { f: 0.35 } }, ["a", "b", "c"]],
    ["A·B + C (vector C)", [["a", [3, 6]], ["b", [6, 4]], ["c", [4]]], {}, ["a", "b", "c"]],
    ["A·B + C (column C [M, 1])", [["a", [3, 6]], ["b", [6, 4]], ["c", [3, 1]]], { beta: { f: 2 } }, ["a", "b", "c"]],
    ["A·B + C (scalar C)", [["a", [2, 7]], ["b", [7, 3]], ["c", [1]]], { alpha: { f: 0.5 } }, ["a", "b", "c"]],
  ];
  for (const [what, inputs, attrs, names] of cases)
    it(`${what}: agrees with onnxruntime and is bit-exact against the reference Gemm`, async () => {
      const byName = new Map(inputs);
      const ta = attrs.transA === 1, tb = attrs.transB === 1;
      const [M] = ta ? [...byName.get("a")!].reverse() : byName.get("a")!;
      const N = tb ? byName.get("b")![0] : byName.get("b")![1];
      const r = await run(gemmNode(names, attrs), inputs, ["y", [M, N]]);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(r.replicaRel).toBe(0);
      const n: Node = { name: "g", op: "Gemm", domain: "", inputs: names, outputs: ["y"], attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === "object" && !Array.isArray(v) ? v.f : (v as number)])) };
      const ins = names.map((nm) => tensor("float", byName.get(nm)!, r.feeds[nm]));
      const [want] = REGISTRY.get("Gemm")!.reference!(n, ins, 13);
      expect(Array.from(r.got)).toEqual(Array.from(want.data));
      expect(r.plan.steps.some((s) => s.op === "MatMul")).toBe(true);
    });

  it("a constant B with several rows of A (no dense layer) and a constant C also runs as a matrix product", async () => {
    const r = await run(gemmNode(["a", "b", "c"], { transB: 1 }), [["a", [2, 3]]], ["y", [2, 4]], { inits: [floatTensor("b", [4, 3], rnd(12, 5)), floatTensor("c", [4], [0.5, -1, 2, 3])] });
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    expect(r.replicaRel).toBe(0);
  });
});

describe("Conv and ConvTranspose with activation weights", () => {
  const cases: [string, string, Input[], Input, Record<string, AttrValue>][] = [
    ["Conv 3×3, stride 2, asymmetric pads, bias", "Conv", [["x", [1, 3, 7, 6]], ["w", [4, 3, 3, 3]], ["b", [4]]], ["y", [1, 4, 4, 3]], { strides: [2, 2], pads: [1, 0, 1, 1] }],
    ["Conv 2 groups, dilation 2, no bias", "Conv", [["x", [1, 4, 7, 7]], ["w", [6, 2, 2, 3]]], ["y", [1, 6, 5, 3]], { group: 2, dilations: [2, 2] }],
    ["Conv 1-D, bias", "Conv", [["x", [1, 2, 9]], ["w", [3, 2, 4]], ["b", [3]]], ["y", [1, 3, 6]], {}],
    ["ConvTranspose stride 2, output_padding, 2 groups, bias", "ConvTranspose", [["x", [1, 4, 3, 3]], ["w", [4, 3, 3, 2]], ["b", [6]]], ["y", [1, 6, 8, 6]], { strides: [2, 2], output_padding: [1, 0], group: 2 }],
    ["ConvTranspose pads and dilation", "ConvTranspose", [["x", [1, 2, 4, 4]], ["w", [2, 3, 3, 3]]], ["y", [1, 3, 4, 8]], { pads: [1, 0, 1, 0], dilations: [1, 2] }],
  ];
  for (const [what, op, inputs, output, attrs] of cases)
    it(`${what}: agrees with onnxruntime`, async () => {
      const r = await run({ op, inputs: inputs.map(([nm]) => nm), outputs: ["y"], attrs }, inputs, output);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(r.replicaRel).toBe(0);
      expect(r.plan.steps.filter((s) => s.op === "MatMul")).toHaveLength(1);
    });

  it("a constant weight with an activation bias takes the same path", async () => {
    const r = await run({ op: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attrs: { pads: [1, 1, 1, 1] } }, [["x", [1, 2, 5, 5]], ["b", [3]]], ["y", [1, 3, 5, 5]], { inits: [floatTensor("w", [3, 2, 3, 3], rnd(54, 9))] });
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });

  it("ConvTranspose output_shape one larger than the convolution gives (a zero row and column at the end) agrees; two larger is refused in one mbn: line", async () => {
    const w = floatTensor("w", [1, 2, 3, 3], rnd(18, 4));
    const r = await run({ op: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attrs: { strides: [3, 2], output_shape: [10, 8] } }, [["x", [1, 1, 3, 3]]], ["y", [1, 2, 10, 8]], { inits: [w] });
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    const bytes = buildModel({ nodes: [{ op: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attrs: { strides: [3, 2], output_shape: [11, 8] } }], inputs: [["x", [1, 1, 3, 3]]], inits: [w], output: ["y", [1, 2, 11, 8]] });
    expect(() => compile(bytes, { file: "ct.onnx" })).toThrow(/output_shape \[11,8\] is larger than the transposed convolution gives/);
  });
});

describe("BatchNormalization and InstanceNormalization with activation parameters", () => {
  it("BatchNormalization of [2, 3, 4, 5] with scale, bias, mean and var as inputs: agrees with onnxruntime, bit-exact against the reference", async () => {
    const inputs: Input[] = [["x", [2, 3, 4, 5]], ["s", [3]], ["b", [3]], ["mean", [3]], ["var", [3]]];
    const names = inputs.map(([nm]) => nm);
    const attrs = { epsilon: { f: 0.01 } };
    const r = await run({ op: "BatchNormalization", inputs: names, outputs: ["y"], attrs }, inputs, ["y", [2, 3, 4, 5]], { opset: 15, positive: ["var"] });
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    expect(r.replicaRel).toBe(0);
    const byName = new Map(inputs);
    const ins = names.map((nm) => tensor("float", byName.get(nm)!, r.feeds[nm]));
    const n: Node = { name: "bn", op: "BatchNormalization", domain: "", inputs: names, outputs: ["y"], attrs: { epsilon: 0.01 } };
    const [want] = REGISTRY.get("BatchNormalization")!.reference!(n, ins, 15);
    expect(Array.from(r.got)).toEqual(Array.from(want.data));
  });

  it("InstanceNormalization of [1, 3, 4, 5] with scale and bias as inputs agrees with onnxruntime", async () => {
    const inputs: Input[] = [["x", [1, 3, 4, 5]], ["s", [3]], ["b", [3]]];
    const r = await run({ op: "InstanceNormalization", inputs: ["x", "s", "b"], outputs: ["y"], attrs: { epsilon: { f: 0.01 } } }, inputs, ["y", [1, 3, 4, 5]]);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    expect(r.replicaRel).toBe(0);
  });
});

describe("Div by a constant is bit-exact", () => {
  it("x / [3, 7, 0.1] per channel equals float32 x/v element for element (x·f(1/v) would not); x / 4 stays an Affine scale", async () => {
    const v = [3, 7, 0.1];
    const r = await run({ op: "Div", inputs: ["x", "v"], outputs: ["y"] }, [["x", [1, 3, 32, 32]]], ["y", [1, 3, 32, 32]], { inits: [floatTensor("v", [3, 1, 1], v)] });
    const x = r.feeds.x, P = 32 * 32;
    const want = Array.from(x, (xv, i) => Math.fround(xv / Math.fround(v[Math.floor(i / P)])));
    const viaReciprocal = Array.from(x, (xv, i) => Math.fround(xv * Math.fround(1 / Math.fround(v[Math.floor(i / P)]))));
    expect(viaReciprocal).not.toEqual(want); // the inputs do tell the two apart
    expect(Array.from(r.got)).toEqual(want);
    const pow2 = await run({ op: "Div", inputs: ["x", "v"], outputs: ["y"] }, [["x", [1, 3, 8, 8]]], ["y", [1, 3, 8, 8]], { inits: [floatTensor("v", [], [4])] });
    expect(Array.from(pow2.got)).toEqual(Array.from(pow2.feeds.x, (xv) => Math.fround(xv / 4)));
    expect(pow2.plan.steps.some((s) => s.op === "Affine")).toBe(true);
  });
});
