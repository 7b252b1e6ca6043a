// Tests the popcount floor itself (harness/bench/popcount_floor.ts): the floor probe's tiling (one
// window, four output channels' counts in registers, every weight word loaded per window) against a
// variant that loads each weight word once for two windows (popcount_tiles2 in
// runtime/assembly/probe/popcount_floor.ts), for the same number of popcounts, in interleaved rounds
// with the noise gauge (harness/bench/latency.ts measureRunners). If the variant is faster, the
// floor is the probe's, not the machine's: peer / floor bounds in the bench records are then that
// much too low. Writes results/floor-variants.json.
//   npx tsx scripts/floor_variants.ts [--rounds 31]
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { loadPopcountProbe } from "../harness/bench/popcount_floor.ts";
import { measureRunners } from "../harness/bench/latency.ts";

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1] || 31);
const POPCOUNTS = 2_000_000; // per run: about a ResNet-20's binary layers
const SHAPES: [number, number][] = [[64, 9], [16, 3], [32, 6]]; // [output channels, words per window]; 64 × 9 is the floor's own
const e = await loadPopcountProbe();
const m = new Uint8Array(e.memory.buffer);
const out = [];
for (const [cout, nw] of SHAPES) {
  const a = 1024, w = a + 2 * nw * 8; // two windows, then the weights (all in the probe's first page)
  let s = 12345;
  for (let i = a; i < w + cout * nw * 8; i++) m[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const reps = 2 * Math.max(1, Math.round(POPCOUNTS / (cout * nw * 2))); // even: the variant does two windows per rep
  const r = await measureRunners([
    { name: "floor probe (1 window per weight load)", threads: 1, run: () => void e.popcount_tiles(a, w, cout, nw, reps) },
    { name: "2 windows per weight load", threads: 1, run: () => void e.popcount_tiles2(a, w, cout, nw, reps) },
  ], { warmup: 5, runs: rounds });
  const pops = reps * cout * nw;
  const rate = r.stats.map((st) => +(pops / (st.p10_ms * 1e6)).toFixed(3));
  const row = {
    cout, words: nw, popcounts_per_run: pops, g_popcounts_per_s_p10: { probe: rate[0], two_windows: rate[1] },
    probe_time_over_variant: +(1 / r.ratios["2 windows per weight load"]).toFixed(3),
    noisy: r.noise.noisy, noise_reasons: r.noise.reasons,
  };
  console.log(`${cout} channels × ${nw} words: probe ${rate[0]} G popcounts/s, two windows ${rate[1]} (probe time / variant time ${row.probe_time_over_variant}, paired median of ${rounds} rounds)${r.noise.noisy ? " NOISY" : " quiet"}`);
  out.push(row);
}
writeFileSync("results/floor-variants.json", JSON.stringify({
  what: "the popcount floor's tiling vs a two-windows-per-weight-load tiling, same popcounts, interleaved rounds in one process",
  date: new Date().toISOString(), machine: `${cpus()[0]?.model} ×${cpus().length}`, node: process.version, load_avg_1m: loadavg()[0],
  command: `npx tsx scripts/floor_variants.ts --rounds ${rounds}`, rounds, shapes: out,
}, null, 2) + "\n");
console.log("wrote results/floor-variants.json");
