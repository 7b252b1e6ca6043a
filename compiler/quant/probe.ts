// Compiler: recovers an activation quantizer from the graph by probing (DESIGN.md §3). The
// elementwise subgraph between a float tensor x and a conv input is evaluated with the reference
// interpreter as a per-channel scalar function f_c; its jumps are located by bisection in float32
// order, so each threshold is exact to the ulp; the result is checked to be a monotone staircase
// with ≤ 256 levels shared by all channels, then verified on fresh samples.
//
// Tie rule: thresholds are stored as `x ≥ t` with t the smallest float32 at which f_c reaches the
// upper level (increasing channels). For a decreasing channel (e.g. a BatchNorm with γ < 0 before
// the quantizer) f_c(x) ≥ v_j ⇔ x ≤ X_j, X_j the largest float32 still at v_j or above, which is
// stored as −x ≥ −X_j (flip = 1). Either way the comparison reproduces the graph's own (>=, >, Sign's
// middle level at 0, Round's half-to-even) exactly on every float32 input.

/** Evaluate f on probe values laid out [G][C] (probe g of channel c at g·C + c); returns the same layout. */
export type ProbeFn = (x: Float32Array, G: number) => Float32Array;

export interface Staircase {
  levels: number[];
  thr: Float32Array; // [C][L−1]
  flip: Uint8Array;
}

const buf = new DataView(new ArrayBuffer(4));
/** float32 → integer key, monotone in the float order (−0 and +0 share key 0). */
export function keyOf(x: number): number {
  buf.setFloat32(0, x);
  const b = buf.getInt32(0);
  return b >= 0 ? b : -(b & 0x7fffffff);
}
export function fromKey(k: number): number {
  buf.setInt32(0, k >= 0 ? k : (0x80000000 | -k) | 0);
  return buf.getFloat32(0);
}

const MAX_KEY = keyOf(3.4028234663852886e38);

// Probe grid: 4 points per octave over 2^−24 … 2^24, then every 4th octave up to the float32 maximum.
// A cell may hold several jumps (bisection walks them one by one); a non-monotone blip inside a cell
// is caught by verifyStaircase.
function grid(): number[] {
  const pos: number[] = [];
  for (let e = -24; e <= 24; e++) for (let i = 0; i < 4; i++) pos.push(Math.fround(2 ** e * (1 + i / 4)));
  for (let e = 28; e <= 127; e += 4) pos.push(Math.fround(2 ** e));
  pos.push(3.4028234663852886e38);
  const uniq = [...new Set(pos.filter((v) => Number.isFinite(v)))].sort((a, b) => a - b);
  return [...uniq.map((v) => -v).reverse(), 0, ...uniq];
}
const GRID = grid();

interface Interval { c: number; lo: number; hi: number; a: number; fhi: number; end: number; endVal: number }
interface Jump { key: number; from: number; to: number }

export function probeStaircase(f: ProbeFn, C: number, maxLevels = 256, seed = 1): Staircase | string {
  const G = GRID.length;
  const x = new Float32Array(G * C);
  for (let g = 0; g < G; g++) x.fill(GRID[g], g * C, (g + 1) * C);
  const y = f(x, G);
  const jumps: Jump[][] = Array.from({ length: C }, () => []);
  const first: number[] = [];
  let pending: Interval[] = [];
  for (let c = 0; c < C; c++) {
    first.push(y[c]);
    for (let g = 1; g < G; g++) {
      const a = y[(g - 1) * C + c], b = y[g * C + c];
      if (Number.isNaN(a) || Number.isNaN(b)) return `the quantizer gives NaN at x = ${GRID[Number.isNaN(a) ? g - 1 : g]}`;
      if (a !== b) {
        const lo = keyOf(GRID[g - 1]), hi = keyOf(GRID[g]);
        pending.push({ c, lo, hi, a, fhi: b, end: hi, endVal: b });
      }
    }
    if (jumps.length > 1e6) break;
  }
  // Batched bisection: each round evaluates one midpoint per pending interval.
  let rounds = 0;
  while (pending.length) {
    if (++rounds > 4000) return "the quantizer's jumps could not be located (too many)";
    const perC = new Array(C).fill(0);
    const slot = pending.map((iv) => perC[iv.c]++);
    const K = Math.max(...perC);
    const px = new Float32Array(K * C);
    const active = pending.filter((iv) => iv.hi - iv.lo > 1);
    pending.forEach((iv, i) => (px[slot[i] * C + iv.c] = fromKey(Math.floor((iv.lo + iv.hi) / 2))));
    const py = active.length ? f(px, K) : px;
    const next: Interval[] = [];
    pending.forEach((iv, i) => {
      if (iv.hi - iv.lo > 1) {
        const mid = Math.floor((iv.lo + iv.hi) / 2), v = py[slot[i] * C + iv.c];
        if (v === iv.a) iv.lo = mid;
        else {
          iv.hi = mid;
          iv.fhi = v;
        }
        next.push(iv);
        return;
      }
      jumps[iv.c].push({ key: iv.hi, from: iv.a, to: iv.fhi });
      if (iv.fhi !== iv.endVal) next.push({ ...iv, lo: iv.hi, hi: iv.end, a: iv.fhi, fhi: iv.endVal });
    });
    pending = next;
    if (jumps.reduce((p, j) => p + j.length, 0) > C * maxLevels * 2) return `the quantizer has more than ${maxLevels} levels`;
  }
  // The level sequence shared by all channels. Each channel visits a sub-sequence of it, in order
  // of increasing x (flip = 0) or of increasing −x (flip = 1); the level index is the number of
  // thresholds passed. Monotone quantizers give an ascending sequence; a sum of signs with a negative
  // scale (ABC-Net with a learned β_k < 0) gives a non-monotone one, handled alike by the index + table.
  const seqs: number[][] = [];
  for (let c = 0; c < C; c++) {
    const js = jumps[c].sort((p, q) => p.key - q.key);
    for (let i = 1; i < js.length; i++) if (js[i].from !== js[i - 1].to) return `channel ${c}: inconsistent jumps`;
    if (js.length && js[0].from !== first[c]) return `channel ${c}: inconsistent jumps`;
    seqs.push([first[c], ...js.map((q) => q.to)]);
  }
  let levels = seqs.reduce((a, b) => (b.length > a.length ? b : a), seqs[0] ?? []);
  if (levels.length && levels[0] > levels[levels.length - 1]) levels = [...levels].reverse();
  if (levels.length > maxLevels) return `the quantizer has ${levels.length} levels (limit ${maxLevels})`;
  const L = levels.length;
  /** Indices in `levels` visited by `seq` (a sub-sequence match), or undefined. */
  const match = (seq: number[]): number[] | undefined => {
    const idx: number[] = [];
    let p = 0;
    for (const v of seq) {
      while (p < L && levels[p] !== v) p++;
      if (p === L) return undefined;
      idx.push(p);
    }
    return idx;
  };
  const thr = new Float32Array(C * Math.max(L - 1, 0));
  const flip = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    const js = jumps[c], J = js.length;
    let idx = match(seqs[c]);
    let pos: (m: number) => number; // threshold of the channel's m-th transition (in x, or in −x when flipped)
    if (idx) pos = (m) => fromKey(js[m].key);
    else {
      idx = match([...seqs[c]].reverse());
      if (!idx) return `channel ${c} visits levels [${seqs[c].join(", ")}] that no shared sequence explains`;
      flip[c] = 1;
      // going down in x, the m-th transition happens just below the jump key J−1−m: −x ≥ −prev(x)
      pos = (m) => -fromKey(js[J - 1 - m].key - 1);
    }
    for (let lv = 1; lv < L; lv++) {
      let t: number;
      if (idx[0] >= lv) t = -Infinity;
      else {
        const m = idx.findIndex((v, k) => k > 0 && v >= lv);
        t = m < 0 ? Infinity : pos(m - 1);
      }
      thr[c * (L - 1) + lv - 1] = t;
    }
  }
  const s = verifyStaircase(f, C, { levels, thr, flip }, seed);
  return s ?? { levels, thr, flip };
}

/** Level value predicted by a staircase. */
export function stairValue(s: Staircase, c: number, x: number): number {
  const L = s.levels.length;
  const v = s.flip[c] ? -x : x;
  let q = 0;
  for (let j = 0; j < L - 1; j++) if (v >= s.thr[c * (L - 1) + j]) q++;
  return s.levels[q];
}

/** Check the staircase against f at every threshold, its float neighbours and random points. */
function verifyStaircase(f: ProbeFn, C: number, s: Staircase, seed: number): string | undefined {
  let st = seed >>> 0;
  const rnd = () => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return st / 4294967296;
  };
  const L = s.levels.length;
  const pts: number[][] = Array.from({ length: C }, () => []);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < L - 1; j++) {
      const t = s.thr[c * (L - 1) + j];
      if (!Number.isFinite(t)) continue;
      const k = keyOf(s.flip[c] ? -t : t);
      for (const d of [-2, -1, 0, 1, 2]) if (Math.abs(k + d) <= MAX_KEY) pts[c].push(fromKey(k + d));
    }
    for (let i = 0; i < 256; i++) {
      const mag = 2 ** (rnd() * 24 - 12);
      pts[c].push(Math.fround((rnd() < 0.5 ? -1 : 1) * mag * (1 + rnd())));
    }
  }
  const K = Math.max(...pts.map((p) => p.length));
  const x = new Float32Array(K * C);
  for (let c = 0; c < C; c++) pts[c].forEach((v, k) => (x[k * C + c] = v));
  const y = f(x, K);
  for (let c = 0; c < C; c++)
    for (let k = 0; k < K; k++) {
      const v = x[k * C + c], want = y[k * C + c], got = stairValue(s, c, v);
      if (got !== want && !(k >= pts[c].length)) return `channel ${c}: staircase predicts ${got} at x = ${v}, the graph gives ${want}`;
    }
  return undefined;
}
