// Records that reproduce: the zoo's records (models/zoo/manifest.json, models/zoo/*/meta.json,
// models/zoo/results/*.jsonl) and the published result records (results/*.json attack and bench records)
// agree with what the programs produce today, where that is cheap to check: each manifest entry's bundle
// hash and size = a fresh compile of its model.onnx; its rebuild commands = models/train/zoo.sh --print (the
// legacy recipe, --legacy, for a model selected on the test split); its training fields and the split it was
// selected on = meta.json's; each meta.json has the fields train.py writes and agrees with the training logs
// in its folder (a stage that exported elsewhere must say its command is not recorded; a model selected on
// validation has no per-epoch test_acc in its logs: the test split was read once, at export);
// attack records name a bundle today's compiler produces (or, for results/*.json, one whose logits on the
// evaluated images and their ε-balls today's bundle reproduces bit for bit); every record cites its command, date, machine
// and sample size; README's results block is what scripts/results_table.ts makes of the records.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { fingerprint, type Fingerprint } from "../../harness/attacks/fingerprint.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { rebuildCommands, selectionOf } from "../../models/zoo/recipe.ts";
import { BLOCK, resultsBlock } from "../../scripts/results_table.ts";
import { mcnemar, ROBUSTNESS_BLOCK, robustnessBlock, robustnessRecords, weakerSamples } from "../../scripts/robustness_table.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ZOO = ROOT + "models/zoo/";
const UNKNOWN = "unknown (not recorded)";
const manifest = JSON.parse(readFileSync(ZOO + "manifest.json", "utf8"));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const hashes = new Map<string, string>();
/** sha256 of today's bundle for an .onnx path relative to the repo root (compiled once). */
function bundleHash(file: string): string {
  if (!hashes.has(file)) hashes.set(file, sha(compile(readFileSync(ROOT + file), { file: ROOT + file }).wasm));
  return hashes.get(file)!;
}

const bundles = new Map<string, ReturnType<typeof loadBundle>>();
/**
 * Whether today's bundle of a record's model (an .onnx path, or a zoo model's name) has the record's
 * fingerprint on the same images and ε.
 */
async function sameFunction(r: { model: string; dataset: string; n: number; offset: number; eps: number; fingerprint: Fingerprint }): Promise<boolean> {
  const file = r.model.endsWith(".onnx") ? r.model : `models/zoo/${r.model}/model.onnx`;
  if (!bundles.has(file)) bundles.set(file, loadBundle(compile(readFileSync(ROOT + file), { file: ROOT + file }).wasm));
  // a model's PGD, Square and AutoAttack records at one ε probe the same images and ball points: computed once
  const key = JSON.stringify([file, r.dataset, r.n, r.offset, r.eps]);
  if (!fingerprints.has(key)) {
    const bundle = await bundles.get(file)!;
    const data = take(loadDataset(r.dataset), r.n, r.offset);
    fingerprints.set(key, JSON.stringify(fingerprint(bundle, data.x, r.n, r.offset, r.eps)));
  }
  return fingerprints.get(key) === JSON.stringify({ clean: r.fingerprint.clean, ball: r.fingerprint.ball });
}
const fingerprints = new Map<string, string>();

/** A train.py log: header, export line, init and averaged members (the lines train.py writes). */
function readLog(path: string) {
  const text = readFileSync(path, "utf8");
  const h = /^train (\S+) depth=\d+(?: augment=\w+)? at=(\w+) eps=[\d.]+(?: at_mix=[\d.]+)? epochs=(\d+) n=(\d+) seed=\d+$/m.exec(text);
  const e = /^exported (\S+): test_acc \(export mode\) ([\d.]+), \d+s$/m.exec(text);
  if (!h || !e) throw new Error(`${path}: not a complete train.py log`);
  return { kind: h[1], at: h[2], epochs: Number(h[3]), n: Number(h[4]), exported: e[1], acc: Number(e[2]) };
}

describe("zoo records reproduce", () => {
  it("every manifest entry cites its date, machine, command and sample size", () => {
    for (const m of manifest.models) {
      for (const k of ["date", "machine", "command", "natural_n", "bundle_sha256", "rebuild", "trained_with", "stages"]) expect(m, `${m.name}.${k}`).toHaveProperty(k);
      expect(m.command, m.name).toMatch(/^npx tsx models\/zoo\/build_manifest\.ts/);
      expect(Number.isNaN(Date.parse(m.date)), m.name).toBe(false);
    }
  });

  for (const m of manifest.models)
    it(`${m.name}: the manifest's bundle = today's compile; its recipe and training fields = zoo.sh and meta.json`, () => {
      const file = `models/zoo/${m.name}/model.onnx`;
      expect(m.file).toBe(`${m.name}/model.onnx`);
      const res = compile(readFileSync(ROOT + file), { file: ROOT + file });
      hashes.set(file, sha(res.wasm));
      expect(m.bundle_sha256, `${m.name}: bundle hash (rerun npx tsx models/zoo/build_manifest.ts)`).toBe(sha(res.wasm));
      expect(m.bundle_bytes).toBe(res.wasm.length);
      expect([m.bops, m.ops]).toEqual([res.report.totals.bops, res.report.totals.ops]);
      const meta = JSON.parse(readFileSync(ZOO + `${m.name}/meta.json`, "utf8"));
      const { selected_on, recipe } = selectionOf(meta);
      expect(m.rebuild.commands, `${m.name}: rebuild commands = bash models/train/zoo.sh --print${recipe === "legacy" ? " --legacy" : ""} (rerun npx tsx models/zoo/build_manifest.ts)`).toEqual(rebuildCommands(m.name, recipe).commands);
      expect(m.selected_on, `${m.name}: the split it was selected on = meta.json's (rerun npx tsx models/zoo/build_manifest.ts)`).toBe(selected_on);
      expect(m.trained_with).toBe(meta.command);
      expect([m.epochs, m.train_images, m.torch_acc]).toEqual([meta.epochs, meta.train_subset, meta.torch_acc]);
      expect(m.stages.map((s: any) => [s.epochs, s.train_images])).toEqual((meta.stages ?? [{ epochs: meta.epochs, train_images: meta.train_subset }]).map((s: any) => [s.epochs, s.train_images]));
    });

  for (const name of readdirSync(ZOO).filter((n) => existsSync(ZOO + `${n}/meta.json`)).sort())
    it(`${name}: meta.json holds what train.py writes and agrees with the training logs`, () => {
      const dir = ZOO + name + "/";
      const meta = JSON.parse(readFileSync(dir + "meta.json", "utf8"));
      for (const k of ["kind", "depth", "dataset", "epochs", "adversarial_training", "eps", "seed", "train_subset", "torch_acc", "train_seconds", "threads", "command"])
        expect(meta, `${name}: ${k}`).toHaveProperty(k);
      const stages = meta.stages ?? [{ epochs: meta.epochs, train_images: meta.train_subset, lr: "(single stage)", command: meta.command, torch_acc: meta.torch_acc, train_seconds: meta.train_seconds, val: meta.val }];
      // train.py writes these for every stage; lr for every stage it trains itself (a first stage carried over
      // from a single-stage meta.json has none)
      stages.forEach((s: any, i: number) => {
        for (const k of ["epochs", "train_images", "command", "torch_acc", "train_seconds", ...(i > 0 ? ["lr"] : [])]) expect(s, `${name} stage ${i + 1}: ${k}`).toHaveProperty(k);
      });
      expect(meta.epochs).toBe(stages.reduce((a: number, s: any) => a + s.epochs, 0));
      expect([meta.train_subset, meta.torch_acc]).toEqual([stages.at(-1).train_images, stages.at(-1).torch_acc]);
      expect(meta.command).toBe(stages.map((s: any) => s.command).join(" && "));
      // selected on validation: every stage held the same images out, and the test split was recorded once
      const onVal = selectionOf(meta).recipe === "val";
      if (onVal) {
        expect([meta.test_acc, typeof meta.val_acc], `${name}: test_acc, val_acc`).toEqual([meta.torch_acc, "number"]);
        expect(stages.map((s: any) => s.val), `${name}: every stage's validation split`).toEqual(stages.map(() => meta.val));
      }
      const logs = [...Array(stages.length - 1).keys()].map((i) => `log_stage${i + 1}.txt`).concat("log.txt");
      logs.forEach((f, i) => {
        expect(existsSync(dir + f), `${name}: ${f}`).toBe(true);
        const log = readLog(dir + f), s = stages[i];
        if (onVal) expect(/^epoch .* test_acc /m.test(readFileSync(dir + f, "utf8")), `${name}: ${f} logs test_acc per epoch`).toBe(false);
        expect([s.epochs, s.train_images, s.torch_acc], `${name} stage ${i + 1} vs ${f}`).toEqual([log.epochs, log.n, log.acc]);
        expect(log.kind).toBe(meta.kind);
        // the validation recipe trains in models/zoo_val/<name> and scripts/zoo_swap.sh publishes it here; any other
        // stage that exported into another folder was copied here: its record cannot name the command that ran
        const home = onVal ? `models/zoo_val/${name}` : `models/zoo/${name}`;
        if (log.exported !== `${home}/model.onnx`) expect(s.command, `${name} stage ${i + 1}: ${f} exported to ${log.exported}`).toBe(UNKNOWN);
        else if (s.command !== UNKNOWN) expect(s.command, `${name} stage ${i + 1}`).toMatch(new RegExp(`--out ${home}( |$)`));
      });
    });

  it("every attack record names a bundle today's compiler produces, or one that computes what today's computes, and its command, date, machine and n", async () => {
    const byName = new Map<string, any>(manifest.models.map((m: any) => [m.name, m]));
    const records: [string, any, string | undefined][] = [];
    for (const f of readdirSync(ZOO + "results").filter((f) => f.endsWith(".jsonl")))
      for (const l of readFileSync(ZOO + "results/" + f, "utf8").split("\n").filter(Boolean)) {
        const r = JSON.parse(l);
        records.push([`models/zoo/results/${f}`, r, byName.get(r.model)?.bundle_sha256]);
      }
    for (const f of readdirSync(ROOT + "results").filter((f) => f.endsWith(".json"))) {
      const r = JSON.parse(readFileSync(ROOT + "results/" + f, "utf8"));
      if (typeof r.attack === "string") records.push([`results/${f}`, r, existsSync(ROOT + r.model) ? bundleHash(r.model) : undefined]);
    }
    expect(records.length).toBeGreaterThan(0);
    const bad: string[] = [];
    for (const [where, r, want] of records) {
      for (const k of ["command", "date", "machine"]) if (typeof r[k] !== "string" || !r[k]) bad.push(`${where} (${r.attack} ε=${r.eps}): no ${k}`);
      if (!(Number.isInteger(r.n) && r.n > 0)) bad.push(`${where}: no sample size n`);
      if (!want) bad.push(`${where}: model ${r.model} is not in the zoo manifest or the repository`);
      else if (r.bundle_sha256 !== want) {
        // another bundle measured it: the record holds while today's bundle computes bit-identical logits on
        // every image it evaluated and on the probed point of each image's ε-ball (harness/attacks/fingerprint.ts)
        const same = r.fingerprint ? await sameFunction(r) : false;
        if (!same) bad.push(`${where} (${r.attack} ε=${r.eps}): bundle ${r.bundle_sha256.slice(0, 12)}… is not today's ${want.slice(0, 12)}…${r.fingerprint ? " and computes other logits" : ""} (stale: rerun the command it names)`);
      }
    }
    expect(bad).toEqual([]);
  }, 600_000); // one bundle run per model, ε and image slice: grows with the records (≈ 1 min on a quiet 2-core VM)

  it("every bench record cites its command, date, machine and runs", () => {
    for (const f of readdirSync(ROOT + "results").filter((f) => /^bench-.*\.json$/.test(f))) {
      const b = JSON.parse(readFileSync(ROOT + "results/" + f, "utf8"));
      for (const k of ["command", "date", "machine"]) expect(typeof b[k] === "string" && b[k].length > 0, `results/${f}: ${k}`).toBe(true);
      for (const s of b.latency) expect(Number.isInteger(s.runs) && s.runs > 0, `results/${f}: ${s.runner} runs`).toBe(true);
    }
  });

  it("README's robustness block is generated from the n ≥ 1000 attack records (npx tsx scripts/robustness_table.ts --write)", () => {
    const block = ROBUSTNESS_BLOCK.exec(readFileSync(ROOT + "README.md", "utf8"));
    expect(block, "README.md has a robustness block").not.toBeNull();
    expect(block![0]).toBe(robustnessBlock(ROOT));
  });

  it("on every model's n ≥ 1000 records the ensemble is never weaker than PGD-20 or Square-1000, sample by sample", () => {
    const recs = robustnessRecords(ROOT);
    const ensembles = recs.filter((r) => r.attack === "autoattack");
    expect(ensembles.length).toBeGreaterThan(0);
    let compared = 0;
    for (const e of ensembles)
      for (const o of recs.filter((r) => r.model === e.model && r.eps === e.eps && r.attack !== "autoattack")) {
        const weaker = weakerSamples(e, o);
        expect(weaker, `${e.model} ε=${e.eps}: ${o.attack} covers other images than the ensemble`).toBeDefined();
        expect(weaker, `${e.model} ε=${e.eps}: robust under the ensemble but broken by ${o.attack}`).toEqual([]);
        compared++;
      }
    expect(compared).toBeGreaterThan(0);
    // the check can fail: an ensemble record that keeps one image PGD-20 broke is caught
    const e = ensembles[0], o = recs.find((r) => r.model === e.model && r.eps === e.eps && r.attack === "pgd")!;
    const i = o.per_sample_robust.findIndex((v) => !v);
    const mutant = { ...e, per_sample_robust: e.per_sample_robust.map((v, j) => (j === i ? 1 : v)) };
    expect(weakerSamples(mutant, o)).toEqual([e.offset + i]);
    expect(weakerSamples({ ...e, offset: e.offset + 1 }, o)).toBeUndefined();
  });

  it("the robustness block's paired test: exact McNemar p-values worked by hand", () => {
    const v = (ones: number, zeros: number) => [...Array(ones).fill(1), ...Array(zeros).fill(0)];
    // 10 discordant images, all robust on the first model only: p = 2 · C(10,0)/2^10
    expect(mcnemar([...v(10, 0), 1, 0], [...v(0, 10), 1, 0])).toEqual({ b: 10, c: 0, p: 2 / 1024 });
    // 3 against 7: p = 2 · (1 + 10 + 45 + 120)/1024 = 352/1024, whichever order
    const a = [...v(3, 7), 1], b = [...v(0, 3), ...v(7, 0), 1];
    expect(mcnemar(a, b).p).toBeCloseTo(352 / 1024, 12);
    expect(mcnemar(b, a)).toMatchObject({ b: 7, c: 3 });
    expect(mcnemar(b, a).p).toBeCloseTo(352 / 1024, 12);
    // 5 against 5, and no discordant image: no evidence either way
    expect(mcnemar([...v(5, 5)], [...v(0, 5), ...v(5, 0)]).p).toBe(1);
    expect(mcnemar([1, 0], [1, 0])).toEqual({ b: 0, c: 0, p: 1 });
  });

  it("README's results block is generated from the records (npx tsx scripts/results_table.ts --write README.md)", () => {
    const block = BLOCK.exec(readFileSync(ROOT + "README.md", "utf8"));
    expect(block, "README.md has a results block").not.toBeNull();
    expect(block![0]).toBe(`<!-- results:start -->\n${resultsBlock(ROOT)}\n<!-- results:end -->`);
  });
});
