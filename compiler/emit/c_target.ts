// Compiler, emit stage: the `c` target — the scalar bundle translated to C by wabt's wasm2c (a
// system tool: Debian package `wabt`), its runtime files, a stdin/stdout host and a Makefile.
// The generated C can also be built with its linear memory split in two (-DMBN_SPLIT_MEMORY,
// mbn_split_mem.h): the data segments read in place from a const image (flash on a microcontroller,
// `mbn_rom.bin`) and a static RAM array of exactly what the plan needs above them (mbn_layout.h), or
// with all of it one static array (-DMBN_STATIC_MEMORY, the fast native build).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSections, readUleb } from "./bundle.ts";
import { fail } from "../errors.ts";

const HERE = fileURLToPath(new URL("./c/", import.meta.url));
const RT_DIRS = ["/usr/share/wabt/wasm2c", "/usr/src/wasm2c", "/usr/local/share/wabt/wasm2c"];
const RT_HEADER = ["/usr/include/wasm-rt.h", "/usr/local/include/wasm-rt.h"];
// wasm2c's little-endian load/store/LOAD_DATA definitions sit behind this line; the split memory goes first
const ENDIAN_SWITCH = "#if WABT_BIG_ENDIAN\n";

function readSleb32(b: Uint8Array, p: number): [number, number] {
  let v = 0, shift = 0, x;
  do {
    x = b[p++];
    v |= (x & 0x7f) << shift;
    shift += 7;
  } while (x & 0x80);
  if (shift < 32 && x & 0x40) v |= -1 << shift;
  return [v >>> 0, p];
}

/** The bundle's linear memory at instantiation up to the end of its last data segment (the part the
 *  runtime only reads), and the bytes the plan needs in all (the manifest's memory_bytes). */
export function memoryImage(wasm: Uint8Array): { rom: Uint8Array; memEnd: number } {
  const segs: { at: number; bytes: Uint8Array }[] = [];
  let memEnd = 0;
  for (const s of parseSections(wasm)) {
    if (s.id === 11) {
      let [count, p] = readUleb(s.body, 0);
      while (count--) {
        let flags, at, len;
        [flags, p] = readUleb(s.body, p);
        if (flags !== 0 || s.body[p] !== 0x41) fail("memory image: only active data segments at an i32.const offset are supported");
        [at, p] = readSleb32(s.body, p + 1);
        if (s.body[p++] !== 0x0b) fail("memory image: unexpected data segment offset expression");
        [len, p] = readUleb(s.body, p);
        segs.push({ at, bytes: s.body.subarray(p, p + len) });
        p += len;
      }
    } else if (s.id === 0) {
      const [n, p] = readUleb(s.body, 0);
      if (new TextDecoder().decode(s.body.subarray(p, p + n)) === "mbn.manifest")
        memEnd = JSON.parse(new TextDecoder().decode(s.body.subarray(p + n))).memory_bytes;
    }
  }
  if (!memEnd) fail("memory image: the bundle has no mbn.manifest with memory_bytes");
  const romEnd = Math.max(0, ...segs.map((g) => g.at + g.bytes.length));
  if (romEnd > memEnd) fail("memory image: data segments end above the plan's memory");
  const rom = new Uint8Array(romEnd);
  for (const g of segs) rom.set(g.bytes, g.at);
  return { rom, memEnd };
}

/** wasm2c output → the same C, with the split memory (-DMBN_SPLIT_MEMORY) or the static one
 *  (-DMBN_STATIC_MEMORY, mbn_static_mem.h: one static array, a constant base) selectable, and
 *  wasm2c's branching FMIN/FMAX replaced by branchless ones with the same results (mbn_fminmax.h). */
export function patchSplitMemory(c: string): string {
  const once = (text: string, what: string) => {
    const at = text.indexOf(what);
    if (at < 0 || text.indexOf(what, at + 1) >= 0) fail("the C target: wasm2c's output has not the expected definitions (another wabt version?)");
    return at;
  };
  once(c, "#define FMIN(x, y)");
  once(c, "#define FMAX(x, y)");
  c = c.replace("#define FMIN(x, y)", "#define WASM2C_FMIN(x, y)").replace("#define FMAX(x, y)", "#define WASM2C_FMAX(x, y)");
  const at = once(c, ENDIAN_SWITCH);
  return c.slice(0, at) + '#include "mbn_fminmax.h"\n#if defined(MBN_SPLIT_MEMORY)\n#include "mbn_split_mem.h"\n#elif defined(MBN_STATIC_MEMORY)\n#include "mbn_static_mem.h"\n#elif WABT_BIG_ENDIAN\n' +
    c.slice(at + ENDIAN_SWITCH.length);
}

/** opts.rom: also write mbn_rom.bin, the read-only image the split memory reads in place. */
export function emitC(scalarBundle: Uint8Array, dir: string, info: object, opts: { rom?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "bundle.wasm"), scalarBundle);
  const r = spawnSync("wasm2c", [join(dir, "bundle.wasm"), "-o", join(dir, "mbn_model.c"), "-n", "mbn"], { encoding: "utf8" });
  if (r.error) fail("the C target needs wabt's wasm2c on the PATH (Debian: apt-get install wabt)");
  if (r.status !== 0) fail(`wasm2c failed: ${(r.stderr || "").trim().split("\n")[0]}`);
  writeFileSync(join(dir, "mbn_model.c"), patchSplitMemory(readFileSync(join(dir, "mbn_model.c"), "utf8")));
  const rtDir = RT_DIRS.find((d) => existsSync(join(d, "wasm-rt-impl.c")));
  const header = RT_HEADER.find(existsSync) ?? (rtDir && existsSync(join(rtDir, "wasm-rt.h")) ? join(rtDir, "wasm-rt.h") : undefined);
  if (!rtDir || !header) fail("wasm2c's runtime files (wasm-rt-impl.c, wasm-rt.h) were not found; install wabt");
  copyFileSync(join(rtDir, "wasm-rt-impl.c"), join(dir, "wasm-rt-impl.c"));
  copyFileSync(join(rtDir, "wasm-rt-impl.h"), join(dir, "wasm-rt-impl.h"));
  copyFileSync(header, join(dir, "wasm-rt.h"));
  for (const f of ["main.c", "Makefile", "README.md", "mbn_split_mem.h", "mbn_static_mem.h", "mbn_fminmax.h"]) copyFileSync(join(HERE, f), join(dir, f));
  const { rom, memEnd } = memoryImage(scalarBundle);
  writeFileSync(join(dir, "mbn_layout.h"), [
    "/* Generated by mbn (the C target): the bundle's linear memory as the split memory sees it (mbn_split_mem.h). */",
    `#define MBN_ROM_END ${rom.length}u /* data segments: read in place (mbn_rom.bin) */`,
    `#define MBN_MEM_END ${memEnd}u /* bytes the plan needs; [MBN_ROM_END, MBN_MEM_END) is RAM */`,
    "",
  ].join("\n"));
  if (opts.rom) writeFileSync(join(dir, "mbn_rom.bin"), rom);
  writeFileSync(join(dir, "model.json"), JSON.stringify(info, null, 2) + "\n");
}
