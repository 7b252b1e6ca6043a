// `mbn mcu`: firmware embedding the model, run on an emulated Cortex-M (qemu-system-arm), on both
// engines — wasm3 (the scalar bundle interpreted) and C (wasm2c, split memory: read-only image in
// flash, one static RAM array, no heap). For the zoo Fashion-MNIST MBN3x1 and the qonnx_mbn fixture the
// firmware's outputs (hashed by the CLI) and mbn_selftest() must equal V8's, computed here on the same
// samples; the zoo MBN3x1 must fit the RAM goals (C ≤ 256 KiB, wasm3 ≤ 384 KiB). Also the CLI
// contract of bad invocations and of a missing toolchain (one `mbn:` line, exit 1). The QEMU runs print 'SKIPPED, <reason>' when
// a tool is missing (cross compiler with newlib, qemu-system-arm, make, wasm2c, wasm3 sources).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultWasm3Dir, missingTools, type McuRecord } from "../../cli/commands/mcu.ts";
import { compile } from "../../compiler/index.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { fnv, selftestInput } from "../helpers/selftest.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/mbn.mjs");
const wasm3Dir = process.env.MBN_WASM3_DIR ? resolve(ROOT, process.env.MBN_WASM3_DIR) : defaultWasm3Dir();

interface Result { status: number | null; stdout: string; stderr: string }
function mbn(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MBN_WASM3_DIR: wasm3Dir, ...env } });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
const oneLine = (r: Result, re: RegExp) => {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  expect(r.stderr).toMatch(/^mbn: /);
  expect(r.stderr).toMatch(re);
};

const ZOO = "models/zoo/fmnist_resnet20_mbn3x1/model.onnx";
const FIX = "test/fixtures/qonnx_mbn.onnx";
const FIX_IN = "test/fixtures/qonnx_mbn.input.npy";

describe("mbn mcu: bad invocations are one mbn: line, exit 1", () => {
  it.each([
    [["mcu", ZOO, "--engine", "wamr"], /--engine wamr: unknown engine \(wasm3, c\)/],
    [["mcu", ZOO, "--engine", "c", "--board", "stm32"], /--board stm32: unknown board \(mps2-an386, mps2-an505\)/],
    [["mcu", ZOO], /required option '--engine <engine>' not specified/],
    [["mcu", "no/such/model.onnx", "--engine", "c"], /no\/such\/model\.onnx: cannot read \(ENOENT\)/],
    [["mcu", ZOO, "--engine", "c", "--samples", "0"], /--samples 0: must be an integer in 1…16/],
  ])("mbn %j", async (args, re) => oneLine(await mbn(args as string[]), re), 60_000);

  it("a missing toolchain is one line naming what to install", async () => {
    const bin = mkdtempSync(join(tmpdir(), "mbn-nopath-")); // a PATH with node only
    symlinkSync(process.execPath, join(bin, "node"));
    for (const engine of ["c", "wasm3"])
      oneLine(await mbn(["mcu", FIX, "--engine", engine], { PATH: bin }), new RegExp(`^mbn: mcu --engine ${engine}: no arm-none-eabi-gcc with newlib \\(Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi\\)$`, "m"));
  }, 60_000);
});

/** V8's outputs on the samples the CLI takes: --input, else the model's test_data/input.npy. */
async function v8(model: string, input: string, samples: number) {
  const { wasm } = compile(readFileSync(join(ROOT, model)), { file: model, target: "scalar" });
  const b = await loadBundle(wasm);
  const x = readNpy(readFileSync(join(ROOT, input))).data.slice(0, samples * b.batch * b.inputLength);
  return { outputs: fnv(b.run(x)), selftest: fnv(b.run(selftestInput(b.inputLength * b.batch))) };
}

const cases: [string, string, string, string[]][] = [
  ["c", "mps2-an386", ZOO, []],
  ["wasm3", "mps2-an386", ZOO, []],
  ["c", "mps2-an386", FIX, ["--input", FIX_IN, "--samples", "2"]],
  ["wasm3", "mps2-an386", FIX, ["--input", FIX_IN, "--samples", "2"]],
  ["c", "mps2-an505", FIX, ["--input", FIX_IN, "--samples", "2"]],
];
const RAM_GOAL: Record<string, number> = { c: 256 * 1024, wasm3: 384 * 1024 }; // issue 14.4, zoo MBN3x1

for (const engine of ["c", "wasm3"]) {
  const why = missingTools(engine, wasm3Dir);
  if (why) {
    console.log(`mcu.test (--engine ${engine}): SKIPPED — ${why}`);
    describe(`mbn mcu --engine ${engine}: SKIPPED, ${why}`, () => {
      it("skipped", () => {});
    });
    continue;
  }
  describe(`mbn mcu --engine ${engine} (qemu-system-arm)`, () => {
    it.each(cases.filter((c) => c[0] === engine && existsSync(join(ROOT, c[2]))).map((c) => [c[2], c[1], c[3]] as const))(
      "%s on %s: firmware outputs and self-test = V8 bit for bit", async (model, board, extra) => {
        const r = await mbn(["mcu", model, "--engine", engine, "--board", board, "--json", ...extra]);
        expect(r.status, r.stderr).toBe(0);
        const rec = JSON.parse(r.stdout.trim().split("\n").pop()!) as McuRecord;
        console.log(JSON.stringify({ engine, board, model, flash_bytes: rec.flash_bytes, ram_bytes: rec.ram_bytes, ram: rec.ram, instructions_per_inference: rec.instructions_per_inference }));
        const samples = extra.includes("--samples") ? Number(extra[extra.indexOf("--samples") + 1]) : 1;
        const input = extra.includes("--input") ? extra[extra.indexOf("--input") + 1] : join(model, "../test_data/input.npy");
        const want = await v8(model, input, samples);
        expect(rec).toMatchObject({ engine, board, samples, outputs_match_v8: true, selftest_match_v8: true });
        expect(rec.outputs_fnv1a).toBe(want.outputs);
        expect(rec.selftest).toBe(want.selftest);
        expect(rec.instructions_per_inference).toBeGreaterThan(1e6);
        if (engine === "c") expect(rec.ram.heap_bytes).toBe(0);
        if (model === ZOO) expect(rec.ram_bytes).toBeLessThanOrEqual(RAM_GOAL[engine]);
      }, 180_000);
  });
}
