// Results tables for README.md, generated from measured JSON: models/zoo/manifest.json (natural
// accuracy on the bundle, training stages), models/zoo/results/*.jsonl (attack records on the bundle) and
// results/bench-*.json (mbn bench records). Every figure names its sample size, and every block the date,
// machine and command of the records behind it. An attack record whose bundle_sha256 is not the manifest's
// (a bundle today's compiler no longer produces) is shown as "stale", never as a figure — unless the
// manifest lists it in same_function_as (today's bundle reproduces the record's fingerprint: build_manifest.ts
// checks, test/models/records.test.ts checks again); a bench record
// flagged noisy is not published.
//   npx tsx scripts/results_table.ts                  prints the block
//   npx tsx scripts/results_table.ts --write README.md replaces the block between <!-- results:start --> and <!-- results:end -->
//   npx tsx scripts/results_table.ts --check README.md exits 1 when README's block is not what the records give
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const pct = (v: number) => (v * 100).toFixed(2) + "%";
const distinct = (xs: string[]) => [...new Set(xs)].join("; ");
const kimg = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));
export const BLOCK = /<!-- results:start -->[\s\S]*<!-- results:end -->/;

/** "3×30k + 3×60k" from the manifest's stages (consecutive stages on the same images summed; a soup as "avg of k"),
 * preceded by the zoo model it was fine-tuned from. */
export function trainingCell(z: any): string {
  const parts: string[] = [];
  let run: { epochs: number; images: number } | undefined;
  for (const st of z.stages ?? [{ epochs: z.epochs, train_images: z.train_images }]) {
    if (st.averaged) {
      if (run) parts.push(`${run.epochs}×${kimg(run.images)}`), (run = undefined);
      parts.push(`avg of ${st.averaged}`);
    } else if (run && run.images === st.train_images) run.epochs += st.epochs;
    else {
      if (run) parts.push(`${run.epochs}×${kimg(run.images)}`);
      run = { epochs: st.epochs, images: st.train_images };
    }
  }
  if (run) parts.push(`${run.epochs}×${kimg(run.images)}`);
  const from = z.rebuild?.needs?.length ? `${z.rebuild.needs[z.rebuild.needs.length - 1].replace(/^fmnist_resnet20_/, "")} + ` : "";
  return from + parts.join(" + ");
}

export function resultsBlock(root = "."): string {
  const lines: string[] = [];
  const manifestPath = join(root, "models/zoo/manifest.json");
  if (existsSync(manifestPath)) {
    const zoo = JSON.parse(readFileSync(manifestPath, "utf8")).models;
    const att = new Map<string, any[]>();
    const resultsDir = join(root, "models/zoo/results");
    if (existsSync(resultsDir))
      for (const f of readdirSync(resultsDir).filter((f) => f.endsWith(".jsonl")).sort())
        att.set(f.replace(/\.jsonl$/, ""), readFileSync(join(resultsDir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
    const eps = [...new Set([...att.values()].flat().filter((r) => r.attack === "pgd").map((r) => r.eps))].sort();
    lines.push(`| model | M×K / bits | adv. training | training (epochs × images) | natural acc (bundle) | PyTorch acc | ${eps.map((e) => `PGD-20 ε=${e}`).join(" | ")} | FGSM ε=0.1 | BOPs | OPs | bundle |`);
    lines.push(`|---|---|---|---|---|---|${eps.map(() => "---|").join("")}---|---|---|---|`);
    let stale = 0;
    for (const z of zoo) {
      const rs = att.get(z.name) ?? [];
      const get = (a: string, e: number) => rs.find((r) => r.attack === a && r.eps === e);
      const current = (r: any) => r.bundle_sha256 === z.bundle_sha256 || (z.same_function_as ?? []).includes(r.bundle_sha256);
      const cell = (r: any) => (!r ? "–" : !current(r) ? (stale++, "stale") : `${pct(r.adversarial_acc)} (n=${r.n})`);
      const nat = (a: number) => `${pct(a)}${z.natural_n ? ` (n=${z.natural_n})` : ""}`;
      lines.push(`| ${z.name} | ${z.weight_bases ? `${z.weight_bases}×${z.act_bases}` : z.fixed_point_bits ? `${z.fixed_point_bits}-bit` : "fp32"} | ${z.adversarial_training ?? "none"} | ${trainingCell(z)} | ${nat(z.natural_acc)} | ${nat(z.torch_acc)} | ${eps.map((e) => cell(get("pgd", e))).join(" | ")} | ${cell(get("fgsm", 0.1))} | ${(z.bops / 1e6).toFixed(1)}M | ${(z.ops / 1e6).toFixed(2)}M | ${(z.bundle_bytes / 1024).toFixed(0)} KiB |`);
    }
    const recs = [...att.values()].flat();
    lines.push("", `Natural accuracy: the Fashion-MNIST test split (n images) through the compiled bundle, PyTorch's on the same weights from train.py's record; training: epochs × training images per stage ("avg of k": a soup of k checkpoints; "x + …": fine-tuned from model x), as each model's meta.json records it; the commands that rebuild each model are in models/zoo/manifest.json (\`rebuild\`, from models/train/zoo.sh). Measured ${distinct(zoo.map((z: any) => z.date?.slice(0, 10) ?? "date not recorded"))} on ${distinct(zoo.map((z: any) => z.machine ?? "machine not recorded"))} by \`${distinct(zoo.map((z: any) => z.command ?? "command not recorded"))}\`.`);
    if (recs.length)
      lines.push("", `Attacks: the first n test images, predictions from the bundle, gradients from the tfjs replica; ${distinct(recs.map((r) => r.date.slice(0, 10)))}, ${distinct(recs.map((r) => r.machine))}, \`${distinct(recs.map((r) => r.command ?? "npx tsx models/zoo/build_manifest.ts --attacks"))}\`${stale ? `; "stale": ${stale} record(s) measured on a bundle today's compiler no longer produces (rerun \`npx tsx models/zoo/build_manifest.ts --attacks --n-attack 100\`)` : ""}.`);
  }
  const resDir = join(root, "results");
  if (existsSync(resDir)) {
    const bench = readdirSync(resDir).filter((f) => /^bench-.*\.json$/.test(f)).sort().map((f) => JSON.parse(readFileSync(join(resDir, f), "utf8")));
    if (bench.length)
      lines.push("", "Latency ratios are paired: the median over rounds of (peer time / bundle time) within one round of the interleaved benchmark, which cancels this VM's speed drift (up to 2× over seconds); the medians and minima are per runner.");
    for (const b of bench) {
      const name = b.model.replace(/^.*\/(fmnist_[^/]+|[^/]+)\/model\.onnx$/, "$1").replace(/^.*\//, "");
      if (b.noisy) {
        lines.push("", `**Latency, ${name}**: not published — the record's noise gauge says the machine was too busy (${b.date.slice(0, 10)}, ${b.machine}; \`${b.command ?? "mbn bench"}\`).`);
        continue;
      }
      const runs = distinct(b.latency.map((s: any) => String(s.runs ?? "?")));
      lines.push("", `**Latency, ${name}** (batch 1, 1 thread, interleaved in one process, n=${runs} runs per runner; ${b.date.slice(0, 10)}, ${b.machine}; \`${b.command ?? "mbn bench"}\`):`, "");
      lines.push("| runner | median ms | p90 ms | min ms | peer / bundle (paired) |", "|---|---|---|---|---|");
      const ratio = (r: string) => (r === "mbn bundle" ? "1.00" : r === "popcount floor" ? `(bundle / floor ${b.popcount_floor.bundle_over_floor.toFixed(2)})` : (b.ratios[r] ?? 0).toFixed(2) + "×");
      for (const s of b.latency) lines.push(`| ${s.runner} | ${s.median_ms.toFixed(2)} | ${s.p90_ms.toFixed(2)} | ${s.min_ms.toFixed(2)} | ${ratio(s.runner)} |`);
      if (b.popcount_floor)
        lines.push("", `Popcount floor: the model's ${(b.popcount_floor.popcounts / 1e6).toFixed(2)}M weight×activation popcounts in a bare loop, timed in the same rounds; peer / floor (the most any popcount-bound bundle could show on this host): ${Object.entries(b.popcount_floor.peers_over_floor).map(([k, v]) => `${k} ${(v as number).toFixed(2)}×`).join(", ")}.`);
    }
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const block = resultsBlock(fileURLToPath(new URL("../", import.meta.url)));
  const w = process.argv.indexOf("--write"), c = process.argv.indexOf("--check");
  const f = w > 0 ? process.argv[w + 1] : c > 0 ? process.argv[c + 1] : undefined;
  if (!f) console.log(block);
  else {
    const text = readFileSync(f, "utf8");
    if (!BLOCK.test(text)) {
      console.error(`mbn: ${f}: no <!-- results:start --> … <!-- results:end --> block`);
      process.exit(1);
    }
    const next = text.replace(BLOCK, `<!-- results:start -->\n${block}\n<!-- results:end -->`);
    if (w > 0) writeFileSync(f, next);
    else if (next !== text) {
      console.error(`mbn: ${f}: the results block is not what the records give (npx tsx scripts/results_table.ts --write ${f})`);
      process.exit(1);
    }
  }
}
