// APGD-CE, APGD-T, FAB-T and the AutoAttack ensemble on the MBN3x1 zoo model (32 Fashion-MNIST test images,
// predictions from the bundle, gradients from the replica; small budgets so that it runs in about a
// minute on 2 cores): ε = 0 ⇒ adversarial = natural; APGD-CE no weaker than PGD with the same
// iterations (within one sample); the ensemble's worst case is no weaker than any of its members run
// alone, the replay stages PGD-20 and Square-1000 included (per sample: every member draws from per-sample random streams); adversarial inputs lie in the ε-ball and in [0, 1] and reproduce the reported accuracy; same
// seed ⇒ same result; the record carries the per-stage accuracies and the reliability checks.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { AUTOATTACK_STAGES, evaluateAutoAttack } from "../../harness/attacks/autoattack.ts";
import { checkpointLengths } from "../../harness/attacks/apgd.ts";
import { argmaxRows } from "../../harness/attacks/types.ts";

const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;
const EPS = 0.03, STEPS = 5;

describe("APGD and AutoAttack on the MBN3x1 zoo model", async () => {
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  const data = take(loadDataset("fashion-mnist"), 32);
  const params = (eps: number, extra = {}) => ({ eps, steps: STEPS, stepSize: (2.5 * eps) / STEPS, restarts: 1, queries: 200, seed: 3, targets: 2, ...extra });
  const single = async (attack: string, eps: number, d = data, extra = {}) =>
    (await evaluateAttack({ model: "m", bundle, wasm: res.wasm, plan: res.plan, data: d, attack, batch: 32, params: params(eps, extra) })).record;
  const ensemble = (eps: number, d = data) => evaluateAutoAttack({ model: "m", bundle, wasm: res.wasm, plan: res.plan, data: d, batch: 32, params: params(eps) });

  it("the checkpoint schedule is the published one (100 iterations: 22, 19, 16, …, 6)", () => {
    expect(checkpointLengths(100)).toEqual({ first: 22, decrease: 3, min: 6 });
  });

  it("ε = 0 gives adversarial = natural accuracy (APGD-CE, APGD-T, FAB-T, autoattack)", async () => {
    for (const a of ["apgd-ce", "apgd-t", "fab-t"]) {
      const r = await single(a, 0);
      expect(r.adversarial_acc).toBe(r.natural_acc);
    }
    const { record } = await ensemble(0);
    expect(record.adversarial_acc).toBe(record.natural_acc);
    expect(record.stages.map((s) => s.robust_acc)).toEqual(AUTOATTACK_STAGES.map(() => record.natural_acc));
  });

  it("APGD-CE is no weaker than PGD with the same iterations (within one sample)", async () => {
    const p = await single("pgd", EPS), a = await single("apgd-ce", EPS);
    console.log(`ε=${EPS}, ${STEPS} iterations on 32 images: PGD ${p.adversarial_acc}, APGD-CE ${a.adversarial_acc}`);
    expect(a.adversarial_acc).toBeLessThanOrEqual(p.adversarial_acc + 1 / 32 + 1e-9);
    expect(a.adversarial_acc).toBeLessThan(a.natural_acc);
  });

  it("autoattack: worst case no weaker than any member alone, inputs in the ε-ball, record with stages and checks", async () => {
    const { record, xadv } = await ensemble(EPS);
    const members = {
      "apgd-ce": await single("apgd-ce", EPS), "apgd-t": await single("apgd-t", EPS), "fab-t": await single("fab-t", EPS), square: await single("square", EPS),
      // the replay stages: mbn attack's standalone defaults
      "pgd-20": await single("pgd", EPS, data, { steps: 20, stepSize: (2.5 * EPS) / 20 }), "square-1000": await single("square", EPS, data, { queries: 1000 }),
    };
    console.log(`ε=${EPS}: autoattack ${record.adversarial_acc} (stages ${record.stages.map((s) => `${s.attack} ${s.robust_acc}`).join(", ")}); alone: ${Object.entries(members).map(([k, r]) => `${k} ${r.adversarial_acc}`).join(", ")}; warnings: ${record.checks.warnings.length}`);
    for (const [k, r] of Object.entries(members)) {
      expect(record.adversarial_acc).toBeLessThanOrEqual(r.adversarial_acc);
      // per sample (every member's randomness is the sample's own stream): what it breaks alone, the ensemble breaks
      r.per_sample_robust.forEach((v, i) => v === 0 && expect(record.per_sample_robust[i]).toBe(0));
    }
    // stage 1 is APGD-CE alone on the same samples with the same seed
    expect(record.stages[0].robust_acc).toBe(members["apgd-ce"].adversarial_acc);
    const accs = record.stages.map((s) => s.robust_acc);
    expect(accs.map((s) => s.toString())).toEqual([...accs].sort((a, b) => b - a).map((s) => s.toString()));
    expect(accs.at(-1)).toBe(record.adversarial_acc);
    expect(record.stages.map((s) => s.attack)).toEqual(["apgd-ce", "apgd-t", "fab-t", "pgd-20", "square", "square-1000"]);
    expect(record.stages.map((s) => s.steps ?? s.queries)).toEqual([STEPS, STEPS, STEPS, 20, 200, 1000]);
    expect(record.stages[1].attacked).toBe(Math.round(record.stages[0].robust_acc * 32));
    const c = record.checks;
    expect(c.replica_agreement).toBeGreaterThanOrEqual(0.95);
    expect(c.zero_gradient_fraction).toBeLessThan(0.05);
    expect(c.deterministic).toBe(true);
    expect(c.outputs_are_probabilities).toBe(false);
    expect(c.square_below_gradient).toBe(c.square_extra_broken > 0);
    expect(c.reliable).toBe(c.warnings.length === 0);
    expect(record.per_sample_broken_by.filter((b) => b === "").length).toBe(Math.round(record.adversarial_acc * 32));
    const x = data.x;
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(xadv[i] - x[i])).toBeLessThanOrEqual(EPS);
      expect(xadv[i] >= 0 && xadv[i] <= 1).toBe(true);
    }
    const pred = argmaxRows(bundle.run(xadv), 32);
    expect(pred.reduce((p, v, i) => p + (v === data.y[i] ? 1 : 0), 0) / 32).toBe(record.adversarial_acc);
  });

  it("same seed ⇒ same result (autoattack on 12 images)", async () => {
    const d = take(data, 12);
    const a = await ensemble(EPS, d), b = await ensemble(EPS, d);
    expect(a.record.per_sample_broken_by).toEqual(b.record.per_sample_broken_by);
    expect(Array.from(a.xadv)).toEqual(Array.from(b.xadv));
  });
});
