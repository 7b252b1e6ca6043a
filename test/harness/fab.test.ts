// FAB-T: the box-constrained L∞ projection onto a hyperplane against a brute-force linear program
// (every vertex of min λ s.t. |d_i| ≤ λ, 0 ≤ t_i + d_i ≤ 1, w·d = c, enumerated) on small random
// cases, and the attack on the zoo's float ResNet-20 and MBN3x1 (Fashion-MNIST, predictions from the
// bundle): ε = 0 changes nothing; at ε = 0.1 it breaks most samples of the float model (and some of
// the MBN's: see below), its inputs lie in the ε-ball
// and in [0, 1] and reproduce the reported accuracy; same seed ⇒ same result.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { projectLinf } from "../../harness/attacks/fab.ts";
import { argmaxRows, rng } from "../../harness/attacks/types.ts";

/** Solves A z = r (square, Gaussian elimination with partial pivoting); undefined if singular. */
function solve(A: number[][], r: number[]): number[] | undefined {
  const n = r.length, M = A.map((row, i) => [...row, r[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(M[i][c]) > Math.abs(M[p][c])) p = i;
    if (Math.abs(M[p][c]) < 1e-12) return undefined;
    [M[c], M[p]] = [M[p], M[c]];
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = M[i][c] / M[c][c];
      for (let j = c; j <= n; j++) M[i][j] -= f * M[c][j];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

/** The LP's optimum λ by vertex enumeration (variables d_1…d_n, λ), or Infinity if infeasible. */
function bruteForce(t: number[], w: number[], c: number): number {
  const n = t.length;
  // inequalities g·z ≤ h over z = [d, λ]
  const G: number[][] = [], H: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = (v: number, l: number) => Array.from({ length: n + 1 }, (_, j) => (j === i ? v : j === n ? l : 0));
    G.push(e(1, -1), e(-1, -1), e(1, 0), e(-1, 0));
    H.push(0, 0, 1 - t[i], t[i]);
  }
  // coordinates with w_i = 0 stay put in FAB's projection: d_i = 0 (an equality, as two inequalities)
  let best = Infinity;
  const eq = [...w, 0];
  const choose = (start: number, picked: number[]) => {
    if (picked.length === n) {
      const z = solve([eq, ...picked.map((k) => G[k])], [c, ...picked.map((k) => H[k])]);
      if (z && G.every((g, k) => g.reduce((p, v, j) => p + v * z[j], 0) <= H[k] + 1e-9)) best = Math.min(best, z[n]);
      return;
    }
    for (let k = start; k < G.length; k++) choose(k + 1, [...picked, k]);
  };
  choose(0, []);
  return best;
}

describe("FAB's L∞ projection onto a hyperplane in the box [0, 1]", () => {
  it("matches a brute-force LP on 400 random cases (n = 1…4, some w_i = 0, some infeasible)", () => {
    const r = rng(7);
    let feasible = 0, infeasible = 0;
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + (trial % 4);
      const t = Array.from({ length: n }, () => (r() < 0.15 ? Math.round(r()) : r()));
      const w = Array.from({ length: n }, () => (r() < 0.15 ? 0 : 4 * r() - 2));
      const b = w.reduce((p, v, i) => p + v * t[i], 0) + (r() < 0.1 ? 0 : 3 * r() - 1.5);
      const c = b - w.reduce((p, v, i) => p + v * t[i], 0);
      const d = Array.from(projectLinf(t, w, b));
      const norm = Math.max(0, ...d.map(Math.abs));
      d.forEach((v, i) => {
        expect(t[i] + v).toBeGreaterThanOrEqual(-1e-12);
        expect(t[i] + v).toBeLessThanOrEqual(1 + 1e-12);
        if (w[i] === 0) expect(v).toBe(0);
      });
      const lp = bruteForce(t, w.map((v) => v), c);
      if (Number.isFinite(lp)) {
        feasible++;
        expect(d.reduce((p, v, i) => p + v * w[i], 0)).toBeCloseTo(c, 9);
        expect(norm).toBeCloseTo(lp, 9);
      } else {
        // the hyperplane is out of the box: the step goes as far toward it as the box allows
        infeasible++;
        const most = w.reduce((p, v, i) => p + Math.abs(v) * (Math.sign(c) * v > 0 ? 1 - t[i] : t[i]), 0);
        expect(Math.abs(c)).toBeGreaterThan(most - 1e-12);
        expect(Math.sign(c) * d.reduce((p, v, i) => p + v * w[i], 0)).toBeCloseTo(most, 9);
      }
    }
    console.log(`projection vs LP: ${feasible} feasible, ${infeasible} infeasible cases`);
    expect(feasible).toBeGreaterThan(200);
    expect(infeasible).toBeGreaterThan(10);
  });

  it("a 784-dimensional case lands on the hyperplane with the norm of the sweep's optimum", () => {
    const r = rng(3), n = 784;
    const t = Array.from({ length: n }, () => r()), w = Array.from({ length: n }, () => r() - 0.5);
    const b = w.reduce((p, v, i) => p + v * t[i], 0) + 5;
    const d = projectLinf(t, w, b);
    const lam = Math.max(...Array.from(d, Math.abs));
    expect(Array.from(d).reduce((p, v, i) => p + v * w[i], 0)).toBeCloseTo(5, 8);
    // optimality: f(λ) = Σ|w_i|·min(λ, room_i) reaches 5 at λ and not before
    const f = (l: number) => w.reduce((p, v, i) => p + Math.abs(v) * Math.min(l, v > 0 ? 1 - t[i] : t[i]), 0);
    expect(f(lam)).toBeCloseTo(5, 8);
    expect(f(lam * (1 - 1e-6))).toBeLessThan(5);
  });
});

describe("FAB-T on zoo models (Fashion-MNIST, bundle predictions)", async () => {
  const data = take(loadDataset("fashion-mnist"), 16);
  for (const name of ["fmnist_resnet20_fp32", "fmnist_resnet20_mbn3x1"]) {
    const file = new URL(`../../models/zoo/${name}/model.onnx`, import.meta.url).pathname;
    const res = compile(readFileSync(file), { file });
    const bundle = await loadBundle(res.wasm);
    const fab = async (eps: number) => evaluateAttack({
      model: name, bundle, wasm: res.wasm, plan: res.plan, data, attack: "fab-t", batch: 16,
      params: { eps, steps: 20, stepSize: 0, restarts: 1, queries: 0, seed: 1, targets: 3 },
    });
    it(`${name}: ε = 0 changes nothing; ε = 0.1 breaks most samples inside the ball; deterministic`, async () => {
      const zero = (await fab(0)).record;
      expect(zero.adversarial_acc).toBe(zero.natural_acc);
      const { record, xadv } = await fab(0.1);
      console.log(`${name} FAB-T (20 iterations, 3 targets) ε=0.1 on 16 images: natural ${record.natural_acc}, adversarial ${record.adversarial_acc}, ${record.mean_queries.toFixed(1)} queries/sample`);
      // the float model's logits are nearly linear in a small ball: FAB-T breaks most samples; on the MBN the
      // replica's straight-through linearisation predicts the staircases poorly and FAB-T breaks fewer (it
      // runs after APGD in the ensemble, on the survivors)
      if (name.endsWith("fp32")) expect(record.adversarial_acc).toBeLessThan(record.natural_acc / 2);
      else expect(record.adversarial_acc).toBeLessThan(record.natural_acc);
      for (let i = 0; i < xadv.length; i++) {
        expect(Math.abs(xadv[i] - data.x[i])).toBeLessThanOrEqual(0.1);
        expect(xadv[i] >= 0 && xadv[i] <= 1).toBe(true);
      }
      const pred = argmaxRows(bundle.run(xadv), 16);
      expect(pred.reduce((p, v, i) => p + (v === data.y[i] ? 1 : 0), 0) / 16).toBe(record.adversarial_acc);
      const again = await fab(0.1);
      expect(Array.from(again.xadv)).toEqual(Array.from(xadv));
    });
  }
});
