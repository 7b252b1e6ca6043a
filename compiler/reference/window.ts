// Reference interpreter: windowed ops over any number of spatial axes — convolution (groups,
// dilations), transposed convolution and max/average pooling of [N, C, D1…Dk] — by their ONNX
// definitions, plus the N-D window geometry (explicit pads or auto_pad) that lowering shares
// (passes/windows.ts). The 2-D forms in nn.ts keep their own faster loops.
import { attrInt, attrInts, attrStr, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";

const f = Math.fround;

export interface GeomNd {
  k: number[]; // kernel
  s: number[]; // strides
  d: number[]; // dilations
  padB: number[]; // pads at the beginning of each axis
  padE: number[];
  out: number[];
}

/** Output geometry of a conv/pool window over spatial dims `dims` (ONNX rules; ceil_mode for pools). */
export function geomNd(n: Node, dims: number[], k: number[], ceil = false): GeomNd {
  const r = dims.length;
  const s = attrInts(n, "strides", new Array(r).fill(1)), d = attrInts(n, "dilations", new Array(r).fill(1));
  const pads = attrInts(n, "pads", new Array(2 * r).fill(0));
  let padB = pads.slice(0, r), padE = pads.slice(r);
  const auto = attrStr(n, "auto_pad", "NOTSET");
  const ek = k.map((kk, i) => (kk - 1) * d[i] + 1);
  if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    const tot = dims.map((x, i) => Math.max(0, (Math.ceil(x / s[i]) - 1) * s[i] + ek[i] - x));
    padB = tot.map((t) => (auto === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    padE = tot.map((t, i) => t - padB[i]);
  } else if (auto === "VALID") [padB, padE] = [new Array(r).fill(0), new Array(r).fill(0)];
  const out = dims.map((x, i) => {
    let o = (ceil ? Math.ceil : Math.floor)((x + padB[i] + padE[i] - ek[i]) / s[i]) + 1;
    if (ceil && (o - 1) * s[i] >= x + padB[i]) o--; // a window may not start in the end padding
    return o;
  });
  if (out.some((o) => o < 1)) throw new RangeError(`window [${k}] does not fit input [${dims}] with pads [${padB},${padE}]`);
  return { k, s, d, padB, padE, out };
}

/** Visit every index of `shape` in row-major order. */
export function each(shape: number[], fn: (idx: number[], flat: number) => void) {
  const idx = new Array(shape.length).fill(0), n = sizeOf(shape);
  for (let i = 0; i < n; i++) {
    fn(idx, i);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
}

/** Convolution of [N, C, D…] with [M, C/g, K…]: Σ over (c, k) in that order of x·w in float32, then + bias. */
export function convNd(n: Node, x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [N, C, ...dims] = x.shape, [M, Cg, ...k] = w.shape, group = attrInt(n, "group", 1);
  if (k.length !== dims.length || C !== Cg * group || M % group) throw new RangeError(`input [${x.shape}] and weights [${w.shape}] do not match (${group} groups)`);
  const g = geomNd(n, dims, k), K = sizeOf(k), mg = M / group, P = sizeOf(g.out), X = sizeOf(dims);
  const xs = dims.map((_, i) => sizeOf(dims.slice(i + 1)));
  const out = alloc("float", [N, M, ...g.out]);
  for (let nn = 0; nn < N; nn++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(m / mg);
      each(g.out, (o, p) => {
        let acc = 0;
        for (let c = 0; c < Cg; c++)
          each(k, (kk, ki) => {
            let at = 0;
            for (let a = 0; a < dims.length; a++) {
              const i = o[a] * g.s[a] - g.padB[a] + kk[a] * g.d[a];
              if (i < 0 || i >= dims[a]) return;
              at += i * xs[a];
            }
            acc = f(acc + f(x.data[(nn * C + gi * Cg + c) * X + at] * w.data[(m * Cg + c) * K + ki]));
          });
        out.data[(nn * M + m) * P + p] = b ? f(acc + b.data[m]) : acc;
      });
    }
  return out;
}

/** The geometry of a transposed convolution: pads from output_shape/auto_pad, or given. */
export function geomTransposed(n: Node, dims: number[], k: number[]): GeomNd {
  const r = dims.length;
  const s = attrInts(n, "strides", new Array(r).fill(1)), d = attrInts(n, "dilations", new Array(r).fill(1));
  const op = attrInts(n, "output_padding", new Array(r).fill(0));
  let padB = attrInts(n, "pads", new Array(2 * r).fill(0)).slice(0, r), padE = attrInts(n, "pads", new Array(2 * r).fill(0)).slice(r);
  const full = dims.map((x, i) => s[i] * (x - 1) + op[i] + (k[i] - 1) * d[i] + 1);
  const auto = attrStr(n, "auto_pad", "NOTSET"), shape = attrInts(n, "output_shape", []);
  if (shape.length || auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    const want = shape.length ? shape.slice(-r) : dims.map((x, i) => x * s[i]);
    const tot = full.map((v, i) => v - want[i]);
    // one row or column more than the convolution gives (tot = −1, not SAME_UPPER): a zero at the end,
    // where onnxruntime (padding clamped at 0) and the ONNX reference (pads 0 and −1) agree; beyond that they differ
    if (tot.some((t) => t < -1 || (t < 0 && auto === "SAME_UPPER"))) throw new RangeError(`output_shape [${want}] is larger than the transposed convolution gives`);
    padB = tot.map((t) => (t < 0 ? 0 : auto === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    padE = tot.map((t, i) => t - padB[i]);
  }
  return { k, s, d, padB, padE, out: full.map((v, i) => v - padB[i] - padE[i]) };
}

/** ConvTranspose of [N, C, D…] with [C, M/g, K…]: y[m, i·s − padB + k·d] += x[c, i]·w[c, m, k]. */
export function convTransposeNd(n: Node, x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [N, C, ...dims] = x.shape, [Cw, Mg, ...k] = w.shape, group = attrInt(n, "group", 1);
  if (Cw !== C || C % group || k.length !== dims.length) throw new RangeError(`input [${x.shape}] and weights [${w.shape}] do not match`);
  const g = geomTransposed(n, dims, k), K = sizeOf(k), M = Mg * group, cg = C / group, P = sizeOf(g.out), X = sizeOf(dims);
  const os = g.out.map((_, i) => sizeOf(g.out.slice(i + 1)));
  const out = alloc("float", [N, M, ...g.out]);
  for (let nn = 0; nn < N; nn++)
    for (let c = 0; c < C; c++) {
      const gi = Math.floor(c / cg);
      each(dims, (xi, xf) => {
        const v = x.data[(nn * C + c) * X + xf];
        each(k, (kk, ki) => {
          let at = 0;
          for (let a = 0; a < dims.length; a++) {
            const o = xi[a] * g.s[a] - g.padB[a] + kk[a] * g.d[a];
            if (o < 0 || o >= g.out[a]) return;
            at += o * os[a];
          }
          for (let mm = 0; mm < Mg; mm++) {
            const m = gi * Mg + mm, j = (nn * M + m) * P + at;
            out.data[j] = f(out.data[j] + f(v * w.data[(c * Mg + mm) * K + ki]));
          }
        });
      });
    }
  if (b) for (let i = 0; i < out.data.length; i++) out.data[i] = f(out.data[i] + b.data[Math.floor(i / P) % M]);
  return out;
}

/** Max / average pooling of [N, C, D…] (dilations, ceil_mode, count_include_pad). */
export function poolNd(n: Node, x: Tensor, kind: "max" | "avg"): Tensor {
  const [N, C, ...dims] = x.shape, k = attrInts(n, "kernel_shape", []);
  if (k.length !== dims.length) throw new RangeError(`kernel_shape [${k}] does not match the ${dims.length} spatial axes of [${x.shape}]`);
  const g = geomNd(n, dims, k, attrInt(n, "ceil_mode", 0) === 1), cip = attrInt(n, "count_include_pad", 0) === 1;
  const P = sizeOf(g.out), X = sizeOf(dims), xs = dims.map((_, i) => sizeOf(dims.slice(i + 1)));
  const out = alloc("float", [N, C, ...g.out]);
  for (let pc = 0; pc < N * C; pc++)
    each(g.out, (o, p) => {
      let m = -Infinity, s = 0, cnt = 0;
      each(k, (kk) => {
        let at = 0;
        for (let a = 0; a < dims.length; a++) {
          const i = o[a] * g.s[a] - g.padB[a] + kk[a] * g.d[a];
          if (i < 0 || i >= dims[a]) return;
          at += i * xs[a];
        }
        const v = x.data[pc * X + at];
        m = Math.max(m, v);
        s = f(s + v);
        cnt++;
      });
      // count_include_pad: the window within the padded extent (a ceil_mode window may reach past it)
      const padded = dims.reduce((q, D, a) => q * Math.min(k[a] * g.d[a] - g.d[a] + 1, D + g.padE[a] - (o[a] * g.s[a] - g.padB[a])), 1);
      out.data[pc * P + p] = kind === "max" ? m : f(s / (cip ? padded : cnt));
    });
  return out;
}
