// Compiler: the public API. compile(onnxBytes, options) → { wasm, report }. Loads the prebuilt
// runtime for the target (runtime/build/mbn-<target>.wasm, or mbn-<target>-ext.wasm for a plan that
// uses the float fallback's extended math) and runs the pipeline; the bundle keeps only the runtime
// functions its plan reaches (emit/prune.ts).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { compilePipeline, type CompileResult, type Runtime, type Target } from "./pipeline.ts";
import { CompileError } from "./errors.ts";
import type { FunctionTable } from "./emit/prune.ts";

export { CompileError } from "./errors.ts";
export type { CompileReport } from "./report.ts";
export type { Target } from "./pipeline.ts";

const runtimes = new Map<string, Runtime>();

/** The prebuilt runtime of a target, its blob base and its function table (runtime/build/<name>.funcs.json, for compiler/emit/prune.ts). */
export function runtimeFor(target: Target, extended = false): Runtime {
  const name = `mbn-${target}${extended ? "-ext" : ""}`;
  let r = runtimes.get(name);
  if (!r) {
    const bytes = readFileSync(fileURLToPath(new URL(`../runtime/build/${name}.wasm`, import.meta.url)));
    const table = fileURLToPath(new URL(`../runtime/build/${name}.funcs.json`, import.meta.url));
    if (!existsSync(table)) throw new CompileError(`runtime/build/${name}.funcs.json is missing (a runtime built before function tables: run npm run build)`, {});
    const funcs = JSON.parse(readFileSync(table, "utf8")) as FunctionTable;
    if (funcs.wasm_sha256 !== createHash("sha256").update(bytes).digest("hex"))
      throw new CompileError(`runtime/build/${name}.funcs.json does not describe runtime/build/${name}.wasm (run npm run build)`, {});
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
    r = { bytes, base: (inst.exports.mbn_blob_base as () => number)(), funcs };
    runtimes.set(name, r);
  }
  return r;
}

/** The faster target this host can run: simd where it validates SIMD128 modules, else scalar. */
export function defaultTarget(): Target {
  const simd = readFileSync(fileURLToPath(new URL("../runtime/build/mbn-simd.wasm", import.meta.url)));
  return WebAssembly.validate(simd as Uint8Array<ArrayBuffer>) ? "simd" : "scalar";
}

export interface CompileApiOptions {
  target?: Target;
  file?: string;
  dumpAfter?: (pass: string, text: string) => void;
}

export function compile(onnx: Uint8Array, options: CompileApiOptions = {}): CompileResult {
  const target = options.target ?? defaultTarget();
  return compilePipeline(onnx, { target, runtime: (ext) => runtimeFor(target, ext), file: options.file, dumpAfter: options.dumpAfter });
}
