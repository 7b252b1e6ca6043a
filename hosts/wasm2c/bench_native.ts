// The C target natively compiled against V8 on the same model, in one run: builds `mbn compile
// --target c`'s output five ways — `make` (-O2; wasm2c's memory: a pointer the generated code reloads
// after every store, guard pages instead of bounds checks on 64-bit hosts), `make fast` (the same at
// -O3 -march=native: popcnt), `make pgo` (make fast, profile-guided, trained on the model's test_data
// samples, timed on the self-test input), `make static` (the linear memory one static array, constant base, every
// access checked against a constant end) and the same unchecked (profiling only: what the checks
// cost) — checks each against V8 bit for bit (self-test hash and the outputs on the model's
// test_data), then times mbn_run in interleaved rounds: V8 scalar and V8 simd in this process, each C
// build in its own `--bench`. Published figures: V8 scalar / C fast and / C fast + PGO, the median of the per-round ratios
// (of the rounds' medians, and of their minima, which contention from other processes disturbs less).
//   npx tsx hosts/wasm2c/bench_native.ts [model.onnx] [--rounds 9] [--runs 20] [-o results/mcu-native-c.json]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/index.ts";
import { emitC } from "../../compiler/emit/c_target.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { loadBundle } from "../../runtime/host/loader.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (f: string, d: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
const model = args.find((a, i) => !a.startsWith("-") && !args[i - 1]?.startsWith("-")) ?? "models/zoo/fmnist_resnet20_mbn3x1/model.onnx";
const rounds = Number(opt("--rounds", "9")), runs = Number(opt("--runs", "20")), out = opt("-o", "results/mcu-native-c.json");
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const file = join(ROOT, model);
const scalar = compile(readFileSync(file), { file, target: "scalar" }).wasm;
const simd = compile(readFileSync(file), { file, target: "simd" }).wasm;
const dir = mkdtempSync(join(tmpdir(), "mbn-native-c-"));
try {
  emitC(scalar, dir, { model });
  const cc = process.env.CC ?? "cc";
  const native = "-O3 -march=native -ffp-contract=off -fno-math-errno";
  // the profile is trained on other inputs than the timed one: the model's test_data (real samples)
  // when it has one, else the first 20 runs of --bench (the timed input)
  const npyIn = join(dirname(file), "test_data/input.npy");
  if (existsSync(npyIn)) writeFileSync(join(dir, "train.f32"), readNpy(readFileSync(npyIn)).data);
  const pgoRun = existsSync(npyIn) ? "./mbn_model_pgo < train.f32 > /dev/null" : "./mbn_model_pgo --bench 20 > /dev/null";
  const builds: Record<string, string[]> = {
    "C -O2 (make)": ["mbn_model"],
    "C fast (make fast)": ["fast"],
    "C fast + PGO (make pgo)": ["pgo", `PGO_RUN=${pgoRun}`],
    "C static memory": ["static"],
    "C static, unchecked": ["static", `FAST_CFLAGS=${native} -DMBN_UNCHECKED`],
  };
  const exe: Record<string, string> = {};
  for (const [name, target] of Object.entries(builds)) {
    execFileSync("make", ["-s", "-C", dir, `CC=${cc}`, ...target], { stdio: "pipe" });
    const bin = join(dir, { fast: "mbn_model_fast", pgo: "mbn_model_pgo", static: "mbn_model_static" }[target[0]] ?? "mbn_model");
    exe[name] = join(dir, `${name.replace(/\W+/g, "_")}`);
    execFileSync("cp", [bin, exe[name]]);
    rmSync(bin);
  }

  // the same bits as V8: self-test hash, and the outputs on the model's test_data (when it has one)
  const v8 = await loadBundle(scalar);
  const hash = String((await WebAssembly.instantiate(scalar as Uint8Array<ArrayBuffer>, {})).instance.exports.mbn_selftest() as number >>> 0);
  const npy = join(dirname(file), "test_data/input.npy");
  const x = existsSync(npy) ? readNpy(readFileSync(npy)).data : undefined;
  const want = x && Buffer.from(v8.run(x).buffer);
  for (const [name, bin] of Object.entries(exe)) {
    const st = execFileSync(bin, ["--selftest"], { encoding: "utf8" }).trim();
    if (st !== hash) throw new Error(`${name}: self-test ${st} ≠ V8 ${hash}`);
    if (x && Buffer.compare(spawnSync(bin, [], { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 26 }).stdout, want!) !== 0)
      throw new Error(`${name}: outputs differ from V8 on ${npy}`);
  }

  // V8 on the self-test input too (mbn_selftest leaves it in the input buffer): mbn_run alone, as --bench
  type Ex = { mbn_selftest(): number; mbn_run(): number };
  const inst = async (w: Uint8Array) => (await WebAssembly.instantiate(w as Uint8Array<ArrayBuffer>, {})).instance.exports as Ex;
  const v8s = await inst(scalar), v8v = await inst(simd);
  const timeV8 = (e: Ex) => {
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      if (e.mbn_run()) throw new Error("mbn_run failed");
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    return { median: median(t), min: t[0] };
  };
  v8s.mbn_selftest(), v8v.mbn_selftest();
  for (let i = 0; i < 50; i++) (v8s.mbn_run(), v8v.mbn_run()); // warm-up (tier-up)
  const per: Record<string, { median: number; min: number }[]> = { "V8 scalar": [], "V8 simd": [], ...Object.fromEntries(Object.keys(exe).map((k) => [k, []])) };
  for (let r = 0; r < rounds; r++) {
    per["V8 scalar"].push(timeV8(v8s));
    per["V8 simd"].push(timeV8(v8v));
    for (const [name, bin] of Object.entries(exe)) {
      const b = JSON.parse(execFileSync(bin, ["--bench", String(runs)], { encoding: "utf8" }));
      per[name].push({ median: b.median_ms, min: b.min_ms });
    }
  }
  // per round: each runner's median and its minimum (contention only adds time); ratios per round
  const ratio = (a: string, b: string, k: "median" | "min") => median(per[a].map((v, i) => v[k] / per[b][i][k]));
  const rec = {
    command: `npx tsx hosts/wasm2c/bench_native.ts${args.length ? " " + args.join(" ") : ""}`,
    date: new Date().toISOString(), machine: `${hostname()} ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`,
    commit: process.env.MBN_SOURCE_COMMIT ?? spawnSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim(), // (set in a git archive export)
    model, cc: spawnSync(cc, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0], wasm2c: spawnSync("wasm2c", ["--version"], { encoding: "utf8" }).stdout.trim(),
    rounds, runs_per_round: runs, load_average: loadavg().map((x) => Math.round(x * 100) / 100),
    statistic: "ms per mbn_run (the same self-test input, after warm-up): each round's median and minimum per runner; ratios: median over rounds of the per-round ratio",
    selftest: hash, outputs_equal_v8: true,
    ms: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, { median_of_medians: median(v.map((x) => x.median)), median_of_minima: median(v.map((x) => x.min)), rounds: v }])),
    v8_scalar_over: Object.fromEntries(Object.keys(exe).map((k) => [k, { by_median: ratio("V8 scalar", k, "median"), by_min: ratio("V8 scalar", k, "min") }])),
    v8_simd_over: Object.fromEntries(Object.keys(exe).map((k) => [k, { by_median: ratio("V8 simd", k, "median"), by_min: ratio("V8 simd", k, "min") }])),
  };
  writeFileSync(join(ROOT, out), JSON.stringify(rec, null, 2) + "\n");
  console.log(`${model}, ${rec.machine}, load ${rec.load_average.join(" ")}, ${rounds} rounds × ${runs} runs, ms per mbn_run (median over rounds of each round's median / minimum):`);
  for (const [k, v] of Object.entries(rec.ms)) console.log(`  ${k.padEnd(22)} ${v.median_of_medians.toFixed(3)} / ${v.median_of_minima.toFixed(3)}`);
  for (const k of Object.keys(exe))
    console.log(`  V8 scalar / ${k}: ${rec.v8_scalar_over[k].by_median.toFixed(2)}× (minima ${rec.v8_scalar_over[k].by_min.toFixed(2)}×)   V8 simd / ${k}: ${rec.v8_simd_over[k].by_median.toFixed(2)}× (minima ${rec.v8_simd_over[k].by_min.toFixed(2)}×)`);
  console.log(`→ ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
