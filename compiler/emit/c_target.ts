// Compiler, emit stage: the `c` target — the scalar bundle translated to C by wabt's wasm2c (a
// system tool: Debian package `wabt`), its runtime files, a stdin/stdout host and a Makefile.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fail } from "../errors.ts";

const HERE = fileURLToPath(new URL("./c/", import.meta.url));
const RT_DIRS = ["/usr/share/wabt/wasm2c", "/usr/src/wasm2c", "/usr/local/share/wabt/wasm2c"];
const RT_HEADER = ["/usr/include/wasm-rt.h", "/usr/local/include/wasm-rt.h"];

export function emitC(scalarBundle: Uint8Array, dir: string, info: object): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "bundle.wasm"), scalarBundle);
  const r = spawnSync("wasm2c", [join(dir, "bundle.wasm"), "-o", join(dir, "mbn_model.c"), "-n", "mbn"], { encoding: "utf8" });
  if (r.error) fail("the C target needs wabt's wasm2c on the PATH (Debian: apt-get install wabt)");
  if (r.status !== 0) fail(`wasm2c failed: ${(r.stderr || "").trim().split("\n")[0]}`);
  const rtDir = RT_DIRS.find((d) => existsSync(join(d, "wasm-rt-impl.c")));
  const header = RT_HEADER.find(existsSync) ?? (rtDir && existsSync(join(rtDir, "wasm-rt.h")) ? join(rtDir, "wasm-rt.h") : undefined);
  if (!rtDir || !header) fail("wasm2c's runtime files (wasm-rt-impl.c, wasm-rt.h) were not found; install wabt");
  copyFileSync(join(rtDir, "wasm-rt-impl.c"), join(dir, "wasm-rt-impl.c"));
  copyFileSync(join(rtDir, "wasm-rt-impl.h"), join(dir, "wasm-rt-impl.h"));
  copyFileSync(header, join(dir, "wasm-rt.h"));
  for (const f of ["main.c", "Makefile", "README.md"]) copyFileSync(join(HERE, f), join(dir, f));
  writeFileSync(join(dir, "model.json"), JSON.stringify(info, null, 2) + "\n");
}
