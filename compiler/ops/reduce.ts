// Ops: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2,
// ReduceLogSum — one reference and one lowering, the kind differing: a Reduce step over one contiguous
// run of axes (others moved innermost by an index map first), or a global pool over the spatial axes.
import { fail } from "../errors.ts";
import { attrInt, attrInts, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ReduceKind, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf } from "../ir/tensor.ts";
import { f, ints as intsOf, normAxis, reshapeTo, req, type OpFn } from "../reference/kit.ts";
import { alias, floatIn, newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { globalPool } from "./pool.ts";
import { int, ints, type OpDef } from "./op_def.ts";

/**
 * Reduce* in float32, each output element folding its inputs in index order: sum, mean (sum / n),
 * max, min, prod, sumsq (Σ x²), l1 (Σ |x|), l2 (√Σ x²), logsum (log Σ x).
 */
function reduce(kind: "mean" | "max" | "min" | "sum" | "prod" | "sumsq" | "l1" | "l2" | "logsum"): OpFn {
  return (n, ins, opset) => {
    const x = req(n, ins, 0);
    const rank = x.shape.length;
    const axesFromInput = opset >= 18 || (kind === "sum" && opset >= 13); // (L1/L2/LogSum: 18 too)
    let axes = axesFromInput ? intsOf(ins[1]) : attrInts(n, "axes", []);
    const keep = attrInt(n, "keepdims", 1) === 1;
    if (axes.length === 0) {
      if (attrInt(n, "noop_with_empty_axes", 0)) return [x];
      axes = x.shape.map((_, i) => i);
    }
    const ax = new Set(axes.map((a) => normAxis(a, rank)));
    const outShape = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
    const out = alloc(x.dtype, outShape);
    const count = x.shape.reduce((p, d, i) => (ax.has(i) ? p * d : p), 1);
    const init = kind === "max" ? -Infinity : kind === "min" ? Infinity : kind === "prod" ? 1 : 0;
    out.data.fill(init);
    const strides = outShape.map((_, i) => outShape.slice(i + 1).reduce((p, d) => p * d, 1));
    const idx = new Array(rank).fill(0);
    const fl = x.dtype === "float" ? f : (v: number) => v;
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let a = 0; a < rank; a++) if (!ax.has(a)) o += idx[a] * strides[a];
      const v = x.data[i], cur = out.data[o];
      out.data[o] = kind === "max" ? Math.max(cur, v) : kind === "min" ? Math.min(cur, v)
        : kind === "prod" ? fl(cur * v) : kind === "sumsq" || kind === "l2" ? fl(cur + fl(v * v))
        : kind === "l1" ? fl(cur + Math.abs(v)) : fl(cur + v);
      for (let a = rank - 1; a >= 0; a--) {
        if (++idx[a] < x.shape[a]) break;
        idx[a] = 0;
      }
    }
    if (kind === "mean") for (let i = 0; i < out.data.length; i++) out.data[i] = fl(out.data[i] / count);
    if (kind === "l2") for (let i = 0; i < out.data.length; i++) out.data[i] = fl(Math.sqrt(out.data[i]));
    if (kind === "logsum") for (let i = 0; i < out.data.length; i++) out.data[i] = fl(Math.log(out.data[i]));
    return [keep ? out : reshapeTo(out, x.shape.filter((_, i) => !ax.has(i)))];
  };
}

const REDUCE_OPS: Record<string, ReduceKind> = {
  ReduceSum: "sum", ReduceMean: "mean", ReduceMax: "max", ReduceMin: "min", ReduceProd: "prod", ReduceSumSquare: "sumsq",
  ReduceL1: "l1", ReduceL2: "l2", ReduceLogSum: "logsum",
};

/**
 * Reduce* over one contiguous run of axes, in ONNX order ([outer][red][inner] → [outer][inner]);
 * ReduceMean / ReduceMax over exactly the spatial axes of [1, C, spatial…] (x.mean((2, 3))) run as
 * the channels-last global pools instead. Axes that are not one run are moved innermost first.
 */
function lowerReduce(ctx: Ctx, n: Node): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length;
  const t = n.inputs[1] ? ctx.g.consts.get(n.inputs[1]) : undefined;
  if (n.inputs[1] && !t) fail("the axes input must be constant", where(ctx, n));
  let axes = [...new Set((t ? Array.from(t.data) : attrInts(n, "axes", [])).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  if (!axes.length) {
    if (attrInt(n, "noop_with_empty_axes", 0)) return alias(ctx, n);
    axes = xs.map((_, i) => i);
  }
  const kind = REDUCE_OPS[n.op];
  if ((kind === "mean" || kind === "max") && r >= 3 && xs[0] === 1 && axes.join() === xs.slice(2).map((_, i) => i + 2).join()) return globalPool(ctx, n);
  if (axes[0] === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) reduces axis 0 (the batch)`);
  let inp = floatIn(ctx, x, n, ONNX_ORDER);
  let [outer, red, inner] = [sizeOf(xs.slice(0, axes[0])), sizeOf(xs.slice(axes[0], axes[axes.length - 1] + 1)), sizeOf(xs.slice(axes[axes.length - 1] + 1))];
  if (axes.some((a, k) => a !== axes[0] + k)) {
    // axes that are not one run: the kept axes, then the reduced ones (an index map), reduced as one run
    const perm = [...xs.keys()].filter((a) => !axes.includes(a)).concat(axes);
    const moved = perm.map((a) => xs[a]), stride = xs.map((_, a) => sizeOf(xs.slice(a + 1)));
    const idx = new Int32Array(sizeOf(xs)), at = new Array(r).fill(0);
    for (let i = 0; i < idx.length; i++) {
      idx[i] = perm.reduce((p, a, k) => p + at[k] * stride[a], 0);
      for (let k = r - 1; k >= 0; k--) {
        if (++at[k] < moved[k]) break;
        at[k] = 0;
      }
    }
    inp = push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${x}@[${perm}]`, "float", moved, 0, ONNX_ORDER), idx, fill: 0, what: `${n.op} axes [${axes}] innermost` });
    [outer, red, inner] = [sizeOf(xs) / sizeOf(axes.map((a) => xs[a])), sizeOf(axes.map((a) => xs[a])), 1];
  }
  return push(ctx, { op: "Reduce", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0]), 0, ONNX_ORDER), kind, outer, red, inner });
}

const ATTRS = { axes: ints(), keepdims: int(1), noop_with_empty_axes: int(0) };

export const REDUCE: OpDef[] = Object.entries(REDUCE_OPS).map(([op, kind]): OpDef => ({
  op, attrs: ATTRS, reference: reduce(kind), run: (ctx, n) => lowerReduce(ctx, n),
  steps: kind === "mean" ? ["Reduce", "IndexMap", "GlobalAveragePool"] : kind === "max" ? ["Reduce", "IndexMap", "GlobalMaxPool"] : ["Reduce", "IndexMap"],
}));
