// Lowering helper: windowed ops the 2-D kernels do not cover — convolutions over 1 or 3+ spatial
// axes, dilated ones, unequal strides, padding wider than the kernel, transposed convolutions, and
// N-D or dilated pools — as an im2col index map (gather_f32) followed by a kernel that already exists:
//   conv:            rows[p][c·K + k] = x[c, o_p·s − padB + k·d]   (0 outside)   → 1×1 conv C·K → M
//   transposed conv: rows[p][c·K + k] = x[c, i] where i·s = o_p + padB − k·d     → 1×1 conv C·K → M
//   pool:            win[c][p][k]     = x[c, o_p·s − padB + k·d]   (−∞ / 0 outside) → Reduce max / mean over k
// Groups become block-diagonal 1×1 weights (zeros across groups). Exact in the ONNX sense: the same
// terms, summed in (c, k) order; only the float summation order differs from other runtimes.
import { sizeOf } from "../ir/tensor.ts";
import { each, type GeomNd } from "../reference/window.ts";

/**
 * The input element (ONNX order, one sample, channel c's offset excluded) that tap k of output position
 * o reads, or −1: forward windows i = o·s − padB + k·d, transposed ones i = (o + padB − k·d)/s.
 */
function tap(dims: number[], g: GeomNd, o: number[], k: number[], transposed: boolean): number {
  let at = 0;
  for (let a = 0; a < dims.length; a++) {
    let i: number;
    if (transposed) {
      const num = o[a] + g.padB[a] - k[a] * g.d[a];
      if (num < 0 || num % g.s[a]) return -1;
      i = num / g.s[a];
    } else i = o[a] * g.s[a] - g.padB[a] + k[a] * g.d[a];
    if (i < 0 || i >= dims[a]) return -1;
    at = at * dims[a] + i;
  }
  return at;
}

/**
 * The taps of every window of a conv/pool over [1, C, dims…]: "rows" = im2col rows [P][C·K] (the
 * channels-last storage of [1, C·K, P, 1]) for a conv, "channels" = windows [C][P][K] (ONNX order) for a pool.
 */
function windowTable(C: number, dims: number[], g: GeomNd, transposed: boolean, order: "rows" | "channels"): Int32Array {
  const K = sizeOf(g.k), P = sizeOf(g.out), X = sizeOf(dims);
  const idx = new Int32Array(P * C * K);
  each(g.out, (o, p) =>
    each(g.k, (k, ki) => {
      const at = tap(dims, g, o, k, transposed);
      for (let c = 0; c < C; c++) idx[(order === "rows" ? p * C + c : c * P + p) * K + ki] = at < 0 ? -1 : c * X + at;
    }),
  );
  return idx;
}

export const convRows = (C: number, dims: number[], g: GeomNd, transposed: boolean) => windowTable(C, dims, g, transposed, "rows");
export const poolWindows = (C: number, dims: number[], g: GeomNd) => windowTable(C, dims, g, false, "channels");

/**
 * 1×1 weights [C·K][M] for the im2col rows: conv weights [M][C/g][K], or transposed-conv weights
 * [C][M/g][K]; zero where input channel c and output m are in different groups.
 */
export function rowWeights(w: Float32Array, C: number, M: number, K: number, groups: number, transposed: boolean): Float32Array {
  const out = new Float32Array(C * K * M), cg = C / groups, mg = M / groups;
  for (let c = 0; c < C; c++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(c / cg);
      if (Math.floor(m / mg) !== gi) continue;
      for (let k = 0; k < K; k++)
        out[(c * K + k) * M + m] = transposed ? w[(c * mg + (m - gi * mg)) * K + k] : w[(m * cg + (c - gi * cg)) * K + k];
    }
  return out;
}
