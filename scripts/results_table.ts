// Results tables for README.md, generated from measured JSON: models/zoo/manifest.json (natural
// accuracy on the bundle), models/zoo/results/*.jsonl (attack records on the bundle) and
// results/*.json (mbn bench records). `npx tsx scripts/results_table.ts --write README.md` replaces
// the block between <!-- results:start --> and <!-- results:end -->.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const pct = (v: number) => (v * 100).toFixed(2) + "%";
const lines: string[] = [];
if (existsSync("models/zoo/manifest.json")) {
  const zoo = JSON.parse(readFileSync("models/zoo/manifest.json", "utf8")).models;
  const att = new Map<string, any[]>();
  if (existsSync("models/zoo/results"))
    for (const f of readdirSync("models/zoo/results").filter((f) => f.endsWith(".jsonl")))
      att.set(f.replace(/\.jsonl$/, ""), readFileSync(`models/zoo/results/${f}`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
  const eps = [...new Set([...att.values()].flat().filter((r) => r.attack === "pgd").map((r) => r.eps))].sort();
  lines.push(`| model | M×K / bits | adv. training | epochs × images | natural acc (bundle) | PyTorch acc | ${eps.map((e) => `PGD-20 ε=${e}`).join(" | ")} | FGSM ε=0.1 | BOPs | OPs | bundle |`);
  lines.push(`|---|---|---|---|---|---|${eps.map(() => "---|").join("")}---|---|---|---|`);
  for (const z of zoo) {
    const rs = att.get(z.name) ?? [];
    const get = (a: string, e: number) => rs.find((r) => r.attack === a && r.eps === e);
    const cell = (r: any) => (r ? `${pct(r.adversarial_acc)} (n=${r.n})` : "–");
    lines.push(`| ${z.name} | ${z.weight_bases ? `${z.weight_bases}×${z.act_bases}` : z.fixed_point_bits ? `${z.fixed_point_bits}-bit` : "fp32"} | ${z.adversarial_training ?? "none"} | ${z.epochs} × ${z.train_images} | ${pct(z.natural_acc)} | ${pct(z.torch_acc)} | ${eps.map((e) => cell(get("pgd", e))).join(" | ")} | ${cell(get("fgsm", 0.1))} | ${(z.bops / 1e6).toFixed(1)}M | ${(z.ops / 1e6).toFixed(2)}M | ${(z.bundle_bytes / 1024).toFixed(0)} KiB |`);
  }
  const any = [...att.values()].flat()[0];
  lines.push("", `Natural accuracy: full 10 000-image Fashion-MNIST test split through the compiled bundle (\`npx tsx models/zoo/build_manifest.ts\`); attacks: first n test images, predictions from the bundle, gradients from the tfjs replica (\`npx tsx models/zoo/build_manifest.ts --attacks\`)${any ? `, ${any.date.slice(0, 10)}, ${any.machine}` : ""}.`);
}
if (existsSync("results")) {
  lines.push("", "Latency ratios are paired: the median over rounds of (peer time / bundle time) within one round of the interleaved benchmark, which cancels this VM's speed drift (up to 2× over seconds); the medians and minima are per runner.");
  for (const f of readdirSync("results").filter((f) => /^bench-.*\.json$/.test(f)).sort()) {
    const b = JSON.parse(readFileSync(`results/${f}`, "utf8"));
    lines.push("", `**Latency, ${b.model.replace(/^.*\/(fmnist_[^/]+|[^/]+)\/model\.onnx$/, "$1").replace(/^.*\//, "")}** (batch 1, 1 thread, interleaved in one process; ${b.date.slice(0, 10)}, ${b.machine}; \`${b.command ?? "mbn bench"}\`):`, "");
    lines.push("| runner | median ms | p90 ms | min ms | peer / bundle (paired) |", "|---|---|---|---|---|");
    const ratio = (r: string) => (r === "mbn bundle" ? "1.00" : r === "popcount floor" ? `(bundle / floor ${b.popcount_floor.bundle_over_floor.toFixed(2)})` : (b.ratios[r] ?? 0).toFixed(2) + "×");
    for (const s of b.latency) lines.push(`| ${s.runner} | ${s.median_ms.toFixed(2)} | ${s.p90_ms.toFixed(2)} | ${s.min_ms.toFixed(2)} | ${ratio(s.runner)} |`);
    if (b.popcount_floor)
      lines.push("", `Popcount floor: the model's ${(b.popcount_floor.popcounts / 1e6).toFixed(2)}M weight×activation popcounts in a bare loop, timed in the same rounds; peer / floor (the most any popcount-bound bundle could show on this host): ${Object.entries(b.popcount_floor.peers_over_floor).map(([k, v]) => `${k} ${(v as number).toFixed(2)}×`).join(", ")}.`);
  }
}
const block = lines.join("\n");
const i = process.argv.indexOf("--write");
if (i > 0) {
  const f = process.argv[i + 1];
  const text = readFileSync(f, "utf8");
  const re = /<!-- results:start -->[\s\S]*<!-- results:end -->/;
  if (!re.test(text)) throw new Error(`${f}: no <!-- results:start --> … <!-- results:end --> block`);
  writeFileSync(f, text.replace(re, `<!-- results:start -->\n${block}\n<!-- results:end -->`));
} else console.log(block);
