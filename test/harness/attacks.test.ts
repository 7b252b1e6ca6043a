// Attack sanity on trained zoo models, all predictions from the bundle:
// ε = 0 ⇒ adversarial = natural; accuracy non-increasing in ε; PGD no weaker than FGSM; a 2-bit
// fixed-point model is really attacked (no gradient masking); on the float model, PGD matches a
// PyTorch reference implementation (models/train/pgd_reference.py) within 2pp; same seed ⇒ same
// result; --save-adv inputs lie in the ε-ball and in [0, 1] and reproduce the adversarial accuracy.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { evaluateAttack, mergeRecords } from "../../harness/attacks/evaluate.ts";
import { argmaxRows } from "../../harness/attacks/types.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { agreement } from "../helpers/oracle.ts";

const zoo = (name: string) => new URL(`../../models/zoo/${name}/`, import.meta.url).pathname;

async function setup(name: string, n: number) {
  const file = zoo(name) + "model.onnx";
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  return { res, bundle, data: take(loadDataset("fashion-mnist"), n) };
}

const run = async (s: Awaited<ReturnType<typeof setup>>, attack: string, eps: number, steps = 5, extra = {}) =>
  (await evaluateAttack({
    model: "m", bundle: s.bundle, wasm: s.res.wasm, plan: s.res.plan, data: s.data, attack, batch: 32,
    params: { eps, steps, stepSize: (2.5 * eps) / steps, restarts: 1, queries: 100, seed: 1, ...extra },
  }));

describe("attacks on the MBN3x1 zoo model", async () => {
  const s = await setup("fmnist_resnet20_mbn3x1", 32);
  it("the replica's logits agree with the bundle under the end-to-end oracle rule (ties only with evidence)", async () => {
    const replica = await Replica.build(s.res.plan);
    const x = s.data.x, n = s.data.n;
    const a = agreement(s.res, x, s.bundle.run(x), { replica: replica.logits(x, n) }, n);
    console.log(`replica vs bundle on ${n} Fashion-MNIST images: maxRel ${a.maxRel.toExponential(2)}, excused ${a.excused.length}/${a.cap}`);
    expect(a.unexplained).toEqual([]);
    expect(a.excused.length).toBeLessThanOrEqual(a.cap);
    expect(a.maxRel).toBeLessThanOrEqual(1e-4);
  });
  it("ε = 0 gives adversarial = natural accuracy", async () => {
    for (const a of ["fgsm", "pgd", "square"]) {
      const { record } = await run(s, a, 0);
      expect(record.adversarial_acc).toBe(record.natural_acc);
    }
  });
  it("PGD accuracy is non-increasing in ε, PGD no weaker than FGSM, replica agrees with the bundle", async () => {
    let prev = 1;
    for (const eps of [0.01, 0.03, 0.1]) {
      const p = (await run(s, "pgd", eps)).record, f = (await run(s, "fgsm", eps)).record;
      expect(p.adversarial_acc).toBeLessThanOrEqual(prev);
      expect(p.adversarial_acc).toBeLessThanOrEqual(f.adversarial_acc);
      expect(p.replica_agreement).toBeGreaterThanOrEqual(0.95);
      expect(p.gradient!.masking_suspected).toBe(false);
      prev = p.adversarial_acc;
    }
    expect(prev).toBeLessThan(0.5);
  });
  it("same seed ⇒ same result; saved adversarial inputs are in the ε-ball, in [0, 1], and reproduce the accuracy", async () => {
    const a = await run(s, "square", 0.05), b = await run(s, "square", 0.05);
    expect(a.record.per_sample_robust).toEqual(b.record.per_sample_robust);
    expect(Array.from(a.xadv)).toEqual(Array.from(b.xadv));
    const x = s.data.x;
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(a.xadv[i] - x[i])).toBeLessThanOrEqual(0.05);
      expect(a.xadv[i] >= 0 && a.xadv[i] <= 1).toBe(true);
    }
    const pred = argmaxRows(s.bundle.run(a.xadv), s.data.n);
    const acc = pred.reduce((p, v, i) => p + (v === s.data.y[i] ? 1 : 0), 0) / s.data.n;
    expect(acc).toBe(a.record.adversarial_acc);
  });
});

describe("sharded evaluation", () => {
  it("two shards merged with mergeRecords equal one run (FGSM, same seed)", async () => {
    const s = await setup("fmnist_resnet20_mbn3x1", 32);
    const whole = (await run(s, "fgsm", 0.03)).record;
    const half = async (offset: number) => (await evaluateAttack({
      model: "m", bundle: s.bundle, wasm: s.res.wasm, plan: s.res.plan, data: take(s.data, 16, offset), offset, attack: "fgsm", batch: 32,
      params: { eps: 0.03, steps: 1, stepSize: 0.03, restarts: 1, queries: 0, seed: 1 },
    })).record;
    const merged = mergeRecords([await half(16), await half(0)]);
    expect(merged.per_sample_robust).toEqual(whole.per_sample_robust);
    expect(merged.adversarial_acc).toBeCloseTo(whole.adversarial_acc, 10);
    expect(merged.n).toBe(32);
  });
});

describe("a 2-bit fixed-point model is attacked, not masked", () => {
  it.runIf(existsSync(zoo("fmnist_resnet20_fxp2") + "model.onnx"))("PGD on fxp2 finds adversarial examples with non-zero gradients", async () => {
    const s = await setup("fmnist_resnet20_fxp2", 32);
    const { record } = await run(s, "pgd", 0.1);
    expect(record.gradient!.zero_fraction).toBeLessThan(0.05);
    expect(record.gradient!.masking_suspected).toBe(false);
    expect(record.adversarial_acc).toBeLessThan(record.natural_acc - 0.3);
  });
});

describe("PGD on the float model agrees with a PyTorch reference", () => {
  const refFile = zoo("fmnist_resnet20_fp32") + "pgd_reference.json";
  it("within 2pp (no random start, same ε/steps/step size)", async () => {
    // the reference belongs to the zoo's float model: scripts/zoo_swap.sh removes it with the model it replaces
    expect(existsSync(refFile), `${refFile} missing: /usr/bin/python3 models/train/pgd_reference.py <the model's folder with state_dict.pt> --eps 0.02 --steps 10 --n 100 (docs/robustness.md, "Publishing the retrained zoo")`).toBe(true);
    const ref = JSON.parse(readFileSync(refFile, "utf8"));
    const s = await setup("fmnist_resnet20_fp32", ref.n);
    const { record } = await run(s, "pgd", ref.eps, ref.steps, { stepSize: ref.step_size, randomStart: false });
    expect(Math.abs(record.natural_acc - ref.natural_acc)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(record.adversarial_acc - ref.adversarial_acc)).toBeLessThanOrEqual(0.02);
  });
});
