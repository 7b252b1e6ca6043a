// CLI: `mbn report <results…> -o report.html` — one offline HTML page from JSON result records.
import { classify, renderReport } from "../../harness/report/report.ts";
import { checkWritable, readInput, writeOutput } from "../io.ts";
import { firstLine, UsageError } from "../options.ts";

export function reportCommand(files: string[], o: { output: string; title?: string }): void {
  checkWritable(o.output);
  const docs = files.map((f) => {
    const text = new TextDecoder().decode(readInput(f));
    try {
      return f.endsWith(".jsonl") ? text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${f}: not a JSON result (${firstLine(e)})`);
    }
  });
  const input = classify(docs);
  if (!input.attacks.length && !input.latency.length && !input.zoo.length && !input.noisy.length) throw new UsageError("no attack, latency or zoo records in the given files");
  writeOutput(o.output, renderReport({ ...input, title: o.title, command: `mbn report ${files.join(" ")}` }));
  console.error(`wrote ${o.output} (${input.attacks.length} attack, ${input.latency.length} latency, ${input.zoo.length} zoo records${input.noisy.length ? `; ${input.noisy.length} noisy, not published` : ""})`);
}
