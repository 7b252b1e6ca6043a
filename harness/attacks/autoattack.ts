// Harness: the AutoAttack ensemble (Croce & Hein 2020) on the deployed bundle — APGD-CE, then APGD-T,
// then Square (5,000 queries by default), each stage on the samples still robust after the previous
// ones, worst case per sample. Every stage is one ordinary evaluation of a registered attack
// (evaluate.ts in this thread, or parallel.ts over worker threads: a later stage's samples travel
// to the workers as a temporary npy dataset), so predictions come from the bundle and gradients from
// the replica exactly as for PGD. FAB-T, AutoAttack's fourth member, is not part of it.
//
// The record is an AttackRecord (attack "autoattack", adversarial_acc = the worst case) plus
//   stages[]:             per stage: samples attacked, robust accuracy after it (cumulative, of all n),
//                         samples it broke, mean queries, seconds, its gradient statistics
//   per_sample_broken_by: "" (robust), "natural" (misclassified clean), or the stage that broke it
//   checks:               AutoAttack-style reliability checks, each a value, a flag, and a sentence
//                         in `warnings` when it fires (zero gradients, replica/bundle disagreement,
//                         Square below the gradient attacks, randomness, probability outputs).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../data/datasets.ts";
import { writeNpy } from "../data/npy.ts";
import { describeApgd } from "./apgd.ts";
import { evaluateAttack, type AttackRecord, type EvaluateOptions } from "./evaluate.ts";
import { evaluateParallel } from "./parallel.ts";
import type { AttackParams } from "./types.ts";

export const AUTOATTACK_STAGES = ["apgd-ce", "apgd-t", "square"] as const;
/** Square's query budget inside the ensemble (AutoAttack's standard version). */
export const AUTOATTACK_SQUARE_QUERIES = 5000;
/** AutoAttack's check_square_sr: Square's robust accuracy below (1 − α)·the gradient attacks'. */
const SQUARE_ALPHA = 0.002;
/** Replica/bundle clean-prediction agreement below this is flagged (the gradients then aim at another model). */
const AGREEMENT_MIN = 0.99;

export interface StageSummary {
  attack: string;
  attacked: number; // samples this stage ran on (robust after the previous stages)
  robust_acc: number; // robust accuracy of all n samples after this stage (cumulative worst case)
  broken: number; // samples this stage broke
  mean_queries: number; // per attacked sample (gradient stages: bundle evaluations = iterations + start points)
  seconds: number;
  steps?: number;
  targets?: number;
  queries?: number;
  gradient?: AttackRecord["gradient"];
}

export interface AutoAttackChecks {
  zero_gradient_fraction: number | null; // share of per-sample input gradients that were exactly 0 (APGD-CE + APGD-T)
  vanishing_gradient: boolean; // median L1 of the gradients < 1e-8
  gradient_masking_suspected: boolean;
  replica_agreement: number | null; // clean argmax agreement of the replica with the bundle
  replica_disagrees: boolean; // agreement < 0.99
  gradient_robust_acc: number; // after APGD-CE and APGD-T
  square_robust_acc: number; // after Square as well (= the worst case)
  square_below_gradient: boolean; // Square broke samples the gradient attacks could not (AutoAttack's check_square_sr, α = 0.002)
  square_extra_broken: number;
  deterministic: boolean; // the bundle gives bit-identical logits twice (AutoAttack's check_randomized)
  outputs_are_probabilities: boolean; // rows in [0, 1] summing to 1: CE/DLR on probabilities weakens the gradient attacks (check_range)
  reliable: boolean; // no check fired
  warnings: string[];
}

export type AutoAttackRecord = AttackRecord & { stages: StageSummary[]; per_sample_broken_by: string[]; checks: AutoAttackChecks; targets?: number };

/** evaluateAttack's options without the attack (the stages choose it); params.steps: APGD iterations,
 * queries: Square's budget, restarts: APGD restarts, targets: APGD-T classes. */
export interface AutoAttackOptions extends Pick<EvaluateOptions, "model" | "bundle" | "wasm" | "plan" | "data" | "offset" | "params" | "batch"> {
  /** run every stage over worker threads (file: the ONNX model; dataSpec: what `data` was loaded from, offset/n into it) */
  parallel?: { file: string; dataSpec: string; workers: number };
  onProgress?: (done: number) => void;
  /** stage names, for tests (default: all three) */
  stages?: readonly string[];
}

function pick(d: Dataset, idx: number[]): Dataset {
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  const x = new Float32Array(idx.length * per);
  idx.forEach((i, k) => x.set(d.x.subarray(i * per, (i + 1) * per), k * per));
  return { ...d, n: idx.length, x, y: Int32Array.from(idx, (i) => d.y[i]) };
}

/** Gradient statistics of several stages as one (weights: gradients taken ≈ mean queries × samples). */
function combineGradients(stages: StageSummary[]): AttackRecord["gradient"] {
  const g = stages.filter((s) => s.gradient).map((s) => ({ s: s.gradient!, w: Math.max(1, Math.round(s.mean_queries * s.attacked)) }));
  if (!g.length) return undefined;
  const W = g.reduce((p, v) => p + v.w, 0);
  const zero = g.reduce((p, v) => p + v.s.zero_fraction * v.w, 0) / W;
  const meds = g.map((v) => [v.s.median_l1, v.w] as const).sort((a, b) => a[0] - b[0]);
  let acc = 0, median = meds[meds.length - 1][0];
  for (const [m, w] of meds) if ((acc += w) >= W / 2) {
    median = m;
    break;
  }
  return {
    mean_l1: g.reduce((p, v) => p + v.s.mean_l1 * v.w, 0) / W, median_l1: median, zero_fraction: zero,
    masking_suspected: zero > 0.2 || median < 1e-8 || g.some((v) => v.s.masking_suspected),
  };
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
    for (const [s, attack] of stageNames.entries()) {
      const ts = performance.now();
      const idx = s === 0 ? Array.from({ length: n }, (_, i) => i) : robustIdx;
      const stageParams: AttackParams = { ...params, randomStart: true, queries: attack === "square" ? params.queries : 0 };
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
        stages.push({ attack, attacked: 0, robust_acc: 0, broken: 0, mean_queries: 0, seconds: 0 });
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
          brokenBy[i] = attack;
          broken++;
          xadv.set(adv.subarray(k * per, (k + 1) * per), i * per);
        }
      });
      robustIdx = still;
      const described = describeApgd(rec, attack, stageParams, classes);
      stages.push({
        attack, attacked: Math.round(rec.natural_acc * rec.n), robust_acc: still.length / n, broken, mean_queries: rec.mean_queries,
        seconds: (performance.now() - ts) / 1000,
        ...(attack.startsWith("apgd") ? { steps: params.steps } : {}), ...(described.targets !== undefined ? { targets: described.targets } : {}),
        ...(attack === "square" ? { queries: params.queries } : {}), ...(rec.gradient ? { gradient: rec.gradient } : {}),
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
  const gradient = combineGradients(stages.filter((s) => s.attack !== "square"));
  const adversarialAcc = robust.reduce((a, b) => a + b, 0) / Math.max(1, n);
  // reliability checks
  const gradAcc = stages.filter((s) => s.attack !== "square").at(-1)?.robust_acc ?? first.natural_acc;
  const sq = stages.find((s) => s.attack === "square");
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
  const warnings: string[] = [];
  const zeroFrac = gradient ? gradient.zero_fraction : null;
  const vanishing = gradient ? gradient.median_l1 < 1e-8 : false;
  if (zeroFrac !== null && zeroFrac > 0) warnings.push(`${(zeroFrac * 100).toFixed(1)} % of the input gradients were exactly zero: the gradient attacks could not move those samples (masking).`);
  if (vanishing) warnings.push("the median input gradient vanishes (L1 < 1e-8): gradient attacks are unreliable on this model.");
  const agreement = first.replica_agreement ?? null;
  if (agreement !== null && agreement < AGREEMENT_MIN) warnings.push(`the replica agrees with the bundle on only ${(agreement * 100).toFixed(1)} % of clean inputs: gradients aim at a different model.`);
  const squareBelow = !!sq && sq.attacked > 0 && adversarialAcc < gradAcc * (1 - SQUARE_ALPHA);
  if (squareBelow) warnings.push(`Square broke ${sq!.broken} sample(s) that APGD-CE and APGD-T could not (robust ${(gradAcc * 100).toFixed(2)} % → ${(adversarialAcc * 100).toFixed(2)} %): a sign of gradient masking; the gradient attacks alone overestimate robustness.`);
  if (!deterministic) warnings.push("the bundle's logits differ between two runs on the same inputs: the model is randomised, use EOT.");
  if (probs) warnings.push("the outputs are probabilities (rows in [0, 1] summing to 1): CE and DLR on probabilities weaken the gradient attacks; attack the logits.");
  const checks: AutoAttackChecks = {
    zero_gradient_fraction: zeroFrac, vanishing_gradient: vanishing, gradient_masking_suspected: gradient?.masking_suspected ?? false,
    replica_agreement: agreement, replica_disagrees: agreement !== null && agreement < AGREEMENT_MIN,
    gradient_robust_acc: gradAcc, square_robust_acc: adversarialAcc, square_below_gradient: squareBelow, square_extra_broken: sq?.broken ?? 0,
    deterministic, outputs_are_probabilities: probs, reliable: warnings.length === 0, warnings,
  };
  const apgdT = stages.find((s) => s.attack === "apgd-t");
  const record: AutoAttackRecord = {
    ...first, attack: "autoattack", steps: params.steps, step_size: 2 * params.eps, restarts: Math.max(1, params.restarts), random_start: true,
    queries: sq ? params.queries : 0, mean_queries: totalQueries / Math.max(1, attacked),
    natural_acc: attacked / Math.max(1, n), adversarial_acc: adversarialAcc, per_sample_success: success, per_sample_robust: robust,
    gradient, seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(),
    ...(apgdT?.targets !== undefined ? { targets: apgdT.targets } : {}),
    stages, per_sample_broken_by: brokenBy, checks,
  };
  delete (record as Partial<AttackRecord>).shard;
  return { record, xadv };
}
