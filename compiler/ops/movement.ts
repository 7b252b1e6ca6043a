// Ops: the pure data movements that run as index maps (passes/index_map.ts: the op's reference run on
// index tensors) — DepthToSpace, SpaceToDepth, Slice, Split (any output), Tile, Expand, Gather with
// constant indices (nearest Resize is an index map too: ops/resize.ts).
import { attrInt, attrInts, attrStr, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { mapN } from "../reference/broadcast.ts";
import { ints as intsOf, normAxis, req, type OpFn } from "../reference/kit.ts";
import { gather, need, strides } from "../reference/movement.ts";
import { int, ints, str, type OpDef } from "./op_def.ts";

/**
 * DepthToSpace (blocksize b): [N, C·b², H, W] → [N, C, H·b, W·b]. DCR: channel (i·b + j)·C + c;
 * CRD: channel c·b² + i·b + j, for output pixel (h·b + i, w·b + j).
 */
const depthToSpace: OpFn = (n, ins) => {
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
const spaceToDepth: OpFn = (n, ins) => {
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
const tile: OpFn = (n, ins) => {
  const x = ins[0]!, rep = intsOf(ins[1]);
  if (rep.length !== x.shape.length || rep.some((r) => r < 0)) throw new RangeError(`Tile repeats [${rep}] do not match rank ${x.shape.length}`);
  const s = strides(x.shape);
  return [gather(x, x.shape.map((d, a) => d * rep[a]), (idx) => idx.reduce((p, i, a) => p + (i % x.shape[a]) * s[a], 0))];
};

/**
 * Split along `axis` into the sizes of the `split` input (opset 13+) or attribute (11), else into
 * equal parts: num_outputs (18+) or the number of outputs; the last part may be smaller (18+).
 */
const split: OpFn = (n, ins, opset) => {
  const x = ins[0]!, r = x.shape.length;
  const raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= r) throw new RangeError(`axis ${raw} out of range for rank ${r}`);
  const d = x.shape[axis];
  let sizes = opset >= 13 ? intsOf(ins[1]) : attrInts(n, "split", []);
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

export function slice(n: Node, ins: (Tensor | undefined)[]): Tensor {
  const x = req(n, ins, 0);
  const rank = x.shape.length;
  const starts = intsOf(req(n, ins, 1)), ends = intsOf(req(n, ins, 2));
  if (starts.length !== ends.length) throw new RangeError(`Slice has ${starts.length} starts but ${ends.length} ends`);
  const axes = intsOf(ins[3]).map((a) => normAxis(a, rank));
  const steps = intsOf(ins[4]);
  const st = x.shape.map(() => 0), en = [...x.shape], sp = x.shape.map(() => 1);
  starts.forEach((s, i) => {
    const a = axes.length ? axes[i] : i, d = x.shape[a], step = steps[i] ?? 1;
    if (step === 0) throw new RangeError("slice step 0");
    const clampS = (v: number) => (v < 0 ? v + d : v);
    sp[a] = step;
    if (step > 0) {
      st[a] = Math.min(Math.max(clampS(s), 0), d);
      en[a] = Math.min(Math.max(clampS(ends[i]), 0), d);
    } else {
      st[a] = Math.min(Math.max(clampS(s), -1), d - 1);
      en[a] = Math.min(Math.max(clampS(ends[i]), -1), d - 1);
    }
  });
  const outShape = x.shape.map((_, a) => Math.max(0, Math.ceil((en[a] - st[a]) / sp[a])));
  const out = alloc(x.dtype, outShape);
  const inStr = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((p, d) => p * d, 1));
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let o = 0;
    for (let a = 0; a < rank; a++) o += (st[a] + idx[a] * sp[a]) * inStr[a];
    out.data[i] = x.data[o];
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

const gatherOp: OpFn = (n, ins) => {
  const x = req(n, ins, 0), ind = req(n, ins, 1);
  const axis = normAxis(attrInt(n, "axis", 0), x.shape.length);
  const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1)), d = x.shape[axis];
  const out = alloc(x.dtype, [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)]);
  const m = ind.data.length;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++) {
      let k = ind.data[j];
      if (k < 0) k += d;
      if (k < 0 || k >= d) throw new RangeError(`Gather index ${ind.data[j]} out of range for axis of size ${d}`);
      for (let i = 0; i < inner; i++) out.data[(o * m + j) * inner + i] = x.data[(o * d + k) * inner + i];
    }
  return [out];
};

const expand: OpFn = (n, ins) => {
  const x = req(n, ins, 0);
  const shape = intsOf(req(n, ins, 1));
  return [mapN([x, alloc(x.dtype, shape)], x.dtype, (a) => a)];
};

const STEPS: OpDef["steps"] = ["IndexMap"];

export const MOVEMENT: OpDef[] = [
  { op: "DepthToSpace", attrs: { blocksize: int(), mode: str("DCR") }, reference: depthToSpace, indexMap: true, steps: STEPS },
  { op: "SpaceToDepth", attrs: { blocksize: int() }, reference: spaceToDepth, indexMap: true, steps: STEPS },
  { op: "Slice", reference: (n, ins) => [slice(n, ins)], indexMap: true, steps: STEPS },
  { op: "Split", attrs: { axis: int(0), num_outputs: int(), split: ints() }, reference: split, indexMap: true, steps: STEPS },
  { op: "Tile", reference: tile, indexMap: true, steps: STEPS },
  { op: "Expand", reference: expand, indexMap: true, steps: STEPS },
  { op: "Gather", attrs: { axis: int(0) }, reference: gatherOp, indexMap: true, steps: STEPS },
];
