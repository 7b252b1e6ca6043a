// Ops: MaxPool, AveragePool (2-D on the channels-last pool kernels; 1-D/3-D or dilated as windows —
// an index map — reduced per window) and the global pools GlobalAveragePool / GlobalMaxPool.
import { fail } from "../errors.ts";
import { attrInt, attrInts, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { geom2d } from "../reference/nn.ts";
import { geomNd, poolNd } from "../reference/window.ts";
import { f, type OpFn } from "../reference/kit.ts";
import { floatIn, newValue, pixels, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { poolWindows } from "../passes/windows.ts";
import { int, ints, str, type OpDef, type ShapeRule } from "./op_def.ts";

function poolRef(kind: "max" | "avg"): OpFn {
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

function globalPoolRef(kind: "max" | "avg"): OpFn {
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


/** Max/average pooling over 1 or 3+ spatial axes or with dilations: windows (an index map) reduced over each window. */
function lowerWindowPool(ctx: Ctx, n: Node, op: "MaxPool" | "AveragePool"): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), ys = shapeOf(ctx, n.outputs[0]);
  if (xs[0] !== 1) fail(`${op} input [${xs}] holds ${xs[0]} samples; mbn pools one sample at a time`, where(ctx, n));
  const [, C, ...dims] = xs, ceil = attrInt(n, "ceil_mode", 0) === 1;
  const g = geomNd(n, dims, attrInts(n, "kernel_shape", []), ceil);
  const K = sizeOf(g.k), P = sizeOf(g.out), idx = poolWindows(C, dims, g);
  // a mean over the whole window counts padding as zeros: right for count_include_pad (windows within the padded extent)
  if (op === "AveragePool" && idx.includes(-1) && !(attrInt(n, "count_include_pad", 0) === 1 && !ceil))
    fail("AveragePool over padding that count_include_pad=0 (or ceil_mode) leaves out of the divisor is not supported in N-D or dilated pooling", where(ctx, n));
  const win = push(ctx, {
    op: "IndexMap", node: n.name, in: floatIn(ctx, n.inputs[0], n, ONNX_ORDER), out: newValue(ctx, `${n.inputs[0]}⊞${n.name}`, "float", [1, C, P, K], 0, ONNX_ORDER),
    idx, fill: op === "MaxPool" ? -Infinity : 0, what: `${op} windows`,
  });
  return push(ctx, { op: "Reduce", node: n.name, in: win, out: newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER), kind: op === "MaxPool" ? "max" : "mean", outer: C * P, red: K, inner: 1 });
}

function pool(ctx: Ctx, n: Node, op: "MaxPool" | "AveragePool"): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]);
  const ks = attrInts(n, "kernel_shape", []);
  if (xs.length !== 4 || ks.length !== 2 || attrInts(n, "dilations", [1, 1]).some((d) => d !== 1)) return lowerWindowPool(ctx, n, op);
  if (xs.length !== 4 || ks.length !== 2) fail(`${op} on a rank-${xs.length} input: mbn supports 2-D pooling (rank 4)`, where(ctx, n));
  if (xs[0] !== 1) fail(`${op} input [${xs}] holds ${xs[0]} maps; mbn pools one sample ([1, C, H, W]) at a time`, where(ctx, n));
  const [kh, kw] = ks;
  const g = geom2d(n, xs[2], xs[3], kh, kw, attrInt(n, "ceil_mode", 0) === 1);
  if (g.dh !== 1 || g.dw !== 1) fail("dilated pooling is not supported", where(ctx, n));
  const inp = floatIn(ctx, n.inputs[0], n);
  return push(ctx, {
    op, node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])),
    geom: { ...g, c: xs[1], h: xs[2], w: xs[3] }, countIncludePad: attrInt(n, "count_include_pad", 0) === 1,
  });
}

/** GlobalAveragePool / GlobalMaxPool, and ReduceMean / ReduceMax over exactly the spatial axes (ops/reduce.ts). */
export function globalPool(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]);
  if (xs.length < 3 || xs[0] !== 1) fail(`${n.op} needs a [1, C, spatial…] input, got [${xs}]`, where(ctx, n));
  const inp = floatIn(ctx, n.inputs[0], n);
  const op = n.op === "GlobalMaxPool" || n.op === "ReduceMax" ? "GlobalMaxPool" : "GlobalAveragePool";
  return push(ctx, { op, node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])), c: xs[1], hw: pixels(xs) });
}

const pool2d: ShapeRule = (n, [x]) => {
  const ks = attrInts(n, "kernel_shape", []);
  if (x.shape.length !== 4 || ks.length !== 2) return undefined;
  const g = geom2d(n, x.shape[2], x.shape[3], ks[0], ks[1], attrInt(n, "ceil_mode", 0) === 1);
  return [x.shape[0], x.shape[1], g.oh, g.ow];
};

const POOL_ATTRS = { auto_pad: str("NOTSET"), ceil_mode: int(0), dilations: ints(), kernel_shape: ints(), pads: ints(), strides: ints() };

export const POOL: OpDef[] = [
  { op: "MaxPool", attrs: { ...POOL_ATTRS, storage_order: int(0) }, shape: pool2d, reference: poolRef("max"), run: (ctx, n) => pool(ctx, n, "MaxPool"), steps: ["MaxPool", "IndexMap", "Reduce"] },
  { op: "AveragePool", attrs: { ...POOL_ATTRS, count_include_pad: int(0) }, shape: pool2d, reference: poolRef("avg"), run: (ctx, n) => pool(ctx, n, "AveragePool"), steps: ["AveragePool", "IndexMap", "Reduce"] },
  { op: "GlobalAveragePool", reference: globalPoolRef("avg"), run: (ctx, n) => globalPool(ctx, n), steps: ["GlobalAveragePool"] },
  { op: "GlobalMaxPool", reference: globalPoolRef("max"), run: (ctx, n) => globalPool(ctx, n), steps: ["GlobalMaxPool"] },
];
