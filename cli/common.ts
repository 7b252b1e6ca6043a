// CLI helpers for the commands: reading models (ONNX compiled on the fly, or a bundle), --target;
// re-exports the file helpers (io.ts) and UsageError (options.ts).
import { compile, defaultTarget, type Target } from "../compiler/index.ts";
import type { CompileResult } from "../compiler/pipeline.ts";
import { BundleError, loadBundle, type Bundle } from "../runtime/host/loader.ts";
import { firstLine, UsageError } from "./options.ts";
import { readInput } from "./io.ts";

export { firstLine, fsMessage, UsageError } from "./options.ts";
export { checkWritable, checkWritableDir, progress, readInput, size, writeOutput } from "./io.ts";

export const isWasm = (b: Uint8Array) => b.length >= 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;

/** --target for wasm bundles: simd | scalar, or (absent) the faster one this host can run. */
export function parseTarget(t: string | undefined, command?: string): Target {
  if (t === undefined) return defaultTarget();
  if (t === "c" && command) throw new UsageError(`--target c is for mbn compile only; ${command} takes simd or scalar`);
  if (t !== "simd" && t !== "scalar") throw new UsageError(command ? `unknown target '${t}' (simd, scalar)` : `unknown target '${t}' (simd, scalar, c)`);
  return t;
}

/** A bundle from a .wasm file, or compiled from an .onnx file for target `t`; `asked`: the --target given (a bundle must match it). */
/** A bundle file, or an ONNX file compiled on the fly (then also its compile result and bytes). */
export async function openModel(file: string, t: Target, asked?: string): Promise<{ bundle: Bundle; wasm: Uint8Array; res?: CompileResult; onnx?: Uint8Array }> {
  const bytes = readInput(file);
  const onnx = isWasm(bytes) ? undefined : bytes;
  const res = onnx ? compile(onnx, { file, target: t }) : undefined;
  const wasm = res ? res.wasm : bytes;
  let bundle;
  try {
    bundle = await loadBundle(wasm);
  } catch (e) {
    if (e instanceof BundleError || e instanceof WebAssembly.CompileError) throw new UsageError(`${file}: ${firstLine(e)}`);
    throw e;
  }
  if (!onnx) checkBundleTarget(file, bundle.info.target, asked);
  return { bundle, wasm, res, onnx };
}

/** --target given with a bundle: it was compiled already, so the option must agree with it. */
export function checkBundleTarget(file: string, bundleTarget: string, target: string | undefined): void {
  if (target !== undefined && target !== bundleTarget)
    throw new UsageError(`${file} is a ${bundleTarget} bundle; --target ${target} applies only when compiling an .onnx model`);
}

