// Harness: the AutoAttack record's parts that a whole run and a merge of its shards compute alike —
// the stage summary and record types, the gradient statistics of several stages as one, and the
// reliability checks (AutoAttack's spirit: zero/vanishing gradients, replica/bundle disagreement,
// Square below the gradient attacks, randomness, probability outputs), each a value, a flag and a
// sentence in `warnings` when it fires.
import type { AttackRecord } from "./evaluate.ts";

/** Square's robust accuracy below (1 − α)·the gradient attacks' (AutoAttack's check_square_sr). */
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
  /** of `seconds`: in the replica's passes, in the bundle's forward passes (the rest: the attack's own work, workers' start-up) */
  replica_seconds?: number;
  bundle_seconds?: number;
  steps?: number;
  targets?: number;
  queries?: number;
  gradient?: AttackRecord["gradient"];
}

export interface AutoAttackChecks {
  zero_gradient_fraction: number | null; // share of per-sample input gradients that were exactly 0 (gradient stages)
  vanishing_gradient: boolean; // median L1 of the gradients < 1e-8
  gradient_masking_suspected: boolean;
  replica_agreement: number | null; // clean argmax agreement of the replica with the bundle
  replica_disagrees: boolean; // agreement < 0.99
  gradient_robust_acc: number; // after the gradient stages (APGD-CE, APGD-T, FAB-T, PGD-20)
  square_robust_acc: number; // after the Square stages as well (= the worst case)
  square_below_gradient: boolean; // Square broke samples the gradient attacks could not (AutoAttack's check_square_sr, α = 0.002)
  square_extra_broken: number;
  deterministic: boolean; // the bundle gives bit-identical logits twice (AutoAttack's check_randomized)
  outputs_are_probabilities: boolean; // rows in [0, 1] summing to 1: CE/DLR on probabilities weakens the gradient attacks (check_range)
  reliable: boolean; // no check fired
  warnings: string[];
}

export type AutoAttackRecord = AttackRecord & { stages: StageSummary[]; per_sample_broken_by: string[]; checks: AutoAttackChecks; targets?: number };

/** Whether an ensemble stage is gradient-free (Square at any budget: "square", "square-1000"). */
export function gradientFree(stage: string): boolean {
  return stage === "square" || stage.startsWith("square-");
}

/** Gradient statistics of several stages as one (weights: gradients taken ≈ mean queries × samples). */
export function combineGradients(stages: StageSummary[]): AttackRecord["gradient"] {
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

/**
 * The checks of one ensemble record from its stages, combined gradient statistics, replica
 * agreement, worst-case accuracy and the two bundle checks. `naturalAcc` stands in for the gradient
 * attacks' accuracy when no gradient stage ran.
 */
export function reliabilityChecks(o: {
  stages: StageSummary[]; gradient: AttackRecord["gradient"]; agreement: number | null; adversarialAcc: number; naturalAcc: number;
  deterministic: boolean; probabilities: boolean;
}): AutoAttackChecks {
  const { stages, gradient, agreement, adversarialAcc } = o;
  // the gradient stages run first: the robust accuracy after the last of them is theirs
  const gradAcc = stages.filter((s) => !gradientFree(s.attack)).at(-1)?.robust_acc ?? o.naturalAcc;
  const sqStages = stages.filter((s) => gradientFree(s.attack));
  const sqBroken = sqStages.reduce((p, s) => p + s.broken, 0);
  const gradNames = stages.filter((s) => !gradientFree(s.attack)).map((s) => s.attack.toUpperCase()).join(", ");
  const warnings: string[] = [];
  const zeroFrac = gradient ? gradient.zero_fraction : null;
  const vanishing = gradient ? gradient.median_l1 < 1e-8 : false;
  if (zeroFrac !== null && zeroFrac > 0) warnings.push(`${(zeroFrac * 100).toFixed(1)} % of the input gradients were exactly zero: the gradient attacks could not move those samples (masking).`);
  if (vanishing) warnings.push("the median input gradient vanishes (L1 < 1e-8): gradient attacks are unreliable on this model.");
  if (agreement !== null && agreement < AGREEMENT_MIN) warnings.push(`the replica agrees with the bundle on only ${(agreement * 100).toFixed(1)} % of clean inputs: gradients aim at a different model.`);
  const squareBelow = sqStages.some((s) => s.attacked > 0) && adversarialAcc < gradAcc * (1 - SQUARE_ALPHA);
  if (squareBelow) warnings.push(`Square broke ${sqBroken} sample(s) that ${gradNames} could not (robust ${(gradAcc * 100).toFixed(2)} % → ${(adversarialAcc * 100).toFixed(2)} %): a sign of gradient masking; the gradient attacks alone overestimate robustness.`);
  if (!o.deterministic) warnings.push("the bundle's logits differ between two runs on the same inputs: the model is randomised, use EOT.");
  if (o.probabilities) warnings.push("the outputs are probabilities (rows in [0, 1] summing to 1): CE and DLR on probabilities weaken the gradient attacks; attack the logits.");
  return {
    zero_gradient_fraction: zeroFrac, vanishing_gradient: vanishing, gradient_masking_suspected: gradient?.masking_suspected ?? false,
    replica_agreement: agreement, replica_disagrees: agreement !== null && agreement < AGREEMENT_MIN,
    gradient_robust_acc: gradAcc, square_robust_acc: adversarialAcc, square_below_gradient: squareBelow, square_extra_broken: sqBroken,
    deterministic: o.deterministic, outputs_are_probabilities: o.probabilities, reliable: warnings.length === 0, warnings,
  };
}
