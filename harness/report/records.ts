// Harness report: the committed records the published report (docs/report.png) shows, and the hashes
// that tie the screenshot to them — recordsHash over the records a report draws (the classified
// input, in file order), rendererHash over the report's own source files. scripts/screenshot.ts
// writes both into the PNG (a tEXt chunk) and docs/report.png.json; test/harness/report.test.ts
// recomputes them from the files on disk and fails when the screenshot is stale.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { classify, type ReportInput } from "./report.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The published report's sources, relative to the repository root, in a fixed order: the zoo
 * manifest, the zoo's attack records, the JSON records in results/ (files that hold no attack,
 * latency or zoo record, e.g. conformance.json, contribute nothing). */
export function publishedSources(root = ROOT): string[] {
  const list = (dir: string, ext: string) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).sort().map((f) => `${dir}/${f}`) : []);
  return [...(existsSync(join(root, "models/zoo/manifest.json")) ? ["models/zoo/manifest.json"] : []), ...list("models/zoo/results", ".jsonl"), ...list("results", ".json")];
}

/** The published report's input: the classified records of publishedSources(), and the files that
 * contributed any (the others, e.g. conformance.json, are left out of the list). */
export function publishedRecords(root = ROOT): { input: ReportInput; sources: string[] } {
  const files = publishedSources(root).map((f) => ({ f, docs: readRecords(join(root, f)) }));
  const used = files.filter(({ docs }) => { const c = classify([docs]); return c.attacks.length + c.latency.length + c.zoo.length + c.noisy.length > 0; });
  return { input: classify(used.map(({ docs }) => docs)), sources: used.map(({ f }) => f) };
}

/** Parse a record file (.json, or .jsonl: one record per line). */
export function readRecords(file: string): unknown {
  const text = readFileSync(file, "utf8");
  return file.endsWith(".jsonl") ? text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(text);
}

/** sha256 of the records a report draws (independent of title, date and command). */
export function recordsHash(inp: Pick<ReportInput, "attacks" | "latency" | "zoo" | "noisy">): string {
  return createHash("sha256").update(JSON.stringify({ attacks: inp.attacks, latency: inp.latency, zoo: inp.zoo, noisy: inp.noisy })).digest("hex");
}

export const RENDERER_FILES = ["harness/report/report.ts", "harness/report/svg.ts", "harness/report/labels.ts", "harness/report/records.ts", "scripts/screenshot.ts"];
/** sha256 of the report's source files: a change to how the report looks makes the screenshot stale too. */
export function rendererHash(root = ROOT): string {
  const h = createHash("sha256");
  for (const f of RENDERER_FILES) h.update(f).update("\0").update(readFileSync(join(root, f)).toString("utf8").replace(/\r\n/g, "\n"));
  return h.digest("hex");
}
