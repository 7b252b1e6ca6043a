// Ops: Softmax, LogSoftmax, Hardmax — the softmax_f32 step over rows of the reduced axis (moved
// innermost by index maps when it is neither the last axis nor the channels of one sample).
import { fail } from "../errors.ts";
import { attrInt, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { f, type OpFn } from "../reference/kit.ts";
import { axisMaps, floatIn, floatValue, newValue, pixels, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { int, type OpDef } from "./op_def.ts";

/**
 * Softmax / LogSoftmax / Hardmax in float32, per slice: m = max, e = exp(x − m), s = Σ e in index
 * order, e/s or (x − m) − log s; Hardmax is 1 at the first maximum, 0 elsewhere. Opset ≥ 13 reduces
 * one axis; older opsets the coerced 2-D [Π d<axis, Π d≥axis].
 */
function softmax(mode: "softmax" | "log" | "hard"): OpFn {
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


/**
 * Softmax / LogSoftmax: one row per reduced slice, the reduced elements contiguous. Opset ≥ 13
 * reduces one axis: the last (rows in ONNX order) or the channels of a [1, C, spatial…] map (rows of
 * channels-last pixels). Opsets < 13 reduce the 2-D coercion [Π d<axis, Π d≥axis]: with one row
 * (axis ≤ 1 at batch 1) the storage order does not matter and the result keeps it.
 */
function lowerSoftmax(ctx: Ctx, n: Node): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length, size = sizeOf(xs);
  const mode = n.op === "LogSoftmax" ? "log" : n.op === "Hardmax" ? "hard" : "softmax";
  const raw = attrInt(n, "axis", ctx.g.opset >= 13 ? -1 : 1), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= Math.max(1, r)) fail(`axis ${raw} is out of range for rank ${r}`, where(ctx, n));
  const step = (inp: ValueId, rows: number, len: number) =>
    push(ctx, { op: "Softmax", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", xs, 0, ctx.plan.values[inp].layout), rows, n: len, mode });
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) normalises over axis 0 (the batch)`);
  const inner = sizeOf(xs.slice(axis));
  // one row of the whole tensor: any storage order for (log-)softmax; hardmax's first maximum needs ONNX order
  if (ctx.g.opset < 13 && size === inner) return step(mode === "hard" ? floatIn(ctx, x, n, ONNX_ORDER) : floatValue(ctx, x), 1, size);
  if (ctx.g.opset < 13 || axis === r - 1) return step(floatIn(ctx, x, n, ONNX_ORDER), size / inner, inner);
  if (axis === 1 && xs[0] === 1) return step(floatIn(ctx, x, n), pixels(xs), xs[1]);
  // any other axis: [outer][len][inner] → [outer][inner][len] (index map), rows of len, and back
  const outer = sizeOf(xs.slice(0, axis)), len = xs[axis], rest = sizeOf(xs.slice(axis + 1));
  const { there, back } = axisMaps(outer, len, rest);
  const moved = (inp: ValueId, idx: Int32Array, name: string) =>
    push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, name, "float", xs, 0, ONNX_ORDER), idx, fill: 0, what: `${n.op} axis` });
  const t = moved(floatIn(ctx, x, n, ONNX_ORDER), there, `${x}@axis${axis}-last`);
  const y = push(ctx, { op: "Softmax", node: n.name, in: t, out: newValue(ctx, `${n.outputs[0]}@axis${axis}-last`, "float", xs, 0, ONNX_ORDER), rows: outer * rest, n: len, mode });
  return moved(y, back, n.outputs[0]);
}

// axis: 1 below opset 13, −1 from 13 (read per opset)
export const SOFTMAX: OpDef[] = ([["Softmax", "softmax"], ["LogSoftmax", "log"], ["Hardmax", "hard"]] as const).map(([op, mode]): OpDef => ({
  op, attrs: { axis: int() }, reference: softmax(mode), run: (ctx, n) => lowerSoftmax(ctx, n), steps: ["Softmax", "IndexMap"],
}));
