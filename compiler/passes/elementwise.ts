// Lowering helper: the float fallback for elementwise regions. A region (quant/region.ts: the
// elementwise subgraph between one float source tensor and a target) that the plan needs as a float
// tensor — a smooth activation (SiLU, Tanh, HardSwish…), a Sign or QDQ pair feeding a layer whose
// weights do not decompose — becomes a register program for the runtime's elementwise_f32 kernel.
// Each ONNX node becomes one or a few instructions in float32, as the ONNX operator defines it:
//   QuantizeLinear(x, s, zp) = clip(round_half_even(x / s) + zp, qmin, qmax)
//   DequantizeLinear(q, s, zp) = (q − zp)·s,  BatchNormalization = x·scale + shift,
//   Cast to bool = (x ≠ 0), to an integer type = trunc(x), booleans as 0/1.
// Operands are the region's sources (registers 0..n−1: one tensor, or the activations a Div/Max/…
// of several activations reads), earlier nodes' registers, or constants that broadcast per channel
// (constant rows). Anything else is refused with the node named.
import kernelList from "../../runtime/kernels.json" with { type: "json" };
import { fail } from "../errors.ts";
import { attrFloat, attrInt, attrStr, type Graph, type Node } from "../ir/graph.ts";
import type { ElemProgram } from "../ir/plan.ts";
import type { Tensor } from "../ir/tensor.ts";
import type { Region } from "../quant/region.ts";
import { bnScaleShift } from "../reference/nn.ts";
import { INT_RANGE } from "../reference/quant_ops.ts";
import { perChannel } from "./per_channel.ts";

const OPS: string[] = kernelList.elementwise_ops;
const UNARY: Record<string, string> = {
  Neg: "neg", Abs: "abs", Sign: "sign", Sqrt: "sqrt", Exp: "exp", Log: "log", Reciprocal: "reciprocal", Floor: "floor",
  Ceil: "ceil", Round: "round", Tanh: "tanh", Sigmoid: "sigmoid", Relu: "relu", Not: "not",
  Sin: "sin", Cos: "cos", Tan: "tan", Asin: "asin", Acos: "acos", Atan: "atan", Sinh: "sinh", Cosh: "cosh",
  Asinh: "asinh", Acosh: "acosh", Atanh: "atanh", Erf: "erf",
};
const BINARY: Record<string, string> = {
  Add: "add", Sub: "sub", Mul: "mul", Div: "div", Pow: "pow", Equal: "eq", Greater: "gt", GreaterOrEqual: "ge",
  Less: "lt", LessOrEqual: "le", And: "and", Or: "or", Xor: "xor",
};
const NARY: Record<string, string> = { Max: "max", Min: "min", Sum: "add", Mean: "add" };
const OTHER = ["Quant", "IntQuant", "Shrink", "Mod", "Identity", "Dropout", "Cast", "Where", "LeakyRelu", "Clip", "HardSigmoid", "BatchNormalization",
  "Elu", "Selu", "Celu", "Softplus", "Softsign", "HardSwish", "ThresholdedRelu", "PRelu", "BipolarQuant", "MultiThreshold",
  "QuantizeLinear", "DequantizeLinear", "Shape", "ConstantOfShape"];
/** ONNX ops the float fallback evaluates. */
export const FLOAT_ELEMENTWISE = new Set([...Object.keys(UNARY), ...Object.keys(BINARY), ...Object.keys(NARY), ...OTHER]);

const FLOAT_TYPES = new Set([1, 11]); // float, double (float16/bfloat16 would round: refused by the reference)
const BOOL_TYPE = 9;

/** The program of region r over its sources (default: its one source), registers 0..n−1 in that order. */
export function compileElementwise(g: Graph, r: Region, C: number, rank: number, sources: string[] = [r.source]): ElemProgram {
  const where = (n: Node) => ({ file: g.file, node: n.name, op: n.op });
  const regOf = new Map<string, number>(sources.map((s, i) => [s, i]));
  const code: number[] = [];
  const consts: number[] = [];
  let regs = sources.length;

  const constRow = (values: ArrayLike<number>): number => {
    const slot = consts.length / C;
    for (let c = 0; c < C; c++) consts.push(values.length === 1 ? values[0] : values[c]);
    return -1 - slot;
  };
  const k = (v: number) => constRow([v]);
  const operand = (n: Node, i: number): number => {
    const name = n.inputs[i];
    if (!name) return fail(`input ${i} is missing`, where(n));
    const reg = regOf.get(name);
    if (reg !== undefined) return reg;
    const t = g.consts.get(name);
    if (!t) return fail(`reads '${name}', which is neither the region's input '${sources.join("', '")}' nor a constant`, where(n));
    const v = perChannel(t, C, rank);
    if (!v) return fail(`constant '${name}' of shape [${t.shape}] does not broadcast per channel (C=${C})`, where(n));
    return constRow(v);
  };
  const emit = (op: string, a: number, b = 0, c = 0): number => {
    const d = regs++;
    code.push(OPS.indexOf(op), d, a, b, c);
    return d;
  };
  /** Per-axis QDQ parameters (axis 1 = channels, or a scalar). */
  const qdqParam = (n: Node, i: number): number => {
    const t = n.inputs[i] ? g.consts.get(n.inputs[i]) : undefined;
    if (!t) return fail(`QDQ parameter ${i} must be a constant`, where(n));
    if (t.data.length !== 1 && (t.data.length !== C || attrInt(n, "axis", 1) !== 1)) fail("QDQ parameters must be per-tensor or per-channel (axis 1)", where(n));
    return constRow(t.data);
  };

  for (const n of r.nodes) {
    let d: number;
    if (UNARY[n.op]) d = emit(UNARY[n.op], operand(n, 0));
    else if (BINARY[n.op]) d = emit(BINARY[n.op], operand(n, 0), operand(n, 1));
    else if (NARY[n.op]) {
      d = operand(n, 0);
      for (let i = 1; i < n.inputs.length; i++) d = emit(NARY[n.op], d, operand(n, i));
      if (n.op === "Mean") d = emit("div", d, k(n.inputs.length));
      else if (n.inputs.length === 1) d = emit("copy", d);
    } else
      switch (n.op) {
        case "Identity":
        case "Dropout":
          d = operand(n, 0);
          break;
        case "Cast": {
          const to = attrInt(n, "to", 1);
          d = FLOAT_TYPES.has(to) ? operand(n, 0) : to === BOOL_TYPE ? emit("not", emit("eq", operand(n, 0), k(0))) : emit("trunc", operand(n, 0));
          break;
        }
        case "Where":
          d = emit("where", operand(n, 0), operand(n, 1), operand(n, 2));
          break;
        case "Shrink": { // x < −λ ? x + bias : x > λ ? x − bias : 0
          const x = operand(n, 0), l = attrFloat(n, "lambd", 0.5), b = k(attrFloat(n, "bias", 0));
          d = emit("where", emit("lt", x, k(-l)), emit("add", x, b), emit("where", emit("gt", x, k(l)), emit("sub", x, b), k(0)));
          break;
        }
        case "Mod":
          if (!attrInt(n, "fmod", 0)) return fail("Mod of floats needs fmod=1", where(n));
          d = emit("fmod", operand(n, 0), operand(n, 1));
          break;
        case "LeakyRelu":
          d = emit("leaky_relu", operand(n, 0), k(attrFloat(n, "alpha", 0.01)));
          break;
        case "Clip": {
          // import (onnx/upgrade.ts) makes every bound an input, omitted ones ±FLT_MAX as onnxruntime clamps
          const bound = (i: number, dflt: number) => (n.inputs[i] ? operand(n, i) : k(dflt));
          d = emit("clip", operand(n, 0), bound(1, -Infinity), bound(2, Infinity));
          break;
        }
        // smooth activations as sequences of the opcodes (the reference, compiler/reference/ops.ts, runs the same)
        case "Elu": {
          const x = operand(n, 0);
          d = emit("where", emit("gt", x, k(0)), x, emit("mul", emit("sub", emit("exp", x), k(1)), k(attrFloat(n, "alpha", 1))));
          break;
        }
        case "Selu": {
          const x = operand(n, 0), al = k(attrFloat(n, "alpha", 1.67326319217681884765625));
          d = emit("mul", emit("where", emit("gt", x, k(0)), x, emit("sub", emit("mul", emit("exp", x), al), al)), k(attrFloat(n, "gamma", 1.05070102214813232421875)));
          break;
        }
        case "Celu": {
          const x = operand(n, 0), al = k(attrFloat(n, "alpha", 1));
          d = emit("add", emit("max", x, k(0)), emit("min", emit("mul", emit("sub", emit("exp", emit("div", x, al)), k(1)), al), k(0)));
          break;
        }
        case "Softplus": { // max(x, 0) + log(1 + e^−|x|): no overflow for large x
          const x = operand(n, 0);
          d = emit("add", emit("max", x, k(0)), emit("log", emit("add", emit("exp", emit("neg", emit("abs", x))), k(1))));
          break;
        }
        case "Softsign": {
          const x = operand(n, 0);
          d = emit("div", x, emit("add", emit("abs", x), k(1)));
          break;
        }
        case "HardSwish": {
          const x = operand(n, 0);
          d = emit("mul", x, emit("hard_sigmoid", x, k(Math.fround(1 / 6)), k(0.5)));
          break;
        }
        case "ThresholdedRelu": {
          const x = operand(n, 0);
          d = emit("where", emit("gt", x, k(attrFloat(n, "alpha", 1))), x, k(0));
          break;
        }
        // QONNX quantizers where no binary layer reads them (e.g. in front of a MaxPool), as their spec defines them
        case "BipolarQuant": // (x ≥ 0 ? 1 : −1)·scale
          d = emit("mul", emit("where", emit("ge", operand(n, 0), k(0)), k(1), k(-1)), operand(n, 1));
          break;
        case "MultiThreshold": { // out_scale·#{t : x ≥ thr[c][t]} + out_bias, channels on axis 1
          const thr = g.consts.get(n.inputs[1]);
          if (!thr || thr.shape.length !== 2 || (thr.shape[0] !== C && thr.shape[0] !== 1)) return fail("MultiThreshold thresholds must be a constant [C or 1, T]", where(n));
          if (attrStr(n, "data_layout", "NCHW") !== "NCHW") return fail("MultiThreshold with data_layout NHWC is not supported as a float program", where(n));
          const x = operand(n, 0), T = thr.shape[1];
          let cnt = k(0);
          for (let t = 0; t < T; t++) cnt = emit("add", cnt, emit("ge", x, constRow(Array.from({ length: thr.shape[0] }, (_, c) => thr.data[c * T + t]))));
          d = emit("add", emit("mul", cnt, k(attrFloat(n, "out_scale", 1))), k(attrFloat(n, "out_bias", 0)));
          break;
        }
        case "PRelu": // x < 0 ? slope·x : x with a per-channel slope: leaky_relu's own operation
          d = emit("leaky_relu", operand(n, 0), operand(n, 1));
          break;
        case "HardSigmoid":
          d = emit("hard_sigmoid", operand(n, 0), k(attrFloat(n, "alpha", 0.2)), k(attrFloat(n, "beta", 0.5)));
          break;
        case "BatchNormalization": {
          const ins = n.inputs.map((i) => (i ? g.consts.get(i) : undefined));
          if (ins.slice(1, 5).some((t) => !t)) fail("BatchNormalization parameters must be constant", where(n));
          const { scale, shift } = bnScaleShift(n, ins);
          d = emit("add", emit("mul", operand(n, 0), constRow(scale)), constRow(shift));
          break;
        }
        case "Quant":
        case "IntQuant": { // QONNX: q = clip(round(x/scale + zeropt), lo, hi); y = (q − zeropt)·scale
          const bw = g.consts.get(n.inputs[3]);
          if (!bw || bw.data.length !== 1) return fail("Quant bit width must be a constant scalar", where(n));
          const bits = bw.data[0], signed = attrInt(n, "signed", 1) === 1, narrow = attrInt(n, "narrow", 0) === 1;
          const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0;
          const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
          const s = operand(n, 1), z = operand(n, 2);
          const v = emit("add", emit("div", operand(n, 0), s), z);
          const mode = attrStr(n, "rounding_mode", "ROUND").toUpperCase();
          const q = mode === "ROUND" || mode === "HALF_EVEN" ? emit("round", v) : mode === "CEIL" ? emit("ceil", v) : mode === "FLOOR" ? emit("floor", v)
            : mode === "ROUND_TO_ZERO" ? emit("trunc", v)
            : mode === "HALF_UP" ? emit("where", emit("lt", v, k(0)), emit("neg", emit("floor", emit("add", emit("neg", v), k(0.5)))), emit("floor", emit("add", v, k(0.5))))
            : fail(`unknown rounding_mode '${mode}'`, where(n));
          d = emit("mul", emit("sub", emit("clip", q, k(lo), k(hi)), z), s);
          break;
        }
        case "QuantizeLinear": {
          const zpT = n.inputs[2] ? g.consts.get(n.inputs[2]) : undefined;
          const [lo, hi] = INT_RANGE[zpT?.itype ?? 2] ?? INT_RANGE[2];
          const q = emit("round", emit("div", operand(n, 0), qdqParam(n, 1)));
          d = emit("clip", n.inputs[2] ? emit("add", q, qdqParam(n, 2)) : q, k(lo), k(hi));
          break;
        }
        case "DequantizeLinear": {
          const x = operand(n, 0);
          d = emit("mul", n.inputs[2] ? emit("sub", x, qdqParam(n, 2)) : x, qdqParam(n, 1));
          break;
        }
        case "Shape":
          continue; // only read by ConstantOfShape (ones_like), whose output is a constant row
        case "ConstantOfShape": {
          const v = n.attrs.value as Tensor | undefined;
          d = k(v ? v.data[0] : 0);
          break;
        }
        default:
          return fail(`operator '${n.op}' has no float elementwise program (README "Supported ONNX" lists the ops)`, where(n));
      }
    regOf.set(n.outputs[0], d);
  }
  let result = regOf.get(r.target)!;
  if (result < sources.length) result = emit("copy", result); // the program must write a register other than its inputs
  return { code: Int32Array.from(code), consts: Float32Array.from(consts), regs, result, ops: r.nodes.map((n) => n.op), nsrc: sources.length };
}
