// The C target's own definitions, compiled natively with the host's C compiler against wabt's
// wasm-rt.h: mbn_split_mem.h (the microcontroller memory: read-only image + RAM array) must read each
// part where it lies and trap on a store into the image or an access past the plan's memory;
// mbn_fminmax.h (branchless f32/f64 min/max) must give V8's f32.min/f32.max and f64.min/f64.max
// on the edge cases (signed zeros, NaN, infinities, equal and ordinary values). Skips, saying why,
// without a C compiler or wasm-rt.h.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const C_DIR = fileURLToPath(new URL("../../compiler/emit/c/", import.meta.url));
const cc = ["cc", "gcc"].find((c) => spawnSync(c, ["--version"]).status === 0);
const rtHeader = ["/usr/include/wasm-rt.h", "/usr/local/include/wasm-rt.h"].find(existsSync);
const why = !cc ? "no C compiler (cc or gcc)" : !rtHeader ? "no wasm-rt.h (Debian: apt-get install wabt)" : "";
if (why) console.log(`c_memory.test: SKIPPED — ${why}`);

/** Compiles `src` with the C target's headers and runs it; returns exit status and stdout. */
function run(dir: string, name: string, src: string, flags: string[] = []) {
  writeFileSync(join(dir, `${name}.c`), src);
  const b = spawnSync(cc!, ["-O2", "-std=c11", ...flags, "-I", dir, "-I", C_DIR, join(dir, `${name}.c`), "-o", join(dir, name), "-lm"], { encoding: "utf8" });
  expect(b.status, b.stderr).toBe(0);
  return (args: string[]) => spawnSync(join(dir, name), args, { encoding: "utf8" });
}

const PRELUDE = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "wasm-rt.h"
typedef uint8_t u8; typedef uint32_t u32; typedef uint64_t u64; typedef float f32; typedef double f64;
`;

describe.runIf(!why)("C target memory and min/max definitions (native cc)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mbn-cmem-"));

  it("split memory: image read in place, RAM above it, stores into the image and accesses past the plan trap", () => {
    writeFileSync(join(dir, "mbn_layout.h"), "#define MBN_ROM_END 64u\n#define MBN_MEM_END 192u\n");
    const exe = run(dir, "split", `${PRELUDE}
#define TRAP(x) (printf("trap\\n"), exit(7), 0)
#include "mbn_split_mem.h"
const u8 mbn_rom[MBN_ROM_END] = { [0] = 0x11, [60] = 0x44, [61] = 0x33, [62] = 0x22, [63] = 0x11 };
u8 mbn_ram[MBN_MEM_END - MBN_ROM_END];
DEFINE_LOAD(i32_load, u32, u32, u32)
DEFINE_STORE(i32_store, u32, u32)
int main(int argc, char** argv) {
  const char* op = argv[1]; u64 a = strtoull(argv[2], 0, 10);
  if (!strcmp(op, "load")) printf("%08x\\n", i32_load(0, a));
  else { i32_store(0, a, 0xdeadbeefu); printf("%02x %02x\\n", mbn_ram[a - MBN_ROM_END], mbn_ram[a - MBN_ROM_END + 3]); }
  return 0;
}`);
    expect(exe(["load", "60"]).stdout.trim()).toBe("11223344"); // the image's last word, in place
    expect(exe(["store", "64"]).stdout.trim()).toBe("ef de"); // first RAM word: mbn_ram[0..3]
    expect(exe(["store", "188"]).stdout.trim()).toBe("ef de"); // last RAM word
    for (const [op, a] of [["store", "0"], ["store", "60"], ["store", "62"], ["store", "189"], ["load", "189"], ["load", "62"], ["load", "4294967295"]]) {
      const r = exe([op, a]);
      expect([op, a, r.status, r.stdout.trim()]).toEqual([op, a, 7, "trap"]);
    }
  });

  it("branchless min/max = V8's f32.min/max and f64.min/max bit for bit (NaN: a NaN)", async () => {
    const exe = run(dir, "minmax", `${PRELUDE}
#include "mbn_fminmax.h"
int main(int argc, char** argv) {
  f64 x = strtod(argv[1], 0), y = strtod(argv[2], 0);
  f32 a = FMIN((f32)x, (f32)y), b = FMAX((f32)x, (f32)y); f64 c = FMIN(x, y), d = FMAX(x, y);
  u32 ab, bb; u64 cb, db; memcpy(&ab, &a, 4); memcpy(&bb, &b, 4); memcpy(&cb, &c, 8); memcpy(&db, &d, 8);
  printf("%08x %08x %016llx %016llx\\n", ab, bb, (unsigned long long)cb, (unsigned long long)db);
  return 0;
}`, ["-O3", "-march=native"]);
    // V8: one module, (f32, f32) → min, max and (f64, f64) → min, max
    const fn = (op: number) => [0x07, 0x00, 0x20, 0x00, 0x20, 0x01, op, 0x0b]; // no locals; local.get 0, 1; op; end
    const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0,
      0x01, 0x0d, 0x02, 0x60, 0x02, 0x7d, 0x7d, 0x01, 0x7d, 0x60, 0x02, 0x7c, 0x7c, 0x01, 0x7c, // types
      0x03, 0x05, 0x04, 0x00, 0x00, 0x01, 0x01, // funcs
      0x07, 0x11, 0x04, 0x01, 0x61, 0x00, 0x00, 0x01, 0x62, 0x00, 0x01, 0x01, 0x63, 0x00, 0x02, 0x01, 0x64, 0x00, 0x03, // exports a b c d
      0x0a, 0x21, 0x04, ...fn(0x96), ...fn(0x97), ...fn(0xa4), ...fn(0xa5)]);
    const ex = (await WebAssembly.instantiate(bytes, {})).instance.exports as Record<string, (x: number, y: number) => number>;
    const f32 = (v: number) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat32(0, v, true); return b.getUint32(0, true).toString(16).padStart(8, "0"); };
    const f64 = (v: number) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, v, true); return b.getBigUint64(0, true).toString(16).padStart(16, "0"); };
    const vals = ["0", "-0", "1", "-1", "2.5", "nan", "-nan", "inf", "-inf", "1e-45", "-3.4e38"];
    for (const x of vals) for (const y of vals) {
      const got = exe([x, y]).stdout.trim().split(" ");
      const X = Number(x.replace("-nan", "NaN").replace("nan", "NaN").replace("inf", "Infinity")), Y = Number(y.replace("-nan", "NaN").replace("nan", "NaN").replace("inf", "Infinity"));
      const fx = Math.fround(X), fy = Math.fround(Y);
      const want = [f32(ex.a(fx, fy)), f32(ex.b(fx, fy)), f64(ex.c(X, Y)), f64(ex.d(X, Y))];
      const isNaN32 = (h: string) => (parseInt(h, 16) & 0x7fffffff) > 0x7f800000;
      const isNaN64 = (h: string) => (BigInt("0x" + h) & 0x7fffffffffffffffn) > 0x7ff0000000000000n;
      got.forEach((g, i) => {
        const nan = i < 2 ? isNaN32 : isNaN64;
        if (nan(want[i])) expect([x, y, i, nan(g)]).toEqual([x, y, i, true]);
        else expect([x, y, i, g]).toEqual([x, y, i, want[i]]);
      });
    }
  });
});

if (why) describe(`C target memory and min/max definitions: SKIPPED, ${why}`, () => {
  it("skipped", () => {});
});
