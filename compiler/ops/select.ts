// Ops: TopK (output 0 values, output 1 indices), ArgMax, ArgMin — the topk_f32 step along one axis.
import { fail } from "../errors.ts";
import { attrInt, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { ints, type OpFn } from "../reference/kit.ts";
import { axisMaps, floatIn, newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { int, type OpDef } from "./op_def.ts";

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

const topk: OpFn = (n, ins) => {
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

const argExtreme = (largest: boolean): OpFn => (n, ins) => {
  const x = ins[0]!, r = x.shape.length, raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  const s = selectAlong(x, axis, 1, largest, attrInt(n, "select_last_index", 0) === 1);
  const keep = attrInt(n, "keepdims", 1) === 1;
  const out = alloc("int", keep ? x.shape.map((v, a) => (a === axis ? 1 : v)) : x.shape.filter((_, a) => a !== axis));
  s.idx.forEach((v, j) => (out.data[j] = v[0] ?? 0));
  out.itype = 7;
  return [out];
};


/**
 * TopK (output 0: values, 1: indices), ArgMax, ArgMin along one axis: rows of that axis (moved
 * innermost by an index map when it is not the last), the topk_f32 kernel, and back. Indices are
 * float32 outputs (exact below 2^24), as the bundle's one output type.
 */
function lowerSelect(ctx: Ctx, n: Node, out: number): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length, name = n.outputs[out], ys = shapeOf(ctx, name);
  const arg = n.op !== "TopK";
  const raw = attrInt(n, "axis", arg ? 0 : -1), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= r) fail(`axis ${raw} is out of range for rank ${r}`, where(ctx, n));
  const kT = arg ? undefined : ctx.g.consts.get(n.inputs[1]);
  if (!arg && !kT) fail("TopK's k must be a constant", where(ctx, n));
  const k = arg ? 1 : kT!.data[0];
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) selects along axis 0 (the batch)`);
  const outer = sizeOf(xs.slice(0, axis)), len = xs[axis], inner = sizeOf(xs.slice(axis + 1));
  const step = { node: n.name, rows: outer * inner, n: len, k, largest: n.op !== "ArgMin" && (arg || attrInt(n, "largest", 1) === 1), indices: arg || out === 1, last: arg && attrInt(n, "select_last_index", 0) === 1 };
  let inp = floatIn(ctx, x, n, ONNX_ORDER);
  if (inner === 1) return push(ctx, { op: "TopK", ...step, in: inp, out: newValue(ctx, name, "float", ys, 0, ONNX_ORDER) });
  const { there, back } = axisMaps(outer, len, inner, k);
  inp = push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${x}@axis${axis}-last`, "float", [outer, inner, len], 0, ONNX_ORDER), idx: there, fill: 0, what: `${n.op} axis` });
  const sel = push(ctx, { op: "TopK", ...step, in: inp, out: newValue(ctx, `${name}@axis${axis}-last`, "float", [outer, inner, k], 0, ONNX_ORDER) });
  return push(ctx, { op: "IndexMap", node: n.name, in: sel, out: newValue(ctx, name, "float", ys, 0, ONNX_ORDER), idx: back, fill: 0, what: `${n.op} axis back` });
}

const ARG_ATTRS = { axis: int(0), keepdims: int(1), select_last_index: int(0) };

export const SELECT: OpDef[] = [
  { op: "TopK", attrs: { axis: int(-1), largest: int(1), sorted: int(1) }, reference: topk, run: (ctx, n, out) => lowerSelect(ctx, n, out), anyOutput: true, steps: ["TopK", "IndexMap"] },
  { op: "ArgMax", attrs: ARG_ATTRS, reference: argExtreme(true), run: (ctx, n) => lowerSelect(ctx, n, 0), steps: ["TopK", "IndexMap"] },
  { op: "ArgMin", attrs: ARG_ATTRS, reference: argExtreme(false), run: (ctx, n) => lowerSelect(ctx, n, 0), steps: ["TopK", "IndexMap"] },
];
