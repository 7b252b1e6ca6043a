// CLI: `mbn report <results…> -o report.html` — one offline HTML page from JSON result records.
import { readFileSync, writeFileSync } from "node:fs";
import { classify, renderReport } from "../../harness/report/report.ts";
import { UsageError } from "../common.ts";

export function reportCommand(files: string[], o: { output: string; title?: string }): void {
  const docs = files.map((f) => {
    try {
      const text = readFileSync(f, "utf8");
      return f.endsWith(".jsonl") ? text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${f}: not a readable JSON result (${(e as Error).message.split("\n")[0]})`);
    }
  });
  const input = classify(docs);
  if (!input.attacks.length && !input.latency.length && !input.zoo.length) throw new UsageError("no attack, latency or zoo records in the given files");
  writeFileSync(o.output, renderReport({ ...input, title: o.title, command: `mbn report ${files.join(" ")}` }));
  console.error(`wrote ${o.output} (${input.attacks.length} attack, ${input.latency.length} latency, ${input.zoo.length} zoo records)`);
}
