// Harness attack: APGD, L∞ (Croce & Hein, ICML 2020, "Reliable evaluation of adversarial robustness
// with an ensemble of diverse parameter-free attacks") — the gradient attacks of AutoAttack.
//   APGD-CE: untargeted, cross-entropy loss.
//   APGD-T:  targeted, DLR loss −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2), one run per target class t
//            among the top-k classes (ranks 2…k+1 of the logits at the start point; k = --targets,
//            default min(9, classes − 1)).
// Schedule as published: N iterations (--steps, 100 by default), step size η = 2ε per sample,
// checkpoints w_j = ⌈p_j·N⌉ with p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06).
// At a checkpoint the step size halves (and the iterate restarts from the best point) when the loss
// increased in at most ρ = 0.75 of the steps since the last checkpoint, or when the step size was not
// halved at the last checkpoint and the best loss did not improve since. Momentum α = 0.75:
//   z = P(x_k + η·sign(∇)),  x_{k+1} = P(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1}))   (α = 1 at k = 0).
// Start: uniform random point of the ε-ball, rescaled so that its largest coordinate is at ±ε (a
// per-sample stream: see sampleRng).
// As in the harness's PGD, gradients come from the replica (straight-through estimators) and the
// *bundle* decides: its logits give the loss that drives the schedule and its argmax decides success;
// a sample that the bundle misclassifies keeps that input and leaves the batch (no more work for it).
import type { Attack, AttackContext, AttackParams, AttackResult } from "./types.ts";
import { project, rng as makeRng, timedReplica } from "./types.ts";
import type { Replica } from "../replica/replica.ts";
import type { AttackRecord } from "./evaluate.ts";
// tf only when a gradient is taken: the registry (index.ts) is loaded by the CLI at start-up
import type { Tensor } from "../replica/tf.ts";
import { GROUP_ROWS, runInSequence, type Outcome, type RowResult } from "./run_groups.ts";

const RHO = 0.75, ALPHA = 0.75;

/** Iteration counts between checkpoints for N iterations (the published p_j schedule, as integers). */
export function checkpointLengths(steps: number): { first: number; decrease: number; min: number } {
  return { first: Math.max(Math.floor(0.22 * steps), 1), decrease: Math.max(Math.floor(0.03 * steps), 1), min: Math.max(Math.floor(0.06 * steps), 1) };
}

/** Default number of APGD-T target classes for k classes: AutoAttack's 9, at most k − 1. */
export const defaultTargets = (classes: number) => Math.max(1, Math.min(9, classes - 1));

type Loss = { kind: "ce" } | { kind: "dlr-t"; targets: Int32Array };

/** Per-sample loss from logits [m, K] (to be maximised). */
function lossRows(logits: Float32Array, y: ArrayLike<number>, loss: Loss, m: number): Float64Array {
  const K = logits.length / m, out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const z = logits.subarray(i * K, (i + 1) * K);
    if (loss.kind === "ce") {
      let mx = -Infinity;
      for (let j = 0; j < K; j++) mx = Math.max(mx, z[j]);
      let s = 0;
      for (let j = 0; j < K; j++) s += Math.exp(z[j] - mx);
      out[i] = mx + Math.log(s) - z[y[i]];
    } else {
      const [p1, , p3, p4] = top4(z);
      out[i] = -(z[y[i]] - z[loss.targets[i]]) / (z[p1] - 0.5 * (z[p3] + z[p4]) + 1e-12);
    }
  }
  return out;
}

/**
 * The random start of one sample comes from its own stream, seeded by the run's seed, the sample's
 * clean pixels and the run (restart, target): a sample's attack does not depend on which other
 * samples share its batch, shard or worker, and a sample broken by APGD alone is broken by the same
 * APGD inside the ensemble (which runs it on fewer samples).
 */
export function sampleRng(seed: number, x: Float32Array, run: number): () => number {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193) >>> 0;
  h = Math.imul(h ^ run, 0x01000193) >>> 0;
  return makeRng(h);
}

/** Indices of the 4 largest entries, largest first (ties: lower index first). */
function top4(z: ArrayLike<number>): number[] {
  const idx = Array.from({ length: z.length }, (_, j) => j).sort((a, b) => z[b] - z[a] || a - b);
  return idx.slice(0, 4);
}

/**
 * Input gradient of the summed targeted DLR loss, from the replica's differentiable forward pass.
 * The sort of the denominator is piecewise a fixed selection, so it enters as constant masks taken
 * from the replica's own logits of this pass (the gradient of the sorted form).
 */
async function dlrTargetedGradient(replica: Replica, x: Float32Array, y: ArrayLike<number>, t: ArrayLike<number>): Promise<Float32Array> {
  const n = y.length;
  const { tf } = await import("../replica/tf.ts");
  return tf.tidy(() => {
    const xt = tf.tensor(x, [n, x.length / n]);
    const g = tf.grad((xi: Tensor) => {
      const l = replica.forward(xi);
      const K = l.shape[l.shape.length - 1] as number;
      const z = l.dataSync() as Float32Array;
      const num = new Float32Array(n * K), den = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        const [p1, , p3, p4] = top4(z.subarray(i * K, (i + 1) * K));
        num[i * K + y[i]] += 1;
        num[i * K + t[i]] -= 1;
        den[i * K + p1] += 1;
        den[i * K + p3] -= 0.5;
        den[i * K + p4] -= 0.5;
      }
      const a = tf.sum(tf.mul(l, tf.tensor(num, [n, K])), 1);
      const b = tf.add(tf.sum(tf.mul(l, tf.tensor(den, [n, K])), 1), 1e-12);
      return tf.neg(tf.sum(tf.div(a, b)));
    })(xt);
    return g.dataSync() as Float32Array;
  });
}

/** One APGD run per row (sample `i`, target rank `t`, random stream `run`); per row: success, the adversarial input, queries. */
async function singleRun(ctx: AttackContext, x: Float32Array, y: Int32Array, rows: { i: number; t: number; run: number }[], kind: "ce" | "dlr-t"): Promise<RowResult> {
  const idx = rows.map((r) => r.i);
  const { bundle, replica, params } = ctx;
  if (!replica) throw new Error("APGD needs the replica");
  const per = x.length / y.length, eps = params.eps, steps = Math.max(1, params.steps);
  const m = idx.length;
  const res: RowResult = { adv: new Float32Array(m * per), success: new Uint8Array(m), queries: new Int32Array(m) };
  const xs = new Float32Array(m * per), ys = Int32Array.from(idx, (i) => y[i]);
  idx.forEach((i, k) => xs.set(x.subarray(i * per, (i + 1) * per), k * per));
  // random start: uniform in [−1, 1]^d, rescaled so that max |t| = 1, times ε; projected on the ball ∩ [0, 1]
  const cur = xs.slice();
  for (let k = 0; k < m; k++) {
    const rng = sampleRng(params.seed, xs.subarray(k * per, (k + 1) * per), rows[k].run);
    const t = new Float64Array(per);
    let mx = 0;
    for (let j = 0; j < per; j++) mx = Math.max(mx, Math.abs((t[j] = 2 * rng() - 1)));
    for (let j = 0; j < per; j++) cur[k * per + j] += (eps * t[j]) / (mx + 1e-12);
  }
  project(cur, xs, eps);
  const live = new Uint8Array(m).fill(1);
  const targets = new Int32Array(m);
  const grad = new Float32Array(m * per), gradBest = new Float32Array(m * per);
  const xBest = cur.slice(), prev = cur.slice();
  const stepSize = new Float64Array(m).fill(2 * eps);
  const lossBest = new Float64Array(m).fill(-Infinity);
  const lossHist: Float64Array[] = []; // lossHist[i + 1][k]: loss after iteration i; [0]: at the start point
  const lossBestLastCheck = new Float64Array(m).fill(-Infinity);
  const reducedLastCheck = new Uint8Array(m).fill(1);

  /** Bundle logits at `cur` for the live samples: success check, loss; then the replica gradient for the still-live ones. */
  const evaluate = async (iter: number, wantGradient: boolean): Promise<void> => {
    const ks = Array.from({ length: m }, (_, k) => k).filter((k) => live[k]);
    const batch = new Float32Array(ks.length * per);
    ks.forEach((k, a) => batch.set(cur.subarray(k * per, (k + 1) * per), a * per));
    const logits = bundle.run(batch);
    const C = logits.length / ks.length;
    if (kind === "dlr-t" && C < 4) throw new Error(`APGD-T's DLR loss needs at least 4 classes (the model has ${C})`);
    if (iter === 0 && kind === "dlr-t")
      ks.forEach((k, a) => {
        const row = logits.subarray(a * C, (a + 1) * C);
        const order = Array.from({ length: C }, (_, j) => j).sort((p, q) => row[q] - row[p] || p - q);
        targets[k] = order[Math.min(rows[k].t, C) - 1];
      });
    const yk = Int32Array.from(ks, (k) => ys[k]);
    const loss = lossRows(logits, yk, kind === "ce" ? { kind } : { kind, targets: Int32Array.from(ks, (k) => targets[k]) }, ks.length);
    const hist = new Float64Array(m).fill(NaN);
    lossHist.push(hist);
    const still: number[] = [];
    ks.forEach((k, a) => {
      res.queries[k]++;
      let arg = 0;
      for (let j = 1; j < C; j++) if (logits[a * C + j] > logits[a * C + arg]) arg = j;
      if (arg !== ys[k]) {
        res.success[k] = 1;
        live[k] = 0;
        res.adv.set(cur.subarray(k * per, (k + 1) * per), k * per);
        return;
      }
      hist[k] = loss[a];
      still.push(k);
    });
    if (!wantGradient || !still.length) return;
    const gx = new Float32Array(still.length * per);
    still.forEach((k, a) => gx.set(cur.subarray(k * per, (k + 1) * per), a * per));
    const gy = Int32Array.from(still, (k) => ys[k]);
    const g = await timedReplica(ctx.timing, async () => kind === "ce" ? (await replica.gradient(gx, gy)).grad : await dlrTargetedGradient(replica, gx, gy, Int32Array.from(still, (k) => targets[k])));
    const l1 = new Float32Array(still.length);
    still.forEach((k, a) => {
      let s = 0;
      for (let j = 0; j < per; j++) s += Math.abs((grad[k * per + j] = g[a * per + j]));
      l1[a] = s;
      if (hist[k] > lossBest[k]) {
        lossBest[k] = hist[k];
        xBest.set(cur.subarray(k * per, (k + 1) * per), k * per);
        gradBest.set(grad.subarray(k * per, (k + 1) * per), k * per);
      }
    });
    ctx.onGradient?.(l1);
  };

  await evaluate(0, true);
  const sched = checkpointLengths(steps);
  let len = sched.first, counter = 0;
  const z = new Float32Array(per), nxt = new Float32Array(per);
  for (let it = 0; it < steps && live.some((v) => v); it++) {
    const a = it > 0 ? ALPHA : 1;
    for (let k = 0; k < m; k++) {
      if (!live[k]) continue;
      const o = k * per, xo = xs.subarray(o, o + per);
      for (let j = 0; j < per; j++) z[j] = cur[o + j] + stepSize[k] * Math.sign(grad[o + j]);
      project(z, xo, eps);
      for (let j = 0; j < per; j++) nxt[j] = cur[o + j] + a * (z[j] - cur[o + j]) + (1 - a) * (cur[o + j] - prev[o + j]);
      project(nxt, xo, eps);
      prev.set(cur.subarray(o, o + per), o);
      cur.set(nxt, o);
    }
    // the gradient after the last iteration would never be used
    await evaluate(it + 1, it + 1 < steps);
    if (++counter === len) {
      for (let k = 0; k < m; k++) {
        if (!live[k]) continue;
        let inc = 0;
        for (let c = 0; c < len; c++) if (lossHist[it + 1 - c][k] > lossHist[it - c][k]) inc++;
        const oscillating = inc <= len * RHO;
        const stalled = !reducedLastCheck[k] && lossBestLastCheck[k] >= lossBest[k];
        const reduce = oscillating || stalled;
        reducedLastCheck[k] = reduce ? 1 : 0;
        lossBestLastCheck[k] = lossBest[k];
        if (reduce) {
          stepSize[k] /= 2;
          cur.set(xBest.subarray(k * per, (k + 1) * per), k * per);
          grad.set(gradBest.subarray(k * per, (k + 1) * per), k * per);
        }
      }
      len = Math.max(len - sched.decrease, sched.min);
      counter = 0;
    }
  }
  return res;
}

async function apgdRun(ctx: AttackContext, x: Float32Array, y: Int32Array, kind: "ce" | "dlr-t"): Promise<AttackResult> {
  const n = y.length;
  const out: Outcome = { best: x.slice(), done: new Uint8Array(n), queries: new Int32Array(n) };
  const restarts = Math.max(1, ctx.params.restarts), per = x.length / n;
  // the published sequence: restarts (CE), or targets ranked 2…k+1 × restarts (T); stream ids as before
  const seq: { t: number; run: number }[] = [];
  if (kind === "ce") for (let r = 0; r < restarts; r++) seq.push({ t: 0, run: r });
  else {
    const classes = ctx.bundle.outputLength;
    const k = Math.min(ctx.params.targets ?? defaultTargets(classes), classes - 1);
    for (let t = 2; t <= k + 1; t++) for (let r = 0; r < restarts; r++) seq.push({ t, run: 100 * t + r });
  }
  await runInSequence(seq.length, per, out, ctx.params.groupRows ?? GROUP_ROWS, (rows) => singleRun(ctx, x, y, rows.map(({ i, run }) => ({ i, ...seq[run] })), kind));
  return { xadv: out.best, queries: out.queries };
}

export const apgdCe: Attack = { name: "apgd-ce", needsGradient: true, run: (ctx, x, y) => apgdRun(ctx, x, y, "ce") };
export const apgdT: Attack = { name: "apgd-t", needsGradient: true, run: (ctx, x, y) => apgdRun(ctx, x, y, "dlr-t") };

/**
 * The record written by evaluate.ts names PGD's parameters only; an APGD record states its own:
 * iterations, the initial step size 2ε, restarts, the random start, and (APGD-T) the target classes.
 */
export function describeApgd<R extends AttackRecord>(record: R, attack: string, params: AttackParams, classes: number): R & { targets?: number } {
  if (attack !== "apgd-ce" && attack !== "apgd-t") return record;
  const r: R & { targets?: number } = { ...record, steps: params.steps, step_size: 2 * params.eps, restarts: Math.max(1, params.restarts), random_start: true, queries: 0 };
  if (attack === "apgd-t") r.targets = Math.min(params.targets ?? defaultTargets(classes), classes - 1);
  return r;
}
