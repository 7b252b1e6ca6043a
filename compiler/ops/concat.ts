// Op: Concat. The reference along any axis; at run time along the channels (axis 1) of [1, C_i, …]
// tensors: one Concat step per input, each copying its channels into the output at its offset.
import { fail } from "../errors.ts";
import { attrInt, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { normAxis, type OpFn } from "../reference/kit.ts";
import { floatIn, newValue, pixels, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { int, type OpDef } from "./op_def.ts";

const concat: OpFn = (n, ins) => {
  const ts = ins.filter((t): t is Tensor => !!t);
  const axis = normAxis(attrInt(n, "axis", 0), ts[0].shape.length);
  const shape = [...ts[0].shape];
  shape[axis] = ts.reduce((p, t) => p + t.shape[axis], 0);
  const out = alloc(ts[0].dtype, shape);
  const outer = sizeOf(shape.slice(0, axis)), inner = sizeOf(shape.slice(axis + 1));
  let off = 0;
  for (const t of ts) {
    const d = t.shape[axis];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < d * inner; i++) out.data[(o * shape[axis] + off) * inner + i] = t.data[o * d * inner + i];
    off += d;
  }
  return [out];
};

/**
 * Concat along the channels (axis 1) of [1, C_i, …] tensors: one Concat step per input, in order,
 * each copying its channels into the output at its offset (channels-last rows, or one [1, F] row).
 */
function lowerConcat(ctx: Ctx, n: Node): ValueId {
  const ys = shapeOf(ctx, n.outputs[0]), r = ys.length;
  const raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  if (axis !== 1 || ys[0] !== 1) return lowerConcatOnnx(ctx, n, axis);
  const ins = n.inputs.filter((i) => i && sizeOf(shapeOf(ctx, i)) > 0);
  const parts = ins.map((i) => ({ name: i, c: shapeOf(ctx, i)[1] }));
  // inputs first (their steps may come in any order), then the copies in channel order
  const ids = parts.map((p) => floatIn(ctx, p.name, n));
  const out = newValue(ctx, n.outputs[0], "float", ys);
  let offset = 0;
  parts.forEach((p, k) => {
    push(ctx, { op: "Concat", node: n.name, in: ids[k], out, npix: pixels(ys), c: p.c, cOut: ys[1], offset });
    offset += p.c;
  });
  return out;
}

/**
 * Concat along any other axis (or of tensors whose first axis is not one sample), in ONNX order: the
 * output is [outer][Σ len_i][inner] and input i, [outer][len_i][inner], is copied at offset
 * Σ_{j<i} len_j·inner of each row — the same Concat step, rows of len_i·inner floats.
 */
function lowerConcatOnnx(ctx: Ctx, n: Node, axis: number): ValueId {
  const ys = shapeOf(ctx, n.outputs[0]);
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (Concat) joins along axis 0 (the batch)`);
  const outer = sizeOf(ys.slice(0, axis)), inner = sizeOf(ys.slice(axis + 1));
  const ins = n.inputs.filter((i) => i && sizeOf(shapeOf(ctx, i)) > 0);
  const ids = ins.map((i) => floatIn(ctx, i, n, ONNX_ORDER));
  const out = newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER);
  let offset = 0;
  ins.forEach((name, k) => {
    const c = shapeOf(ctx, name)[axis] * inner;
    push(ctx, { op: "Concat", node: n.name, in: ids[k], out, npix: outer, c, cOut: ys[axis] * inner, offset });
    offset += c;
  });
  return out;
}

export const CONCAT: OpDef[] = [{ op: "Concat", attrs: { axis: int() }, reference: concat, run: (ctx, n) => lowerConcat(ctx, n), steps: ["Concat"] }];
