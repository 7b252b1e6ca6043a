// Nightly differential fuzzing (not part of npm test):
//   npm run fuzz:differential -- [count=5000] [seed] [--log file.jsonl] [--max-shrinks 50] [--no-shrink] [--target simd|scalar]
// Generates `count` random valid ONNX models (test/fuzz/graphgen.ts), runs each through mbn and
// onnxruntime-node (test/fuzz/differential.ts), appends one JSON line per case to a log
// (default out/differential/seed-<seed>.jsonl; a killed run resumes where it stopped: cases of the
// same seed and generator version already in the log are not rerun), shrinks each WRONG/CRASH/INVALID into test/fixtures/differential/ (one
// fixture per class, named by its ops), prints a JSON summary and exits 1 on any failure.
// Progress goes to stderr. `--record file.json` also writes the summary there with the date, commit,
// machine and command (results/differential-nightly.json is such a record).
import { execSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { build, describe, generate, GENERATOR_VERSION } from "./graphgen.ts";
import { caseSeed, checkModel, shrink, writeFixture, type Kind } from "./differential.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const noShrink = args.includes("--no-shrink");
if (noShrink) args.splice(args.indexOf("--no-shrink"), 1);
const recordArg = flag("--record");
const logArg = flag("--log"), maxShrinks = Number(flag("--max-shrinks") ?? 50), target = (flag("--target") ?? "simd") as "simd" | "scalar";
const count = Number(args[0] ?? 5000), seed = Number(args[1] ?? Date.now() % 1e9);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  console.error("usage: differential_nightly.ts [count] [seed] [--log file.jsonl] [--max-shrinks n] [--no-shrink] [--target simd|scalar]");
  process.exit(2);
}
const log = logArg ?? `out/differential/seed-${seed}.jsonl`;

interface Line { i: number; seed: number; gen: number; caseSeed: number; kind: Kind; reason: string; detail?: string; model: string; bitconv: number; ms: number; fixture?: string; shrunk?: string }

// resume: the cases of this seed already in the log
const done = new Map<number, Line>();
if (existsSync(log))
  for (const text of readFileSync(log, "utf8").split("\n")) {
    if (!text.trim()) continue;
    try {
      const l = JSON.parse(text) as Line;
      if (l.seed === seed && l.gen === GENERATOR_VERSION) done.set(l.i, l);
    } catch {
      // a line cut off by a kill: that case runs again
    }
  }
mkdirSync(dirname(log), { recursive: true });
if (done.size) console.error(`resuming ${log}: ${done.size} case(s) of seed ${seed} already done`);

const t0 = performance.now();
let shrinks = 0, ran = 0;
const bad = (k: Kind) => k === "wrong" || k === "crash" || k === "invalid";
for (let i = 0; i < count; i++) {
  if (done.has(i)) continue;
  const cs = caseSeed(seed, i);
  const recipe = generate(cs);
  const built = build(recipe);
  const v = await checkModel(built.bytes, { target });
  const line: Line = { i, seed, gen: GENERATOR_VERSION, caseSeed: cs, kind: v.kind, reason: v.reason, model: describe(recipe, built), bitconv: v.bitconv, ms: v.ms };
  if (bad(v.kind)) {
    line.detail = v.detail;
    console.error(`case ${i} (seed ${cs}): ${v.kind.toUpperCase()} ${v.reason} — ${line.model}\n  ${v.detail.slice(0, 400)}`);
    if (!noShrink && shrinks < maxShrinks) {
      shrinks++;
      const s = await shrink(recipe, v, { target });
      line.shrunk = describe(s.recipe);
      const fx = writeFixture(s.recipe, s.verdict, { caseSeed: cs, masterSeed: seed, case: i, original: line.model });
      line.fixture = fx.name;
      console.error(`  shrunk in ${s.tries} tries to ${line.shrunk} → ${fx.name}${fx.written ? "" : " (that class's fixture is already there)"}`);
    }
  }
  appendFileSync(log, JSON.stringify(line) + "\n");
  done.set(i, line);
  ran++;
  if (ran % 100 === 0 || i === count - 1) {
    const fails = [...done.values()].filter((l) => bad(l.kind)).length;
    console.error(`${done.size}/${count} cases, ${fails} failure(s), ${((performance.now() - t0) / ran).toFixed(0)} ms/case`);
  }
}

// summary over every case of this seed up to `count`
const lines = [...done.values()].filter((l) => l.i < count).sort((a, b) => a.i - b.i);
const tally = (k: Kind) => lines.filter((l) => l.kind === k).length;
const refused: Record<string, number> = {};
for (const l of lines) if (l.kind === "refused") refused[l.reason] = (refused[l.reason] ?? 0) + 1;
const failures = lines.filter((l) => bad(l.kind));
const classes: Record<string, number> = {};
for (const l of failures) classes[l.fixture ?? `${l.kind}: ${l.reason}`] = (classes[l.fixture ?? `${l.kind}: ${l.reason}`] ?? 0) + 1;
const summary = {
  seed, cases: lines.length, log, target,
  ok: tally("ok"), refused: tally("refused"), wrong: tally("wrong"), crash: tally("crash"), invalid: tally("invalid"),
  withBitConv: lines.filter((l) => l.bitconv > 0).length,
  refusedByReason: refused,
  failureClasses: classes,
  failures: failures.slice(0, 50).map((l) => ({ case: l.i, caseSeed: l.caseSeed, kind: l.kind, reason: l.reason, model: l.model, shrunk: l.shrunk, fixture: l.fixture })),
  minutes: +((performance.now() - t0) / 60000).toFixed(1),
};
console.log(JSON.stringify(summary, null, 2));
if (recordArg) {
  const commit = (() => { try { return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim(); } catch { return "unknown"; } })();
  const record = {
    date: new Date().toISOString(), commit, machine: `${cpus()[0]?.model ?? "?"} × ${cpus().length}`, node: process.version, generator_version: GENERATOR_VERSION,
    command: `npm run fuzz:differential -- ${process.argv.slice(2).join(" ")}`, ...summary,
  };
  writeFileSync(recordArg, JSON.stringify(record, null, 2) + "\n");
}
process.exit(failures.length ? 1 : 0);
