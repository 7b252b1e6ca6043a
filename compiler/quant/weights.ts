// Compiler: exact decomposition of a constant conv/dense weight tensor into binary planes
// (DESIGN.md §3): w[o] = c_w[o] + Σ_m α[o][m]·b_m[o], b ∈ ±1. Tries one level set for the whole
// layer (ABC-Net, fixed point: all channels share levels), else one per output channel (XNOR-Net
// per-channel α); never guesses — too many levels → a reason string, and the layer stays float.
import { decomposeLevels, type LevelPlanes } from "./levels.ts";

export interface WeightPlanes {
  m: number;
  bits: Uint8Array; // [M][cout][rest] 0/1, bit 1 = −1
  alpha: Float32Array; // [cout][M]
  cw: Float32Array | undefined; // [cout], undefined when all zero
  describe: string; // e.g. "per-layer thermometer, 4 levels"
}

const MAX_LEVELS = 257;

/** The distinct values, ascending — or undefined as soon as there are more than MAX_LEVELS (a float layer). */
function distinct(vals: ArrayLike<number>): number[] | undefined {
  const s = new Set<number>();
  for (let i = 0; i < vals.length; i++) {
    s.add(vals[i]);
    if (s.size > MAX_LEVELS) return undefined;
  }
  return [...s].sort((a, b) => a - b);
}

/** w: [cout][rest] row-major float32 values. */
export function decomposeWeights(w: Float32Array, cout: number): WeightPlanes | string {
  const rest = w.length / cout;
  const layerLevels = distinct(w);
  const perLayer = layerLevels ? decomposeLevels(layerLevels, false) : "too many levels";
  // one level set per output channel (XNOR-Net's ±α_o): its own decomposition, or why not
  const perChannel = (): { enc: LevelPlanes[]; levelSets: number[][]; maxL: number } | string => {
    const enc: LevelPlanes[] = [], levelSets: number[][] = [];
    let maxL = 0;
    for (let o = 0; o < cout; o++) {
      const lv = distinct(w.subarray(o * rest, (o + 1) * rest));
      if (!lv) return `weights of output channel ${o} have more than ${MAX_LEVELS} distinct values (not a multi-bit layer)`;
      maxL = Math.max(maxL, lv.length);
      const d = decomposeLevels(lv, false);
      if (typeof d === "string") return `weights of output channel ${o}: ${d}`;
      enc.push(d);
      levelSets.push(lv);
    }
    return { enc, levelSets, maxL };
  };
  let enc: LevelPlanes[];
  let levelSets: number[][];
  let describe: string;
  // the fewer planes wins: a layer of ±α_o has 2·cout levels (several planes) but one plane per channel
  const pc = typeof perLayer !== "string" && perLayer.planes <= 1 ? undefined : perChannel();
  const pcPlanes = pc && typeof pc !== "string" ? Math.max(1, ...pc.enc.map((e) => e.planes)) : Infinity;
  if (typeof perLayer !== "string" && layerLevels && perLayer.planes <= pcPlanes) {
    enc = new Array(cout).fill(perLayer);
    levelSets = new Array(cout).fill(layerLevels);
    describe = `per-layer ${perLayer.encoding}, ${layerLevels.length} levels`;
  } else {
    if (!pc || typeof pc === "string") return pc ?? "no decomposition";
    ({ enc, levelSets } = pc);
    describe = `per-channel, up to ${pc.maxL} levels`;
  }
  const m = Math.max(1, ...enc.map((e) => e.planes));
  const bits = new Uint8Array(m * cout * rest);
  const alpha = new Float32Array(cout * m);
  const cw = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const e = enc[o];
    const index = new Map(levelSets[o].map((v, i) => [v, i]));
    cw[o] = e.offset;
    for (let p = 0; p < e.planes; p++) alpha[o * m + p] = e.scales[p];
    for (let r = 0; r < rest; r++) {
      const b = e.bits[index.get(w[o * rest + r])!];
      for (let p = 0; p < m; p++) bits[(p * cout + o) * rest + r] = p < e.planes ? (b >> p) & 1 : 0;
    }
  }
  return { m, bits, alpha, cw: cw.some((v) => v !== 0) ? cw : undefined, describe };
}
