// Harness: the ensemble-specific part of merging the shard records of one `mbn attack --attack
// autoattack --shard i/n` run (parallel.ts merges what every attack record has): per stage, the
// samples attacked and broken and the seconds add up, the cumulative robust accuracy is recounted
// over all n samples, mean queries are weighted by the samples attacked, gradient statistics by the
// gradients taken; per-sample "broken by" lists are concatenated; the reliability checks are computed
// anew from the merged stages (checks.ts), with the bundle checks (determinism, probabilities) of
// every shard.
import { combineGradients, gradientFree, reliabilityChecks, type AutoAttackRecord, type StageSummary } from "./checks.ts";
import type { AttackRecord } from "./evaluate.ts";

const BROKEN = new Set(["", "natural"]);

/** Why `r` (attack "autoattack") is not a usable ensemble shard (undefined if it is one). */
export function notAnEnsembleShard(r: AutoAttackRecord): string | undefined {
  if (!Array.isArray(r.stages) || !r.stages.length || !r.stages.every((s) => s && typeof s.attack === "string" && Number.isSafeInteger(s.attacked) && Number.isSafeInteger(s.broken)))
    return "an autoattack record without its per-stage summaries ('stages')";
  if (!Array.isArray(r.per_sample_broken_by) || r.per_sample_broken_by.length !== r.n || !r.per_sample_broken_by.every((b) => typeof b === "string" && (BROKEN.has(b) || r.stages.some((s) => s.attack === b))))
    return `per_sample_broken_by does not hold ${r.n} entries ("", "natural" or a stage name)`;
  if (!r.checks || typeof r.checks.deterministic !== "boolean" || typeof r.checks.outputs_are_probabilities !== "boolean") return "an autoattack record without its reliability checks ('checks')";
  return undefined;
}

/** Stage lists that differ between shards (names, iterations, targets, queries): a description, or undefined. */
export function stageMismatch(a: AutoAttackRecord, b: AutoAttackRecord): string | undefined {
  const key = (r: AutoAttackRecord) => r.stages.map((s) => `${s.attack}${s.steps !== undefined ? `/${s.steps} it` : ""}${s.targets !== undefined ? `/${s.targets} targets` : ""}${s.queries !== undefined ? `/${s.queries} q` : ""}`).join(" → ");
  return key(a) === key(b) ? undefined : `stages ${key(a)} vs ${key(b)}`;
}

/** The ensemble fields of the merged record; `merged` is the generic merge (n, accuracies, agreement, per-sample lists). */
export function mergeEnsemble(rs: AutoAttackRecord[], merged: AttackRecord): Pick<AutoAttackRecord, "stages" | "per_sample_broken_by" | "checks" | "gradient"> {
  const n = merged.n;
  const stages: StageSummary[] = rs[0].stages.map((s0, j) => {
    const parts = rs.map((r) => r.stages[j]);
    const attacked = parts.reduce((p, s) => p + s.attacked, 0);
    const robust = rs.reduce((p, r) => p + Math.round(r.stages[j].robust_acc * r.n), 0);
    const grads = parts.filter((s) => s.gradient && s.attacked > 0);
    const out: StageSummary = {
      attack: s0.attack, attacked, robust_acc: robust / Math.max(1, n), broken: parts.reduce((p, s) => p + s.broken, 0),
      mean_queries: attacked ? parts.reduce((p, s) => p + s.mean_queries * s.attacked, 0) / attacked : 0,
      seconds: parts.reduce((p, s) => p + s.seconds, 0),
      ...(parts.every((s) => s.replica_seconds !== undefined) ? { replica_seconds: parts.reduce((p, s) => p + s.replica_seconds!, 0), bundle_seconds: parts.reduce((p, s) => p + (s.bundle_seconds ?? 0), 0) } : {}),
      ...(s0.steps !== undefined ? { steps: s0.steps } : {}), ...(s0.targets !== undefined ? { targets: s0.targets } : {}), ...(s0.queries !== undefined ? { queries: s0.queries } : {}),
    };
    const g = combineGradients(grads);
    if (g) out.gradient = grads.length > 1 ? { ...g, median_of_shard_medians: true } as typeof g : g;
    return out;
  });
  const gradient = combineGradients(stages.filter((s) => !gradientFree(s.attack)));
  const checks = reliabilityChecks({
    stages, gradient, agreement: merged.replica_agreement ?? null, adversarialAcc: merged.adversarial_acc, naturalAcc: merged.natural_acc,
    deterministic: rs.every((r) => r.checks.deterministic), probabilities: rs.some((r) => r.checks.outputs_are_probabilities),
  });
  return { stages, per_sample_broken_by: rs.flatMap((r) => r.per_sample_broken_by), checks, gradient };
}
