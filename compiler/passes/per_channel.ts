// Lowering helper: constants that broadcast per channel against an activation [1, C, …] — the
// operands that become epilogue scales/biases (lower.ts) or constant rows of elementwise programs.
import type { Tensor } from "../ir/tensor.ts";

/** Its C values if t broadcasts per channel against a rank-`rank` [1, C, …] (scalar, [C], [C,1,1], [1,C,1,1]), else undefined. */
export function perChannel(t: Tensor, C: number, rank: number): Float32Array | undefined {
  const n = t.data.length;
  if (n !== 1 && n !== C) return undefined;
  if (n === C && C > 1) {
    // must lie on the channel axis (shapes aligned from the right)
    const s = t.shape;
    const axis = rank - s.length + s.findIndex((d) => d === C);
    if (axis !== 1 || s.some((d, i) => d !== 1 && rank - s.length + i !== 1)) return undefined;
  }
  const out = new Float32Array(C);
  for (let c = 0; c < C; c++) out[c] = t.data[n === 1 ? 0 : c];
  return out;
}
