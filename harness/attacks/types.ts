// Harness attacks: the one interface every attack implements, and the L∞ ball projection.
// Attacks see the bundle (for predictions and, for gradient-free attacks, for queries) and the
// replica (for gradients); they return the adversarial batch and the queries spent per sample.
import type { Bundle } from "../../runtime/host/loader.ts";
import type { Replica } from "../replica/replica.ts";

export interface AttackParams {
  eps: number;
  steps: number;
  stepSize: number;
  restarts: number;
  queries: number;
  seed: number;
  randomStart?: boolean; // PGD: uniform start in the ε-ball (default true)
  targets?: number; // APGD-T: target classes (default min(9, classes − 1))
  groupRows?: number; // APGD-T / FAB-T: rows per batch when later runs join a group (run_groups.ts; default 32, 0: one run at a time)
}

export interface AttackContext {
  bundle: Bundle;
  replica?: Replica;
  params: AttackParams;
  rng: () => number;
  /** gradient statistics sink: L1 norm of each sample's input gradient */
  onGradient?: (l1PerSample: Float32Array) => void;
  /** where the time goes (ms): replica passes (forward + backward) and bundle forward passes */
  timing?: Timing;
}

export interface Timing { replica: number; bundle: number }

/** The bundle with its forward passes timed into t.bundle. */
export function timedBundle(bundle: Bundle, t: Timing): Bundle {
  const b = Object.create(bundle) as Bundle;
  b.run = (x: Float32Array) => {
    const t0 = performance.now();
    try {
      return bundle.run(x);
    } finally {
      t.bundle += performance.now() - t0;
    }
  };
  return b;
}

/** Runs f, adding its time to t.replica. */
export async function timedReplica<T>(t: Timing | undefined, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    if (t) t.replica += performance.now() - t0;
  }
}

export interface AttackResult {
  xadv: Float32Array;
  queries: Int32Array;
}

export interface Attack {
  name: string;
  needsGradient: boolean;
  run(ctx: AttackContext, x: Float32Array, y: Int32Array): Promise<AttackResult>;
}

const f = Math.fround;
/** Bounds of the float32 L∞ ball ∩ [0, 1] around x: every value v in [lo, hi] has |v − x| ≤ eps. */
export function ballBounds(x: number, eps: number): [number, number] {
  let lo = f(x - eps), hi = f(x + eps);
  if (x - lo > eps) lo = f(lo + Math.abs(lo) * 2 ** -23 + 1e-45);
  if (hi - x > eps) hi = f(hi - Math.abs(hi) * 2 ** -23 - 1e-45);
  return [Math.max(0, lo), Math.min(1, hi)];
}

export function project(xadv: Float32Array, x: Float32Array, eps: number): void {
  for (let i = 0; i < x.length; i++) {
    const [lo, hi] = ballBounds(x[i], eps);
    xadv[i] = Math.min(hi, Math.max(lo, xadv[i]));
  }
}

export { rng } from "../rng.ts";

export function argmaxRows(logits: Float32Array, n: number): Int32Array {
  const k = logits.length / n, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + b]) b = j;
    out[i] = b;
  }
  return out;
}
