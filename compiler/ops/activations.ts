// Ops: the one-input activations with parameters — Relu and Clip (the Affine step's epilogue at run
// time), LeakyRelu, PRelu, HardSigmoid, HardSwish, Elu, Selu, Celu, Softplus, Softsign,
// ThresholdedRelu, Shrink. The reference is defined by the float32 operation sequence the elementwise
// program runs, each as the ONNX operator defines it.
import { fail } from "../errors.ts";
import { attrFloat, type Node } from "../ir/graph.ts";
import { mapN } from "../reference/broadcast.ts";
import { binary, f, req, unary } from "../reference/kit.ts";
import { affine, lowerElementwise, where, type Ctx } from "../passes/lower.ts";
import { float, sameShapeFloat, unaryElem, type OpDef } from "./op_def.ts";

const STEPS: OpDef["steps"] = ["Elementwise"];

function lowerClip(ctx: Ctx, n: Node) {
  // import (onnx/upgrade.ts) makes every bound an input, omitted ones ±FLT_MAX as onnxruntime clamps
  const lo = n.inputs[1] ? ctx.g.consts.get(n.inputs[1])?.data[0] : -Infinity;
  const hi = n.inputs[2] ? ctx.g.consts.get(n.inputs[2])?.data[0] : Infinity;
  if (lo === undefined || hi === undefined) return lowerElementwise(ctx, n); // bounds that are activations: a program over them
  return affine(ctx, n, n.inputs[0], { act: 2, lo, hi });
}

export const ACTIVATIONS: OpDef[] = [
  { op: "Relu", shape: sameShapeFloat, reference: unary((x) => Math.max(x, 0)), run: (ctx, n) => affine(ctx, n, n.inputs[0], { act: 1 }), elementwise: unaryElem("relu"), steps: ["Affine", "Elementwise"] },
  {
    op: "Clip", steps: ["Affine", "Elementwise"], run: (ctx, n) => lowerClip(ctx, n),
    reference: (n, ins) => {
      const x = req(n, ins, 0);
      const lo = ins[1] ? ins[1].data[0] : -Infinity;
      const hi = ins[2] ? ins[2].data[0] : Infinity;
      return [mapN([x], x.dtype, (v) => Math.min(Math.max(v, lo), hi))];
    },
    elementwise: (e, n) => {
      // import (onnx/upgrade.ts) makes every bound an input, omitted ones ±FLT_MAX as onnxruntime clamps
      const bound = (i: number, dflt: number) => (n.inputs[i] ? e.operand(n, i) : e.k(dflt));
      return e.emit("clip", e.operand(n, 0), bound(1, -Infinity), bound(2, Infinity));
    },
  },
  {
    op: "LeakyRelu", attrs: { alpha: float(0.01) }, shape: sameShapeFloat, steps: STEPS,
    reference: (n, ins) => unary((x) => (x < 0 ? f(x * f(attrFloat(n, "alpha", 0.01))) : x))(n, ins, 0),
    elementwise: (e, n) => e.emit("leaky_relu", e.operand(n, 0), e.k(attrFloat(n, "alpha", 0.01))),
  },
  // x < 0 ? slope·x : x with a per-channel slope: leaky_relu's own operation
  { op: "PRelu", reference: binary((x, s) => (x < 0 ? x * s : x)), elementwise: (e, n) => e.emit("leaky_relu", e.operand(n, 0), e.operand(n, 1)), steps: STEPS },
  {
    op: "HardSigmoid", attrs: { alpha: float(0.2), beta: float(0.5) }, shape: sameShapeFloat, steps: STEPS,
    reference: (n, ins) => {
      const al = f(attrFloat(n, "alpha", 0.2)), be = f(attrFloat(n, "beta", 0.5));
      return unary((x) => Math.max(0, Math.min(1, f(f(al * x) + be))))(n, ins, 0);
    },
    elementwise: (e, n) => e.emit("hard_sigmoid", e.operand(n, 0), e.k(attrFloat(n, "alpha", 0.2)), e.k(attrFloat(n, "beta", 0.5))),
  },
  {
    op: "HardSwish", shape: sameShapeFloat, steps: STEPS,
    reference: unary((x) => f(x * Math.max(0, Math.min(1, f(f(f(1 / 6) * x) + 0.5))))),
    elementwise: (e, n) => {
      const x = e.operand(n, 0);
      return e.emit("mul", x, e.emit("hard_sigmoid", x, e.k(Math.fround(1 / 6)), e.k(0.5)));
    },
  },
  {
    op: "Elu", attrs: { alpha: float(1) }, shape: sameShapeFloat, steps: STEPS,
    reference: (n, ins) => {
      const al = f(attrFloat(n, "alpha", 1));
      return unary((x) => (x > 0 ? x : f(f(f(Math.exp(x)) - 1) * al)))(n, ins, 0);
    },
    elementwise: (e, n) => {
      const x = e.operand(n, 0);
      return e.emit("where", e.emit("gt", x, e.k(0)), x, e.emit("mul", e.emit("sub", e.emit("exp", x), e.k(1)), e.k(attrFloat(n, "alpha", 1))));
    },
  },
  {
    op: "Selu", attrs: { alpha: float(1.67326319217681884765625), gamma: float(1.05070102214813232421875) }, shape: sameShapeFloat, steps: STEPS,
    reference: (n, ins) => {
      const al = f(attrFloat(n, "alpha", 1.67326319217681884765625)), ga = f(attrFloat(n, "gamma", 1.05070102214813232421875));
      return unary((x) => f((x > 0 ? x : f(f(f(Math.exp(x)) * al) - al)) * ga))(n, ins, 0);
    },
    elementwise: (e, n) => {
      const x = e.operand(n, 0), al = e.k(attrFloat(n, "alpha", 1.67326319217681884765625));
      return e.emit("mul", e.emit("where", e.emit("gt", x, e.k(0)), x, e.emit("sub", e.emit("mul", e.emit("exp", x), al), al)), e.k(attrFloat(n, "gamma", 1.05070102214813232421875)));
    },
  },
  {
    op: "Celu", attrs: { alpha: float(1) }, steps: STEPS,
    reference: (n, ins) => {
      const al = f(attrFloat(n, "alpha", 1));
      return unary((x) => f(Math.max(x, 0) + Math.min(f(f(f(Math.exp(f(x / al))) - 1) * al), 0)))(n, ins, 0);
    },
    elementwise: (e, n) => {
      const x = e.operand(n, 0), al = e.k(attrFloat(n, "alpha", 1));
      return e.emit("add", e.emit("max", x, e.k(0)), e.emit("min", e.emit("mul", e.emit("sub", e.emit("exp", e.emit("div", x, al)), e.k(1)), al), e.k(0)));
    },
  },
  {
    op: "Softplus", shape: sameShapeFloat, steps: STEPS,
    reference: unary((x) => f(Math.max(x, 0) + f(Math.log(f(f(Math.exp(-Math.abs(x))) + 1))))), // max(x, 0) + log(1 + e^−|x|)
    elementwise: (e, n) => { // max(x, 0) + log(1 + e^−|x|): no overflow for large x
      const x = e.operand(n, 0);
      return e.emit("add", e.emit("max", x, e.k(0)), e.emit("log", e.emit("add", e.emit("exp", e.emit("neg", e.emit("abs", x))), e.k(1))));
    },
  },
  {
    op: "Softsign", steps: STEPS,
    reference: unary((x) => f(x / f(Math.abs(x) + 1))),
    elementwise: (e, n) => {
      const x = e.operand(n, 0);
      return e.emit("div", x, e.emit("add", e.emit("abs", x), e.k(1)));
    },
  },
  {
    op: "ThresholdedRelu", attrs: { alpha: float(1) }, steps: STEPS,
    reference: (n, ins) => {
      const al = f(attrFloat(n, "alpha", 1));
      return unary((x) => (x > al ? x : 0))(n, ins, 0);
    },
    elementwise: (e, n) => {
      const x = e.operand(n, 0);
      return e.emit("where", e.emit("gt", x, e.k(attrFloat(n, "alpha", 1))), x, e.k(0));
    },
  },
  {
    op: "Shrink", attrs: { bias: float(0), lambd: float(0.5) }, steps: STEPS,
    reference: (n, ins) => {
      const l = f(attrFloat(n, "lambd", 0.5)), b = f(attrFloat(n, "bias", 0));
      return unary((x) => (x < -l ? f(x + b) : x > l ? f(x - b) : 0))(n, ins, 0);
    },
    elementwise: (e, n) => { // x < −λ ? x + bias : x > λ ? x − bias : 0
      const x = e.operand(n, 0), l = attrFloat(n, "lambd", 0.5), b = e.k(attrFloat(n, "bias", 0));
      return e.emit("where", e.emit("lt", x, e.k(-l)), e.emit("add", x, b), e.emit("where", e.emit("gt", x, e.k(l)), e.emit("sub", x, b), e.k(0)));
    },
  },
];
