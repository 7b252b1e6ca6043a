// Harness latency: the bundle and its peers on the same ONNX file in the same process, interleaved
// (one run of each per round, so machine noise hits all alike): onnxruntime-web (wasm backend,
// SIMD, 1 thread by default) and onnxruntime-node (CPU, 1 thread by default). Warm-up, then N
// timed rounds; median, p90, min per runner; paired ratios against the bundle (median over rounds).
import type { Bundle } from "../../runtime/host/loader.ts";

export interface LatencyStats { runner: string; median_ms: number; p90_ms: number; min_ms: number; runs: number; threads: number }
export interface LatencyResult { stats: LatencyStats[]; ratios: Record<string, number>; times: number[][]; profile?: { step: number; op: string; node: string; ms: number }[] }

type Runner = { name: string; threads: number; run: () => Promise<void> | void };

function stats(name: string, threads: number, t: number[]): LatencyStats {
  const s = [...t].sort((a, b) => a - b);
  return { runner: name, median_ms: s[Math.floor(s.length / 2)], p90_ms: s[Math.min(s.length - 1, Math.floor(s.length * 0.9))], min_ms: s[0], runs: s.length, threads };
}

/** Median over rounds of num[i] / den[i] (two runners' times in the same rounds). */
export function pairedRatio(num: number[], den: number[]): number {
  const r = num.map((t, i) => t / den[i]).sort((a, b) => a - b);
  return r[r.length >> 1];
}

export async function makePeers(onnx: Uint8Array, inputShape: number[], peers: string[], threads: number): Promise<Runner[]> {
  const x = new Float32Array(inputShape.reduce((p, d) => p * d, 1)).fill(0.5);
  const out: Runner[] = [];
  if (peers.includes("ort-web")) {
    const ortw = await import("onnxruntime-web");
    ortw.env.wasm.numThreads = threads;
    ortw.env.logLevel = "error";
    const s = await ortw.InferenceSession.create(onnx, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    const name = s.inputNames[0];
    out.push({ name: "onnxruntime-web (wasm)", threads, run: async () => void (await s.run({ [name]: new ortw.Tensor("float32", x, inputShape) })) });
  }
  if (peers.includes("ort-node")) {
    const ortn = await import("onnxruntime-node");
    const s = await ortn.InferenceSession.create(onnx, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const name = s.inputNames[0];
    out.push({ name: "onnxruntime-node", threads, run: async () => void (await s.run({ [name]: new ortn.Tensor("float32", x, inputShape) })) });
  }
  return out;
}

export async function measureLatency(bundle: Bundle, peers: Runner[], o: { warmup: number; runs: number; onTick?: () => void }): Promise<LatencyResult> {
  const x = new Float32Array(bundle.inputLength * bundle.batch).fill(0.5); // one mbn_run
  const runners: Runner[] = [{ name: "mbn bundle", threads: 1, run: () => void bundle.run(x) }, ...peers];
  for (let i = 0; i < o.warmup; i++) for (const r of runners) await r.run();
  const times = runners.map(() => [] as number[]);
  for (let i = 0; i < o.runs; i++) {
    // alternate the order each round, so that no runner always follows the same one
    for (let j = 0; j < runners.length; j++) {
      const k = i % 2 ? runners.length - 1 - j : j;
      const t = performance.now();
      await runners[k].run();
      times[k][i] = performance.now() - t;
    }
    o.onTick?.();
  }
  const st = runners.map((r, k) => stats(r.name, r.threads, times[k]));
  // Paired ratios: the median over rounds of (peer time / bundle time in the same round). The VM's
  // speed drifts by up to 2× over seconds (noisy neighbours); a round's runs are adjacent in time,
  // so their ratio cancels the drift that a ratio of two separate medians would keep.
  const ratios: Record<string, number> = {};
  for (let k = 1; k < runners.length; k++) ratios[runners[k].name] = pairedRatio(times[k], times[0]);
  // per-step profile: median over a few runs
  const reps = 15, per: number[][] = [];
  for (let i = 0; i < reps; i++) per.push(bundle.profile(x, () => performance.now()));
  const profile = per[0].map((_, j) => {
    const v = per.map((p) => p[j]).sort((a, b) => a - b);
    return { step: j, op: "", node: "", ms: v[reps >> 1] };
  });
  return { stats: st, ratios, times, profile };
}
