// README's robustness comparison at n ≥ 1000, generated from the attack records in results/ (written by
// `mbn attack … -o results/<attack>-<n>-<model>-eps<ε>.json`; never typed by hand): per ε, robust accuracy
// of each model under PGD-20, Square-1000 and the AutoAttack ensemble (worst case per sample, with the
// accuracy after each stage), the seconds each run took, and the difference of the study's pair
// (the study's pair: MBN3x1 − fxp2). Each table names its images, date, machine and the records' commands.
//   npx tsx scripts/robustness_table.ts            prints the block
//   npx tsx scripts/robustness_table.ts --write    rewrites README.md between the markers
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROBUSTNESS_BLOCK = /<!-- robustness:start -->[\s\S]*<!-- robustness:end -->/;
const ROWS = [["pgd", "PGD-20"], ["square", "Square-1000"], ["autoattack", "AutoAttack (worst case)"]] as const;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

interface Rec { model: string; attack: string; eps: number; n: number; offset: number; natural_acc: number; adversarial_acc: number; seconds: number; steps: number; queries: number; date: string; machine: string; command: string; per_sample_robust: number[]; stages?: { attack: string; robust_acc: number }[] }

/**
 * Issue 15's "never weaker" on the records themselves: the images the ensemble left robust that `other`
 * (PGD-20 or Square-1000 on the same model, ε and images) broke. Undefined when the two records do not
 * cover the same images, so they cannot be compared sample by sample.
 */
export function weakerSamples(ensemble: Pick<Rec, "offset" | "n" | "per_sample_robust">, other: Pick<Rec, "offset" | "n" | "per_sample_robust">): number[] | undefined {
  if (ensemble.offset !== other.offset || ensemble.n !== other.n) return undefined;
  return ensemble.per_sample_robust.flatMap((r, i) => (r && !other.per_sample_robust[i] ? [ensemble.offset + i] : []));
}

/** models/zoo/fmnist_resnet20_mbn3x1/model.onnx → mbn3x1; models/zoo/fmnist_resnet56_fp32/model.onnx → resnet56_fp32 */
const short = (model: string) => model.replace(/^.*fmnist_(resnet20_)?/, "").replace(/\/model\.onnx$/, "");

/** The n ≥ 1000 records of README's table: PGD-20, Square-1000 and the ensemble. */
export function robustnessRecords(root = "."): Rec[] {
  const dir = join(root, "results");
  return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")))
    .filter((r) => typeof r.attack === "string" && r.n >= 1000 && ROWS.some(([a]) => a === r.attack))
    .filter((r) => r.attack !== "pgd" || r.steps === 20).filter((r) => r.attack !== "square" || r.queries === 1000);
}

export function robustnessBlock(root = "."): string {
  const recs = robustnessRecords(root);
  const lines = ["<!-- robustness:start -->"];
  for (const eps of [...new Set(recs.map((r) => r.eps))].sort((a, b) => a - b)) {
    const at = recs.filter((r) => r.eps === eps);
    // the MBNs first, then the others, each once
    const models = [...new Set(at.map((r) => r.model))].sort((a, b) => Number(/mbn/.test(short(b))) - Number(/mbn/.test(short(a))) || a.localeCompare(b));
    const get = (m: string, a: string) => at.find((r) => r.model === m && r.attack === a);
    const ns = [...new Set(at.map((r) => `${r.n} images from ${r.offset}`))].join(", ");
    lines.push("", `**ε = ${eps}** (${ns}; ${[...new Set(at.map((r) => r.date.slice(0, 10)))].join(", ")}; ${[...new Set(at.map((r) => r.machine))].join("; ")})`, "");
    const natural = (m: string) => at.find((r) => r.model === m)!.natural_acc;
    // the study's pair: MBN3x1 against 2-bit fixed point
    const pair = [models.find((m) => short(m) === "mbn3x1"), models.find((m) => short(m) === "fxp2")];
    const diff = !!(pair[0] && pair[1]);
    lines.push(`| robust accuracy | ${models.map((m) => `${short(m)} (natural ${pct(natural(m))})`).join(" | ")}${diff ? " | mbn3x1 − fxp2 |" : " |"}`);
    lines.push(`|---|${models.map(() => "---|").join("")}${diff ? "---|" : ""}`);
    for (const [a, label] of ROWS) {
      const cells = models.map((m) => {
        const r = get(m, a);
        if (!r) return "not measured";
        const stages = r.stages?.length ? `; after ${r.stages.map((s) => `${s.attack.toUpperCase()} ${pct(s.robust_acc)}`).join(", ")}` : "";
        return `${a === "autoattack" ? `**${pct(r.adversarial_acc)}**` : pct(r.adversarial_acc)} (${Math.round(r.seconds)} s${stages})`;
      });
      const [r0, r1] = diff ? [get(pair[0]!, a), get(pair[1]!, a)] : [undefined, undefined];
      const d = r0 && r1 ? `${r0.adversarial_acc >= r1.adversarial_acc ? "+" : "−"}${(Math.abs(r0.adversarial_acc - r1.adversarial_acc) * 100).toFixed(1)} pp` : "–";
      lines.push(`| ${label} | ${cells.join(" | ")}${diff ? ` | ${d} |` : " |"}`);
    }
    // per sample: robust under the ensemble, broken by PGD-20 or Square-1000 alone (issue 15: never)
    const weaker = models.map((m) => {
      const e = get(m, "autoattack"), o = [get(m, "pgd"), get(m, "square")].filter((r): r is Rec => !!r);
      if (!e || !o.length) return "–";
      const w = o.map((r) => weakerSamples(e, r));
      return w.some((x) => !x) ? "other images" : `${new Set(w.flatMap((x) => x!)).size} of ${e.n}`;
    });
    lines.push(`| robust under the ensemble, broken by PGD-20 or Square-1000 | ${weaker.join(" | ")}${diff ? " | |" : " |"}`);
    lines.push("", `Seconds: wall time of each run with --workers 2 on a VM shared with other jobs (compare figures, not times). Commands: ${[...new Set(at.map((r) => `\`${r.command}\``))].join(", ")}.`);
  }
  lines.push("<!-- robustness:end -->");
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const block = robustnessBlock(root);
  if (process.argv.includes("--write")) {
    const readme = join(root, "README.md"), text = readFileSync(readme, "utf8");
    if (!ROBUSTNESS_BLOCK.test(text)) throw new Error("README.md has no robustness markers");
    writeFileSync(readme, text.replace(ROBUSTNESS_BLOCK, () => block));
  } else console.log(block);
}
