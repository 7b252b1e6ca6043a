// CLI: `mbn mcu <model.onnx|scalar bundle> --engine wasm3|c [--board mps2-an386|mps2-an505] [--json]`
// Builds firmware that embeds the model — the scalar (WebAssembly 1.0) bundle inside wasm3
// (hosts/wasm3/mcu), or the C target (wasm2c) with its read-only image in flash and a static RAM array
// (hosts/wasm2c/mcu) — runs it in qemu-system-arm (semihosting console, `-icount shift=0`: one guest
// instruction = 1 ns of virtual time) and checks its outputs and mbn_selftest() against V8's, bit for
// bit. Prints the figures (one JSON line with --json). Instruction counts are QEMU's; any time derived
// from them is labelled an estimate. A missing tool is one `mbn:` line naming what to install.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emitC } from "../../compiler/emit/c_target.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { openModel, readInput, size, UsageError } from "../common.ts";

export const ENGINES = ["wasm3", "c"];
// the board's CPU and its timer 0's clock (hosts/mcu/<board>.mk): under -icount shift=0 (1 instruction
// = 1 ns) a tick of a 25 MHz timer is 40 instructions, of a 20 MHz one 50
export const BOARDS: Record<string, { cpu: string; instructionsPerTick: number }> = {
  "mps2-an386": { cpu: "Cortex-M4", instructionsPerTick: 40 }, "mps2-an505": { cpu: "Cortex-M33", instructionsPerTick: 50 },
};
const HOSTS = fileURLToPath(new URL("../../hosts/", import.meta.url));

export interface McuOptions {
  engine: string;
  board: string;
  json?: boolean;
  input?: string;
  samples: number;
  timeout: number;
  wasm3Dir?: string; // default ../shared/third_party/wasm3 next to the clone (main.ts reads MBN_WASM3_DIR)
  keep?: string; // keep the firmware build here
}

export interface McuRecord {
  engine: string;
  board: string;
  cpu: string;
  model: string;
  samples: number;
  input: string;
  selftest: number;
  selftest_v8: number;
  selftest_match_v8: boolean;
  outputs_match_v8: boolean;
  outputs_fnv1a: number; // FNV-1a of the firmware's output bytes, all samples (float32 LE)
  flash_bytes: number;
  ram_bytes: number;
  ram: { static_bytes: number; heap_bytes: number; stack_bytes: number };
  instructions_per_inference: number;
  ms_at_100MHz_estimate: number;
  estimate_note: string;
}

const has = (cmd: string, args = ["--version"]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const root = fileURLToPath(new URL("../../", import.meta.url));
export const defaultWasm3Dir = () => resolve(root, "../shared/third_party/wasm3");

/** What is missing to build and run firmware for `engine`, as a line naming what to install; "" when nothing. */
export function missingTools(engine: string, wasm3Dir: string): string {
  const gcc = has("arm-none-eabi-gcc");
  const newlib = gcc && spawnSync("arm-none-eabi-gcc", ["-print-file-name=libc_nano.a"], { encoding: "utf8" }).stdout.trim().startsWith("/");
  if (!gcc || !newlib) return "no arm-none-eabi-gcc with newlib (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)";
  if (!has("qemu-system-arm")) return "no qemu-system-arm (Debian: apt-get install qemu-system-arm)";
  if (!has("make")) return "no make (Debian: apt-get install make)";
  if (engine === "c" && !has("wasm2c")) return "no wasm2c for the C engine (Debian: apt-get install wabt)";
  if (engine === "wasm3" && !existsSync(join(wasm3Dir, "source/wasm3.h")))
    return `no wasm3 sources at ${wasm3Dir} (set MBN_WASM3_DIR to a checkout of github.com/wasm3/wasm3)`;
  return "";
}

/** The input samples: --input, else the model's test_data/input.npy, else the self-test's generator. */
function inputs(file: string, o: McuOptions, per: number): { x: Float32Array; from: string } {
  const npy = o.input ?? join(dirname(file), "test_data/input.npy");
  if (o.input !== undefined || existsSync(npy)) {
    let a;
    try {
      a = readNpy(readInput(npy), npy);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (a.dtype !== "float32") throw new UsageError(`${npy}: dtype ${a.dtype}; mbn mcu takes float32 samples`);
    if (a.data.length % per) throw new UsageError(`${npy}: shape [${a.shape}] does not hold whole samples of ${per} floats`);
    if (a.data.length < per * o.samples) throw new UsageError(`${npy}: ${a.data.length / per} sample(s), fewer than --samples ${o.samples}`);
    return { x: a.data.slice(0, per * o.samples), from: npy };
  }
  const x = new Float32Array(per * o.samples); // xorshift32 → [0, 1), as mbn_selftest
  let s = 0x2545f491;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    x[i] = Math.fround((s >>> 8) * (1 / 16777216));
  }
  return { x, from: "xorshift32 in [0, 1)" };
}

function make(args: string[], what: string): void {
  const r = spawnSync("make", ["-s", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    const lines = `${r.stderr ?? ""}\n${r.stdout ?? ""}`.split("\n").map((l) => l.trim()).filter(Boolean);
    const line = lines.find((l) => /error|mbn fw:/i.test(l)) ?? lines.pop() ?? `exit ${r.status}`;
    throw new UsageError(`mcu: building the ${what} firmware failed: ${line}`);
  }
}

export async function mcu(file: string, o: McuOptions): Promise<McuRecord> {
  const wasm3Dir = o.wasm3Dir ? resolve(o.wasm3Dir) : defaultWasm3Dir();
  readInput(file); // an unreadable model is named before any missing tool
  const missing = missingTools(o.engine, wasm3Dir);
  if (missing) throw new UsageError(`mcu --engine ${o.engine}: ${missing}`);
  const { bundle, wasm } = await openModel(file, "scalar");
  if (bundle.info.target !== "scalar") throw new UsageError(`${file} is a ${bundle.info.target} bundle; mbn mcu takes the .onnx model or a scalar (WebAssembly 1.0) bundle`);
  const per = bundle.inputLength * bundle.batch; // floats per mbn_run
  const { x, from } = inputs(file, { ...o, samples: o.samples * bundle.batch }, bundle.inputLength);
  const want = bundle.run(x);
  const ex = (await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {})).instance.exports as { mbn_selftest(): number };
  const selftestV8 = ex.mbn_selftest() >>> 0;

  const dir = o.keep ?? mkdtempSync(join(tmpdir(), "mbn-mcu-"));
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, "input.f32"), x);
    const common = [`BUILD=${join(dir, "fw")}`, `BOARD=${o.board}`, `INPUT=${join(dir, "input.f32")}`];
    if (o.engine === "c") {
      emitC(wasm, join(dir, "c"), { model: file }, { rom: true });
      make(["-C", join(HOSTS, "wasm2c/mcu"), ...common, `C_DIR=${join(dir, "c")}`], "C");
    } else {
      writeFileSync(join(dir, "bundle.wasm"), wasm);
      // wasm3's objects depend only on the board and the sources: shared between runs
      const m3 = join(tmpdir(), "mbn-mcu-m3", `${o.board}-${Buffer.from(wasm3Dir).toString("hex").slice(-24)}`);
      make(["-C", join(HOSTS, "wasm3/mcu"), ...common, `BUNDLE=${join(dir, "bundle.wasm")}`, `M3BUILD=${m3}`, `MBN_WASM3_DIR=${wasm3Dir}`, `MEM_BYTES=${bundle.info.memory_bytes}`], "wasm3");
    }
    const elf = join(dir, "fw/fw.elf");
    const sz = spawnSync("arm-none-eabi-size", [elf], { encoding: "utf8" }).stdout.trim().split("\n").pop()!.trim().split(/\s+/).map(Number);
    const [text, data] = sz;
    const run = spawnSync("qemu-system-arm", ["-M", o.board, "-nographic", "-monitor", "none", "-serial", "none",
      "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel", elf], { encoding: "utf8", timeout: o.timeout * 1000, maxBuffer: 1 << 26 });
    if (run.error || run.signal) throw new UsageError(`mcu: qemu-system-arm ${run.signal ? `stopped after --timeout ${o.timeout} s` : `failed: ${run.error!.message}`}`);
    // the console: newlib's stdout (wasm3 firmware) or SYS_WRITE0 (C firmware), which QEMU writes to stderr
    const lines = `${run.stdout}\n${run.stderr}`.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("mbn-fw ") || l.startsWith("{"));
    let fw;
    try {
      fw = JSON.parse(lines.filter((l) => l.startsWith("{")).pop()!);
    } catch {
      throw new UsageError(`mcu: the firmware printed no result (qemu exit ${run.status}: ${(run.stderr || run.stdout).trim().split("\n").pop()})`);
    }
    if (fw.error) throw new UsageError(`mcu: the firmware failed: ${fw.error}`);
    if (run.status !== 0) throw new UsageError(`mcu: qemu-system-arm exited with ${run.status}`);
    const ipt = fw.calibration.instructions / fw.calibration.ticks;
    const want_ipt = BOARDS[o.board].instructionsPerTick;
    if (ipt !== want_ipt) throw new UsageError(`mcu: the timer counts ${ipt} instructions a tick, not ${want_ipt} (is -icount shift=0 in effect?)`);
    const outs = lines.filter((l) => l.startsWith("mbn-fw out ")).map((l) => l.split(" ")[3]);
    const hex = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (v) => v.toString(16).padStart(8, "0")).join("");
    const outPer = want.length / o.samples;
    const match = outs.length === o.samples && outs.every((h, i) => h === hex(want.subarray(i * outPer, (i + 1) * outPer)));
    let h = 0x811c9dc5;
    for (const o of outs) for (let i = 0; i < o.length; i += 8) {
      const v = parseInt(o.slice(i, i + 8), 16);
      for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((v >>> (8 * k)) & 255), 0x01000193) >>> 0;
    }
    const insns = Math.min(...fw.ticks_per_run) * ipt;
    if (per * 4 * o.samples !== x.byteLength) throw new UsageError("mcu: internal: sample size");
    return {
      engine: o.engine, board: o.board, cpu: BOARDS[o.board].cpu, model: file, samples: o.samples, input: from,
      selftest: fw.selftest, selftest_v8: selftestV8, selftest_match_v8: fw.selftest === selftestV8, outputs_match_v8: match, outputs_fnv1a: h,
      flash_bytes: text + data, ram_bytes: fw.static_bytes + fw.heap_bytes + fw.stack_bytes,
      ram: { static_bytes: fw.static_bytes, heap_bytes: fw.heap_bytes, stack_bytes: fw.stack_bytes },
      instructions_per_inference: insns, ms_at_100MHz_estimate: Math.round(insns / 1e5),
      estimate_note: "instructions counted by QEMU (-icount shift=0); ms at 100 MHz assumes 1 instruction per cycle: an estimate, not a measurement",
    };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export async function mcuCommand(file: string, o: McuOptions): Promise<void> {
  const r = await mcu(file, o);
  if (o.json) console.log(JSON.stringify(r));
  else {
    console.log(`${basename(file)} on ${r.board} (${r.cpu}, QEMU), engine ${r.engine}: outputs ${r.outputs_match_v8 ? "= V8 bit for bit" : "DIFFER from V8"} on ${r.samples} sample(s) (${r.input}); self-test ${r.selftest} ${r.selftest_match_v8 ? "= V8" : `≠ V8 ${r.selftest_v8}`}`);
    console.log(`flash ${size(r.flash_bytes)}, RAM ${size(r.ram_bytes)} (static ${size(r.ram.static_bytes)} + heap ${size(r.ram.heap_bytes)} + stack ${size(r.ram.stack_bytes)}), ` +
      `${(r.instructions_per_inference / 1e6).toFixed(1)} M instructions per inference (≈ ${r.ms_at_100MHz_estimate} ms at 100 MHz, 1 instruction/cycle: an estimate)`);
  }
  if (!r.outputs_match_v8 || !r.selftest_match_v8)
    throw new UsageError(`mcu: the firmware's ${!r.outputs_match_v8 ? "outputs" : "self-test"} differ from V8's (${r.engine} on ${r.board})`);
}
