// `mbn merge` of autoattack shards: the ensemble on 12 MBN3x1 images (small budgets) run whole and
// as shards 0/2 + 1/2 (samples 0–5, 6–11, same seed) — the merged record equals the whole run per
// sample (robust, success, broken-by), per stage (attacked, broken, cumulative robust accuracy) and in
// its checks; mean queries are the attacked-weighted means, seconds the shards' sum. Refused: a shard
// given twice, a missing shard, an autoattack shard with an APGD-CE shard, shards whose stage lists
// differ, an autoattack record without its stages; and the CLI merges shard files written by
// `mbn attack --attack autoattack --shard i/n` (one `mbn: …` line on a refusal), and shards measured by
// different bundles when today's bundle reproduces their fingerprints (not when one logit hash differs).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { evaluateAutoAttack, type AutoAttackRecord } from "../../harness/attacks/autoattack.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { MergeError, mergeShards, type ShardRecord } from "../../harness/attacks/parallel.ts";

const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;
const EPS = 0.03, N = 12;

describe("merging autoattack shards", async () => {
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  const data = take(loadDataset("fashion-mnist"), N);
  const params = { eps: EPS, steps: 5, stepSize: (2.5 * EPS) / 5, restarts: 1, queries: 200, seed: 3, targets: 2 };
  const run = async (n: number, offset: number, stages?: string[]) =>
    (await evaluateAutoAttack({ model: "m", bundle, wasm: res.wasm, plan: res.plan, data: take(data, n, offset), offset, batch: 32, params, stages })).record;
  const shard = (r: AutoAttackRecord, i: number, k = 2): ShardRecord => ({ ...r, shard: `${i}/${k}`, run_n: N });
  const whole = await run(N, 0);
  const parts = [shard(await run(6, 0), 0), shard(await run(6, 6), 1)];

  it("two shards merge into the whole run: per sample, per stage, checks", () => {
    const m = mergeShards(parts.map((record, i) => ({ record, source: `s${i}` }))) as AutoAttackRecord;
    console.log(`whole: ${whole.stages.map((s) => `${s.attack} ${s.robust_acc}`).join(", ")}; merged: ${m.stages.map((s) => `${s.attack} ${s.robust_acc}`).join(", ")}`);
    expect(m.n).toBe(N);
    expect(m.per_sample_robust).toEqual(whole.per_sample_robust);
    expect(m.per_sample_success).toEqual(whole.per_sample_success);
    expect(m.per_sample_broken_by).toEqual(whole.per_sample_broken_by);
    expect(m.adversarial_acc).toBe(whole.adversarial_acc);
    expect(m.natural_acc).toBe(whole.natural_acc);
    const pick = (r: AutoAttackRecord) => r.stages.map((s) => ({ attack: s.attack, attacked: s.attacked, broken: s.broken, robust_acc: s.robust_acc, steps: s.steps, targets: s.targets, queries: s.queries }));
    expect(pick(m)).toEqual(pick(whole));
    m.stages.forEach((s, j) => {
      const a = parts.map((p) => (p as AutoAttackRecord).stages[j]);
      const att = a[0].attacked + a[1].attacked;
      expect(s.mean_queries).toBeCloseTo(att ? (a[0].mean_queries * a[0].attacked + a[1].mean_queries * a[1].attacked) / att : 0, 10);
      expect(s.seconds).toBeCloseTo(a[0].seconds + a[1].seconds, 10);
    });
    const c = m.checks, w = whole.checks;
    expect([c.gradient_robust_acc, c.square_robust_acc, c.square_below_gradient, c.square_extra_broken, c.deterministic, c.outputs_are_probabilities])
      .toEqual([w.gradient_robust_acc, w.square_robust_acc, w.square_below_gradient, w.square_extra_broken, w.deterministic, w.outputs_are_probabilities]);
    expect(c.replica_agreement).toBeCloseTo(w.replica_agreement!, 10);
    expect(c.reliable).toBe(c.warnings.length === 0);
    expect(m.mean_queries).toBeCloseTo(whole.mean_queries, 6);
    expect((m as ShardRecord).shard).toBeUndefined();
  });

  it("refuses duplicate, missing and mixed shards", async () => {
    const merge = (rs: ShardRecord[]) => () => mergeShards(rs.map((record, i) => ({ record, source: `s${i}` })));
    expect(merge([parts[0], parts[0]])).toThrow(/given twice/);
    expect(merge([parts[0]])).toThrow(/missing shard 1\/2/);
    const ce = (await evaluateAttack({ model: "m", bundle, wasm: res.wasm, plan: res.plan, data: take(data, 6, 6), offset: 6, attack: "apgd-ce", batch: 32, params })).record;
    expect(merge([parts[0], { ...ce, shard: "1/2", run_n: N }])).toThrow(MergeError);
    expect(merge([parts[0], { ...ce, shard: "1/2", run_n: N }])).toThrow(/attack "apgd-ce" vs "autoattack"/);
    const noFab = shard(await run(6, 6, ["apgd-ce", "apgd-t", "square"]), 1);
    expect(merge([parts[0], noFab])).toThrow(/\(stages apgd-ce\/5 it → apgd-t\/5 it\/2 targets → square\/200 q vs .* → fab-t\/5 it\/2 targets → pgd-20\/20 it → square\/200 q → square-1000\/1000 q/);
    const { stages: _, ...bare } = parts[1] as AutoAttackRecord & ShardRecord;
    expect(merge([parts[0], bare as ShardRecord])).toThrow(/without its per-stage summaries/);
  });

  it("the CLI merges autoattack shard files and refuses a duplicate in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mbn-aamerge-"));
    parts.forEach((p, i) => writeFileSync(join(dir, `s${i}.json`), JSON.stringify(p)));
    const { mergeCommand } = await import("../../cli/commands/merge.ts");
    mergeCommand([join(dir, "s1.json"), join(dir, "s0.json")], { output: join(dir, "m.json") });
    const m = JSON.parse(readFileSync(join(dir, "m.json"), "utf8")) as AutoAttackRecord;
    expect(m.per_sample_broken_by).toEqual(whole.per_sample_broken_by);
    expect(m.stages.map((s) => s.robust_acc)).toEqual(whole.stages.map((s) => s.robust_acc));
    expect(() => mergeCommand([join(dir, "s0.json"), join(dir, "s0.json")], {})).toThrow(/s0\.json: shard 0\/2 given twice/);
  });

  it("shards measured by different bundles merge when today's bundle reproduces each one's fingerprint, and only then", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mbn-aamerge2-"));
    const p0 = { ...parts[0], model: file }, other = { ...parts[1], model: file, bundle_sha256: "0".repeat(64) };
    const bad = { ...other, fingerprint: { ...other.fingerprint!, clean: other.fingerprint!.clean.map((h, i) => (i ? h : (h ^ 1) >>> 0)) } };
    writeFileSync(join(dir, "s0.json"), JSON.stringify(p0));
    writeFileSync(join(dir, "s1.json"), JSON.stringify(other));
    writeFileSync(join(dir, "bad.json"), JSON.stringify(bad));
    const { mergeCommand } = await import("../../cli/commands/merge.ts");
    await mergeCommand([join(dir, "s0.json"), join(dir, "s1.json")], { output: join(dir, "m.json") });
    const m = JSON.parse(readFileSync(join(dir, "m.json"), "utf8"));
    expect(m.per_sample_robust).toEqual(whole.per_sample_robust);
    expect(m.bundle_sha256).toBe(parts[0].bundle_sha256); // today's: the test compiled the same file
    expect(m.shard_bundles).toEqual([parts[0].bundle_sha256, "0".repeat(64)]);
    // one changed logit hash on one image: not today's function
    await expect(Promise.resolve().then(() => mergeCommand([join(dir, "s0.json"), join(dir, "bad.json")], {}))).rejects.toThrow(/bad\.json: measured by bundle 000000000000…, and today.s bundle of .* computes other logits on its images/);
    // without today's bundle (mergeShards alone, as inside one run) different bundles stay refused
    expect(() => mergeShards([{ record: p0, source: "a" }, { record: other, source: "b" }])).toThrow(/not the same run as a \(bundle_sha256/);
  });
});
