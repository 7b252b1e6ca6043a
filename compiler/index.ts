// Compiler: the public API. compile(onnxBytes, options) → { wasm, report }. Loads the prebuilt
// runtime for the target (runtime/build/mbn-<target>.wasm, or mbn-<target>-ext.wasm for a plan that
// uses the float fallback's extended math) and runs the pipeline.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compilePipeline, type CompileResult, type Target } from "./pipeline.ts";

export { CompileError } from "./errors.ts";
export type { CompileReport } from "./report.ts";
export type { Target } from "./pipeline.ts";

const runtimes = new Map<string, { bytes: Uint8Array; base: number }>();

export function runtimeFor(target: Target, extended = false): { bytes: Uint8Array; base: number } {
  const name = `mbn-${target}${extended ? "-ext" : ""}`;
  let r = runtimes.get(name);
  if (!r) {
    const bytes = readFileSync(fileURLToPath(new URL(`../runtime/build/${name}.wasm`, import.meta.url)));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
    r = { bytes, base: (inst.exports.mbn_blob_base as () => number)() };
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
