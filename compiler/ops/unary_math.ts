// Ops: the one-input float maps that differ only by their function — Neg, Abs, Sign, Sqrt, Exp, Log,
// Reciprocal, Floor, Ceil, Round, Tanh, Sigmoid, the trigonometric and hyperbolic functions, Erf.
// Each is the reference map and the one elementwise_f32 opcode of the same name.
import { erf } from "../reference/math.ts";
import { f, roundHalfEven, unary } from "../reference/kit.ts";
import { sameShapeFloat, unaryElem, type OpDef } from "./op_def.ts";

const def = (op: string, code: string, fn: (x: number) => number, extra: Partial<OpDef> = {}): OpDef =>
  ({ op, reference: unary(fn), elementwise: unaryElem(code), steps: ["Elementwise"], ...extra });

export const UNARY_MATH: OpDef[] = [
  def("Neg", "neg", (x) => -x), def("Abs", "abs", Math.abs), def("Sign", "sign", (x) => (x > 0 ? 1 : x < 0 ? -1 : 0)),
  def("Sqrt", "sqrt", (x) => f(Math.sqrt(x))), def("Exp", "exp", (x) => f(Math.exp(x))), def("Log", "log", (x) => f(Math.log(x))),
  def("Reciprocal", "reciprocal", (x) => f(1 / x)), def("Floor", "floor", Math.floor), def("Ceil", "ceil", Math.ceil),
  def("Round", "round", roundHalfEven),
  def("Tanh", "tanh", (x) => f(Math.tanh(x)), { shape: sameShapeFloat }),
  def("Sigmoid", "sigmoid", (x) => f(1 / (1 + Math.exp(-x))), { shape: sameShapeFloat }),
  // trigonometric, hyperbolic and erf: float64, rounded once (kernels/elementwise_f32.ts does the same)
  def("Sin", "sin", (x) => f(Math.sin(x))), def("Cos", "cos", (x) => f(Math.cos(x))), def("Tan", "tan", (x) => f(Math.tan(x))),
  def("Asin", "asin", (x) => f(Math.asin(x))), def("Acos", "acos", (x) => f(Math.acos(x))), def("Atan", "atan", (x) => f(Math.atan(x))),
  def("Sinh", "sinh", (x) => f(Math.sinh(x))), def("Cosh", "cosh", (x) => f(Math.cosh(x))), def("Asinh", "asinh", (x) => f(Math.asinh(x))),
  def("Acosh", "acosh", (x) => f(Math.acosh(x))), def("Atanh", "atanh", (x) => f(Math.atanh(x))), def("Erf", "erf", (x) => f(erf(x))),
];
