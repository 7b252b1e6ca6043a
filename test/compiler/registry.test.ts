// The op registry (compiler/ops/registry.ts): every op is one OpDef, and every table the passes read
// is derived from it. Checks: no op of the tables as they stood at acee361 (before the registry) is
// lost; every op has a reference evaluation (function ops: their ONNX body) and a run-time form or a
// reason it stays compile-time; typed attributes are exactly the ones ONNX defines at opset ≥ 11
// (onnx/upgrade.ts VERSIONS); step kinds are plan step kinds, and compiled plans use only the kinds
// their nodes' ops declare.
import { describe, expect, it } from "vitest";
import { ANY_OUTPUT, ELEMENTWISE, FLOAT_ELEMENTWISE, FUNCTION_OPS, INDEX_MAP_OPS, LOWER, OPS, REGISTRY, RUNTIME_OPS, SHAPE_RULES } from "../../compiler/ops/registry.ts";
import type { OpDef } from "../../compiler/ops/op_def.ts";
import { VERSIONS, versionAt } from "../../compiler/onnx/upgrade.ts";
import { compile } from "../../compiler/index.ts";
import { buildModel, floatTensor, intTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd } from "../helpers/small_models.ts";
import { opsBlock } from "../../scripts/ops_table.ts";

// the tables at acee361 (compiler/reference/ops.ts OPS, passes/lower.ts RUNTIME_OPS, passes/elementwise.ts
// FLOAT_ELEMENTWISE, passes/expand_functions.ts FUNCTION_OPS, passes/index_map.ts INDEX_MAP_OPS,
// passes/infer_shapes.ts SHAPE_RULES), printed by a script from that commit; added since: RNN, GRU,
// LSTM (ops/recurrent.ts, reference and run-time), GridSample (ops/grid_sample.ts, reference, run-time, shape rule)
const BEFORE: Record<string, string[]> = {
  reference: ["Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "BatchNormalization", "BipolarQuant", "Cast", "Ceil", "Celu", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "Cosh", "DepthToSpace", "DequantizeLinear", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "IntQuant", "LRN", "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mod", "Mul", "MultiThreshold", "Neg", "Not", "Or", "PRelu", "Pad", "Pow", "Quant", "QuantizeLinear", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "Round", "Selu", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax", "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trunc", "Unsqueeze", "Where", "Xor", "RNN", "GRU", "LSTM", "GridSample"],
  runtime: ["Add", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "ConvTranspose", "DepthToSpace", "Div", "Dropout", "Expand", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Hardmax", "Identity", "LRN", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Pad", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "Slice", "Softmax", "SpaceToDepth", "Split", "Squeeze", "Sub", "Sum", "Tile", "TopK", "Transpose", "Unsqueeze", "RNN", "GRU", "LSTM", "GridSample"],
  elementwise: ["Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BatchNormalization", "BipolarQuant", "Cast", "Ceil", "Celu", "Clip", "ConstantOfShape", "Cos", "Cosh", "DequantizeLinear", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Floor", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Identity", "IntQuant", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mod", "Mul", "MultiThreshold", "Neg", "Not", "Or", "PRelu", "Pow", "Quant", "QuantizeLinear", "Reciprocal", "Relu", "Round", "Selu", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor"],
  function: ["Gelu", "InstanceNormalization", "LayerNormalization", "MeanVarianceNormalization"],
  indexMap: ["DepthToSpace", "Expand", "Gather", "Pad", "Resize", "Slice", "SpaceToDepth", "Split", "Tile", "Transpose"],
  shapeRule: ["AveragePool", "BatchNormalization", "Conv", "Elu", "Gemm", "HardSigmoid", "HardSwish", "LRN", "LeakyRelu", "MatMul", "MaxPool", "Relu", "Selu", "Sigmoid", "Softplus", "Tanh", "GridSample"],
};
const NOW: Record<string, Set<string>> = {
  reference: new Set(Object.keys(OPS)), runtime: new Set(RUNTIME_OPS), elementwise: FLOAT_ELEMENTWISE, function: FUNCTION_OPS,
  indexMap: INDEX_MAP_OPS, shapeRule: new Set(Object.keys(SHAPE_RULES)),
};
// every kind of ir/plan.ts Step (a literal: adding a kind means naming which ops emit it)
const STEP_KINDS = new Set(["Relayout", "Output", "Conv", "GroupConv", "Gemm", "BitConv", "BitQuantize", "Affine", "Elementwise", "IndexMap", "MaxPool", "AveragePool",
  "GlobalAveragePool", "GlobalMaxPool", "Concat", "Transpose", "Softmax", "TopK", "Reduce", "Pad", "LRN", "MatMul"]);

describe("op registry", () => {
  for (const [table, ops] of Object.entries(BEFORE))
    it(`no op lost from the ${table} table of acee361`, () => {
      expect(ops.filter((op) => !NOW[table].has(op))).toEqual([]);
      expect([...NOW[table]].filter((op) => !ops.includes(op))).toEqual([]); // (and none added unnoticed: extend BEFORE's comment when adding)
    });

  it("every op has a reference evaluation (function ops: the body they expand to)", () => {
    expect([...REGISTRY.values()].filter((d) => !d.reference && !d.expand).map((d) => d.op)).toEqual([]);
    expect([...REGISTRY.values()].filter((d) => d.reference && d.expand).map((d) => d.op)).toEqual([]);
  });

  it("every op has a run-time form (lowering, elementwise program, index map, function body) or says why it stays compile-time", () => {
    const forms = (d: OpDef) => [!!d.run || !!d.elementwise || !!d.indexMap, !!d.expand, !!d.stays].filter(Boolean).length;
    expect([...REGISTRY.values()].filter((d) => forms(d) !== 1).map((d) => d.op)).toEqual([]);
    for (const op of Object.keys(LOWER)) expect(REGISTRY.get(op)!.run || REGISTRY.get(op)!.indexMap).toBeTruthy();
    for (const op of Object.keys(ELEMENTWISE)) expect(REGISTRY.get(op)!.elementwise).toBeTruthy();
    expect([...ANY_OUTPUT].sort()).toEqual([...INDEX_MAP_OPS, "TopK", "RNN", "GRU", "LSTM"].sort());
  });

  it("typed attributes are exactly those ONNX defines for the op from opset 11 on (QONNX ops: their spec's)", () => {
    const wrong: string[] = [];
    for (const d of REGISTRY.values()) {
      for (const [name, a] of Object.entries(d.attrs ?? {}))
        if (a.default !== undefined && (a.type === "string" ? typeof a.default !== "string" : a.type.endsWith("s") ? !Array.isArray(a.default) : typeof a.default !== "number")) wrong.push(`${d.op}.${name}: default does not have type ${a.type}`);
      if (d.domain) continue;
      const vs = VERSIONS[d.op];
      if (!vs) {
        wrong.push(`${d.op}: no VERSIONS entry`);
        continue;
      }
      const from = versionAt(d.op, 11) ?? Math.min(...Object.keys(vs).map(Number));
      const want = new Set(Object.entries(vs).filter(([v]) => Number(v) >= from).flatMap(([, a]) => a.split(" ").filter(Boolean)));
      const have = Object.keys(d.attrs ?? {});
      for (const a of want) if (!have.includes(a)) wrong.push(`${d.op}: attribute '${a}' not declared`);
      for (const a of have) if (!want.has(a)) wrong.push(`${d.op}: attribute '${a}' is not ONNX's`);
    }
    expect(wrong).toEqual([]);
  });

  it("README's op block (scripts/ops_table.ts) has one row per registered op", () => {
    const rows = opsBlock().split("\n").filter((l) => l.startsWith("| `"));
    expect(rows.map((l) => l.split("`")[1])).toEqual([...REGISTRY.keys()].sort());
  });

  it("step kinds are plan step kinds", () => {
    const bad = [...REGISTRY.values()].flatMap((d) => d.steps.filter((s) => !STEP_KINDS.has(s)).map((s) => `${d.op}: ${s}`));
    expect(bad).toEqual([]);
  });

  // (a BitQuantize step is named after its quantizer's last node, but the binary layer that reads it emits it: Conv, Gemm, MatMul declare it)
  it("a compiled plan uses only the step kinds its nodes' ops declare (besides Relayout, Output and BitQuantize; since the dual-output epilogue the conv feeding Sign and Concat packs the bits itself)", () => {
    const C = 3, H = 6, W = 6;
    const nodes: NodeSpec[] = [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "BatchNormalization", inputs: ["c", "g", "be", "mu", "v"], outputs: ["b"] }, { op: "Relu", inputs: ["b"], outputs: ["r"] },
      { op: "Sign", inputs: ["r"], outputs: ["s"] },
      { op: "Conv", inputs: ["s", "w2"], outputs: ["c2"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "Tanh", inputs: ["c2"], outputs: ["t"] }, { op: "Concat", inputs: ["r", "t"], outputs: ["k"], attrs: { axis: 1 } },
      { op: "MaxPool", inputs: ["k"], outputs: ["p"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: "Pad", inputs: ["p", "pads"], outputs: ["pp"], attrs: { mode: "reflect" } },
      { op: "ReduceMean", inputs: ["pp"], outputs: ["m"], attrs: { axes: [2, 3], keepdims: 0 } },
      { op: "Gemm", inputs: ["m", "wd"], outputs: ["d"] }, { op: "Softmax", inputs: ["d"], outputs: ["y"], attrs: { axis: -1 } },
    ];
    const inits = [floatTensor("w", [4, C, 3, 3], rnd(4 * C * 9, 1)), floatTensor("g", [4], rnd(4, 2)), floatTensor("be", [4], rnd(4, 3)), floatTensor("mu", [4], rnd(4, 4)),
      floatTensor("v", [4], rnd(4, 5).map((x) => 1 + x * x)), floatTensor("w2", [4, 4, 3, 3], rnd(144, 6).map((x) => (x < 0 ? -1 : 1))), intTensor("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1]),
      floatTensor("wd", [8, 5], rnd(40, 7))];
    const { plan } = compile(buildModel({ nodes, inits, opset: 13, input: ["x", [-1, C, H, W]], output: ["y", [-1, 5]] }), { file: "registry.onnx" });
    const opOf = new Map(nodes.map((n, i) => [`${n.op}_${i}`, n.op]));
    const undeclared = plan.steps.filter((s) => s.op !== "Relayout" && s.op !== "Output" && s.op !== "BitQuantize").filter((s) => {
      const op = opOf.get(s.node) ?? s.node;
      return !REGISTRY.get(op)?.steps.includes(s.op);
    }).map((s) => `${s.node}: ${s.op}`);
    expect(plan.steps.map((s) => s.op)).toEqual(expect.arrayContaining(["Conv", "BitConv", "Elementwise", "Concat", "MaxPool", "IndexMap", "GlobalAveragePool", "Gemm", "Softmax"]));
    expect(undeclared).toEqual([]);
  });
});
