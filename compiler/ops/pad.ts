// Op: Pad (constant, reflect, edge; pads, constant_value and axes as inputs). All-zero pads are a view
// (torch writes one in front of every default nn.AvgPool2d); constant padding of the spatial axes of
// a [1, C, H, W] map is a pad_f32 step; any other mode, axes or a crop is an index map.
import { fail } from "../errors.ts";
import { attrStr, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import type { ValueId } from "../ir/plan.ts";
import { f, ints, normAxis, req } from "../reference/kit.ts";
import { alias, floatIn, lowerIndexMap, newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { str, type OpDef } from "./op_def.ts";

/** Pad-11+: pads [begin…, end…] (negative crops), constant_value, optional axes; modes constant, reflect, edge. */
function pad(n: Node, ins: (Tensor | undefined)[]): Tensor {
  const x = req(n, ins, 0), r = x.shape.length, mode = attrStr(n, "mode", "constant");
  if (mode !== "constant" && mode !== "reflect" && mode !== "edge") throw new RangeError(`Pad mode '${mode}' is not supported`);
  const p = ints(ins[1]), axes = ins[3] ? ints(ins[3]).map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
  if (p.length !== 2 * axes.length) throw new RangeError(`Pad has ${p.length} pads for ${axes.length} axes`);
  const begin = new Array(r).fill(0), end = new Array(r).fill(0);
  axes.forEach((a, k) => ((begin[a] = p[k]), (end[a] = p[k + axes.length])));
  const value = ins[2] && ins[2].data.length ? ins[2].data[0] : 0;
  const shape = x.shape.map((d, i) => d + begin[i] + end[i]);
  if (shape.some((d) => d < 0)) throw new RangeError("Pad crops more than the tensor holds");
  if (mode !== "constant" && x.shape.some((d, i) => d === 0 && shape[i] > 0)) throw new RangeError(`Pad mode '${mode}' of an empty axis`);
  const out = alloc(x.dtype, shape);
  const strides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((q, d) => q * d, 1));
  const idx = new Array(r).fill(0);
  for (let o = 0; o < out.data.length; o++) {
    let src = 0, inside = true;
    for (let a = 0; a < r; a++) {
      let i = idx[a] - begin[a];
      const d = x.shape[a];
      if (i < 0 || i >= d) {
        if (mode === "constant") inside = false;
        else if (mode === "edge") i = Math.min(Math.max(i, 0), d - 1);
        else {
          if (d === 1) i = 0;
          else for (const period = 2 * (d - 1); i < 0 || i >= d; ) i = i < 0 ? -i : period - i; // reflect (edge value not repeated)
        }
      }
      src += i * strides[a];
    }
    out.data[o] = inside ? x.data[src] : value;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Pad: all-zero pads are a view (torch writes one in front of every default nn.AvgPool2d); constant
 * padding of the spatial axes of a [1, C, H, W] map is a pad_f32 step; any other mode or axes an index map.
 */
function lowerPad(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), ys = shapeOf(ctx, n.outputs[0]), r = xs.length;
  const t = ctx.g.consts.get(n.inputs[1]);
  if (!t) fail("the pads input must be constant", where(ctx, n));
  if (n.inputs[3] && !ctx.g.consts.has(n.inputs[3])) fail("the axes input must be constant", where(ctx, n));
  if (xs.join() === ys.join() && Array.from(t.data).every((v) => v === 0)) return alias(ctx, n);
  const mode = attrStr(n, "mode", "constant");
  const v = n.inputs[2] ? ctx.g.consts.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && !v) fail("the constant_value input must be constant", where(ctx, n));
  const growsOnly = ys.every((d, i) => d >= xs[i]) && ys[0] === xs[0] && ys[1] === xs[1];
  if (mode !== "constant" || r !== 4 || xs[0] !== 1 || !growsOnly) return lowerIndexMap(ctx, n); // reflect/edge, other axes, crops
  // where the input lands: the reference's own output shape, and the begin pads of axes 2 and 3
  const axes = n.inputs[3] ? Array.from(ctx.g.consts.get(n.inputs[3])!.data).map((a) => (a < 0 ? a + r : a)) : [0, 1, 2, 3];
  const begin = [0, 0, 0, 0];
  axes.forEach((a, k) => (begin[a] = t.data[k]));
  const inp = floatIn(ctx, n.inputs[0], n);
  return push(ctx, {
    op: "Pad", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", ys), h: xs[2], w: xs[3], c: xs[1], oh: ys[2], ow: ys[3],
    top: begin[2], left: begin[3], value: v ? f(v.data[0]) : 0,
  });
}

export const PAD: OpDef[] = [
  { op: "Pad", attrs: { mode: str("constant") }, reference: (n, ins) => [pad(n, ins)], run: (ctx, n) => lowerPad(ctx, n), indexMap: true, steps: ["Pad", "IndexMap"] },
];
