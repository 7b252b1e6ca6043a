// Layers whose parameters are activations (graph inputs), the ONNX backend tests' form: a Gemm whose
// B or C is an input (matmul_f32 + an elementwise epilogue), a Conv / ConvTranspose whose weights and
// bias are inputs (an im2col index map + matmul_f32 per group), BatchNormalization / InstanceNormalization
// whose statistics are inputs. Each small model is built here, run through the bundle and through
// onnxruntime-node on the same bytes with the same seeded inputs; Gemm is also bit-exact against the
// reference interpreter's Gemm (the same float32 operations in the same order).
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Node } from "../../compiler/ir/graph.ts";
import { tensor } from "../../compiler/ir/tensor.ts";
import { REGISTRY } from "../../compiler/ops/registry.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { loadBundle, packInputs } from "../../runtime/host/loader.ts";
import { buildModel, floatTensor, type AttrValue, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd } from "../helpers/small_models.ts";

type Input = [string, number[]];
const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/** One node over graph inputs (and initializers): the bundle's output, onnxruntime's, the replica's, and the plan. */
async function run(node: NodeSpec, inputs: Input[], output: Input, opts: { inits?: any[]; opset?: number; seed?: number } = {}) {
  const bytes = buildModel({ nodes: [node], inputs, inits: opts.inits, output, opset: opts.opset ?? 13 });
  const res = compile(bytes, { file: `${node.op}.onnx` });
  const bundle = await loadBundle(res.wasm);
  const feeds = Object.fromEntries(inputs.map(([name, shape], i) => [name, Float32Array.from(rnd(size(shape), (opts.seed ?? 7) + 31 * i))]));
  const x = packInputs(bundle.info, feeds);
  const got = bundle.run(x);
  const sess = await ort.InferenceSession.create(bytes);
  const out = await sess.run(Object.fromEntries(inputs.map(([name, shape]) => [name, new ort.Tensor("float32", feeds[name], shape)])));
  const want = out[sess.outputNames[0]].data as Float32Array;
  await sess.release();
  const replica = (await Replica.build(res.plan)).logits(x, x.length / bundle.inputLength);
  expect(got.length).toBe(want.length);
  let d = 0, m = 1e-30, e = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
    e = Math.max(e, Math.abs(replica[i] - got[i]));
  }
  return { got, feeds, rel: d / m, replicaRel: e / m, plan: res.plan };
}

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
