// Test helper: a model of one node over graph inputs (and initializers), built with onnx-proto, run
// through mbn's bundle, onnxruntime-node (the same bytes, the same seeded inputs fed by name) and the
// attacks' replica: the outputs, the largest differences relative to onnxruntime's largest |value|, the plan.
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { compile } from "../../compiler/index.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { loadBundle, packInputs } from "../../runtime/host/loader.ts";
import { buildModel, type NodeSpec } from "./onnx_builder.ts";
import { rnd } from "./small_models.ts";

export type Input = [string, number[]];
const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/**
 * One node over graph inputs (and initializers): the bundle's output, onnxruntime's, the replica's, and
 * the plan. Inputs are uniform [−1, 1) (seeded), |·| for the names in `positive`, times `scale[name]`.
 */
export async function oneNode(node: NodeSpec, inputs: Input[], output: Input, opts: Options = {}) {
  return oneNodeGraph([node], inputs, output, opts);
}

interface Options { inits?: any[]; opset?: number; seed?: number; positive?: string[]; scale?: Record<string, number> }

/** The same for a graph of several nodes. */
export async function oneNodeGraph(nodes: NodeSpec[], inputs: Input[], output: Input, opts: Options = {}) {
  const bytes = buildModel({ nodes, inputs, inits: opts.inits, output, opset: opts.opset ?? 13 });
  const res = compile(bytes, { file: `${nodes[0].op}.onnx` });
  const bundle = await loadBundle(res.wasm);
  const feeds = Object.fromEntries(inputs.map(([name, shape], i) => [name, Float32Array.from(rnd(size(shape), (opts.seed ?? 7) + 31 * i), (v) => (opts.positive?.includes(name) ? Math.abs(v) : v) * (opts.scale?.[name] ?? 1))]));
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
