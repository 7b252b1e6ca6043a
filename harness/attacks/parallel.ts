// Harness: run an attack evaluation split over N worker threads (one shard each, contiguous slices
// in dataset order) and merge the shard records — the same result as one process with the same seed
// per shard (and the same as `mbn attack --shard i/N` runs merged by `mbn merge`; autoattack shards
// merge their stages as well: merge_autoattack.ts). Workers load
// TypeScript through tsx's ESM loader (worker_boot.mjs).
import { Worker } from "node:worker_threads";
import type { AttackParams } from "./types.ts";
import type { AttackRecord } from "./evaluate.ts";
import { joinFingerprints } from "./fingerprint.ts";
import type { AutoAttackRecord } from "./checks.ts";
import { mergeEnsemble, notAnEnsembleShard, stageMismatch } from "./merge_autoattack.ts";

/** Shards that are not the parts of one run: one line saying which file and why. */
export class MergeError extends Error {}

/** Shard i of k over `total` samples: samples [offset, offset + n), balanced contiguous slices (never empty when k ≤ total). */
export function shardRange(total: number, i: number, k: number): { offset: number; n: number } {
  const a = Math.floor((i * total) / k), b = Math.floor(((i + 1) * total) / k);
  return { offset: a, n: b - a };
}

/** A shard record: `shard` "i/k"; `run_n` the samples of the whole run (absent in records of older versions); `targets` (APGD-T, FAB-T, autoattack). */
export type ShardRecord = AttackRecord & { run_n?: number; targets?: number };

/**
 * Today's bundle of the shards' model, for shards measured by different bundles (a runtime rebuilt
 * between two sessions of one long run): sameFunction(r) holds when it reproduces r's fingerprint on
 * r's images and ε (harness/attacks/fingerprint.ts), so r's figures are today's bundle's too.
 */
export interface TodaysBundle { sha256: string; sameFunction: (r: ShardRecord) => boolean }

/** What identifies one run: shards that differ in any of these are parts of different evaluations. */
const RUN_FIELDS = ["model", "dataset", "attack", "norm", "eps", "steps", "step_size", "restarts", "random_start", "queries", "targets", "seed", "bundle_sha256", "run_n"] as const;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isFrac = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 1;
const bits = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every((v) => v === 0 || v === 1);

/** Why `r` is not a usable shard record (undefined if it is one). */
function notAShard(r: ShardRecord): string | undefined {
  if (typeof r !== "object" || r === null || Array.isArray(r)) return "not an attack record (not a JSON object)";
  if (typeof r.attack !== "string" || !("per_sample_robust" in r)) return "not an attack record (no attack / per_sample_robust fields)";
  if (r.shard === undefined) return "not a shard record (no 'shard' field: it was not made with mbn attack --shard i/n)";
  const m = /^(\d+)\/(\d+)$/.exec(String(r.shard));
  if (!m || Number(m[1]) >= Number(m[2])) return `bad 'shard' field '${r.shard}' (expected i/n with 0 ≤ i < n)`;
  if (!isInt(r.n) || !isInt(r.offset)) return "bad 'n' or 'offset' field (non-negative integers expected)";
  if (!bits(r.per_sample_robust, r.n) || !bits(r.per_sample_success, r.n)) return `per_sample_robust / per_sample_success do not hold ${r.n} values of 0 or 1`;
  if (!isFrac(r.natural_acc) || !isFrac(r.adversarial_acc)) return "bad natural_acc / adversarial_acc (fractions in [0, 1] expected)";
  if (typeof r.mean_queries !== "number" || typeof r.seconds !== "number") return "bad mean_queries / seconds fields";
  if (r.run_n !== undefined && !isInt(r.run_n)) return "bad 'run_n' field";
  if (r.attack === "autoattack") return notAnEnsembleShard(r as ShardRecord & AutoAttackRecord);
  return undefined;
}

const show = (v: unknown) => (typeof v === "string" && v.length > 20 ? `${v.slice(0, 12)}…` : JSON.stringify(v));
const range = (offset: number, n: number) => (n ? `samples ${offset}–${offset + n - 1}` : "no samples");

/**
 * Merges the shard records of one evaluation into the record of the whole run. Refuses (MergeError)
 * anything that would make the merged record lie: a record that is not a shard, shards of different
 * runs (model, bundle, dataset, attack, ε, steps, step size, restarts, random start, queries, seed,
 * samples in the run, shard count), a shard given twice, a missing shard, slices that do not tile.
 * Accuracies are recounted from the samples; mean queries are weighted by the attacked (naturally
 * correct) samples, replica agreement by the samples, gradient statistics by the gradients taken.
 */
export function mergeShards(shards: { record: ShardRecord; source: string }[], today?: TodaysBundle): AttackRecord {
  if (!shards.length) throw new MergeError("nothing to merge");
  for (const s of shards) {
    const why = notAShard(s.record);
    if (why) throw new MergeError(`${s.source}: ${why}`);
  }
  const parse = (r: ShardRecord) => String(r.shard).split("/").map(Number) as [number, number];
  const first = shards[0];
  const [, k] = parse(first.record);
  const byIndex = new Map<number, { record: ShardRecord; source: string }>();
  for (const s of shards) {
    const [i, ki] = parse(s.record);
    if (ki !== k) throw new MergeError(`${s.source}: shard ${s.record.shard} of a run split ${ki} ways, but ${first.source} is shard ${first.record.shard} of ${k}: shards of different runs`);
    // with today's bundle at hand, shards measured by other bundles count when it reproduces their fingerprints
    const diff = RUN_FIELDS.filter((f) => !(today && f === "bundle_sha256") && JSON.stringify(s.record[f]) !== JSON.stringify(first.record[f]));
    if (today && s.record.bundle_sha256 !== today.sha256 && !(s.record.fingerprint && today.sameFunction(s.record)))
      throw new MergeError(`${s.source}: measured by bundle ${show(s.record.bundle_sha256)}, and today's bundle of ${s.record.model} (${show(today.sha256)}) ${s.record.fingerprint ? "computes other logits on its images" : "cannot be checked against it (the record has no fingerprint)"}: a shard of another model`);
    if (diff.length) throw new MergeError(`${s.source}: not the same run as ${first.source} (${diff.map((f) => `${f} ${show(s.record[f])} vs ${show(first.record[f])}`).join(", ")})`);
    const stagesDiffer = s.record.attack === "autoattack" ? stageMismatch(s.record as ShardRecord & AutoAttackRecord, first.record as ShardRecord & AutoAttackRecord) : undefined;
    if (stagesDiffer) throw new MergeError(`${s.source}: not the same run as ${first.source} (${stagesDiffer})`);
    const dup = byIndex.get(i);
    if (dup) throw new MergeError(`${s.source}: shard ${i}/${k} given twice${dup.source === s.source ? "" : ` (also ${dup.source})`}: a merged record would count its samples twice`);
    byIndex.set(i, s);
  }
  const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const list = missing.slice(0, 8).map((i) => `${i}/${k}`).join(", ") + (missing.length > 8 ? `, … (${missing.length} in all)` : "");
    throw new MergeError(`missing shard${missing.length > 1 ? "s" : ""} ${list}: a run split ${k} ways needs all ${k} shard records`);
  }
  const sorted = Array.from({ length: k }, (_, i) => byIndex.get(i)!);
  const n = sorted.reduce((p, s) => p + s.record.n, 0);
  const base = sorted[0].record.offset;
  const runN = first.record.run_n;
  if (runN !== undefined && runN !== n) throw new MergeError(`the ${k} shards hold ${n} samples, but their run had ${runN}: records of different runs`);
  for (let i = 0; i < k; i++) {
    const { record: r, source } = sorted[i];
    if (runN !== undefined) {
      const want = shardRange(n, i, k);
      if (r.offset !== base + want.offset || r.n !== want.n)
        throw new MergeError(`${source}: shard ${i}/${k} holds ${range(r.offset, r.n)}, but shard ${i} of ${k} over ${n} samples is ${range(base + want.offset, want.n)}`);
    } else if (i > 0) {
      const prev = sorted[i - 1].record;
      if (r.offset !== prev.offset + prev.n)
        throw new MergeError(`${source}: shard ${i}/${k} starts at sample ${r.offset}, but shard ${i - 1}/${k} (${sorted[i - 1].source}) ends at ${prev.offset + prev.n - 1}: the shards do not tile one run`);
    }
  }
  const rs = sorted.map((s) => s.record);
  const count = (f: (r: ShardRecord) => number, w: (r: ShardRecord) => number) => rs.reduce((p, r) => p + f(r) * w(r), 0);
  const correct = (r: ShardRecord) => Math.round(r.natural_acc * r.n); // the samples the attack ran on
  const attacked = rs.reduce((p, r) => p + correct(r), 0);
  const robust = rs.reduce((p, r) => p + r.per_sample_robust.reduce((a: number, b: number) => a + b, 0), 0);
  // every mean_queries step of fgsm/pgd took one gradient of one sample: gradients per shard = queries spent
  const gradients = (r: ShardRecord) => Math.round(r.mean_queries * correct(r));
  const withGrad = rs.filter((r) => r.gradient && gradients(r) > 0);
  let gradient: AttackRecord["gradient"];
  if (withGrad.length) {
    const g = withGrad.reduce((p, r) => p + gradients(r), 0);
    const mean = (f: (r: ShardRecord) => number) => withGrad.reduce((p, r) => p + f(r) * gradients(r), 0) / g;
    // the median over all gradients is not in the shard records: the gradient-weighted median of the shard medians
    const meds = withGrad.map((r) => [r.gradient!.median_l1, gradients(r)] as const).sort((a, b) => a[0] - b[0]);
    let acc = 0, median = meds[meds.length - 1][0];
    for (const [m, w] of meds) if ((acc += w) >= g / 2) {
      median = m;
      break;
    }
    const zero = mean((r) => r.gradient!.zero_fraction);
    const merged = {
      mean_l1: mean((r) => r.gradient!.mean_l1), median_l1: median, zero_fraction: zero,
      masking_suspected: zero > 0.2 || median < 1e-8 || withGrad.some((r) => r.gradient!.masking_suspected),
      ...(withGrad.length > 1 ? { median_of_shard_medians: true } : {}),
    };
    gradient = merged;
  }
  const machines = [...new Set(rs.map((r) => r.machine))];
  const out: ShardRecord = {
    ...rs[0], n, offset: base,
    natural_acc: attacked / Math.max(1, n), adversarial_acc: robust / Math.max(1, n),
    mean_queries: attacked ? count((r) => r.mean_queries, correct) / attacked : 0,
    per_sample_success: rs.flatMap((r) => r.per_sample_success), per_sample_robust: rs.flatMap((r) => r.per_sample_robust),
    fingerprint: joinFingerprints(rs.map((r) => r.fingerprint)),
    replica_agreement: rs.every((r) => typeof r.replica_agreement === "number") ? count((r) => r.replica_agreement!, (r) => r.n) / Math.max(1, n) : undefined,
    gradient,
    seconds: rs.reduce((p, r) => p + r.seconds, 0), // compute time of all shards together
    time_split: rs.every((r) => r.time_split) ? { replica_s: rs.reduce((p, r) => p + r.time_split!.replica_s, 0), bundle_s: rs.reduce((p, r) => p + r.time_split!.bundle_s, 0) } : undefined,
    machine: machines.join(" + "), date: new Date().toISOString(),
  };
  const bundles = [...new Set(rs.map((r) => r.bundle_sha256))];
  if (today && bundles.length > 1) Object.assign(out, { bundle_sha256: today.sha256, shard_bundles: bundles });
  if (out.attack === "autoattack") Object.assign(out, mergeEnsemble(rs as (ShardRecord & AutoAttackRecord)[], out));
  delete out.shard;
  delete out.run_n;
  return out;
}

export async function evaluateParallel(o: {
  file: string; data: string; offset: number; n: number; attack: string; params: AttackParams; batch: number; workers: number; onProgress?: (k: number) => void;
}): Promise<{ record: AttackRecord; xadv: Float32Array }> {
  const t0 = performance.now();
  const k = Math.max(1, Math.min(o.workers, o.n));
  const jobs = Array.from({ length: k }, (_, i) => ({ ...shardRange(o.n, i, k), shard: `${i}/${k}` })).filter((j) => j.n > 0);
  const parts = await Promise.all(jobs.map((j) => new Promise<{ record: AttackRecord; xadv: Float32Array }>((resolve, reject) => {
    const w = new Worker(new URL("./worker_boot.mjs", import.meta.url), {
      workerData: { file: o.file, data: o.data, offset: o.offset + j.offset, n: j.n, attack: o.attack, params: o.params, batch: o.batch, shard: j.shard },
    });
    w.on("message", (m) => (m.progress !== undefined ? o.onProgress?.(m.progress) : resolve({ record: m.record, xadv: new Float32Array(m.xadv.buffer ?? m.xadv) })));
    w.on("error", reject);
    w.on("exit", (code) => code !== 0 && reject(new Error(`attack worker ${j.shard} exited with code ${code}`)));
  })));
  const record = mergeShards(parts.map((p, i) => ({ record: { ...p.record, run_n: o.n }, source: `worker ${jobs[i].shard}` })));
  record.seconds = (performance.now() - t0) / 1000; // wall-clock time of the parallel run
  const total = parts.reduce((s, p) => s + p.xadv.length, 0);
  const xadv = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    xadv.set(p.xadv, at);
    at += p.xadv.length;
  }
  return { record, xadv };
}
