// Issue 15's "done when": the ensemble is at least as strong as PGD-20 and Square-1000, per sample.
// On the QONNX MBN fixture (test/fixtures/qonnx_mbn.onnx: BitQuantize → two multi-bit BitConvs →
// pool → dense, random weights; 32 uniform random inputs labelled by the bundle's own clean argmax,
// so every sample starts correct) PGD-20, Square-1000 and the ensemble run with the same seed on the
// same inputs, at an ε where some samples survive all of them; every sample robust under the ensemble
// must be robust under each alone.
// The fixture is a regression case: seed and ε were found by scratch search (ε ∈ {0.02}, seeds 0…11,
// 32 inputs) as the first configuration on which AutoAttack's four published stages (APGD-CE, APGD-T,
// FAB-T, Square-5000) leave a sample robust that Square-1000 alone breaks (seed 7: sample 8). The test
// asserts that too, so it shows what the replay stages (pgd-20, square-1000; autoattack.ts) fix.
// (The zoo's ResNet-20s cost ~0.1 s per replica gradient here, and a surviving sample takes ~1,900 of
// them: too slow for a test; autoattack.test.ts compares the ensemble with its members per sample on
// the zoo MBN3x1 at small budgets.)
// PGD-20's replay rests on PGD being per-sample deterministic whatever the batch: the second test runs
// PGD-20 on all 32 inputs and on every third of them and wants the same adversarial input for each.
// Checked to fail: the ensemble without its square-1000 stage (sample 8), PGD's random start from the
// batch's stream (second test).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import type { Dataset } from "../../harness/data/datasets.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { AUTOATTACK_PUBLISHED_STAGES, AUTOATTACK_SQUARE_QUERIES, AUTOATTACK_STAGES, evaluateAutoAttack } from "../../harness/attacks/autoattack.ts";
import { argmaxRows, rng } from "../../harness/attacks/types.ts";

const file = new URL("../../test/fixtures/qonnx_mbn.onnx", import.meta.url).pathname;
const EPS = 0.02, N = 32, SEED = 7;

describe("AutoAttack is at least as strong as PGD-20 and Square-1000, per sample", async () => {
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  const shape = res.plan.inputShape.slice(1) as [number, number, number];
  const per = shape[0] * shape[1] * shape[2], r = rng(11);
  const x = Float32Array.from({ length: N * per }, () => r());
  const data: Dataset = { name: "qonnx_mbn-uniform", n: N, shape, x, y: argmaxRows(bundle.run(x), N) } as Dataset;
  const base = { model: "qonnx_mbn", bundle, wasm: res.wasm, plan: res.plan, data, batch: 32 };
  const pgdParams = { eps: EPS, steps: 20, stepSize: (2.5 * EPS) / 20, restarts: 1, queries: 0, seed: SEED };
  const count = (a: number[]) => a.reduce((p, v) => p + v, 0);
  /** samples robust under `ensemble` that `alone` broke */
  const weaker = (ensemble: number[], alone: number[]) => ensemble.flatMap((v, i) => (v && !alone[i] ? [i] : []));

  it(`qonnx_mbn fixture, ${N} inputs, ε = ${EPS}: robust under the ensemble ⇒ robust under PGD-20 and under Square-1000`, async () => {
    const t0 = performance.now();
    const pgd = (await evaluateAttack({ ...base, attack: "pgd", params: pgdParams })).record;
    const sq = (await evaluateAttack({ ...base, attack: "square", params: { eps: EPS, steps: 0, stepSize: 0, restarts: 1, queries: 1000, seed: SEED } })).record;
    const t1 = performance.now();
    const params = { eps: EPS, steps: 100, stepSize: 0, restarts: 1, queries: AUTOATTACK_SQUARE_QUERIES, seed: SEED };
    const aa = (await evaluateAutoAttack({ ...base, params })).record;
    const published = (await evaluateAutoAttack({ ...base, params, stages: AUTOATTACK_PUBLISHED_STAGES })).record;
    const t2 = performance.now();
    const line = (rec: typeof aa) => `${count(rec.per_sample_robust)} (${rec.stages.map((s) => `${s.attack} ${Math.round(s.robust_acc * N)}`).join(" → ")})`;
    console.log(`robust of ${N}: PGD-20 ${count(pgd.per_sample_robust)}, Square-1000 ${count(sq.per_sample_robust)}, ensemble ${line(aa)}, published four ${line(published)}; ` +
      `published four weaker than Square-1000 on [${weaker(published.per_sample_robust, sq.per_sample_robust)}], than PGD-20 on [${weaker(published.per_sample_robust, pgd.per_sample_robust)}]; ` +
      `${((t1 - t0) / 1000).toFixed(1)} s + ${((t2 - t1) / 1000).toFixed(1)} s`);
    expect(pgd.natural_acc).toBe(1);
    expect(aa.stages.map((s) => s.attack)).toEqual([...AUTOATTACK_STAGES]);
    expect(weaker(aa.per_sample_robust, pgd.per_sample_robust)).toEqual([]);
    expect(weaker(aa.per_sample_robust, sq.per_sample_robust)).toEqual([]);
    // the fixture discriminates: the published four alone are weaker here than Square-1000
    expect(weaker(published.per_sample_robust, sq.per_sample_robust)).toEqual([8]);
    // something to compare: samples survive the single attacks, and some survive the ensemble
    expect(count(pgd.per_sample_robust)).toBeGreaterThan(0);
    expect(count(sq.per_sample_robust)).toBeGreaterThan(0);
    expect(count(aa.per_sample_robust)).toBeGreaterThan(0);
  });

  it("PGD-20 gives each sample the same adversarial input whatever batch it runs in", async () => {
    const full = await evaluateAttack({ ...base, attack: "pgd", params: pgdParams });
    const idx = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 === 1);
    const sub: Dataset = { ...data, n: idx.length, x: new Float32Array(idx.length * per), y: Int32Array.from(idx, (i) => data.y[i]) };
    idx.forEach((i, k) => sub.x.set(x.subarray(i * per, (i + 1) * per), k * per));
    const part = await evaluateAttack({ ...base, data: sub, attack: "pgd", params: pgdParams });
    expect(part.record.per_sample_robust).toEqual(idx.map((i) => full.record.per_sample_robust[i]));
    idx.forEach((i, k) => expect(Array.from(part.xadv.subarray(k * per, (k + 1) * per))).toEqual(Array.from(full.xadv.subarray(i * per, (i + 1) * per))));
  });
});
