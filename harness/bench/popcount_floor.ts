// Harness latency: the popcount floor — the time a bare XOR-popcount loop (runtime/assembly/probe/
// popcount_floor.ts, the runtime's tile shape without any other work) takes for the model's own
// number of 64-bit weight×activation popcounts, timed in the same rounds as the bundle and its
// peers. No popcount-bound bundle can beat it on this host, so peer time / floor time is the best
// speed-up a binary kernel could show against that peer here (a bound, not a target).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const COUT = 64, NW = 9, PER_REP = COUT * NW; // one rep: 64 channels × 9 words = 576 popcounts
export const FLOOR_RUNNER = "popcount floor";

export interface PopcountProbe {
  memory: WebAssembly.Memory;
  popcount_tiles(a: number, w: number, cout: number, nw: number, reps: number): bigint;
  /** the variant that loads each weight word once for two windows (scripts/floor_variants.ts) */
  popcount_tiles2(a: number, w: number, cout: number, nw: number, reps: number): bigint;
}

export async function loadPopcountProbe(): Promise<PopcountProbe> {
  const bytes = readFileSync(fileURLToPath(new URL("../../runtime/build/popcount-floor.wasm", import.meta.url)));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return instance.exports as unknown as PopcountProbe;
}

export async function popcountFloorRunner(popcounts: number): Promise<{ name: string; threads: number; run: () => void }> {
  return floorRunner(await loadPopcountProbe(), popcounts);
}

/** The floor runner on a loaded probe (no file access: the device page loads the probe itself). */
export function floorRunner(e: PopcountProbe, popcounts: number): { name: string; threads: number; run: () => void } {
  const a = 1024, w = a + NW * 8; // (the probe's one 64 KiB page holds both)
  const m = new Uint8Array(e.memory.buffer);
  let s = 12345; // random-looking words (the count does not depend on them; no branch does)
  for (let i = a; i < w + COUT * NW * 8; i++) m[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const reps = Math.max(1, Math.round(popcounts / PER_REP));
  return { name: FLOOR_RUNNER, threads: 1, run: () => void e.popcount_tiles(a, w, COUT, NW, reps) };
}
