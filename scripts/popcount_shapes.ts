// Microbenchmark of the binary conv's popcount loop shapes (runtime/assembly/probe/popcount_shapes.ts,
// compiled here with the runtime's options + SIMD): scalar i64.popcnt tiles of four and eight
// channels, SIMD i8x16.popcnt lane sums, the same after a carry-save adder (Harley–Seal), and a
// scalar/SIMD hybrid, the tail layout (full words scalar, the last tap in SIMD lanes), on the window
// sizes ResNet-20 runs (3×3 × 16, 32, 64 channels: 3, 6, 9 row-packed words per channel). Each shape's
// checksum is checked against a JavaScript count first; then all are timed in interleaved rounds by
// this process's CPU time (preemption left out). Prints ns per row-packed word (3, 6 or 9 per window,
// whatever the shape pops; median over rounds) and the ratio to the shape the kernels use today.
//   npx tsx scripts/popcount_shapes.ts [--rounds 41]
import asc from "assemblyscript/asc";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

function fail(msg: string): never {
  process.stderr.write(`mbn: popcount_shapes: ${msg}\n`);
  process.exit(1);
}

const argv = process.argv.slice(2);
let rounds = 41;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--rounds") rounds = Number(argv[++i]);
  else fail(`unknown argument ${argv[i]}`);
}
if (!(rounds >= 5)) fail("--rounds must be ≥ 5");

const dir = mkdtempSync(join(tmpdir(), "mbn-popc-"));
const out = join(dir, "shapes.wasm");
const { error, stderr } = await asc.main(["runtime/assembly/probe/popcount_shapes.ts", "--enable", "simd", "-O3", "--runtime", "stub", "--noAssert", "--use", "abort=", "-o", out]);
if (error) fail(`asc: ${error.message} ${stderr.toString()}`);
const { instance } = await WebAssembly.instantiate(readFileSync(out), {});
rmSync(dir, { recursive: true });
type Fn = (...a: number[]) => bigint;
const e = instance.exports as unknown as Record<string, Fn> & { memory: WebAssembly.Memory };
const mem = new DataView(e.memory.buffer);

// one activation window and cout channels of weights per window size (words past nw zero), plus the
// general path's three activation rows (RS bytes apart)
const COUT = 64, WS = 10, RS = 512;
const act = { 3: 1024, 6: 1152, 9: 1280 } as Record<number, number>, rows = 2048;
const wts = { 3: 8192, 6: 16384, 9: 24576 } as Record<number, number>;
let seed = 20261202;
const rnd = () => BigInt((seed = (seed * 1103515245 + 12345) >>> 0)) << 32n | BigInt((seed = (seed * 1103515245 + 12345) >>> 0));
const words = (a: number, n: number) => Array.from({ length: n }, (_, j) => mem.getBigUint64(a + 8 * j, true));
for (const nw of [3, 6, 9]) {
  for (let j = 0; j < WS; j++) mem.setBigUint64(act[nw] + 8 * j, j < nw ? rnd() : 0n, true);
  for (let o = 0; o < COUT; o++) for (let j = 0; j < WS; j++) mem.setBigUint64(wts[nw] + 8 * (o * WS + j), j < nw ? rnd() : 0n, true);
}
for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) mem.setBigUint64(rows + r * RS + 8 * c, rnd(), true);
// the tail layout's weights: the low 16 / 32 bits of word 2 / word 4 of each channel, 8 × u16 / 4 × u32 per v128
const T16 = 32768, T32 = 33792;
for (let o = 0; o < COUT; o++) {
  mem.setUint16(T16 + 2 * o, Number(mem.getBigUint64(wts[3] + 8 * (o * WS + 2), true) & 0xffffn), true);
  mem.setUint32(T32 + 4 * o, Number(mem.getBigUint64(wts[6] + 8 * (o * WS + 4), true) & 0xffffffffn), true);
}
function wantTail(nw: number, full: number, bits: number): bigint {
  const a = words(act[nw], full + 1), m = (1n << BigInt(bits)) - 1n;
  let t = 0n;
  for (let o = 0; o < COUT; o++) {
    const w = words(wts[nw] + 8 * o * WS, full + 1);
    t += BigInt((o % 4) + 1) * BigInt(a.reduce((s, x, j) => s + pop(j < full ? x ^ w[j] : (x ^ w[j]) & m), 0));
  }
  return t;
}
const pop = (x: bigint) => { let c = 0; for (; x; x &= x - 1n) c++; return c; };
function want(nw: number, general: boolean): bigint {
  const a = general ? [0, 1, 2].flatMap((r) => words(rows + r * RS, 3)) : words(act[nw], nw);
  let t = 0n;
  for (let o = 0; o < COUT; o++) {
    const w = words(wts[nw] + 8 * o * WS, nw);
    t += BigInt((o % 4) + 1) * BigInt(a.reduce((s, x, j) => s + pop(x ^ w[j]), 0));
  }
  return t;
}

// [name, window words, what the kernels use today for that window?, run(reps)]
const shapes: [string, number, boolean, (reps: number) => bigint][] = [
  ["scalar i64.popcnt, 4 channels", 3, false, (n) => e.scalar4_3(act[3], wts[3], COUT, WS, n)],
  ["scalar i64.popcnt, 8 channels", 3, false, (n) => e.scalar8_3(act[3], wts[3], COUT, WS, n)],
  ["SIMD i8x16.popcnt lane sums, 4 channels", 3, false, (n) => e.lanes4_3(act[3], wts[3], COUT, WS, n)],
  ["tail layout: 2 words i64.popcnt + 16-bit tail in SIMD, 8 channels", 3, true, (n) => e.tail16(act[3], wts[3], T16, COUT, WS, n)],
  ["scalar i64.popcnt, 8 channels, 5 words", 6, false, (n) => e.scalar8_5(act[6], wts[6], COUT, WS, n)],
  ["tail layout: 4 words i64.popcnt + 32-bit tail in SIMD, 8 channels", 6, true, (n) => e.tail32(act[6], wts[6], T32, COUT, WS, n)],
  ["scalar i64.popcnt, 4 channels", 6, false, (n) => e.scalar4_6(act[6], wts[6], COUT, WS, n)],
  ["scalar i64.popcnt, 8 channels", 6, false, (n) => e.scalar8_6(act[6], wts[6], COUT, WS, n)],
  ["SIMD i8x16.popcnt lane sums, 4 channels", 6, false, (n) => e.lanes4_6(act[6], wts[6], COUT, WS, n)],
  ["SIMD carry-save adder (3 → ones, twos), 4 channels", 6, false, (n) => e.csa6(act[6], wts[6], COUT, WS, n)],
  ["hybrid: 4 scalar + 4 SIMD carry-save channels", 6, false, (n) => e.hybrid6(act[6], wts[6], COUT, WS, n)],
  ["scalar i64.popcnt, 4 channels (one 9-word run in registers)", 9, false, (n) => e.scalar4_9(act[9], wts[9], COUT, WS, n)],
  ["SIMD i8x16.popcnt lane sums, 4 channels", 9, false, (n) => e.lanes4_9(act[9], wts[9], COUT, WS, n)],
  ["SIMD carry-save adder (5 → ones, twos, fours), 4 channels", 9, false, (n) => e.csa10(act[9], wts[9], COUT, WS, n)],
  ["general path: 3 rows × 3 words, 4 channels", 9, true, (n) => e.gen4(rows, wts[9], COUT, RS, WS, n)],
  ["general path: 3 rows × 3 words, 8 channels", 9, false, (n) => e.gen8(rows, wts[9], COUT, RS, WS, n)],
];
for (const [name, nw, , run] of shapes) {
  const general = name.startsWith("general");
  const got = run(1), exp = name.startsWith("tail layout: 2") ? wantTail(3, 2, 16) : name.startsWith("tail layout: 4") ? wantTail(6, 4, 32) : name.includes("5 words") ? wantTail(6, 4, 64) : want(nw, general);
  if (got !== exp) fail(`${name} (${nw} words): checksum ${got}, JavaScript counts ${exp}`);
}

// reps per call: ~2 ms of work at 0.5 ns per word; every shape runs once per round, order rotated
const reps = (nw: number) => Math.max(1, Math.round(2e6 / (0.5 * COUT * nw)));
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
for (const [, nw, , run] of shapes) run(reps(nw)); // warm-up (tier-up)
const ns: number[][] = shapes.map(() => []);
for (let r = 0; r < rounds; r++)
  for (let k = 0; k < shapes.length; k++) {
    const i = (k + r) % shapes.length, [, nw, , run] = shapes[i], n = reps(nw);
    const t = cpu();
    run(n);
    ns[i].push(((cpu() - t) * 1e3) / (n * COUT * nw));
  }
const med = (v: number[]) => v.slice().sort((p, q) => p - q)[v.length >> 1];
console.log(`popcount loop shapes — ${new Date().toISOString()}, ${cpus()[0]?.model} ×${cpus().length}, node ${process.version}, load ${loadavg()[0].toFixed(1)}, ${rounds} interleaved rounds, process CPU time (npx tsx scripts/popcount_shapes.ts${argv.length ? " " + argv.join(" ") : ""})`);
for (const nw of [3, 6, 9]) {
  const today = shapes.findIndex(([, n, t]) => n === nw && t);
  console.log(`${nw}-word window (${nw === 9 ? "3×3 × 64 channels, general path" : `3×3 × ${nw === 3 ? 16 : 32} channels, window path`}):`);
  shapes.forEach(([name, n], i) => {
    if (n !== nw) return;
    console.log(`  ${name.padEnd(58)} ${med(ns[i]).toFixed(3)} ns/word  ×${(med(ns[i]) / med(ns[today])).toFixed(2)} of today's${i === today ? " (today's)" : ""}`);
  });
}
