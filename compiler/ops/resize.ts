// Op: Resize (opset 11+; Resize-10 and Upsample arrive upgraded). Its geometry — output shape from
// scales or sizes, each output coordinate mapped back by coordinate_transformation_mode in float32 as
// onnxruntime computes it — then per mode:
//   nearest:        one input element per output element (nearest_mode): an index map.
//   linear, cubic:  separable; along each resized axis a the output is Σ_i M_a[o][i]·x[i], where row o
//                   of the [out × in] matrix M_a holds the 2 (linear) or 4 (cubic, coefficient A) taps
//                   around the mapped coordinate, taps beyond the edge clamped onto it (or, with
//                   exclude_outside, dropped and the rest renormalised) — the ONNX reference's
//                   interpolation. At run time one matmul_f32 step per resized axis with M_a constant
//                   (ascending i, float32 after every multiply and add); the reference does the same.
import { fail } from "../errors.ts";
import { attrFloat, attrInt, attrStr, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { f, ints as intsOf, type OpFn } from "../reference/kit.ts";
import { gather, strides } from "../reference/movement.ts";
import { floatIn, lowerIndexMap, newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { pinnedConst } from "../passes/float_steps.ts";
import { float, int, ints, str, type OpDef } from "./op_def.ts";

interface Geometry {
  outShape: number[];
  /** The source coordinate of output index o along axis a (float32). */
  back: (o: number, a: number) => number;
}

/** Output shape and coordinate map of a Resize of input shape `xs` (throws a RangeError for what mbn does not take). */
function geometry(n: Node, xs: number[], ins: (Tensor | undefined)[]): Geometry {
  const r = xs.length;
  if (n.attrs.axes !== undefined || attrInt(n, "antialias", 0) !== 0) throw new RangeError("Resize with axes or antialias is not supported");
  if (attrStr(n, "keep_aspect_ratio_policy", "stretch") !== "stretch") throw new RangeError(`Resize keep_aspect_ratio_policy '${attrStr(n, "keep_aspect_ratio_policy", "")}' is not supported (stretch only)`);
  const ctm = attrStr(n, "coordinate_transformation_mode", "half_pixel");
  const scalesT = ins[2] && ins[2].data.length ? intsOf(ins[2]) : [], sizesT = ins[3] && ins[3].data.length ? intsOf(ins[3]) : [];
  let scales: number[], outShape: number[];
  if (sizesT.length) {
    if (sizesT.length !== r) throw new RangeError(`Resize sizes [${sizesT}] do not match rank ${r}`);
    outShape = sizesT;
    scales = outShape.map((o, a) => f(o / xs[a]));
  } else {
    if (scalesT.length !== r) throw new RangeError(`Resize needs scales or sizes for all ${r} axes`);
    scales = scalesT.map((v) => f(v));
    outShape = xs.map((d, a) => Math.floor(d * scales[a]));
    // floor(d·scale) exactly (the ONNX text) and in float32 (onnxruntime) can differ: refuse rather than pick one
    xs.forEach((d, a) => {
      if (Math.floor(f(d * scales[a])) !== outShape[a]) throw new RangeError(`Resize output size of axis ${a} is ambiguous: floor(${d}·${scales[a]}) is ${outShape[a]} exactly but ${Math.floor(f(d * scales[a]))} in float32; give sizes instead of scales`);
    });
  }
  if (ctm === "tf_crop_and_resize") throw new RangeError("Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  // the source coordinate in float32, operation by operation, as onnxruntime computes it (a float64
  // coordinate can fall on the other side of an integer or a .5 tie)
  const back = (o: number, a: number): number => {
    const s = scales[a], lin = xs[a], lout = outShape[a];
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
  const mode = attrStr(n, "mode", "nearest");
  if (mode === "linear" || mode === "cubic") {
    if (ctm === "tf_half_pixel_for_nn") throw new RangeError(`Resize coordinate_transformation_mode 'tf_half_pixel_for_nn' is for mode nearest, not ${mode}`);
    // where the ONNX reference (length_resized = scale·length, a real) and onnxruntime (the integer output length) could differ
    xs.forEach((d, a) => {
      if (outShape[a] !== d && ctm === "align_corners" && !sizesT.length && d * scales[a] !== outShape[a]) throw new RangeError(`Resize align_corners with scale ${scales[a]} on axis ${a} (${d}·${scales[a]} is not an integer) is read differently by onnxruntime and the ONNX reference; give sizes instead of scales`);
      if (outShape[a] === 1 && d > 1 && ctm === "pytorch_half_pixel" && mode === "cubic") throw new RangeError("Resize cubic pytorch_half_pixel to one element is read differently by onnxruntime and the ONNX reference");
    });
  }
  return { outShape, back };
}

/** Nearest: output index o along axis a reads input index round(back(o)) (nearest_mode), clamped to the edges. */
function nearest(n: Node, x: Tensor, g: Geometry): Tensor {
  const nm = attrStr(n, "nearest_mode", "round_prefer_floor");
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
  return gather(x, g.outShape, (idx) => idx.reduce((p, o, a) => p + Math.min(Math.max(round(g.back(o, a)), 0), x.shape[a] - 1) * s[a], 0));
}

/** Cubic convolution weights of the taps at distances 1 + t, t, 1 − t, 2 − t (t = the fractional part), coefficient A. */
function cubicCoeffs(t: number, A: number): number[] {
  const far = (d: number) => ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; // 1 < d < 2
  const near = (d: number) => ((A + 2) * d - (A + 3)) * d * d + 1; // d ≤ 1
  return [far(1 + t), near(t), near(1 - t), far(2 - t)];
}

/**
 * The interpolation matrix [lout][lin] (float32) of one axis: row o holds the taps around c = back(o).
 * With base = ⌊c⌋ and t = c − base (an integer c is base = c − 1, t = 1: the pixel on the left is
 * preferred, as the ONNX reference does), linear taps base, base+1 weigh 1 − t, t; cubic taps
 * base−1 … base+2 weigh cubicCoeffs(t). A tap beyond the edge reads the edge (or, exclude_outside,
 * weighs 0 and the others are renormalised to sum 1). Weights are summed in float64, stored float32.
 */
function axisMatrix(n: Node, g: Geometry, a: number, lin: number): Float32Array {
  const mode = attrStr(n, "mode", "nearest"), lout = g.outShape[a];
  const A = attrFloat(n, "cubic_coeff_a", -0.75), exclude = attrInt(n, "exclude_outside", 0) === 1;
  const m = new Float32Array(lout * lin), row = new Float64Array(lin);
  for (let o = 0; o < lout; o++) {
    const c = g.back(o, a);
    const base = Number.isInteger(c) ? c - 1 : Math.floor(c), t = c - base;
    const [first, w] = mode === "linear" ? [base, [1 - t, t]] : [base - 1, cubicCoeffs(t, A)];
    row.fill(0);
    let total = 0;
    for (let j = 0; j < w.length; j++) {
      const i = first + j;
      if (exclude && (i < 0 || i >= lin)) continue;
      total += w[j];
    }
    for (let j = 0; j < w.length; j++) {
      const i = first + j;
      if (exclude && (i < 0 || i >= lin)) continue;
      row[Math.min(Math.max(i, 0), lin - 1)] += exclude ? w[j] / total : w[j];
    }
    for (let i = 0; i < lin; i++) m[o * lin + i] = f(row[i]);
  }
  return m;
}

/** The axes a linear/cubic Resize changes, each with its matrix (an axis whose matrix is the identity is left alone). */
function resizedAxes(n: Node, xs: number[], g: Geometry): { a: number; m: Float32Array }[] {
  const out: { a: number; m: Float32Array }[] = [];
  xs.forEach((lin, a) => {
    const m = axisMatrix(n, g, a, lin);
    const identity = g.outShape[a] === lin && m.every((v, j) => v === (Math.floor(j / lin) === j % lin ? 1 : 0));
    if (!identity) out.push({ a, m });
  });
  return out;
}

/** y[o][p][i] = Σ_k m[p][k]·x[o][k][i] in ascending k, float32 after every multiply and add (matmul_f32's order). */
function applyAxis(x: Tensor, a: number, lout: number, m: Float32Array): Tensor {
  const lin = x.shape[a], outer = sizeOf(x.shape.slice(0, a)), inner = sizeOf(x.shape.slice(a + 1));
  const y = alloc("float", x.shape.map((d, i) => (i === a ? lout : d)));
  for (let o = 0; o < outer; o++)
    for (let p = 0; p < lout; p++)
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let k = 0; k < lin; k++) acc = f(acc + f(m[p * lin + k] * x.data[(o * lin + k) * inner + i]));
        y.data[(o * lout + p) * inner + i] = acc;
      }
  return y;
}

const resize: OpFn = (n, ins) => {
  const x = ins[0]!, mode = attrStr(n, "mode", "nearest");
  if (mode !== "nearest" && mode !== "linear" && mode !== "cubic") throw new RangeError(`Resize mode '${mode}' is not supported`);
  const g = geometry(n, x.shape, ins);
  if (mode === "nearest") return [nearest(n, x, g)];
  let y: Tensor = x.dtype === "float" ? x : { ...x, dtype: "float", data: Float32Array.from(x.data) };
  for (const { a, m } of resizedAxes(n, x.shape, g)) y = applyAxis(y, a, g.outShape[a], m);
  return [y];
};

/**
 * Linear/cubic Resize at run time: one matmul_f32 step per resized axis a, in ascending a, over the
 * tensor viewed as [outer][lin][inner] (ONNX order): the constant M_a [lout][lin] shared by all
 * `outer` products (A stride 0) times x's [lin][inner] block (B stride lin·inner) → [outer][lout][inner].
 */
function lowerResizeInterp(ctx: Ctx, n: Node): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), ys = shapeOf(ctx, n.outputs[0]);
  for (const i of n.inputs.slice(1)) if (i && !ctx.g.consts.has(i)) fail(`input '${i}' must be constant (only the data input may be an activation)`, where(ctx, n));
  let g: Geometry;
  try {
    g = geometry(n, xs, n.inputs.map((i) => (i ? ctx.g.consts.get(i) : undefined)));
  } catch (e) {
    return fail((e as Error).message, where(ctx, n));
  }
  if (g.outShape.join() !== ys.join()) fail(`internal: Resize geometry [${g.outShape}] for an output [${ys}]`, where(ctx, n));
  const axes = resizedAxes(n, xs, g);
  if (axes.some(({ a }) => a === 0)) ctx.plan.mixesSamples.push(`node '${n.name}' (Resize) interpolates along the batch axis`);
  let v = floatIn(ctx, x, n, ONNX_ORDER), shape = xs;
  if (!axes.length) return v;
  ctx.plan.notes.push(`${n.name} (Resize ${attrStr(n, "mode", "nearest")}) runs as ${axes.length} float matrix product(s), one per resized axis`);
  axes.forEach(({ a, m }, j) => {
    const lin = shape[a], lout = ys[a], outer = sizeOf(shape.slice(0, a)), inner = sizeOf(shape.slice(a + 1));
    const next = shape.map((d, i) => (i === a ? lout : d));
    const mat = pinnedConst(ctx, `${n.name}::axis${a}`, [lout, lin], m);
    const last = j === axes.length - 1;
    v = push(ctx, { op: "MatMul", node: n.name, in: mat, b: v, out: newValue(ctx, last ? n.outputs[0] : `${n.outputs[0]}·axis${a}`, "float", next, 0, ONNX_ORDER), batch: outer, m: lout, k: lin, n: inner, aStride: 0, bStride: lin * inner });
    shape = next;
  });
  return v;
}

export const RESIZE: OpDef[] = [
  {
    op: "Resize", reference: resize, indexMap: true, steps: ["IndexMap", "MatMul"],
    run: (ctx, n) => (attrStr(n, "mode", "nearest") === "nearest" ? lowerIndexMap(ctx, n) : lowerResizeInterp(ctx, n)),
    attrs: {
      antialias: int(0), axes: ints(), coordinate_transformation_mode: str("half_pixel"), cubic_coeff_a: float(-0.75), exclude_outside: int(0),
      extrapolation_value: float(0), keep_aspect_ratio_policy: str("stretch"), mode: str("nearest"), nearest_mode: str("round_prefer_floor"),
    },
  },
];
