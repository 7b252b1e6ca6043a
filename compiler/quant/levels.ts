// Compiler: exact plane decompositions of a set of quantization levels (DESIGN.md §3).
// Given the level sequence v_0 … v_{L−1} (ascending for monotone quantizers; any order for a
// non-monotone staircase, where only thermometer planes apply), find planes s_p (±1, or {0,1} when unipolar) and scales
// with  v_i = c + Σ_p α_p·s_p(i)  for every level i, using the fewest planes:
//  - thermometer, bipolar:  c = (v_0 + v_{L−1})/2, α_j = (v_j − v_{j−1})/2, s_j(i) = +1 iff i ≥ j (L−1 planes).
//      Check: c + Σ_{j≤i} α_j − Σ_{j>i} α_j = c + (v_i − v_0)/2 − (v_{L−1} − v_i)/2 = v_i.
//  - thermometer, unipolar: c = v_0, α_j = v_j − v_{j−1}, u_j(i) = [i ≥ j]; Σ telescopes to v_i.
//  - binary-weighted (levels on a lattice v_0 + n_i·Δ, n_i < 2^P): bipolar c = v_0 + Δ(2^P−1)/2,
//      α_p = Δ·2^p/2, s_p(i) = +1 iff bit p of n_i is 1; unipolar c = v_0, α_p = Δ·2^p, u_p(i) = bit p.
// Plane bit convention (compiler/pack/bits.ts): bipolar bit 1 = −1, unipolar bit 1 = 1.
// Every candidate is verified by reconstructing each level (relative error ≤ 1e-6); ties prefer
// c = 0 (no offset term), then fewer levels of indirection (thermometer).

export interface LevelPlanes {
  planes: number;
  unipolar: boolean;
  encoding: "thermometer" | "binary";
  offset: number; // c
  scales: number[]; // α_p
  bits: number[]; // [L] plane-bit mask of each level
}

const MAX_PLANES = 8;

function lattice(levels: number[]): { delta: number; n: number[] } | undefined {
  if (levels.length < 2 || levels.some((v, i) => i > 0 && v <= levels[i - 1])) return undefined;
  let delta = Infinity;
  for (let i = 1; i < levels.length; i++) delta = Math.min(delta, levels[i] - levels[i - 1]);
  const scale = Math.max(...levels.map(Math.abs));
  // refine Δ over the whole span: the smallest gap of two float32 values carries their rounding
  const rough = levels.map((v) => Math.round((v - levels[0]) / delta));
  const last = rough[rough.length - 1];
  if (last > 1 << 16) return undefined;
  delta = (levels[levels.length - 1] - levels[0]) / last;
  const n = levels.map((v) => Math.round((v - levels[0]) / delta));
  for (let i = 0; i < levels.length; i++) if (Math.abs(levels[0] + n[i] * delta - levels[i]) > 1e-6 * scale) return undefined;
  return { delta, n };
}

function verify(levels: number[], d: LevelPlanes): boolean {
  const scale = Math.max(1e-30, ...levels.map(Math.abs));
  return levels.every((v, i) => {
    let r = d.offset;
    for (let p = 0; p < d.planes; p++) {
      const bit = (d.bits[i] >> p) & 1;
      r += d.scales[p] * (d.unipolar ? bit : bit ? -1 : 1);
    }
    return Math.abs(r - v) <= 1e-6 * scale;
  });
}

export function candidates(levels: number[], allowUnipolar: boolean): LevelPlanes[] {
  const L = levels.length, out: LevelPlanes[] = [];
  if (L === 1) {
    out.push({ planes: 0, unipolar: false, encoding: "thermometer", offset: levels[0], scales: [], bits: [0] });
    return out;
  }
  const d = levels.slice(1).map((v, j) => v - levels[j]);
  // thermometer, bipolar: bit j−1 set (−1) iff i < j
  out.push({
    planes: L - 1, unipolar: false, encoding: "thermometer", offset: (levels[0] + levels[L - 1]) / 2,
    scales: d.map((x) => x / 2), bits: levels.map((_, i) => { let b = 0; for (let j = i + 1; j < L; j++) b |= 1 << (j - 1); return b; }),
  });
  if (allowUnipolar) {
    out.push({
      planes: L - 1, unipolar: true, encoding: "thermometer", offset: levels[0], scales: d,
      bits: levels.map((_, i) => (1 << i) - 1),
    });
  }
  const lat = lattice(levels);
  if (lat) {
    const P = Math.max(1, Math.ceil(Math.log2(lat.n[L - 1] + 1)));
    const mask = (1 << P) - 1;
    out.push({
      planes: P, unipolar: false, encoding: "binary", offset: levels[0] + (lat.delta * mask) / 2,
      scales: Array.from({ length: P }, (_, p) => (lat.delta * 2 ** p) / 2), bits: lat.n.map((n) => ~n & mask),
    });
    if (allowUnipolar) {
      out.push({
        planes: P, unipolar: true, encoding: "binary", offset: levels[0],
        scales: Array.from({ length: P }, (_, p) => lat.delta * 2 ** p), bits: lat.n,
      });
    }
  }
  return out.filter((c) => verify(levels, c));
}

/** The best exact decomposition with ≤ 8 planes, or a reason why there is none. */
export function decomposeLevels(levels: number[], allowUnipolar: boolean): LevelPlanes | string {
  const cands = candidates(levels, allowUnipolar).filter((c) => c.planes <= MAX_PLANES);
  if (!cands.length) return `${levels.length} levels need more than ${MAX_PLANES} planes`;
  cands.sort((a, b) => a.planes - b.planes || Number(a.offset !== 0) - Number(b.offset !== 0) || Number(b.encoding === "thermometer") - Number(a.encoding === "thermometer"));
  return cands[0];
}
