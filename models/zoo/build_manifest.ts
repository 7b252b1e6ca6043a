// Zoo: builds models/zoo/manifest.json from each model's meta.json (written by the training recipe)
// and measurements on the *compiled bundle*: natural accuracy on the full bundled test split, the
// bundle's agreement with PyTorch's own outputs (test_data/), BOPs and OPs. With --attacks it also
// writes models/zoo/results/<name>.jsonl (FGSM and PGD-20 records on the bundle). Each entry names the
// bundle's sha256, how it was measured (n, date, machine, this command), the training stages as meta.json
// records them, the split its epochs/stages/soup members were chosen on (selected_on: validation, or the
// test split for the legacy recipe) and the exact commands that rebuild the model from the committed recipe
// (`bash models/train/zoo.sh --print [--legacy] <name>`, preceded by those of the zoo model it is fine-tuned from).
//   npx tsx models/zoo/build_manifest.ts [--attacks] [--n-attack 200] [--only name]
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { accuracy } from "../../harness/eval.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { fingerprint } from "../../harness/attacks/fingerprint.ts";
import { rebuildCommands, selectionOf } from "./recipe.ts";

const ZOO = fileURLToPath(new URL(".", import.meta.url));
const args = process.argv.slice(2);
const withAttacks = args.includes("--attacks");
const nAttack = Number(args[args.indexOf("--n-attack") + 1] ?? 200) || 200;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const data = loadDataset("fashion-mnist");
const writtenBy = `npx tsx models/zoo/build_manifest.ts${args.length ? " " + args.join(" ") : ""}`;
const machine = `${hostname()} ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`;
const manifestPath = join(ZOO, "manifest.json");
const previous = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")).models : [];
const models: any[] = [];
for (const name of readdirSync(ZOO).sort()) {
  const dir = join(ZOO, name);
  if (!existsSync(join(dir, "meta.json")) || !existsSync(join(dir, "model.onnx"))) continue;
  if (only && name !== only) {
    const prev = previous.find((m: any) => m.name === name);
    if (prev) models.push(prev);
    continue;
  }
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const file = join(dir, "model.onnx");
  const res = compile(readFileSync(file), { file });
  const bundle = await loadBundle(res.wasm);
  const { acc } = accuracy(bundle, data);
  const x = readNpy(readFileSync(join(dir, "test_data/input.npy"))), want = readNpy(readFileSync(join(dir, "test_data/output.npy")));
  const got = bundle.run(x.data);
  let d = 0, m = 0;
  for (let i = 0; i < got.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want.data[i]));
    m = Math.max(m, Math.abs(want.data[i]));
  }
  const kind: string = meta.kind;
  const selection = selectionOf(meta);
  const sha = createHash("sha256").update(res.wasm).digest("hex");
  // earlier bundles whose attack records stay true: today's bundle reproduces each record's fingerprint
  // (bit-identical logits on its images and their probed ε-ball points; harness/attacks/fingerprint.ts)
  const verified = new Set<string>();
  const recordsPath = join(ZOO, "results", `${name}.jsonl`);
  if (!withAttacks && existsSync(recordsPath))
    for (const r of readFileSync(recordsPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)))
      if (r.bundle_sha256 !== sha && r.fingerprint && !verified.has(r.bundle_sha256)) {
        const sub = take(data, r.n, r.offset), now = fingerprint(bundle, sub.x, r.n, r.offset, r.eps);
        if (JSON.stringify(now) === JSON.stringify({ clean: r.fingerprint.clean, ball: r.fingerprint.ball })) verified.add(r.bundle_sha256);
      }
  const mbn = /^mbn(\d+)x(\d+)$/.exec(kind), fxp = /^fxp(\d+)$/.exec(kind);
  const entry = {
    name, file: `${name}/model.onnx`, dataset: meta.dataset, arch: `resnet${meta.depth}`,
    weight_bases: mbn ? Number(mbn[1]) : null, act_bases: mbn ? Number(mbn[2]) : null, fixed_point_bits: fxp ? Number(fxp[1]) : null,
    adversarial_training: meta.adversarial_training === "none" ? null : `${meta.adversarial_training} eps=${meta.eps}${meta.at_mix ? ` mix=${meta.at_mix}` : ""}`,
    epochs: meta.epochs, train_images: meta.train_subset,
    // per stage (meta.json's stages; one stage when it has none): the "epochs × images" of the README table
    stages: (meta.stages ?? [{ epochs: meta.epochs, train_images: meta.train_subset }]).map((st: any) => ({ epochs: st.epochs, train_images: st.train_images, ...(st.averaged ? { averaged: st.averaged.length } : {}) })),
    // the split every choice of epoch, stage or soup member was made on; val_acc = PyTorch's on it (null: legacy)
    selected_on: selection.selected_on, val_acc: meta.val_acc ?? null,
    natural_acc: acc, natural_n: data.n, torch_acc: meta.torch_acc,
    bundle_vs_torch_pp: +((acc - meta.torch_acc) * 100).toFixed(3), test_data_max_rel_diff: d / m,
    train_seconds: meta.train_seconds, bops: res.report.totals.bops, ops: res.report.totals.ops,
    bundle_bytes: res.wasm.length, memory_bytes: res.report.totals.memoryBytes,
    bundle_sha256: sha,
    // records measured on these earlier bundles hold: today's computes bit-identical logits on their images
    ...(verified.size ? { same_function_as: [...verified].sort() } : {}),
    // as run (meta.json's record, "unknown (not recorded)" where the training program did not record it)
    trained_with: meta.command,
    rebuild: { env: "MBN_DATA_DIR=<folder with Fashion-MNIST's IDX files>", recipe: selection.recipe, ...rebuildCommands(name, selection.recipe) },
    date: new Date().toISOString(), machine, command: writtenBy,
  };
  models.push(entry);
  console.log(`${name}: bundle ${(acc * 100).toFixed(2)}% vs torch ${(meta.torch_acc * 100).toFixed(2)}% (Δ ${entry.bundle_vs_torch_pp} pp), test_data rel ${(d / m).toExponential(2)}, BOPs ${(entry.bops / 1e6).toFixed(1)}M`);
  if (withAttacks) {
    mkdirSync(join(ZOO, "results"), { recursive: true });
    const sub = take(data, nAttack);
    const lines: string[] = [];
    const runs: [string, number, number][] = [["fgsm", 0.02, 1], ["fgsm", 0.05, 1], ["fgsm", 0.1, 1], ["pgd", 0.05, 20], ["pgd", 0.1, 20]];
    for (const [attack, eps, steps] of runs) {
      const { record } = await evaluateAttack({
        model: name, bundle, wasm: res.wasm, plan: res.plan, data: sub, attack, batch: 50,
        params: { eps, steps, stepSize: (2.5 * eps) / steps, restarts: 1, queries: 0, seed: 0 },
      });
      lines.push(JSON.stringify({ ...record, command: writtenBy }));
      console.log(`  ${attack} ε=${eps}: ${(record.adversarial_acc * 100).toFixed(1)}% (${record.seconds.toFixed(0)} s)`);
    }
    writeFileSync(join(ZOO, "results", `${name}.jsonl`), lines.join("\n") + "\n");
  }
}
writeFileSync(manifestPath, JSON.stringify({ models }, null, 2) + "\n");
console.log(`wrote ${manifestPath} (${models.length} models)`);
