// Data movement as index maps and elementwise ops of several activations (issue 12): each small model
// runs through the bundle, onnxruntime-node and the replica on the same samples (float paths:
// max|Δ| ≤ 1e-5·max|want|). The index-map derivation itself is checked against hand-written maps and
// must refuse ops that compute with values (a linear Resize).
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { buildModel, floatTensor, intTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd, runSmall } from "../helpers/small_models.ts";
import { loadOnnx } from "../../compiler/onnx/load.ts";
import { indexMapOf, broadcastMap } from "../../compiler/passes/index_map.ts";

async function agree(bytes: Uint8Array, inShape: number[], samples = 3) {
  const r = await runSmall(bytes, inShape, samples, 7, "imap.onnx");
  expect(r.got.length).toBe(r.want.length);
  expect(r.rel).toBeLessThanOrEqual(1e-5);
  expect(r.replicaRel).toBeLessThanOrEqual(1e-4);
  return r.res;
}
const model = (nodes: NodeSpec[], inShape: number[], outShape: number[], inits: ReturnType<typeof floatTensor>[] = [], opset = 13) =>
  buildModel({ nodes, inits, input: ["x", inShape], output: ["y", outShape], opset });

describe("index maps", () => {
  it("are derived from the reference op: DepthToSpace CRD equals the hand-written map", () => {
    const g = loadOnnx(model([{ op: "DepthToSpace", inputs: ["x"], outputs: ["y"], attrs: { blocksize: 2, mode: "CRD" } }], [1, 8, 2, 3], [1, 2, 4, 6]));
    const m = indexMapOf(g, g.nodes[0], [1, 8, 2, 3], 0, {});
    const want: number[] = [];
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 6; x++) want.push(((c * 4 + (y % 2) * 2 + (x % 2)) * 2 + (y >> 1)) * 3 + (x >> 1));
    expect(Array.from(m.idx)).toEqual(want);
  });
  it("refuse an op that computes with its values (linear Resize), with one line", () => {
    const g = loadOnnx(model([{ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"], attrs: { mode: "nearest" } }], [1, 2, 3, 3], [1, 2, 6, 6], [floatTensor("s", [4], [1, 1, 2, 2])]));
    g.nodes[0].attrs.mode = "linear";
    expect(() => indexMapOf(g, g.nodes[0], [1, 2, 3, 3], 0, { node: "r" })).toThrow(/nearest only|pure data movement/);
  });
  it("broadcastMap follows NumPy broadcasting", () => {
    expect(Array.from(broadcastMap([3, 1], [2, 3, 2]))).toEqual([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]);
  });

  it("PixelShuffle (rank-6 Transpose) and DepthToSpace DCR after a conv, SpaceToDepth before one", async () => {
    const nodes: NodeSpec[] = [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: "Reshape", inputs: ["c", "s6"], outputs: ["r6"] }, { op: "Transpose", inputs: ["r6"], outputs: ["t6"], attrs: { perm: [0, 1, 4, 2, 5, 3] } },
      { op: "Reshape", inputs: ["t6", "s4"], outputs: ["ps"] },
      { op: "SpaceToDepth", inputs: ["ps"], outputs: ["sd"], attrs: { blocksize: 2 } },
      { op: "DepthToSpace", inputs: ["sd"], outputs: ["y"], attrs: { blocksize: 2, mode: "DCR" } },
    ];
    const inits = [floatTensor("w", [8, 3, 3, 3], rnd(8 * 27, 1)), intTensor("s6", [6], [1, 2, 2, 2, 4, 5]), intTensor("s4", [4], [1, 2, 8, 10])];
    const res = await agree(model(nodes, [1, 3, 4, 5], [1, 2, 8, 10], inits as never), [1, 3, 4, 5]);
    expect(res.plan.steps.filter((s) => s.op === "IndexMap").length).toBe(3);
  });

  it("Slice, Split (second output), Tile, Gather of constant indices, reflect and edge Pad, nearest Resize", async () => {
    const nodes: NodeSpec[] = [
      { op: "Pad", inputs: ["x", "pads"], outputs: ["p"], attrs: { mode: "reflect" } },
      { op: "Pad", inputs: ["p", "pads"], outputs: ["q"], attrs: { mode: "edge" } },
      { op: "Split", inputs: ["q", "sp"], outputs: ["a", "b"], attrs: { axis: 1 } },
      { op: "Slice", inputs: ["b", "st", "en", "ax", "stp"], outputs: ["sl"] },
      { op: "Tile", inputs: ["sl", "rep"], outputs: ["ti"] },
      { op: "Gather", inputs: ["ti", "gi"], outputs: ["ga"], attrs: { axis: 3 } },
      { op: "Resize", inputs: ["ga", "", "sc"], outputs: ["y"], attrs: { mode: "nearest" } },
    ];
    const inits = [
      intTensor("pads", [8], [0, 0, 1, 2, 0, 0, 2, 1]), intTensor("sp", [2], [1, 2]), intTensor("st", [2], [1, 0]), intTensor("en", [2], [6, 5]),
      intTensor("ax", [2], [2, 3]), intTensor("stp", [2], [2, 1]), intTensor("rep", [4], [1, 2, 1, 1]), intTensor("gi", [3], [4, 0, 2]),
      floatTensor("sc", [4], [1, 1, 2, 1.5]),
    ];
    await agree(model(nodes, [1, 3, 4, 4], [1, 4, 6, 4], inits as never), [1, 3, 4, 4]);
  });

  it("Resize nearest maps coordinates in float32 as onnxruntime does (scale 0.6, floor); an ambiguous output size or another keep_aspect_ratio_policy is refused", async () => {
    const rs = (attrs: Record<string, string>, scale: number, inS: number[], outS: number[], opset = 13) =>
      buildModel({ nodes: [{ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"], attrs: { mode: "nearest", ...attrs } }], inits: [floatTensor("s", [4], [1, 1, scale, scale])], input: ["x", inS], output: ["y", outS], opset });
    await agree(rs({ coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }, 0.6, [1, 1, 10, 10], [1, 1, 6, 6]), [1, 1, 10, 10]);
    await agree(rs({ coordinate_transformation_mode: "half_pixel" }, 0.6, [1, 1, 10, 10], [1, 1, 6, 6]), [1, 1, 10, 10]);
    expect(() => compile(rs({}, 0.7, [1, 1, 10, 10], [1, 1, 7, 7]), { file: "r.onnx" })).toThrow(/output size of axis 2 is ambiguous/);
    const keep = buildModel({ nodes: [{ op: "Resize", inputs: ["x", "", "", "sz"], outputs: ["y"], attrs: { mode: "nearest", keep_aspect_ratio_policy: "not_larger" } }], inits: [intTensor("sz", [4], [1, 1, 6, 6])], input: ["x", [1, 1, 4, 8]], output: ["y", [1, 1, 3, 6]], opset: 18 });
    expect(() => compile(keep, { file: "k.onnx" })).toThrow(/keep_aspect_ratio_policy 'not_larger' is not supported/);
    const r10 = buildModel({ nodes: [{ op: "Resize", inputs: ["x", "s"], outputs: ["y"], attrs: { mode: "nearest" } }], inits: [floatTensor("s", [4], [1, 1, 0.6, 0.6])], input: ["x", [1, 1, 10, 10]], output: ["y", [1, 1, 6, 6]], opset: 10 });
    expect(() => compile(r10, { file: "r10.onnx" })).toThrow(/Resize-10 downsampling/);
  });

  it("Hardmax at opset < 13 over a channels-last map with ties picks the first maximum in ONNX order", async () => {
    // identity 1×1 conv → Clip(0, 0.1): many ties at 0.1; one row of the whole tensor (axis 1, opset 11)
    const w = floatTensor("w", [3, 3, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const nodes: NodeSpec[] = [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [1, 1] } }, { op: "Clip", inputs: ["c", "lo", "hi"], outputs: ["k"] },
      { op: "Hardmax", inputs: ["k"], outputs: ["y"], attrs: { axis: 1 } },
    ];
    await agree(model(nodes, [1, 3, 2, 2], [1, 3, 2, 2], [w, floatTensor("lo", [], [0]), floatTensor("hi", [], [0.1])], 11), [1, 3, 2, 2]);
  });

  it("softmax, log-softmax and hardmax over an axis that is neither the last nor the channels (opset 13)", async () => {
    for (const op of ["Softmax", "LogSoftmax", "Hardmax"]) {
      const nodes: NodeSpec[] = [{ op, inputs: ["x"], outputs: ["y"], attrs: { axis: 2 } }];
      await agree(model(nodes, [1, 3, 4, 5], [1, 3, 4, 5]), [1, 3, 4, 5]);
    }
  });

  it("TopK values and indices (as floats) along the channels, ArgMax over the last axis, ArgMin with select_last_index", async () => {
    const k = intTensor("k", [1], [2]);
    for (const out of ["v", "i"]) {
      const nodes: NodeSpec[] = [{ op: "TopK", inputs: ["x", "k"], outputs: ["v", "i"], attrs: { axis: 1 } }, { op: "Cast", inputs: [out], outputs: ["y"], attrs: { to: 1 } }];
      const bytes = buildModel({ nodes, inits: [k], input: ["x", [1, 5, 3, 2]], output: ["y", [1, 2, 3, 2]], opset: 13 });
      const r = await runSmall(bytes, [1, 5, 3, 2], 3, 9, "topk.onnx").catch((e) => { throw e; });
      expect(r.rel).toBeLessThanOrEqual(out === "i" ? 0 : 1e-6);
    }
    const cast: NodeSpec = { op: "Cast", inputs: ["a"], outputs: ["y"], attrs: { to: 1 } };
    await agree(model([{ op: "ArgMax", inputs: ["x"], outputs: ["a"], attrs: { axis: -1, keepdims: 0 } }, cast], [1, 3, 4, 5], [1, 3, 4]), [1, 3, 4, 5]);
    await agree(model([{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "ArgMin", inputs: ["r"], outputs: ["a"], attrs: { axis: 2, select_last_index: 1 } }, cast], [1, 3, 4, 5], [1, 3, 1, 5]), [1, 3, 4, 5]);
  });

  it("a reduction over axes that are not one run ([0, 2, 3] of MVN's mean)", async () => {
    const nodes: NodeSpec[] = [{ op: "ReduceMean", inputs: ["x"], outputs: ["y"], attrs: { axes: [1, 3], keepdims: 1 } }];
    await agree(model(nodes, [1, 3, 4, 5], [1, 1, 4, 1]), [1, 3, 4, 5]);
  });
});

describe("function ops expanded into their ONNX function bodies (passes/expand_functions.ts)", () => {
  it("InstanceNormalization after a conv, MeanVarianceNormalization, LayerNormalization (opset 17), Gelu erf and tanh (opset 20)", async () => {
    const conv: NodeSpec = { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } };
    const w = floatTensor("w", [4, 3, 3, 3], rnd(108, 5));
    await agree(model([conv, { op: "InstanceNormalization", inputs: ["c", "s", "b"], outputs: ["y"], attrs: { epsilon: { f: 1e-3 } } }], [1, 3, 5, 6], [1, 4, 5, 6],
      [w, floatTensor("s", [4], rnd(4, 6)), floatTensor("b", [4], rnd(4, 7))]), [1, 3, 5, 6]);
    await agree(model([{ op: "MeanVarianceNormalization", inputs: ["x"], outputs: ["y"], attrs: { axes: [1, 3] } }], [1, 3, 4, 5], [1, 3, 4, 5]), [1, 3, 4, 5]);
    const ln = buildModel({ nodes: [{ op: "LayerNormalization", inputs: ["x", "s", "b"], outputs: ["y"], attrs: { axis: -2 } }], inits: [floatTensor("s", [4, 5], rnd(20, 8)), floatTensor("b", [5], rnd(5, 9))], input: ["x", [1, 3, 4, 5]], output: ["y", [1, 3, 4, 5]], opset: 17 });
    await agree(ln, [1, 3, 4, 5]);
    for (const approximate of ["none", "tanh"]) {
      const gelu = buildModel({ nodes: [{ op: "Gelu", inputs: ["x"], outputs: ["y"], attrs: { approximate } }], input: ["x", [1, 3, 4, 5]], output: ["y", [1, 3, 4, 5]], opset: 20 });
      await agree(gelu, [1, 3, 4, 5]);
    }
  });
});

describe("elementwise ops of several activations", () => {
  it("x − mean(x), (x − mean)/√var: Sub and Div of activations with broadcasting (MeanVarianceNormalization expanded)", async () => {
    const nodes: NodeSpec[] = [
      { op: "ReduceMean", inputs: ["x"], outputs: ["m"], attrs: { axes: [2, 3], keepdims: 1 } },
      { op: "Sub", inputs: ["x", "m"], outputs: ["d"] }, { op: "Mul", inputs: ["d", "d"], outputs: ["d2"] },
      { op: "ReduceMean", inputs: ["d2"], outputs: ["v"], attrs: { axes: [2, 3], keepdims: 1 } },
      { op: "Add", inputs: ["v", "eps"], outputs: ["ve"] }, { op: "Sqrt", inputs: ["ve"], outputs: ["sd"] },
      { op: "Div", inputs: ["d", "sd"], outputs: ["y"] },
    ];
    const res = await agree(model(nodes, [1, 3, 4, 5], [1, 3, 4, 5], [floatTensor("eps", [], [1e-5])]), [1, 3, 4, 5]);
    expect(res.plan.steps.some((s) => s.op === "Elementwise" && s.srcs.length === 1)).toBe(true);
  });

  it("Max, Min and Mean of three activations; Where of activations; Sin, Erf (GELU), Shrink, Mod", async () => {
    const nodes: NodeSpec[] = [
      { op: "Sin", inputs: ["x"], outputs: ["s"] }, { op: "Erf", inputs: ["x"], outputs: ["e"] }, { op: "Relu", inputs: ["x"], outputs: ["r"] },
      { op: "Max", inputs: ["s", "e", "r"], outputs: ["mx"] }, { op: "Min", inputs: ["s", "e", "r"], outputs: ["mn"] }, { op: "Mean", inputs: ["s", "e", "r"], outputs: ["me"] },
      { op: "Greater", inputs: ["mx", "me"], outputs: ["g"] }, { op: "Where", inputs: ["g", "mn", "me"], outputs: ["w"] },
      { op: "Shrink", inputs: ["w"], outputs: ["sh"], attrs: { lambd: { f: 0.1 }, bias: { f: 0.05 } } },
      { op: "Mod", inputs: ["sh", "k"], outputs: ["y"], attrs: { fmod: 1 } },
    ];
    await agree(model(nodes, [1, 4, 3, 3], [1, 4, 3, 3], [floatTensor("k", [], [0.3])]), [1, 4, 3, 3]);
  });

  it("a fixed batch of 3 compiled whole runs elementwise rows in ONNX order (logsoftmax expanded over axis 0)", async () => {
    const nodes: NodeSpec[] = [
      { op: "ReduceMax", inputs: ["x"], outputs: ["m"], attrs: { axes: [0], keepdims: 1 } }, { op: "Sub", inputs: ["x", "m"], outputs: ["d"] },
      { op: "Exp", inputs: ["d"], outputs: ["e"] }, { op: "ReduceSum", inputs: ["e", "ax"], outputs: ["s"], attrs: { keepdims: 1 } },
      { op: "Log", inputs: ["s"], outputs: ["l"] }, { op: "Sub", inputs: ["d", "l"], outputs: ["y"] },
    ];
    await agree(model(nodes, [3, 4, 5], [3, 4, 5], [intTensor("ax", [1], [0]) as never]), [3, 4, 5], 3);
  });

  it("a constant that varies along other axes than the channels is stored whole and read as a source (x·c[H, W] + b[W])", async () => {
    const nodes: NodeSpec[] = [
      { op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "Mul", inputs: ["r", "c"], outputs: ["m"] },
      { op: "Add", inputs: ["m", "b"], outputs: ["y"] },
    ];
    const res = await agree(model(nodes, [1, 3, 4, 5], [1, 3, 4, 5], [floatTensor("c", [4, 5], rnd(20, 3)), floatTensor("b", [5], rnd(5, 4))]), [1, 3, 4, 5]);
    expect(res.plan.values.filter((v) => v.pinned === "const").length).toBe(2);
  });

  it("an elementwise op of activations that do not broadcast is refused with one line", () => {
    const nodes: NodeSpec[] = [
      { op: "ReduceMean", inputs: ["x"], outputs: ["m"], attrs: { axes: [3], keepdims: 0 } }, { op: "Sub", inputs: ["x", "m"], outputs: ["y"] },
    ];
    let line = "";
    try {
      compile(model(nodes, [1, 3, 4, 5], [1, 3, 4, 5]), { file: "b.onnx" });
    } catch (e) {
      line = (e as { line(): string }).line();
    }
    expect(line).toBe("b.onnx: node 'Sub_1' (Sub): shapes [1,3,4,5], [1,3,4] do not broadcast");
  });
});
