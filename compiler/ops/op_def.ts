// The OpDef: everything mbn knows about one ONNX (or QONNX) op, in one object — its typed
// attributes, its shape rule, its reference evaluation, how it runs (a run-time lowering, a float
// elementwise program, an index map, an ONNX function body, or why it stays compile-time) and the
// plan step kinds it lowers to (the replica's gradients are per step kind: harness/replica).
// compiler/ops/registry.ts collects the op modules and derives every table the passes read.
import type { Attr, Node } from "../ir/graph.ts";
import type { Step, ValueId } from "../ir/plan.ts";
import type { Tensor } from "../ir/tensor.ts";
import type { OpFn } from "../reference/kit.ts";
import type { Ctx } from "../passes/lower.ts";
import type { ErrorWhere } from "../errors.ts";

export type AttrType = "int" | "float" | "ints" | "floats" | "string" | "strings" | "tensor";
export interface AttrDef {
  type: AttrType;
  default?: number | number[] | string; // absent: required, or no single default (read per case)
}
export const int = (d?: number): AttrDef => ({ type: "int", default: d });
export const float = (d?: number): AttrDef => ({ type: "float", default: d });
export const ints = (d?: number[]): AttrDef => ({ type: "ints", default: d });
export const floats = (d?: number[]): AttrDef => ({ type: "floats", default: d });
export const str = (d?: string): AttrDef => ({ type: "string", default: d });
export const strs = (): AttrDef => ({ type: "strings" });
export const tensorAttr = (): AttrDef => ({ type: "tensor" });

/** Output shape from the input tensors' shapes (undefined: let the reference decide, and refuse). */
export type ShapeRule = (n: Node, ins: Tensor[]) => number[] | undefined;

/** A run-time lowering of output `out` (0 unless the op lowers any output) into plan steps. */
export type LowerFn = (ctx: Ctx, n: Node, out: number) => ValueId;

/** The register program builder passes/elementwise.ts hands each op's emitter. */
export interface ElemCtx {
  C: number;
  constOf(name: string): Tensor | undefined;
  /** Register of input i: a source, an earlier node's register, or a per-channel constant row. */
  operand(n: Node, i: number): number;
  /** One instruction of runtime/kernels.json's elementwise_ops into a new register. */
  emit(op: string, a: number, b?: number, c?: number): number;
  /** A constant row of one value, or of C values (per channel). */
  k(v: number): number;
  constRow(values: ArrayLike<number>): number;
  /** A per-tensor or per-channel (axis 1) QDQ parameter row. */
  qdqParam(n: Node, i: number): number;
  where(n: Node): ErrorWhere;
}
/** The node's float32 program: the register holding its output (undefined: the node emits nothing). */
export type ElemEmitter = (e: ElemCtx, n: Node) => number | undefined;

/** What passes/expand_functions.ts hands a function op's body: new primitive nodes and constants. */
export interface FunctionBuilder {
  consts: Map<string, Tensor>;
  where: ErrorWhere;
  x: string; // input 0
  y: string; // output 0 (the body's last node must write it)
  rank: number | undefined; // x's rank where the importer knows it
  name(what: string): string;
  node(op: string, inputs: string[], attrs?: Record<string, Attr>, out?: string): string;
  scalar(v: number): string;
  /** ReduceMean with keepdims over `axes` (axes as an input from opset 18). */
  mean(x: string, axes: number[]): string;
  /** (x − E x) / √(Var x + eps) over `axes`. */
  normalize(axes: number[], eps: number, stats?: { mean?: string; invStd?: string }): string; // stats: also write Mean and InvStdDev there
}
export type Expander = (b: FunctionBuilder, n: Node) => void;

export type StepKind = Step["op"];

export interface OpDef {
  op: string;
  /** "qonnx": a QONNX/FINN custom op (onnx/load.ts QONNX_DOMAINS); default: the ONNX domain. */
  domain?: "qonnx";
  attrs?: Record<string, AttrDef>;
  /** Output shape without evaluating (passes/infer_shapes.ts): the ops that cost as much as the model. */
  shape?: ShapeRule;
  /** The definition: constant folding, quantizer probing, shapes, index maps. Absent only for function ops. */
  reference?: OpFn;
  /** Run-time lowering (passes/lower.ts calls it for a tensor the plan needs). */
  run?: LowerFn;
  /** Float elementwise program (passes/elementwise.ts); without `run`, the op's run-time form. */
  elementwise?: ElemEmitter;
  /** A pure data movement: lowered as an index map (passes/index_map.ts) of any of its outputs, unless `run` says otherwise. */
  indexMap?: true;
  /** Lowering reads any output, not only the first (TopK's indices). */
  anyOutput?: true;
  /** An ONNX function op: its body, expanded before folding (passes/expand_functions.ts). */
  expand?: Expander;
  /** Why the op never runs at run time (it folds, or lives inside a quantizer a binary layer absorbs). */
  stays?: string;
  /** Plan step kinds its lowering emits (besides Relayout copies, which any reader may get). */
  steps: StepKind[];
}

/** Shape rule of a per-element float map: the input's shape (its values never reach a shape). */
export const sameShapeFloat: ShapeRule = (_n, [x]) => (x.dtype === "float" ? x.shape : undefined);

/** Elementwise emitters for one opcode over input 0, or inputs 0 and 1. */
export const unaryElem = (code: string): ElemEmitter => (e, n) => e.emit(code, e.operand(n, 0));
export const binaryElem = (code: string): ElemEmitter => (e, n) => e.emit(code, e.operand(n, 0), e.operand(n, 1));
