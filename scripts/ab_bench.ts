// A/B benchmark of two builds of mbn on the same .onnx files, in one process: the baseline (a checkout
// of an earlier commit with its own compiler and runtime/build, default scratch/base, git-ignored;
// e.g. `git archive <commit> | tar -x -C scratch/base`, node_modules linked, `node runtime/build.mjs`
// there) and this tree. For each model: both compile it, the two bundles must give bit-identical
// outputs on n random inputs (and on the Fashion-MNIST test images where the input is 1×1×28×28),
// then both are timed in interleaved rounds (harness/bench/latency.ts measureRunners: alternating
// order, the noise gauge of harness/bench/noise.ts). Writes results/ab-<name>.json.
// On a shared, busy machine absolute times drift with the load; only the interleaved ratios
// (new / old in the same round, median over rounds) mean anything, and the record says so. The two
// are then also timed by this process's CPU time (preemption left out) in interleaved rounds.
// --steps: where the difference lies, plan step by plan step (both plans must have the same steps):
// per round, each bundle's steps timed five times (Bundle.profile, alternating order), the fastest of
// each step kept; per step the median over rounds of the per-round ratio new/old. Only output-identical
// builds are compared: what a probe that skips work saves is not what that work costs (2026-12-03,
// CIFAR MBN1x1, a 73 µs BitConv step: skipping its epilogue saved 24 µs, skipping only the
// epilogue's transform 9 µs, skipping only its pack cost 5 µs more, and the same work fused into one
// loop, outputs identical, saved nothing).
//   npx tsx scripts/ab_bench.ts [--base scratch/base] [--rounds 31] [--round-ms 5] [--no-cpu] [--steps] [--n 16] [--target simd] [--name NAME] [model.onnx …]
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compile as compileNew } from "../compiler/index.ts";
import { loadBundle as loadNew, type Bundle } from "../runtime/host/loader.ts";
import { measureRunners, type Runner } from "../harness/bench/latency.ts";
import { loadDataset, take } from "../harness/data/datasets.ts";
import { rng } from "../harness/rng.ts";

const DEFAULT_MODELS = [
  ...["mbn3x1", "mbn1x1", "mbn3x3", "fxp2", "fp32"].map((m) => `test/fixtures/resnet20_cifar_${m}.onnx`),
  "models/zoo/fmnist_resnet20_mbn3x1/model.onnx",
];

function args() {
  const a = process.argv.slice(2), o = { base: "scratch/base", rounds: 31, roundMs: 5, cpu: true, steps: false, n: 16, target: "simd" as "simd" | "scalar", name: "", models: [] as string[] };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === "--base") o.base = a[++i];
    else if (k === "--rounds") o.rounds = Number(a[++i]);
    else if (k === "--n") o.n = Number(a[++i]);
    else if (k === "--round-ms") o.roundMs = Number(a[++i]);
    else if (k === "--no-cpu") o.cpu = false;
    else if (k === "--steps") o.steps = true;
    else if (k === "--target") o.target = a[++i] as "simd" | "scalar";
    else if (k === "--name") o.name = a[++i];
    else if (k.startsWith("--")) fail(`unknown option ${k}`);
    else o.models.push(k);
  }
  if (!(o.rounds >= 15)) fail("--rounds must be ≥ 15");
  if (!o.models.length) o.models = DEFAULT_MODELS;
  if (!o.name) o.name = o.models === DEFAULT_MODELS ? "resnet20" : o.models.map((m) => m.split("/").at(-2) === "fixtures" ? m.split("/").at(-1)!.replace(".onnx", "") : m.split("/").at(-2)).join("+");
  return o;
}

function fail(msg: string): never {
  process.stderr.write(`mbn: ab_bench: ${msg}\n`);
  process.exit(1);
}

/** A runner timed by this process's CPU time (process.cpuUsage: user + system, µs) instead of the
 * wall clock: time taken by other processes (preemption on a busy machine) does not count; shared
 * caches and SMT siblings still do, and so would this process's other threads (idle after warm-up). */
function cpuRunner(name: string, run: () => void): Runner {
  return {
    name, threads: 1,
    round: async (minMs: number) => {
      // repetitions from one run's wall time, so that the CPU clock is read only twice per round
      const w0 = performance.now();
      run();
      const reps = Math.max(1, Math.ceil(minMs / Math.max(performance.now() - w0, 0.01)));
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) run();
      const d = process.cpuUsage(c0), e = (d.user + d.system) / 1000;
      return { ms: e / reps, reps, cpu_ms: e, wall_ms: performance.now() - w0 };
    },
  };
}

/** Per-step A/B (see the header): null when the two plans' steps differ. */
function stepRounds(A: Bundle, B: Bundle, x: Float32Array, rounds: number) {
  const layers = B.info.layers;
  if (A.info.layers.length !== layers.length || A.info.layers.some((l, i) => l.op !== layers[i].op || l.node !== layers[i].node)) return null;
  const now = () => performance.now(), fastest = (b: Bundle) => {
    const t = [0, 1, 2, 3, 4].map(() => b.profile(x, now));
    return t[0].map((_, j) => Math.min(...t.map((p) => p[j])));
  };
  const old: number[][] = [], neu: number[][] = [];
  for (let r = 0; r < rounds; r++)
    if (r & 1) { neu.push(fastest(B)); old.push(fastest(A)); } else { old.push(fastest(A)); neu.push(fastest(B)); }
  const med = (v: number[]) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  return layers.map((l, j) => ({
    step: j, op: l.op, node: l.node, old_us: +(med(old.map((t) => t[j])) * 1e3).toFixed(2), new_us: +(med(neu.map((t) => t[j])) * 1e3).toFixed(2),
    ratio_new_over_old: +med(old.map((t, i) => neu[i][j] / t[j])).toFixed(4),
  }));
}

/** The git commit a tree is at (with "+changes" when its tracked files differ), or null outside git. */
function commitOf(dir: string): string | null {
  try {
    const head = execFileSync("git", ["-C", dir, "rev-parse", "--show-toplevel", "HEAD"], { encoding: "utf8" }).trim().split("\n");
    if (resolve(head[0]) !== resolve(dir)) return null; // a folder inside another repository (scratch/)
    const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return head[1] + (dirty ? "+changes" : "");
  } catch {
    return null;
  }
}

function sameBits(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) d++;
  return d;
}

async function main() {
  const o = args();
  const base = resolve(o.base);
  let oldApi: { compile: typeof compileNew }, oldLoader: { loadBundle: typeof loadNew };
  try {
    oldApi = await import(pathToFileURL(`${base}/compiler/index.ts`).href);
    oldLoader = await import(pathToFileURL(`${base}/runtime/host/loader.ts`).href);
  } catch (e) {
    fail(`cannot load the baseline from ${o.base}: ${(e as Error).message.split("\n")[0]}`);
  }
  const rows = [];
  for (const file of o.models) {
    const onnx = readFileSync(file);
    const A = await oldLoader.loadBundle(oldApi.compile(onnx, { target: o.target, file }).wasm);
    const B = await loadNew(compileNew(onnx, { target: o.target, file }).wasm);
    // bit-identity: n random inputs in [0, 1), and the first n Fashion-MNIST test images where they fit
    const r = rng(20261202), x = new Float32Array(o.n * A.inputLength).map(() => r());
    let differ = sameBits(A.run(x), B.run(x)), checked = o.n;
    if (A.inputLength === 28 * 28) {
      const d = take(loadDataset("fashion-mnist"), o.n);
      differ += sameBits(A.run(d.x), B.run(d.x));
      checked += d.n;
    }
    if (differ) fail(`${file}: ${differ} output values differ between the baseline and this tree`);
    const x1 = new Float32Array(A.inputLength).fill(0.5);
    // wall-clock rounds (with the noise gauge), then rounds timed by this process's CPU time
    const m = await measureRunners(
      [{ name: "old", threads: 1, run: () => void A.run(x1) }, { name: "new", threads: 1, run: () => void B.run(x1) }],
      { warmup: 20, runs: o.rounds, minRoundMs: o.roundMs },
    );
    const [so, sn] = m.stats, ratio = m.ratios.new;
    const per = m.times[1].map((t, i) => t / m.times[0][i]).sort((a, b) => a - b);
    const c = !o.cpu ? null : await measureRunners([cpuRunner("old", () => void A.run(x1)), cpuRunner("new", () => void B.run(x1))], { warmup: 0, runs: o.rounds, minRoundMs: o.roundMs });
    const cpuPer = c ? c.times[1].map((t, i) => t / c.times[0][i]).sort((a, b) => a - b) : [];
    const q = (s: number[], p: number) => s[Math.floor((s.length - 1) * p)];
    const steps = o.steps ? stepRounds(A, B, x1, o.rounds) : undefined;
    rows.push({
      model: file, identical: true, inputs_checked: checked,
      wall: {
        old_median_ms: so.median_ms, new_median_ms: sn.median_ms, old_spread: so.spread, new_spread: sn.spread,
        ratio_new_over_old: ratio, ratio_p10: q(per, 0.1), ratio_p90: q(per, 0.9), robust_ratio: m.robust_ratios.new, noisy: m.noise.noisy, noise: m.noise,
      },
      cpu_time: c ? {
        old_median_ms: c.stats[0].median_ms, new_median_ms: c.stats[1].median_ms, old_spread: c.stats[0].spread, new_spread: c.stats[1].spread,
        ratio_new_over_old: c.ratios.new, ratio_p10: q(cpuPer, 0.1), ratio_p90: q(cpuPer, 0.9), robust_ratio: c.robust_ratios.new,
      } : null,
      ...(steps !== undefined ? { steps } : {}),
    });
    console.log(`${file}: identical on ${checked} inputs; wall clock: old ${so.median_ms.toFixed(3)} ms, new ${sn.median_ms.toFixed(3)} ms (medians), new/old ${ratio.toFixed(3)} [p10 ${q(per, 0.1).toFixed(3)}, p90 ${q(per, 0.9).toFixed(3)}]${m.noise.noisy ? ` NOISY (${m.noise.reasons.join("; ")})` : " quiet"}` +
      (steps === null ? "; the two plans' steps differ: no step-wise comparison" : "") +
      (c ? `; process CPU time: old ${c.stats[0].median_ms.toFixed(3)} ms, new ${c.stats[1].median_ms.toFixed(3)} ms, new/old ${c.ratios.new.toFixed(3)} [p10 ${q(cpuPer, 0.1).toFixed(3)}, p90 ${q(cpuPer, 0.9).toFixed(3)}]` : "") + `; ${o.rounds} rounds`);
    if (steps) {
      const total = steps.reduce((a, t) => a + t.old_us, 0);
      for (const t of steps)
        if (Math.abs(t.ratio_new_over_old - 1) >= 0.02 && Math.max(t.old_us, t.new_us) >= 0.005 * total)
          console.log(`  step ${t.step} ${t.op} ${t.node}: old ${t.old_us} µs, new ${t.new_us} µs, new/old ${t.ratio_new_over_old}`);
      console.log(`  steps: old ${total.toFixed(1)} µs in all, new ${steps.reduce((a, t) => a + t.new_us, 0).toFixed(1)} µs (steps off by < 2 %, or under 0.5 % of the old time in both builds, not listed)`);
    }
  }
  const rec = {
    what: "A/B of two mbn builds on the same ONNX files, one process, interleaved rounds (scripts/ab_bench.ts)",
    caveat: "the machine is shared and busy: absolute times drift with the load; only the interleaved ratios new/old (median over rounds of the per-round ratio) mean anything. cpu_time: the same two bundles timed by this process's CPU time (process.cpuUsage), which leaves out preemption but not shared caches or SMT siblings",
    date: new Date().toISOString(), machine: `${cpus()[0]?.model} ×${cpus().length}`, node: process.version, load_avg_1m: loadavg()[0],
    command: `npx tsx scripts/ab_bench.ts ${process.argv.slice(2).join(" ")}`.trim(), baseline: o.base, new_commit: commitOf("."), baseline_commit: commitOf(base), target: o.target,
    n: o.n, rounds: o.rounds, min_round_ms: o.roundMs, per_model: rows, // (not "models": the report reads that key as a zoo manifest)
  };
  const out = `results/ab-${o.name}.json`;
  writeFileSync(out, JSON.stringify(rec, null, 2) + "\n");
  console.log(`wrote ${out}`);
}

main().catch((e) => fail((e as Error).message.split("\n")[0]));
