// Script: compile time of one model, twice, with the time at which lowering and fusion finished (issue 12: a 224² ResNet-50 in ≤ 5 s).
// Usage: npx tsx scripts/compile_time.ts model.onnx
import { readFileSync } from "node:fs";
import { compile } from "../compiler/index.ts";
const f = process.argv[2];
const bytes = readFileSync(f);
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  const marks: string[] = [];
  const r = compile(bytes, { file: f, dumpAfter: (p) => marks.push(`${p}@${(performance.now() - t0).toFixed(0)}ms`) });
  console.log(`compile ${(performance.now() - t0).toFixed(0)} ms (${marks.join(", ")}), bundle ${r.wasm.length} B, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}
