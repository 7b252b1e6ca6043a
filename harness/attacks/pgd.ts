// Harness attack: PGD-k, L∞ (Madry et al. 2018) with random start and restarts; FGSM (Goodfellow
// et al. 2015) is the one-step case without random start: x' = Π(x + ε·sign(∇x L)).
// Gradients come from the replica; after every step the *bundle* decides which samples are already
// misclassified, and those keep their adversarial input (early stop per sample).
// Each sample's random start (per restart) comes from its own stream (apgd.ts sampleRng: the run's seed,
// the sample's clean pixels, the restart), so a sample's attack does not depend on the batch, shard or
// worker it runs in — and the ensemble's PGD-20 stage (autoattack.ts) repeats it exactly on a survivor.
import type { Attack, AttackContext, AttackResult } from "./types.ts";
import { argmaxRows, project, timedReplica } from "./types.ts";
import { sampleRng } from "./apgd.ts";

/** sampleRng's run tag of PGD's restart r (apart from APGD's runs, Square's 0x5a and FAB's 1000 + r). */
const PGD_RUN = 0x9d000;

async function gradientSteps(ctx: AttackContext, x: Float32Array, y: Int32Array, random: boolean, steps: number, stepSize: number): Promise<AttackResult> {
  const { bundle, replica, params } = ctx;
  if (!replica) throw new Error("gradient attacks need the replica");
  const n = y.length, per = x.length / n;
  const best = x.slice();
  const done = new Uint8Array(n);
  const queries = new Int32Array(n);
  for (let r = 0; r < Math.max(1, params.restarts) && done.some((d) => !d); r++) {
    const cur = x.slice();
    if (random) {
      for (let i = 0; i < n; i++) {
        const rng = sampleRng(params.seed, x.subarray(i * per, (i + 1) * per), PGD_RUN + r);
        for (let j = i * per; j < (i + 1) * per; j++) cur[j] += (2 * rng() - 1) * params.eps;
      }
      project(cur, x, params.eps);
    }
    for (let s = 0; s < steps; s++) {
      const { grad } = await timedReplica(ctx.timing, () => replica.gradient(cur, y));
      const l1 = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (done[i]) continue;
        for (let j = i * per; j < (i + 1) * per; j++) {
          l1[i] += Math.abs(grad[j]);
          cur[j] += stepSize * Math.sign(grad[j]);
        }
      }
      ctx.onGradient?.(l1.filter((_, i) => !done[i]));
      project(cur, x, params.eps);
      const pred = argmaxRows(bundle.run(cur), n);
      for (let i = 0; i < n; i++) {
        if (done[i]) continue;
        queries[i]++;
        if (pred[i] !== y[i]) {
          done[i] = 1;
          best.set(cur.subarray(i * per, (i + 1) * per), i * per);
        }
      }
      if (!done.some((d) => !d)) break;
    }
  }
  return { xadv: best, queries };
}

export const fgsm: Attack = {
  name: "fgsm",
  needsGradient: true,
  run: (ctx, x, y) => gradientSteps(ctx, x, y, false, 1, ctx.params.eps),
};

export const pgd: Attack = {
  name: "pgd",
  needsGradient: true,
  run: (ctx, x, y) => gradientSteps(ctx, x, y, ctx.params.randomStart !== false, ctx.params.steps, ctx.params.stepSize),
};
