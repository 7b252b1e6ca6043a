// Runtime: the fused per-channel output transform shared by every producing kernel, and the
// quantize+pack of one pixel. No allocation; `acc` is a caller-owned f32 row of length c.
//   y[ch] = acc[ch]·scale[ch] + bias[ch] (+ res[ch]) → act (0 none, 1 relu, 2 clip[lo,hi])
//   → stored as float NHWC, or quantized and bit-packed for the next binary layer (quant record),
//   or both: with a quant record and `fout` ≠ 0 the float row goes to fout and is packed from there.
import { pi, pu, pf } from "../params";

// Epilogue record slots (runtime/kernels.json "records.epilogue").
const E_C = 0, E_SCALE = 1, E_BIAS = 2, E_RES = 3, E_ACT = 4, E_LO = 5, E_HI = 6, E_OUT = 7, E_QUANT = 8, E_FOUT = 9;
// Quantizer record slots (runtime/kernels.json "records.quant").
const Q_LEVELS = 0, Q_THR = 1, Q_FLIP = 2, Q_PLANES = 3, Q_LUT = 4, Q_WORDS = 5, Q_PLANE_STRIDE = 6, Q_SCRATCH = 7, Q_THR_T = 8;

// Quantize one pixel's float row x[0..c) and pack it into the planes at `dst`, pixel `pix`.
// Level index q = #{j : x ≥ thr[ch][j]} (thresholds ascending; the compiler stores the smallest
// float32 that reaches each upper level, so `>=` reproduces the graph's own comparison exactly).
// A channel with flip=1 (a decreasing staircase) compares −x instead: its thresholds are those of −x,
// so that q = #{j : −x ≥ thr[ch][j]} is again the number of levels reached.
// lut[q] is a byte whose bit p is plane p's bit (bipolar planes: 1 means −1; unipolar: 1 means 1).
// Channels are packed little-endian into 64-bit words; pad bits of the last word stay 0.
export function pack_pixel(q: usize, x: usize, c: i32, dst: usize, pix: i32): void {
  const nt = pi(q, Q_LEVELS) - 1;
  const thr = pu(q, Q_THR);
  const flip = pu(q, Q_FLIP);
  const planes = pi(q, Q_PLANES);
  const lut = pu(q, Q_LUT);
  const words = pi(q, Q_WORDS);
  const planeStride = pu(q, Q_PLANE_STRIDE);
  const bits = pu(q, Q_SCRATCH);
  if (nt == 1 && words == 1) {
    pack_binary(x, c, thr, flip, planes, lut, dst + (<usize>pix << 3), planeStride);
    return;
  }
  if (ASC_FEATURE_SIMD && words == 1 && planes <= 4 && nt < 16) {
    pack_levels(x, c, nt, pu(q, Q_THR_T), flip, planes, lut, dst + (<usize>pix << 3), planeStride);
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    let v = load<f32>(x + (<usize>ch << 2));
    const f = load<u8>(flip + <usize>ch);
    if (f) v = -v;
    const t = thr + (<usize>(ch * nt) << 2);
    let lv = 0;
    for (let j = 0; j < nt; j++) lv += i32(v >= load<f32>(t + (<usize>j << 2)));
    store<u8>(bits + <usize>ch, load<u8>(lut + <usize>lv));
  }
  for (let p = 0; p < planes; p++) {
    const plane = dst + <usize>p * planeStride + (<usize>(pix * words) << 3);
    for (let wd = 0; wd < words; wd++) {
      let word: u64 = 0;
      const c0 = wd << 6;
      const c1 = min(c, c0 + 64);
      for (let ch = c0; ch < c1; ch++) {
        word |= (<u64>((load<u8>(bits + <usize>ch) >> <u8>p) & 1)) << <u64>(ch - c0);
      }
      store<u64>(plane + (<usize>wd << 3), word);
    }
  }
}

// Fast case of pack_pixel: one threshold (two levels) and one channel word. The level bits of all
// channels form one mask word m (bit ch = level 1); plane p's word is then m, ~m, all-ones or 0 as
// lut[1] and lut[0] set bit p. Same comparisons as the general loop (−x is a sign flip).
@inline function pack_binary(x: usize, c: i32, thr: usize, flip: usize, planes: i32, lut: usize, dst: usize, planeStride: usize): void {
  let m: u64 = 0;
  let ch = 0;
  if (ASC_FEATURE_SIMD) {
    for (; ch + 4 <= c; ch += 4) {
      const ge = f32x4.ge(v128.xor(v128.load(x + (<usize>ch << 2)), flipSigns(flip + <usize>ch)), v128.load(thr + (<usize>ch << 2)));
      m |= <u64>i32x4.bitmask(ge) << <u64>ch;
    }
  }
  for (; ch < c; ch++) {
    let v = load<f32>(x + (<usize>ch << 2));
    if (load<u8>(flip + <usize>ch)) v = -v;
    m |= <u64>(v >= load<f32>(thr + (<usize>ch << 2))) << <u64>ch;
  }
  const all: u64 = c >= 64 ? <u64>-1 : (<u64>1 << <u64>c) - 1;
  const l0 = <u64>load<u8>(lut), l1 = <u64>load<u8>(lut, 1);
  for (let p = 0; p < planes; p++) {
    const on1: u64 = (l1 >> <u64>p) & 1 ? all : 0, on0: u64 = (l0 >> <u64>p) & 1 ? all : 0;
    store<u64>(dst + <usize>p * planeStride, (m & on1) | (~m & on0));
  }
}

// Bit of plane p for level lv (scalar tail of pack_levels).
@inline function lutBit(lut: usize, lv: i32, p: i32): u64 {
  return <u64>((load<u8>(lut + <usize>lv) >> <u8>p) & 1);
}

// SIMD case of pack_pixel for multi-level quantizers (2 ≤ levels ≤ 16, ≤ 4 planes, one channel
// word): sixteen channels at a time, the rest one by one; reads only the transposed thresholds. Level counts come from f32x4 compares against the transposed
// thresholds thrT[j][ch] (the same `>=` on the same values as the scalar loop), are narrowed to
// bytes, mapped through the LUT with one i8x16.swizzle, and plane p's 16 bits are the bitmask of
// the LUT bytes shifted so that bit p is on top.
@inline function pack_levels(
  x: usize, c: i32, nt: i32, thrT: usize, flip: usize, planes: i32, lut: usize, dst: usize, planeStride: usize,
): void {
  let lo: u64 = 0, hi: u64 = 0; // the LUT (≤ 16 bytes) without reading past it
  for (let i = 0; i <= nt; i++) {
    const b = <u64>load<u8>(lut + <usize>i);
    if (i < 8) lo |= b << <u64>(i << 3);
    else hi |= b << <u64>((i - 8) << 3);
  }
  const lutv = i64x2.replace_lane(i64x2.splat(lo), 1, hi);
  let w0: u64 = 0, w1: u64 = 0, w2: u64 = 0, w3: u64 = 0;
  let g = 0;
  for (; g + 16 <= c; g += 16) {
    let lv0 = i32x4.splat(0), lv1 = i32x4.splat(0), lv2 = i32x4.splat(0), lv3 = i32x4.splat(0);
    const v0 = v128.xor(v128.load(x + (<usize>g << 2)), flipSigns(flip + <usize>g));
    const v1 = v128.xor(v128.load(x + (<usize>(g + 4) << 2)), flipSigns(flip + <usize>(g + 4)));
    const v2 = v128.xor(v128.load(x + (<usize>(g + 8) << 2)), flipSigns(flip + <usize>(g + 8)));
    const v3 = v128.xor(v128.load(x + (<usize>(g + 12) << 2)), flipSigns(flip + <usize>(g + 12)));
    for (let j = 0; j < nt; j++) {
      const t = thrT + (<usize>(j * c + g) << 2);
      lv0 = i32x4.sub(lv0, f32x4.ge(v0, v128.load(t)));
      lv1 = i32x4.sub(lv1, f32x4.ge(v1, v128.load(t, 16)));
      lv2 = i32x4.sub(lv2, f32x4.ge(v2, v128.load(t, 32)));
      lv3 = i32x4.sub(lv3, f32x4.ge(v3, v128.load(t, 48)));
    }
    const lvb = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(lv0, lv1), i16x8.narrow_i32x4_u(lv2, lv3));
    const bytes = i8x16.swizzle(lutv, lvb);
    const sh = <u64>g;
    w0 |= <u64>i8x16.bitmask(i8x16.shl(bytes, 7)) << sh;
    if (planes > 1) w1 |= <u64>i8x16.bitmask(i8x16.shl(bytes, 6)) << sh;
    if (planes > 2) w2 |= <u64>i8x16.bitmask(i8x16.shl(bytes, 5)) << sh;
    if (planes > 3) w3 |= <u64>i8x16.bitmask(i8x16.shl(bytes, 4)) << sh;
  }
  for (let ch = g; ch < c; ch++) {
    let v = load<f32>(x + (<usize>ch << 2));
    if (load<u8>(flip + <usize>ch)) v = -v;
    let lv = 0;
    for (let j = 0; j < nt; j++) lv += i32(v >= load<f32>(thrT + (<usize>(j * c + ch) << 2)));
    const sh = <u64>ch;
    w0 |= lutBit(lut, lv, 0) << sh;
    w1 |= lutBit(lut, lv, 1) << sh;
    w2 |= lutBit(lut, lv, 2) << sh;
    w3 |= lutBit(lut, lv, 3) << sh;
  }
  store<u64>(dst, w0);
  if (planes > 1) store<u64>(dst + planeStride, w1);
  if (planes > 2) store<u64>(dst + 2 * planeStride, w2);
  if (planes > 3) store<u64>(dst + 3 * planeStride, w3);
}

// Sign masks (bit 31 set where flip[ch] = 1) for four channels: x ^ mask = flip ? −x : x.
@inline function flipSigns(f: usize): v128 {
  return i32x4.shl(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(f))), 31);
}

/** The output address of an epilogue record (a producer that packs its bits itself writes there). */
export function epilogueOut(e: usize): usize {
  return pu(e, E_OUT);
}

// Apply the output transform to acc[0..c) (modified in place) and store pixel `pix`.
export function epilogue(e: usize, acc: usize, pix: i32): void {
  epilogueRows(e, acc, pix, 1, false);
}

// The output transform of n consecutive pixels pix0.. whose acc rows lie one after another
// (acc + i·c floats): a producing kernel that fills a whole output row first decodes the record
// once per row instead of once per pixel. Per pixel the same operations as `epilogue`, in the
// same order (the pixels are independent).
export function epilogue_rows(e: usize, acc: usize, pix0: i32, n: i32): void {
  epilogueRows(e, acc, pix0, n, true);
}

// The float transform (no quantizer) of npix pixels of c < 4 channels whose acc rows lie one after
// another, for the SIMD build: rows that narrow leave the four-channel vectors of epilogueRows
// unused (an RGB image's per-channel Sub/Mul/BatchNorm before the first conv ran one scalar channel
// at a time), so the npix·c floats are run as one flat array. Four pixels are c vectors whose lanes'
// channels repeat with that period: vector v of every group uses the operand vector of channels
// (4v + l) mod c, l = 0..3 — one pass per v. Lane-wise the same operations as the scalar loop, and
// the floats past the last whole group go through that loop. Returns false (nothing done) otherwise.
@inline export function epilogue_flat(e: usize, acc: usize, npix: i32): bool {
  if (!ASC_FEATURE_SIMD) return false;
  const c = pi(e, E_C);
  if (c >= 4 || pu(e, E_QUANT) != 0) return false;
  const scale = pu(e, E_SCALE), bias = pu(e, E_BIAS), res = pu(e, E_RES), act = pi(e, E_ACT);
  const lo = pf(e, E_LO), hi = pf(e, E_HI), out = pu(e, E_OUT);
  const groups = npix >> 2, gBytes = <usize>(4 * c) << 2, end = <usize>groups * gBytes;
  const zero = f32x4.splat(0), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  for (let v = 0; v < c; v++) {
    const sv = scale ? channelLanes(scale, v, c) : zero, bv = bias ? channelLanes(bias, v, c) : zero;
    for (let q = <usize>v << 4; q < end; q += gBytes) {
      let y = v128.load(acc + q);
      if (scale) y = f32x4.mul(y, sv);
      if (bias) y = f32x4.add(y, bv);
      if (res) y = f32x4.add(y, v128.load(res + q));
      if (act == 1) y = f32x4.max(y, zero);
      else if (act == 2) y = f32x4.min(f32x4.max(y, vlo), vhi);
      v128.store(out + q, y);
    }
  }
  for (let i = groups * 4 * c; i < npix * c; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, transform1(load<f32>(acc + o), scale, bias, res, res + o, act, lo, hi, <usize>(i % c) << 2));
  }
  return true;
}

// Lanes l = 0..3 of a per-channel operand for vector v of a flat group: channels (4v + l) mod c.
// (Also elementwise_f32's constant-row operation on narrow rows.)
@inline export function channelLanes(p: usize, v: i32, c: i32): v128 {
  let r = f32x4.splat(load<f32>(p + (<usize>((4 * v) % c) << 2)));
  r = f32x4.replace_lane(r, 1, load<f32>(p + (<usize>((4 * v + 1) % c) << 2)));
  r = f32x4.replace_lane(r, 2, load<f32>(p + (<usize>((4 * v + 2) % c) << 2)));
  return f32x4.replace_lane(r, 3, load<f32>(p + (<usize>((4 * v + 3) % c) << 2)));
}

// One channel's output transform, as every scalar loop here does it: y·scale[ch] + bias[ch]
// (+ the residual at resAt where res ≠ 0) → act. co: the channel's byte offset.
@inline function transform1(y: f32, scale: usize, bias: usize, res: usize, resAt: usize, act: i32, lo: f32, hi: f32, co: usize): f32 {
  if (scale) y = y * load<f32>(scale + co);
  if (bias) y = y + load<f32>(bias + co);
  if (res) y = y + load<f32>(resAt);
  if (act == 1) y = max(y, <f32>0);
  else if (act == 2) y = min(max(y, lo), hi);
  return y;
}

// rows: the per-row fast paths (no copy of an untransformed row; the binary quantizer decoded once)
@inline function epilogueRows(e: usize, acc0: usize, pix0: i32, n: i32, rows: bool): void {
  const c = pi(e, E_C);
  const scale = pu(e, E_SCALE);
  const bias = pu(e, E_BIAS);
  const res = pu(e, E_RES);
  const act = pi(e, E_ACT);
  const lo = pf(e, E_LO);
  const hi = pf(e, E_HI);
  const out = pu(e, E_OUT);
  const quant = pu(e, E_QUANT);
  const fout = pu(e, E_FOUT);
  // a quantized output with no transform and no float copy packs acc as it is
  const copyOnly = rows && quant && !fout && !scale && !bias && !res && act == 0;
  // the one-threshold, one-word quantizer (pack_pixel's fast case) decoded once for all n pixels
  const binary = rows && quant != 0 && pi(quant, Q_LEVELS) == 2 && pi(quant, Q_WORDS) == 1;
  const thr = binary ? pu(quant, Q_THR) : 0, flip = binary ? pu(quant, Q_FLIP) : 0, lut = binary ? pu(quant, Q_LUT) : 0;
  const planes = binary ? pi(quant, Q_PLANES) : 0, planeStride = binary ? pu(quant, Q_PLANE_STRIDE) : 0;
  for (let i = 0; i < n; i++) {
    const pix = pix0 + i, acc = acc0 + (<usize>(i * c) << 2);
    const rowRes = res + (<usize>(pix * c) << 2);
    // float output goes straight to its row; a quantized one is staged in acc for pack_pixel
    // (a per-pixel memory.copy is a call out of generated code in V8, measurably slower), or in its
    // row of fout where the float value is kept too
    const dst = quant ? (fout ? fout + (<usize>(pix * c) << 2) : acc) : out + (<usize>(pix * c) << 2);
    if (!copyOnly) {
      let ch = 0;
      if (ASC_FEATURE_SIMD) {
        // four channels at a time, lane-wise the same operations as the scalar loop below. Besides the
        // width, this avoids V8's scalar f32.max/min, which branch on the data (NaN and ±0 handling) and
        // mispredict on ReLU inputs of random sign: measured 2.2× faster on a 16-channel bconv + ReLU.
        const zero = f32x4.splat(0), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
        for (; ch + 4 <= c; ch += 4) {
          const o = <usize>ch << 2;
          let y = v128.load(acc + o);
          if (scale) y = f32x4.mul(y, v128.load(scale + o));
          if (bias) y = f32x4.add(y, v128.load(bias + o));
          if (res) y = f32x4.add(y, v128.load(rowRes + o));
          if (act == 1) y = f32x4.max(y, zero);
          else if (act == 2) y = f32x4.min(f32x4.max(y, vlo), vhi);
          v128.store(dst + o, y);
        }
      }
      for (; ch < c; ch++) {
        const o = <usize>ch << 2;
        store<f32>(dst + o, transform1(load<f32>(acc + o), scale, bias, res, rowRes + o, act, lo, hi, o));
      }
    }
    if (binary) pack_binary(dst, c, thr, flip, planes, lut, out + (<usize>pix << 3), planeStride);
    else if (quant) pack_pixel(quant, dst, c, out, pix);
  }
}
