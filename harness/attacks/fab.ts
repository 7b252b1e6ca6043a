// Harness attack: FAB-T, L∞ (Croce & Hein, ICML 2020, "Minimally distorted adversarial examples with
// a fast adaptive boundary attack"), targeted, as in AutoAttack's standard version: one run per
// target class among the top-k classes of the clean logits (ranks 2…k+1, k = --targets, default
// min(9, classes − 1)), N iterations (--steps, 100), restarts as published (the first run starts at
// the clean input, further restarts at a random point of half the ε-ball), α_max = 0.1, η = 1.05, β = 0.9.
// One iteration at the current point x₁ (x₀ the clean input, t the target, y the label):
//   linearise g(x) = z_t − z_y at x₁: the hyperplane {x : ∇g·x = ∇g·x₁ − g(x₁)} (g, ∇g from the replica)
//   d₁, d₂ = the minimal-L∞ steps from x₁ and from x₀ onto that hyperplane inside the box [0, 1]
//   α = min(‖d₁‖∞ / (‖d₁‖∞ + ‖d₂‖∞), α_max);  x₁ ← clip((x₁ + η d₁)(1 − α) + (x₀ + η d₂)α, 0, 1)
//   if the *bundle* misclassifies x₁: keep it when ‖x₁ − x₀‖∞ is the smallest so far, then step back
//   x₁ ← x₀ + β(x₁ − x₀).
// A sample counts as broken when its smallest adversarial lies in the ε-ball. FAB minimises the norm;
// a sample whose adversarial is already within ε leaves the batch (what AutoAttack would do next could
// only shrink a norm that is already ≤ ε: the accuracy at ε is the same, the work is not).
import type { Attack, AttackContext, AttackParams, AttackResult } from "./types.ts";
import type { Replica } from "../replica/replica.ts";
import type { Tensor } from "../replica/tf.ts";
import type { AttackRecord } from "./evaluate.ts";
import { defaultTargets, sampleRng } from "./apgd.ts";
import { timedReplica } from "./types.ts";
import { GROUP_ROWS, runInSequence, type Outcome, type RowResult } from "./run_groups.ts";

/** FAB's published constants (AutoAttack's FABAttack defaults). */
export const FAB_ALPHA_MAX = 0.1, FAB_ETA = 1.05, FAB_BETA = 0.9;

/**
 * The minimal-L∞ step d onto the hyperplane w·(t + d) = b with t + d in the box [0, 1]:
 * minimise ‖d‖∞ subject to w·d = c (c = b − w·t), 0 ≤ t + d ≤ 1. Coordinates with w_i = 0 do not move.
 * With λ the L∞ radius, the most w·d can change toward c is f(λ) = Σ|w_i|·min(λ, u_i), u_i the room
 * of coordinate i in the helpful direction; f is piecewise linear and non-decreasing, and the optimum
 * is the smallest λ with f(λ) = |c| (found by sweeping the u_i in increasing order). If even the whole
 * box falls short (f(∞) < |c|), the step goes as far as the box allows (every coordinate saturated).
 */
export function projectLinf(t: ArrayLike<number>, w: ArrayLike<number>, b: number): Float64Array {
  const n = t.length, d = new Float64Array(n);
  let wt = 0;
  for (let i = 0; i < n; i++) wt += w[i] * t[i];
  const c = b - wt;
  if (c === 0) return d;
  const s = c > 0 ? 1 : -1, need = Math.abs(c);
  const idx: number[] = [], room = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    room[i] = Math.max(0, s * w[i] > 0 ? 1 - t[i] : t[i]);
    idx.push(i);
  }
  idx.sort((p, q) => room[p] - room[q]);
  // suffix sums of |w| in sweep order (not a running difference: no cancellation at the end)
  const rem = new Float64Array(idx.length + 1);
  for (let k = idx.length - 1; k >= 0; k--) rem[k] = rem[k + 1] + Math.abs(w[idx[k]]);
  let sat = 0, lambda = Infinity;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k], cand = (need - sat) / rem[k];
    if (cand <= room[i]) {
      lambda = cand;
      break;
    }
    sat += Math.abs(w[i]) * room[i];
  }
  for (const i of idx) d[i] = s * Math.sign(w[i]) * Math.min(lambda, room[i]);
  return d;
}

/** z_t − z_y per sample (replica logits) and the input gradient of its sum, from one replica pass. */
async function targetGradient(replica: Replica, x: Float32Array, y: ArrayLike<number>, t: ArrayLike<number>): Promise<{ grad: Float32Array; diff: Float64Array }> {
  const n = y.length;
  const { tf } = await import("../replica/tf.ts");
  const diff = new Float64Array(n);
  const grad = tf.tidy(() => {
    const g = tf.grad((xi: Tensor) => {
      const l = replica.forward(xi);
      const K = l.shape[l.shape.length - 1] as number;
      const z = l.dataSync() as Float32Array;
      const mask = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        mask[i * K + t[i]] += 1;
        mask[i * K + y[i]] -= 1;
        diff[i] = z[i * K + t[i]] - z[i * K + y[i]];
      }
      return tf.sum(tf.mul(l, tf.tensor(mask, [n, K])));
    })(tf.tensor(x, [n, x.length / n]));
    return g.dataSync() as Float32Array;
  });
  return { grad, diff };
}

/** Target class of rank `rank` (1 = the largest logit) per sample, from the bundle's clean logits. */
function rankedTargets(logits: Float32Array, n: number, rank: number): Int32Array {
  const K = logits.length / n, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * K, (i + 1) * K);
    const order = Array.from({ length: K }, (_, j) => j).sort((p, q) => row[q] - row[p] || p - q);
    out[i] = order[Math.min(rank, K) - 1];
  }
  return out;
}

const linf = (a: ArrayLike<number>, b: ArrayLike<number>, o: number, per: number) => {
  let m = 0;
  for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(a[o + j] - b[o + j]));
  return m;
};

/** One FAB run per row (sample `i`, target class `target`, restart `r`); per row: success, the adversarial input, queries. */
async function singleRun(ctx: AttackContext, x: Float32Array, y: Int32Array, rows: { i: number; target: number; r: number }[]): Promise<RowResult> {
  const { bundle, replica, params } = ctx;
  if (!replica) throw new Error("FAB needs the replica");
  const idx = rows.map((r) => r.i);
  const per = x.length / y.length, eps = params.eps, steps = Math.max(1, params.steps), m = idx.length;
  const out: RowResult = { adv: new Float32Array(m * per), success: new Uint8Array(m), queries: new Int32Array(m) };
  const x0 = new Float32Array(m * per), ys = Int32Array.from(idx, (i) => y[i]), ts = Int32Array.from(rows, (r) => r.target);
  idx.forEach((i, k) => x0.set(x.subarray(i * per, (i + 1) * per), k * per));
  const x1 = x0.slice();
  // AutoAttack's random start for restarts: x₀ + min(res, ε)·u/‖u‖∞·½, u uniform in [−1, 1]^d (res = ∞ here)
  for (let k = 0; k < m; k++)
    if (rows[k].r > 0) {
      const rng = sampleRng(params.seed, x0.subarray(k * per, (k + 1) * per), 1000 + rows[k].r);
      const u = new Float64Array(per);
      let mx = 0;
      for (let j = 0; j < per; j++) mx = Math.max(mx, Math.abs((u[j] = 2 * rng() - 1)));
      for (let j = 0; j < per; j++) x1[k * per + j] = Math.min(1, Math.max(0, x0[k * per + j] + (eps * u[j] * 0.5) / (mx + 1e-12)));
    }
  const live = new Uint8Array(m).fill(1);
  const res = new Float64Array(m).fill(Infinity);
  const adv = x0.slice();
  for (let it = 0; it < steps; it++) {
    const ks = Array.from({ length: m }, (_, k) => k).filter((k) => live[k]);
    if (!ks.length) break;
    const gx = new Float32Array(ks.length * per);
    ks.forEach((k, a) => gx.set(x1.subarray(k * per, (k + 1) * per), a * per));
    const { grad, diff } = await timedReplica(ctx.timing, () => targetGradient(replica, gx, Int32Array.from(ks, (k) => ys[k]), Int32Array.from(ks, (k) => ts[k])));
    const l1 = new Float32Array(ks.length);
    ks.forEach((k, a) => {
      const o = k * per, w = grad.subarray(a * per, (a + 1) * per);
      let wx = 0;
      for (let j = 0; j < per; j++) {
        wx += w[j] * x1[o + j];
        l1[a] += Math.abs(w[j]);
      }
      // hyperplane w·x = b on which the linearised z_t − z_y is 0
      const b = wx - diff[a];
      const d1 = projectLinf(x1.subarray(o, o + per), w, b), d2 = projectLinf(x0.subarray(o, o + per), w, b);
      let a1 = 0, a2 = 0;
      for (let j = 0; j < per; j++) {
        a1 = Math.max(a1, Math.abs(d1[j]));
        a2 = Math.max(a2, Math.abs(d2[j]));
      }
      a1 = Math.max(a1, 1e-8);
      a2 = Math.max(a2, 1e-8);
      const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), FAB_ALPHA_MAX);
      for (let j = 0; j < per; j++)
        x1[o + j] = Math.min(1, Math.max(0, (x1[o + j] + FAB_ETA * d1[j]) * (1 - alpha) + (x0[o + j] + FAB_ETA * d2[j]) * alpha));
    });
    ctx.onGradient?.(l1);
    // the bundle decides which iterates are adversarial
    const batch = new Float32Array(ks.length * per);
    ks.forEach((k, a) => batch.set(x1.subarray(k * per, (k + 1) * per), a * per));
    const logits = bundle.run(batch);
    const C = logits.length / ks.length;
    ks.forEach((k, a) => {
      out.queries[k]++;
      let arg = 0;
      for (let j = 1; j < C; j++) if (logits[a * C + j] > logits[a * C + arg]) arg = j;
      if (arg === ys[k]) return;
      const o = k * per, r = linf(x1, x0, o, per);
      if (r < res[k]) {
        res[k] = r;
        adv.set(x1.subarray(o, o + per), o);
      }
      for (let j = 0; j < per; j++) x1[o + j] = x0[o + j] + (x1[o + j] - x0[o + j]) * FAB_BETA;
      if (res[k] <= eps) {
        live[k] = 0;
        out.success[k] = 1;
        out.adv.set(adv.subarray(o, o + per), o);
      }
    });
  }
  return out;
}

async function fabTargeted(ctx: AttackContext, x: Float32Array, y: Int32Array): Promise<AttackResult> {
  const n = y.length;
  const out: Outcome = { best: x.slice(), done: new Uint8Array(n), queries: new Int32Array(n) };
  if (ctx.params.eps <= 0) return { xadv: out.best, queries: out.queries };
  const classes = ctx.bundle.outputLength;
  const k = Math.min(ctx.params.targets ?? defaultTargets(classes), classes - 1);
  const clean = ctx.bundle.run(x);
  // the published sequence: targets ranked 2…k+1, each with its restarts
  const seq: { tgt: Int32Array; r: number }[] = [];
  for (let t = 2; t <= k + 1; t++) {
    const tgt = rankedTargets(clean, n, t);
    for (let r = 0; r < Math.max(1, ctx.params.restarts); r++) seq.push({ tgt, r });
  }
  await runInSequence(seq.length, x.length / n, out, ctx.params.groupRows ?? GROUP_ROWS, (rows) => singleRun(ctx, x, y, rows.map(({ i, run }) => ({ i, target: seq[run].tgt[i], r: seq[run].r }))));
  return { xadv: out.best, queries: out.queries };
}

export const fabT: Attack = { name: "fab-t", needsGradient: true, run: fabTargeted };

/** The record of a FAB-T evaluation states its own parameters: iterations, restarts, targets, α_max, η, β. */
export function describeFab<R extends AttackRecord>(record: R, attack: string, params: AttackParams, classes: number): R & { targets?: number; fab?: object } {
  if (attack !== "fab-t") return record;
  return {
    ...record, steps: params.steps, step_size: 0, restarts: Math.max(1, params.restarts), random_start: params.restarts > 1, queries: 0,
    targets: Math.min(params.targets ?? defaultTargets(classes), classes - 1), fab: { alpha_max: FAB_ALPHA_MAX, eta: FAB_ETA, beta: FAB_BETA },
  };
}
