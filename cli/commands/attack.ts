// CLI: `mbn attack <model.onnx> --data <dataset> --attack fgsm|pgd|square|apgd-ce|apgd-t|fab-t|autoattack --eps e …`
// (`--shard i/n` runs, autoattack included, are merged by `mbn merge`, merge.ts).
// Option values were checked while parsing (main.ts); output paths are checked before any work.
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { DataError, loadDataset, take, type Dataset } from "../../harness/data/datasets.ts";
import { writeNpy } from "../../harness/data/npy.ts";
import { evaluateAttack, type AttackRecord } from "../../harness/attacks/evaluate.ts";
import { evaluateParallel, shardRange, type ShardRecord } from "../../harness/attacks/parallel.ts";
import { describeApgd } from "../../harness/attacks/apgd.ts";
import { describeFab } from "../../harness/attacks/fab.ts";
import { AUTOATTACK_SQUARE_QUERIES, AUTOATTACK_STAGES, evaluateAutoAttack, type AutoAttackRecord } from "../../harness/attacks/autoattack.ts";
import { checkWritable, firstLine, isWasm, progress, readInput, UsageError, writeOutput } from "../common.ts";

export interface AttackOpts {
  data: string; attack: string; eps: number; steps?: number; stepSize?: number; restarts: number; queries?: number; targets?: number;
  n: number; seed: number; batch: number; randomStart?: boolean; workers: number; json?: boolean; saveAdv?: string; shard?: string; output?: string;
}

function openDataset(spec: string): Dataset {
  let data;
  try {
    data = loadDataset(spec);
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(e.message);
    throw new UsageError(`--data ${spec}: ${firstLine(e)}`);
  }
  if (data.n === 0) throw new UsageError(`--data ${spec}: the dataset holds no samples`);
  // the attacks clip to the [0, 1] pixel range: other inputs (0..255, normalised) would be changed silently
  let lo = Infinity, hi = -Infinity;
  for (const v of data.x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo >= 0 && hi <= 1))
    throw new UsageError(`--data ${spec}: input values span [${lo}, ${hi}], but attacks need pixels in [0, 1] (scale them, e.g. x / 255, and save as float32)`);
  return data;
}

export async function attackCommand(file: string, o: AttackOpts): Promise<AttackRecord> {
  checkWritable(o.output);
  checkWritable(o.saveAdv);
  const bytes = readInput(file);
  if (isWasm(bytes)) throw new UsageError(`${file}: attacks need the ONNX model (the replica is built from its plan); pass the .onnx file`);
  const data = openDataset(o.data);
  const runN = Math.min(o.n, data.n);
  let offset = 0, n = runN;
  if (o.shard) {
    const [i, k] = o.shard.split("/").map(Number);
    if (k > runN) throw new UsageError(`--shard ${o.shard}: ${k} shards of ${runN} sample(s) would leave some empty; split at most ${runN} ways`);
    ({ offset, n } = shardRange(runN, i, k));
  }
  const ensemble = o.attack === "autoattack";
  const apgd = ensemble || o.attack.startsWith("apgd") || o.attack === "fab-t";
  const steps = o.steps ?? (apgd ? 100 : 20);
  const queries = o.queries ?? (ensemble ? AUTOATTACK_SQUARE_QUERIES : 1000);
  const res = compile(bytes, { file });
  const want = res.plan.inputShape.slice(1);
  if (data.shape.join() !== want.join()) throw new UsageError(`--data ${o.data}: samples of shape [${data.shape}], but ${file} takes [${want}]`);
  const bundle = await loadBundle(res.wasm);
  const subset = take(data, n, offset);
  const eps = o.eps;
  const bar = progress(`${o.attack} ε=${eps}`, ensemble ? AUTOATTACK_STAGES.length * subset.n : subset.n);
  const params = { eps, steps, stepSize: o.stepSize ?? (2.5 * eps) / steps, restarts: o.restarts, queries, seed: o.seed, randomStart: o.randomStart !== false, targets: o.targets };
  let { record, xadv }: { record: AttackRecord; xadv: Float32Array } = ensemble
    ? await evaluateAutoAttack({
      model: file, bundle, wasm: res.wasm, plan: res.plan, data: subset, offset, params, batch: o.batch, onProgress: (k) => bar.tick(k),
      parallel: o.workers > 1 ? { file, dataSpec: o.data, workers: o.workers } : undefined,
    })
    : o.workers > 1
    ? await evaluateParallel({ file, data: o.data, offset, n: subset.n, attack: o.attack, params, batch: o.batch, workers: o.workers, onProgress: (k) => bar.tick(k) })
    : await evaluateAttack({ model: file, bundle, wasm: res.wasm, plan: res.plan, data: subset, offset, attack: o.attack, batch: o.batch, shard: o.shard, params, onProgress: (k) => bar.tick(k) });
  record = describeFab(describeApgd(record, o.attack, params, bundle.outputLength), o.attack, params, bundle.outputLength);
  if (o.shard) Object.assign(record as ShardRecord, { shard: o.shard, run_n: runN });
  // the record names the command that wrote it (with the sample size, date and machine it already holds)
  Object.assign(record, { command: `mbn ${process.argv.slice(2).join(" ")}` });
  bar.done();
  if (o.saveAdv) writeOutput(o.saveAdv, writeNpy({ shape: [subset.n, ...subset.shape], data: xadv }));
  if (o.output) writeOutput(o.output, JSON.stringify(record) + "\n");
  if (o.json) console.log(JSON.stringify(record));
  else {
    const what = o.shard ? `shard ${o.shard} (${subset.n} of ${runN} samples) of` : `${record.n}`;
    console.log(`${o.attack} ε=${eps} on ${what} ${record.dataset} images: natural ${(record.natural_acc * 100).toFixed(2)}%, adversarial ${(record.adversarial_acc * 100).toFixed(2)}% (${record.seconds.toFixed(1)} s)`);
    if (record.time_split) console.log(`compute time${o.workers > 1 ? ` (all ${o.workers} workers)` : ""}: replica passes ${record.time_split.replica_s.toFixed(1)} s, bundle forward passes ${record.time_split.bundle_s.toFixed(1)} s`);
    if (record.replica_agreement !== undefined) console.log(`replica agrees with the bundle on ${(record.replica_agreement * 100).toFixed(1)}% of clean inputs`);
    if (record.gradient) console.log(`input gradient L1: mean ${record.gradient.mean_l1.toExponential(2)}, zero on ${(record.gradient.zero_fraction * 100).toFixed(1)}% of samples${record.gradient.masking_suspected ? " — GRADIENT MASKING SUSPECTED" : ""}`);
    if (ensemble) {
      const r = record as AutoAttackRecord;
      for (const st of r.stages)
        console.log(`  ${st.attack.padEnd(11)} on ${String(st.attacked).padStart(5)} samples: robust ${(st.robust_acc * 100).toFixed(2)}% after it (${st.broken} broken, ${st.mean_queries.toFixed(1)} queries/sample, ${st.seconds.toFixed(1)} s` +
          `${st.replica_seconds !== undefined ? `; compute: replica ${st.replica_seconds.toFixed(1)} s, bundle ${st.bundle_seconds!.toFixed(1)} s` : ""})`);
      console.log(r.checks.reliable ? "reliability checks: none fired" : r.checks.warnings.map((w) => `WARNING: ${w}`).join("\n"));
    }
  }
  return record;
}
