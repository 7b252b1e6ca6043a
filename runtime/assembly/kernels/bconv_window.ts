// Runtime kernel path: window-packed multi-bit binary conv for narrow layers (Cin ≤ 64, so each
// pixel's channels fit one 64-bit word). Same maths and the same float summation order as the
// general path in bconv.ts (and runtime/reference/kernels.ts), so results are identical.
//
// Why: with Cin = 16 or 32 the general layout fills a quarter or half of every channel word, so
// most popcount work counts zero pad bits. Here the kw taps of one kernel row are packed side by
// side: T = ⌊64/Cin⌋ taps per word, tap kx in word ⌊kx/T⌋ at bit (kx mod T)·Cin, R = ⌈kw/T⌉ words
// per kernel row, NW = kh·R words per window (3×3: Cin 20 → 3 words instead of 9). Where that
// leaves a word's worth of pad bits, the window is packed densely instead: the kh·kw taps in raster
// order t = ky·kw + kx, T per word, tap t in word ⌊t/T⌋ at bit (t mod T)·Cin, NW = ⌈kh·kw/T⌉ words
// (3×3: Cin 22–31 → 5 words instead of 6, one popcount in six fewer; Cin ≤ 12 → 2 or 1 words instead of
// 3, though the stride stays 3 (or 1): the words past the window are zero).
// Tail layout (SIMD build, 3×3 with Cin = 16 or 32, compiler/pack/bits.ts windowTail): taps 0–7 fill S = 2 or 4
// full words and the last tap (the tail, Cin bits) sits alone in word S. Its weights are stored apart,
// one Cin-bit lane per output channel, so one i8x16.popcnt counts the tails of 8 (Cin 16) or 4 (Cin 32)
// channels: 2¼ or 4½ words of popcount per window instead of 3 or 5.
// Weights come pre-packed by the compiler (`wpk`, [cout][M][S] words, S = NW ≤ 6 rounded up to 1, 3, 5
// or 6, zero-filled; in the tail layout S = NW − 1, then the tails [M][cout rounded up to 8]);
// activation words (SA per plane: S, plus the tail word) are built once per output pixel and plane into `scratch`.
//
// Loop order: per output pixel, output channel outermost, then plane k, then weight plane m — the
// per-channel sum stays in a register and sees the terms in the reference order (k outer, m inner,
// then the c_w term of plane k). α_om·β_k is tabulated once per call (the reference also rounds the
// product to float32 before multiplying by the integer dot).
// Taps outside the image: activation words hold 0 there; bipolar (XOR) counts are masked with the
// valid-tap bits of each word (`mk`), unipolar (AND) counts need no mask.
// Integer path (window<S>i, `ithr` ≠ 0; compiler/quant/int_threshold.ts): an XNOR layer (M = K = 1)
// whose output is only the next layer's bits compares d = n − 2·popcount with per-channel integer
// thresholds and packs the bits itself: no α·β sums, no acc row, no epilogue.
import { epilogueOut, epilogue_rows } from "./epilogue";

@inline function lowBits(n: i32): u64 {
  return n >= 64 ? <u64>-1 : (<u64>1 << <u64>n) - 1;
}

// Words of one window: kh·⌈kw/T⌉ row by row, or ⌈kh·kw/T⌉ densely packed where that is fewer.
@inline function windowWords(cin: i32, kh: i32, kw: i32): i32 {
  const t = 64 / cin;
  return min(kh * ((kw + t - 1) / t), (kh * kw + t - 1) / t);
}

// Whether the window takes the tail layout (compiler/pack/bits.ts windowTail; the window path's caller
// checked windowPackable). SIMD build only: the scalar build packs these windows densely as before.
@inline function windowTail(cin: i32, kh: i32, kw: i32): bool {
  return ASC_FEATURE_SIMD && kh * kw == 9 && (cin == 16 || cin == 32);
}

/** Words per (output channel, weight plane) in the window-packed layout: the tail layout's full words (2 or 4), else the window's words (≤ 6) rounded up to 1, 3, 5 or 6 (compiler/pack/bits.ts windowStride). */
export function windowStride(cin: i32, kh: i32, kw: i32): i32 {
  const nw = windowWords(cin, kh, kw);
  if (windowTail(cin, kh, kw)) return nw - 1;
  return nw == 1 ? 1 : nw <= 3 ? 3 : nw == 5 ? 5 : 6;
}

// The tail layout's strides: S = 2 (Cin 16, 16-bit tails) and S = 4 (Cin 32, 32-bit tails).
@inline function hasTail(S: i32): bool {
  return S == 2 || S == 4;
}

// Activation words per plane: S, plus the tail word in the tail layout.
@inline function actWords(S: i32): i32 {
  return hasTail(S) ? S + 1 : S;
}

// Bit counts of the tails of 8 (S = 2: i16x8 lanes) channels, or with tail32 of 4 (S = 4: i32x4 lanes):
// the activation's tail `at` (splat to every lane) against the weights' tails `w`, masked at borders.
@inline function tail16(at: v128, mt: v128, w: v128, xor: bool, masked: bool): v128 {
  let d = xor ? v128.xor(at, w) : v128.and(at, w);
  if (masked) d = v128.and(d, mt);
  return i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(d));
}
@inline function tail32(at: v128, mt: v128, w: v128, xor: bool, masked: bool): v128 {
  return i32x4.extadd_pairwise_i16x8_u(tail16(at, mt, w, xor, masked));
}

// Bit count of one channel's tail (the scalar form): lanes of 16 (S = 2) or 32 (S = 4) bits.
@inline function tailPop(S: i32, at: u64, mt: u64, tq: usize, xor: bool, masked: bool): i32 {
  const w: u64 = S == 2 ? <u64>load<u16>(tq) : <u64>load<u32>(tq);
  const d = xor ? at ^ w : at & w;
  return <i32>popcnt<u64>(masked ? d & mt : d);
}

// The activation tail of plane word run a (word S), as a scalar and splat into lanes.
@inline function actTail(S: i32, a: usize): u64 {
  return S == 2 ? <u64>load<u16>(a, 16) : S == 4 ? <u64>load<u32>(a, 32) : 0;
}
@inline function splatTail(S: i32, t: u64): v128 {
  return S == 2 ? i16x8.splat(<i16>t) : i32x4.splat(<i32>t);
}

// Two or three consecutive taps (pixel words at p, p + 8, p + 16) side by side in one word, tap t at bit t·Cin.
@inline function packTaps(p: usize, c1: u64, c2: u64, n: i32): u64 {
  const w = load<u64>(p) | (load<u64>(p, 8) << c1);
  return n == 3 ? w | (load<u64>(p, 16) << c2) : w;
}

// Bit count of three window words against weights at w: XOR (bipolar) or AND (unipolar). Only border
// windows need the valid-tap masks: in a full window the bits outside the taps are pad bits, 0 in
// both operands, so they never count.
@inline function pop3(a0: u64, a1: u64, a2: u64, m0: u64, m1: u64, m2: u64, w: usize, xor: bool, masked: bool): i32 {
  if (xor && !masked) return <i32>(popcnt<u64>(a0 ^ load<u64>(w)) + popcnt<u64>(a1 ^ load<u64>(w, 8)) + popcnt<u64>(a2 ^ load<u64>(w, 16)));
  if (xor) return <i32>(popcnt<u64>((a0 ^ load<u64>(w)) & m0) + popcnt<u64>((a1 ^ load<u64>(w, 8)) & m1) + popcnt<u64>((a2 ^ load<u64>(w, 16)) & m2));
  return <i32>(popcnt<u64>(a0 & load<u64>(w)) + popcnt<u64>(a1 & load<u64>(w, 8)) + popcnt<u64>(a2 & load<u64>(w, 16)));
}

// Bit count of two window words against weights at w (a 2-word run, or words 3 and 4 of a 5-word window).
@inline function pop2(a0: u64, a1: u64, m0: u64, m1: u64, w: usize, xor: bool, masked: bool): i32 {
  if (xor && !masked) return <i32>(popcnt<u64>(a0 ^ load<u64>(w)) + popcnt<u64>(a1 ^ load<u64>(w, 8)));
  if (xor) return <i32>(popcnt<u64>((a0 ^ load<u64>(w)) & m0) + popcnt<u64>((a1 ^ load<u64>(w, 8)) & m1));
  return <i32>(popcnt<u64>(a0 & load<u64>(w)) + popcnt<u64>(a1 & load<u64>(w, 8)));
}

// Bit count of the window's full words (S = 1–6 words a0..; the tail layout's tail apart) against one channel-plane's weights at w.
@inline function popWindow(
  S: i32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64,
  m0: u64, m1: u64, m2: u64, m3: u64, m4: u64, m5: u64, w: usize, xor: bool, masked: bool,
): i32 {
  if (S == 1) {
    const d = xor ? a0 ^ load<u64>(w) : a0 & load<u64>(w);
    return <i32>popcnt<u64>(masked ? d & m0 : d);
  }
  if (S == 2) return pop2(a0, a1, m0, m1, w, xor, masked);
  if (S == 4) return pop2(a0, a1, m0, m1, w, xor, masked) + pop2(a2, a3, m2, m3, w + 16, xor, masked);
  const p = pop3(a0, a1, a2, m0, m1, m2, w, xor, masked);
  if (S == 5) return p + pop2(a3, a4, m3, m4, w + 24, xor, masked);
  return S == 6 ? p + pop3(a3, a4, a5, m3, m4, m5, w + 24, xor, masked) : p;
}

// Σ of output channel o's per-tap weight sums over the valid taps (the c_a term), in reference order.
@inline function tapSum(wtap: usize, o: i32, kh: i32, kw: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32): f32 {
  let sw: f32 = 0;
  const t = wtap + (<usize>(o * kh * kw) << 2);
  for (let ky = ky0; ky < ky1; ky++)
    for (let kx = kx0; kx < kx1; kx++) sw += load<f32>(t + (<usize>(ky * kw + kx) << 2));
  return sw;
}

// Bit counts of four output channels (weights at w, w + wo, w + 2·wo, w + 3·wo) as i32x4 lanes.
@inline function pop4(
  S: i32, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64,
  m0: u64, m1: u64, m2: u64, m3: u64, m4: u64, m5: u64, w: usize, wo: usize, xor: bool, masked: bool,
): v128 {
  let pv = i32x4.splat(popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w, xor, masked));
  pv = i32x4.replace_lane(pv, 1, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + wo, xor, masked));
  pv = i32x4.replace_lane(pv, 2, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + 2 * wo, xor, masked));
  return i32x4.replace_lane(pv, 3, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + 3 * wo, xor, masked));
}

// acc[o..o+n) += c_a·(per-tap weight sums over the valid taps), the last term in reference order.
@inline function addTapTerms(acc: usize, o: i32, n: i32, ca: f32, wtap: usize, kh: i32, kw: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32): void {
  for (let i = 0; i < n; i++) {
    const q = acc + (<usize>(o + i) << 2);
    store<f32>(q, load<f32>(q) + ca * tapSum(wtap, o + i, kh, kw, ky0, ky1, kx0, kx1));
  }
}

// The output channels of one pixel: Σ over planes k (outer) and weight planes m (inner) of
// α_om·β_k·(base_k − 2·popcount), then the c_w and c_a terms, into acc[0..cout). In the tail layout
// each popcount is the full words' (scalar) plus the tail's (8 or 4 channels per vector), counted
// here beside the full words: counting all of a pixel's tails first into a table that these loops
// read was slower (results/ab-tail-v2-vs-v1.json: 1.006×, 1.015×, 1.015× on MBN3x1, MBN1x1, MBN3x3).
@inline function channels(
  S: i32, masked: bool, K: i32, M: i32, cout: i32, aw: usize, mk: usize, hk: usize, sk: usize, ab: usize, wpk: usize, wo: usize, ws: usize,
  cw: usize, ca: f32, wtap: usize, acc: usize, kh: i32, kw: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, xor: bool,
): void {
  const SA = actWords(S), tail = hasTail(S);
  const m0 = masked ? load<u64>(mk) : 0, m1 = masked && S >= 2 ? load<u64>(mk, 8) : 0, m2 = masked && S >= 3 ? load<u64>(mk, 16) : 0;
  const m3 = masked && S >= 4 ? load<u64>(mk, 24) : 0, m4 = masked && S >= 5 ? load<u64>(mk, 32) : 0, m5 = masked && S == 6 ? load<u64>(mk, 40) : 0;
  // tail layout: the tails [M][coutPad] after the full words, lanes of lb bytes; the border mask of the tail word
  const lb = S == 2 ? 2 : 4, coutPad = (cout + 7) & ~7, tw = wpk + <usize>cout * wo;
  const mts: u64 = masked && tail ? actTail(S, mk) : 0;
  let o = 0;
  if (ASC_FEATURE_SIMD) {
    const mt = tail ? splatTail(S, mts) : i32x4.splat(0);
    // four output channels at a time: scalar popcounts, the float part in f32x4 lanes (each lane
    // does exactly the scalar operations, so SIMD and scalar builds agree bit for bit)
    if (S <= 3 || !masked)
      // eight channels per step where registers allow: twice the independent work per loaded window
      for (; o + 8 <= cout; o += 8) {
        let sumA = f32x4.splat(0), sumB = f32x4.splat(0);
        const wb = wpk + <usize>o * wo;
        for (let k = 0; k < K; k++) {
          const a = aw + (<usize>(k * SA) << 3);
          const a0 = load<u64>(a), a1 = S >= 2 ? load<u64>(a, 8) : 0, a2 = S >= 3 ? load<u64>(a, 16) : 0;
          const a3 = S >= 4 ? load<u64>(a, 24) : 0, a4 = S >= 5 ? load<u64>(a, 32) : 0, a5 = S == 6 ? load<u64>(a, 40) : 0;
          const at = tail ? splatTail(S, actTail(S, a)) : i32x4.splat(0);
          const base = i32x4.splat(load<i32>(hk + (<usize>k << 2)));
          for (let m = 0; m < M; m++) {
            const w = wb + <usize>m * ws, t = ab + (<usize>((k * M + m) * cout + o) << 2);
            let pa = pop4(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w, wo, xor, masked);
            let pb = pop4(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + 4 * wo, wo, xor, masked);
            if (tail) {
              const tq = tw + <usize>((m * coutPad + o) * lb);
              if (S == 2) {
                const tv = tail16(at, mt, v128.load(tq), xor, masked);
                pa = i32x4.add(pa, i32x4.extend_low_i16x8_u(tv));
                pb = i32x4.add(pb, i32x4.extend_high_i16x8_u(tv));
              } else {
                pa = i32x4.add(pa, tail32(at, mt, v128.load(tq), xor, masked));
                pb = i32x4.add(pb, tail32(at, mt, v128.load(tq, 16), xor, masked));
              }
            }
            sumA = f32x4.add(sumA, f32x4.mul(v128.load(t), f32x4.convert_i32x4_s(i32x4.sub(base, i32x4.shl(pa, 1)))));
            sumB = f32x4.add(sumB, f32x4.mul(v128.load(t, 16), f32x4.convert_i32x4_s(i32x4.sub(base, i32x4.shl(pb, 1)))));
          }
          if (cw) {
            const sv = f32x4.splat(load<f32>(sk + (<usize>k << 2)));
            sumA = f32x4.add(sumA, f32x4.mul(v128.load(cw + (<usize>o << 2)), sv));
            sumB = f32x4.add(sumB, f32x4.mul(v128.load(cw + (<usize>o << 2), 16), sv));
          }
        }
        v128.store(acc + (<usize>o << 2), sumA);
        v128.store(acc + (<usize>o << 2), sumB, 16);
        if (ca != 0) addTapTerms(acc, o, 8, ca, wtap, kh, kw, ky0, ky1, kx0, kx1);
      }
    for (; o + 4 <= cout; o += 4) {
      let sum = f32x4.splat(0);
      const wb = wpk + <usize>o * wo;
      for (let k = 0; k < K; k++) {
        const a = aw + (<usize>(k * SA) << 3);
        const a0 = load<u64>(a), a1 = S >= 2 ? load<u64>(a, 8) : 0, a2 = S >= 3 ? load<u64>(a, 16) : 0;
        const a3 = S >= 4 ? load<u64>(a, 24) : 0, a4 = S >= 5 ? load<u64>(a, 32) : 0, a5 = S == 6 ? load<u64>(a, 40) : 0;
        const at = tail ? splatTail(S, actTail(S, a)) : i32x4.splat(0);
        const base = i32x4.splat(load<i32>(hk + (<usize>k << 2)));
        for (let m = 0; m < M; m++) {
          let pv = pop4(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, wb + <usize>m * ws, wo, xor, masked);
          if (tail) {
            const tq = tw + <usize>((m * coutPad + o) * lb);
            pv = i32x4.add(pv, S == 2 ? i32x4.extend_low_i16x8_u(tail16(at, mt, v128.load64_zero(tq), xor, masked)) : tail32(at, mt, v128.load(tq), xor, masked));
          }
          const dot = f32x4.convert_i32x4_s(i32x4.sub(base, i32x4.shl(pv, 1)));
          sum = f32x4.add(sum, f32x4.mul(v128.load(ab + (<usize>((k * M + m) * cout + o) << 2)), dot));
        }
        if (cw) sum = f32x4.add(sum, f32x4.mul(v128.load(cw + (<usize>o << 2)), f32x4.splat(load<f32>(sk + (<usize>k << 2)))));
      }
      v128.store(acc + (<usize>o << 2), sum);
      if (ca != 0) addTapTerms(acc, o, 4, ca, wtap, kh, kw, ky0, ky1, kx0, kx1);
    }
  }
  for (; o < cout; o++) {
    let sum: f32 = 0;
    const wb = wpk + <usize>o * wo;
    for (let k = 0; k < K; k++) {
      const a = aw + (<usize>(k * SA) << 3);
      const a0 = load<u64>(a), a1 = S >= 2 ? load<u64>(a, 8) : 0, a2 = S >= 3 ? load<u64>(a, 16) : 0;
      const a3 = S >= 4 ? load<u64>(a, 24) : 0, a4 = S >= 5 ? load<u64>(a, 32) : 0, a5 = S == 6 ? load<u64>(a, 40) : 0;
      const at = tail ? actTail(S, a) : 0;
      const base = load<i32>(hk + (<usize>k << 2));
      for (let m = 0; m < M; m++) {
        let p = popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, wb + <usize>m * ws, xor, masked);
        if (tail) p += tailPop(S, at, mts, tw + <usize>((m * coutPad + o) * lb), xor, masked);
        sum += load<f32>(ab + (<usize>((k * M + m) * cout + o) << 2)) * <f32>(base - 2 * p);
      }
      if (cw) sum += load<f32>(cw + (<usize>o << 2)) * load<f32>(sk + (<usize>k << 2));
    }
    if (ca != 0) sum += ca * tapSum(wtap, o, kh, kw, ky0, ky1, kx0, kx1);
    store<f32>(acc + (<usize>o << 2), sum);
  }
}

// The integer path (compiler/quant/int_threshold.ts): M = K = 1, bipolar, no c_w/c_a, and the output is
// only the next layer's one-bit plane (≤ 64 channels, one word per pixel). Bit o of the word is
// (σ_o·d ≥ T_o) with d = n − 2·popcount, thresholds [T][cout] then signs [σ][cout] (i32) at ithr:
// the same bits the float sums and the epilogue's pack would give, with neither.
@inline function thresholdBits(S: i32, masked: bool, cout: i32, aw: usize, mk: usize, n: i32, wpk: usize, wo: usize, ithr: usize, cnt: usize): u64 {
  const m0 = masked ? load<u64>(mk) : 0, m1 = masked && S >= 2 ? load<u64>(mk, 8) : 0, m2 = masked && S >= 3 ? load<u64>(mk, 16) : 0;
  const m3 = masked && S >= 4 ? load<u64>(mk, 24) : 0, m4 = masked && S >= 5 ? load<u64>(mk, 32) : 0, m5 = masked && S == 6 ? load<u64>(mk, 40) : 0;
  const a0 = load<u64>(aw), a1 = S >= 2 ? load<u64>(aw, 8) : 0, a2 = S >= 3 ? load<u64>(aw, 16) : 0;
  const a3 = S >= 4 ? load<u64>(aw, 24) : 0, a4 = S >= 5 ? load<u64>(aw, 32) : 0, a5 = S == 6 ? load<u64>(aw, 40) : 0;
  // tail layout (M = 1): the tails [coutPad] after the full words, lanes of lb bytes
  const tail = hasTail(S), lb = S == 2 ? 2 : 4, tw = wpk + <usize>cout * wo;
  const at: u64 = tail ? actTail(S, aw) : 0, mts: u64 = masked && tail ? actTail(S, mk) : 0;
  const sg = ithr + (<usize>cout << 2);
  let bits: u64 = 0;
  let o = 0;
  if (ASC_FEATURE_SIMD) {
    const base = i32x4.splat(n);
    // Two passes: the counts of all channels first, stored at cnt (the α·β table's place, unused on
    // this path), then the comparisons four channels at a time. Each store orders the next channel's
    // weight loads after it, so the engine keeps one channel's words live instead of hoisting four
    // channels' loads and spilling the window words; and the vector loads of the counts come after
    // all channels' stores. 0.96× model time on MBN1x1 (results/ab-int-counts.json). In scratch A/B
    // runs whose records were not kept, each group of four counts stored and reloaded at once was
    // slower (1.09×), and the same two passes on the float path were slower too (1.06× on MBN3x1, MBN3x3).
    for (; o + 4 <= cout; o += 4) {
      const w = wpk + <usize>o * wo, c = cnt + (<usize>o << 2);
      store<i32>(c, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w, true, masked));
      store<i32>(c, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + wo, true, masked), 4);
      store<i32>(c, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + 2 * wo, true, masked), 8);
      store<i32>(c, popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, w + 3 * wo, true, masked), 12);
    }
    const atv = tail ? splatTail(S, at) : i32x4.splat(0), mt = tail ? splatTail(S, mts) : i32x4.splat(0);
    let q = 0;
    if (S == 2)
      // 16-bit tails: one vector popcount counts the tails of eight channels (0.986× / 0.976× model
      // time on the CIFAR / FMNIST MBN1x1 against four at a time, results/ab-int-tails8.json). Dropped:
      // tails first, then a scalar compare per channel (1.10×, results/ab-int-scalar-compare.json)
      for (; q + 8 <= cout; q += 8) {
        const tv = tail16(atv, mt, v128.load(tw + <usize>(q * lb)), true, masked);
        const ca = i32x4.add(v128.load(cnt + (<usize>q << 2)), i32x4.extend_low_i16x8_u(tv));
        const cb = i32x4.add(v128.load(cnt + (<usize>q << 2), 16), i32x4.extend_high_i16x8_u(tv));
        const da = i32x4.sub(base, i32x4.shl(ca, 1)), db = i32x4.sub(base, i32x4.shl(cb, 1));
        const onA = i32x4.ge_s(i32x4.mul(da, v128.load(sg + (<usize>q << 2))), v128.load(ithr + (<usize>q << 2)));
        const onB = i32x4.ge_s(i32x4.mul(db, v128.load(sg + (<usize>q << 2), 16)), v128.load(ithr + (<usize>q << 2), 16));
        bits |= <u64>(i32x4.bitmask(onA) | (i32x4.bitmask(onB) << 4)) << <u64>q;
      }
    for (; q + 4 <= cout; q += 4) {
      let c = v128.load(cnt + (<usize>q << 2));
      if (tail) {
        const tq = tw + <usize>(q * lb);
        c = i32x4.add(c, S == 2 ? i32x4.extend_low_i16x8_u(tail16(atv, mt, v128.load64_zero(tq), true, masked)) : tail32(atv, mt, v128.load(tq), true, masked));
      }
      const d = i32x4.sub(base, i32x4.shl(c, 1));
      const on = i32x4.ge_s(i32x4.mul(d, v128.load(sg + (<usize>q << 2))), v128.load(ithr + (<usize>q << 2)));
      bits |= <u64>i32x4.bitmask(on) << <u64>q;
    }
  }
  for (; o < cout; o++) {
    let p = popWindow(S, a0, a1, a2, a3, a4, a5, m0, m1, m2, m3, m4, m5, wpk + <usize>o * wo, true, masked);
    if (tail) p += tailPop(S, at, mts, tw + <usize>(o * lb), true, masked);
    const d = n - 2 * p;
    if (load<i32>(sg + (<usize>o << 2)) * d >= load<i32>(ithr + (<usize>o << 2))) bits |= <u64>1 << <u64>o;
  }
  return bits;
}

export function bconv_window(
  x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize,
  cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize,
): void {
  const S = windowStride(cin, kh, kw);
  if (ithr) {
    if (S == 1) window1i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 2) window2i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 4) window4i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 3) window3i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 5) window5i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else window6i(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
  } else if (unipolar) {
    if (S == 1) window1u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 2) window2u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 4) window4u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 3) window3u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 5) window5u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else window6u(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
  } else {
    if (S == 1) window1(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 2) window2(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 4) window4(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 3) window3(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else if (S == 5) window5(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
    else window6(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr);
  }
}

// One function per window stride S (chosen once per call): each holds only its own two instances
// of the channel loop, so the engine allocates registers for a small function. window<S> counts
// bipolar activations (XOR), window<S>u unipolar ones (AND); window<S>i: the same pixel loop with the
// integer path instead of the channel loops and the epilogue. Each is a gate of its own in the
// bundle: a plan without such a layer leaves it out.
function window1(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(1, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window2(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(2, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window3(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(3, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window4(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(4, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window5(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(5, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window6(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(6, false, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window1u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(1, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window2u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(2, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window3u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(3, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window4u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(4, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window5u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(5, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window6u(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(6, false, true, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window1i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(1, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window2i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(2, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window3i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(3, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window4i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(4, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window5i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(5, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }
function window6i(x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize): void { windowLoop(6, true, false, x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, acc, e, wpk, scratch, ithr); }

// A border pixel's dense window (windowLoop): the valid taps one by one into the activation words
// aw [K][SA], each with its mask bits in bm [SA]. Tap t = ky·kw + kx sits in word j = ⌊t/T⌋ at bit
// r·Cin, r = t mod T: one division per kernel row, then j and r are carried along (with two divisions
// per tap this packing was ~9 % of window2's samples, scripts/perf_profile.sh). One function for every window-loop
// instance, a call per border pixel instead of a copy in each instance: the simd runtime 4.5 KB
// smaller, 0.98–1.00× model time (results/ab-border-no-div.json: 3×3×32 steps 0.98×, 3×3×16 steps
// 0.98–1.04×).
function packBorderDense(
  x: usize, W: i32, cin: i32, K: i32, xPlane: usize, kw: i32, T: i32, NW: i32, SA: i32,
  iy0: i32, ix0: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, aw: usize, bm: usize,
): void {
  for (let j = 0; j < NW; j++) {
    store<u64>(bm + (<usize>j << 3), 0);
    for (let k = 0; k < K; k++) store<u64>(aw + (<usize>(k * SA + j) << 3), 0);
  }
  const cm = lowBits(cin);
  for (let ky = ky0; ky < ky1; ky++) {
    const t0 = ky * kw + kx0;
    let j = t0 / T, r = t0 - j * T;
    for (let kx = kx0; kx < kx1; kx++) {
      const sh = <u64>(r * cin);
      store<u64>(bm + (<usize>j << 3), load<u64>(bm + (<usize>j << 3)) | (cm << sh));
      for (let k = 0; k < K; k++) {
        const q = aw + (<usize>(k * SA + j) << 3);
        store<u64>(q, load<u64>(q) | (load<u64>(x + <usize>k * xPlane + (<usize>((iy0 + ky) * W + ix0 + kx) << 3)) << sh));
      }
      if (++r == T) { r = 0; j++; }
    }
  }
}

// The pixel loop of one window stride S (a constant in each instance).
@inline function windowLoop(
  S: i32, intPath: bool, uni: bool, x: usize, H: i32, W: i32, cin: i32, K: i32, xPlane: usize, M: i32, cout: i32, kh: i32, kw: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, unipolar: bool, alpha: usize, beta: usize,
  cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize, scratch: usize, ithr: usize,
): void {
  const T = 64 / cin, R = (kw + T - 1) / T, NW = windowWords(cin, kh, kw), dense = hasTail(S) || NW < kh * R;
  const SA = actWords(S); // activation words per plane (the tail layout's tail word included)
  // scratch: ab [K][M][cout] f32 (α_om·β_k) | aw [K][SA] u64 | bm [SA] u64 (border masks; interior
  // pixels need none) | sk [K] f32 (β_k·Σh, for c_w) | hk [K] i32
  const ab = scratch;
  const aw = (ab + (<usize>(cout * M * K) << 2) + 7) & ~<usize>7;
  const bm = aw + (<usize>(K * SA) << 3);
  const sk = bm + (<usize>SA << 3);
  const hk = sk + (<usize>K << 2);
  if (!intPath) // (the integer path has no float sums)
    for (let k = 0; k < K; k++)
      for (let m = 0; m < M; m++)
        for (let o = 0; o < cout; o++)
          store<f32>(ab + (<usize>((k * M + m) * cout + o) << 2), load<f32>(alpha + (<usize>(o * M + m) << 2)) * load<f32>(beta + (<usize>k << 2)));
  memory.fill(aw, 0, <usize>((K + 1) * SA) << 3); // words NW..SA stay 0 (and masked off)
  const rowBytes = <usize>W << 3;
  // XOR (bipolar) or AND (unipolar) is a constant of each instance (window<S> / window<S>u), so no
  // popcount branches on it (0.90–0.96× the time of the binary conv steps, 0.81–0.92× the 1×1
  // shortcuts: results/ab-xor-const-steps.json, ab-xor-const-rerun.json). Except in the channel loop
  // of S = 4 (3×3×32 windows), which ran 1.06× the time with the constant (scratch A/B, record not
  // kept): V8 loads a block's weight words in program order but schedules the pure xor/popcount
  // late, so without the branches that split the block all eight channels' words are loaded first
  // and spilled. There the runtime flag (the same value as the constant, but opaque to the engine)
  // keeps those branches.
  const xor = !uni, xorLoop = S == 4 ? !unipolar : xor;
  const out = intPath ? epilogueOut(e) : 0; // the integer path packs its bits there itself
  const wo = <usize>(M * S) << 3; // bytes per output channel
  const ws = <usize>S << 3; // bytes per weight plane of one output channel
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const n = (ky1 - ky0) * (kx1 - kx0) * cin;
      const full = ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
      const masked = xor && !full;
      const pacc = acc + (<usize>(ox * cout) << 2); // this pixel's row of acc
      if (full) {
        // interior pixel (most of them): every tap valid, no masks
        if (!dense && kh == 3 && kw == 3 && R == 1) {
          // 3×3 with the three taps of a row in one word (Cin ≤ 21): straight-line rows
          const c1 = <u64>cin, c2 = <u64>(2 * cin);
          for (let k = 0; k < K; k++) {
            const row = x + <usize>k * xPlane + (<usize>(iy0 * W + ix0) << 3), a = aw + (<usize>(k * SA) << 3);
            store<u64>(a, packTaps(row, c1, c2, 3));
            store<u64>(a, packTaps(row + rowBytes, c1, c2, 3), 8);
            store<u64>(a, packTaps(row + 2 * rowBytes, c1, c2, 3), 16);
          }
        } else if (dense && kh == 3 && kw == 3 && T == 4) {
          // 3×3 × 16 channels, tail layout: taps (0–3) (4–7) (8) of the raster order in three words
          const c1 = <u64>cin, c2 = <u64>(2 * cin), c3 = <u64>(3 * cin);
          for (let k = 0; k < K; k++) {
            const r0 = x + <usize>k * xPlane + (<usize>(iy0 * W + ix0) << 3), r1 = r0 + rowBytes, r2 = r1 + rowBytes, a = aw + (<usize>(k * SA) << 3);
            store<u64>(a, packTaps(r0, c1, c2, 3) | (load<u64>(r1) << c3));
            store<u64>(a, load<u64>(r1, 8) | (load<u64>(r1, 16) << c1) | (load<u64>(r2) << c2) | (load<u64>(r2, 8) << c3), 8);
            store<u64>(a, load<u64>(r2, 16), 16);
          }
        } else if (dense && kh == 3 && kw == 3 && T == 2) {
          // 3×3 with 22 ≤ Cin ≤ 32, dense: taps (0,1) (2,3) (4,5) (6,7) (8) of the raster order in five words
          const c1 = <u64>cin;
          for (let k = 0; k < K; k++) {
            const r0 = x + <usize>k * xPlane + (<usize>(iy0 * W + ix0) << 3), r1 = r0 + rowBytes, r2 = r1 + rowBytes, a = aw + (<usize>(k * SA) << 3);
            store<u64>(a, packTaps(r0, c1, 0, 2));
            store<u64>(a, load<u64>(r0, 16) | (load<u64>(r1) << c1), 8);
            store<u64>(a, load<u64>(r1, 8) | (load<u64>(r1, 16) << c1), 16);
            store<u64>(a, packTaps(r2, c1, 0, 2), 24);
            store<u64>(a, load<u64>(r2, 16), 32);
          }
        } else if (dense) {
          // any other dense window: tap by tap
          for (let k = 0; k < K; k++) {
            const xk = x + <usize>k * xPlane + (<usize>(iy0 * W + ix0) << 3), a = aw + (<usize>(k * SA) << 3);
            for (let j = 0; j < NW; j++) store<u64>(a + (<usize>j << 3), 0);
            for (let t = 0; t < kh * kw; t++) {
              const q = a + (<usize>(t / T) << 3), ky = t / kw, kx = t - ky * kw;
              store<u64>(q, load<u64>(q) | (load<u64>(xk + (<usize>(ky * W + kx) << 3)) << <u64>((t % T) * cin)));
            }
          }
        } else {
          // any other window: loops over rows, words and taps
          for (let k = 0; k < K; k++) {
            const xk = x + <usize>k * xPlane + (<usize>(iy0 * W + ix0) << 3);
            for (let r = 0; r < kh; r++) {
              const row = xk + <usize>r * rowBytes;
              for (let q = 0; q < R; q++) {
                let word: u64 = 0;
                const tn = min(T, kw - q * T);
                for (let t = 0; t < tn; t++) word |= load<u64>(row + (<usize>(q * T + t) << 3)) << <u64>(t * cin);
                store<u64>(aw + (<usize>(k * SA + r * R + q) << 3), word);
              }
            }
          }
        }
      } else if (dense) {
        packBorderDense(x, W, cin, K, xPlane, kw, T, NW, SA, iy0, ix0, ky0, ky1, kx0, kx1, aw, bm);
      } else {
        // border pixel: clip the window, mask off the taps outside the image
        for (let r = 0; r < kh; r++) {
          const rowOk = r >= ky0 && r < ky1;
          for (let q = 0; q < R; q++) {
            const lo = max(kx0 - q * T, 0), hi = min(kx1 - q * T, T);
            const j = r * R + q;
            store<u64>(bm + (<usize>j << 3), rowOk && hi > lo ? lowBits(hi * cin) ^ lowBits(lo * cin) : 0);
            for (let k = 0; k < K; k++) {
              let word: u64 = 0;
              if (rowOk) {
                const row = x + <usize>k * xPlane + (<usize>((iy0 + r) * W + ix0 + q * T) << 3);
                for (let t = lo; t < hi; t++) word |= load<u64>(row + (<usize>t << 3)) << <u64>(t * cin);
              }
              store<u64>(aw + (<usize>(k * SA + j) << 3), word);
            }
          }
        }
      }
      // the planes' own bit counts: needed for unipolar bases and for the c_w term only
      if (intPath) {
        // (no planes' counts: the integer path needs only n)
      } else if (uni || cw)
        for (let k = 0; k < K; k++) {
          let hp: u64 = 0;
          const a = aw + (<usize>(k * SA) << 3);
          for (let j = 0; j < NW; j++) hp += popcnt<u64>(load<u64>(a + (<usize>j << 3)));
          store<i32>(hk + (<usize>k << 2), uni ? <i32>hp : n);
          store<f32>(sk + (<usize>k << 2), load<f32>(beta + (<usize>k << 2)) * <f32>(uni ? <i32>hp : n - 2 * <i32>hp));
        }
      else for (let k = 0; k < K; k++) store<i32>(hk + (<usize>k << 2), n);
      // one instance of the channel loop per border/interior in each window-loop instance, so that
      // each loads only its own words and interior pixels never touch the masks (fewer loads and
      // live registers; S and masked are constants after inlining — S is passed on rather than
      // dispatched on here: a branch per S would inline every S's channel loop into every instance
      // before the optimizer folds them, and with six strides the build did not finish in 15 minutes)
      if (intPath) {
        // M = K = 1, output = the next layer's bits only: integer thresholds, no float work
        const bits = masked ? thresholdBits(S, true, cout, aw, bm, n, wpk, wo, ithr, ab) : thresholdBits(S, false, cout, aw, bm, n, wpk, wo, ithr, ab);
        store<u64>(out + (<usize>(oy * OW + ox) << 3), bits);
      } else if (masked) channels(S, true, K, M, cout, aw, bm, hk, sk, ab, wpk, wo, ws, cw, ca, wtap, pacc, kh, kw, ky0, ky1, kx0, kx1, xorLoop);
      else channels(S, false, K, M, cout, aw, bm, hk, sk, ab, wpk, wo, ws, cw, ca, wtap, pacc, kh, kw, ky0, ky1, kx0, kx1, xorLoop);
    }
    if (!intPath) epilogue_rows(e, acc, oy * OW, OW);
  }
}
