// Compiler: integer thresholds for a binary conv whose only output transform is the next layer's
// one-bit quantizer (an XNOR-Net / BinaryNet layer once BatchNorm is folded into the thresholds).
//
// Derivation. With one weight plane (M = 1) and one bipolar activation plane (K = 1), no c_w and
// c_a = 0, output channel o of a pixel is (bconv.ts, in the runtime's float order)
//   acc_o = 0 + ab_o · d,   ab_o = fl(α_o·β),   d = n − 2·popcount ∈ [−N, N] an integer,
// N = kh·kw·Cin (n ≤ N at border pixels). The epilogue then packs bit_o = lut[ (±acc_o) ≥ thr_o ]
// (epilogue.ts pack_binary; − where the channel is flipped). Float rounding is monotone, so acc_o is a
// monotone function of d and bit_o a step function of d: bit_o = (σ_o·d ≥ T_o) for a sign σ_o = ±1
// and an integer T_o. We find σ_o and T_o by evaluating the exact float expression at every d in
// [−N, N] (Math.fround at each rounding, as the kernel rounds) — no algebra on the thresholds, so
// ties, −0, flips and inverted LUTs come out exactly as the float path computes them. The kernel then
// packs bits straight from the popcounts: no float work, no acc row, no epilogue pass.

/** The layer shape the integer path covers (the compiler falls back to the float path otherwise). */
export interface IntThresholdLayer {
  m: number; // weight planes
  k: number; // activation planes
  unipolar: boolean;
  cw?: Float32Array;
  ca: number; // c_a, the activation offset
  alpha: Float32Array; // [cout][M]
  beta: Float32Array; // [K]
  cout: number;
  taps: number; // kh·kw·Cin: the largest n
  epi: EpilogueLike;
}

/** The fields of an epilogue read here (the plan's Epilogue; the runtime tests' EpilogueRef, whose `levels` is a count). */
interface EpilogueLike {
  scale?: Float32Array; bias?: Float32Array; res?: unknown; act: number; fout?: unknown;
  quant?: { levels: number | readonly number[]; planes: number; thr: Float32Array; flip: Uint8Array; lut: Uint8Array };
}
type PackOnly = EpilogueLike & { quant: NonNullable<EpilogueLike["quant"]> };

/** Whether the epilogue is nothing but a one-threshold, one-plane, one-word quantizer (pack_binary's case, no transform). */
function packOnly(e: EpilogueLike, cout: number): e is PackOnly {
  const q = e.quant;
  const levels = q === undefined ? 0 : typeof q.levels === "number" ? q.levels : q.levels.length;
  return !!q && !e.scale && !e.bias && e.res === undefined && e.act === 0 && e.fout === undefined &&
    levels === 2 && q.planes === 1 && cout <= 64;
}

/**
 * [T_0..T_{cout−1}, σ_0..σ_{cout−1}] (i32) such that bit_o = (σ_o·d ≥ T_o) for every d in [−N, N]
 * reproduces the float path, or undefined when the layer is not of that shape (or, which cannot happen
 * for monotone rounding, a channel's bits are not a step function of d).
 */
export function intThresholds(l: IntThresholdLayer): Int32Array | undefined {
  if (l.m !== 1 || l.k !== 1 || l.unipolar || l.cw || l.ca !== 0 || !packOnly(l.epi, l.cout)) return undefined;
  const q = l.epi.quant, N = l.taps, C = l.cout;
  const out = new Int32Array(2 * C);
  for (let o = 0; o < C; o++) {
    const ab = Math.fround(l.alpha[o] * l.beta[0]);
    const thr = q.thr[o], flip = q.flip[o] === 1;
    const bitOf = (d: number): number => {
      const acc = Math.fround(0 + Math.fround(ab * d));
      const level = (flip ? -acc : acc) >= thr ? 1 : 0;
      return q.lut[level] & 1;
    };
    // the first and last d where the bit changes; more than one change is not a step
    let changes = 0, at = 0, prev = bitOf(-N);
    for (let d = -N + 1; d <= N; d++) {
      const b = bitOf(d);
      if (b !== prev) {
        changes++;
        at = d;
        prev = b;
      }
    }
    if (changes > 1) return undefined;
    const first = bitOf(-N);
    if (changes === 0) [out[o], out[C + o]] = [first ? -N - 1 : N + 1, 1]; // constant: always (d ≥ −N−1) or never (d ≥ N+1)
    else if (first === 0) [out[o], out[C + o]] = [at, 1]; // 0…0 1…1: bit = d ≥ at
    else [out[o], out[C + o]] = [-(at - 1), -1]; // 1…1 0…0: bit = d ≤ at − 1 = (−d ≥ −(at − 1))
  }
  return out;
}
