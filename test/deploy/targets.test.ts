// Deploy targets: the scalar bundle has no SIMD instruction (disassembled with wabt), runs under
// wabt's interpreter with the same result as V8, and the C target (wasm2c + make) builds an
// executable that agrees with V8 bit for bit and with onnxruntime within the compiler's tolerance.
// Needs wabt (wasm-objdump, wasm-interp, wasm2c) and a C compiler; .ci/run installs them.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { emitC } from "../../compiler/emit/c_target.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { agreement, ortOracles, summary, uniformInputs } from "../helpers/oracle.ts";
import { fnv, selftestInput } from "../helpers/selftest.ts";

const has = (cmd: string) => spawnSync(cmd, ["--version"]).status === 0;
const wabt = has("wasm-objdump") && has("wasm-interp") && has("wasm2c");
const cc = has("cc") && has("make");
const SIMD_OPS = /\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./;
const dir = mkdtempSync(join(tmpdir(), "mbn-deploy-"));
const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;
const onnx = readFileSync(file);
const scalar = compile(onnx, { file, target: "scalar" });
const simd = compile(onnx, { file, target: "simd" });


describe.runIf(wabt)("scalar target (wabt present)", () => {
  it("the scalar bundle contains no SIMD instruction; the simd bundle does", () => {
    writeFileSync(join(dir, "s.wasm"), scalar.wasm);
    writeFileSync(join(dir, "v.wasm"), simd.wasm);
    expect(execFileSync("wasm-objdump", ["-d", join(dir, "s.wasm")], { encoding: "utf8", maxBuffer: 1 << 28 })).not.toMatch(SIMD_OPS);
    expect(execFileSync("wasm-objdump", ["-d", join(dir, "v.wasm")], { encoding: "utf8", maxBuffer: 1 << 28 })).toMatch(SIMD_OPS);
  });
  it("wasm-interp runs the scalar bundle to the same output as V8 (self-test hash), and V8 scalar = V8 simd", async () => {
    const b = await loadBundle(scalar.wasm), v = await loadBundle(simd.wasm);
    const x = selftestInput(b.inputLength);
    const want = fnv(b.run(x));
    expect(fnv(v.run(x))).toBe(want);
    const out = execFileSync("wasm-interp", [join(dir, "s.wasm"), "--run-all-exports"], { encoding: "utf8" });
    const m = /mbn_selftest\(\) => i32:(\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1]) >>> 0).toBe(want);
  }, 300_000);
});

describe.runIf(wabt && cc)("C target via wasm2c (wabt and a C compiler present)", () => {
  it("make builds one executable that agrees with V8 bit for bit and with onnxruntime", async () => {
    const out = join(dir, "c");
    emitC(scalar.wasm, out, { memory_bytes: scalar.report.totals.memoryBytes });
    execFileSync("make", ["-s", "-C", out], { stdio: "pipe" });
    const b = await loadBundle(scalar.wasm);
    const n = 32, x = uniformInputs(n, b.inputLength, 3);
    const got = execFileSync(join(out, "mbn_model"), { input: Buffer.from(x.buffer), maxBuffer: 1 << 24 });
    const y = new Float32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength));
    expect(Array.from(y)).toEqual(Array.from(b.run(x)));
    expect(execFileSync(join(out, "mbn_model"), ["--selftest"], { encoding: "utf8" }).trim()).toBe(String(fnv(b.run(selftestInput(b.inputLength)))));
    const a = agreement(scalar, x, y, await ortOracles(onnx, x, [1, 28, 28]), n);
    console.log(summary("wasm2c executable", a));
    expect(a.unexplained).toEqual([]);
    expect(a.excused.length).toBeLessThanOrEqual(a.cap);
    expect(a.maxRel).toBeLessThanOrEqual(1e-4);
  }, 300_000);
});

describe.runIf(wabt)("scalar target on a WebAssembly 1.0 engine (wabt present)", () => {
  it("wasm-interp with every post-MVP feature disabled runs the scalar bundle to V8's self-test hash", async () => {
    const mvp = ["--disable-bulk-memory", "--disable-saturating-float-to-int", "--disable-sign-extension", "--disable-multi-value",
      "--disable-reference-types", "--disable-simd", "--disable-mutable-globals"];
    writeFileSync(join(dir, "s1.wasm"), scalar.wasm);
    const b = await loadBundle(scalar.wasm);
    const out = execFileSync("wasm-interp", [...mvp, join(dir, "s1.wasm"), "--run-all-exports"], { encoding: "utf8" });
    const m = /mbn_selftest\(\) => i32:(\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1]) >>> 0).toBe(fnv(b.run(selftestInput(b.inputLength))));
  }, 300_000);
});
