// Models with several inputs (passes/join_inputs.ts: one input buffer, the inputs laid end to end in
// graph order, manifest `inputs`) and MatMul beyond a dense layer (NumPy matmul of activations or
// constants: the matmul_f32 step). Judged against onnxruntime-node on the same file, fed by name, and
// against the attacks' replica; the corpus's scaled-dot-product attention (qonnx/matmul_update_sdp) too.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { BundleError, loadBundle, packInputs } from "../../runtime/host/loader.ts";
import { buildModel, floatTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd } from "../helpers/small_models.ts";

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
const BIN = new URL("../../bin/mbn.mjs", import.meta.url).pathname;
const CORPUS = process.env.MBN_CORPUS ?? new URL("../../../shared/corpus", import.meta.url).pathname;

/** Bundle vs onnxruntime (and the replica vs the bundle) on seeded inputs fed by name; max |Δ| / max |want|. */
async function agree(bytes: Uint8Array, inputs: [string, number[]][], seed = 3) {
  const res = compile(bytes, { file: "multi.onnx" });
  const bundle = await loadBundle(res.wasm);
  const feeds = Object.fromEntries(inputs.map(([name, shape], i) => [name, Float32Array.from(rnd(size(shape), seed + 17 * i))]));
  const got = bundle.run(packInputs(bundle.info, feeds));
  const sess = await ort.InferenceSession.create(bytes);
  const out = await sess.run(Object.fromEntries(inputs.map(([name, shape]) => [name, new ort.Tensor("float32", feeds[name], shape)])));
  const want = out[sess.outputNames[0]].data as Float32Array;
  await sess.release();
  expect(got.length).toBe(want.length);
  let d = 0, m = 1e-30, e = 0;
  const x = packInputs(bundle.info, feeds);
  const replica = (await Replica.build(res.plan)).logits(x, x.length / bundle.inputLength);
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
    e = Math.max(e, Math.abs(replica[i] - got[i]));
  }
  return { res, bundle, rel: d / m, replicaRel: e / m };
}

describe("several inputs, one input buffer", () => {
  it("attention: softmax(Q·Kᵀ/√d)·V over three inputs agrees with onnxruntime; the manifest places each input", async () => {
    const Q: [string, number[]] = ["q", [2, 4, 3]], K: [string, number[]] = ["k", [2, 5, 3]], V: [string, number[]] = ["v", [2, 5, 6]];
    const nodes: NodeSpec[] = [
      { op: "Transpose", inputs: ["k"], outputs: ["kt"], attrs: { perm: [0, 2, 1] } },
      { op: "MatMul", inputs: ["q", "kt"], outputs: ["s"] },
      { op: "Mul", inputs: ["s", "scale"], outputs: ["ss"] },
      { op: "Softmax", inputs: ["ss"], outputs: ["p"], attrs: { axis: -1 } },
      { op: "MatMul", inputs: ["p", "v"], outputs: ["y"] },
    ];
    const bytes = buildModel({ nodes, inits: [floatTensor("scale", [], [1 / Math.sqrt(3)])], inputs: [Q, K, V], output: ["y", [2, 4, 6]] });
    const r = await agree(bytes, [Q, K, V]);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    expect(r.replicaRel).toBeLessThanOrEqual(1e-5);
    expect(r.bundle.info.inputs).toEqual([{ name: "q", shape: [2, 4, 3], offset: 0 }, { name: "k", shape: [2, 5, 3], offset: 24 }, { name: "v", shape: [2, 5, 6], offset: 54 }]);
    expect(r.res.plan.steps.filter((s) => s.op === "MatMul")).toHaveLength(2);
  });

  it("the inputs' order matters: a − b fed by name equals onnxruntime, and a swapped buffer does not", async () => {
    const A: [string, number[]] = ["a", [1, 3, 2, 2]], B: [string, number[]] = ["b", [1, 3, 2, 2]];
    const bytes = buildModel({ nodes: [{ op: "Sub", inputs: ["a", "b"], outputs: ["y"] }], inputs: [A, B], output: ["y", [1, 3, 2, 2]] });
    const r = await agree(bytes, [A, B]);
    expect(r.rel).toBe(0);
    const a = Float32Array.from(rnd(12, 1)), b = Float32Array.from(rnd(12, 2));
    const y = r.bundle.run(packInputs(r.bundle.info, { b, a })); // by name: the order of the keys does not matter
    expect(Array.from(y)).toEqual(Array.from(a, (v, i) => Math.fround(v - b[i])));
    expect(Array.from(r.bundle.run(Float32Array.from([...b, ...a])))).not.toEqual(Array.from(y));
  });

  it("mbn run takes --input name=x.npy once per input, and refuses a missing one with one mbn: line", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbn-multi-"));
    const bytes = buildModel({ nodes: [{ op: "Sub", inputs: ["a", "b"], outputs: ["y"] }], inputs: [["a", [2, 3]], ["b", [2, 3]]], output: ["y", [2, 3]] });
    writeFileSync(join(dir, "m.onnx"), bytes);
    const a = Float32Array.from(rnd(6, 4)), b = Float32Array.from(rnd(6, 5));
    writeFileSync(join(dir, "a.npy"), writeNpy({ shape: [2, 3], data: a }));
    writeFileSync(join(dir, "b.npy"), writeNpy({ shape: [2, 3], data: b }));
    const mbn = (...args: string[]) => spawnSync(process.execPath, [BIN, "run", join(dir, "m.onnx"), ...args, "--output", join(dir, "y.npy")], { encoding: "utf8" });
    const ok = mbn("--input", `b=${join(dir, "b.npy")}`, "--input", `a=${join(dir, "a.npy")}`);
    expect(ok.status, ok.stderr).toBe(0);
    const y = readNpy(readFileSync(join(dir, "y.npy")), "y.npy");
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual(Array.from(a, (v, i) => Math.fround(v - b[i])));
    const bad = mbn("--input", `a=${join(dir, "a.npy")}`);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe("mbn: missing --input for 'b' (the model's inputs: a, b)");
  });

  it("packInputs names what is wrong: a missing input, a wrong length, an unknown name", async () => {
    const bytes = buildModel({ nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }], inputs: [["a", [1, 4]], ["b", [1, 4]]], output: ["y", [1, 4]] });
    const { info } = await loadBundle(compile(bytes).wasm);
    const four = new Float32Array(4);
    expect(() => packInputs(info, { a: four })).toThrow(/input 'b' \[1,4\] is missing/);
    expect(() => packInputs(info, { a: four, b: new Float32Array(3) })).toThrow(/input 'b' has 3 floats; its shape \[1,4\] holds 4/);
    expect(() => packInputs(info, { a: four, b: four, c: four })).toThrow(BundleError);
  });

  it("refuses an integer input of a model with several inputs, naming it", () => {
    const bytes = buildModel({ nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }], inputs: [["a", [1, 4]], ["b", [1, 4]]], output: ["y", [1, 4]] });
    const text = new TextDecoder("latin1").decode(bytes);
    // the second input's element type 1 (float) → 7 (int64): patch the encoded ValueInfo of 'b'
    const at = text.lastIndexOf("\n\x01b"); // the graph's inputs come after its nodes (which also name 'b')
    expect(at).toBeGreaterThan(0);
    const patched = bytes.slice();
    const et = text.indexOf("\x08\x01", at);
    patched[et + 1] = 7;
    expect(() => compile(patched, { file: "int.onnx" })).toThrow(/input 'b' has ONNX element type 7; a model with several inputs takes float32 inputs only/);
  });
});

describe("MatMul beyond a dense layer (NumPy matmul)", () => {
  const cases: { name: string; a: number[]; b: number[]; y: number[]; constB?: boolean }[] = [
    { name: "batched activations [2,4,5]·[2,5,3]", a: [2, 4, 5], b: [2, 5, 3], y: [2, 4, 3] },
    { name: "batch axes broadcast both ways [2,1,4,5]·[3,5,6]", a: [2, 1, 4, 5], b: [3, 5, 6], y: [2, 3, 4, 6] },
    { name: "a shared right matrix [1,3,4,5]·[5,7]", a: [1, 3, 4, 5], b: [5, 7], y: [1, 3, 4, 7] },
    { name: "1-D left operand [5]·[2,5,3]", a: [5], b: [2, 5, 3], y: [2, 3] },
    { name: "1-D right operand [3,4]·[4]", a: [3, 4], b: [4], y: [3] },
    { name: "a constant right matrix that is not a dense layer [1,6,8]·const [8,4]", a: [1, 6, 8], b: [8, 4], y: [1, 6, 4], constB: true },
    { name: "a constant right operand that broadcasts [2,3,4]·const [1,4,5]", a: [2, 3, 4], b: [1, 4, 5], y: [2, 3, 5], constB: true },
    { name: "a constant right operand stored broadcast [1,3,1,4,5]·const [2,5,6]", a: [1, 3, 1, 4, 5], b: [2, 5, 6], y: [1, 3, 2, 4, 6], constB: true },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const inits = c.constB ? [floatTensor("b", c.b, rnd(size(c.b), 9))] : [];
      const inputs: [string, number[]][] = c.constB ? [["a", c.a]] : [["a", c.a], ["b", c.b]];
      const bytes = buildModel({ nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }], inits, inputs, output: ["y", c.y] });
      const r = await agree(bytes, inputs);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(r.replicaRel).toBeLessThanOrEqual(1e-5);
      expect(r.res.plan.steps.some((s) => s.op === "MatMul")).toBe(true);
    });

  it("refuses batch axes that do not broadcast, naming the node", () => {
    const bytes = buildModel({ nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"], name: "mm" }], inputs: [["a", [2, 4, 5]], ["b", [3, 5, 6]]], output: ["y", [3, 4, 6]] });
    expect(() => compile(bytes, { file: "bad.onnx" })).toThrow(/batch dimensions of \[2,4,5\] and \[3,5,6\] do not broadcast/);
    try {
      compile(bytes, { file: "bad.onnx" });
    } catch (e) {
      expect((e as { where: { node?: string } }).where.node).toBe("mm");
    }
  });
});

describe("the corpus's attention block (qonnx/matmul_update_sdp.onnx: three [64,1,128] inputs)", () => {
  const file = `${CORPUS}/qonnx/matmul_update_sdp.onnx`;
  it.skipIf(!existsSync(file))(`agrees with onnxruntime${existsSync(file) ? "" : ` (skipped: ${file} is missing — the shared corpus is not next to this checkout)`}`, async () => {
    const bytes = readFileSync(file);
    const shape = [64, 1, 128];
    const r = await agree(bytes, [["onnx::Reshape_0", shape], ["onnx::Reshape_1", shape], ["onnx::Reshape_2", shape]]);
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });
});
