// Harness attack: Square Attack, L∞ (Andriushchenko et al., ECCV 2020) — gradient-free, it queries
// the bundle itself. Margin loss m = z_y − max_{j≠y} z_j; init with vertical stripes of ±ε; each
// iteration proposes, per still-robust sample, a random square (side √(p·H·W), p from the paper's
// schedule) whose pixels move to x ± ε per channel, and keeps it if the margin decreases.
// Each sample draws from its own random stream (seeded by the run's seed and its clean pixels, as
// APGD's start): a sample's attack does not depend on the batch, shard or worker it runs in, nor on
// whether the ensemble runs it on fewer samples.
import type { Attack, AttackContext, AttackResult } from "./types.ts";
import { project } from "./types.ts";
import { sampleRng } from "./apgd.ts";

function margins(logits: Float32Array, y: Int32Array): Float32Array {
  const n = y.length, k = logits.length / n, m = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let other = -Infinity;
    for (let j = 0; j < k; j++) if (j !== y[i]) other = Math.max(other, logits[i * k + j]);
    m[i] = logits[i * k + y[i]] - other;
  }
  return m;
}

/** p schedule of the paper (p_init halved at fixed fractions of a 10 000-query budget). */
function pSelection(pInit: number, it: number, budget: number): number {
  const i = Math.floor((it / budget) * 10000);
  const cuts = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let p = pInit;
  for (const c of cuts) if (i > c) p /= 2;
  return p;
}

export const square: Attack = {
  name: "square",
  needsGradient: false,
  async run(ctx: AttackContext, x: Float32Array, y: Int32Array): Promise<AttackResult> {
    const { bundle, params } = ctx;
    const n = y.length, per = x.length / n;
    const rngs = Array.from({ length: n }, (_, i) => sampleRng(params.seed, x.subarray(i * per, (i + 1) * per), 0x5a));
    const [C, H, W] = bundle.info.input.shape.slice(1);
    const eps = params.eps;
    const cur = x.slice();
    for (let i = 0; i < n; i++)
      for (let c = 0; c < C; c++)
        for (let w = 0; w < W; w++) {
          const d = rngs[i]() < 0.5 ? -eps : eps;
          for (let h = 0; h < H; h++) cur[i * per + (c * H + h) * W + w] += d;
        }
    project(cur, x, eps);
    let m = margins(bundle.run(cur), y);
    const queries = new Int32Array(n).fill(1);
    const cand = cur.slice();
    for (let it = 1; it < params.queries; it++) {
      const active: number[] = [];
      for (let i = 0; i < n; i++) if (m[i] >= 0) active.push(i);
      if (!active.length) break;
      const p = pSelection(0.05, it, params.queries);
      const s = Math.max(1, Math.min(H - 1, Math.round(Math.sqrt(p * H * W))));
      const batch = new Float32Array(active.length * per);
      active.forEach((i, a) => {
        cand.set(cur.subarray(i * per, (i + 1) * per), i * per);
        const rng = rngs[i];
        const r0 = Math.floor(rng() * (H - s + 1)), c0 = Math.floor(rng() * (W - s + 1));
        for (let c = 0; c < C; c++) {
          const d = rng() < 0.5 ? -eps : eps;
          for (let h = r0; h < r0 + s; h++)
            for (let w = c0; w < c0 + s; w++) cand[i * per + (c * H + h) * W + w] = x[i * per + (c * H + h) * W + w] + d;
        }
        const slice = cand.subarray(i * per, (i + 1) * per);
        project(slice, x.subarray(i * per, (i + 1) * per), eps);
        batch.set(slice, a * per);
      });
      const mNew = margins(bundle.run(batch), Int32Array.from(active, (i) => y[i]));
      active.forEach((i, a) => {
        queries[i]++;
        if (mNew[a] < m[i]) {
          m[i] = mNew[a];
          cur.set(cand.subarray(i * per, (i + 1) * per), i * per);
        }
      });
    }
    return { xadv: cur, queries };
  },
};
