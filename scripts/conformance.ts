// `npm run conformance`: does mbn ever give a silently wrong answer on models nobody in this project
// wrote? Suites: "backend" = the ONNX backend tests from Debian's libonnx-testdata (tests with one
// float32 input and one float32 output; expected outputs from their test_data_set_*), "backend-multi" =
// the backend tests whose model has several inputs or outputs, all float32 (laid end to end), and "corpus" =
// the third-party files in ../shared/corpus (SOURCES.md there; MBN_CORPUS overrides the path),
// checked against their stored expected output where one exists, else onnxruntime-node on 4 seeded
// uniform [0,1) inputs shaped like the graph input (symbolic dims = 1).
//
// Each test is exactly one of:
//   pass       compiled, the bundle loaded and ran, and every set's output matched: the manifest's output
//              shape (first axis × samples run) equals the expected dims, and every element satisfies
//              |got − want| ≤ atol + rtol·|want| with rtol = 1e-3, atol = 1e-5 (what onnxruntime's own
//              ONNX backend-test runner passes to numpy assert_allclose); NaN matches only NaN, ±Inf only itself.
//              A quantized model may differ from onnxruntime where a quantizer's input lies within float32
//              rounding of a step (summation order decides the level): such a test passes only if the
//              bundle's quantized tensors (read back from its memory) and output each lie inside bounds
//              that every float32 evaluation order respects, computed from the bundle's own inputs to that
//              layer (conformance/f64_oracle.ts) — listed in the summary as "pass at quantizer ties".
//   refused    compile() threw a one-line CompileError (printed as the CLI prints it, `mbn: …`) that is not
//              an internal compiler error, or loadBundle refused the bundle with a one-line BundleError.
//   wrong      compiled, but the output's size, shape or values differ (or the input size does not fit the bundle).
//   crash      any other exception, a multi-line or internal-compiler-error message, a non-zero mbn_run,
//              a dead worker, or over the per-test time limit (--timeout, default 180 s: oracle + compile + run; a 224² ImageNet model takes up to ~60 s on a busy 2-core machine).
//   unverified compiled and ran, but there is no oracle (custom domains onnxruntime cannot run, no stored output).
// Tests run in a pool of child processes (--workers, default 2), killed and replaced on a timeout.
// Prints one line per test and a summary per suite; writes results/conformance.json (not with --filter
// unless --out is given). Exit code 1 if any test is wrong or crashed, or a suite's data is missing
// (unless --allow-missing, or --allow-missing=corpus for that suite alone).
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ATOL, OUTCOMES, RTOL, type Outcome, type TestResult, type TestSpec } from "./conformance/common.ts";
import { backendTests, corpusTests } from "./conformance/discover.ts";

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const SUITES = ["backend", "backend-multi", "corpus"] as const;
type Suite = (typeof SUITES)[number];

const USAGE = `usage: npm run conformance -- [--suite backend|backend-multi|corpus|all] [--filter <substring>] [--json]
       [--allow-missing[=backend,backend-multi,corpus]] [--timeout <s>] [--workers <n>] [--out <file.json>]`;

interface Options { suites: Suite[]; filter?: string; json: boolean; allowMissing: Set<Suite>; timeoutS: number; workers: number; out?: string }

function parseArgs(argv: string[]): Options {
  const o: Options = { suites: [...SUITES], json: false, allowMissing: new Set(), timeoutS: 180, workers: 2 };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--suite") {
      const s = value();
      if (s === "all") o.suites = [...SUITES];
      else if ((SUITES as readonly string[]).includes(s)) o.suites = [s as Suite];
      else usage(`unknown suite '${s}'`);
    } else if (a === "--filter") o.filter = value();
    else if (a === "--json") o.json = true;
    else if (a === "--allow-missing") SUITES.forEach((s) => o.allowMissing.add(s));
    else if (a.startsWith("--allow-missing=")) {
      for (const s of a.slice("--allow-missing=".length).split(",")) {
        if (!(SUITES as readonly string[]).includes(s)) usage(`unknown suite '${s}' in ${a}`);
        o.allowMissing.add(s as Suite);
      }
    } else if (a === "--timeout") o.timeoutS = Number(value());
    else if (a === "--workers") o.workers = Math.max(1, Math.floor(Number(value())));
    else if (a === "--out") { o.out = value(); outGiven = true; }
    else if (a === "--help" || a === "-h") { console.log(USAGE); process.exit(0); }
    else usage(`unknown argument '${a}'`);
  }
  if (!(o.timeoutS > 0) || !(o.workers >= 1)) usage("--timeout and --workers must be positive numbers");
  if (!outGiven && !o.filter) o.out = join(repo, "results", "conformance.json");
  return o;
}

function usage(msg: string): never {
  console.error(`conformance: ${msg}\n${USAGE}`);
  process.exit(2);
}

// ---- worker pool -------------------------------------------------------------------------------

const WORKER = join(repo, "scripts", "conformance", "worker.ts");
const TSX = import.meta.resolve("tsx"); // absolute, so workers start from any cwd

class Worker {
  child: ChildProcess;
  stderr = "";
  constructor() {
    this.child = fork(WORKER, [], { cwd: repo, execArgv: ["--import", TSX], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    this.child.stderr!.on("data", (d) => { this.stderr = (this.stderr + d).slice(-4000); });
  }

  /** Run one test; `dead` means the process was killed or died and must be replaced. */
  run(t: TestSpec, timeoutMs: number): Promise<{ result: TestResult; dead: boolean }> {
    return new Promise((done) => {
      const t0 = performance.now();
      let phase = "startup";
      const crash = (detail: string): TestResult => ({ suite: t.suite, name: t.name, outcome: "crash", detail, ms: Math.round(performance.now() - t0) });
      const finish = (result: TestResult, dead: boolean) => {
        clearTimeout(timer);
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
        if (dead) this.child.kill("SIGKILL");
        done({ result, dead });
      };
      const onMessage = (m: { phase?: string; result?: TestResult }) => {
        if (m.phase) phase = m.phase;
        if (m.result) finish(m.result, false);
      };
      const onExit = (code: number | null, signal: string | null) => {
        const last = this.stderr.trim().split("\n").filter(Boolean).slice(-1)[0] ?? "";
        finish(crash(`worker process died (${signal ?? `exit code ${code}`}) during ${phase}${last ? `: ${last.slice(0, 300)}` : ""}`), true);
      };
      const timer = setTimeout(() => finish(crash(`timed out after ${timeoutMs / 1000} s (during ${phase})`), true), timeoutMs);
      this.child.on("message", onMessage);
      this.child.once("exit", onExit);
      this.stderr = "";
      this.child.send({ test: t });
    });
  }

  close() {
    this.child.disconnect();
  }
}

/** Runs the tests on `workers` processes; onResult gets each result with its index in `tests`. */
async function runPool(tests: TestSpec[], workers: number, timeoutMs: number, onResult: (i: number, r: TestResult) => void) {
  let next = 0;
  const slot = async () => {
    let w: Worker | undefined;
    while (next < tests.length) {
      const i = next++;
      w ??= new Worker();
      const { result, dead } = await w.run(tests[i], timeoutMs);
      if (dead) w = undefined;
      onResult(i, result);
    }
    w?.close();
  };
  await Promise.all(Array.from({ length: Math.min(workers, tests.length) }, slot));
}

// ---- summary -----------------------------------------------------------------------------------

interface SuiteSummary {
  root: string;
  missing?: string;
  outOfScope?: number;
  tests: number;
  counts: Record<Outcome, number>;
  refusalReasons: { reason: string; count: number; example: string }[];
  tiePasses: string[]; // passes whose outputs differ from the oracle at quantizer ties, judged by float32 bounds (worker.ts)
}

function summarize(root: string, results: TestResult[], outOfScope?: number, missing?: string): SuiteSummary {
  const counts = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
  const groups = new Map<string, { count: number; example: string }>();
  for (const r of results) {
    counts[r.outcome]++;
    if (r.outcome !== "refused") continue;
    const key = r.group ?? r.detail;
    const g = groups.get(key) ?? { count: 0, example: r.name };
    g.count++;
    groups.set(key, g);
  }
  const refusalReasons = [...groups].map(([reason, g]) => ({ reason, ...g })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  const tiePasses = results.filter((r) => r.outcome === "pass" && r.detail.includes("at quantizer ties;")).map((r) => r.name);
  return { root: shown(root), missing, outOfScope, tests: results.length, counts, refusalReasons, tiePasses };
}

/** A suite's folder as shown: relative to the repository when close to it (../shared/corpus), else absolute. */
const shown = (p: string) => {
  const r = relative(repo, p);
  return r.startsWith(join("..", "..")) || isAbsolute(r) ? p : r || ".";
};

const line = (r: TestResult) => `${r.outcome.padEnd(10)} ${r.suite}/${r.name}  ${r.detail}`;

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const say = (s: string) => (o.json ? console.error(s) : console.log(s));
  const roots: Record<Suite, string> = {
    backend: resolve(process.env.MBN_ONNX_TESTDATA ?? "/usr/share/libonnx-testdata/data"),
    "backend-multi": resolve(process.env.MBN_ONNX_TESTDATA ?? "/usr/share/libonnx-testdata/data"),
    corpus: resolve(process.env.MBN_CORPUS ?? join(repo, "..", "shared", "corpus")),
  };
  const missing: Partial<Record<Suite, string>> = {};
  const outOfScope: Partial<Record<Suite, number>> = {};
  const tests: TestSpec[] = [];
  for (const s of o.suites) {
    if (!existsSync(roots[s])) {
      missing[s] = s !== "corpus"
        ? `libonnx-testdata not found at ${roots.backend} (apt-get install libonnx-testdata, or set MBN_ONNX_TESTDATA)`
        : `corpus not found at ${roots.corpus} (expected ../shared/corpus next to the repository, or set MBN_CORPUS)`;
      say(`conformance: *** MISSING suite ${s}: ${missing[s]} — ${o.allowMissing.has(s) ? "skipped (--allow-missing)" : "this fails the run"} ***`);
      continue;
    }
    let found: TestSpec[];
    if (s !== "corpus") {
      const d = backendTests(roots[s], s === "backend-multi");
      found = d.tests;
      outOfScope[s] = d.outOfScope;
    } else found = corpusTests(roots.corpus);
    if (o.filter) found = found.filter((t) => `${t.suite}/${t.name}`.includes(o.filter!));
    if (s === "corpus") tests.unshift(...found); // first: its big models start early, so the slots finish together
    else tests.push(...found);
  }
  say(`conformance: ${tests.length} tests, ${o.workers} workers, ${o.timeoutS} s limit per test, tolerance |got-want| <= ${ATOL} + ${RTOL}*|want|`);

  // Lines print in test order as soon as every earlier test has finished.
  const results: TestResult[] = new Array(tests.length);
  let printed = 0;
  await runPool(tests, o.workers, o.timeoutS * 1000, (i, r) => {
    results[i] = r;
    while (printed < results.length && results[printed]) say(line(results[printed++]));
  });
  const wallS = (performance.now() - t0) / 1000;

  const summaries: Partial<Record<Suite, SuiteSummary>> = {};
  for (const s of o.suites) summaries[s] = summarize(roots[s], results.filter((r) => r.suite === s), outOfScope[s], missing[s]);

  say("");
  for (const s of o.suites) {
    const m = summaries[s]!;
    if (m.missing) { say(`${s}: MISSING — ${m.missing}`); continue; }
    say(`${s} (${m.root}): ${m.tests} tests${m.outOfScope !== undefined ? ` (+${m.outOfScope} out of scope: ${s === "backend" ? "not one float32 input and one float32 output" : "not several inputs or outputs, all float32"})` : ""}: ` +
      OUTCOMES.map((k) => `${k} ${m.counts[k]}`).join(", "));
    if (m.tiePasses.length) say(`  pass at quantizer ties (judged by float32 bounds, layer by layer): ${m.tiePasses.join(", ")}`);
    if (m.refusalReasons.length) {
      say(`  top refusal reasons:`);
      for (const g of m.refusalReasons.slice(0, 12)) say(`    ${String(g.count).padStart(4)}  ${g.reason}  (e.g. ${g.example})`);
    }
  }
  const failing = results.filter((r) => r.outcome === "wrong" || r.outcome === "crash");
  if (failing.length) {
    say(`\n${failing.length} wrong or crashed:`);
    for (const r of failing) say(`  ${line(r)}`);
  }
  const missingFatal = o.suites.filter((s) => missing[s] && !o.allowMissing.has(s));
  say(`\nconformance: ${failing.length ? `FAIL (${failing.length} wrong or crashed)` : missingFatal.length ? `FAIL (missing: ${missingFatal.join(", ")})` : "ok (no wrong answers, no crashes)"} in ${wallS.toFixed(1)} s`);

  const report = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, os: `${os.type()} ${os.release()} ${os.arch()}` },
    node: process.version,
    command: ["npm run conformance", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    tolerance: { rtol: RTOL, atol: ATOL, rule: "|got - want| <= atol + rtol*|want|; NaN matches NaN; Inf matches itself" },
    timeoutS: o.timeoutS,
    workers: o.workers,
    wallS: Number(wallS.toFixed(1)),
    summary: summaries,
    tests: results,
  };
  if (o.out) {
    mkdirSync(dirname(resolve(o.out)), { recursive: true });
    writeFileSync(o.out, JSON.stringify(report, null, 1) + "\n");
    say(`wrote ${relative(process.cwd(), resolve(o.out))}`);
  }
  if (o.json) console.log(JSON.stringify(report));
  process.exitCode = failing.length || missingFatal.length ? 1 : 0;
}

await main();
