// CLI: `mbn attack <bundle.wasm|model.onnx> --data <dataset> --attack fgsm|pgd|square --eps e …`
// and `mbn merge <records.json…> -o merged.json` (for --shard i/n runs).
import { writeFileSync } from "node:fs";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { DataError, loadDataset, take } from "../../harness/data/datasets.ts";
import { writeNpy } from "../../harness/data/npy.ts";
import { evaluateAttack, mergeRecords, type AttackRecord } from "../../harness/attacks/evaluate.ts";
import { ATTACKS } from "../../harness/attacks/index.ts";
import { evaluateParallel } from "../../harness/attacks/parallel.ts";
import { isWasm, progress, readInput, UsageError } from "../common.ts";

export interface AttackOpts {
  data: string; attack: string; eps: string; steps: string; stepSize?: string; restarts: string; queries: string;
  n: string; seed: string; batch: string; randomStart?: boolean; workers: string; json?: boolean; saveAdv?: string; shard?: string; output?: string;
}

export async function attackCommand(file: string, o: AttackOpts): Promise<AttackRecord> {
  const bytes = readInput(file);
  if (isWasm(bytes)) throw new UsageError(`${file}: attacks need the ONNX model (the replica is built from its plan); pass the .onnx file`);
  if (!ATTACKS[o.attack]) throw new UsageError(`unknown attack '${o.attack}' (${Object.keys(ATTACKS).join(", ")})`);
  const eps = Number(o.eps), steps = Number(o.steps);
  if (!(eps >= 0 && eps <= 1)) throw new UsageError(`--eps ${o.eps}: must be in [0, 1] (pixel units)`);
  const res = compile(bytes, { file });
  const bundle = await loadBundle(res.wasm);
  let data;
  try {
    data = loadDataset(o.data);
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(e.message);
    throw e;
  }
  let offset = 0, n = Math.min(Number(o.n), data.n);
  if (o.shard) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard);
    if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard ${o.shard}: expected i/n with 0 ≤ i < n`);
    const [i, k] = [Number(m[1]), Number(m[2])];
    const size = Math.ceil(n / k);
    offset = i * size;
    n = Math.max(0, Math.min(size, n - offset));
  }
  const subset = take(data, n, offset);
  const bar = progress(`${o.attack} ε=${eps}`, subset.n);
  const params = { eps, steps, stepSize: o.stepSize !== undefined ? Number(o.stepSize) : (2.5 * eps) / Math.max(1, steps), restarts: Number(o.restarts), queries: Number(o.queries), seed: Number(o.seed), randomStart: o.randomStart !== false };
  const workers = Number(o.workers);
  const { record, xadv } = workers > 1
    ? await evaluateParallel({ file, data: o.data, offset, n: subset.n, attack: o.attack, params, batch: Number(o.batch), workers, onProgress: (k) => bar.tick(k) })
    : await evaluateAttack({ model: file, bundle, wasm: res.wasm, plan: res.plan, data: subset, offset, attack: o.attack, batch: Number(o.batch), shard: o.shard, params, onProgress: (k) => bar.tick(k) });
  if (o.shard) record.shard = o.shard;
  bar.done();
  if (o.saveAdv) writeFileSync(o.saveAdv, writeNpy({ shape: [subset.n, ...subset.shape], data: xadv }));
  if (o.output) writeFileSync(o.output, JSON.stringify(record) + "\n");
  if (o.json) console.log(JSON.stringify(record));
  else {
    console.log(`${o.attack} ε=${eps} on ${record.n} ${record.dataset} images: natural ${(record.natural_acc * 100).toFixed(2)}%, adversarial ${(record.adversarial_acc * 100).toFixed(2)}% (${record.seconds.toFixed(1)} s)`);
    if (record.replica_agreement !== undefined) console.log(`replica agrees with the bundle on ${(record.replica_agreement * 100).toFixed(1)}% of clean inputs`);
    if (record.gradient) console.log(`input gradient L1: mean ${record.gradient.mean_l1.toExponential(2)}, zero on ${(record.gradient.zero_fraction * 100).toFixed(1)}% of samples${record.gradient.masking_suspected ? " — GRADIENT MASKING SUSPECTED" : ""}`);
  }
  return record;
}

export function mergeCommand(files: string[], o: { output?: string }): void {
  const recs = files.map((f) => JSON.parse(readInput(f).toString()) as AttackRecord);
  const m = mergeRecords(recs);
  const text = JSON.stringify(m) + "\n";
  if (o.output) writeFileSync(o.output, text);
  else process.stdout.write(text);
}
