// Ops: BatchNormalization (inference: x·scale + shift per channel, the Affine step's epilogue; with
// activation parameters, an elementwise program over them repeated per channel) and
// LRN across channels (AlexNet, GoogLeNet: its own run-time step).
import { fail } from "../errors.ts";
import { attrFloat, attrInt, type Node } from "../ir/graph.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import type { ValueId } from "../ir/plan.ts";
import { f, type OpFn } from "../reference/kit.ts";
import { affine, floatIn, newValue, pixels, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { channelMap, gathered, plain, programStep } from "../passes/float_steps.ts";
import { float, int, sameShapeFloat, type OpDef } from "./op_def.ts";

/** BatchNormalization (inference) as runtimes compute it: s = γ/√(var+ε), y = x·s + (β − mean·s). */
export function bnScaleShift(n: Node, ins: (Tensor | undefined)[]): { scale: Float32Array; shift: Float32Array } {
  const [, gm, bt, mean, v] = ins as Tensor[];
  const eps = f(attrFloat(n, "epsilon", 1e-5));
  const C = gm.data.length;
  const scale = new Float32Array(C), shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = f(gm.data[c] / f(Math.sqrt(f(v.data[c] + eps))));
    shift[c] = f(bt.data[c] - f(mean.data[c] * scale[c]));
  }
  return { scale, shift };
}

function batchnorm(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!;
  if (attrInt(n, "training_mode", 0)) throw new RangeError("training_mode=1 (batch statistics) is not an inference graph");
  // before opset 14 the mode is the number of outputs: Y, mean, var, saved_mean, saved_var is training mode
  if (n.outputs.slice(1).some(Boolean)) throw new RangeError("BatchNormalization with running-statistics outputs (mean, var, …) is training mode (batch statistics), not an inference graph");
  const { scale, shift } = bnScaleShift(n, ins);
  const C = x.shape[1], inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const out = alloc("float", x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = Math.floor(i / inner) % C;
    out.data[i] = f(f(x.data[i] * scale[c]) + shift[c]);
  }
  return [out];
}

/** LRN across channels: x · (bias + alpha/size · Σ_window x²)^(−beta), window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉. */
const lrn: OpFn = (n, ins) => {
  const x = ins[0]!, size = attrInt(n, "size", 0);
  if (x.shape.length < 3 || size < 1) throw new RangeError("LRN needs an [N, C, spatial…] input and a size ≥ 1");
  const [N, C] = x.shape, inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const alpha = f(attrFloat(n, "alpha", 1e-4)), beta = f(attrFloat(n, "beta", 0.75)), bias = f(attrFloat(n, "bias", 1));
  const k = f(alpha / size), lo = (size - 1) >> 1, hi = size - 1 - lo;
  const out = alloc("float", x.shape);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) {
          const v = x.data[(b * C + j) * inner + i];
          s = f(s + f(v * v));
        }
        const at = (b * C + c) * inner + i;
        out.data[at] = f(x.data[at] * f(Math.pow(f(bias + f(k * s)), -beta)));
      }
  return [out];
};


/**
 * BatchNormalization whose scale, bias, mean or var are activations: each [C] parameter repeated over
 * the input's shape (an index map; a constant stored so), then one elementwise program of the
 * reference's operations per element: s = γ/√(var+ε), y = x·s + (β − mean·s).
 */
function lowerActivationBatchNorm(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), C = xs[1] ?? 1;
  const params = n.inputs.slice(1, 5);
  for (const p of params) if (sizeOf(shapeOf(ctx, p)) !== C) fail(`parameter '${p}' of shape [${shapeOf(ctx, p)}] for ${C} channels`, where(ctx, n));
  if (xs[0] !== 1) ctx.plan.mixesSamples.push(`node '${n.name}' (BatchNormalization) repeats activation parameters across the batch axis`);
  const srcs = [plain(ctx, n, n.inputs[0]), ...params.map((p) => gathered(ctx, n, p, `${p}→[${xs}]`, xs, channelMap(xs), "broadcast"))];
  const eps = f(attrFloat(n, "epsilon", 1e-5));
  return programStep(ctx, n, srcs, n.outputs[0], xs, ["BatchNormalization"], (b) => {
    const s = b.emit("div", b.src(1), b.emit("sqrt", b.emit("add", b.src(4), b.k(eps))));
    const shift = b.emit("sub", b.src(2), b.emit("mul", b.src(3), s));
    return b.emit("add", b.emit("mul", b.src(0), s), shift);
  });
}

function lowerBatchNorm(ctx: Ctx, n: Node) {
  const ins = n.inputs.map((i) => (i ? ctx.g.consts.get(i) : undefined));
  if (ins.slice(1, 5).some((t) => !t)) return lowerActivationBatchNorm(ctx, n);
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
    reference: batchnorm, run: (ctx, n) => lowerBatchNorm(ctx, n), steps: ["Affine", "Elementwise", "IndexMap"],
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
