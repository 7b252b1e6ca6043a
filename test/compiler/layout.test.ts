// Layouts and batches that cannot be lost: flattened maps read by elementwise ops, dense layers and the
// graph output, rank-3 maps, 4-D reshapes, and fixed batches N > 1 — each compiled, run, and compared
// with onnxruntime-node on the same file (float paths: max|Δ| ≤ 1e-5·max|want|, argmax equal), plus
// the refusals for graphs whose first axis is not a batch, and the CLI's .npy header for a fixed batch.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, CompileError } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { buildModel, floatTensor, intTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd, runSmall } from "../helpers/small_models.ts";

const C = 3, H = 4, W = 5, F = C * H * W;

/** Bundle vs onnxruntime (batch = the model's fixed batch, or all samples), the replica vs the bundle. */
async function compare(bytes: Uint8Array, inShape: number[], samples: number) {
  const r = await runSmall(bytes, inShape, samples, 7, "layout.onnx");
  expect(r.replicaRel).toBeLessThanOrEqual(1e-4); // the attacks' differentiable replica reads the same layouts
  return r;
}

const flattenHead = (mid: NodeSpec[], last: string): NodeSpec[] => [
  { op: "Conv", inputs: ["x", "cw"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  { op: "Flatten", inputs: ["c"], outputs: ["f"] },
  ...mid,
  { op: "Gemm", inputs: [last, "w", "b"], outputs: ["y"] },
];
const headInits = () => [floatTensor("cw", [4, C, 3, 3], rnd(4 * C * 9, 13)), floatTensor("w", [4 * H * W, 7], rnd(4 * H * W * 7, 9)), floatTensor("b", [7], rnd(7, 11)),
  floatTensor("k", [4 * H * W], rnd(4 * H * W, 5))];

describe("layouts: a flattened or reshaped map is read in ONNX order by every consumer", () => {
  const cases: [string, NodeSpec[], string][] = [
    ["flatten → Gemm (weights permuted, no relayout)", [], "f"],
    ["flatten → Relu → Gemm", [{ op: "Relu", inputs: ["f"], outputs: ["r"] }], "r"],
    ["flatten → Mul(per-feature) → Sign → Gemm", [{ op: "Mul", inputs: ["f", "k"], outputs: ["m"] }, { op: "Sign", inputs: ["m"], outputs: ["s"] }], "s"],
    ["flatten → Add(per-feature) → Sigmoid → Gemm", [{ op: "Add", inputs: ["f", "k"], outputs: ["a"] }, { op: "Sigmoid", inputs: ["a"], outputs: ["s"] }], "s"],
  ];
  for (const [name, mid, last] of cases)
    it(name, async () => {
      const bytes = buildModel({ nodes: flattenHead(mid, last), inits: headInits(), input: ["x", [-1, C, H, W]], output: ["y", [-1, 7]] });
      const r = await compare(bytes, [1, C, H, W], 4);
      expect(r.got.length).toBe(r.want.length);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      if (!mid.length) expect(r.res.plan.steps.filter((s) => s.op === "Relayout").length).toBe(1); // the input's only
    });

  it("a flattened map as the graph output", async () => {
    const bytes = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "cw"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }, { op: "Flatten", inputs: ["c"], outputs: ["y"] }],
      inits: [floatTensor("cw", [4, C, 3, 3], rnd(4 * C * 9, 13))], input: ["x", [-1, C, H, W]], output: ["y", [-1, 4 * H * W]],
    });
    const r = await compare(bytes, [1, C, H, W], 3);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });

  it("a rank-3 map with a per-channel constant", async () => {
    const bytes = buildModel({
      nodes: [{ op: "Add", inputs: ["x", "k"], outputs: ["a"] }, { op: "Relu", inputs: ["a"], outputs: ["y"] }],
      inits: [floatTensor("k", [C, 1], rnd(C, 5))], input: ["x", [-1, C, 6]], output: ["y", [-1, C, 6]],
    });
    expect((await compare(bytes, [1, C, 6], 3)).rel).toBe(0);
  });

  it("a flat vector reshaped to a 4-D map, then per-channel and conv", async () => {
    const bytes = buildModel({
      nodes: [
        { op: "Flatten", inputs: ["x"], outputs: ["f"] }, { op: "Reshape", inputs: ["f", "shp"], outputs: ["r"] },
        { op: "Add", inputs: ["r", "k"], outputs: ["a"] }, { op: "Conv", inputs: ["a", "cw"], outputs: ["y"], attrs: { kernel_shape: [1, 1] } },
      ],
      inits: [floatTensor("k", [1, 5, 1, 1], rnd(5, 5)), intTensor("shp", [4], [-1, 5, 3, 4]), floatTensor("cw", [2, 5, 1, 1], rnd(10, 3))],
      input: ["x", [-1, C, H, W]], output: ["y", [-1, 2, 3, 4]],
    });
    expect((await compare(bytes, [1, C, H, W], 3)).rel).toBeLessThanOrEqual(1e-5);
  });
});

describe("batches: a fixed batch N > 1 runs all N samples per mbn_run", () => {
  const model = (N: number, shape: number[]) => buildModel({
    nodes: flattenHead([{ op: "Relu", inputs: ["f"], outputs: ["r"] }], "r").map((n) => (n.op === "Flatten" ? { op: "Reshape", inputs: ["c", "shp"], outputs: ["f"] } : n)),
    inits: [...headInits(), intTensor("shp", [2], shape)], input: ["x", [N, C, H, W]], output: ["y", [N, 7]],
  });
  for (const N of [2, 3])
    it(`batch ${N}, Reshape to [${N}, -1] (the batch spelled out)`, async () => {
      const r = await compare(model(N, [N, -1]), [N, C, H, W], 2 * N);
      expect(r.bundle.batch).toBe(N);
      expect(r.bundle.info.input.shape).toEqual([N, C, H, W]);
      expect(r.bundle.info.output.shape).toEqual([N, 7]);
      expect(r.got.length).toBe(2 * N * 7);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(() => r.bundle.run(new Float32Array(C * H * W))).toThrow(/fixed batch of/);
    });

  it("a graph that mixes samples is compiled whole: one mbn_run takes the N samples as one input", async () => {
    // Reshape [2, C, H, W] → [1, -1]: both samples in one row
    const bytes = buildModel({
      nodes: [{ op: "Reshape", inputs: ["x", "shp"], outputs: ["f"] }, { op: "Relu", inputs: ["f"], outputs: ["y"] }],
      inits: [intTensor("shp", [2], [1, -1])], input: ["x", [2, C, H, W]], output: ["y", [1, 2 * F]],
    });
    const r = await compare(bytes, [2, C, H, W], 2);
    expect(r.res.report.notes.join()).toMatch(/fixed batch 2: .*first axis.*compiled whole, mbn_run takes all 2 samples/);
    expect(r.bundle.batch).toBe(1);
    expect(r.bundle.inputLength).toBe(2 * F);
    expect(r.rel).toBe(0);
  });

  it("a conv over a fixed batch that mixes samples is refused with one line (it would see [2, C, H, W])", () => {
    const bytes = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "cw"], outputs: ["c"], attrs: { kernel_shape: [1, 1] } }, { op: "Reshape", inputs: ["c", "shp"], outputs: ["y"] }],
      inits: [floatTensor("cw", [2, C, 1, 1], rnd(2 * C, 3)), intTensor("shp", [2], [1, -1])], input: ["x", [2, C, H, W]], output: ["y", [1, 4 * H * W]],
    });
    let line = "";
    try {
      compile(bytes, { file: "mix.onnx" });
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      line = (e as CompileError).line();
    }
    expect(line).toMatch(/^mix\.onnx: node 'Conv_0' \(Conv\): Conv input \[2,3,4,5\] holds 2 maps; mbn convolves one sample/);
  });

  it("a reduction over the batch axis compiles whole (one input of N samples) and agrees with onnxruntime", async () => {
    const bytes = buildModel({
      nodes: [{ op: "ReduceSum", inputs: ["x", "ax"], outputs: ["s"], attrs: { keepdims: 1 } }, { op: "Sub", inputs: ["x", "s"], outputs: ["y"] }],
      inits: [intTensor("ax", [1], [0])], input: ["x", [2, C, H, W]], output: ["y", [2, C, H, W]],
    });
    const r = await runSmall(bytes, [2, C, H, W], 2, 3, "red.onnx");
    expect(r.res.report.notes.join()).toMatch(/compiled whole|not independent/);
    expect(r.rel).toBeLessThanOrEqual(1e-6);
  });

  it("a symbolic batch axis that a Reshape [1, -1] merges: compiled for batch 1, and the manifest says so", async () => {
    const mixed = buildModel({
      nodes: [{ op: "Reshape", inputs: ["x", "shp"], outputs: ["f"] }, { op: "Relu", inputs: ["f"], outputs: ["y"] }],
      inits: [intTensor("shp", [2], [1, -1])], input: ["x", [-1, C, H, W]], output: ["y", [1, -1]],
    });
    const res = compile(mixed, { file: "m.onnx" });
    const b = await loadBundle(res.wasm);
    expect(b.info.dynamic_batch).toBe(false);
    expect(res.report.notes.join()).toMatch(/compiled for batch 1 although the batch axis is symbolic: node 'Reshape_0' \(Reshape\) reshapes to \[1,-1\]/);
    const kept = buildModel({
      nodes: [{ op: "Reshape", inputs: ["x", "shp"], outputs: ["f"] }, { op: "Relu", inputs: ["f"], outputs: ["y"] }],
      inits: [intTensor("shp", [2], [-1, F])], input: ["x", [-1, C, H, W]], output: ["y", [-1, F]],
    });
    expect((await loadBundle(compile(kept, { file: "k.onnx" }).wasm)).info.dynamic_batch).toBe(true);
  });

  it("mbn run writes an .npy whose header holds every sample", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbn-batch-"));
    writeFileSync(join(dir, "m.onnx"), model(2, [2, -1]));
    writeFileSync(join(dir, "x.npy"), writeNpy({ shape: [4, C, H, W], data: Float32Array.from(rnd(4 * F, 3)) }));
    const bin = new URL("../../bin/mbn.mjs", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, "run", join(dir, "m.onnx"), "--input", join(dir, "x.npy"), "--output", join(dir, "y.npy")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const y = readNpy(readFileSync(join(dir, "y.npy")));
    expect(y.shape).toEqual([4, 7]);
    expect(y.data.length).toBe(28);
    writeFileSync(join(dir, "x3.npy"), writeNpy({ shape: [3, C, H, W], data: Float32Array.from(rnd(3 * F, 3)) }));
    const bad = spawnSync(process.execPath, [bin, "run", join(dir, "m.onnx"), "--input", join(dir, "x3.npy"), "--output", join(dir, "y.npy")], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^mbn: .*fixed batch of 2/);
  });
});

describe("Softmax / LogSoftmax over the last axis, the channels, or the pre-13 coercion", () => {
  const cases: [string, number, number[], number][] = [
    ["Softmax", -1, [1, 10], 13], ["LogSoftmax", 1, [1, 10], 11], ["Softmax", 1, [1, 4, 3, 5], 13],
    ["Softmax", 1, [1, 4, 3, 5], 11], ["Softmax", 3, [1, 4, 3, 5], 13], ["LogSoftmax", 2, [1, 4, 3, 5], 11],
  ];
  for (const [op, axis, shape, opset] of cases)
    it(`${op} axis ${axis} on [${shape}], opset ${opset}`, async () => {
      const bytes = buildModel({
        nodes: [{ op: "Mul", inputs: ["x", "k"], outputs: ["m"] }, { op, inputs: ["m"], outputs: ["y"], attrs: { axis } }],
        inits: [floatTensor("k", [], [7])], opset, input: ["x", [-1, ...shape.slice(1)]], output: ["y", [-1, ...shape.slice(1)]],
      });
      const r = await compare(bytes, shape, 3);
      expect(r.got.length).toBe(r.want.length);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
    });
  it("an axis that is neither the last nor the channels moves innermost and back (two index maps)", async () => {
    const bytes = buildModel({ nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"], attrs: { axis: 2 } }], input: ["x", [-1, 4, 3, 5]], output: ["y", [-1, 4, 3, 5]] });
    const r = await runSmall(bytes, [1, 4, 3, 5], 2, 3, "s.onnx");
    expect(r.res.plan.steps.map((s) => s.op)).toEqual(["IndexMap", "Softmax", "IndexMap", "Output"]);
    expect(r.rel).toBeLessThanOrEqual(1e-6);
  });
});
