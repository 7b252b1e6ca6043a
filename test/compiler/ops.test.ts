// Breadth ops at run time (issue 12), each in a small model compared with onnxruntime-node on the
// same file (float paths: max|Δ| ≤ 1e-5·max|want|): channel Concat (DenseNet/Inception blocks),
// GlobalMaxPool, Transpose (Keras NHWC inputs, NCHW→NHWC heads).
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { buildModel, floatTensor, intTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd, runSmall } from "../helpers/small_models.ts";
import { readFileSync } from "node:fs";
import { withOps } from "../../scripts/ops_table.ts";
import { withExactness } from "../../scripts/exactness_table.ts";

async function agreeWithOrt(bytes: Uint8Array, inShape: number[], samples = 4) {
  const r = await runSmall(bytes, inShape, samples, 5, "ops.onnx");
  expect(r.got.length).toBe(r.want.length);
  expect(r.rel).toBeLessThanOrEqual(1e-5);
  expect(r.replicaRel).toBeLessThanOrEqual(1e-4); // the replica follows the same plan (layouts, concat pieces, transposes)
  return r.res;
}

const conv = (x: string, w: string, y: string, k = 3): NodeSpec => ({ op: "Conv", inputs: [x, w], outputs: [y], attrs: { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] } });

describe("run-time ops", () => {
  it("DenseNet-style block: Concat of the input and two conv branches, then BN+Relu and a conv", async () => {
    const C = 3, H = 6, W = 5;
    const nodes: NodeSpec[] = [
      conv("x", "w1", "a"), { op: "Relu", inputs: ["a"], outputs: ["ar"] }, conv("ar", "w2", "b", 1),
      { op: "Concat", inputs: ["x", "ar", "b"], outputs: ["c"], attrs: { axis: 1 } },
      { op: "BatchNormalization", inputs: ["c", "g", "be", "mu", "v"], outputs: ["cb"] }, { op: "Relu", inputs: ["cb"], outputs: ["cr"] },
      conv("cr", "w3", "y"),
    ];
    const Cc = C + 4 + 2;
    const inits = [floatTensor("w1", [4, C, 3, 3], rnd(4 * C * 9, 1)), floatTensor("w2", [2, 4, 1, 1], rnd(8, 2)), floatTensor("w3", [5, Cc, 3, 3], rnd(5 * Cc * 9, 3)),
      floatTensor("g", [Cc], rnd(Cc, 4)), floatTensor("be", [Cc], rnd(Cc, 5)), floatTensor("mu", [Cc], rnd(Cc, 6)), floatTensor("v", [Cc], rnd(Cc, 7).map((v) => 1 + v * v))];
    const res = await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, C, H, W]], output: ["y", [-1, 5, H, W]] }), [1, C, H, W]);
    expect(res.plan.steps.filter((s) => s.op === "Concat").length).toBe(3);
  });

  it("Concat of flat vectors, GlobalMaxPool", async () => {
    const C = 4, H = 3, W = 3;
    const nodes: NodeSpec[] = [
      { op: "GlobalMaxPool", inputs: ["x"], outputs: ["m"] }, { op: "GlobalAveragePool", inputs: ["x"], outputs: ["a"] },
      { op: "Flatten", inputs: ["m"], outputs: ["mf"] }, { op: "Flatten", inputs: ["a"], outputs: ["af"] },
      { op: "Concat", inputs: ["mf", "af"], outputs: ["y"], attrs: { axis: 1 } },
    ];
    await agreeWithOrt(buildModel({ nodes, input: ["x", [-1, C, H, W]], output: ["y", [-1, 2 * C]] }), [1, C, H, W]);
  });

  it("Keras NHWC input: Transpose [0,3,1,2] → Conv → Transpose [0,2,3,1] → Flatten → Gemm", async () => {
    const H = 5, W = 4, C = 3;
    const nodes: NodeSpec[] = [
      { op: "Transpose", inputs: ["x"], outputs: ["t"], attrs: { perm: [0, 3, 1, 2] } }, conv("t", "w", "c"),
      { op: "Transpose", inputs: ["c"], outputs: ["u"], attrs: { perm: [0, 2, 3, 1] } }, { op: "Flatten", inputs: ["u"], outputs: ["f"] },
      { op: "Gemm", inputs: ["f", "g"], outputs: ["y"] },
    ];
    const inits = [floatTensor("w", [2, C, 3, 3], rnd(2 * C * 9, 1)), floatTensor("g", [H * W * 2, 6], rnd(H * W * 12, 2))];
    await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, H, W, C]], output: ["y", [-1, 6]] }), [1, H, W, C]);
  });

  it("a Concat along another axis (rows, then the last axis) agrees with onnxruntime, in ONNX order", async () => {
    for (const [axis, out] of [[2, [-1, 2, 6, 3]], [-1, [-1, 2, 3, 6]]] as const) {
      const nodes: NodeSpec[] = [{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "Concat", inputs: ["x", "r"], outputs: ["y"], attrs: { axis } }];
      const res = await agreeWithOrt(buildModel({ nodes, input: ["x", [-1, 2, 3, 3]], output: ["y", [...out]] }), [1, 2, 3, 3]);
      expect(res.plan.steps.filter((s) => s.op === "Concat")).toHaveLength(2);
    }
  });
});

describe("README", () => {
  it("lists the supported ops as the op tables define them (npx tsx scripts/ops_table.ts regenerates it)", () => {
    const text = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(withOps(text)).toBe(text);
  });
  it("shows the exactness figures of results/conformance.json and results/differential-nightly.json (npx tsx scripts/exactness_table.ts)", () => {
    const text = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(withExactness(text)).toBe(text);
  });
});

describe("reductions over the spatial axes run as global pools", () => {
  for (const [op, keepdims, opset] of [["ReduceMean", 0, 13], ["ReduceMax", 1, 13], ["ReduceMean", 1, 18]] as const)
    it(`${op} axes (2, 3) keepdims=${keepdims} opset ${opset}`, async () => {
      const C = 4, H = 3, W = 5;
      const axesAsInput = opset >= 18;
      const nodes: NodeSpec[] = [
        { op: "Relu", inputs: ["x"], outputs: ["r"] },
        { op, inputs: axesAsInput ? ["r", "ax"] : ["r"], outputs: ["m"], attrs: { keepdims, ...(axesAsInput ? {} : { axes: [2, 3] }) } },
        { op: "Flatten", inputs: ["m"], outputs: ["f"] }, { op: "Gemm", inputs: ["f", "w"], outputs: ["y"] },
      ];
      const inits = [floatTensor("w", [C, 3], rnd(C * 3, 1)), ...(axesAsInput ? [intTensor("ax", [2], [-1, 2])] : [])];
      const res = await agreeWithOrt(buildModel({ nodes, inits, opset, input: ["x", [-1, C, H, W]], output: ["y", [-1, 3]] }), [1, C, H, W]);
      expect(res.plan.steps.some((s) => s.op === (op === "ReduceMax" ? "GlobalMaxPool" : "GlobalAveragePool"))).toBe(true);
    });
  it("axes that are not one contiguous run are moved innermost by an index map first", async () => {
    const nodes: NodeSpec[] = [{ op: "ReduceMean", inputs: ["x"], outputs: ["y"], attrs: { axes: [1, 3] } }];
    const res = await agreeWithOrt(buildModel({ nodes, input: ["x", [-1, 2, 3, 3]], output: ["y", [-1, 1, 3, 1]] }), [1, 2, 3, 3]);
    expect(res.plan.steps.map((s) => s.op)).toEqual(["IndexMap", "Reduce", "Output"]);
  });
  const kinds = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum"];
  for (const op of kinds)
    for (const [axes, keepdims] of [[[1], 1], [[2, 3], 0], [[-1], 0]] as [number[], number][])
      it(`${op} axes [${axes}] keepdims=${keepdims} (after Abs: LogSum sees positives)`, async () => {
        const C = 3, H = 4, W = 2, r = 4, norm = axes.map((a) => (a < 0 ? a + r : a));
        const axesIn = op === "ReduceSum"; // ReduceSum takes its axes as an input from opset 13
        const nodes: NodeSpec[] = [
          { op: "Abs", inputs: ["x"], outputs: ["a"] }, { op: "Add", inputs: ["a", "k"], outputs: ["p"] },
          { op, inputs: axesIn ? ["p", "ax"] : ["p"], outputs: ["y"], attrs: { keepdims, ...(axesIn ? {} : { axes }) } },
        ];
        const out = [-1, C, H, W].map((d, i) => (norm.includes(i) ? 1 : d)).filter((_, i) => keepdims || !norm.includes(i));
        const inits = [floatTensor("k", [], [0.25]), ...(axesIn ? [intTensor("ax", [axes.length], axes)] : [])];
        const res = await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, C, H, W]], output: ["y", out] }), [1, C, H, W]);
        expect(res.plan.steps.some((s) => ["Reduce", "GlobalAveragePool", "GlobalMaxPool"].includes(s.op))).toBe(true);
      });
});

describe("LRN across channels (AlexNet, GoogLeNet)", () => {
  for (const [size, opset] of [[5, 13], [3, 9], [1, 13]]) // (onnxruntime runs odd sizes only)
    it(`size ${size}, opset ${opset}`, async () => {
      const C = 7, H = 3, W = 4;
      const nodes: NodeSpec[] = [conv("x", "w", "c"), { op: "LRN", inputs: ["c"], outputs: ["y"], attrs: { size, alpha: { f: 1e-2 }, beta: { f: 0.75 }, bias: { f: 2 } } }];
      await agreeWithOrt(buildModel({ nodes, inits: [floatTensor("w", [C, 3, 3, 3], rnd(C * 27, 2).map((v) => v * 4))], opset, input: ["x", [-1, 3, H, W]], output: ["y", [-1, C, H, W]] }), [1, 3, H, W]);
    });
});

describe("1-D convolutions and pools run as 2-D ones over one row (compiler/passes/lift_1d.ts)", () => {
  for (const opset of [11, 13])
    it(`Conv1d (stride 2, pads [2, 1]) → BN → Relu → MaxPool1d → AvgPool1d(pad) → Flatten → Gemm, opset ${opset}`, async () => {
      const C = 3, L = 20, M = 5;
      const nodes: NodeSpec[] = [
        { op: "Conv", inputs: ["x", "w", "b"], outputs: ["c"], attrs: { kernel_shape: [3], strides: [2], pads: [2, 1] } },
        { op: "BatchNormalization", inputs: ["c", "g", "be", "mu", "v"], outputs: ["cb"] }, { op: "Relu", inputs: ["cb"], outputs: ["r"] },
        { op: "MaxPool", inputs: ["r"], outputs: ["p"], attrs: { kernel_shape: [2], strides: [2] } },
        { op: "AveragePool", inputs: ["p"], outputs: ["a"], attrs: { kernel_shape: [3], pads: [1, 1], count_include_pad: 1 } },
        { op: "Flatten", inputs: ["a"], outputs: ["f"] }, { op: "Gemm", inputs: ["f", "wd"], outputs: ["y"] },
      ];
      const Lc = Math.floor((L + 3 - 3) / 2) + 1, Lp = Math.floor(Lc / 2);
      const inits = [floatTensor("w", [M, C, 3], rnd(M * C * 3, 1)), floatTensor("b", [M], rnd(M, 2)), floatTensor("g", [M], rnd(M, 3)), floatTensor("be", [M], rnd(M, 4)),
        floatTensor("mu", [M], rnd(M, 5)), floatTensor("v", [M], rnd(M, 6).map((x) => 1 + x * x)), floatTensor("wd", [M * Lp, 4], rnd(M * Lp * 4, 7))];
      const res = await agreeWithOrt(buildModel({ nodes, inits, opset, input: ["x", [-1, C, L]], output: ["y", [-1, 4]] }), [1, C, L]);
      expect(res.plan.steps.filter((s) => s.op === "Conv").length).toBe(1);
    });
});

describe("grouped and depthwise convolutions (float)", () => {
  it("MobileNet block: depthwise 3×3 stride 2 → BN → Relu → pointwise 1×1; and a 2-group conv", async () => {
    const C = 4, H = 7, W = 6;
    const nodes: NodeSpec[] = [
      { op: "Conv", inputs: ["x", "dw"], outputs: ["d"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], group: C } },
      { op: "BatchNormalization", inputs: ["d", "g", "be", "mu", "v"], outputs: ["db"] }, { op: "Relu", inputs: ["db"], outputs: ["dr"] },
      conv("dr", "pw", "p", 1),
      { op: "Conv", inputs: ["p", "gw", "gb"], outputs: ["y"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 } },
    ];
    const inits = [floatTensor("dw", [C, 1, 3, 3], rnd(C * 9, 1)), floatTensor("g", [C], rnd(C, 2)), floatTensor("be", [C], rnd(C, 3)), floatTensor("mu", [C], rnd(C, 4)),
      floatTensor("v", [C], rnd(C, 5).map((v) => 1 + v * v)), floatTensor("pw", [6, C, 1, 1], rnd(6 * C, 6)), floatTensor("gw", [4, 3, 3, 3], rnd(4 * 27, 7)), floatTensor("gb", [4], rnd(4, 8))];
    const res = await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, C, H, W]], output: ["y", [-1, 4, 4, 3]] }), [1, C, H, W]);
    expect(res.plan.steps.filter((s) => s.op === "GroupConv").length).toBe(2);
  });
});

describe("smooth activations as elementwise programs (vs onnxruntime, values across ±10)", () => {
  const acts: [string, Record<string, { f: number }>, number][] = [
    ["Elu", { alpha: { f: 0.7 } }, 13], ["Selu", {}, 13], ["Celu", { alpha: { f: 1.3 } }, 13], ["Softplus", {}, 13], ["Softsign", {}, 13],
    ["HardSwish", {}, 14], ["ThresholdedRelu", { alpha: { f: 0.4 } }, 13], ["Elu", {}, 6],
  ];
  for (const [op, attrs, opset] of acts)
    it(`${op} (opset ${opset}) after a conv`, async () => {
      const nodes: NodeSpec[] = [conv("x", "w", "c"), { op, inputs: ["c"], outputs: ["y"], attrs }];
      await agreeWithOrt(buildModel({ nodes, inits: [floatTensor("w", [4, 2, 3, 3], rnd(72, 3).map((v) => v * 6))], opset, input: ["x", [-1, 2, 5, 5]], output: ["y", [-1, 4, 5, 5]] }), [1, 2, 5, 5]);
    });
  it("PRelu with a per-channel slope (ReActNet's RPReLU middle)", async () => {
    const nodes: NodeSpec[] = [conv("x", "w", "c"), { op: "PRelu", inputs: ["c", "s"], outputs: ["y"] }];
    const inits = [floatTensor("w", [4, 2, 3, 3], rnd(72, 3)), floatTensor("s", [4, 1, 1], [0.1, -0.2, 0.25, 1.5])];
    await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, 2, 5, 5]], output: ["y", [-1, 4, 5, 5]] }), [1, 2, 5, 5]);
  });
});

describe("Pad, Expand-broadcast constants, QONNX quantizers outside binary layers", () => {
  it("a zero-width Pad in front of AveragePool (torch's nn.AvgPool2d) is a view; a constant spatial Pad before a conv runs", async () => {
    const nodes: NodeSpec[] = [
      { op: "Pad", inputs: ["x", "p0"], outputs: ["z"] }, { op: "AveragePool", inputs: ["z"], outputs: ["a"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Pad", inputs: ["a", "p1", "v"], outputs: ["q"] }, conv("q", "w", "y", 1),
    ];
    const inits = [intTensor("p0", [8], [0, 0, 0, 0, 0, 0, 0, 0]), intTensor("p1", [8], [0, 0, 1, 2, 0, 0, 2, 0]), floatTensor("v", [], [0.5]), floatTensor("w", [2, 3, 1, 1], rnd(6, 1))];
    const res = await agreeWithOrt(buildModel({ nodes, inits, input: ["x", [-1, 3, 6, 4]], output: ["y", [-1, 2, 6, 4]] }), [1, 3, 6, 4]);
    expect(res.plan.steps.filter((s) => s.op === "Pad").length).toBe(1);
  });
  it("ReActNet's shift x + bias.expand_as(x) (Expand(bias, Shape(x))) folds into a per-channel bias", async () => {
    const nodes: NodeSpec[] = [
      conv("x", "w", "c"), { op: "Shape", inputs: ["c"], outputs: ["s"] }, { op: "Expand", inputs: ["b", "s"], outputs: ["e"] },
      { op: "Add", inputs: ["c", "e"], outputs: ["y"] },
    ];
    const res = await agreeWithOrt(buildModel({ nodes, inits: [floatTensor("w", [4, 2, 3, 3], rnd(72, 1)), floatTensor("b", [1, 4, 1, 1], [0.5, -1, 2, 0])], input: ["x", [-1, 2, 5, 5]], output: ["y", [-1, 4, 5, 5]] }), [1, 2, 5, 5]);
    expect(res.plan.steps.some((s) => s.op === "Elementwise")).toBe(false);
  });
});
