// wasm3, the interpreter that runs on microcontrollers (Cortex-M, ESP32, RISC-V), as a tested host:
// hosts/wasm3 (host.c on wasm3's public API) is built with gcc from the wasm3 sources at MBN_WASM3_DIR
// (default ../shared/third_party/wasm3 next to the clone; never copied into this repository). For every
// fixture's scalar (WebAssembly 1.0) bundle, its outputs on random inputs and its mbn_selftest() hash must
// equal V8's bit for bit. Per-inference times of both are printed (wasm3's are an interpreter's latency).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { uniformInputs } from "../helpers/oracle.ts";
import { fnv, selftestInput } from "../helpers/selftest.ts";

const root = new URL("../../", import.meta.url).pathname;
const wasm3Dir = resolve(root, process.env.MBN_WASM3_DIR ?? "../shared/third_party/wasm3");
const has = (cmd: string) => spawnSync(cmd, ["--version"]).status === 0;
const cc = has("gcc") ? "gcc" : has("cc") ? "cc" : "";
const why = !existsSync(join(wasm3Dir, "source/wasm3.h"))
  ? `no wasm3 sources at ${wasm3Dir} (set MBN_WASM3_DIR to a checkout of github.com/wasm3/wasm3)`
  : !cc ? "no C compiler (gcc or cc)" : !has("make") ? "no make" : "";
if (why) console.log(`wasm3.test: SKIPPED — ${why}`);

const fixtures = new URL("../fixtures/", import.meta.url).pathname;
const models = [
  ...readdirSync(fixtures).filter((f) => f.endsWith(".onnx")).sort().map((f) => join(fixtures, f)),
  join(root, "models/zoo/fmnist_resnet20_mbn3x1/model.onnx"),
].filter((f) => existsSync(f));

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.runIf(!why)(`wasm3 host (hosts/wasm3, wasm3 at ${wasm3Dir})`, () => {
  const dir = mkdtempSync(join(tmpdir(), "mbn-wasm3-"));
  const host = join(dir, "mbn_wasm3");
  const rows: string[] = [];

  beforeAll(() => {
    const t = performance.now();
    execFileSync("make", ["-s", "-j4", "-C", join(root, "hosts/wasm3"), `BUILD=${dir}`, `MBN_WASM3_DIR=${wasm3Dir}`, `CC=${cc}`], { stdio: "pipe" });
    console.log(`wasm3 host built with ${cc} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }, 180_000);

  afterAll(() => {
    if (!rows.length) return;
    console.log([
      "wasm3 vs V8 on this host, scalar (WebAssembly 1.0) bundle, ms per mbn_run (one sample unless the model has a fixed batch) (wasm3 is an interpreter: its latency, not a JIT's)",
      "| model | samples | outputs | selftest | wasm3 ms | V8 scalar ms | V8 simd ms | wasm3 / V8 scalar |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n"));
  });

  it("the host refuses a bad file and a partial sample with one line and exit 1", () => {
    writeFileSync(join(dir, "bad.wasm"), "not wasm");
    const r = spawnSync(host, [join(dir, "bad.wasm")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mbn_wasm3: .*bad\.wasm: /);
    const { wasm } = compile(readFileSync(join(fixtures, "qdq_int8.onnx")), { target: "scalar" });
    writeFileSync(join(dir, "q.wasm"), wasm);
    const p = spawnSync(host, [join(dir, "q.wasm")], { input: Buffer.alloc(6), encoding: "utf8" });
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/not a multiple/);
  });

  it.each(models.map((m) => [m.slice(root.length), m]))("%s: wasm3 = V8 bit for bit (outputs and self-test)", async (name, file) => {
    const { wasm, report } = compile(readFileSync(file), { file, target: "scalar" });
    const simd = compile(readFileSync(file), { file, target: "simd" }).wasm;
    const path = join(dir, name.replace(/[/.]/g, "_") + ".wasm");
    writeFileSync(path, wasm);
    const b = await loadBundle(wasm), v = await loadBundle(simd);
    // An interpreter: keep big models to a couple of samples (≲ 60 s for the whole file).
    const heavy = report.totals.memoryBytes > 1 << 20 || wasm.length > 100_000;
    const n = (heavy ? 2 : 6) * b.batch;
    const x = uniformInputs(n, b.inputLength, 7);
    for (let i = 0; i < x.length; i += 2) x[i] = 4 * x[i] - 2; // signed values too (Sign / bipolar inputs)
    const want = b.run(x);
    const r = spawnSync(host, [path, "--time"], { input: bytesOf(x), maxBuffer: 1 << 26 });
    expect(r.status, r.stderr?.toString()).toBe(0);
    const got = new Float32Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + r.stdout.byteLength));
    expect(got.length).toBe(want.length);
    expect(Buffer.compare(bytesOf(got), bytesOf(want))).toBe(0);
    const hash = fnv(b.run(selftestInput(b.inputLength * b.batch)));
    const st = execFileSync(host, [path, "--selftest"], { encoding: "utf8" }).trim();
    expect(st).toBe(String(hash));
    expect(fnv(v.run(selftestInput(v.inputLength * v.batch)))).toBe(hash);

    const t3 = JSON.parse(r.stderr.toString().trim().split("\n").pop()!) as { runs: number; ms_per_run: number };
    const perV8 = (bb: typeof b) => {
      bb.run(x); // warm (tier-up)
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        bb.run(x);
        best = Math.min(best, (performance.now() - t) / (n / bb.batch));
      }
      return best;
    };
    const ms3 = t3.ms_per_run, ms8 = perV8(b), msv = perV8(v);
    rows.push(`| ${name} | ${n} | identical | ${st} | ${ms3.toFixed(2)} | ${ms8.toFixed(3)} | ${msv.toFixed(3)} | ${(ms3 / ms8).toFixed(0)}× |`);
  }, 120_000);
});

if (why) describe(`wasm3 host: SKIPPED, ${why}`, () => {
  it("skipped", () => {});
});

// The same bundles on a microcontroller, emulated: hosts/wasm3/mcu builds firmware for a Cortex-M4
// (QEMU mps2-an386: wasm3 + the scalar bundle + input samples in flash, semihosting console) and runs it
// under `qemu-system-arm -icount shift=0`, where one guest instruction is 1 ns of virtual time, so the
// board's 25 MHz timer counts 40 instructions a tick (the firmware checks this on a known loop).
const armGcc = has("arm-none-eabi-gcc") && spawnSync("arm-none-eabi-gcc", ["-print-file-name=librdimon.a"], { encoding: "utf8" }).stdout.trim().startsWith("/");
const whyMcu = why || (!armGcc ? "no arm-none-eabi-gcc with newlib (Debian: gcc-arm-none-eabi, libnewlib-arm-none-eabi)" : !has("qemu-system-arm") ? "no qemu-system-arm" : "");
if (whyMcu && !why) console.log(`wasm3.test (Cortex-M4): SKIPPED — ${whyMcu}`);

describe.runIf(!whyMcu)("wasm3 on an emulated Cortex-M4 (qemu-system-arm mps2-an386, hosts/wasm3/mcu)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mbn-mcu-"));
  const cases: [string, number][] = [["models/zoo/fmnist_resnet20_mbn3x1/model.onnx", 1], ["test/fixtures/qonnx_mbn.onnx", 2]];
  it.each(cases.filter(([m]) => existsSync(join(root, m))))("%s: firmware outputs = V8 bit for bit", async (name, samples) => {
    const file = join(root, name);
    const { wasm } = compile(readFileSync(file), { file, target: "scalar" });
    const tag = name.replace(/[/.]/g, "_");
    const b = await loadBundle(wasm);
    const x = uniformInputs(samples * b.batch, b.inputLength, 11);
    writeFileSync(join(dir, `${tag}.wasm`), wasm);
    writeFileSync(join(dir, `${tag}.f32`), x);
    const make = ["-s", "-j4", "-C", join(root, "hosts/wasm3/mcu"), `BUILD=${join(dir, tag)}`, `M3BUILD=${join(dir, "m3")}`,
      `MBN_WASM3_DIR=${wasm3Dir}`, `BUNDLE=${join(dir, `${tag}.wasm`)}`, `INPUT=${join(dir, `${tag}.f32`)}`];
    const size = execFileSync("make", make, { encoding: "utf8" }).trim().split("\n").pop()!.trim().split(/\s+/).map(Number); // text data bss
    const run = spawnSync("make", [...make, "run"], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    const fw = JSON.parse(lines.pop()!);
    expect(fw.error).toBeUndefined();
    const want = b.run(x), per = want.length / (samples * b.batch) * b.batch;
    const hex = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (v) => v.toString(16).padStart(8, "0")).join("");
    const outs = lines.filter((l) => l.startsWith("mbn-fw out ")).map((l) => l.split(" ")[3]);
    expect(outs.length).toBe(samples);
    outs.forEach((o, i) => expect(o).toBe(hex(want.subarray(i * per, (i + 1) * per))));
    expect(fw.selftest).toBe(fnv(b.run(selftestInput(b.inputLength * b.batch))));
    const perTick = fw.calibration.instructions / fw.calibration.ticks;
    expect(perTick).toBe(40);
    const insns = Math.min(...fw.ticks_per_run) * perTick;
    console.log(JSON.stringify({
      engine: "wasm3", board: "mps2-an386", model: name, selftest: fw.selftest, outputs_match_v8: true,
      flash_bytes: size[0] + size[1], ram_bytes: fw.static_bytes + fw.heap_bytes + fw.stack_bytes,
      heap_bytes: fw.heap_bytes, stack_bytes: fw.stack_bytes, instructions_per_inference: insns,
      ms_at_100MHz_estimate: Math.round(insns / 1e5), // 1 instruction per cycle: an estimate, not a measurement
    }));
  }, 180_000);
});

if (whyMcu && !why) describe(`wasm3 on an emulated Cortex-M4: SKIPPED, ${whyMcu}`, () => {
  it("skipped", () => {});
});
