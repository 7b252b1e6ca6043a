// Compiler IR, stage 1: the ONNX graph as imported (ops keep their ONNX names and semantics),
// with every constant held as a Tensor. Passes read it; lowering turns it into a Plan (plan.ts).
import type { Tensor } from "./tensor.ts";

export type Attr = number | number[] | string | string[] | Tensor;

export interface Node {
  name: string;
  op: string;
  domain: string;
  inputs: string[]; // "" = omitted optional input
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface ValueInfo {
  name: string;
  elemType?: number; // ONNX TensorProto data type (1 = float), where the model declares it
  shapeless?: true; // the model declares no shape at all (shape [] is then unknown, not a scalar)
  shape: (number | string)[]; // string = symbolic dimension (only the batch axis is allowed)
}

export interface Graph {
  file: string;
  opset: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  consts: Map<string, Tensor>;
  nodes: Node[]; // topologically sorted
  /** A model with several inputs: where each one lies in the bundle's one input buffer (passes/join_inputs.ts). */
  inputParts?: InputPart[];
  /** A model with several outputs: their names, in graph order, joined into one output (passes/join_outputs.ts). */
  outputNames?: string[];
}

/** One model input inside the bundle's input buffer: floats [offset, offset + size of shape). */
export interface InputPart {
  name: string;
  shape: number[];
  offset: number;
}

export const attrInt = (n: Node, k: string, d: number): number => (typeof n.attrs[k] === "number" ? (n.attrs[k] as number) : d);
export const attrFloat = attrInt;
export const attrInts = (n: Node, k: string, d: number[]): number[] => (Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : d);
export const attrStr = (n: Node, k: string, d: string): string => (typeof n.attrs[k] === "string" ? (n.attrs[k] as string) : d);

/** Map tensor name → consuming nodes. */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  return m;
}

/** Map tensor name → producing node. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}
