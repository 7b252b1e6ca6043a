// README's robustness comparison at n ≥ 1000, generated from the attack records in results/ (written by
// `mbn attack … -o results/<attack>-<n>-<model>-eps<ε>.json`; never typed by hand): per ε, robust accuracy
// of each model under PGD-20, Square-1000 and the AutoAttack ensemble (worst case per sample, with the
// accuracy after each stage), the seconds each run took, and for each compared pair (PAIRS) whose two
// models have records the difference and a paired McNemar verdict per attack. Each table names its
// images, date, machine and the records' commands.
//   npx tsx scripts/robustness_table.ts            prints the block
//   npx tsx scripts/robustness_table.ts --write    rewrites README.md between the markers
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// a model's display name, as the report writes it (models/zoo/fmnist_resnet56_fp32/model.onnx → resnet56_fp32)
import { short } from "../harness/report/report.ts";

export const ROBUSTNESS_BLOCK = /<!-- robustness:start -->[\s\S]*<!-- robustness:end -->/;
const ROWS = [["pgd", "PGD-20"], ["square", "Square-1000"], ["autoattack", "AutoAttack (worst case)"]] as const;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
/**
 * The compared pairs, as short model names (first − second): the study's two, and the like-for-like one
 * its second lacks (it sets an adversarially trained MBN against a naturally trained float model; fp32_at
 * is the float ResNet-20 fine-tuned with the same adversarial recipe).
 */
const PAIRS = [["mbn3x1", "fxp2"], ["mbn3x3_at", "resnet56_fp32"], ["mbn3x3_at", "fp32_at"]] as const;

interface Rec { model: string; attack: string; eps: number; n: number; offset: number; natural_acc: number; adversarial_acc: number; seconds: number; steps: number; queries: number; date: string; machine: string; command: string; shard_commands?: string[]; per_sample_robust: number[]; stages?: { attack: string; robust_acc: number }[] }

/**
 * Issue 15's "never weaker" on the records themselves: the images the ensemble left robust that `other`
 * (PGD-20 or Square-1000 on the same model, ε and images) broke. Undefined when the two records do not
 * cover the same images, so they cannot be compared sample by sample.
 */
export function weakerSamples(ensemble: Pick<Rec, "offset" | "n" | "per_sample_robust">, other: Pick<Rec, "offset" | "n" | "per_sample_robust">): number[] | undefined {
  if (ensemble.offset !== other.offset || ensemble.n !== other.n) return undefined;
  return ensemble.per_sample_robust.flatMap((r, i) => (r && !other.per_sample_robust[i] ? [ensemble.offset + i] : []));
}

/**
 * Exact two-sided McNemar test on two attack records of the same images: b = images robust on the first
 * model only, c = on the second only; under "the two models are equally robust" each of the b + c
 * discordant images is a fair coin, so p = min(1, 2·P[Binomial(b + c, ½) ≤ min(b, c)]).
 */
export function mcnemar(first: number[], second: number[]): { b: number; c: number; p: number } {
  let b = 0, c = 0;
  first.forEach((r, i) => { if (r && !second[i]) b++; else if (!r && second[i]) c++; });
  const n = b + c;
  if (n === 0) return { b, c, p: 1 };
  // P[X = k] = C(n, k) / 2^n, summed in logs (n ≤ 10,000)
  let logC = 0, tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return { b, c, p: Math.min(1, 2 * tail) };
}


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
    // the study's pairs whose two models both have records at this ε
    const pairs = PAIRS.map(([a, b]) => [models.find((m) => short(m) === a), models.find((m) => short(m) === b)] as const)
      .filter((p): p is readonly [string, string] => !!(p[0] && p[1]));
    const tail = (cells: string[]) => pairs.map((_, i) => ` ${cells[i]} |`).join("");
    lines.push(`| robust accuracy | ${models.map((m) => `${short(m)} (natural ${pct(natural(m))})`).join(" | ")} |${tail(pairs.map(([a, b]) => `${short(a)} − ${short(b)}`))}`);
    lines.push(`|---|${models.map(() => "---|").join("")}${pairs.map(() => "---|").join("")}`);
    for (const [a, label] of ROWS) {
      const cells = models.map((m) => {
        const r = get(m, a);
        if (!r) return "not measured";
        const stages = r.stages?.length ? `; after ${r.stages.map((s) => `${s.attack.toUpperCase()} ${pct(s.robust_acc)}`).join(", ")}` : "";
        return `${a === "autoattack" ? `**${pct(r.adversarial_acc)}**` : pct(r.adversarial_acc)} (${Math.round(r.seconds)} s${stages})`;
      });
      const diffs = pairs.map(([m0, m1]) => {
        const [r0, r1] = [get(m0, a), get(m1, a)];
        return r0 && r1 ? `${r0.adversarial_acc >= r1.adversarial_acc ? "+" : "−"}${(Math.abs(r0.adversarial_acc - r1.adversarial_acc) * 100).toFixed(1)} pp` : "–";
      });
      lines.push(`| ${label} | ${cells.join(" | ")} |${tail(diffs)}`);
    }
    // per sample: robust under the ensemble, broken by PGD-20 or Square-1000 alone (issue 15: never)
    const weaker = models.map((m) => {
      const e = get(m, "autoattack"), o = [get(m, "pgd"), get(m, "square")].filter((r): r is Rec => !!r);
      if (!e || !o.length) return "–";
      const w = o.map((r) => weakerSamples(e, r));
      return w.some((x) => !x) ? "other images" : `${new Set(w.flatMap((x) => x!)).size} of ${e.n}`;
    });
    lines.push(`| robust under the ensemble, broken by PGD-20 or Square-1000 | ${weaker.join(" | ")} |${tail(pairs.map(() => ""))}`);
    // does the pair's ranking hold? a paired test on the same images, per attack
    for (const [m0, m1] of pairs) {
      const verdicts = ROWS.flatMap(([a, label]) => {
        const [r0, r1] = [get(m0, a), get(m1, a)];
        if (!r0 || !r1 || r0.offset !== r1.offset || r0.n !== r1.n) return [];
        const { b, c, p } = mcnemar(r0.per_sample_robust, r1.per_sample_robust);
        const word = p >= 0.05 ? "no significant difference" : b > c ? `${short(m0)} more robust` : `${short(m1)} more robust`;
        return [`${label.replace(/ \(worst case\)/, "")}: ${word} (${b} images robust on ${short(m0)} only, ${c} on ${short(m1)} only; McNemar p = ${p < 0.001 ? p.toExponential(1) : p.toFixed(3)})`];
      });
      if (verdicts.length) lines.push("", `**${short(m0)} vs ${short(m1)}**, paired on the same images: ${verdicts.join("; ")}.`);
    }
    // a record merged from shards (`mbn merge`) ran as its shards' commands; its seconds are their sum
    const runCommand = (r: Rec) => r.shard_commands?.[0] ?? r.command ?? "";
    const workers = [...new Set(at.map((r) => /--workers (\d+)/.exec(runCommand(r))?.[1] ?? "1"))].sort().join(" or ");
    const shown = (r: Rec) => r.shard_commands
      ? `\`${r.shard_commands[0].replace(/--shard 0\/(\d+)/, "--shard i/$1").replace(/shard0-of/, "shard<i>-of")}\` for i = 0…${r.shard_commands.length - 1}, then \`mbn merge <those ${r.shard_commands.length}> -o ${/-o (\S+)$/.exec(r.command)?.[1] ?? "…"}\``
      : `\`${r.command}\``;
    const merged = at.some((r) => r.shard_commands) ? "; a record merged from shards gives the sum of its shards' times" : "";
    lines.push("", `Seconds: wall time of each run with --workers ${workers} (each command says which) on a VM shared with other jobs (compare figures, not times)${merged}. Commands: ${[...new Set(at.map(shown))].join(", ")}.`);
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
