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

/** Whether a binary conv qualifies for the runtime's tap-packed path (see bconv.ts). */
export function tapPackable(cin: number, kh: number, kw: number): boolean {
  return cin <= 64 && cin * kw <= 64 && kh <= 3;
}

/**
 * Tap-packed weights for narrow layers: bits [M][cout][kh][kw][cin] (0/1) → one 64-bit word per
 * (plane, output channel, kernel row) with tap kx's channel c at bit kx·cin + c; plus 16 bytes of
 * padding for the kernel's fixed three-row loads.
 */
export function tapPack(bits: Uint8Array, m: number, cout: number, kh: number, kw: number, cin: number): Uint8Array {
  const out = new Uint8Array(m * cout * kh * 8 + 16);
  for (let p = 0; p < m; p++)
    for (let o = 0; o < cout; o++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          for (let c = 0; c < cin; c++) {
            if (!bits[((((p * cout + o) * kh + ky) * kw + kx) * cin) + c]) continue;
            const bit = kx * cin + c, at = ((p * cout + o) * kh + ky) * 8;
            out[at + (bit >> 3)] |= 1 << (bit & 7);
          }
  return out;
}
