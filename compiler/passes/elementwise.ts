// Lowering helper: the float fallback for elementwise regions. A region (quant/region.ts: the
// elementwise subgraph between one float source tensor and a target) that the plan needs as a float
// tensor — a smooth activation (SiLU, Tanh, HardSwish…), a Sign or QDQ pair feeding a layer whose
// weights do not decompose — becomes a register program for the runtime's elementwise_f32 kernel.
// Each ONNX node becomes one or a few instructions in float32, as the ONNX operator defines it (its
// op module's emitter, OpDef.elementwise; this file is the register allocator they share):
//   QuantizeLinear(x, s, zp) = clip(round_half_even(x / s) + zp, qmin, qmax)
//   DequantizeLinear(q, s, zp) = (q − zp)·s,  BatchNormalization = x·scale + shift,
//   Cast to bool = (x ≠ 0), to an integer type = trunc(x), booleans as 0/1.
// Operands are the region's sources (registers 0..n−1: one tensor, or the activations a Div/Max/…
// of several activations reads), earlier nodes' registers, or constants that broadcast per channel
// (constant rows). Anything else is refused with the node named.
import kernelList from "../../runtime/kernels.json" with { type: "json" };
import { fail } from "../errors.ts";
import { attrInt, type Graph, type Node } from "../ir/graph.ts";
import type { ElemProgram } from "../ir/plan.ts";
import type { Tensor } from "../ir/tensor.ts";
import type { Region } from "../quant/region.ts";
import { ELEMENTWISE, FLOAT_ELEMENTWISE } from "../ops/registry.ts";
import type { ElemCtx } from "../ops/op_def.ts";
import { perChannel } from "./per_channel.ts";

const OPS: string[] = kernelList.elementwise_ops;
/** ONNX ops the float fallback evaluates (each op's emitter: OpDef.elementwise in compiler/ops/). */
export { FLOAT_ELEMENTWISE };

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

  const e: ElemCtx = { C, constOf: (name) => g.consts.get(name), operand, emit, k, constRow, qdqParam, where };
  for (const n of r.nodes) {
    const emitter = ELEMENTWISE[n.op];
    if (!emitter) return fail(`operator '${n.op}' has no float elementwise program (README "Supported ONNX" lists the ops)`, where(n));
    const d = emitter(e, n);
    if (d !== undefined) regOf.set(n.outputs[0], d);
  }
  let result = regOf.get(r.target)!;
  if (result < sources.length) result = emit("copy", result); // the program must write a register other than its inputs
  return { code: Int32Array.from(code), consts: Float32Array.from(consts), regs, result, ops: r.nodes.map((n) => n.op), nsrc: sources.length };
}
