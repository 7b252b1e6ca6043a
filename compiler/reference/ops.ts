// Reference interpreter: the definition of every ONNX op mbn accepts, as a table op → function.
// Float results are float32 (rounded after every op, as ONNX runtimes do); integer results exact.
// Used for constant folding, quantizer probing and shape inference; never on a hot path.
import { attrFloat, attrInt, attrInts, attrStr, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, tensor, type DType, type Tensor } from "../ir/tensor.ts";
import { mapN } from "./broadcast.ts";
import { nnOps } from "./nn.ts";
import { quantOps } from "./quant_ops.ts";
import { movementOps } from "./movement.ts";
import { erf } from "./math.ts";

/**
 * One op: `opset` is the graph's, always ≥ 11 (onnx/upgrade.ts rewrites older models to their opset-11
 * forms); an op whose meaning changed after 11 (Softmax, Squeeze/Unsqueeze, Reduce*) reads it.
 */
export type OpFn = (node: Node, inputs: (Tensor | undefined)[], opset: number) => Tensor[];

const f = Math.fround;
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
};

export function req(node: Node, inputs: (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) throw new RangeError(`input ${i} is missing`);
  return t;
}
const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data as ArrayLike<number>) : []);
const normAxis = (a: number, rank: number) => {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= Math.max(rank, 1)) throw new RangeError(`axis ${a} out of range for rank ${rank}`);
  return r;
};

const unary = (fn: (x: number) => number, dtype?: DType): OpFn => (n, ins) => {
  const x = req(n, ins, 0);
  return [mapN([x], dtype ?? x.dtype, fn)];
};
const binary = (fn: (a: number, b: number) => number, dtype?: DType): OpFn => (n, ins) => {
  const a = req(n, ins, 0), b = req(n, ins, 1);
  return [mapN([a, b], dtype ?? a.dtype, a.dtype === "float" ? (x, y) => f(fn(x, y)) : fn)];
};
const variadic = (fn: (a: number, b: number) => number): OpFn => (n, ins) => {
  let acc = req(n, ins, 0);
  for (let i = 1; i < ins.length; i++) acc = mapN([acc, req(n, ins, i)], acc.dtype, fn);
  return [acc];
};

function reshapeTo(x: Tensor, shape: number[]): Tensor {
  if (sizeOf(shape) !== x.data.length) throw new RangeError(`cannot reshape [${x.shape}] to [${shape}]`);
  return { dtype: x.dtype, shape, data: x.data };
}

/**
 * Reduce* in float32, each output element folding its inputs in index order: sum, mean (sum / n),
 * max, min, prod, sumsq (Σ x²), l1 (Σ |x|), l2 (√Σ x²), logsum (log Σ x).
 */
function reduce(kind: "mean" | "max" | "min" | "sum" | "prod" | "sumsq" | "l1" | "l2" | "logsum"): OpFn {
  return (n, ins, opset) => {
    const x = req(n, ins, 0);
    const rank = x.shape.length;
    const axesFromInput = opset >= 18 || (kind === "sum" && opset >= 13); // (L1/L2/LogSum: 18 too)
    let axes = axesFromInput ? ints(ins[1]) : attrInts(n, "axes", []);
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

function transpose(x: Tensor, perm: number[]): Tensor {
  const rank = x.shape.length;
  const outShape = perm.map((p) => x.shape[p]);
  const out = alloc(x.dtype, outShape);
  const inStr = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((p, d) => p * d, 1));
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let o = 0;
    for (let a = 0; a < rank; a++) o += idx[a] * inStr[perm[a]];
    out.data[i] = x.data[o];
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Cast targets mbn computes exactly: float/double (as float32), bool, the integer types. */
const CAST_TYPES: Record<number, string> = { 1: "float", 11: "double", 9: "bool", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 12: "uint32", 13: "uint64" };

function castTo(x: Tensor, to: number): Tensor {
  // float16/bfloat16 round to 16-bit precision, strings and 8-/4-bit types are other encodings: refused
  if (!CAST_TYPES[to]) throw new RangeError(`Cast to ONNX type ${to} (${{ 8: "string", 10: "float16", 16: "bfloat16" }[to] ?? "8-/4-bit"}) is not supported`);
  const dtype: DType = to === 1 || to === 11 ? "float" : to === 9 ? "bool" : "int";
  const out = alloc(dtype, x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    out.data[i] = dtype === "bool" ? (v !== 0 ? 1 : 0) : dtype === "int" ? Math.trunc(v) : v;
  }
  if (dtype === "int") out.itype = to;
  return out;
}

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

function slice(n: Node, ins: (Tensor | undefined)[]): Tensor {
  const x = req(n, ins, 0);
  const rank = x.shape.length;
  const starts = ints(req(n, ins, 1)), ends = ints(req(n, ins, 2));
  if (starts.length !== ends.length) throw new RangeError(`Slice has ${starts.length} starts but ${ends.length} ends`);
  const axes = ints(ins[3]).map((a) => normAxis(a, rank));
  const steps = ints(ins[4]);
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

const cmp = (fn: (a: number, b: number) => boolean): OpFn => (n, ins) => [mapN([req(n, ins, 0), req(n, ins, 1)], "bool", (a, b) => (fn(a, b) ? 1 : 0))];

const TABLE: Record<string, OpFn> = {
  Identity: (n, ins) => [req(n, ins, 0)],
  Dropout: (n, ins) => {
    // inference: the identity; training mode (input 2 true) drops at random (opset < 7's is_test: onnx/upgrade.ts)
    if (ins[2] && ins[2].data[0]) throw new RangeError("Dropout in training mode is random");
    return [req(n, ins, 0)];
  },
  Constant: (n) => {
    const v = n.attrs.value ?? n.attrs.value_float ?? n.attrs.value_floats ?? n.attrs.value_int ?? n.attrs.value_ints;
    if (v === undefined) throw new RangeError("Constant without a supported value attribute");
    if (typeof v === "object" && !Array.isArray(v)) return [v as Tensor];
    const isF = "value_float" in n.attrs || "value_floats" in n.attrs;
    const arr = Array.isArray(v) ? (v as number[]) : [v as number];
    return [tensor(isF ? "float" : "int", Array.isArray(v) ? [arr.length] : [], arr)];
  },
  Add: binary((a, b) => a + b), Sub: binary((a, b) => a - b), Mul: binary((a, b) => a * b),
  Div: (n, ins) => {
    const a = req(n, ins, 0);
    return binary(a.dtype === "int" ? (x, y) => Math.trunc(x / y) : (x, y) => x / y)(n, ins, 0);
  },
  // the result has the base's type: an integer base gives trunc(a^b) (onnxruntime casts std::pow's result)
  Pow: (n, ins) => [mapN([req(n, ins, 0), req(n, ins, 1)], req(n, ins, 0).dtype, req(n, ins, 0).dtype === "float" ? (a, b) => f(a ** b) : (a, b) => Math.trunc(a ** b))],
  Max: variadic(Math.max), Min: variadic(Math.min),
  Sum: variadic((a, b) => f(a + b)),
  Mean: (n, ins) => {
    const [s] = variadic((a, b) => f(a + b))(n, ins, 0);
    return [mapN([s], s.dtype, (v) => f(v / ins.length))];
  },
  Mod: (n, ins) => {
    const a = req(n, ins, 0), fm = attrInt(n, "fmod", 0);
    if (a.dtype === "float" && !fm) throw new RangeError("Mod of floats needs fmod=1");
    return binary(fm ? (x, y) => x % y : (x, y) => x - Math.floor(x / y) * y)(n, ins, 0);
  },
  Xor: binary((a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0), "bool"),
  // trigonometric, hyperbolic and erf: float64, rounded once (kernels/elementwise_f32.ts does the same)
  Sin: unary((x) => f(Math.sin(x))), Cos: unary((x) => f(Math.cos(x))), Tan: unary((x) => f(Math.tan(x))),
  Asin: unary((x) => f(Math.asin(x))), Acos: unary((x) => f(Math.acos(x))), Atan: unary((x) => f(Math.atan(x))),
  Sinh: unary((x) => f(Math.sinh(x))), Cosh: unary((x) => f(Math.cosh(x))), Asinh: unary((x) => f(Math.asinh(x))),
  Acosh: unary((x) => f(Math.acosh(x))), Atanh: unary((x) => f(Math.atanh(x))), Erf: unary((x) => f(erf(x))),
  Shrink: (n, ins) => {
    const l = f(attrFloat(n, "lambd", 0.5)), b = f(attrFloat(n, "bias", 0));
    return unary((x) => (x < -l ? f(x + b) : x > l ? f(x - b) : 0))(n, ins, 0);
  },
  Neg: unary((x) => -x), Abs: unary(Math.abs), Sign: unary((x) => (x > 0 ? 1 : x < 0 ? -1 : 0)),
  Sqrt: unary((x) => f(Math.sqrt(x))), Exp: unary((x) => f(Math.exp(x))), Log: unary((x) => f(Math.log(x))),
  Reciprocal: unary((x) => f(1 / x)), Floor: unary(Math.floor), Ceil: unary(Math.ceil),
  Round: unary(roundHalfEven), Tanh: unary((x) => f(Math.tanh(x))),
  Sigmoid: unary((x) => f(1 / (1 + Math.exp(-x)))),
  Relu: unary((x) => Math.max(x, 0)),
  LeakyRelu: (n, ins) => unary((x) => (x < 0 ? f(x * f(attrFloat(n, "alpha", 0.01))) : x))(n, ins, 0),
  // smooth activations, defined by the float32 operation sequence their elementwise programs run
  // (passes/elementwise.ts), each as the ONNX operator defines it
  Elu: (n, ins) => {
    const al = f(attrFloat(n, "alpha", 1));
    return unary((x) => (x > 0 ? x : f(f(f(Math.exp(x)) - 1) * al)))(n, ins, 0);
  },
  Selu: (n, ins) => {
    const al = f(attrFloat(n, "alpha", 1.67326319217681884765625)), ga = f(attrFloat(n, "gamma", 1.05070102214813232421875));
    return unary((x) => f((x > 0 ? x : f(f(f(Math.exp(x)) * al) - al)) * ga))(n, ins, 0);
  },
  Celu: (n, ins) => {
    const al = f(attrFloat(n, "alpha", 1));
    return unary((x) => f(Math.max(x, 0) + Math.min(f(f(f(Math.exp(f(x / al))) - 1) * al), 0)))(n, ins, 0);
  },
  Softplus: unary((x) => f(Math.max(x, 0) + f(Math.log(f(f(Math.exp(-Math.abs(x))) + 1))))), // max(x, 0) + log(1 + e^−|x|)
  Softsign: unary((x) => f(x / f(Math.abs(x) + 1))),
  HardSwish: unary((x) => f(x * Math.max(0, Math.min(1, f(f(f(1 / 6) * x) + 0.5))))),
  ThresholdedRelu: (n, ins) => {
    const al = f(attrFloat(n, "alpha", 1));
    return unary((x) => (x > al ? x : 0))(n, ins, 0);
  },
  PRelu: binary((x, s) => (x < 0 ? x * s : x)),
  HardSigmoid: (n, ins) => {
    const al = f(attrFloat(n, "alpha", 0.2)), be = f(attrFloat(n, "beta", 0.5));
    return unary((x) => Math.max(0, Math.min(1, f(f(al * x) + be))))(n, ins, 0);
  },
  Clip: (n, ins) => {
    const x = req(n, ins, 0);
    const lo = ins[1] ? ins[1].data[0] : -Infinity;
    const hi = ins[2] ? ins[2].data[0] : Infinity;
    return [mapN([x], x.dtype, (v) => Math.min(Math.max(v, lo), hi))];
  },
  Not: unary((x) => (x ? 0 : 1), "bool"),
  And: binary((a, b) => (a && b ? 1 : 0), "bool"), Or: binary((a, b) => (a || b ? 1 : 0), "bool"),
  Equal: cmp((a, b) => a === b), Greater: cmp((a, b) => a > b), GreaterOrEqual: cmp((a, b) => a >= b),
  Less: cmp((a, b) => a < b), LessOrEqual: cmp((a, b) => a <= b),
  Where: (n, ins) => {
    const x = req(n, ins, 1);
    return [mapN([req(n, ins, 0), x, req(n, ins, 2)], x.dtype, (c, a, b) => (c ? a : b))];
  },
  Cast: (n, ins) => [castTo(req(n, ins, 0), attrInt(n, "to", 1))],
  Shape: (n, ins) => {
    const x = req(n, ins, 0), r = x.shape.length;
    let s = attrInt(n, "start", 0), e = attrInt(n, "end", r);
    s = Math.min(Math.max(s < 0 ? s + r : s, 0), r);
    e = Math.min(Math.max(e < 0 ? e + r : e, 0), r);
    const dims = x.shape.slice(s, Math.max(s, e));
    return [tensor("int", [dims.length], dims)];
  },
  Size: (n, ins) => [tensor("int", [], [req(n, ins, 0).data.length])],
  ConstantOfShape: (n, ins) => {
    const shape = ints(req(n, ins, 0));
    const v = n.attrs.value as Tensor | undefined;
    const out = alloc(v ? v.dtype : "float", shape);
    out.data.fill(v ? v.data[0] : 0);
    return [out];
  },
  Gather: (n, ins) => {
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
  },
  Unsqueeze: (n, ins, opset) => {
    const x = req(n, ins, 0);
    const axes = opset >= 13 ? ints(ins[1]) : attrInts(n, "axes", []);
    const rank = x.shape.length + axes.length;
    const ax = new Set(axes.map((a) => normAxis(a, rank)));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(ax.has(i) ? 1 : x.shape[k++]);
    return [reshapeTo(x, shape)];
  },
  Squeeze: (n, ins, opset) => {
    const x = req(n, ins, 0);
    const axes = opset >= 13 ? ints(ins[1]) : attrInts(n, "axes", []);
    const ax = new Set(axes.map((a) => normAxis(a, x.shape.length)));
    return [reshapeTo(x, x.shape.filter((d, i) => (ax.size ? !ax.has(i) : d !== 1)))];
  },
  Flatten: (n, ins) => {
    const x = req(n, ins, 0);
    const axis = attrInt(n, "axis", 1);
    const a = axis < 0 ? axis + x.shape.length : axis;
    return [reshapeTo(x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
  },
  Reshape: (n, ins) => {
    const x = req(n, ins, 0);
    const spec = ints(req(n, ins, 1));
    const allowzero = attrInt(n, "allowzero", 0);
    const shape = spec.map((d, i) => (d === 0 && !allowzero ? x.shape[i] : d));
    const neg = shape.indexOf(-1);
    if (neg >= 0) {
      const known = shape.reduce((p, d, i) => (i === neg ? p : p * d), 1);
      shape[neg] = known === 0 ? 0 : x.data.length / known;
    }
    return [reshapeTo(x, shape)];
  },
  Transpose: (n, ins) => {
    const x = req(n, ins, 0);
    return [transpose(x, attrInts(n, "perm", x.shape.map((_, i) => x.shape.length - 1 - i)))];
  },
  Concat: (n, ins) => {
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
  },
  Expand: (n, ins) => {
    const x = req(n, ins, 0);
    const shape = ints(req(n, ins, 1));
    return [mapN([x, alloc(x.dtype, shape)], x.dtype, (a) => a)];
  },
  Range: (n, ins) => {
    const s = req(n, ins, 0).data[0], l = req(n, ins, 1).data[0], d = req(n, ins, 2).data[0];
    const cnt = Math.max(Math.ceil((l - s) / d), 0);
    return [tensor(req(n, ins, 0).dtype, [cnt], Array.from({ length: cnt }, (_, i) => s + i * d))];
  },
  Slice: (n, ins) => [slice(n, ins)],
  Pad: (n, ins) => [pad(n, ins)],
  ReduceMean: reduce("mean"), ReduceMax: reduce("max"), ReduceMin: reduce("min"),
  ReduceL1: reduce("l1"), ReduceL2: reduce("l2"), ReduceLogSum: reduce("logsum"),
  ReduceSum: reduce("sum"), ReduceProd: reduce("prod"), ReduceSumSquare: reduce("sumsq"),
  ...nnOps,
  ...quantOps,
  ...movementOps,
};

/** The oldest graph opset the op table reads (onnx/upgrade.ts TARGET_OPSET; not imported, to keep the reference free of the importer). */
export const MIN_GRAPH_OPSET = 11;

/** Every op, refusing a graph recorded below opset 11: its nodes were not upgraded and could mean something else. */
export const OPS: Record<string, OpFn> = Object.fromEntries(Object.entries(TABLE).map(([op, fn]) => [op, ((n, ins, opset) => {
  if (!(opset >= MIN_GRAPH_OPSET)) throw new RangeError(`internal compiler error: a graph at opset ${opset} reached the reference interpreter without onnx/upgrade.ts`);
  return fn(n, ins, opset);
}) as OpFn]));
