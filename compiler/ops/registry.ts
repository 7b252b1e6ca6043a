// The op registry: every op mbn accepts, one OpDef each (compiler/ops/*), and the tables the passes
// read, all derived from it — the reference interpreter's OPS, the shape rules, the run-time
// lowerings, the float elementwise emitters, the index-map and function ops. Add an op by adding its
// OpDef to a module and the module here; nothing else lists ops.
import { MIN_GRAPH_OPSET, type OpFn } from "../reference/kit.ts";
import type { ElemEmitter, LowerFn, OpDef, ShapeRule } from "./op_def.ts";
import { lowerIndexMap } from "../passes/lower.ts";
import { UNARY_MATH } from "./unary_math.ts";
import { ARITH } from "./arith.ts";
import { LOGIC } from "./logic.ts";
import { ACTIVATIONS } from "./activations.ts";
import { QUANT } from "./quant.ts";
import { CONV } from "./conv.ts";
import { DENSE } from "./dense.ts";
import { POOL } from "./pool.ts";
import { NORMALIZATION } from "./normalization.ts";
import { REDUCE } from "./reduce.ts";
import { SOFTMAX } from "./softmax.ts";
import { SELECT } from "./select.ts";
import { MOVEMENT } from "./movement.ts";
import { RESIZE } from "./resize.ts";
import { PAD } from "./pad.ts";
import { CONCAT } from "./concat.ts";
import { TRANSPOSE } from "./transpose.ts";
import { VIEW_OPS } from "./views.ts";
import { TENSOR_OPS } from "./tensor_ops.ts";
import { FUNCTIONS } from "./functions.ts";
import { RECURRENT } from "./recurrent.ts";
import { GRID_SAMPLE } from "./grid_sample.ts";

/** Each op module (its file name under compiler/ops/) and its OpDefs. */
const MODULES: [string, OpDef[]][] = [
  ["unary_math", UNARY_MATH], ["arith", ARITH], ["logic", LOGIC], ["activations", ACTIVATIONS], ["quant", QUANT], ["conv", CONV], ["dense", DENSE],
  ["pool", POOL], ["normalization", NORMALIZATION], ["reduce", REDUCE], ["softmax", SOFTMAX], ["select", SELECT], ["movement", MOVEMENT], ["resize", RESIZE], ["pad", PAD],
  ["concat", CONCAT], ["transpose", TRANSPOSE], ["views", VIEW_OPS], ["tensor_ops", TENSOR_OPS], ["functions", FUNCTIONS], ["recurrent", RECURRENT], ["grid_sample", GRID_SAMPLE],
];
const ALL: OpDef[] = MODULES.flatMap(([, defs]) => defs);
/** op → the module that defines it (README's op table). */
export const MODULE_OF: ReadonlyMap<string, string> = new Map(MODULES.flatMap(([m, defs]) => defs.map((d) => [d.op, `ops/${m}.ts`] as [string, string])));

/** op name → its definition (one per name: a duplicate is a programming error, refused at load). */
export const REGISTRY: ReadonlyMap<string, OpDef> = (() => {
  const m = new Map<string, OpDef>();
  for (const d of ALL) {
    if (m.has(d.op)) throw new Error(`internal: op '${d.op}' is registered twice`);
    m.set(d.op, d);
  }
  return m;
})();
const defs = [...REGISTRY.values()];
const table = <T>(pick: (d: OpDef) => T | undefined): Record<string, T> =>
  Object.fromEntries(defs.flatMap((d) => { const v = pick(d); return v === undefined ? [] : [[d.op, v]]; }));

/** The reference interpreter's table, refusing a graph recorded below opset 11: its nodes were not upgraded and could mean something else. */
export const OPS: Record<string, OpFn> = table((d) => d.reference && ((n, ins, opset) => {
  if (!(opset >= MIN_GRAPH_OPSET)) throw new RangeError(`internal compiler error: a graph at opset ${opset} reached the reference interpreter without onnx/upgrade.ts`);
  return d.reference!(n, ins, opset);
}) as OpFn);

/** Output shapes by rule (passes/infer_shapes.ts), for the ops whose evaluation costs as much as the model. */
export const SHAPE_RULES: Record<string, ShapeRule> = table((d) => d.shape);

/** Run-time lowerings (passes/lower.ts): the op's own, else its index map. */
export const LOWER: Record<string, LowerFn> = table((d) => {
  const run = d.run;
  if (run && d.indexMap) return ((ctx, n, out) => (out === 0 ? run(ctx, n, 0) : lowerIndexMap(ctx, n, out))) as LowerFn;
  if (run) return run;
  if (d.indexMap) return ((ctx, n, out) => lowerIndexMap(ctx, n, out)) as LowerFn;
  return undefined;
});

/** ONNX ops that lower to run-time layers (besides the float elementwise programs of FLOAT_ELEMENTWISE). */
export const RUNTIME_OPS: string[] = Object.keys(LOWER);

/** Float elementwise emitters (passes/elementwise.ts). */
export const ELEMENTWISE: Record<string, ElemEmitter> = table((d) => d.elementwise);
/** ONNX ops the float fallback evaluates. */
export const FLOAT_ELEMENTWISE = new Set(Object.keys(ELEMENTWISE));

/** Ops lowered by an index map (their first input is the data; every other input must be constant). */
export const INDEX_MAP_OPS = new Set(defs.filter((d) => d.indexMap).map((d) => d.op));
/** Ops whose lowering reads any output, not only the first. */
export const ANY_OUTPUT = new Set(defs.filter((d) => d.indexMap || d.anyOutput).map((d) => d.op));
/** ONNX function ops, expanded into their bodies first. */
export const FUNCTION_OPS = new Set(defs.filter((d) => d.expand).map((d) => d.op));
