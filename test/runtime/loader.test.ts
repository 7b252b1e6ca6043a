// The bundle ABI and its trust checks: zero imports, the DESIGN.md §4 exports, manifest with format
// version, runtime version and blob SHA-256; a tampered blob or a foreign format is refused with a
// clear message; mbn_run returns an error code (never traps) on a bad state; inputs are checked.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { buildBundle, customSection, parseSections } from "../../compiler/emit/bundle.ts";
import { BundleError, loadBundle } from "../../runtime/host/loader.ts";

const file = new URL("../fixtures/xnornet_nonsquare.onnx", import.meta.url).pathname;
const res = compile(readFileSync(file), { file });

describe("bundle ABI and loader checks", () => {
  it("has zero imports and the documented exports", () => {
    const mod = new WebAssembly.Module(res.wasm as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of ["memory", "mbn_input_ptr", "mbn_input_len", "mbn_output_ptr", "mbn_output_len", "mbn_run"]) expect(names).toContain(n);
    const m = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
    expect(m.format_version).toBe(2);
    expect(m.blob_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.input.shape).toEqual([1, 3, 20, 28]);
  });

  it("works with the bare WebAssembly API (write input, mbn_run, read output)", async () => {
    const { instance } = await WebAssembly.instantiate(res.wasm as Uint8Array<ArrayBuffer>, {});
    const ex = instance.exports as any;
    const x = new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), ex.mbn_input_len());
    x.fill(0.5);
    expect(ex.mbn_run()).toBe(0);
    const bundle = await loadBundle(res.wasm);
    expect(Array.from(new Float32Array(ex.memory.buffer, ex.mbn_output_ptr(), ex.mbn_output_len()))).toEqual(Array.from(bundle.run(x.slice())));
  });

  it("refuses a tampered model blob (SHA-256 mismatch)", async () => {
    const bad = res.wasm.slice();
    // flip one byte inside the data segment that holds the blob
    const data = parseSections(bad).find((s) => s.id === 11)!;
    data.body[data.body.length - 100] ^= 0xff;
    await expect(loadBundle(bad)).rejects.toThrow(/SHA-256 .* does not match the manifest/);
  });

  it("refuses a foreign format version", async () => {
    const rt = readFileSync(new URL("../../runtime/build/mbn-simd.wasm", import.meta.url));
    const m = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
    const wasm = buildBundle(rt, { image: new Uint8Array(64), base: m.blob_base, memEnd: m.blob_base + 64 }, { ...m, format_version: 99 });
    await expect(loadBundle(wasm)).rejects.toThrow(/bundle format 99 is not supported/);
  });

  it("mbn_run returns an error code on a corrupt blob header instead of trapping", async () => {
    const { instance } = await WebAssembly.instantiate(res.wasm as Uint8Array<ArrayBuffer>, {});
    const ex = instance.exports as any;
    const m = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
    const hdr = new Int32Array(ex.memory.buffer, m.blob_base, 10);
    hdr[0] = 0;
    expect(ex.mbn_run()).toBe(1);
    hdr[0] = 0x314e424d;
    hdr[8] = 0x7fffffff; // claims more memory than present
    expect(ex.mbn_run()).toBe(3);
  });

  it("mbn_run reads unsigned header fields as unsigned (a memory end past 2 GiB is accepted when the memory holds it)", async () => {
    const { instance } = await WebAssembly.instantiate(res.wasm as Uint8Array<ArrayBuffer>, {});
    const ex = instance.exports as any;
    const m = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
    ex.memory.grow(32770 - ex.memory.buffer.byteLength / 65536); // 2 GiB + 128 KiB (reserved, not touched)
    const hdr = new Int32Array(ex.memory.buffer, m.blob_base, 10);
    hdr[8] = (2 ** 31 + 65536) | 0; // memory end 2 GiB + 64 KiB: bit 31 set
    expect(ex.mbn_run()).toBe(0);
    hdr[8] = (2 ** 31 + 3 * 65536) | 0; // past the memory
    expect(ex.mbn_run()).toBe(3);
  });

  it("mbn_run refuses a steps table that wraps past 4 GiB (unsigned steps pointer) instead of trapping", async () => {
    const { instance } = await WebAssembly.instantiate(res.wasm as Uint8Array<ArrayBuffer>, {});
    const ex = instance.exports as any;
    const m = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
    const hdr = new Int32Array(ex.memory.buffer, m.blob_base, 10);
    hdr[6] = 1; // one step ...
    hdr[7] = -8; // ... at 0xFFFFFFF8: its end is 4 GiB, past any memory (read signed, −8 + 8 wraps to 0)
    expect(ex.mbn_run()).toBe(5);
  });

  it("the JS API checks input length and type", async () => {
    const b = await loadBundle(res.wasm);
    expect(() => b.run(new Float32Array(7))).toThrow(BundleError);
    expect(() => b.run(new Float64Array(b.inputLength) as unknown as Float32Array)).toThrow(/Float32Array/);
  });
});
