// Nightly-style compiler fuzz run (not part of npm test): npx tsx test/fuzz/nightly.ts [cases] [seed]
// Mutates every fixture under test/fixtures; prints a summary and exits 1 on any problem.
import { readdirSync, readFileSync } from "node:fs";
import { mutate, rng, runCase } from "./mutate.ts";

const dir = new URL("../fixtures/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".onnx")).map((f) => readFileSync(new URL(f, dir)));
const n = Number(process.argv[2] ?? 2000), seed = Number(process.argv[3] ?? Date.now() % 1e9);
const r = rng(seed);
const stats: Record<string, number> = {};
let bad = 0;
for (let i = 0; i < n; i++) {
  const [kind, bytes] = mutate(files[i % files.length], files[(i * 7 + 1) % files.length], r);
  const v = runCase(bytes, `case${i}.onnx`, 30_000);
  stats[`${kind} → ${v.outcome}`] = (stats[`${kind} → ${v.outcome}`] ?? 0) + 1;
  if (!v.ok) {
    bad++;
    console.log(`case ${i} (${kind}): ${v.problem} — ${v.line ?? ""}`);
  }
  if (i % 100 === 99) console.error(`${i + 1}/${n} cases, ${bad} problems`);
}
console.log(JSON.stringify({ seed, cases: n, problems: bad, outcomes: stats }, null, 2));
process.exit(bad ? 1 : 0);
