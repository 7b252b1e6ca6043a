// Grouped target runs (run_groups.ts) give what the published one-run-at-a-time sequence gives, bit
// for bit: APGD-T (ε = 0.03, 6 iterations, 2 restarts) and FAB-T (ε = 0.1, 20 iterations) with 4
// targets on the MBN3x1 zoo model (16 Fashion-MNIST images) with groupRows 0 (one run at a time) and 32 (later runs
// join the batch when few samples are left) — same robust samples, same adversarial inputs, same
// queries per sample.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";

const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;

describe("grouped target runs equal the sequence", async () => {
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  const data = take(loadDataset("fashion-mnist"), 16);
  const run = async (attack: string, groupRows: number, restarts: number, eps: number, steps: number) => evaluateAttack({
    model: "m", bundle, wasm: res.wasm, plan: res.plan, data, attack, batch: 16,
    params: { eps, steps, stepSize: 0, restarts, queries: 0, seed: 4, targets: 4, groupRows },
  });
  // FAB-T needs more iterations and a larger ε to break some of the MBN's samples (fab.test.ts)
  for (const [attack, restarts, eps, steps] of [["apgd-t", 2, 0.03, 6], ["fab-t", 1, 0.1, 20]] as const)
    it(`${attack}: groupRows 32 ≡ one run at a time`, async () => {
      const seq = await run(attack, 0, restarts, eps, steps);
      const t0 = performance.now();
      const grp = await run(attack, 32, restarts, eps, steps);
      console.log(`${attack}: robust ${seq.record.adversarial_acc} vs ${grp.record.adversarial_acc}; ${seq.record.seconds.toFixed(1)} s one at a time, ${((performance.now() - t0) / 1000).toFixed(1)} s grouped`);
      expect(grp.record.per_sample_robust).toEqual(seq.record.per_sample_robust);
      expect(grp.record.mean_queries).toBe(seq.record.mean_queries);
      expect(Buffer.from(grp.xadv.buffer).equals(Buffer.from(seq.xadv.buffer))).toBe(true);
      expect(seq.record.adversarial_acc).toBeLessThan(seq.record.natural_acc);
    });
});
