// Lowering helper: small float steps in ONNX order for layers whose parameters are activations (a
// Gemm's B or C, a Conv's weights or bias, a BatchNormalization's statistics): a constant stored with
// its elements rearranged, an activation rearranged by an index map (a transpose, a per-channel
// broadcast), and an elementwise program over several same-shape sources built instruction by
// instruction (runtime/kernels.json's elementwise_ops, rows of one: constants are scalars).
import kernelList from "../../runtime/kernels.json" with { type: "json" };
import type { Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { sizeOf } from "../ir/tensor.ts";
import { elemOp } from "../../runtime/reference/kernels.ts";
import { floatIn, newValue, push, type Ctx } from "./lower.ts";

const OPS: string[] = kernelList.elementwise_ops;

/** A float value the blob holds: `data` (ONNX order) under `name` and `shape`. */
export function pinnedConst(ctx: Ctx, name: string, shape: number[], data: Float32Array): ValueId {
  const id = ctx.plan.values.length;
  ctx.plan.values.push({ id, name, kind: "float", shape, layout: ONNX_ORDER, planes: 0, pinned: "const", data });
  return id;
}

/** Tensor `name` (an activation or a constant) rearranged: y[i] = idx[i] ≥ 0 ? x[idx[i]] : 0, in ONNX order. */
export function gathered(ctx: Ctx, n: Node, name: string, outName: string, shape: number[], idx: Int32Array, what: string): ValueId {
  const t = ctx.g.consts.get(name);
  if (t) return pinnedConst(ctx, outName, shape, Float32Array.from(idx, (j) => (j < 0 ? 0 : t.data[j])));
  const inp = floatIn(ctx, name, n, ONNX_ORDER);
  return push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, outName, "float", shape, 0, ONNX_ORDER), idx, fill: 0, what });
}

/** Tensor `name` as it is (ONNX order): an activation's value, or the constant stored. */
export function plain(ctx: Ctx, n: Node, name: string): ValueId {
  const t = ctx.g.consts.get(name);
  return t ? pinnedConst(ctx, name, t.shape, Float32Array.from(t.data)) : floatIn(ctx, name, n, ONNX_ORDER);
}

/** The index map of a 2-D transpose: [R, C] → [C, R]. */
export function transpose2(R: number, C: number): Int32Array {
  const idx = new Int32Array(R * C);
  for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) idx[c * R + r] = r * C + c;
  return idx;
}

/** The index map that repeats a per-channel vector [C] over [N, C, inner…] (ONNX order). */
export function channelMap(shape: number[]): Int32Array {
  const C = shape[1] ?? 1, inner = sizeOf(shape.slice(2));
  return Int32Array.from({ length: sizeOf(shape) }, (_, i) => Math.floor(i / inner) % C);
}

export interface ProgramBuilder {
  src(i: number): number;
  k(v: number): number;
  emit(op: string, a: number, b?: number, c?: number): number;
}

/**
 * One Elementwise step over same-size sources (ONNX order, rows of one): the program `build` writes,
 * its result stored as tensor `outName` of `shape`. `ops` names what it evaluates (plan notes).
 */
export function programStep(ctx: Ctx, n: Node, srcs: ValueId[], outName: string, shape: number[], ops: string[], build: (b: ProgramBuilder) => number): ValueId {
  const code: number[] = [], consts: number[] = [];
  let regs = srcs.length;
  const b: ProgramBuilder = {
    src: (i) => i,
    k: (v) => (consts.push(v), -consts.length),
    emit: (op, a, x = 0, c = 0) => {
      const at = OPS.indexOf(op);
      if (at < 0) throw new Error(`internal: elementwise opcode '${op}' is not in runtime/kernels.json`);
      code.push(at, regs, a, x, c);
      return regs++;
    },
  };
  let result = build(b);
  if (result < srcs.length) result = b.emit("copy", result);
  const prog = { code: Int32Array.from(code), consts: Float32Array.from(consts), regs, result, ops, nsrc: srcs.length };
  ctx.plan.notes.push(`${n.name} runs as a float elementwise program (${ops.join(" → ")}) over ${srcs.length} source(s)`);
  return push(ctx, { op: "Elementwise", node: n.name, in: srcs[0], srcs: srcs.slice(1), out: newValue(ctx, outName, "float", shape, 0, ONNX_ORDER), c: 1, npix: sizeOf(shape), prog });
}

/**
 * The reference side of programStep: `build` evaluated on arrays of `size` floats (sources, then each
 * instruction), every opcode as the elementwise kernel's TypeScript reference computes it.
 */
export function arrayProgram(srcs: Float32Array[], size: number, build: (b: ProgramBuilder) => number): Float32Array {
  const regs: Float32Array[] = [...srcs];
  const zero = new Float32Array(size);
  const b: ProgramBuilder = {
    src: (i) => i,
    k: (v) => (regs.push(new Float32Array(size).fill(v)), regs.length - 1),
    emit: (op, a, x, c) => {
      const A = regs[a], X = x === undefined ? zero : regs[x], C = c === undefined ? zero : regs[c];
      regs.push(Float32Array.from(A, (v, i) => elemOp(op, v, X[i], C[i])));
      return regs.length - 1;
    },
  };
  return regs[build(b)];
}
