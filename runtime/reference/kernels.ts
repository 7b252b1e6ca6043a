// Runtime reference: the definition of every runtime kernel as plain TypeScript loops on unpacked
// data (bits as 0/1 bytes, exact integer popcounts), with float arithmetic rounded to float32 after
// every operation in the same order as the AssemblyScript kernels, so results are bit-exact.
// Used only by tests and the compiler's self-checks; never on a hot path.
import kernelList from "../kernels.json" with { type: "json" };
import type { ElemProgram } from "../../compiler/ir/plan.ts";
import { erf } from "../../compiler/reference/math.ts";

const f = Math.fround;
const ELEM_OPS: string[] = kernelList.elementwise_ops;

export interface QuantRef {
  levels: number; // L
  thr: Float32Array; // [C][L−1], ascending per channel (of −x where flip)
  flip: Uint8Array; // [C]
  planes: number; // P
  lut: Uint8Array; // [L] → plane bits
}
export interface EpilogueRef {
  c: number;
  scale?: Float32Array;
  bias?: Float32Array;
  res?: Float32Array; // [npix][c]
  act: 0 | 1 | 2;
  lo: number;
  hi: number;
  quant?: QuantRef;
}
/** A kernel's output: float NHWC, or bits [P][npix][c] when the epilogue quantizes. */
export interface OutRef {
  float?: Float32Array;
  bits?: Uint8Array;
}

/** Level index of x under a quantizer channel: q = #{j : x ≥ t_j} (x replaced by −x where flip). */
export function levelOf(q: QuantRef, ch: number, x: number): number {
  const nt = q.levels - 1;
  const v = q.flip[ch] ? -x : x;
  let lv = 0;
  for (let j = 0; j < nt; j++) if (v >= q.thr[ch * nt + j]) lv++;
  return lv;
}

export function newOut(e: EpilogueRef, npix: number): OutRef {
  return e.quant ? { bits: new Uint8Array(e.quant.planes * npix * e.c) } : { float: new Float32Array(npix * e.c) };
}

export function epilogueRef(e: EpilogueRef, acc: Float32Array, pix: number, npix: number, out: OutRef): void {
  for (let ch = 0; ch < e.c; ch++) {
    let y = acc[ch];
    if (e.scale) y = f(y * e.scale[ch]);
    if (e.bias) y = f(y + e.bias[ch]);
    if (e.res) y = f(y + e.res[pix * e.c + ch]);
    if (e.act === 1) y = Math.max(y, 0);
    else if (e.act === 2) y = Math.min(Math.max(y, e.lo), e.hi);
    if (e.quant) {
      const bits = e.quant.lut[levelOf(e.quant, ch, y)];
      for (let p = 0; p < e.quant.planes; p++) out.bits![(p * npix + pix) * e.c + ch] = (bits >> p) & 1;
    } else out.float![pix * e.c + ch] = y;
  }
}

export function quantizePackRef(x: Float32Array, npix: number, c: number, q: QuantRef): Uint8Array {
  const e: EpilogueRef = { c, act: 0, lo: 0, hi: 0, quant: q };
  const out = newOut(e, npix);
  for (let pix = 0; pix < npix; pix++) epilogueRef(e, x.subarray(pix * c, (pix + 1) * c), pix, npix, out);
  return out.bits!;
}

export interface ConvGeom {
  h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  stride: number; padT: number; padL: number; oh: number; ow: number;
}

export interface BconvRef extends ConvGeom {
  x: Uint8Array; // [K][h][w][cin] bits
  k: number;
  wbits: Uint8Array; // [M][cout][kh][kw][cin] bits
  m: number;
  unipolar: boolean;
  alpha: Float32Array; // [cout][M]
  beta: Float32Array; // [K]
  cw?: Float32Array; // [cout]
  ca: number;
  wtap?: Float32Array; // [cout][kh·kw]
}

/** Multi-bit binary conv: see runtime/assembly/kernels/bconv.ts for the derivation. */
export function bconvRef(a: BconvRef, e: EpilogueRef): OutRef {
  const npix = a.oh * a.ow;
  const out = newOut(e, npix);
  const acc = new Float32Array(a.cout);
  const xb = (k: number, y: number, x: number, c: number) => a.x[((k * a.h + y) * a.w + x) * a.cin + c];
  const wb = (m: number, o: number, ky: number, kx: number, c: number) =>
    a.wbits[(((m * a.cout + o) * a.kh + ky) * a.kw + kx) * a.cin + c];
  for (let oy = 0; oy < a.oh; oy++)
    for (let ox = 0; ox < a.ow; ox++) {
      const taps: [number, number][] = [];
      for (let ky = 0; ky < a.kh; ky++)
        for (let kx = 0; kx < a.kw; kx++) {
          const iy = oy * a.stride - a.padT + ky, ix = ox * a.stride - a.padL + kx;
          if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) taps.push([ky, kx]);
        }
      const n = taps.length * a.cin;
      acc.fill(0);
      for (let k = 0; k < a.k; k++) {
        let hp = 0;
        for (const [ky, kx] of taps)
          for (let c = 0; c < a.cin; c++) hp += xb(k, oy * a.stride - a.padT + ky, ox * a.stride - a.padL + kx, c);
        const base = a.unipolar ? hp : n;
        for (let m = 0; m < a.m; m++)
          for (let o = 0; o < a.cout; o++) {
            let pop = 0;
            for (const [ky, kx] of taps)
              for (let c = 0; c < a.cin; c++) {
                const xv = xb(k, oy * a.stride - a.padT + ky, ox * a.stride - a.padL + kx, c);
                const wv = wb(m, o, ky, kx, c);
                pop += a.unipolar ? xv & wv : xv ^ wv;
              }
            const dot = base - 2 * pop;
            acc[o] = f(acc[o] + f(f(a.alpha[o * a.m + m] * a.beta[k]) * dot));
          }
        if (a.cw) {
          const s = f(a.beta[k] * (a.unipolar ? hp : n - 2 * hp));
          for (let o = 0; o < a.cout; o++) acc[o] = f(acc[o] + f(a.cw[o] * s));
        }
      }
      if (a.ca !== 0) {
        for (let o = 0; o < a.cout; o++) {
          let sw = 0;
          for (const [ky, kx] of taps) sw = f(sw + a.wtap![o * a.kh * a.kw + ky * a.kw + kx]);
          acc[o] = f(acc[o] + f(f(a.ca) * sw));
        }
      }
      epilogueRef(e, acc, oy * a.ow + ox, npix, out);
    }
  return out;
}

/** Float conv2d, NHWC input, weights [kh][kw][cin][cout]. */
export function conv2dRef(x: Float32Array, w: Float32Array, g: ConvGeom, e: EpilogueRef): OutRef {
  const npix = g.oh * g.ow;
  const out = newOut(e, npix);
  const acc = new Float32Array(g.cout);
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++) {
      acc.fill(0);
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++) {
          const iy = oy * g.stride - g.padT + ky, ix = ox * g.stride - g.padL + kx;
          if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
          for (let ci = 0; ci < g.cin; ci++) {
            const xv = x[(iy * g.w + ix) * g.cin + ci];
            for (let o = 0; o < g.cout; o++) acc[o] = f(acc[o] + f(xv * w[((ky * g.kw + kx) * g.cin + ci) * g.cout + o]));
          }
        }
      epilogueRef(e, acc, oy * g.ow + ox, npix, out);
    }
  return out;
}

/** Grouped conv (kernels/conv2d_group_f32.ts): weights [cout][cin/groups][kh][kw], terms in (c, ky, kx) order. */
export function groupConvRef(x: Float32Array, w: Float32Array, g: ConvGeom, groups: number, e: EpilogueRef): OutRef {
  const npix = g.oh * g.ow, out = newOut(e, npix), acc = new Float32Array(g.cout);
  const cg = g.cin / groups, mg = g.cout / groups;
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++) {
      for (let o = 0; o < g.cout; o++) {
        let s = 0;
        for (let c = 0; c < cg; c++)
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.stride - g.padT + ky, ix = ox * g.stride - g.padL + kx;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              s = f(s + f(x[(iy * g.w + ix) * g.cin + Math.floor(o / mg) * cg + c] * w[((o * cg + c) * g.kh + ky) * g.kw + kx]));
            }
        acc[o] = s;
      }
      epilogueRef(e, acc, oy * g.ow + ox, npix, out);
    }
  return out;
}

export interface PoolGeom {
  h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number;
  padT: number; padL: number; padB: number; padR: number; oh: number; ow: number;
}

export function poolRef(x: Float32Array, g: PoolGeom, kind: "max" | "avg", countIncludePad = false): Float32Array {
  const y = new Float32Array(g.oh * g.ow * g.c);
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++)
      for (let c = 0; c < g.c; c++) {
        let m = -Infinity, s = 0, cnt = 0;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.sh - g.padT + ky, ix = ox * g.sw - g.padL + kx;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            const v = x[(iy * g.w + ix) * g.c + c];
            m = Math.max(m, v);
            s = f(s + v);
            cnt++;
          }
        // count_include_pad: the window within the padded extent (a ceil_mode window may reach past it)
        const padded = Math.min(g.kh, g.h + g.padB - (oy * g.sh - g.padT)) * Math.min(g.kw, g.w + g.padR - (ox * g.sw - g.padL));
        y[(oy * g.ow + ox) * g.c + c] = kind === "max" ? m : f(s / (countIncludePad ? padded : cnt));
      }
  return y;
}

export function globalAvgPoolRef(x: Float32Array, hw: number, c: number): Float32Array {
  const y = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < hw; i++) s = f(s + x[i * c + ch]);
    y[ch] = f(s / hw);
  }
  return y;
}

export function globalMaxPoolRef(x: Float32Array, hw: number, c: number): Float32Array {
  const y = new Float32Array(c).fill(-Infinity);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < hw; i++) y[ch] = Number.isNaN(x[i * c + ch]) || Number.isNaN(y[ch]) ? NaN : Math.max(y[ch], x[i * c + ch]);
  return y;
}

/** One concat input: rows of c copied into rows of cOut at `offset` (kernels/concat_f32.ts). */
export function concatRef(x: Float32Array, npix: number, c: number, y: Float32Array, cOut: number, offset: number): void {
  for (let p = 0; p < npix; p++) y.set(x.subarray(p * c, (p + 1) * c), p * cOut + offset);
}

/** TopK rows (kernels/topk_f32.ts): the k best of each row, equal values by lower (last: higher) index; values or indices. */
export function topkRef(x: Float32Array, rows: number, n: number, k: number, largest: boolean, indices: boolean, last = false): Float32Array {
  const y = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const at = Array.from({ length: n }, (_, j) => j).filter((j) => !Number.isNaN(x[r * n + j]));
    at.sort((a, b) => (x[r * n + a] !== x[r * n + b] ? (largest ? x[r * n + b] - x[r * n + a] : x[r * n + a] - x[r * n + b]) : last ? b - a : a - b));
    for (let j = 0; j < n; j++) if (Number.isNaN(x[r * n + j])) at.push(j); // NaNs last, in index order
    at.slice(0, k).forEach((j, m) => (y[r * k + m] = indices ? j : x[r * n + j]));
  }
  return y;
}

/** Index map (kernels/gather_f32.ts): y[i] = idx[i] ≥ 0 ? x[idx[i]] : fill. */
export function gatherRef(x: Float32Array, idx: Int32Array, fill: number): Float32Array {
  return Float32Array.from(idx, (j) => (j >= 0 ? x[j] : fill));
}

/**
 * Batched matrix product (kernels/matmul_f32.ts): out_t = A_t·B_t for t < batch, A_t = a[t·aStride …] [m][k],
 * B_t = b[t·bStride …] [k][n]; each element sums its products in ascending k, rounding to float32 after
 * every multiply and every add.
 */
export function matmulRef(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, aStride: number, bStride: number): Float32Array {
  const f = Math.fround, y = new Float32Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc = f(acc + f(a[t * aStride + i * k + kk] * b[t * bStride + kk * n + j]));
        y[(t * m + i) * n + j] = acc;
      }
  return y;
}

/** Transpose in row-major order (kernels/transpose_f32.ts): input dims and perm (output axis k = input axis perm[k]). */
export function transposeRef(x: Float32Array, dims: number[], perm: number[]): Float32Array {
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((p, d) => p * d, 1));
  const od = perm.map((a) => dims[a]), y = new Float32Array(x.length);
  for (let o = 0; o < y.length; o++) {
    let r = o, src = 0;
    for (let k = od.length - 1; k >= 0; k--) {
      src += (r % od[k]) * strides[perm[k]];
      r = Math.floor(r / od[k]);
    }
    y[o] = x[src];
  }
  return y;
}

/** LRN across channels of channels-last rows (kernels/lrn_f32.ts); pow in double rounded to float32. */
export function lrnRef(x: Float32Array, npix: number, c: number, size: number, alpha: number, beta: number, bias: number): Float32Array {
  const y = new Float32Array(npix * c), lo = (size - 1) >> 1, hi = size - 1 - lo, k = f(f(alpha) / size);
  for (let p = 0; p < npix; p++)
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let j = Math.max(0, ch - lo); j <= Math.min(c - 1, ch + hi); j++) s = f(s + f(x[p * c + j] * x[p * c + j]));
      y[p * c + ch] = f(x[p * c + ch] * f(Math.pow(f(f(bias) + f(k * s)), -f(beta))));
    }
  return y;
}

/**
 * Softmax / LogSoftmax / Hardmax (mode 0 / 1 / 2; a boolean: log or not) over rows of n floats
 * (kernels/softmax_f32.ts), same order; exp/log in double rounded to float32.
 */
export function softmaxRef(x: Float32Array, rows: number, n: number, mode: boolean | number): Float32Array {
  const log = mode === true || mode === 1;
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    let m = -Infinity, s = 0;
    for (const v of row) m = Number.isNaN(v) || Number.isNaN(m) ? NaN : Math.max(m, v);
    if (mode === 2) {
      const first = row.indexOf(m);
      for (let i = 0; i < n; i++) y[r * n + i] = i === first ? 1 : 0;
      continue;
    }
    const e = Array.from(row, (v) => f(Math.exp(f(v - m))));
    for (const v of e) s = f(s + v);
    for (let i = 0; i < n; i++) y[r * n + i] = log ? f(f(row[i] - m) - f(Math.log(s))) : f(e[i] / s);
  }
  return y;
}

/**
 * Float elementwise program (kernels/elementwise_f32.ts): instructions [op, dst, a, b, c] over
 * registers (rows of C floats; registers 0..n−1 = the pixel of each source) and constant rows (operand −1 − slot).
 * exp/log/tanh/pow/sigmoid here use JavaScript's double-precision functions rounded to float32,
 * so they may differ from the runtime's float32 math by an ulp; every other op is bit-exact.
 */
export function elementwiseRef(x: Float32Array | Float32Array[], npix: number, c: number, p: ElemProgram): Float32Array {
  const srcs = Array.isArray(x) ? x : [x];
  const out = new Float32Array(npix * c);
  const regs = Array.from({ length: p.regs }, () => new Float32Array(c));
  const rowOf = (v: number) => (v >= 0 ? regs[v] : p.consts.subarray((-1 - v) * c, (-v) * c));
  for (let pix = 0; pix < npix; pix++) {
    srcs.forEach((src, k) => regs[k].set(src.subarray(pix * c, (pix + 1) * c)));
    for (let i = 0; i < p.code.length; i += 5) {
      const op = ELEM_OPS[p.code[i]], d = regs[p.code[i + 1]], A = rowOf(p.code[i + 2]), B = rowOf(p.code[i + 3]), C3 = rowOf(p.code[i + 4]);
      for (let ch = 0; ch < c; ch++) d[ch] = elemOp(op, A[ch], B[ch], C3[ch]);
    }
    out.set(regs[p.result], pix * c);
  }
  return out;
}

export function elemOp(op: string, x: number, y: number, z: number): number {
  const b = (v: boolean) => (v ? 1 : 0);
  switch (op) {
    case "copy": return x;
    case "add": return f(x + y);
    case "sub": return f(x - y);
    case "mul": return f(x * y);
    case "div": return f(x / y);
    case "max": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
    case "min": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y);
    case "pow": return f(Math.pow(x, y));
    case "neg": return -x;
    case "abs": return Math.abs(x);
    case "sign": return x > 0 ? 1 : x < 0 ? -1 : x;
    case "sqrt": return f(Math.sqrt(x));
    case "exp": return f(Math.exp(x));
    case "log": return f(Math.log(x));
    case "reciprocal": return f(1 / x);
    case "floor": return Math.floor(x);
    case "ceil": return Math.ceil(x);
    case "round": { const r = Math.round(x); return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r; }
    case "trunc": return Math.trunc(x);
    case "tanh": return f(Math.tanh(x));
    case "sigmoid": return f(1 / f(1 + f(Math.exp(-x))));
    case "relu": return x > 0 ? x : Number.isNaN(x) ? x : 0;
    case "eq": return b(x === y);
    case "gt": return b(x > y);
    case "ge": return b(x >= y);
    case "lt": return b(x < y);
    case "le": return b(x <= y);
    case "and": return b(x !== 0 && y !== 0);
    case "or": return b(x !== 0 || y !== 0);
    case "not": return b(x === 0);
    case "where": return x !== 0 ? y : z;
    case "leaky_relu": return x >= 0 ? x : f(x * y);
    case "clip": return Math.min(Math.max(x, y), z);
    case "hard_sigmoid": return Math.max(0, Math.min(1, f(f(y * x) + z)));
    case "sin": return f(Math.sin(x));
    case "cos": return f(Math.cos(x));
    case "tan": return f(Math.tan(x));
    case "asin": return f(Math.asin(x));
    case "acos": return f(Math.acos(x));
    case "atan": return f(Math.atan(x));
    case "sinh": return f(Math.sinh(x));
    case "cosh": return f(Math.cosh(x));
    case "asinh": return f(Math.asinh(x));
    case "acosh": return f(Math.acosh(x));
    case "atanh": return f(Math.atanh(x));
    case "erf": return f(erf(x));
    case "xor": return b((x !== 0) !== (y !== 0));
    case "fmod": return f(x % y);
    default: throw new Error(`elementwiseRef: unknown op '${op}'`);
  }
}
