// Reference interpreter library: the op-function type and the small helpers every op's reference
// evaluation shares (required inputs, axes, NumPy-broadcast unary/binary/variadic maps, reshape).
// The op definitions themselves live in compiler/ops/ (one module per op or family).
import { sizeOf, type DType, type Tensor } from "../ir/tensor.ts";
import type { Node } from "../ir/graph.ts";
import { mapN } from "./broadcast.ts";

/**
 * One op: `opset` is the graph's, always ≥ 11 (onnx/upgrade.ts rewrites older models to their opset-11
 * forms); an op whose meaning changed after 11 (Softmax, Squeeze/Unsqueeze, Reduce*) reads it.
 */
export type OpFn = (node: Node, inputs: (Tensor | undefined)[], opset: number) => Tensor[];

/** The oldest graph opset the op table reads (onnx/upgrade.ts TARGET_OPSET; not imported, to keep the reference free of the importer). */
export const MIN_GRAPH_OPSET = 11;

export const f = Math.fround;
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
};

export function req(node: Node, inputs: (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) throw new RangeError(`input ${i} is missing`);
  return t;
}
export const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data as ArrayLike<number>) : []);
export const normAxis = (a: number, rank: number) => {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= Math.max(rank, 1)) throw new RangeError(`axis ${a} out of range for rank ${rank}`);
  return r;
};

export const unary = (fn: (x: number) => number, dtype?: DType): OpFn => (n, ins) => {
  const x = req(n, ins, 0);
  return [mapN([x], dtype ?? x.dtype, fn)];
};
export const binary = (fn: (a: number, b: number) => number, dtype?: DType): OpFn => (n, ins) => {
  const a = req(n, ins, 0), b = req(n, ins, 1);
  return [mapN([a, b], dtype ?? a.dtype, a.dtype === "float" ? (x, y) => f(fn(x, y)) : fn)];
};
export const variadic = (fn: (a: number, b: number) => number): OpFn => (n, ins) => {
  let acc = req(n, ins, 0);
  for (let i = 1; i < ins.length; i++) acc = mapN([acc, req(n, ins, i)], acc.dtype, fn);
  return [acc];
};
export const cmp = (fn: (a: number, b: number) => boolean): OpFn => (n, ins) => [mapN([req(n, ins, 0), req(n, ins, 1)], "bool", (a, b) => (fn(a, b) ? 1 : 0))];

export function reshapeTo(x: Tensor, shape: number[]): Tensor {
  if (sizeOf(shape) !== x.data.length) throw new RangeError(`cannot reshape [${x.shape}] to [${shape}]`);
  return { dtype: x.dtype, shape, data: x.data };
}
