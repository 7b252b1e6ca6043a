// CLI: `mbn bench <model.onnx|bundle.wasm> [--peers ort-web,ort-node,wasm3] [--threads n] [--json]` —
// latency of the bundle (warm-up, N interleaved rounds of ≥ 5 ms per runner; p10 (the robust
// figure), median, p90, min; per-step profile; memory, size, BOPs/OPs) and of its peers on the
// same ONNX file (1 thread in this process; `--threads n` > 1: each peer again with n threads in
// its own child process), with the noise gauge (harness/bench/latency.ts, noise.ts): a noisy run
// prints a warning and its record says `"noisy": true`. `--twin float.onnx`: native onnxruntime-node on
// the model's float twin in the same rounds, so that "bundle vs the float network it replaces" is one
// paired ratio, and twin / floor is the most any popcount-bound bundle could show against it here.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { customSection } from "../../compiler/emit/bundle.ts";
import { makePeers, measureLatency, pairedRatio, type Runner } from "../../harness/bench/latency.ts";
import { spawnPeer } from "../../harness/bench/peer_process.ts";
import { FLOOR_RUNNER, popcountFloorRunner } from "../../harness/bench/popcount_floor.ts";
import { checkWritable, firstLine, openModel, parseTarget, progress, size, UsageError, writeOutput } from "../common.ts";
import { serveBundle } from "../../harness/bench/serve.ts";
import { wasm3Latency, wasm3Missing } from "../../harness/bench/wasm3_peer.ts";

export async function benchCommand(file: string, o: { peers: string; threads: number; runs: number; warmup: number; json?: boolean; output?: string; target?: string; serve?: boolean; floor?: boolean; twin?: string; port: number; host: string }): Promise<void> {
  const target = parseTarget(o.target, "mbn bench");
  const peers = (o.peers || "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const p of peers) if (p !== "ort-web" && p !== "ort-node" && p !== "wasm3") throw new UsageError(`--peers: unknown peer '${p}' (ort-web, ort-node, wasm3)`);
  const useWasm3 = peers.includes("wasm3");
  if (useWasm3 && wasm3Missing()) throw new UsageError(`--peers wasm3: ${wasm3Missing()}`);
  checkWritable(o.output);
  const { bundle, wasm, res, onnx } = await openModel(file, target, o.target);
  if (o.serve) {
    let h;
    try {
      // the page runs onnxruntime-web beside the bundle on the same .onnx (unless --peers leaves it out)
      h = await serveBundle(wasm, {
        port: o.port, host: o.host, runs: o.runs, warmup: o.warmup, title: `mbn bench: ${file}`, model: file,
        onnx: onnx && peers.includes("ort-web") ? onnx : undefined, out: o.output, command: `mbn ${process.argv.slice(2).join(" ")}`,
        onResult: (r) => console.log(JSON.stringify(r)),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(code ? `--serve: cannot listen on ${o.host}:${o.port} (${code})` : `--serve: ${firstLine(e)}`);
    }
    console.error(`serving the device benchmark for ${file} — open on any device of this network:`);
    for (const u of h.urls) console.error(`  ${u}`);
    console.error(`results posted by the page are printed here as JSON lines${o.output ? ` and appended to ${o.output}` : ""}; Ctrl-C to stop`);
    return new Promise(() => {});
  }
  if (peers.length && !onnx) throw new UsageError("peers need the ONNX file: pass the .onnx model instead of the bundle");
  const threads = o.threads;
  const inShape = [bundle.batch, ...bundle.info.input.shape.slice(1)]; // one mbn_run: a fixed batch runs N samples
  const runners: Runner[] = onnx ? await makePeers(onnx, inShape, peers.filter((p) => p !== "wasm3"), 1) : [];
  if (onnx && threads > 1)
    for (const p of peers) {
      // a child process per configuration: onnxruntime-web's wasm backend (and its thread pool) is
      // initialised once per process, a second session here would silently run on 1 thread
      let r;
      try {
        r = await spawnPeer(onnx, inShape, p, threads);
      } catch (e) {
        for (const q of runners) q.close?.();
        throw new UsageError(`--threads ${threads}: ${p} cannot run with ${threads} threads here (${firstLine(e)})`);
      }
      runners.push({ ...r, name: `${r.name} ${threads}thr` });
    }
  if (o.twin) runners.push(await twinRunner(o.twin, inShape, runners));
  // the popcount floor runs in the same rounds (needs the compile report's popcount count)
  const popcounts = res?.report.totals.popcounts ?? 0;
  if (popcounts > 0 && o.floor !== false) runners.push(await popcountFloorRunner(popcounts));
  const runs = o.runs;
  const bar = progress("bench", runs);
  let lat;
  try {
    lat = await measureLatency(bundle, runners, { warmup: o.warmup, runs, onTick: () => bar.tick() });
  } finally {
    for (const r of runners) r.close?.();
  }
  bar.done();
  // the interpreter peer: its own process after the rounds, on the same input as the bundle's runs
  const interpreters = useWasm3 && onnx ? [wasm3Latency(onnx, new Float32Array(bundle.inputLength * bundle.batch).fill(0.5), Math.max(3, Math.min(runs, 20)))] : [];
  const layers = bundle.info.layers;
  const profile = (lat.profile ?? []).map((p, i) => ({ ...p, op: layers[i]?.op ?? "", node: layers[i]?.node ?? "" }));
  const fi = lat.stats.findIndex((s) => s.runner === FLOOR_RUNNER);
  const floor = fi < 0 ? undefined : {
    popcounts,
    bundle_over_floor: pairedRatio(lat.times[0], lat.times[fi]),
    // runner 0 is the bundle
    peers_over_floor: Object.fromEntries(lat.stats.flatMap((s, k) => (k === 0 || k === fi ? [] : [[s.runner, pairedRatio(lat.times[k], lat.times[fi])]]))),
  };
  const manifest = JSON.parse(new TextDecoder().decode(customSection(wasm, "mbn.manifest")!));
  const record = {
    model: file, date: new Date().toISOString(), machine: `${cpus()[0]?.model} ×${cpus().length}`, target: bundle.info.target,
    command: `mbn bench ${process.argv.slice(3).join(" ")}`, twin: o.twin,
    noisy: lat.noise.noisy, noise: lat.noise, min_round_ms: lat.min_round_ms,
    latency: lat.stats, interpreters: interpreters.map((w) => ({ ...w, over_bundle_p10: w.ms_min / lat.stats[0].p10_ms })), ratios: lat.ratios, robust_ratios: lat.robust_ratios, popcount_floor: floor, profile, bundle_bytes: wasm.length, memory_bytes: manifest.memory_bytes, totals: manifest.totals,
  };
  if (o.output) writeOutput(o.output, JSON.stringify(record, null, 2) + "\n");
  const nz = lat.noise;
  const warning = `mbn: warning: NOISY — the machine is busy, these figures cannot be trusted (${nz.reasons.join("; ")}); rerun on a quiet machine`;
  if (o.json) {
    if (nz.noisy) console.error(warning);
    return console.log(JSON.stringify(record));
  }
  for (const s of lat.stats) console.log(`${s.runner.padEnd(30)} p10 ${s.p10_ms.toFixed(3)} ms  median ${s.median_ms.toFixed(3)}  p90 ${s.p90_ms.toFixed(3)}  min ${s.min_ms.toFixed(3)}  (${s.runs} rounds, ${s.reps} runs, spread ${(s.spread * 100).toFixed(0)}%, CPU/wall ${s.cpu_share.toFixed(2)})`);
  for (const w of interpreters)
    console.log(`${w.runner.padEnd(30)} min ${w.ms_min.toFixed(3)} ms  mean ${w.ms_per_run.toFixed(3)} ms over ${w.runs} runs: ${(w.ms_min / lat.stats[0].p10_ms).toFixed(1)}× the bundle's p10 (${w.note})`);
  for (const s of lat.stats)
    if (s.threads > 1 && s.cpu_share < 1.2) console.log(`note: ${s.runner} used ${s.cpu_share.toFixed(2)} CPUs on average: its ${s.threads} threads did not run in parallel (busy machine, or the peer kept one thread)`);
  for (const [k, v] of Object.entries(lat.ratios))
    if (k !== FLOOR_RUNNER) console.log(`bundle vs ${k}: ${v.toFixed(2)}× (median over ${runs} interleaved rounds of ≥ ${lat.min_round_ms.toFixed(1)} ms each of peer / bundle in the round; p10 / p10 ${lat.robust_ratios[k].toFixed(2)}×)${nz.noisy ? " NOISY" : ""}`);
  console.log(`noise gauge: calibration loop ${nz.calibration_p10_ms.toFixed(3)} ms, spread ${(nz.calibration_spread * 100).toFixed(0)}% (≤ ${nz.thresholds.calibration_spread * 100}%); on a CPU ${(nz.cpu_share * 100).toFixed(0)}% of the time (≥ ${nz.thresholds.cpu_share * 100}%)${nz.run_queue_share === null ? "" : `, waiting for one ${(nz.run_queue_share * 100).toFixed(0)}% (≤ ${nz.thresholds.run_queue_share * 100}%)`}${nz.noisy ? "" : " — quiet"}`);
  if (nz.noisy) console.log(warning);
  if (floor) {
    console.log(`popcount floor: the model's ${(popcounts / 1e6).toFixed(2)}M weight×activation popcounts in a bare loop; bundle / floor ${floor.bundle_over_floor.toFixed(2)}`);
    for (const [k, v] of Object.entries(floor.peers_over_floor)) console.log(`  ${k} / floor: ${v.toFixed(2)}× (the most any popcount-bound bundle could show against it on this host)`);
  }
  console.log(`bundle ${size(wasm.length)}, linear memory ${size(manifest.memory_bytes)}, BOPs ${manifest.totals.bops}, OPs ${Math.round(manifest.totals.ops)}`);
  console.log("per-step profile (median ms):");
  for (const p of profile) console.log(`  ${String(p.step).padStart(3)} ${p.op.padEnd(18)} ${p.node.slice(0, 44).padEnd(44)} ${p.ms.toFixed(3)}`);
}

export const TWIN_RUNNER = "onnxruntime-node, float twin";

/** Native onnxruntime-node (1 thread) on the float twin; its input must have the bundle's shape. */
async function twinRunner(file: string, inShape: number[], open: Runner[]): Promise<Runner> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    for (const q of open) q.close?.();
    throw new UsageError(`--twin ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? firstLine(e)})`);
  }
  try {
    const [r] = await makePeers(bytes, inShape, ["ort-node"], 1);
    await r.run!(); // a twin whose input does not take the bundle's shape fails here, not in the rounds
    return { ...r, name: TWIN_RUNNER };
  } catch (e) {
    for (const q of open) q.close?.();
    throw new UsageError(`--twin ${file}: onnxruntime-node cannot run it on a ${inShape.join("×")} input (${firstLine(e)})`);
  }
}
