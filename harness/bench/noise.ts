// Harness latency: the noise gauge — whether a benchmark's figures can be trusted on this machine
// right now. Four signals, each with a threshold (THRESHOLDS, measured on the 2-core dev VM; see
// the comment there):
// * calibration spread: a fixed pure-JS loop (about 1 ms; the same work on every run of every
//   benchmark) is timed once per round; p90 / p10 − 1 over rounds. Other processes preempting this
//   one make some rounds' loop several times slower.
// * CPU share: this process's CPU time / wall time over the in-process runners' rounds (below 1
//   when the scheduler takes the CPU away).
// * run-queue share (Linux): the time this process's threads spent runnable but waiting for a CPU
//   (/proc/self/task/*/schedstat, ns) / wall time over the in-process runners' rounds. Unlike the
//   CPU share it cannot be masked by a second busy thread (a run once showed CPU share 1.94).
// * runner spread: p90 / p10 − 1 of each runner's per-round figures.
// * robust vs paired: the published ratio (median per-round ratio) against the ratio of p10s.
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import type { LatencyStats } from "./latency.ts";

/** p-quantile of a sorted array (nearest rank below). */
export function quantile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor((sorted.length - 1) * p)))];
}

const CALIBRATION_ITERS = 600_000;
let sink = 0;
/** The fixed calibration work: an xorshift loop (integer ALU only, no memory, no allocation). */
export function calibrationLoop(iters = CALIBRATION_ITERS): number {
  let x = 0x9e3779b9 | 0, acc = 0;
  for (let i = 0; i < iters; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    acc = (acc + (x & 0xff)) | 0;
  }
  sink ^= acc;
  return sink;
}

// Thresholds, from runs of the zoo MBN3x1 vs onnxruntime-web on the 2-core dev VM (2026-12-01,
// 60 rounds each; load averages are the 1-minute figures, other sessions' tests included):
// * the README's quiet runs (2026-11-26) had p90 / min − 1 ≈ 5–10 % per runner, and the calmest run
//   here (load 1.9) a calibration spread of 5 % and a CPU share of 1.03;
// * with 6 busy-loop processes the CPU share was 0.09–0.25 in every run, while the calibration
//   spread ranged from 3 % (every round preempted alike) to 1800 %: the CPU share is the signal
//   that never misses uniform contention, the calibration spread catches intermittent contention
//   and VM-level stalls that leave the CPU share at 1 (one run: share 1.00, spread 211 %);
// * the runner spread caught a run at load 1.9 whose calibration loop and CPU share looked quiet
//   but whose bundle rounds spread 128 % (the other core busy: shared caches, SMT siblings);
// * the run-queue share (summed over threads, so it can pass 1) was 0.15–0.19 in calm runs
//   (load 0.8–2.0; a second thread of this process was busy: CPU share 1.76–1.99) and 1.75 with 6
//   hogs; runner spreads in calm runs were 0.21–0.69;
// so the limits sit above the calm values and below the loaded ones.
/** Σ over this process's threads of the time spent waiting on a run queue, ms (undefined off Linux). */
export function runQueueWaitMs(): number | undefined {
  try {
    let ns = 0;
    for (const t of readdirSync("/proc/self/task")) {
      try {
        ns += Number(readFileSync(`/proc/self/task/${t}/schedstat`, "utf8").split(" ")[1]);
      } catch { /* thread gone */ }
    }
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

export const THRESHOLDS = {
  /** run-queue wait (summed over threads) / wall time above this: noisy */
  run_queue_share: 0.5,
  /** calibration loop p90/p10 − 1 above this: noisy */
  calibration_spread: 0.25,
  /** CPU time / wall time of this process below this: noisy */
  cpu_share: 0.9,
  /** any runner's p90/p10 − 1 above this: noisy */
  runner_spread: 1.0,
  /** |robust / paired − 1| above this for any ratio: noisy */
  ratio_disagreement: 0.25,
};

export interface NoiseGauge {
  noisy: boolean;
  /** why (empty when quiet) */ reasons: string[];
  calibration_p10_ms: number; calibration_spread: number; cpu_share: number; /** null off Linux */ run_queue_share: number | null;
  runner_spread: Record<string, number>;
  /** 1-minute load average at the end (recorded, not a criterion) */ load_avg: number;
  thresholds: typeof THRESHOLDS;
}

export function noiseGauge(o: { calibration: number[]; cpuShare: number; runQueueShare?: number | null; stats: LatencyStats[]; robust: Record<string, number>; paired: Record<string, number> }): NoiseGauge {
  const c = [...o.calibration].sort((a, b) => a - b);
  const calSpread = c.length ? quantile(c, 0.9) / quantile(c, 0.1) - 1 : 0;
  const reasons: string[] = [];
  const T = THRESHOLDS;
  if (calSpread > T.calibration_spread) reasons.push(`calibration loop spread ${(calSpread * 100).toFixed(0)}% > ${T.calibration_spread * 100}%`);
  if (o.cpuShare < T.cpu_share) reasons.push(`on a CPU ${(o.cpuShare * 100).toFixed(0)}% of the time < ${T.cpu_share * 100}%`);
  const rq = o.runQueueShare ?? null;
  if (rq !== null && rq > T.run_queue_share) reasons.push(`waiting for a CPU ${(rq * 100).toFixed(0)}% of the time > ${T.run_queue_share * 100}%`);
  const runnerSpread: Record<string, number> = {};
  for (const s of o.stats) {
    runnerSpread[s.runner] = s.spread;
    if (s.spread > T.runner_spread) reasons.push(`${s.runner} spread ${(s.spread * 100).toFixed(0)}% > ${T.runner_spread * 100}%`);
  }
  for (const [k, v] of Object.entries(o.robust)) {
    const d = Math.abs(v / o.paired[k] - 1);
    if (d > T.ratio_disagreement) reasons.push(`${k}: robust ratio ${v.toFixed(2)} vs paired ${o.paired[k].toFixed(2)}`);
  }
  return { noisy: reasons.length > 0, reasons, calibration_p10_ms: c.length ? quantile(c, 0.1) : 0, calibration_spread: calSpread, cpu_share: o.cpuShare, run_queue_share: rq, runner_spread: runnerSpread, load_avg: loadavg()[0], thresholds: T };
}
