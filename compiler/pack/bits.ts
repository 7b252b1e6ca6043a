// Compiler: the bit convention (DESIGN.md §3), the one place it is written down. The runtime
// mirrors it (runtime/assembly/kernels/epilogue.ts pack_pixel); test/runtime/kernels.test.ts checks both.
//   - A bipolar plane bit 1 means −1, bit 0 means +1. A unipolar plane bit 1 means 1, bit 0 means 0.
//   - Channels are packed little-endian into 64-bit words along the innermost (channel) axis, NHWC:
//     channel c sits in word ⌊c/64⌋, bit c mod 64. Each pixel's channel run is padded to a whole word
//     with 0 bits, which never count (0 ⊕ 0 = 0 ∧ 0 = 0).
//   - Planes are stored plane-major: [plane][pixel][word].

export const WORD_BITS = 64;

export function wordsFor(channels: number): number {
  return Math.ceil(channels / WORD_BITS);
}

/** Pack bits[plane][row][c] (0/1 bytes, rows = pixels or weight taps) into [plane][row][word] u64 bytes. */
export function packBits(bits: Uint8Array, planes: number, rows: number, channels: number): Uint8Array {
  if (bits.length !== planes * rows * channels) throw new Error(`packBits: ${bits.length} bits for ${planes}×${rows}×${channels}`);
  const words = wordsFor(channels);
  const out = new Uint8Array(planes * rows * words * 8);
  for (let p = 0; p < planes; p++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < channels; c++) {
        if (!bits[(p * rows + r) * channels + c]) continue;
        const word = (p * rows + r) * words + (c >> 6);
        const bit = c & 63;
        out[word * 8 + (bit >> 3)] |= 1 << (bit & 7);
      }
  return out;
}

/** Inverse of packBits (checks that pad bits are 0). */
export function unpackBits(bytes: Uint8Array, planes: number, rows: number, channels: number): Uint8Array {
  const words = wordsFor(channels);
  const out = new Uint8Array(planes * rows * channels);
  for (let p = 0; p < planes; p++)
    for (let r = 0; r < rows; r++)
      for (let b = 0; b < words * 64; b++) {
        const word = (p * rows + r) * words + (b >> 6);
        const bit = (bytes[word * 8 + ((b & 63) >> 3)] >> (b & 7)) & 1;
        if (b < channels) out[(p * rows + r) * channels + b] = bit;
        else if (bit) throw new Error(`unpackBits: pad bit ${b} of plane ${p} row ${r} is set`);
      }
  return out;
}

// Window-packed weights for narrow layers (runtime/assembly/kernels/bconv_window.ts): with Cin ≤ 64
// the kw taps of a kernel row share words — T = ⌊64/Cin⌋ taps per word, tap kx in word ⌊kx/T⌋ at bit
// (kx mod T)·Cin + c — so a 3×3 window of 20 channels is 3 words. Where the rows leave a word's worth
// of pad bits, the window is packed densely instead: tap t = ky·kw + kx of the raster order in word
// ⌊t/T⌋ at bit (t mod T)·Cin + c, ⌈kh·kw/T⌉ words (3×3 × 24 channels: 5 words instead of 6).
//
// The tail layout (windowTail): a 3×3 window (kh·kw = 9) of 16 or 32 channels packs taps 0–7 densely
// into 2 or 4 full words and leaves its last tap alone in a word that is three quarters or half
// empty. That tap (the tail, Cin bits) is stored apart from the full words, as one Cin-bit lane per
// output channel, so that one 128-bit SIMD popcount counts the tails of 8 (Cin 16) or 4 (Cin 32)
// channels at once: a window then costs 2¼ or 4½ words of popcount instead of 3 or 5. The SIMD build
// only: without a vector popcount a tail costs a popcount per channel like a full word, plus its own
// address, and the scalar build ran more instructions with it (MBN3x1 on the Cortex-M C engine 142 M
// per inference instead of 133 M), so every function here takes the target (`simd`).

/** The tail's width in bits (= Cin) where the window takes the tail layout (SIMD build only), else 0. */
export function windowTail(cin: number, kh: number, kw: number, simd: boolean): number {
  return simd && kh * kw === 9 && (cin === 16 || cin === 32) && windowPackable(cin, kh, kw) ? cin : 0;
}

/** Words of one window: kh·⌈kw/T⌉ row by row, or ⌈kh·kw/T⌉ (dense) where that is fewer or the tail layout applies. */
export function windowWords(cin: number, kh: number, kw: number, simd: boolean): { words: number; dense: boolean } {
  const t = Math.floor(WORD_BITS / cin), rows = kh * Math.ceil(kw / t), dense = Math.ceil((kh * kw) / t);
  return dense < rows || windowTail(cin, kh, kw, simd) ? { words: dense, dense: true } : { words: rows, dense: false };
}

/** The window strides S the runtime has an instance of the window loop for (bconv_window.ts window1, window2, …; 2 and 4 are the tail layouts). */
export const WINDOW_STRIDES = [1, 2, 3, 4, 5, 6] as const;

/** Words per (output channel, weight plane) in the window layout: the tail layout's full words (2 or 4), else the window's words rounded up to 1, 3, 5 or 6 (zero-filled). */
export function windowStride(cin: number, kh: number, kw: number, simd: boolean): number {
  const nw = windowWords(cin, kh, kw, simd).words;
  if (windowTail(cin, kh, kw, simd)) return nw - 1;
  return nw === 1 ? 1 : nw <= 3 ? 3 : nw === 5 ? 5 : 6;
}

/**
 * Whether a binary conv takes the window path: one channel word per pixel and a window of at most 6
 * words (3×3 with Cin ≤ 32, 5×5 with Cin ≤ 21, 1×1 with Cin ≤ 64, …). Wider windows (3×3 × 64
 * channels = 9 words) run faster on the general path, whose 4-output-channel tiles reuse each
 * activation word (A/B-measured, see the closing note of issue 3).
 */
export function windowPackable(cin: number, kh: number, kw: number): boolean {
  if (cin > WORD_BITS) return false;
  const t = Math.floor(WORD_BITS / cin);
  return kh * Math.ceil(kw / t) <= 6;
}

/**
 * Window-packed weights: bits [M][cout][kh][kw][cin] (0/1) → words [cout][M][windowStride]; in the
 * tail layout followed by the tails [M][cout rounded up to 8] of Cin bits each (zero-filled).
 */
export function windowPack(bits: Uint8Array, m: number, cout: number, kh: number, kw: number, cin: number, simd: boolean): Uint8Array {
  const t = Math.floor(WORD_BITS / cin), r = Math.ceil(kw / t), s = windowStride(cin, kh, kw, simd), { dense } = windowWords(cin, kh, kw, simd);
  const tail = windowTail(cin, kh, kw, simd), coutPad = (cout + 7) & ~7, tailAt = cout * m * s * 8;
  const out = new Uint8Array(windowPackBytes(cin, kh, kw, cout, m, simd));
  for (let p = 0; p < m; p++)
    for (let o = 0; o < cout; o++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          for (let c = 0; c < cin; c++) {
            if (!bits[((((p * cout + o) * kh + ky) * kw + kx) * cin) + c]) continue;
            const tap = ky * kw + kx;
            let byte: number, bit: number;
            if (tail && tap === kh * kw - 1) {
              byte = tailAt + ((p * coutPad + o) * tail) / 8 + (c >> 3);
              bit = c & 7;
            } else {
              const word = (o * m + p) * s + (dense ? Math.floor(tap / t) : ky * r + Math.floor(kx / t));
              const b = (dense ? tap % t : kx % t) * cin + c;
              byte = word * 8 + (b >> 3);
              bit = b & 7;
            }
            out[byte] |= 1 << bit;
          }
  return out;
}

/** Bytes of the window-packed weights: [cout][M][windowStride] words, then in the tail layout the tails [M][cout rounded up to 8]. */
export function windowPackBytes(cin: number, kh: number, kw: number, cout: number, m: number, simd: boolean): number {
  return cout * m * windowStride(cin, kh, kw, simd) * 8 + (m * ((cout + 7) & ~7) * windowTail(cin, kh, kw, simd)) / 8;
}

/** Activation words per plane the window path builds: the window's words (the tail layout's tail word included), rounded up as the stride is. */
export function windowActWords(cin: number, kh: number, kw: number, simd: boolean): number {
  return windowStride(cin, kh, kw, simd) + (windowTail(cin, kh, kw, simd) ? 1 : 0);
}

/**
 * Popcount words per (pixel, output channel, weight plane, activation plane) on the window path: the
 * stride, plus in the tail layout (SIMD build) the share of a 64-bit word the tail's bits fill (8 or 4
 * channels' tails in one 128-bit popcount).
 */
export function windowPopWords(cin: number, kh: number, kw: number, simd: boolean): number {
  const tail = windowTail(cin, kh, kw, simd);
  return windowStride(cin, kh, kw, simd) + (tail ? tail / WORD_BITS : 0);
}

/** Bytes of per-call scratch the window path needs (α·β table, window words, masks, per-plane sums). */
export function windowScratchBytes(cin: number, kh: number, kw: number, cout: number, m: number, k: number, simd: boolean): number {
  return cout * m * k * 4 + 8 + (k + 1) * windowActWords(cin, kh, kw, simd) * 8 + k * 8;
}

/** Thresholds [C][L−1] → [L−1][C] (the runtime's SIMD quantizer compares four channels per level). */
export function transposeThresholds(thr: Float32Array, c: number, levels: number): Float32Array {
  const nt = levels - 1, out = new Float32Array(thr.length);
  for (let ch = 0; ch < c; ch++) for (let j = 0; j < nt; j++) out[j * c + ch] = thr[ch * nt + j];
  return out;
}
