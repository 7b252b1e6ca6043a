// Runtime host (tests and benchmarks only): writes a kernel's operands and parameter records for
// one call, from the same unpacked operands the TypeScript reference takes, and reads results back.
import { packBits, transposeThresholds, unpackBits, windowPack, windowPackable, windowScratchBytes, wordsFor } from "../../compiler/pack/bits.ts";
import type { Layout } from "../../compiler/emit/layout.ts";
import { RECORDS } from "../../compiler/emit/layout.ts";
import type { BconvRef, ConvGeom, EpilogueRef, OutRef, QuantRef } from "../reference/kernels.ts";
import type { RawRuntime } from "./raw.ts";

/** Quant record for a tensor of npix pixels × c channels written at `out`. */
export function writeQuant(L: Layout, q: QuantRef, c: number, npix: number): number {
  const words = wordsFor(c);
  return L.record(RECORDS.quant, {
    levels: q.levels, thr: L.f32(q.thr), flip: L.bytes(q.flip.length ? q.flip : new Uint8Array(1)),
    planes: q.planes, lut: L.bytes(q.lut), words, plane_stride: npix * words * 8, scratch: L.alloc(c + 16),
    thr_t: L.f32(transposeThresholds(q.thr, c, q.levels)),
  }, "quant");
}

export interface EpiAddrs { epi: number; out: number; quant: number; npix: number; e: EpilogueRef }

export function writeEpilogue(L: Layout, e: EpilogueRef, npix: number): EpiAddrs {
  const outBytes = e.quant ? e.quant.planes * npix * wordsFor(e.c) * 8 : npix * e.c * 4;
  const out = L.alloc(outBytes + 16);
  const quant = e.quant ? writeQuant(L, e.quant, e.c, npix) : 0;
  const epi = L.record(RECORDS.epilogue, {
    c: e.c, scale: e.scale ? L.f32(e.scale) : 0, bias: e.bias ? L.f32(e.bias) : 0, res: e.res ? L.f32(e.res) : 0,
    act: e.act, lo: e.lo, hi: e.hi, out, quant, fout: 0,
  }, "epilogue");
  return { epi, out, quant, npix, e };
}

export function readOut(rt: RawRuntime, a: EpiAddrs): OutRef {
  const { e, npix } = a;
  if (!e.quant) return { float: rt.f32(a.out, npix * e.c) };
  const bytes = rt.u8(a.out, e.quant.planes * npix * wordsFor(e.c) * 8);
  return { bits: unpackBits(bytes, e.quant.planes, npix, e.c) };
}

/** Lay out one bconv call; returns the params address and the epilogue output addresses. `ithr`: integer
 * thresholds for the window path (compiler/quant/int_threshold.ts), used only where the window path is. */
/** Bytes of the guard setupBconv puts right after the window path's scratch. */
const GUARD = 16;

/** Whether a guard is as setupBconv wrote it: a kernel that writes past its computed scratch size changes it. */
export function guardIntact(rt: RawRuntime, guard: number): boolean {
  return rt.u8(guard, GUARD).every((b) => b === 0xa5);
}

export function setupBconv(rt: RawRuntime, a: BconvRef, e: EpilogueRef, windowPath = true, ithr?: Int32Array): { params: number; out: EpiAddrs; guard: number } {
  const L = rt.layout;
  const inWords = wordsFor(a.cin);
  const x = L.bytes(packBits(a.x, a.k, a.h * a.w, a.cin));
  const weights = L.bytes(packBits(a.wbits, a.m, a.cout * a.kh * a.kw, a.cin));
  const out = writeEpilogue(L, e, a.oh * a.ow);
  const simd = rt.build.startsWith("simd"); // the window layout depends on the build (the tail layout is SIMD-only)
  // the scratch exactly as the compiler sizes it (compiler/pack/bits.ts windowScratchBytes), a guard right after
  const scratch = L.alloc(windowScratchBytes(Math.min(a.cin, 64), a.kh, a.kw, a.cout, a.m, a.k, simd));
  const guard = L.bytes(new Uint8Array(GUARD).fill(0xa5), 1);
  const params = rt.params("bconv", {
    in: x, h: a.h, w: a.w, cin: a.cin, in_words: inWords, k: a.k, in_plane_stride: a.h * a.w * inWords * 8,
    weights, m: a.m, cout: a.cout, kh: a.kh, kw: a.kw, stride: a.stride, pad_t: a.padT, pad_l: a.padL,
    oh: a.oh, ow: a.ow, unipolar: a.unipolar ? 1 : 0, alpha: L.f32(a.alpha), beta: L.f32(a.beta),
    cw: a.cw ? L.f32(a.cw) : 0, ca: a.ca, wtap: a.wtap ? L.f32(a.wtap) : 0, acc: L.alloc(Math.max(a.cout * 8, a.ow * a.cout * 4)), epilogue: out.epi,
    wpk: windowPath && windowPackable(a.cin, a.kh, a.kw) ? L.bytes(windowPack(a.wbits, a.m, a.cout, a.kh, a.kw, a.cin, simd)) : 0,
    scratch,
    ithr: ithr && windowPath && windowPackable(a.cin, a.kh, a.kw) ? L.bytes(new Uint8Array(ithr.buffer, ithr.byteOffset, ithr.byteLength)) : 0,
  });
  return { params, out, guard };
}

export function setupConv2d(rt: RawRuntime, x: Float32Array, w: Float32Array, g: ConvGeom, e: EpilogueRef) {
  const L = rt.layout;
  const out = writeEpilogue(L, e, g.oh * g.ow);
  const params = rt.params("conv2d_f32", {
    in: L.f32(x), h: g.h, w: g.w, cin: g.cin, weights: L.f32(w), cout: g.cout, kh: g.kh, kw: g.kw,
    stride: g.stride, pad_t: g.padT, pad_l: g.padL, oh: g.oh, ow: g.ow, acc: L.alloc(Math.max(g.cout * 4 + 16, g.ow * g.cout * 4)), epilogue: out.epi,
  });
  return { params, out };
}
