// Reference interpreter: the data-movement ops that only rearrange, repeat or pick elements —
// DepthToSpace, SpaceToDepth, Tile, Split, Resize (nearest), and the selections TopK, ArgMax,
// ArgMin — by their ONNX definitions. The
// compiler runs them on an index tensor to get their index maps (passes/index_map.ts), so each is
// written as "output element ← input element", never arithmetic on the values.
import { attrInt, attrInts, attrStr } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import type { OpFn } from "./kit.ts";

const f = Math.fround;
const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data as ArrayLike<number>) : []);
const strides = (shape: number[]) => shape.map((_, i) => sizeOf(shape.slice(i + 1)));

/** out[i] = x[src(outIndex)] over the output's multi-index, in row-major order. */
function gather(x: Tensor, outShape: number[], src: (idx: number[]) => number): Tensor {
  const out = alloc(x.dtype, outShape);
  const r = outShape.length, idx = new Array(r).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = x.data[src(idx)];
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

function need(x: Tensor, rank: number, what: string) {
  if (x.shape.length !== rank) throw new RangeError(`${what} needs a rank-${rank} input, got [${x.shape}]`);
}

/**
 * DepthToSpace (blocksize b): [N, C·b², H, W] → [N, C, H·b, W·b]. DCR: channel (i·b + j)·C + c;
 * CRD: channel c·b² + i·b + j, for output pixel (h·b + i, w·b + j).
 */
export const depthToSpace: OpFn = (n, ins) => {
  const x = ins[0]!, b = attrInt(n, "blocksize", 0), mode = attrStr(n, "mode", "DCR");
  need(x, 4, "DepthToSpace");
  const [N, Cin, H, W] = x.shape;
  if (b < 1 || Cin % (b * b)) throw new RangeError(`blocksize ${b} does not divide ${Cin} channels into b² groups`);
  if (mode !== "DCR" && mode !== "CRD") throw new RangeError(`DepthToSpace mode '${mode}' is not DCR or CRD`);
  const C = Cin / (b * b), s = strides(x.shape);
  return [gather(x, [N, C, H * b, W * b], ([nn, c, y, xx]) => {
    const i = y % b, j = xx % b;
    const ch = mode === "DCR" ? (i * b + j) * C + c : c * b * b + i * b + j;
    return nn * s[0] + ch * s[1] + Math.floor(y / b) * s[2] + Math.floor(xx / b);
  })];
};

/** SpaceToDepth (blocksize b): [N, C, H, W] → [N, C·b², H/b, W/b], channel (i·b + j)·C + c ← pixel (h·b + i, w·b + j). */
export const spaceToDepth: OpFn = (n, ins) => {
  const x = ins[0]!, b = attrInt(n, "blocksize", 0);
  need(x, 4, "SpaceToDepth");
  const [N, C, H, W] = x.shape;
  if (b < 1 || H % b || W % b) throw new RangeError(`blocksize ${b} does not divide the map ${H}×${W}`);
  const s = strides(x.shape);
  return [gather(x, [N, C * b * b, H / b, W / b], ([nn, ch, y, xx]) => {
    const c = ch % C, k = Math.floor(ch / C), i = Math.floor(k / b), j = k % b;
    return nn * s[0] + c * s[1] + (y * b + i) * s[2] + xx * b + j;
  })];
};

/** Tile: output axis a repeats the input repeats[a] times (index mod the input's dim). */
export const tile: OpFn = (n, ins) => {
  const x = ins[0]!, rep = ints(ins[1]);
  if (rep.length !== x.shape.length || rep.some((r) => r < 0)) throw new RangeError(`Tile repeats [${rep}] do not match rank ${x.shape.length}`);
  const s = strides(x.shape);
  return [gather(x, x.shape.map((d, a) => d * rep[a]), (idx) => idx.reduce((p, i, a) => p + (i % x.shape[a]) * s[a], 0))];
};

/**
 * Split along `axis` into the sizes of the `split` input (opset 13+) or attribute (11), else into
 * equal parts: num_outputs (18+) or the number of outputs; the last part may be smaller (18+).
 */
export const split: OpFn = (n, ins, opset) => {
  const x = ins[0]!, r = x.shape.length;
  const raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= r) throw new RangeError(`axis ${raw} out of range for rank ${r}`);
  const d = x.shape[axis];
  let sizes = opset >= 13 ? ints(ins[1]) : attrInts(n, "split", []);
  if (!sizes.length) {
    const k = opset >= 18 && n.attrs.num_outputs !== undefined ? attrInt(n, "num_outputs", 0) : n.outputs.length;
    const part = Math.ceil(d / k);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
  }
  if (sizes.reduce((p, v) => p + v, 0) !== d) throw new RangeError(`split sizes [${sizes}] do not add up to ${d}`);
  const s = strides(x.shape);
  let off = 0;
  return sizes.map((len) => {
    const at = off;
    off += len;
    const shape = x.shape.map((v, a) => (a === axis ? len : v));
    return gather(x, shape, (idx) => idx.reduce((p, i, a) => p + (a === axis ? i + at : i) * s[a], 0));
  });
};

/**
 * Resize (opset 11+) in mode "nearest": each output coordinate is mapped back by
 * coordinate_transformation_mode and rounded by nearest_mode; scales or sizes per axis. Other modes
 * (linear, cubic) are arithmetic, not data movement, and are refused here.
 */
export const resize: OpFn = (n, ins) => {
  const x = ins[0]!, r = x.shape.length;
  const mode = attrStr(n, "mode", "nearest");
  if (mode !== "nearest") throw new RangeError(`Resize mode '${mode}' is not supported (nearest only)`);
  if (n.attrs.axes !== undefined || attrInt(n, "antialias", 0) !== 0) throw new RangeError("Resize with axes or antialias is not supported");
  if (attrStr(n, "keep_aspect_ratio_policy", "stretch") !== "stretch") throw new RangeError(`Resize keep_aspect_ratio_policy '${attrStr(n, "keep_aspect_ratio_policy", "")}' is not supported (stretch only)`);
  const ctm = attrStr(n, "coordinate_transformation_mode", "half_pixel"), nm = attrStr(n, "nearest_mode", "round_prefer_floor");
  const scalesT = ins[2] && ins[2].data.length ? ints(ins[2]) : [], sizesT = ins[3] && ins[3].data.length ? ints(ins[3]) : [];
  let scales: number[], outShape: number[];
  if (sizesT.length) {
    if (sizesT.length !== r) throw new RangeError(`Resize sizes [${sizesT}] do not match rank ${r}`);
    outShape = sizesT;
    scales = outShape.map((o, a) => f(o / x.shape[a]));
  } else {
    if (scalesT.length !== r) throw new RangeError(`Resize needs scales or sizes for all ${r} axes`);
    scales = scalesT.map((v) => f(v));
    outShape = x.shape.map((d, a) => Math.floor(d * scales[a]));
    // floor(d·scale) exactly (the ONNX text) and in float32 (onnxruntime) can differ: refuse rather than pick one
    x.shape.forEach((d, a) => {
      if (Math.floor(f(d * scales[a])) !== outShape[a]) throw new RangeError(`Resize output size of axis ${a} is ambiguous: floor(${d}·${scales[a]}) is ${outShape[a]} exactly but ${Math.floor(f(d * scales[a]))} in float32; give sizes instead of scales`);
    });
  }
  if (ctm === "tf_crop_and_resize") throw new RangeError("Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  // the source coordinate in float32, operation by operation, as onnxruntime computes it (a float64
  // coordinate can fall on the other side of an integer or a .5 tie)
  const back = (o: number, a: number): number => {
    const s = scales[a], lin = x.shape[a], lout = outShape[a];
    switch (ctm) {
      case "half_pixel": return f(f(f(o + 0.5) / s) - 0.5);
      case "pytorch_half_pixel": return lout > 1 ? f(f(f(o + 0.5) / s) - 0.5) : 0;
      case "align_corners": return lout === 1 ? 0 : f(f(o * (lin - 1)) / (lout - 1));
      case "asymmetric": return f(o / s);
      case "tf_half_pixel_for_nn": return f(f(o + 0.5) / s);
      case "half_pixel_symmetric": {
        const adj = f(lout / f(s * lin)), center = f(lin / 2), off = f(center * f(1 - adj));
        return f(f(off + f(f(o + 0.5) / s)) - 0.5);
      }
      default: throw new RangeError(`Resize coordinate_transformation_mode '${ctm}' is not supported`);
    }
  };
  const round = (v: number): number => {
    switch (nm) {
      case "round_prefer_floor": return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
      case "round_prefer_ceil": return Math.round(v);
      case "floor": return Math.floor(v);
      case "ceil": return Math.ceil(v);
      default: throw new RangeError(`Resize nearest_mode '${nm}' is not supported`);
    }
  };
  const s = strides(x.shape);
  return [gather(x, outShape, (idx) => idx.reduce((p, o, a) => p + Math.min(Math.max(round(back(o, a)), 0), x.shape[a] - 1) * s[a], 0))];
};

/**
 * TopK (k from the input, opset 10+) along `axis`: the k largest (or smallest) in order, equal values
 * by lower index; outputs values and int64 indices. ArgMax/ArgMin: the first (or, with
 * select_last_index, the last) extreme index, keepdims.
 */
function selectAlong(x: Tensor, axis: number, k: number, largest: boolean, last: boolean): { vals: number[][]; idx: number[][]; outer: number; inner: number } {
  const d = x.shape[axis], outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
  const vals: number[][] = [], idx: number[][] = [];
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const at = Array.from({ length: d }, (_, j) => j).filter((j) => !Number.isNaN(x.data[(o * d + j) * inner + i]));
      at.sort((a, b) => {
        const va = x.data[(o * d + a) * inner + i], vb = x.data[(o * d + b) * inner + i];
        return va !== vb ? (largest ? vb - va : va - vb) : last ? b - a : a - b;
      });
      for (let j = 0; j < d; j++) if (Number.isNaN(x.data[(o * d + j) * inner + i])) at.push(j); // NaNs last (as the kernel)
      idx.push(at.slice(0, k));
      vals.push(at.slice(0, k).map((j) => x.data[(o * d + j) * inner + i]));
    }
  return { vals, idx, outer, inner };
}

export const topk: OpFn = (n, ins) => {
  const x = ins[0]!, r = x.shape.length, raw = attrInt(n, "axis", -1), axis = raw < 0 ? raw + r : raw;
  const k = ints(ins[1])[0];
  if (!(k >= 0 && k <= x.shape[axis])) throw new RangeError(`TopK k=${k} is out of range for an axis of ${x.shape[axis]}`);
  const s = selectAlong(x, axis, k, attrInt(n, "largest", 1) === 1, false);
  const shape = x.shape.map((v, a) => (a === axis ? k : v));
  const vals = alloc(x.dtype, shape), idx = alloc("int", shape);
  for (let o = 0; o < s.outer; o++)
    for (let i = 0; i < s.inner; i++)
      for (let j = 0; j < k; j++) {
        vals.data[(o * k + j) * s.inner + i] = s.vals[o * s.inner + i][j];
        idx.data[(o * k + j) * s.inner + i] = s.idx[o * s.inner + i][j];
      }
  idx.itype = 7;
  return [vals, idx];
};

export const argExtreme = (largest: boolean): OpFn => (n, ins) => {
  const x = ins[0]!, r = x.shape.length, raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  const s = selectAlong(x, axis, 1, largest, attrInt(n, "select_last_index", 0) === 1);
  const keep = attrInt(n, "keepdims", 1) === 1;
  const out = alloc("int", keep ? x.shape.map((v, a) => (a === axis ? 1 : v)) : x.shape.filter((_, a) => a !== axis));
  s.idx.forEach((v, j) => (out.data[j] = v[0] ?? 0));
  out.itype = 7;
  return [out];
};
