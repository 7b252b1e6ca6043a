// Harness: the device benchmark's in-browser side (bundled for the browser by device_page.ts with
// esbuild; served by serve.ts). In one page it loads the bundle with the bare WebAssembly API and
// onnxruntime-web (wasm backend, one thread, served from this server's node_modules) on the same
// .onnx, checks both give the same outputs on the bundle's self-test input, times them the way
// `mbn bench` does — interleaved rounds, each runner repeated until ≥ max(5 ms, 1.5 × the slowest
// single run) have passed (so the browser's coarse timer, 0.1 ms without cross-origin isolation,
// is ≤ 2 % of a round), the 10th percentile over rounds, the median per-round ratio and the noise
// gauge, all imported from latency.ts / noise.ts — times each plan step in batches the same way,
// shows readable tables and posts the result back as JSON.
import type * as Ort from "onnxruntime-web";
import { pairedRatio, robust, robustRatio, timeRound } from "./latency.ts";
import { calibrationLoop, noiseGauge, quantile } from "./noise.ts";
import { FLOOR_RUNNER, floorRunner, type PopcountProbe } from "./popcount_floor.ts";

export interface DeviceConfig {
  runs: number; warmup: number; minRoundMs: number; title: string; model: string; /** the command that served the page (recorded) */ command?: string;
  /** the bundle's mbn_selftest() as Node computes it (null: not known) */ nodeSelftest: number | null;
  /** serve.ts has the .onnx: run onnxruntime-web beside the bundle */ onnx: boolean;
  /** serve.ts has the popcount probe (runtime/build/popcount-floor.wasm): time the popcount floor too */ floor: boolean;
}
interface Ex {
  memory: WebAssembly.Memory; mbn_input_ptr(): number; mbn_input_len(): number; mbn_output_ptr(): number; mbn_output_len(): number;
  mbn_run(): number; mbn_step_count(): number; mbn_run_step(i: number): number; mbn_load_sample(b: number): number; mbn_selftest(): number;
}
type Layer = { node: string; op: string; out: number[]; planes: string; macs: number; bops: number };

const $ = (id: string) => document.getElementById(id)!;
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const hex = (h: number) => "0x" + (h >>> 0).toString(16).padStart(8, "0");
const tick = () => new Promise((r) => setTimeout(r, 0));
const status = (s: string) => void ($("status").textContent = s);

/** The smallest step performance.now() takes here (ms): 0.1 in Chromium without cross-origin isolation, 0.005 with it. */
function timerResolution(): number {
  let best = Infinity;
  for (let i = 0; i < 40; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    best = Math.min(best, b - a);
  }
  return best;
}

/** FNV-1a over the output bytes, as the bundle's mbn_selftest hashes them. */
function fnv(y: Float32Array): number {
  let h = 0x811c9dc5;
  for (const b of new Uint8Array(y.buffer, y.byteOffset, y.byteLength)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
const argmax = (y: Float32Array) => {
  let b = 0;
  for (let i = 1; i < y.length; i++) if (y[i] > y[b]) b = i;
  return b;
};

async function main(cfg: DeviceConfig): Promise<void> {
  const res: Record<string, unknown> = { schema: "mbn-device-bench/1", model: cfg.model, title: cfg.title, command: cfg.command ?? null, date: new Date().toISOString(), userAgent: navigator.userAgent,
    machine: `${navigator.platform} ×${navigator.hardwareConcurrency}, ${navigator.userAgent.match(/(Firefox|Edg|Chrome|Version)\/[\d.]+/)?.[0] ?? "browser"}`, hardwareConcurrency: navigator.hardwareConcurrency, crossOriginIsolated: globalThis.crossOriginIsolated === true, timer_resolution_ms: timerResolution() };
  // the bundle, with the bare WebAssembly API (no imports)
  status("loading the bundle…");
  const mod = await WebAssembly.compile(await (await fetch("bundle.wasm")).arrayBuffer());
  const ex = (await WebAssembly.instantiate(mod, {})).exports as unknown as Ex;
  const manifest = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(mod, "mbn.manifest")[0]));
  const inLen = ex.mbn_input_len(), outLen = ex.mbn_output_len();
  // self-test: the bundle writes its fixed xorshift32 input, runs, hashes the output bytes
  const selftest = ex.mbn_selftest() >>> 0;
  const x = new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), inLen).slice(); // that input, kept
  const yBundle = new Float32Array(ex.memory.buffer, ex.mbn_output_ptr(), outLen).slice();
  res.selftest = { bundle: selftest, node: cfg.nodeSelftest, match: cfg.nodeSelftest === null ? null : selftest === cfg.nodeSelftest };
  const bundleRun = () => {
    new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), inLen).set(x);
    const rc = ex.mbn_run();
    if (rc) throw new Error(`mbn_run returned ${rc}`);
  };
  const runners: { name: string; run: () => unknown }[] = [{ name: "mbn bundle", run: bundleRun }];

  // onnxruntime-web on the same .onnx, served by this server from its node_modules (no network)
  if (cfg.onnx) {
    status("loading onnxruntime-web…");
    const ort = (await import(/* @vite-ignore */ new URL("ort/ort.wasm.min.mjs", location.href).href)) as typeof Ort;
    ort.env.wasm.wasmPaths = new URL("ort/", location.href).href;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    const session = await ort.InferenceSession.create(new Uint8Array(await (await fetch("model.onnx")).arrayBuffer()), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, [manifest.batch, ...manifest.input.shape.slice(1)]) };
    const yOrt = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
    // the project's oracle rule: max|Δ| ≤ 1e-4 · max|onnxruntime| and the same argmax
    let maxAbs = 0, maxRef = 0;
    for (let i = 0; i < outLen; i++) { maxAbs = Math.max(maxAbs, Math.abs(yBundle[i] - yOrt[i])); maxRef = Math.max(maxRef, Math.abs(yOrt[i])); }
    const per = outLen / manifest.batch;
    let sameArgmax = yOrt.length === outLen;
    for (let b = 0; b < manifest.batch; b++) sameArgmax &&= argmax(yBundle.subarray(b * per, (b + 1) * per)) === argmax(yOrt.subarray(b * per, (b + 1) * per));
    res.outputs = { input: "the bundle's self-test input (xorshift32 → [0, 1))", values: outLen, max_abs_diff: maxAbs, max_rel_diff: maxRef ? maxAbs / maxRef : maxAbs,
      same_argmax: sameArgmax, bitwise_equal: fnv(yOrt) === fnv(yBundle), match: sameArgmax && maxAbs <= 1e-4 * maxRef };
    runners.push({ name: "onnxruntime-web (wasm)", run: () => session.run(feeds) });
  }

  // the popcount floor: a bare XOR-popcount loop over the model's own number of 64-bit popcounts
  // (popcount_floor.ts), the speed no popcount-bound kernel can beat on this device
  const popcounts = manifest.totals.popcounts ?? 0;
  if (cfg.floor && popcounts > 0) {
    const probe = (await WebAssembly.instantiate(await (await fetch("popcount-floor.wasm")).arrayBuffer(), {})).instance.exports as unknown as PopcountProbe;
    runners.push(floorRunner(probe, popcounts));
    res.popcounts = popcounts;
  }

  // interleaved rounds, as measureRunners in latency.ts (one process, no CPU-time counters in a browser)
  status("warming up…");
  for (let i = 0; i < cfg.warmup; i++) {
    calibrationLoop();
    for (const r of runners) await r.run();
  }
  let slowest = 0;
  for (const r of runners) {
    let best = Infinity;
    for (let i = 0; i < 5; i++) best = Math.min(best, (await timeRound(r.run as () => void, 0)).ms);
    slowest = Math.max(slowest, best);
  }
  const minMs = Math.max(cfg.minRoundMs, 1.5 * slowest);
  const times = runners.map(() => [] as number[]), reps = runners.map(() => 0), calib: number[] = [];
  const timeCalibration = () => { const t = performance.now(); calibrationLoop(); return performance.now() - t; };
  for (let i = 0; i < cfg.runs; i++) {
    if (i % 2 === 0) calib.push(timeCalibration());
    for (let j = 0; j < runners.length; j++) {
      const k = i % 2 ? runners.length - 1 - j : j;
      const r = await timeRound(runners[k].run as () => void, minMs);
      times[k][i] = r.ms;
      reps[k] += r.reps;
    }
    if (i % 2 === 1) calib.push(timeCalibration());
    if (i % 5 === 4) { status(`round ${i + 1}/${cfg.runs}`); await tick(); }
  }
  const stats = runners.map((r, k) => {
    const s = [...times[k]].sort((a, b) => a - b);
    return { runner: r.name, median_ms: s[s.length >> 1], p90_ms: quantile(s, 0.9), min_ms: s[0], p10_ms: robust(s), spread: quantile(s, 0.9) / quantile(s, 0.1) - 1, runs: s.length, reps: reps[k], threads: 1, cpu_share: null };
  });
  const ratios: Record<string, number> = {}, robustRatios: Record<string, number> = {};
  for (let k = 1; k < runners.length; k++) { ratios[runners[k].name] = pairedRatio(times[k], times[0]); robustRatios[runners[k].name] = robustRatio(times[k], times[0]); }
  // the gauge of `mbn bench`; a page cannot see its CPU time, run-queue wait or load average, so
  // those signals are passed as neutral and reported as null
  const noise = { ...noiseGauge({ calibration: calib, cpuShare: 1, runQueueShare: null, stats: stats as never, robust: robustRatios, paired: ratios }), cpu_share: null, load_avg: null,
    not_observable: "CPU share, run-queue wait and load average (not visible to a web page)" };
  const floorStats = stats.find((s) => s.runner === FLOOR_RUNNER);
  if (floorStats) res.popcount_floor = { popcounts, bundle_over_floor: pairedRatio(times[0], times[stats.indexOf(floorStats)]) };
  Object.assign(res, { runs: cfg.runs, latency: stats, ratios: noise.noisy ? {} : ratios, measured_ratios: ratios, robust_ratios: robustRatios, noisy: noise.noisy, noise, min_round_ms: minMs, times });

  // per plan step: each step repeated in batches of ≥ minRoundMs after the steps before it ran
  status("profiling the plan steps…");
  const steps = ex.mbn_step_count(), layers: Layer[] = manifest.layers;
  const prefix = (s: number) => {
    new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), inLen).set(x);
    ex.mbn_load_sample(0);
    for (let i = 0; i < s; i++) ex.mbn_run_step(i);
  };
  const profile = [];
  for (let s = 0; s < steps; s++) {
    const v = [];
    for (let b = 0; b < 5; b++) { prefix(s); v.push((await timeRound(() => void ex.mbn_run_step(s), cfg.minRoundMs)).ms); }
    profile.push({ step: s, op: layers[s]?.op ?? "?", node: layers[s]?.node ?? "?", planes: layers[s]?.planes ?? "", bops: layers[s]?.bops ?? 0, ms: Math.min(...v) });
    if (s % 8 === 7) await tick();
  }
  const sum = profile.reduce((p, q) => p + q.ms, 0);
  Object.assign(res, { profile, profile_sum_ms: sum, target: manifest.target, bops: manifest.totals.bops, memory_bytes: manifest.memory_bytes });
  render(res, cfg);
  status("done");
  await fetch("result", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(res) }).catch(() => {});
}

function table(head: string[], rows: (string | number)[][], id = ""): string {
  return `<table${id ? ` id="${id}"` : ""}><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</table>`;
}

function render(r: any, cfg: DeviceConfig): void {
  const parts: string[] = [];
  const st = r.selftest;
  parts.push(`<h2>Self-test</h2><p>The bundle filled its input with a fixed pseudo-random image (xorshift32 mapped to [0, 1)), ran the model once and hashed the output bytes (FNV-1a): <b>${hex(st.bundle)}</b>. ${st.node === null ? "" : st.match
    ? `Node computed ${hex(st.node)} for the same bundle: <b>the same bits</b> — this browser's WebAssembly engine computes exactly what Node's does.`
    : `Node computed ${hex(st.node)} for the same bundle: <b class="bad">different</b> — this engine computes other output bits.`}</p>`);
  if (r.outputs) {
    const o = r.outputs;
    parts.push(`<h2>Outputs vs onnxruntime-web</h2><p>On that input, onnxruntime-web (same .onnx, wasm backend, one thread) and the bundle: max |Δ| ${o.max_abs_diff.toExponential(2)} (${o.max_rel_diff.toExponential(2)} of the largest output), ${o.same_argmax ? "same" : "<b class=\"bad\">different</b>"} argmax${o.bitwise_equal ? ", bit for bit equal" : ""} — <b id="outputs-match">${o.match ? "match" : "MISMATCH"}</b> (rule: max |Δ| ≤ 1e-4 · max |output| and the same argmax).</p>`);
  }
  const rows = r.latency.map((s: any, i: number) => [s.runner, s.p10_ms.toFixed(3), s.median_ms.toFixed(3), s.p90_ms.toFixed(3), s.min_ms.toFixed(3), `${(s.spread * 100).toFixed(0)}%`, s.runs, s.reps, i ? r.measured_ratios[s.runner].toFixed(2) + "×" : "1"]);
  parts.push(`<h2>Latency</h2><p>${r.runs ?? cfg.runs} interleaved rounds; in each round every runner repeats until ≥ ${r.min_round_ms.toFixed(1)} ms have passed (the browser's timer steps by ${(r.timer_resolution_ms * 1000).toFixed(0)} µs${r.crossOriginIsolated ? ", cross-origin isolated" : ""}). p10: 10th percentile of a runner's per-round time per run; “× bundle”: median over rounds of runner / bundle in the same round.</p>`);
  parts.push(table(["runner", "p10 ms", "median ms", "p90 ms", "min ms", "spread p90/p10", "rounds", "runs", "× bundle"], rows, "latency"));
  const nz = r.noise;
  parts.push(`<p>Noise gauge (as <code>mbn bench</code>): calibration loop ${nz.calibration_p10_ms.toFixed(3)} ms, spread ${(nz.calibration_spread * 100).toFixed(0)}% (≤ ${nz.thresholds.calibration_spread * 100}%); runner spreads ≤ ${nz.thresholds.runner_spread * 100}%; p10 ratio within ${nz.thresholds.ratio_disagreement * 100}% of the paired one. Not observable here: ${esc(nz.not_observable)}.</p>`);
  const ort = r.measured_ratios["onnxruntime-web (wasm)"];
  parts.push(r.noisy ? `<p id="verdict" class="bad"><b>NOISY — not published</b>: ${esc(nz.reasons.join("; "))}. Close other tabs and programs and reload.</p>`
    : ort ? `<p id="verdict">In this browser the bundle is <b>${(ort >= 1 ? ort : 1 / ort).toFixed(2)}× ${ort >= 1 ? "faster" : "slower"}</b> than onnxruntime-web on the same model.</p>` : `<p id="verdict">Bundle only (the server was given a bundle, not the .onnx).</p>`);
  if (r.popcount_floor) parts.push(`<p>Popcount floor: a bare XOR-popcount loop doing the model's ${r.popcount_floor.popcounts.toLocaleString("en")} 64-bit popcounts, timed in the same rounds — no popcount-bound bundle can beat it on this device. The bundle takes ${r.popcount_floor.bundle_over_floor.toFixed(2)}× the floor's time.</p>`);
  const max = Math.max(...r.profile.map((p: any) => p.ms));
  parts.push(`<h2>Per plan step</h2><p>Each step repeated in 5 batches of ≥ ${cfg.minRoundMs} ms after the steps before it ran; the fastest batch, ms per run. Sum ${r.profile_sum_ms.toFixed(3)} ms vs a whole run's p10 ${r.latency[0].p10_ms.toFixed(3)} ms.</p>`);
  parts.push(`<table id="profile"><tr><th>step</th><th>op</th><th>ONNX node</th><th>planes</th><th>ms per run</th><th>share</th><th></th></tr>${r.profile.map((p: any) =>
    `<tr><td>${p.step}</td><td>${esc(p.op)}</td><td class="l">${esc(p.node)}</td><td>${esc(p.planes || "-")}</td><td>${p.ms.toFixed(4)}</td><td>${((p.ms / r.profile_sum_ms) * 100).toFixed(1)}%</td><td class="l"><span class="bar" style="width:${(120 * p.ms) / max}px"></span></td></tr>`).join("")}</table>`);
  const json = JSON.stringify(r, null, 2);
  parts.push(`<p><a download="mbn-device-bench.json" href="${URL.createObjectURL(new Blob([json], { type: "application/json" }))}">download the result as JSON</a> (also posted to the server)</p><details><summary>raw JSON</summary><pre id="json">${esc(json)}</pre></details>`);
  $("out").innerHTML = parts.join("\n");
}

const cfg = JSON.parse($("config").textContent!) as DeviceConfig;
main(cfg).catch((e) => {
  status(`error: ${(e as Error).message}`);
  void fetch("result", { method: "POST", body: JSON.stringify({ schema: "mbn-device-bench/1", error: String((e as Error).message ?? e) }) }).catch(() => {});
});
