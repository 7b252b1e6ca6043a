// Kernel grid: both runtime builds (scalar, simd) against the TypeScript reference
// (runtime/reference/kernels.ts). bconv (both its general and window paths) is checked bit-exact:
// kernels and reference round to float32 after every operation in the same order. Other float
// kernels are checked within 1e-5 relative.
import { describe, expect, it } from "vitest";
import { BUILDS, RawRuntime } from "../../runtime/host/raw.ts";
import { guardIntact, readOut, setupBconv, setupConv2d, writeEpilogue } from "../../runtime/host/kernel_setup.ts";
import {
  bconvRef, conv2dRef, epilogueRef, newOut, elementwiseRef, gatherRef, matmulRef, topkRef, globalAvgPoolRef, globalMaxPoolRef, groupConvRef, lrnRef, concatRef, transposeRef, softmaxRef, poolRef, quantizePackRef,
  type BconvRef, type EpilogueRef, type QuantRef,
} from "../../runtime/reference/kernels.ts";
import { packBits, unpackBits, windowPackable, windowTail, wordsFor } from "../../compiler/pack/bits.ts";
import { intThresholds } from "../../compiler/quant/int_threshold.ts";

import { rng } from "../../harness/rng.ts";
import kernelList from "../../runtime/kernels.json" with { type: "json" };
import type { ElemProgram } from "../../compiler/ir/plan.ts";
const ELEM_OPS: string[] = kernelList.elementwise_ops;
const bitsOf = (r: () => number, n: number) => Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
const floats = (r: () => number, n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
const ints = (r: () => number, n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => Math.floor(lo + (hi - lo + 1) * r()));

function expectClose(got: Float32Array, want: Float32Array, rel: number, what: string) {
  expect(got.length).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= rel * Math.max(scale, 1e-30))) throw new Error(`${what}: [${i}] got ${got[i]} want ${want[i]}`);
  }
}

/** A quantizer with L levels, sorted per-channel thresholds, random flips and a plane table. */
function randomQuant(r: () => number, c: number, L: number, planes: number): QuantRef {
  const thr = new Float32Array(c * (L - 1));
  for (let ch = 0; ch < c; ch++) {
    const t = Array.from({ length: L - 1 }, () => Math.fround(r() * 8 - 4)).sort((a, b) => a - b);
    thr.set(t, ch * (L - 1));
  }
  const lut = Uint8Array.from({ length: L }, (_, i) => (planes >= L - 1 ? (1 << i) - 1 : i) & ((1 << planes) - 1));
  if (L === 2 && r() < 0.5) lut.reverse(); // bipolar binary activations: level 1 (+1) is bit 0
  return { levels: L, thr, flip: Uint8Array.from({ length: c }, () => (r() < 0.3 ? 1 : 0)), planes, lut };
}

describe("bit convention", () => {
  it("packBits/unpackBits round-trip with zero pad bits (channels 1..200)", () => {
    const r = rng(1);
    for (const c of [1, 31, 63, 64, 65, 200]) {
      const bits = bitsOf(r, 3 * 5 * c);
      const packed = packBits(bits, 3, 5, c);
      expect(packed.length).toBe(3 * 5 * wordsFor(c) * 8);
      expect(unpackBits(packed, 3, 5, c)).toEqual(bits);
    }
  });
  it("channel 0 is bit 0 of byte 0; channel 64 opens the second word (little-endian)", () => {
    const bits = new Uint8Array(65);
    bits[0] = 1;
    bits[9] = 1;
    bits[64] = 1;
    const p = packBits(bits, 1, 1, 65);
    expect(Array.from(p.slice(0, 2))).toEqual([1, 2]);
    expect(p[8]).toBe(1);
  });
});

/** A random XNOR layer (M = K = 1, bipolar) of kk×kk kernels with square padding; α has a zero every `zeroEvery` channels from `zeroAt`. */
function xnorLayer(r: () => number, cin: number, kk: number, cout: number, stride: number, pad: number, h: number, w: number, zeroEvery: number, zeroAt: number): BconvRef {
  const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((w + 2 * pad - kk) / stride) + 1;
  const alpha = floats(r, cout, -2, 2).map((v, i) => (i % zeroEvery === zeroAt ? 0 : v));
  return {
    h, w, cin, cout, kh: kk, kw: kk, stride, padT: pad, padL: pad, oh, ow,
    x: bitsOf(r, h * w * cin), k: 1, wbits: bitsOf(r, cout * kk * kk * cin), m: 1, unipolar: false,
    alpha, beta: floats(r, 1, 0.1, 2), ca: 0,
  };
}

for (const build of BUILDS) {
  describe(`kernels (${build})`, () => {
    const rt = new RawRuntime(build);

    /** An XNOR layer (M = K = 1) with a one-threshold quantizer on the integer path: its bits must be the float path's (the reference's). */
    function checkIntThresholds(a: BconvRef, quant: EpilogueRef["quant"] & object, what: string): void {
      const e: EpilogueRef = { c: a.cout, act: 0, lo: 0, hi: 0, quant };
      const ithr = intThresholds({ m: 1, k: 1, unipolar: false, ca: 0, alpha: a.alpha, beta: a.beta, cout: a.cout, taps: a.kh * a.kw * a.cin, epi: e });
      expect(ithr, "the layer qualifies").toBeDefined();
      const want = bconvRef(a, e).bits;
      rt.reset();
      const { params, out, guard } = setupBconv(rt, a, e, true, ithr);
      rt.load();
      rt.call("bconv", params);
      expect(guardIntact(rt, guard), `${what}: scratch within its computed size`).toBe(true);
      expect(readOut(rt, out).bits, what).toEqual(want);
    }

    it("quantize_pack matches the reference (runtime packing = compiler packing)", () => {
      const r = rng(7);
      for (const c of [1, 31, 63, 64, 65, 200])
        for (const [L, P] of [[2, 1], [2, 1], [2, 2], [3, 2], [4, 2], [4, 3], [9, 8]]) {
          rt.reset();
          const npix = 7;
          const q = randomQuant(r, c, L, P);
          const x = floats(r, npix * c, -5, 5);
          // put some inputs exactly on thresholds: the tie rule is x >= t
          for (let i = 0; i < 5; i++) x[i * 3] = q.thr[(i * 3 % c) * (L - 1)] * (q.flip[(i * 3) % c] ? -1 : 1);
          const out = writeEpilogue(rt.layout, { c, act: 0, lo: 0, hi: 0, quant: q }, npix);
          const params = rt.params("quantize_pack", { in: rt.layout.f32(x), npix, c, out: out.out, quant: out.quant });
          rt.load();
          rt.call("quantize_pack", params);
          expect(readOut(rt, out).bits).toEqual(quantizePackRef(x, npix, c, q));
        }
    });

    it("bconv matches the reference over the grid (channels, kernels, strides, paddings, H×W, M×K, bipolar/unipolar)", () => {
      const r = rng(11);
      const hws = [[1, 1], [2, 3], [5, 4], [7, 7], [6, 9], [3, 8]];
      let cases = 0;
      for (const cin of [1, 16, 21, 31, 32, 63, 64, 65, 200])
        for (const kk of [1, 3, 5, 7])
          for (const stride of [1, 2])
            for (let pad = 0; pad < kk; pad++) {
              const [h, w] = hws[cases % hws.length];
              const m = 1 + (cases % 4), k = 1 + ((cases >> 2) % 4);
              const unipolar = cases % 2 === 1;
              const integer = cases % 3 === 0; // integer scales: outputs are exact integers
              cases++;
              const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((w + 2 * pad - kk) / stride) + 1;
              if (oh < 1 || ow < 1) continue;
              const cout = [1, 3, 4, 5, 9][cases % 5];
              const a: BconvRef = {
                h, w, cin, cout, kh: kk, kw: kk, stride, padT: pad, padL: pad, oh, ow,
                x: bitsOf(r, k * h * w * cin), k, wbits: bitsOf(r, m * cout * kk * kk * cin), m, unipolar,
                alpha: integer ? ints(r, cout * m, 1, 4) : floats(r, cout * m, 0.1, 2),
                beta: integer ? ints(r, k, 1, 3) : floats(r, k, 0.1, 2),
                cw: cases % 4 === 0 ? (integer ? ints(r, cout, -2, 2) : floats(r, cout)) : undefined,
                ca: cases % 5 === 0 ? (integer ? 2 : 0.75) : 0,
                wtap: undefined,
              };
              if (a.ca !== 0) a.wtap = integer ? ints(r, cout * kk * kk, -9, 9) : floats(r, cout * kk * kk, -3, 3);
              const e: EpilogueRef = cases % 7 === 0
                ? { c: cout, act: 0, lo: 0, hi: 0, bias: floats(r, cout, -3, 3), quant: randomQuant(r, cout, 3, 2) }
                : { c: cout, act: (cases % 3) as 0 | 1 | 2, lo: -50, hi: 50,
                    scale: integer ? undefined : floats(r, cout, -2, 2), bias: integer ? ints(r, cout, -5, 5) : floats(r, cout) };
              const want = bconvRef(a, e);
              for (const win of [true, false]) {
                rt.reset();
                const { params, out, guard } = setupBconv(rt, a, e, win);
                rt.load();
                rt.call("bconv", params);
                const got = readOut(rt, out);
                const what = `bconv cin=${cin} k=${kk} s=${stride} p=${pad} ${h}x${w} M${m}K${k} ${unipolar ? "uni" : "bi"} window=${win}`;
                expect(guardIntact(rt, guard), `${what}: scratch within its computed size`).toBe(true);
                // both paths sum in the reference's float32 order: equal, not just close
                if (want.bits) expect(got.bits, what).toEqual(want.bits);
                else expect(Array.from(got.float!), what).toEqual(Array.from(want.float!));
              }
            }
      expect(cases).toBeGreaterThan(200);
    });

    it("bconv with integer thresholds, 3×3 × 16 channels (SIMD build: 16-bit tails, eight channels per vector): every channel count, border pixels, ties on every channel", () => {
      // the tail layout's eight-at-a-time block, then four at a time, then one at a time: cout = 8k,
      // 8k + 4 (no scalar rest), 8k + 1..3 and 8k + 5..7 (scalar rest), up to 64 (bits 56–63); the
      // scalar build runs the same layers in its own (dense) layout
      const r = rng(29);
      const cin = 16, kk = 3;
      expect(windowTail(cin, kk, kk, build.startsWith("simd"))).toBe(build.startsWith("simd") ? 16 : 0);
      for (const cout of [4, 7, 8, 9, 11, 12, 13, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32, 33, 36, 39, 40, 47, 48, 52, 56, 57, 60, 63, 64])
        for (const [stride, pad, h, w] of [[1, 1, 5, 6], [2, 1, 6, 5], [1, 0, 3, 4]]) {
          const a = xnorLayer(r, cin, kk, cout, stride, pad, h, w, 13, 5), alpha = a.alpha;
          const quant = randomQuant(r, cout, 2, 1);
          // a tie on a value the sums take, on every channel (the float path compares with >=)
          for (let o = 0; o < cout; o++) {
            const v = Math.fround(Math.fround(alpha[o] * a.beta[0]) * (2 * Math.floor(r() * 7) - 6));
            quant.thr[o] = quant.flip[o] ? -v : v;
          }
          checkIntThresholds(a, quant, `cout=${cout} s=${stride} p=${pad} ${h}x${w}`);
        }
    });

    it("bconv in the tail layout (3×3 and 1×9 windows of 16 or 32 channels: full words plus the last tap in SIMD lanes) matches the reference", () => {
      const r = rng(17);
      let cases = 0;
      for (const cin of [16, 32])
        for (const [kh, kw, stride, pad] of [[3, 3, 1, 1], [3, 3, 2, 1], [3, 3, 1, 0], [1, 9, 1, 4]])
          for (const cout of [8, 12, 20, 64, 5])
            for (const [m, k, unipolar] of [[1, 1, false], [3, 1, false], [2, 3, true], [3, 2, false]] as [number, number, boolean][]) {
              // (the SIMD build's layout; the scalar build runs the same windows densely packed, the last tap in a word of its own)
              expect(windowTail(cin, kh, kw, build.startsWith("simd")), `cin=${cin} ${kh}×${kw}: tail layout`).toBe(build.startsWith("simd") ? cin : 0);
              const [h, w] = [[6, 7], [5, 9], [4, 4]][cases % 3];
              const oh = Math.floor((h + 2 * (kh > 1 ? pad : 0) - kh) / stride) + 1, ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
              const a: BconvRef = {
                h, w, cin, cout, kh, kw, stride, padT: kh > 1 ? pad : 0, padL: pad, oh, ow,
                x: bitsOf(r, k * h * w * cin), k, wbits: bitsOf(r, m * cout * kh * kw * cin), m, unipolar,
                alpha: floats(r, cout * m, 0.1, 2), beta: floats(r, k, 0.1, 2),
                cw: cases % 4 === 1 ? floats(r, cout) : undefined, ca: 0, wtap: undefined,
              };
              // the last tap alone decides a channel: its weights' tail bits all set for channel 1
              for (let p = 0; p < m; p++) for (let c = 0; c < cin; c++) a.wbits[(((p * cout + 1) * kh + kh - 1) * kw + kw - 1) * cin + c] = 1;
              const e: EpilogueRef = cases % 3 === 0
                ? { c: cout, act: 0, lo: 0, hi: 0, bias: floats(r, cout, -3, 3), quant: randomQuant(r, cout, 2, 1) }
                : { c: cout, act: 1, lo: 0, hi: 0, scale: floats(r, cout, -2, 2), bias: floats(r, cout) };
              const want = bconvRef(a, e);
              rt.reset();
              const { params, out, guard } = setupBconv(rt, a, e, true);
              rt.load();
              rt.call("bconv", params);
              const got = readOut(rt, out), what = `tail cin=${cin} ${kh}×${kw}/${stride} p=${pad} cout=${cout} M${m}K${k} ${unipolar ? "uni" : "bi"}`;
              expect(guardIntact(rt, guard), `${what}: scratch within its computed size`).toBe(true);
              if (want.bits) expect(got.bits, what).toEqual(want.bits);
              else expect(Array.from(got.float!), what).toEqual(Array.from(want.float!));
              cases++;
            }
      expect(cases).toBe(160);
    });

    it("bconv with integer thresholds (M = K = 1, output only the next layer's bits) packs exactly the float path's bits", () => {
      const r = rng(13);
      let used = 0;
      for (const cin of [1, 5, 16, 21, 32, 33, 64])
        for (const [kk, stride, pad] of [[1, 1, 0], [3, 1, 1], [3, 2, 1], [3, 1, 0], [5, 1, 2], [2, 2, 1]])
          for (const [h, w] of [[1, 1], [4, 5], [7, 7], [9, 6]]) {
            const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((w + 2 * pad - kk) / stride) + 1;
            if (oh < 1 || ow < 1 || !windowPackable(cin, kk, kk)) continue; // the integer path is the window path's
            const cout = [1, 5, 16, 37, 64][used % 5];
            // signs of both kinds, some zero scales (a constant bit), flips and both LUTs (randomQuant)
            const a = xnorLayer(r, cin, kk, cout, stride, pad, h, w, 11, 3), alpha = a.alpha;
            const quant = randomQuant(r, cout, 2, 1);
            if (used % 9 === 4) quant.lut.fill(used % 2); // both levels the same bit: a constant channel
            // thresholds on values the sums take (ties: the float path compares with >=)
            for (let o = 0; o < cout; o += 2) {
              const v = Math.fround(Math.fround(alpha[o] * a.beta[0]) * (2 * Math.floor(r() * 5) - 4 + (cin * kk * kk) % 2));
              quant.thr[o] = quant.flip[o] ? -v : v;
            }
            checkIntThresholds(a, quant, `cin=${cin} k=${kk} s=${stride} p=${pad} ${h}x${w} cout=${cout}`);
            used++;
          }
      expect(used).toBeGreaterThan(80);
      // layers it does not cover get undefined (the float path and the epilogue then run as before)
      const base = { m: 1, k: 1, unipolar: false, ca: 0, alpha: new Float32Array([1]), beta: new Float32Array([1]), cout: 1, taps: 9 };
      const q = randomQuant(r, 1, 2, 1);
      const packOnly: EpilogueRef = { c: 1, act: 0, lo: 0, hi: 0, quant: q };
      expect(intThresholds({ ...base, epi: packOnly })).toBeDefined();
      for (const other of [{ m: 2 }, { k: 2 }, { unipolar: true }, { ca: 0.5 }, { cw: new Float32Array([1]) }])
        expect(intThresholds({ ...base, ...other, epi: packOnly }), JSON.stringify(other)).toBeUndefined();
      const others: EpilogueRef[] = [{ ...packOnly, act: 1 }, { ...packOnly, bias: new Float32Array([1]) }, { ...packOnly, quant: randomQuant(r, 1, 3, 2) }, { ...packOnly, quant: undefined }];
      for (const epi of others) expect(intThresholds({ ...base, epi })).toBeUndefined();
    });

    it("elementwise_f32 runs every opcode as the reference does (the float fallback; extended math on the -ext build)", () => {
      const core = rt, ext = new RawRuntime(`${build as "scalar" | "simd"}-ext`);
      const EXT = new Set(kernelList.elementwise_extended);
      const r = rng(13);
      const c = 9, npix = 6;
      const special = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7.25, 1e-3, 40, -40];
      const x = Float32Array.from({ length: npix * c }, (_, i) => (i < special.length ? special[i] : Math.fround(r() * 8 - 4)));
      const consts = Float32Array.from({ length: 2 * c }, (_, i) => (i % 4 === 0 ? 0 : Math.fround(r() * 4 - 2)));
      // float32 math vs JS double math rounded; trigonometric/hyperbolic: AssemblyScript's double-precision musl vs V8's fdlibm, rounded once
      const APPROX = new Set(["pow", "exp", "log", "tanh", "sigmoid", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf"]);
      ELEM_OPS.forEach((op, id) => {
        const rt = EXT.has(op) ? ext : core;
        rt.reset();
        const L = rt.layout;
        // register 1 = op(register 0, constant row 0, constant row 1)
        const prog: ElemProgram = { code: Int32Array.from([id, 1, 0, -1, -2]), consts, regs: 2, result: 1, ops: [op], nsrc: 1 };
        const out = L.alloc(npix * c * 4), xin = L.f32(x);
        const params = rt.params("elementwise_f32", {
          in: xin, npix, c, out, prog: L.bytes(new Uint8Array(prog.code.buffer)), n: 1, consts: L.f32(consts), regs: L.alloc(2 * c * 4), result: 1,
          srcs: L.bytes(new Uint8Array(Int32Array.from([xin]).buffer)), nsrc: 1,
        });
        rt.load();
        rt.call("elementwise_f32", params);
        const got = rt.f32(out, npix * c), want = elementwiseRef(x, npix, c, prog);
        if (EXT.has(op)) {
          // the core build lacks the opcode (the compiler never sends it there): the register keeps 0
          core.reset();
          const Lc = core.layout, outc = Lc.alloc(npix * c * 4), xc = Lc.f32(x);
          const pc = core.params("elementwise_f32", {
            in: xc, npix, c, out: outc, prog: Lc.bytes(new Uint8Array(prog.code.buffer)), n: 1, consts: Lc.f32(consts), regs: Lc.alloc(2 * c * 4), result: 1,
            srcs: Lc.bytes(new Uint8Array(Int32Array.from([xc]).buffer)), nsrc: 1,
          });
          core.load();
          core.call("elementwise_f32", pc);
          expect(Array.from(core.f32(outc, npix * c)).every((v) => v === 0), `${op} on the core build writes 0 (not computed)`).toBe(true);
        }
        for (let i = 0; i < got.length; i++) {
          const ok = APPROX.has(op) ? Object.is(got[i], want[i]) || Math.abs(got[i] - want[i]) <= 4e-7 * Math.abs(want[i]) : Object.is(got[i], want[i]);
          expect(ok, `${op}(${x[i]}, ${consts[i % c]}, ${consts[c + (i % c)]}) = ${got[i]}, reference ${want[i]}`).toBe(true);
        }
      });
    });

    it("elementwise_f32's one-instruction path (source op constant row, whole tensor in one loop) = the reference, and only that shape takes it", () => {
      const r = rng(23);
      const op = (name: string) => ELEM_OPS.indexOf(name);
      // c < 4 on SIMD: four pixels at a time as c vectors, then a partial group (npix 3, 7) or none (12)
      for (const c of [1, 2, 3, 9]) for (const npix of [3, 7, 12])
        for (const name of ["add", "sub", "mul", "div"])
          // register 1 = x op k (the fast path), k op x and x op x (operands it must not take)
          for (const [a, b] of [[0, -1], [-1, 0], [0, 0]]) {
            const x = Float32Array.from({ length: npix * c }, () => Math.fround(r() * 8 - 4));
            const consts = Float32Array.from({ length: c }, () => Math.fround(r() * 4 + 0.5));
            const prog: ElemProgram = { code: Int32Array.from([op(name), 1, a, b, 0]), consts, regs: 2, result: 1, ops: [name], nsrc: 1 };
            rt.reset();
            // registers filled with a sentinel: the one-loop path never writes them, the interpreter does
            const L = rt.layout, out = L.alloc(npix * c * 4), xin = L.f32(x), regs = L.f32(new Float32Array(2 * c).fill(-12345));
            const params = rt.params("elementwise_f32", {
              in: xin, npix, c, out, prog: L.bytes(new Uint8Array(prog.code.buffer)), n: 1, consts: L.f32(consts), regs, result: 1,
              srcs: L.bytes(new Uint8Array(Int32Array.from([xin]).buffer)), nsrc: 1,
            });
            rt.load();
            rt.call("elementwise_f32", params);
            const got = Array.from(rt.f32(out, npix * c));
            expect(got, `${name}(${a}, ${b}) with ${c} channels`).toEqual(Array.from(elementwiseRef(x, npix, c, prog)));
            const fast = a === 0 && b === -1;
            expect(Array.from(rt.f32(regs, 2 * c)).every((v) => v === -12345), `${name}(${a}, ${b}): ${fast ? "one loop" : "the interpreter"}`).toBe(fast);
            // by hand for x / k: channel i mod c of the constant row
            if (name === "div" && a === 0 && b === -1) for (let i = 0; i < got.length; i++) expect(got[i]).toBe(Math.fround(x[i] / consts[i % c]));
          }
    });

    it("elementwise_f32 reads several sources into registers 0..n−1 (Div/Max/Where of activations)", () => {
      const r = rng(17);
      const c = 5, npix = 7;
      const xs = [0, 1, 2].map(() => Float32Array.from({ length: npix * c }, () => Math.fround(r() * 8 - 4)));
      const op = (name: string) => ELEM_OPS.indexOf(name);
      // r3 = x0 / x1; r4 = max(r3, x2); r5 = where(x2 > x0, r4, x1)
      const prog: ElemProgram = {
        code: Int32Array.from([op("div"), 3, 0, 1, 0, op("max"), 4, 3, 2, 0, op("gt"), 5, 2, 0, 0, op("where"), 6, 5, 4, 1]),
        consts: new Float32Array(0), regs: 7, result: 6, ops: ["Div", "Max", "Greater", "Where"], nsrc: 3,
      };
      rt.reset();
      const L = rt.layout;
      const ins = xs.map((x) => L.f32(x)), out = L.alloc(npix * c * 4);
      const params = rt.params("elementwise_f32", {
        in: ins[0], npix, c, out, prog: L.bytes(new Uint8Array(prog.code.buffer)), n: 4, consts: L.alloc(4), regs: L.alloc(7 * c * 4), result: 6,
        srcs: L.bytes(new Uint8Array(Int32Array.from(ins).buffer)), nsrc: 3,
      });
      rt.load();
      rt.call("elementwise_f32", params);
      const got = Array.from(rt.f32(out, npix * c));
      expect(got).toEqual(Array.from(elementwiseRef(xs, npix, c, prog)));
      // and by hand, so that the reference is not the only judge
      for (let i = 0; i < got.length; i++) {
        const [a, b, d] = xs.map((x) => x[i]);
        expect(got[i]).toBe(d > a ? Math.max(Math.fround(a / b), d) : b);
      }
    });

    it("topk_f32 selects the k best per row in order (ties by index, or the last index), values or indices", () => {
      const r = rng(19);
      for (const [rows, n, k] of [[3, 10, 3], [2, 7, 7], [4, 5, 1], [1, 100, 10]])
        for (const largest of [true, false])
          for (const indices of [true, false])
            for (const last of [false, true]) {
              const x = Float32Array.from({ length: rows * n }, () => Math.fround(Math.round(r() * 8) / 2)); // many ties
              rt.reset();
              const L = rt.layout, out = L.alloc(rows * k * 4);
              const params = rt.params("topk_f32", { in: L.f32(x), rows, n, k, out, largest: largest ? 1 : 0, indices: indices ? 1 : 0, last: last ? 1 : 0 });
              rt.load();
              rt.call("topk_f32", params);
              expect(Array.from(rt.f32(out, rows * k)), `${rows}x${n} k=${k} ${largest} ${indices} ${last}`).toEqual(Array.from(topkRef(x, rows, n, k, largest, indices, last)));
            }
    });

    it("gather_f32 applies an index map with a fill value", () => {
      const x = Float32Array.from({ length: 50 }, (_, i) => Math.fround(i * 0.5 - 3));
      const idx = Int32Array.from({ length: 80 }, (_, i) => (i % 7 === 3 ? -1 : (i * 13) % 50));
      rt.reset();
      const L = rt.layout, out = L.alloc(80 * 4);
      const params = rt.params("gather_f32", { in: L.f32(x), out, n: 80, idx: L.bytes(new Uint8Array(idx.buffer)), fill: -2.5 });
      rt.load();
      rt.call("gather_f32", params);
      const got = Array.from(rt.f32(out, 80));
      expect(got).toEqual(Array.from(gatherRef(x, idx, -2.5)));
      expect(got[3]).toBe(-2.5);
      expect(got[1]).toBe(x[13]);
    });

    it("matmul_f32 = the reference bit for bit (batches, shared operands, n not a multiple of 4), and small integer products exactly", () => {
      const r = rng(23);
      for (const [batch, m, k, n, shareA, shareB] of [[1, 3, 5, 7, 0, 0], [4, 8, 16, 8, 0, 0], [3, 2, 9, 13, 1, 0], [2, 5, 3, 4, 0, 1], [1, 1, 33, 1, 0, 0]]) {
        const aStride = shareA ? 0 : m * k, bStride = shareB ? 0 : k * n;
        const a = Float32Array.from({ length: (shareA ? 1 : batch) * m * k }, () => Math.fround(r() * 2 - 1));
        const b = Float32Array.from({ length: (shareB ? 1 : batch) * k * n }, () => Math.fround(r() * 2 - 1));
        rt.reset();
        const L = rt.layout, out = L.alloc(batch * m * n * 4);
        const params = rt.params("matmul_f32", { in: L.f32(a), b: L.f32(b), out, batch, m, k, n, a_stride: aStride, b_stride: bStride });
        rt.load();
        rt.call("matmul_f32", params);
        const got = rt.f32(out, batch * m * n), want = matmulRef(a, b, batch, m, k, n, aStride, bStride);
        expect(Array.from(got), `${batch}×[${m}×${k}]·[${k}×${n}]`).toEqual(Array.from(want));
        // and against float64 sums, so that the reference is not the only judge
        for (let t = 0; t < batch; t++)
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let kk = 0; kk < k; kk++) s += a[t * aStride + i * k + kk] * b[t * bStride + kk * n + j];
              expect(Math.abs(got[(t * m + i) * n + j] - s)).toBeLessThan(1e-5 * k);
            }
      }
      // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]
      rt.reset();
      const L = rt.layout, out = L.alloc(16);
      const params = rt.params("matmul_f32", { in: L.f32(Float32Array.of(1, 2, 3, 4)), b: L.f32(Float32Array.of(5, 6, 7, 8)), out, batch: 1, m: 2, k: 2, n: 2, a_stride: 4, b_stride: 4 });
      rt.load();
      rt.call("matmul_f32", params);
      expect(Array.from(rt.f32(out, 4))).toEqual([19, 22, 43, 50]);
    });

    it("bdense = bconv on a 1×1 image", () => {
      const r = rng(5);
      for (const cin of [1, 63, 64, 65, 200]) {
        rt.reset();
        const cout = 10, m = 3, k = 2;
        const a: BconvRef = { h: 1, w: 1, cin, cout, kh: 1, kw: 1, stride: 1, padT: 0, padL: 0, oh: 1, ow: 1,
          x: bitsOf(r, k * cin), k, wbits: bitsOf(r, m * cout * cin), m, unipolar: false,
          alpha: floats(r, cout * m, 0.1, 1), beta: floats(r, k, 0.1, 1), cw: floats(r, cout), ca: 0 };
        const e: EpilogueRef = { c: cout, act: 0, lo: 0, hi: 0, bias: floats(r, cout) };
        const L = rt.layout;
        const out = writeEpilogue(L, e, 1);
        const params = rt.params("bdense", {
          in: L.bytes(packBits(a.x, k, 1, cin)), cin, in_words: wordsFor(cin), k, in_plane_stride: wordsFor(cin) * 8,
          weights: L.bytes(packBits(a.wbits, m, cout, cin)), m, cout, unipolar: 0, alpha: L.f32(a.alpha),
          beta: L.f32(a.beta), cw: L.f32(a.cw!), ca: 0, wtap: 0, acc: L.alloc(cout * 8), epilogue: out.epi, scratch: L.alloc(k * m * cout * 4 + 16),
        });
        rt.load();
        rt.call("bdense", params);
        expectClose(readOut(rt, out).float!, bconvRef(a, e).float!, 1e-5, `bdense cin=${cin}`);
      }
    });

    it("conv2d_f32 and dense_f32 match the reference", () => {
      const r = rng(3);
      // cout ≥ 16 and rows with interior pixels exercise the two-pixel pass (one or two passes of
      // sixteen channels, then the remainder); widths 6 and 9 leave an even and an odd run of them
      for (const cin of [1, 3, 16])
        for (const cout of [1, 5, 16, 17, 32, 35])
          for (const [kk, stride, pad, w] of [[1, 1, 0, 6], [3, 1, 1, 6], [3, 1, 1, 9], [3, 2, 1, 9], [5, 2, 2, 6], [7, 1, 3, 9]]) {
            const h = 7;
            const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((w + 2 * pad - kk) / stride) + 1;
            const g = { h, w, cin, cout, kh: kk, kw: kk, stride, padT: pad, padL: pad, oh, ow };
            const x = floats(r, h * w * cin), wt = floats(r, kk * kk * cin * cout);
            const e: EpilogueRef = { c: cout, act: 1, lo: 0, hi: 0, scale: floats(r, cout), bias: floats(r, cout), res: floats(r, oh * ow * cout) };
            rt.reset();
            const { params, out } = setupConv2d(rt, x, wt, g, e);
            rt.load();
            rt.call("conv2d_f32", params);
            expect(Array.from(readOut(rt, out).float!)).toEqual(Array.from(conv2dRef(x, wt, g, e).float!));
          }
      rt.reset();
      const x = floats(r, 64), wt = floats(r, 64 * 10);
      const e: EpilogueRef = { c: 10, act: 0, lo: 0, hi: 0, bias: floats(r, 10) };
      const out = writeEpilogue(rt.layout, e, 1);
      const params = rt.params("dense_f32", { in: rt.layout.f32(x), cin: 64, weights: rt.layout.f32(wt), cout: 10, acc: rt.layout.alloc(64), epilogue: out.epi });
      rt.load();
      rt.call("dense_f32", params);
      const g = { h: 1, w: 1, cin: 64, cout: 10, kh: 1, kw: 1, stride: 1, padT: 0, padL: 0, oh: 1, ow: 1 };
      expect(Array.from(readOut(rt, out).float!)).toEqual(Array.from(conv2dRef(x, wt, g, e).float!));
    });

    it("channel_affine_f32 matches the epilogue reference (narrow rows run flat on SIMD), writing nothing past its output", () => {
      // c < 4 with a float output takes the flat path (epilogue_flat): lanes of four pixels' channels
      // repeating with period c, pixel counts that leave a partial group; c ≥ 4 and quantized outputs
      // (the last case) take the row path. Inputs include ±0, NaN and values at the clip bounds. Values
      // compare bit for bit; a NaN only as NaN (after ReLU, f32.max and f32x4.max may give NaNs of
      // different sign, which Wasm allows). The 16 bytes after the output must keep their sentinel.
      const r = rng(23);
      for (const c of [1, 2, 3, 4, 5])
        for (const npix of [0, 1, 3, 4, 7, 12, 784])
          for (const [sc, bi, re, act, qu] of [[1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 1, 1, 0], [1, 1, 1, 2, 0], [0, 0, 0, 1, 0], [1, 1, 1, 1, 1]]) {
            const x = floats(r, npix * c);
            if (x.length > 0) x[0] = -0;
            if (x.length > 2) x[2] = NaN;
            if (x.length > 1) x[1] = 0.25;
            const e: EpilogueRef = {
              c, act: act as 0 | 1 | 2, lo: -0.5, hi: 0.25, scale: sc ? floats(r, c) : undefined, bias: bi ? floats(r, c) : undefined,
              res: re ? floats(r, npix * c) : undefined, quant: qu ? randomQuant(r, c, 2, 1) : undefined,
            };
            rt.reset();
            const L = rt.layout, out = writeEpilogue(L, e, npix);
            const params = rt.params("channel_affine_f32", { in: L.f32(x), npix, acc: L.alloc(c * 4 + 16), epilogue: out.epi });
            rt.load();
            const outBytes = qu ? npix * 8 : npix * c * 4;
            new Uint8Array(rt.exports.memory.buffer, out.out + outBytes, 16).fill(0xa5);
            rt.call("channel_affine_f32", params);
            const want = newOut(e, npix);
            for (let p = 0; p < npix; p++) epilogueRef(e, x.subarray(p * c, (p + 1) * c), p, npix, want);
            const what = `c ${c}, ${npix} pixels, scale ${sc} bias ${bi} res ${re} act ${act} quant ${qu}`;
            const got = readOut(rt, out);
            if (qu) expect(Array.from(got.bits!), what).toEqual(Array.from(want.bits!));
            else expect(Array.from(got.float!), what).toEqual(Array.from(want.float!));
            expect(rt.u8(out.out + outBytes, 16).every((b) => b === 0xa5), `${what}: bytes past the output`).toBe(true);
          }
    });

    it("conv2d_group_f32 (grouped, depthwise) matches the reference bit for bit", () => {
      const r = rng(21);
      for (const [cin, cout, groups] of [[4, 4, 4], [6, 9, 3], [8, 4, 2], [3, 6, 1]])
        for (const [kk, stride, pad] of [[3, 1, 1], [3, 2, 1], [1, 1, 0], [5, 2, 2]]) {
          const h = 7, w = 6;
          const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((w + 2 * pad - kk) / stride) + 1;
          const g = { h, w, cin, cout, kh: kk, kw: kk, stride, padT: pad, padL: pad, oh, ow };
          const x = floats(r, h * w * cin), wt = floats(r, cout * (cin / groups) * kk * kk);
          const e: EpilogueRef = { c: cout, act: 1, lo: 0, hi: 0, scale: floats(r, cout), bias: floats(r, cout) };
          rt.reset();
          const L = rt.layout, out = writeEpilogue(L, e, oh * ow);
          const params = rt.params("conv2d_group_f32", {
            in: L.f32(x), h, w, cin, weights: L.f32(wt), cout, kh: kk, kw: kk, stride, pad_t: pad, pad_l: pad, oh, ow, acc: L.alloc(cout * 4 + 16), epilogue: out.epi, groups,
          });
          rt.load();
          rt.call("conv2d_group_f32", params);
          expect(Array.from(readOut(rt, out).float!)).toEqual(Array.from(groupConvRef(x, wt, g, groups, e).float!));
        }
    });

    it("pools and channel_affine match the reference", () => {
      const r = rng(9);
      // the last case is ceil_mode: its last windows reach past the bottom/right padding
      for (const [h, w, c, kk, s, pad, ceil] of [[8, 8, 16, 2, 2, 0, 0], [7, 5, 3, 3, 2, 1, 0], [1, 1, 65, 1, 1, 0, 0], [9, 9, 4, 3, 1, 1, 0], [2, 2, 3, 3, 2, 1, 1]]) {
        const rnd = ceil ? Math.ceil : Math.floor;
        const oh = rnd((h + 2 * pad - kk) / s) + 1, ow = rnd((w + 2 * pad - kk) / s) + 1;
        const g = { h, w, c, kh: kk, kw: kk, sh: s, sw: s, padT: pad, padL: pad, padB: pad, padR: pad, oh, ow };
        const x = floats(r, h * w * c, -3, 3);
        for (const kind of ["max", "avg"] as const)
          for (const cip of kind === "avg" ? [0, 1] : [0]) {
            rt.reset();
            const L = rt.layout, y = L.alloc(oh * ow * c * 4);
            const base = { in: L.f32(x), h, w, c, kh: kk, kw: kk, stride_h: s, stride_w: s, pad_t: pad, pad_l: pad, oh, ow, out: y };
            const params = kind === "max" ? rt.params("maxpool_f32", base) : rt.params("avgpool_f32", { ...base, count_include_pad: cip, pad_b: pad, pad_r: pad });
            rt.load();
            rt.call(`${kind}pool_f32`, params);
            expect(Array.from(rt.f32(y, oh * ow * c))).toEqual(Array.from(poolRef(x, g, kind, cip === 1)));
          }
        rt.reset();
        const L = rt.layout, y = L.alloc(c * 4);
        const params = rt.params("global_avgpool_f32", { in: L.f32(x), hw: h * w, c, out: y });
        rt.load();
        rt.call("global_avgpool_f32", params);
        expect(Array.from(rt.f32(y, c))).toEqual(Array.from(globalAvgPoolRef(x, h * w, c)));
      }
    });

    it("softmax_f32, log-softmax and hardmax match the reference (exp/log within 4e-7 relative; hardmax exact, first maximum on ties)", () => {
      const r = rng(11);
      for (const [rows, n] of [[1, 10], [6, 3], [4, 1], [2, 1000]])
        for (const log of [0, 1, 2]) {
          const x = floats(r, rows * n, -20, 20);
          if (log === 2 && n > 2) x[1] = x[2] = 30; // a tie: the first wins
          rt.reset();
          const L = rt.layout, y = L.alloc(rows * n * 4);
          const params = rt.params("softmax_f32", { in: L.f32(x), rows, n, out: y, mode: log });
          rt.load();
          rt.call("softmax_f32", params);
          const got = rt.f32(y, rows * n), want = softmaxRef(x, rows, n, log);
          for (let i = 0; i < rows * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(want[i])) * (log ? 1 : 4));
          if (log === 2) expect(Array.from(got)).toEqual(Array.from(want));
          if (!log) for (let k = 0; k < rows; k++) expect(Math.abs(got.subarray(k * n, (k + 1) * n).reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-5);
        }
    });

    it("global max pool, concat and transpose match the reference", () => {
      const r = rng(13);
      for (const [hw, c] of [[16, 5], [1, 70], [9, 1]]) {
        const x = floats(r, hw * c, -3, 3);
        rt.reset();
        const L = rt.layout, y = L.alloc(c * 4);
        const params = rt.params("global_maxpool_f32", { in: L.f32(x), hw, c, out: y });
        rt.load();
        rt.call("global_maxpool_f32", params);
        expect(Array.from(rt.f32(y, c))).toEqual(Array.from(globalMaxPoolRef(x, hw, c)));
      }
      {
        const npix = 6, parts = [3, 1, 5], cOut = 9, xs = parts.map((c) => floats(r, npix * c, -1, 1));
        rt.reset();
        const L = rt.layout, y = L.alloc(npix * cOut * 4);
        let off = 0;
        const ps = parts.map((c, i) => { const p = rt.params("concat_f32", { in: L.f32(xs[i]), npix, c, out: y, c_out: cOut, offset: off }); off += c; return p; });
        rt.load();
        for (const p of ps) rt.call("concat_f32", p);
        const want = new Float32Array(npix * cOut);
        off = 0;
        parts.forEach((c, i) => { concatRef(xs[i], npix, c, want, cOut, off); off += c; });
        expect(Array.from(rt.f32(y, npix * cOut))).toEqual(Array.from(want));
      }
      for (const [dims, perm] of [[[2, 3, 4, 5], [0, 3, 1, 2]], [[2, 3, 4, 5], [3, 2, 0, 1]], [[6, 7], [1, 0]], [[2, 3, 4], [1, 2, 0]]] as [number[], number[]][]) {
        const x = floats(r, dims.reduce((p, d) => p * d, 1), -1, 1);
        const pad = 4 - dims.length, d4 = [...Array(pad).fill(1), ...perm.map((a) => dims[a])];
        const strides = dims.map((_, i) => dims.slice(i + 1).reduce((p, d) => p * d, 1));
        const s4 = [...Array(pad).fill(0), ...perm.map((a) => strides[a])];
        rt.reset();
        const L = rt.layout, y = L.alloc(x.length * 4);
        const params = rt.params("transpose_f32", { in: L.f32(x), out: y, d0: d4[0], d1: d4[1], d2: d4[2], d3: d4[3], s0: s4[0], s1: s4[1], s2: s4[2], s3: s4[3] });
        rt.load();
        rt.call("transpose_f32", params);
        expect(Array.from(rt.f32(y, x.length))).toEqual(Array.from(transposeRef(x, dims, perm)));
      }
    });

    it("lrn_f32 matches the reference (pow within 4e-7 relative)", () => {
      const r = rng(17);
      for (const [npix, c, size] of [[5, 16, 5], [3, 3, 4], [2, 1, 3]]) {
        const x = floats(r, npix * c, -4, 4);
        rt.reset();
        const L = rt.layout, y = L.alloc(npix * c * 4);
        const params = rt.params("lrn_f32", { in: L.f32(x), npix, c, out: y, size, alpha: 1e-2, beta: 0.75, bias: 2 });
        rt.load();
        rt.call("lrn_f32", params);
        const got = rt.f32(y, npix * c), want = lrnRef(x, npix, c, size, 1e-2, 0.75, 2);
        for (let i = 0; i < npix * c; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(want[i])));
      }
    });

    it("layout kernels transpose NCHW <-> NHWC", () => {
      rt.reset();
      const c = 3, hw = 10, x = Float32Array.from({ length: c * hw }, (_, i) => i);
      const L = rt.layout, a = L.f32(x), b = L.alloc(4 * c * hw), back = L.alloc(4 * c * hw);
      const p1 = rt.params("nchw_to_nhwc", { in: a, out: b, c, hw }), p2 = rt.params("nhwc_to_nchw", { in: b, out: back, c, hw });
      rt.load();
      rt.call("nchw_to_nhwc", p1);
      rt.call("nhwc_to_nchw", p2);
      expect(rt.f32(b, 4)[1]).toBe(hw);
      expect(Array.from(rt.f32(back, c * hw))).toEqual(Array.from(x));
    });
  });
}
