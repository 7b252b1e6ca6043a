// Harness: the AutoAttack ensemble (Croce & Hein 2020) on the deployed bundle — APGD-CE, then APGD-T,
// then FAB-T, then Square (5,000 queries by default), the published order — plus two stages that replay
// mbn's standalone attacks, PGD-20 (after the gradient stages) and Square-1000 (last). Each stage runs on
// the samples still robust after the previous ones, worst case per sample.
// Why the two extra stages: every attack draws a sample's randomness from that sample's own stream
// (apgd.ts sampleRng), so a stage repeats, on each survivor, exactly the run the standalone attack makes
// on it; hence a sample robust under the ensemble is robust under PGD-20 and under Square-1000 alone by
// construction. Without them it need not be: Square-5000 halves its square size at fixed fractions of its
// budget, so it does not retrace Square-1000, and AutoAttack runs no PGD (the zoo MBN1x1 at ε = 0.05:
// 8 of 1,000 images survived the four published stages but not PGD-20 or Square-1000).
// Every stage is one ordinary evaluation of a registered attack
// (evaluate.ts in this thread, or parallel.ts over worker threads: a later stage's samples travel
// to the workers as a temporary npy dataset), so predictions come from the bundle and gradients from
// the replica exactly as for PGD.
//
// The record is an AttackRecord (attack "autoattack", adversarial_acc = the worst case) plus
//   stages[]:             per stage: samples attacked, robust accuracy after it (cumulative, of all n),
//                         samples it broke, mean queries, seconds, its gradient statistics
//   per_sample_broken_by: "" (robust), "natural" (misclassified clean), or the stage that broke it
//   checks:               AutoAttack-style reliability checks (checks.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../data/datasets.ts";
import { writeNpy } from "../data/npy.ts";
import { describeApgd } from "./apgd.ts";
import { combineGradients, gradientFree, reliabilityChecks, type AutoAttackRecord, type StageSummary } from "./checks.ts";
import { describeFab } from "./fab.ts";
import { evaluateAttack, type AttackRecord, type EvaluateOptions } from "./evaluate.ts";
import { evaluateParallel } from "./parallel.ts";
import type { AttackParams } from "./types.ts";

export const AUTOATTACK_STAGES = ["apgd-ce", "apgd-t", "fab-t", "pgd-20", "square", "square-1000"] as const;
/** The published AutoAttack (standard version) alone, without the replay stages. */
export const AUTOATTACK_PUBLISHED_STAGES = ["apgd-ce", "apgd-t", "fab-t", "square"] as const;
/** Square's query budget inside the ensemble (AutoAttack's standard version). */
export const AUTOATTACK_SQUARE_QUERIES = 5000;

/**
 * The registered attack a stage runs and its parameters. "pgd-20" and "square-1000" replay the
 * standalone defaults of `mbn attack --attack pgd` (20 steps of 2.5·ε/20, one random start) and
 * `--attack square` (1,000 queries) with the run's seed; the other stages take the run's parameters
 * (APGD/FAB iterations, restarts, targets; "square": the run's query budget).
 */
export function stageAttack(stage: string, params: AttackParams): { attack: string; params: AttackParams } {
  const base: AttackParams = { ...params, randomStart: true, queries: 0 };
  switch (stage) {
    case "pgd-20": return { attack: "pgd", params: { ...base, steps: 20, stepSize: (2.5 * params.eps) / 20, restarts: 1 } };
    case "square-1000": return { attack: "square", params: { ...base, queries: 1000 } };
    case "square": return { attack: "square", params: { ...base, queries: params.queries } };
    default: return { attack: stage, params: base };
  }
}
export type { AutoAttackChecks, AutoAttackRecord, StageSummary } from "./checks.ts";

/** evaluateAttack's options without the attack (the stages choose it); params.steps: APGD iterations,
 * queries: Square's budget, restarts: APGD restarts, targets: APGD-T classes. */
export interface AutoAttackOptions extends Pick<EvaluateOptions, "model" | "bundle" | "wasm" | "plan" | "data" | "offset" | "params" | "batch"> {
  /** run every stage over worker threads (file: the ONNX model; dataSpec: what `data` was loaded from, offset/n into it) */
  parallel?: { file: string; dataSpec: string; workers: number };
  onProgress?: (done: number) => void;
  /** stage names (default AUTOATTACK_STAGES; AUTOATTACK_PUBLISHED_STAGES: the published four) */
  stages?: readonly string[];
}

function pick(d: Dataset, idx: number[]): Dataset {
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  const x = new Float32Array(idx.length * per);
  idx.forEach((i, k) => x.set(d.x.subarray(i * per, (i + 1) * per), k * per));
  return { ...d, n: idx.length, x, y: Int32Array.from(idx, (i) => d.y[i]) };
}

export async function evaluateAutoAttack(o: AutoAttackOptions): Promise<{ record: AutoAttackRecord; xadv: Float32Array }> {
  const t0 = performance.now();
  const { data, params, bundle } = o;
  const n = data.n, per = bundle.inputLength, classes = bundle.outputLength;
  const stageNames = o.stages ?? AUTOATTACK_STAGES;
  const xadv = data.x.slice();
  const brokenBy: string[] = new Array(n).fill("");
  let robustIdx: number[] = [];
  let first: AttackRecord | undefined;
  const stages: StageSummary[] = [];
  let ticked = 0;
  const tmp = o.parallel ? mkdtempSync(join(tmpdir(), "mbn-autoattack-")) : undefined;
  try {
    for (const [s, stage] of stageNames.entries()) {
      const ts = performance.now();
      const idx = s === 0 ? Array.from({ length: n }, (_, i) => i) : robustIdx;
      const { attack, params: stageParams } = stageAttack(stage, params);
      let rec: AttackRecord, adv: Float32Array;
      // the bar counts n per stage: a stage attacks only the samples still robust, the rest is ticked at its end
      const tick = (k: number) => {
        ticked += k;
        o.onProgress?.(k);
      };
      const endStage = () => {
        o.onProgress?.(Math.max(0, (s + 1) * n - ticked));
        ticked = (s + 1) * n;
      };
      if (!idx.length) {
        stages.push({ attack: stage, attacked: 0, robust_acc: 0, broken: 0, mean_queries: 0, seconds: 0 });
        endStage();
        continue;
      }
      if (o.parallel && o.parallel.workers > 1) {
        let dataSpec = o.parallel.dataSpec, offset = o.offset ?? 0;
        if (s > 0) {
          const sub = pick(data, idx);
          const fx = join(tmp!, `x${s}.npy`), fy = join(tmp!, `y${s}.npy`);
          writeFileSync(fx, writeNpy({ shape: [sub.n, ...sub.shape], data: sub.x }));
          writeFileSync(fy, writeNpy({ shape: [sub.n], data: Float32Array.from(sub.y) }));
          dataSpec = `npy:${fx},${fy}`;
          offset = 0;
        }
        ({ record: rec, xadv: adv } = await evaluateParallel({ file: o.parallel.file, data: dataSpec, offset, n: idx.length, attack, params: stageParams, batch: o.batch, workers: o.parallel.workers, onProgress: tick }));
      } else {
        const sub = s === 0 ? data : pick(data, idx);
        ({ record: rec, xadv: adv } = await evaluateAttack({ model: o.model, bundle, wasm: o.wasm, plan: o.plan, data: sub, offset: o.offset, attack, params: stageParams, batch: o.batch, onProgress: tick }));
      }
      endStage();
      if (s === 0) {
        first = rec;
        rec.per_sample_robust.forEach((r, i) => {
          if (!r && !rec.per_sample_success[i]) brokenBy[i] = "natural";
        });
      }
      const still: number[] = [];
      let broken = 0;
      idx.forEach((i, k) => {
        if (rec.per_sample_robust[k]) still.push(i);
        else if (brokenBy[i] === "") {
          brokenBy[i] = stage;
          broken++;
          xadv.set(adv.subarray(k * per, (k + 1) * per), i * per);
        }
      });
      robustIdx = still;
      const described = describeFab(describeApgd(rec, attack, stageParams, classes), attack, stageParams, classes);
      stages.push({
        attack: stage, attacked: Math.round(rec.natural_acc * rec.n), robust_acc: still.length / n, broken, mean_queries: rec.mean_queries,
        seconds: (performance.now() - ts) / 1000,
        ...(rec.time_split ? { replica_seconds: rec.time_split.replica_s, bundle_seconds: rec.time_split.bundle_s } : {}),
        ...(attack !== "square" ? { steps: stageParams.steps } : {}), ...(described.targets !== undefined ? { targets: described.targets } : {}),
        ...(attack === "square" ? { queries: stageParams.queries } : {}), ...(rec.gradient ? { gradient: rec.gradient } : {}),
      });
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  if (!first) throw new Error("autoattack: no stage ran");
  // the saved inputs are re-checked on the bundle: this is the reported worst-case accuracy
  const final = bundle.run(xadv);
  const robust: number[] = Array.from({ length: n }, (_, i) => {
    let arg = 0;
    for (let j = 1; j < classes; j++) if (final[i * classes + j] > final[i * classes + arg]) arg = j;
    return arg === data.y[i] ? 1 : 0;
  });
  const correct: number[] = first.per_sample_robust.map((r, i) => (r || first!.per_sample_success[i] ? 1 : 0));
  const success: number[] = correct.map((c, i) => (c && !robust[i] ? 1 : 0));
  const attacked = correct.reduce((a, b) => a + b, 0);
  const totalQueries = stages.reduce((p, s) => p + s.mean_queries * s.attacked, 0);
  const gradient = combineGradients(stages.filter((s) => !gradientFree(s.attack)));
  const adversarialAcc = robust.reduce((a, b) => a + b, 0) / Math.max(1, n);
  // reliability checks
  const clean = data.x;
  const l1 = bundle.run(clean), l2 = bundle.run(clean);
  const deterministic = l1.every((v, i) => Object.is(v, l2[i]));
  let probs = true;
  for (let i = 0; i < n && probs; i++) {
    let s = 0;
    for (let j = 0; j < classes; j++) {
      const v = l1[i * classes + j];
      if (!(v >= 0 && v <= 1)) probs = false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) probs = false;
  }
  const sq = stages.find((s) => s.attack === "square");
  const checks = reliabilityChecks({ stages, gradient, agreement: first.replica_agreement ?? null, adversarialAcc, naturalAcc: first.natural_acc, deterministic, probabilities: probs });
  const apgdT = stages.find((s) => s.attack === "apgd-t");
  const record: AutoAttackRecord = {
    ...first, attack: "autoattack", steps: params.steps, step_size: 2 * params.eps, restarts: Math.max(1, params.restarts), random_start: true,
    queries: sq ? params.queries : 0, mean_queries: totalQueries / Math.max(1, attacked),
    natural_acc: attacked / Math.max(1, n), adversarial_acc: adversarialAcc, per_sample_success: success, per_sample_robust: robust,
    gradient, seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(),
    time_split: { replica_s: stages.reduce((p, s) => p + (s.replica_seconds ?? 0), 0), bundle_s: stages.reduce((p, s) => p + (s.bundle_seconds ?? 0), 0) },
    ...(apgdT?.targets !== undefined ? { targets: apgdT.targets } : {}),
    stages, per_sample_broken_by: brokenBy, checks,
  };
  delete (record as Partial<AttackRecord>).shard;
  return { record, xadv };
}
