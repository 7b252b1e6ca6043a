// Test helpers: deterministic inputs, comparison against an oracle, and the tie explanation — a
// sample whose logits differ beyond tolerance must have a quantizer input within 1e-5 (relative)
// of one of its thresholds in the float32 reference run, so that float rounding can flip it.
import type { CompileResult } from "../../compiler/pipeline.ts";
import type { QuantSpec } from "../../compiler/ir/plan.ts";
import { tensor } from "../../compiler/ir/tensor.ts";
import { run } from "../../compiler/reference/interpret.ts";

export function uniformInputs(n: number, per: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * per }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
}

export const argmax = (a: ArrayLike<number>) => {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
};

/** The float32 reference run of one sample: its output and the quantizer inputs' closest threshold. */
export function referenceRun(res: CompileResult, x: Float32Array): { out: Float32Array; closestTie: number } {
  const quants: QuantSpec[] = [];
  for (const s of res.plan.steps) {
    if (s.op === "BitQuantize") quants.push(s.quant);
    if ("epi" in s && s.epi.quant) quants.push(s.epi.quant);
    if (s.op === "BitConv") quants.push(s.act);
  }
  const env = run(res.graph, new Map([[res.graph.inputs[0].name, tensor("float", res.plan.inputShape, x)]]));
  let best = Infinity;
  for (const q of quants) {
    const t = env.get(q.source);
    if (!t) continue;
    const C = t.shape[1] ?? 1, inner = t.data.length / C, L = q.levels.length;
    let scale = 1e-30;
    for (const v of t.data) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < t.data.length; i++) {
      const c = Math.floor(i / inner) % C, v = q.flip[c] ? -t.data[i] : t.data[i];
      for (let j = 0; j < L - 1; j++) {
        const th = q.thr[c * (L - 1) + j];
        if (Number.isFinite(th)) best = Math.min(best, Math.abs(v - th) / scale);
      }
    }
  }
  return { out: env.get(res.graph.outputs[0].name)!.data as Float32Array, closestTie: best };
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, m = 1e-30;
  for (let j = 0; j < b.length; j++) {
    d = Math.max(d, Math.abs(a[j] - b[j]));
    m = Math.max(m, Math.abs(b[j]));
  }
  return d / m;
};

export interface Agreement {
  maxRel: number; // max over in-tolerance samples of max|Δ| / max|oracle logit|
  argmaxAgree: number;
  ties: number; // samples beyond tolerance explained by a threshold tie
  unexplained: string[];
}

/**
 * Compare bundle outputs with an oracle's. A sample beyond tolerance (or with another argmax) is
 * explained as a tie only if some quantizer input lies within 1e-6 (relative, ~10 ulps) of a
 * threshold in the float32 reference run, or within 1e-5 and the discrepancy is reproduced by that
 * independent evaluation (the bundle agrees with the reference, or the reference disagrees with the oracle).
 */
export function agreement(res: CompileResult, x: Float32Array, got: Float32Array, want: Float32Array, n: number, tol = 1e-4): Agreement {
  const k = got.length / n, per = x.length / n;
  let maxRel = 0, agree = 0, ties = 0;
  const unexplained: string[] = [];
  for (let i = 0; i < n; i++) {
    const g = got.subarray(i * k, (i + 1) * k), w = want.subarray(i * k, (i + 1) * k);
    const rel = relDiff(g, w);
    const same = argmax(g) === argmax(w);
    if (rel <= tol && same) {
      agree++;
      maxRel = Math.max(maxRel, rel);
      continue;
    }
    const ref = referenceRun(res, x.subarray(i * per, (i + 1) * per));
    const reproduced = relDiff(g, ref.out) <= tol || relDiff(ref.out, w) > tol;
    // within ~10 float32 ulps of a threshold the summation order alone decides the side
    if (ref.closestTie < 1e-6 || (ref.closestTie < 1e-5 && reproduced)) {
      ties++;
      if (same) agree++;
    } else {
      unexplained.push(`sample ${i}: rel ${rel.toExponential(2)}, argmax ${argmax(g)} vs ${argmax(w)}, closest threshold ${ref.closestTie.toExponential(2)}, bundle-vs-reference ${relDiff(g, ref.out).toExponential(2)}`);
    }
  }
  return { maxRel, argmaxAgree: agree, ties, unexplained };
}
