// Ops: BatchNormalization (inference: x·scale + shift per channel, the Affine step's epilogue) and
// LRN across channels (AlexNet, GoogLeNet: its own run-time step).
import { fail } from "../errors.ts";
import { attrFloat, attrInt, type Node } from "../ir/graph.ts";
import { batchnorm, bnScaleShift, lrn } from "../reference/nn.ts";
import { f } from "../reference/kit.ts";
import { affine, floatIn, newValue, pixels, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { float, int, sameShapeFloat, type OpDef } from "./op_def.ts";

function lowerBatchNorm(ctx: Ctx, n: Node) {
  const ins = n.inputs.map((i) => (i ? ctx.g.consts.get(i) : undefined));
  if (ins.slice(1, 5).some((t) => !t)) fail("BatchNormalization parameters must be constant", where(ctx, n));
  const { scale, shift } = bnScaleShift(n, ins);
  return affine(ctx, n, n.inputs[0], { scale, bias: shift });
}

function lowerLRN(ctx: Ctx, n: Node) {
  const xs = shapeOf(ctx, n.inputs[0]);
  const size = attrInt(n, "size", 0);
  if (xs.length < 3 || xs[0] !== 1 || size < 1) fail(`LRN needs a [1, C, spatial…] input and a size ≥ 1, got [${xs}] and ${size}`, where(ctx, n));
  const inp = floatIn(ctx, n.inputs[0], n);
  return push(ctx, {
    op: "LRN", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", xs), npix: pixels(xs), c: xs[1], size,
    alpha: f(attrFloat(n, "alpha", 1e-4)), beta: f(attrFloat(n, "beta", 0.75)), bias: f(attrFloat(n, "bias", 1)),
  });
}

export const NORMALIZATION: OpDef[] = [
  {
    op: "BatchNormalization", attrs: { epsilon: float(1e-5), momentum: float(0.9), training_mode: int(0) }, shape: sameShapeFloat,
    reference: batchnorm, run: (ctx, n) => lowerBatchNorm(ctx, n), steps: ["Affine", "Elementwise"],
    elementwise: (e, n) => {
      const ins = n.inputs.map((i) => (i ? e.constOf(i) : undefined));
      if (ins.slice(1, 5).some((t) => !t)) fail("BatchNormalization parameters must be constant", e.where(n));
      const { scale, shift } = bnScaleShift(n, ins);
      return e.emit("add", e.emit("mul", e.operand(n, 0), e.constRow(scale)), e.constRow(shift));
    },
  },
  // elementwise in shape (run-time only)
  { op: "LRN", attrs: { alpha: float(1e-4), beta: float(0.75), bias: float(1), size: int() }, shape: (_n, [x]) => x.shape, reference: lrn, run: (ctx, n) => lowerLRN(ctx, n), steps: ["LRN"] },
];
