// Harness latency: wasm3 — the interpreter used on Cortex-M, ESP32 and RISC-V boards — as a peer of
// `mbn bench`. It runs the model's scalar (WebAssembly 1.0) bundle in hosts/wasm3 (built with the C
// compiler from the wasm3 sources at MBN_WASM3_DIR, default ../shared/third_party/wasm3; cached in the
// OS temp folder) on `runs` samples in its own process, timing each mbn_run (host.c --time). It is
// not interleaved with the bundle's rounds, and it is an interpreter's latency on this host, not a
// device's: the record says both.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface Wasm3Latency {
  runner: string;
  runs: number;
  ms_min: number;
  ms_per_run: number;
  note: string;
}

/** Why wasm3 cannot run here ("" when it can). */
export function wasm3Missing(dir = wasm3Dir()): string {
  if (!existsSync(join(dir, "source/wasm3.h"))) return `no wasm3 sources at ${dir} (set MBN_WASM3_DIR to a checkout of github.com/wasm3/wasm3)`;
  if (spawnSync("make", ["--version"]).status !== 0) return "no make";
  if (spawnSync("cc", ["--version"]).status !== 0 && spawnSync("gcc", ["--version"]).status !== 0) return "no C compiler (cc or gcc)";
  return "";
}

export function wasm3Dir(): string {
  return resolve(root, process.env.MBN_WASM3_DIR ?? "../shared/third_party/wasm3");
}

/** The host binary, built once per wasm3 checkout into the OS temp folder. */
function host(dir: string): string {
  const build = join(tmpdir(), `mbn-wasm3-host-${Buffer.from(dir).toString("hex").slice(-24)}`);
  mkdirSync(build, { recursive: true });
  const cc = spawnSync("cc", ["--version"]).status === 0 ? "cc" : "gcc";
  execFileSync("make", ["-s", "-j2", "-C", join(root, "hosts/wasm3"), `BUILD=${build}`, `MBN_WASM3_DIR=${dir}`, `CC=${cc}`], { stdio: "pipe" });
  return join(build, "mbn_wasm3");
}

/** Time `runs` mbn_run calls of the scalar bundle of `onnx` under wasm3, each on input x (one mbn_run's floats). */
export function wasm3Latency(onnx: Uint8Array, x: Float32Array, runs: number): Wasm3Latency {
  const why = wasm3Missing();
  if (why) throw new Error(`the wasm3 peer cannot run: ${why}`);
  const bin = host(wasm3Dir());
  const work = mkdtempSync(join(tmpdir(), "mbn-wasm3-bench-"));
  const bundle = join(work, "scalar.wasm");
  writeFileSync(bundle, compile(onnx, { target: "scalar", file: "bench.onnx" }).wasm);
  const input = new Float32Array(x.length * runs);
  for (let i = 0; i < runs; i++) input.set(x, i * x.length);
  const r = spawnSync(bin, [bundle, "--time", "--output", join(work, "y.f32")], { input: Buffer.from(input.buffer), maxBuffer: 1 << 26, encoding: "buffer" });
  const line = r.stderr.toString().trim().split("\n").pop() ?? "";
  if (r.status !== 0) throw new Error(`wasm3 host failed: ${line}`);
  const t = JSON.parse(line) as { runs: number; ms_per_run: number; ms_min: number };
  return {
    runner: "wasm3 (interpreter, scalar bundle)", runs: t.runs, ms_min: t.ms_min, ms_per_run: t.ms_per_run,
    note: "its own process after the interleaved rounds (not interleaved); an interpreter's latency on this host, not a device's",
  };
}
