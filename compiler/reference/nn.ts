// Reference interpreter: the neural-network ops (Conv, BatchNormalization, Gemm, MatMul, pools),
// NCHW as in ONNX, float32 after every operation, and the geometry helpers lowering shares.
import { attrFloat, attrInt, attrInts, attrStr, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { convNd, convTransposeNd, poolNd } from "./window.ts";
import type { OpFn } from "./kit.ts";

const f = Math.fround;

export interface Geom2d {
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  padT: number; padL: number; padB: number; padR: number; oh: number; ow: number;
}

/** Output geometry of a 2-D conv/pool window (explicit pads or auto_pad), ONNX rules. */
export function geom2d(n: Node, h: number, w: number, kh: number, kw: number, ceil = false): Geom2d {
  const [sh, sw] = attrInts(n, "strides", [1, 1]);
  const [dh, dw] = attrInts(n, "dilations", [1, 1]);
  let [padT, padL, padB, padR] = attrInts(n, "pads", [0, 0, 0, 0]);
  const auto = attrStr(n, "auto_pad", "NOTSET");
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    const oh = Math.ceil(h / sh), ow = Math.ceil(w / sw);
    const ph = Math.max(0, (oh - 1) * sh + ekh - h), pw = Math.max(0, (ow - 1) * sw + ekw - w);
    const lowH = auto === "SAME_UPPER" ? Math.floor(ph / 2) : Math.ceil(ph / 2);
    const lowW = auto === "SAME_UPPER" ? Math.floor(pw / 2) : Math.ceil(pw / 2);
    [padT, padB, padL, padR] = [lowH, ph - lowH, lowW, pw - lowW];
  } else if (auto === "VALID") [padT, padL, padB, padR] = [0, 0, 0, 0];
  const rnd = ceil ? Math.ceil : Math.floor;
  let oh = rnd((h + padT + padB - ekh) / sh) + 1, ow = rnd((w + padL + padR - ekw) / sw) + 1;
  // ceil_mode: a window that would start in the right/bottom padding is dropped (ONNX pooling, onnxruntime, PyTorch)
  if (ceil && (oh - 1) * sh >= h + padT) oh--;
  if (ceil && (ow - 1) * sw >= w + padL) ow--;
  if (oh < 1 || ow < 1) throw new RangeError(`window ${kh}×${kw} does not fit input ${h}×${w} with pads [${padT},${padL},${padB},${padR}]`);
  return { kh, kw, sh, sw, dh, dw, padT, padL, padB, padR, oh, ow };
}

export function conv(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!, w = ins[1]!, b = ins[2];
  if (x.shape.length !== 4 || w.shape.length !== 4) return [convNd(n, x, w, b)]; // 1-D, 3-D…: reference/window.ts
  const [N, C, H, W] = x.shape, [M, Cg, kh, kw] = w.shape;
  const group = attrInt(n, "group", 1);
  if (C !== Cg * group || M % group) throw new RangeError(`input has ${C} channels, weights expect ${Cg}×${group} groups`);
  const g = geom2d(n, H, W, kh, kw);
  const out = alloc("float", [N, M, g.oh, g.ow]);
  const mg = M / group, { oh, ow, sh, sw, dh, dw, padT, padL } = g;
  const xd = x.data, wd = w.data, od = out.data as Float32Array;
  // Each output element is Σ over (c, ky, kx) in that order of f(x·w), rounded to float32 after every
  // addition, in-bounds taps only, then + bias. The loops run tap by tap over whole output planes
  // (od holds float32, so every store rounds) — the same additions in the same order per element.
  for (let nn = 0; nn < N; nn++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(m / mg), ob = (nn * M + m) * oh * ow;
      for (let c = 0; c < Cg; c++) {
        const xb = (nn * C + gi * Cg + c) * H * W;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const wv = wd[((m * Cg + c) * kh + ky) * kw + kx];
            const ox0 = Math.max(0, Math.ceil((padL - kx * dw) / sw)), ox1 = Math.min(ow - 1, Math.floor((W - 1 + padL - kx * dw) / sw));
            if (ox0 > ox1) continue;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - padT + ky * dh;
              if (iy < 0 || iy >= H) continue;
              const xr = xb + iy * W - padL + kx * dw, orow = ob + oy * ow;
              for (let ox = ox0; ox <= ox1; ox++) od[orow + ox] += f(xd[xr + ox * sw] * wv);
            }
          }
      }
      if (b) {
        const bv = b.data[m];
        for (let o = ob; o < ob + oh * ow; o++) od[o] += bv;
      }
    }
  return [out];
}

/** BatchNormalization (inference) as runtimes compute it: s = γ/√(var+ε), y = x·s + (β − mean·s). */
export function bnScaleShift(n: Node, ins: (Tensor | undefined)[]): { scale: Float32Array; shift: Float32Array } {
  const [, gm, bt, mean, v] = ins as Tensor[];
  const eps = f(attrFloat(n, "epsilon", 1e-5));
  const C = gm.data.length;
  const scale = new Float32Array(C), shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = f(gm.data[c] / f(Math.sqrt(f(v.data[c] + eps))));
    shift[c] = f(bt.data[c] - f(mean.data[c] * scale[c]));
  }
  return { scale, shift };
}

export function batchnorm(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!;
  if (attrInt(n, "training_mode", 0)) throw new RangeError("training_mode=1 (batch statistics) is not an inference graph");
  // before opset 14 the mode is the number of outputs: Y, mean, var, saved_mean, saved_var is training mode
  if (n.outputs.slice(1).some(Boolean)) throw new RangeError("BatchNormalization with running-statistics outputs (mean, var, …) is training mode (batch statistics), not an inference graph");
  const { scale, shift } = bnScaleShift(n, ins);
  const C = x.shape[1], inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const out = alloc("float", x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = Math.floor(i / inner) % C;
    out.data[i] = f(f(x.data[i] * scale[c]) + shift[c]);
  }
  return [out];
}

function matmul2(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) throw new RangeError(`matrix shapes [${a.shape}] and [${b.shape}] do not match`);
  const out = alloc("float", [M, N]);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a.data[k * M + i] : a.data[i * K + k];
        const bv = transB ? b.data[j * K + k] : b.data[k * N + j];
        acc = f(acc + f(av * bv));
      }
      out.data[i * N + j] = acc;
    }
  return out;
}

export function gemm(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const a = ins[0]!, b = ins[1]!, c = ins[2];
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new RangeError("Gemm needs 2-D inputs");
  const y = matmul2(a, b, attrInt(n, "transA", 0) === 1, attrInt(n, "transB", 0) === 1);
  const alpha = f(attrFloat(n, "alpha", 1)), beta = f(attrFloat(n, "beta", 1));
  const [M, N] = y.shape;
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let v = alpha === 1 ? y.data[i * N + j] : f(alpha * y.data[i * N + j]);
      if (c) {
        const cv = c.data.length === 1 ? c.data[0] : c.shape.length === 1 || c.shape[0] === 1 ? c.data[j] : c.shape[1] === 1 ? c.data[i] : c.data[i * N + j];
        v = f(v + (beta === 1 ? cv : f(beta * cv)));
      }
      y.data[i * N + j] = v;
    }
  return [y];
}

export function matmul(_n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const a = ins[0]!, b = ins[1]!;
  if (b.shape.length !== 2) throw new RangeError("MatMul supports a 2-D right operand only");
  const K = a.shape[a.shape.length - 1];
  const rows = a.data.length / K;
  const y = matmul2({ dtype: "float", shape: [rows, K], data: a.data }, b, false, false);
  return [{ dtype: "float", shape: [...a.shape.slice(0, -1), b.shape[1]], data: y.data }];
}

export function pool(kind: "max" | "avg"): OpFn {
  return (n, ins) => {
    const x = ins[0]!;
    const ks = attrInts(n, "kernel_shape", []);
    if (x.shape.length !== 4 || ks.length !== 2) return [poolNd(n, x, kind)]; // other ranks: reference/window.ts
    const [N, C, H, W] = x.shape;
    const [kh, kw] = ks;
    const g = geom2d(n, H, W, kh, kw, attrInt(n, "ceil_mode", 0) === 1);
    const cip = attrInt(n, "count_include_pad", 0) === 1;
    const out = alloc("float", [N, C, g.oh, g.ow]);
    for (let p = 0; p < N * C; p++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let m = -Infinity, s = 0, cnt = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * g.sh - g.padT + ky * g.dh;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * g.sw - g.padL + kx * g.dw;
              if (ix < 0 || ix >= W) continue;
              const v = x.data[(p * H + iy) * W + ix];
              m = Math.max(m, v);
              s = f(s + v);
              cnt++;
            }
          }
          // count_include_pad: the window within the padded extent (a ceil_mode window may reach past it)
          const padded = Math.min(kh, H + g.padB - (oy * g.sh - g.padT)) * Math.min(kw, W + g.padR - (ox * g.sw - g.padL));
          out.data[(p * g.oh + oy) * g.ow + ox] = kind === "max" ? m : f(s / (cip ? padded : cnt));
        }
    return [out];
  };
}

export function globalPool(kind: "max" | "avg"): OpFn {
  return (_n, ins) => {
    const x = ins[0]!;
    const [N, C] = x.shape, hw = x.shape.slice(2).reduce((p, d) => p * d, 1);
    const out = alloc("float", [N, C, ...x.shape.slice(2).map(() => 1)]);
    for (let p = 0; p < N * C; p++) {
      let m = -Infinity, s = 0;
      for (let i = 0; i < hw; i++) {
        m = Math.max(m, x.data[p * hw + i]);
        s = f(s + x.data[p * hw + i]);
      }
      out.data[p] = kind === "max" ? m : f(s / hw);
    }
    return [out];
  };
}

/**
 * Softmax / LogSoftmax / Hardmax in float32, per slice: m = max, e = exp(x − m), s = Σ e in index
 * order, e/s or (x − m) − log s; Hardmax is 1 at the first maximum, 0 elsewhere. Opset ≥ 13 reduces
 * one axis; older opsets the coerced 2-D [Π d<axis, Π d≥axis].
 */
export function softmax(mode: "softmax" | "log" | "hard"): OpFn {
  const log = mode === "log";
  return (n, ins, opset) => {
    const x = ins[0]!, r = x.shape.length;
    const raw = attrInt(n, "axis", opset >= 13 ? -1 : 1), axis = raw < 0 ? raw + r : raw;
    if (axis < 0 || axis >= Math.max(1, r)) throw new RangeError(`axis ${raw} is out of range for rank ${r}`);
    const prod = (d: number[]) => d.reduce((p, v) => p * v, 1);
    const outer = prod(x.shape.slice(0, axis));
    const [len, inner] = opset >= 13 ? [x.shape[axis] ?? 1, prod(x.shape.slice(axis + 1))] : [prod(x.shape.slice(axis)), 1];
    const out = alloc("float", x.shape);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * len + k) * inner + i;
        let m = -Infinity, s = 0;
        for (let k = 0; k < len; k++) m = Number.isNaN(x.data[at(k)]) || Number.isNaN(m) ? NaN : Math.max(m, x.data[at(k)]);
        if (mode === "hard") {
          let first = -1;
          for (let k = 0; k < len; k++) if (first < 0 && x.data[at(k)] === m) first = k;
          for (let k = 0; k < len; k++) out.data[at(k)] = k === first ? 1 : 0;
          continue;
        }
        for (let k = 0; k < len; k++) s = f(s + f(Math.exp(f(x.data[at(k)] - m))));
        for (let k = 0; k < len; k++) {
          const d = f(x.data[at(k)] - m);
          out.data[at(k)] = log ? f(d - f(Math.log(s))) : f(f(Math.exp(d)) / s);
        }
      }
    return [out];
  };
}

/** LRN across channels: x · (bias + alpha/size · Σ_window x²)^(−beta), window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉. */
export const lrn: OpFn = (n, ins) => {
  const x = ins[0]!, size = attrInt(n, "size", 0);
  if (x.shape.length < 3 || size < 1) throw new RangeError("LRN needs an [N, C, spatial…] input and a size ≥ 1");
  const [N, C] = x.shape, inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const alpha = f(attrFloat(n, "alpha", 1e-4)), beta = f(attrFloat(n, "beta", 0.75)), bias = f(attrFloat(n, "bias", 1));
  const k = f(alpha / size), lo = (size - 1) >> 1, hi = size - 1 - lo;
  const out = alloc("float", x.shape);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) {
          const v = x.data[(b * C + j) * inner + i];
          s = f(s + f(v * v));
        }
        const at = (b * C + c) * inner + i;
        out.data[at] = f(x.data[at] * f(Math.pow(f(bias + f(k * s)), -beta)));
      }
  return [out];
};
