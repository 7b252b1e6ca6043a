// Diagnostic: does this host run in speed phases? Runs one bundle back to back for a few seconds and
// prints the median run time of every 100 ms window, beside the fixed calibration loop of the noise
// gauge (harness/bench/noise.ts) timed the same way. On the 2-core dev VM (2026-12-03) the bundle
// alternated between windows at ~0.86 ms and windows at 1.1–1.7 ms, each lasting hundreds of ms,
// while the integer-only calibration loop moved by ~10 %: a slowdown that hits SIMD and memory-heavy
// code, which the gauge's calibration loop does not see. A benchmark's per-round ratios then depend
// on how each runner suffers in the slow phases (compare a record's `ratios` with its `robust_ratios`).
//   npx tsx scripts/host_phases.ts [model.onnx] [--seconds 4]
import { readFileSync } from "node:fs";
import { compile } from "../compiler/index.ts";
import { loadBundle } from "../runtime/host/loader.ts";
import { calibrationLoop, quantile } from "../harness/bench/noise.ts";

const args = process.argv.slice(2);
const si = args.indexOf("--seconds");
const seconds = si >= 0 ? Number(args.splice(si, 2)[1]) : 4;
const file = args[0] ?? "test/fixtures/resnet20_cifar_mbn1x1.onnx";
const bundle = await loadBundle(compile(readFileSync(file), { file }).wasm);
const x = new Float32Array(bundle.info.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));

/** ms per call of f, back to back for `seconds`, grouped into 100 ms windows: each window's median. */
function phases(f: () => void): { windows: number[]; all: number[] } {
  for (let i = 0; i < 100; i++) f();
  const t0 = performance.now(), win: number[][] = [], all: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    const a = performance.now();
    f();
    const d = performance.now() - a;
    (win[Math.floor((a - t0) / 100)] ??= []).push(d);
    all.push(d);
  }
  return { windows: win.filter(Boolean).map((w) => quantile(w.sort((p, q) => p - q), 0.5)), all: all.sort((p, q) => p - q) };
}

for (const [name, f] of [["bundle " + file, () => void bundle.run(x)], ["calibration loop", () => void calibrationLoop()]] as const) {
  const r = phases(f);
  const lo = r.all[0];
  console.log(`${name}: ${r.all.length} runs; p10 ${quantile(r.all, 0.1).toFixed(3)} ms, median ${quantile(r.all, 0.5).toFixed(3)}, p90 ${quantile(r.all, 0.9).toFixed(3)}; ` +
    `100 ms windows slower than 1.25 × the fastest run: ${r.windows.filter((w) => w > 1.25 * lo).length} of ${r.windows.length}`);
  console.log("  window medians (ms): " + r.windows.map((w) => w.toFixed(2)).join(" "));
}
