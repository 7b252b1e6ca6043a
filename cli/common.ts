// CLI helpers: reading models (ONNX compiled on the fly, or a bundle), one-line errors, progress.
import { readFileSync } from "node:fs";
import { compile, CompileError, defaultTarget, type Target } from "../compiler/index.ts";
import { BundleError, loadBundle, type Bundle } from "../runtime/host/loader.ts";

export class UsageError extends Error {}

export function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export const isWasm = (b: Uint8Array) => b.length >= 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;

/** A bundle from a .wasm file, or compiled from an .onnx file. */
/** --target for wasm bundles: simd | scalar, or (absent) the faster one this host can run. */
export function parseTarget(t: string | undefined): Target {
  if (t === undefined) return defaultTarget();
  if (t !== "simd" && t !== "scalar") throw new UsageError(`unknown target '${t}' (simd, scalar, c)`);
  return t;
}

export async function openModel(file: string, target?: Target): Promise<{ bundle: Bundle; wasm: Uint8Array }> {
  const bytes = readInput(file);
  const wasm = isWasm(bytes) ? bytes : compile(bytes, { file, target }).wasm;
  try {
    return { bundle: await loadBundle(wasm), wasm };
  } catch (e) {
    if (e instanceof BundleError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Run a CLI action; known errors print one line and exit 1, never a stack trace. */
export async function guard(action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (e) {
    if (e instanceof CompileError) console.error(`mbn: ${e.line()}`);
    else if (e instanceof UsageError || e instanceof BundleError) console.error(`mbn: ${e.message}`);
    else console.error(`mbn: internal error: ${(e as Error).stack ?? e}`);
    process.exit(1);
  }
}

/** A progress bar on stderr (silent when stderr is not a TTY). */
export function progress(label: string, total: number): { tick(n?: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  const t0 = Date.now();
  let k = 0, last = 0;
  const draw = () => {
    const frac = total ? k / total : 1;
    const el = (Date.now() - t0) / 1000;
    const eta = frac > 0 ? el / frac - el : 0;
    const w = 24, fill = Math.round(frac * w);
    process.stderr.write(`\r${label} [${"#".repeat(fill)}${".".repeat(w - fill)}] ${k}/${total} ${el.toFixed(0)}s eta ${eta.toFixed(0)}s `);
  };
  return {
    tick(n = 1) {
      k += n;
      if (tty && Date.now() - last > 200) {
        last = Date.now();
        draw();
      }
    },
    done() {
      if (tty) {
        draw();
        process.stderr.write("\n");
      }
    },
  };
}
