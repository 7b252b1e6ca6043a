// WebAssembly 1.0: the scalar runtime and the scalar bundle of every fixture use no post-MVP feature
// (bulk memory, saturating float-to-int, sign extension, multi-value, reference types, SIMD, mutable
// globals), so any 1.0 engine (wasm3, WAMR's classic interpreter, …) loads them. Checked with wabt's
// wasm-validate with those features switched off; the simd build keeps its features and must fail.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";

const MVP = ["--disable-bulk-memory", "--disable-saturating-float-to-int", "--disable-sign-extension", "--disable-multi-value",
  "--disable-reference-types", "--disable-simd", "--disable-mutable-globals"];
const hasValidate = spawnSync("wasm-validate", ["--version"]).status === 0;
if (!hasValidate) console.log("mvp.test: SKIPPED — wabt's wasm-validate is not on PATH (Debian: apt-get install wabt)");
const root = new URL("../../", import.meta.url).pathname;
const fixtures = new URL("../fixtures/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "mbn-mvp-"));

/** wasm-validate with every post-MVP feature off: "" when valid, else its message. */
function validateMvp(bytes: Uint8Array, name: string): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  const r = spawnSync("wasm-validate", [...MVP, f], { encoding: "utf8" });
  return r.status === 0 ? "" : (r.stderr || r.stdout || `exit ${r.status}`).trim();
}

describe.runIf(hasValidate)("WebAssembly 1.0 scalar target (wasm-validate with post-MVP features disabled)", () => {
  it("the scalar runtimes (core and -ext) are WebAssembly 1.0; the simd runtime is not", () => {
    expect(validateMvp(readFileSync(join(root, "runtime/build/mbn-scalar.wasm")), "rt-scalar.wasm")).toBe("");
    expect(validateMvp(readFileSync(join(root, "runtime/build/mbn-scalar-ext.wasm")), "rt-scalar-ext.wasm")).toBe("");
    expect(validateMvp(readFileSync(join(root, "runtime/build/mbn-simd.wasm")), "rt-simd.wasm")).not.toBe("");
    // and both validate with the default (post-MVP) feature set
    execFileSync("wasm-validate", [join(dir, "rt-simd.wasm")]);
  });

  const files = readdirSync(fixtures).filter((f) => f.endsWith(".onnx")).sort();
  it.each(files)("scalar bundle of %s is WebAssembly 1.0", (f) => {
    const file = join(fixtures, f);
    const { wasm } = compile(readFileSync(file), { file, target: "scalar" });
    const msg = validateMvp(wasm, f.replace(/\.onnx$/, ".scalar.wasm"));
    console.log(`wasm-validate (MVP) ${f}: ${msg || "valid"} (${wasm.length} bytes)`);
    expect(msg).toBe("");
  }, 60_000);
});

if (!hasValidate) describe("WebAssembly 1.0 scalar target: SKIPPED, wabt's wasm-validate is not on PATH (apt-get install wabt)", () => {
  it("skipped", () => {});
});
