// Test helpers for small models built in the tests: deterministic values in [−1, 1), and one run of a
// model through the bundle, onnxruntime-node and the attacks' replica on the same samples. The caller
// asserts on the returned relative differences (max|Δ| / max|onnxruntime output|).
import * as ort from "onnxruntime-node";
import { compile } from "../../compiler/index.ts";
import type { CompileResult } from "../../compiler/pipeline.ts";
import { loadBundle, type Bundle } from "../../runtime/host/loader.ts";
import { Replica } from "../../harness/replica/replica.ts";

/** n deterministic values in [−1, 1) (an LCG; the same seed gives the same values). */
export function rnd(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

export interface SmallRun {
  res: CompileResult;
  bundle: Bundle;
  x: Float32Array;
  got: Float32Array; // the bundle's outputs
  want: Float32Array; // onnxruntime-node's, batch by batch of the model's input shape
  rel: number; // bundle vs onnxruntime
  replicaRel: number; // replica vs bundle, on the same scale
}

/**
 * Compile `bytes`, run `samples` samples (inputs rnd(·, seed)) through the bundle, through onnxruntime
 * in batches of inShape[0] (the model's fixed batch, or 1 for a dynamic one: any count is one batch)
 * and through the replica (one plan run per bundle run).
 */
export async function runSmall(bytes: Uint8Array, inShape: number[], samples: number, seed = 5, file = "small.onnx"): Promise<SmallRun> {
  const res = compile(bytes, { file });
  const bundle = await loadBundle(res.wasm);
  const per = inShape.slice(1).reduce((p, d) => p * d, 1);
  const x = Float32Array.from(rnd(per * samples, seed));
  const got = bundle.run(x);
  const sess = await ort.InferenceSession.create(bytes);
  const b = bundle.info.dynamic_batch ? samples : inShape[0], parts: number[] = [];
  for (let i = 0; i < samples; i += b)
    parts.push(...((await sess.run({ [sess.inputNames[0]]: new ort.Tensor("float32", x.subarray(i * per, (i + b) * per), [b, ...inShape.slice(1)]) }))[sess.outputNames[0]].data as Float32Array));
  await sess.release();
  const want = Float32Array.from(parts);
  let d = 0, m = 1e-30;
  for (let i = 0; i < want.length; i++) (d = Math.max(d, Math.abs(got[i] - want[i]))), (m = Math.max(m, Math.abs(want[i])));
  if (got.length !== want.length) d = Infinity;
  const logits = (await Replica.build(res.plan)).logits(x, x.length / bundle.inputLength);
  let e = 0;
  for (let i = 0; i < got.length; i++) e = Math.max(e, Math.abs(logits[i] - got[i]));
  return { res, bundle, x, got, want, rel: d / m, replicaRel: e / m };
}
