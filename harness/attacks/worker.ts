// Harness: one attack shard in a worker thread (started by parallel.ts with the tsx loader).
// Compiles the model itself (compilation is deterministic: same bytes, same bundle) and evaluates
// its slice of the dataset; posts back the record and the adversarial inputs.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../data/datasets.ts";
import { evaluateAttack } from "./evaluate.ts";

const w = workerData as { file: string; data: string; offset: number; n: number; attack: string; params: any; batch: number; shard: string };
const res = compile(readFileSync(w.file), { file: w.file, target: "simd" });
const bundle = await loadBundle(res.wasm);
const subset = take(loadDataset(w.data), w.n, w.offset);
const { record, xadv } = await evaluateAttack({
  model: w.file, bundle, wasm: res.wasm, plan: res.plan, data: subset, offset: w.offset, attack: w.attack, params: w.params, batch: w.batch, shard: w.shard,
  onProgress: (k) => parentPort!.postMessage({ progress: k }),
});
parentPort!.postMessage({ record, xadv }, [xadv.buffer as ArrayBuffer]);
