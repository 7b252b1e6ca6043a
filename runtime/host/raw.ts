// Runtime host (tests and benchmarks only): instantiate the bare runtime module of one build and
// drive single kernels through `mbn_call` over a memory image built with compiler/emit/layout.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Layout, KERNEL_ID, type ParamValues } from "../../compiler/emit/layout.ts";

export type Build = "scalar" | "simd" | "scalar-ext" | "simd-ext";
/** The core builds; each has an -ext twin with the float fallback's extended math (asconfig.json). */
export const BUILDS: Build[] = ["scalar", "simd"];

export function runtimePath(build: Build): string {
  return fileURLToPath(new URL(`../build/mbn-${build}.wasm`, import.meta.url));
}

export function runtimeBytes(build: Build): Uint8Array {
  return readFileSync(runtimePath(build));
}

interface RuntimeExports {
  memory: WebAssembly.Memory;
  mbn_blob_base(): number;
  mbn_call(id: number, params: number): number;
}

/** A runtime instance plus a layout at its blob base; `load()` copies the layout into memory. */
export class RawRuntime {
  readonly exports: RuntimeExports;
  layout: Layout;
  constructor(readonly build: Build) {
    const mod = new WebAssembly.Module(runtimeBytes(build) as Uint8Array<ArrayBuffer>);
    this.exports = new WebAssembly.Instance(mod, {}).exports as unknown as RuntimeExports;
    this.layout = new Layout(this.exports.mbn_blob_base());
  }
  reset(): void {
    this.layout = new Layout(this.exports.mbn_blob_base());
  }
  /** Copy the layout into linear memory (growing it, plus 16 bytes of over-read padding). */
  load(): void {
    const img = this.layout.image();
    const need = this.layout.base + img.length + 64;
    const mem = this.exports.memory;
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    new Uint8Array(mem.buffer).set(img, this.layout.base);
  }
  call(kernel: string, params: number): void {
    const rc = this.exports.mbn_call(KERNEL_ID[kernel], params);
    if (rc !== 0) throw new Error(`mbn_call(${kernel}) returned ${rc}`);
  }
  params(kernel: string, v: ParamValues): number {
    return this.layout.params(kernel, v);
  }
  f32(addr: number, n: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer.slice(addr, addr + 4 * n));
  }
  u8(addr: number, n: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer.slice(addr, addr + n));
  }
}
