// Runs a bundle (zero imports, mbn's ABI) in a loop for a number of milliseconds, on a fixed input,
// with nothing else in the process: the workload that scripts/perf_profile.sh samples.
//   node scripts/perf_profile_run.mjs bundle.wasm [ms=8000]
import { readFileSync } from "node:fs";
const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), {});
const e = instance.exports;
if (e.mbn_check() !== 0) throw new Error(`mbn: ${process.argv[2]}: mbn_check failed`);
const x = new Float32Array(e.memory.buffer, e.mbn_input_ptr(), e.mbn_input_len());
for (let i = 0; i < x.length; i++) x[i] = ((i * 37) % 101) / 101;
const t = performance.now();
let n = 0;
while (performance.now() - t < Number(process.argv[3] || 8000)) { e.mbn_run(); n++; }
console.log(`${n} runs, ${((performance.now() - t) / n).toFixed(3)} ms per run (under sampling)`);
