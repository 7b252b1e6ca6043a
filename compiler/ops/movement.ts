// Ops: the pure data movements that run as index maps (passes/index_map.ts: the op's reference run on
// index tensors) — DepthToSpace, SpaceToDepth, Slice, Split (any output), Tile, Expand, Gather with
// constant indices, nearest Resize.
import { attrInt, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { mapN } from "../reference/broadcast.ts";
import { ints as intsOf, normAxis, req, type OpFn } from "../reference/kit.ts";
import { depthToSpace, resize, spaceToDepth, split, tile } from "../reference/movement.ts";
import { float, int, ints, str, type OpDef } from "./op_def.ts";

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

const gather: OpFn = (n, ins) => {
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
  { op: "Gather", attrs: { axis: int(0) }, reference: gather, indexMap: true, steps: STEPS },
  {
    op: "Resize", reference: resize, indexMap: true, steps: STEPS,
    attrs: {
      antialias: int(0), axes: ints(), coordinate_transformation_mode: str("half_pixel"), cubic_coeff_a: float(-0.75), exclude_outside: int(0),
      extrapolation_value: float(0), keep_aspect_ratio_policy: str("stretch"), mode: str("nearest"), nearest_mode: str("round_prefer_floor"),
    },
  },
];
