// CLI file and terminal helpers (no compiler here: merge and report load only what they need):
// inputs read with a one-line error, outputs checked before any work and written with one, sizes in
// KiB/MiB (the one unit convention of the CLI's output), progress bars.
import { accessSync, constants, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { firstLine, fsMessage, UsageError } from "./options.ts";

export function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    // the bare code, as in `model.onnx: cannot read (ENOENT)`
    throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? firstLine(e)})`);
  }
}

/**
 * Checks before any work that `file` can be written: an existing file that is writable, or a new
 * name in an existing, writable directory. Long runs (attacks, compiles) then never fail at the end.
 */
export function checkWritable(file: string | undefined): void {
  if (file === undefined) return;
  if (file === "") throw new UsageError("an output path is empty");
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(fsMessage(file, "write", e));
  }
  if (st?.isDirectory()) throw new UsageError(`${file}: cannot write (EISDIR: is a directory)`);
  const dir = st ? file : dirname(resolve(file));
  try {
    if (!st && !statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    accessSync(st ? file : dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${file}: cannot write (ENOENT: directory ${dirname(file)} does not exist)`);
    throw new UsageError(fsMessage(file, "write", e));
  }
}

/** Checks that `dir` is, or can be created as, a writable directory (mkdir -p). */
export function checkWritableDir(dir: string): void {
  let p = resolve(dir);
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(fsMessage(dir, "create", e));
      const up = dirname(p);
      if (up === p) throw new UsageError(fsMessage(dir, "create", e));
      p = up;
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`${dir}: cannot create (ENOTDIR: ${p} is not a directory)`);
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      throw new UsageError(fsMessage(dir, "create", e));
    }
    return;
  }
}

/** writeFileSync whose failure is one line naming the file. */
export function writeOutput(file: string, data: string | Uint8Array): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError(`${file}: cannot write (ENOENT: directory ${dirname(file)} does not exist)`);
    throw new UsageError(fsMessage(file, "write", e));
  }
}

// ---- output

/** A byte size in binary units, the one convention of the CLI's output: B, KiB, MiB, GiB. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
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
