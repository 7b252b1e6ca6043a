// Ops: arithmetic of two or more tensors — Add, Sub, Mul, Div, Pow, Mod (binary, NumPy broadcast) and
// the variadic Max, Min, Sum, Mean. An activation with a per-channel constant runs as the Affine
// step's epilogue (a residual Add/Sum of two activations too); anything else is an elementwise program.
import { fail } from "../errors.ts";
import { attrInt, type Node } from "../ir/graph.ts";
import { mapN } from "../reference/broadcast.ts";
import { binary, f, req, variadic, type OpFn } from "../reference/kit.ts";
import { affine, binaryConst, floatIn, lowerElementwise, ones, shapeOf, wholeTensor, type Ctx } from "../passes/lower.ts";
import { binaryElem, type ElemCtx, type OpDef } from "./op_def.ts";

const ELEM_STEPS: OpDef["steps"] = ["Elementwise", "IndexMap"];
const AFFINE_STEPS: OpDef["steps"] = ["Affine", "Elementwise", "IndexMap"];

/** Max/Min/Sum/Mean of n inputs: a chain of one binary opcode (Mean divides by n; one input is a copy). */
const naryElem = (code: string) => (e: ElemCtx, n: Node): number => {
  let d = e.operand(n, 0);
  for (let i = 1; i < n.inputs.length; i++) d = e.emit(code, d, e.operand(n, i));
  if (n.op === "Mean") d = e.emit("div", d, e.k(n.inputs.length));
  else if (n.inputs.length === 1) d = e.emit("copy", d);
  return d;
};

const div: OpFn = (n, ins) => {
  const a = req(n, ins, 0);
  return binary(a.dtype === "int" ? (x, y) => Math.trunc(x / y) : (x, y) => x / y)(n, ins, 0);
};
// the result has the base's type: an integer base gives trunc(a^b) (onnxruntime casts std::pow's result)
const pow: OpFn = (n, ins) => [mapN([req(n, ins, 0), req(n, ins, 1)], req(n, ins, 0).dtype, req(n, ins, 0).dtype === "float" ? (a, b) => f(a ** b) : (a, b) => Math.trunc(a ** b))];
const mean: OpFn = (n, ins) => {
  const [s] = variadic((a, b) => f(a + b))(n, ins, 0);
  return [mapN([s], s.dtype, (v) => f(v / ins.length))];
};
const mod: OpFn = (n, ins) => {
  const a = req(n, ins, 0), fm = attrInt(n, "fmod", 0);
  if (a.dtype === "float" && !fm) throw new RangeError("Mod of floats needs fmod=1");
  return binary(fm ? (x, y) => x % y : (x, y) => x - Math.floor(x / y) * y)(n, ins, 0);
};

function lowerAdd(ctx: Ctx, n: Node) {
  const bc = binaryConst(ctx, n);
  if (bc) return affine(ctx, n, bc.x, { bias: bc.k });
  const [a, b] = n.inputs;
  const sa = shapeOf(ctx, a), sb = shapeOf(ctx, b);
  if (sa.join() !== sb.join() || wholeTensor(sa)) return lowerElementwise(ctx, n);
  const res = floatIn(ctx, b, n);
  return affine(ctx, n, a, { res });
}
function lowerSum(ctx: Ctx, n: Node) {
  // two activations of one shape: a residual add (caffe2 ResNets); anything else is elementwise
  const [a, b] = n.inputs;
  const act = (t: string) => !ctx.g.consts.has(t);
  if (n.inputs.length !== 2 || !act(a) || !act(b) || shapeOf(ctx, a).join() !== shapeOf(ctx, b).join() || shapeOf(ctx, a).join() !== shapeOf(ctx, n.outputs[0]).join() || wholeTensor(shapeOf(ctx, a))) return lowerElementwise(ctx, n);
  return affine(ctx, n, a, { res: floatIn(ctx, b, n) });
}
function lowerSub(ctx: Ctx, n: Node) {
  const bc = binaryConst(ctx, n);
  if (!bc) return lowerElementwise(ctx, n);
  return bc.constFirst
    ? affine(ctx, n, bc.x, { scale: ones(bc.k.length).fill(-1), bias: bc.k })
    : affine(ctx, n, bc.x, { bias: bc.k.map((v) => -v) });
}
function lowerMul(ctx: Ctx, n: Node) {
  const bc = binaryConst(ctx, n);
  if (!bc) return lowerElementwise(ctx, n);
  return affine(ctx, n, bc.x, { scale: bc.k });
}
/**
 * x / v for a per-channel constant v: x·(1/v) (an Affine scale) only where 1/v is exact in float32
 * (v = ±2^e: both are then the rounding of the same real number, bit for bit); any other v is the
 * elementwise program's div, as ONNX defines it (x·f(1/v) can differ from x/v in the last bit).
 */
function lowerDiv(ctx: Ctx, n: Node) {
  const bc = binaryConst(ctx, n);
  const exact = (v: number) => { const r = f(1 / v); return r !== 0 && Number.isFinite(r) && r * v === 1; }; // r·v is exact in double
  if (!bc || bc.constFirst || !bc.k.every(exact)) return lowerElementwise(ctx, n);
  return affine(ctx, n, bc.x, { scale: bc.k.map((v) => f(1 / v)) });
}

export const ARITH: OpDef[] = [
  { op: "Add", reference: binary((a, b) => a + b), run: (ctx, n) => lowerAdd(ctx, n), elementwise: binaryElem("add"), steps: AFFINE_STEPS },
  { op: "Sub", reference: binary((a, b) => a - b), run: (ctx, n) => lowerSub(ctx, n), elementwise: binaryElem("sub"), steps: AFFINE_STEPS },
  { op: "Mul", reference: binary((a, b) => a * b), run: (ctx, n) => lowerMul(ctx, n), elementwise: binaryElem("mul"), steps: AFFINE_STEPS },
  { op: "Div", reference: div, run: (ctx, n) => lowerDiv(ctx, n), elementwise: binaryElem("div"), steps: AFFINE_STEPS },
  { op: "Pow", reference: pow, elementwise: binaryElem("pow"), steps: ELEM_STEPS },
  {
    op: "Mod", attrs: { fmod: { type: "int", default: 0 } }, reference: mod, steps: ELEM_STEPS,
    elementwise: (e, n) => {
      if (!attrInt(n, "fmod", 0)) return fail("Mod of floats needs fmod=1", e.where(n));
      return e.emit("fmod", e.operand(n, 0), e.operand(n, 1));
    },
  },
  { op: "Max", reference: variadic(Math.max), elementwise: naryElem("max"), steps: ELEM_STEPS },
  { op: "Min", reference: variadic(Math.min), elementwise: naryElem("min"), steps: ELEM_STEPS },
  { op: "Sum", reference: variadic((a, b) => f(a + b)), run: (ctx, n) => lowerSum(ctx, n), elementwise: naryElem("add"), steps: AFFINE_STEPS },
  { op: "Mean", reference: mean, elementwise: naryElem("add"), steps: ELEM_STEPS },
];
