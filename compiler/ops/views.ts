// Ops: the views — Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout (inference). At run time
// the same storage (and layout) under a new name and shape, no step (passes/lower.ts alias).
import { attrInt, attrInts } from "../ir/graph.ts";
import { sizeOf } from "../ir/tensor.ts";
import { ints as intsOf, normAxis, req, reshapeTo, type OpFn } from "../reference/kit.ts";
import { alias } from "../passes/lower.ts";
import { float, int, ints, type ElemEmitter, type OpDef } from "./op_def.ts";

const dropout: OpFn = (n, ins) => {
  // inference: the identity; training mode (input 2 true) drops at random (opset < 7's is_test: onnx/upgrade.ts)
  if (ins[2] && ins[2].data[0]) throw new RangeError("Dropout in training mode is random");
  return [req(n, ins, 0)];
};

const unsqueeze: OpFn = (n, ins, opset) => {
  const x = req(n, ins, 0);
  const axes = opset >= 13 ? intsOf(ins[1]) : attrInts(n, "axes", []);
  const rank = x.shape.length + axes.length;
  const ax = new Set(axes.map((a) => normAxis(a, rank)));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.has(i) ? 1 : x.shape[k++]);
  return [reshapeTo(x, shape)];
};

const squeeze: OpFn = (n, ins, opset) => {
  const x = req(n, ins, 0);
  const axes = opset >= 13 ? intsOf(ins[1]) : attrInts(n, "axes", []);
  const ax = new Set(axes.map((a) => normAxis(a, x.shape.length)));
  return [reshapeTo(x, x.shape.filter((d, i) => (ax.size ? !ax.has(i) : d !== 1)))];
};

const flatten: OpFn = (n, ins) => {
  const x = req(n, ins, 0);
  const axis = attrInt(n, "axis", 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  return [reshapeTo(x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
};

const reshape: OpFn = (n, ins) => {
  const x = req(n, ins, 0);
  const spec = intsOf(req(n, ins, 1));
  const allowzero = attrInt(n, "allowzero", 0);
  const shape = spec.map((d, i) => (d === 0 && !allowzero ? x.shape[i] : d));
  const neg = shape.indexOf(-1);
  if (neg >= 0) {
    const known = shape.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    shape[neg] = known === 0 ? 0 : x.data.length / known;
  }
  return [reshapeTo(x, shape)];
};

const passThrough: ElemEmitter = (e, n) => e.operand(n, 0);

export const VIEW_OPS: OpDef[] = [
  { op: "Identity", reference: (n, ins) => [req(n, ins, 0)], run: (ctx, n) => alias(ctx, n), elementwise: passThrough, steps: [] },
  { op: "Dropout", attrs: { ratio: float(0.5), seed: int() }, reference: dropout, run: (ctx, n) => alias(ctx, n), elementwise: passThrough, steps: [] },
  { op: "Flatten", attrs: { axis: int(1) }, reference: flatten, run: (ctx, n) => alias(ctx, n), steps: [] },
  { op: "Reshape", attrs: { allowzero: int(0) }, reference: reshape, run: (ctx, n) => alias(ctx, n), steps: [] },
  { op: "Squeeze", attrs: { axes: ints() }, reference: squeeze, run: (ctx, n) => alias(ctx, n), steps: [] },
  { op: "Unsqueeze", attrs: { axes: ints() }, reference: unsqueeze, run: (ctx, n) => alias(ctx, n), steps: [] },
];
