// Reference interpreter: runs an ONNX-level Graph (or a subset of its nodes) on constant tensors.
// It is the oracle: constant folding, quantizer probing and shape inference all call it. Any failure
// inside an op becomes a CompileError naming the node and op.
import { CompileError, fail } from "../errors.ts";
import type { Graph, Node } from "../ir/graph.ts";
import type { Tensor } from "../ir/tensor.ts";
import { OPS } from "./ops.ts";

export function supported(op: string): boolean {
  return op in OPS;
}

/** Evaluate one node; `env` supplies its inputs. */
export function evalNode(g: Graph, n: Node, env: Map<string, Tensor>): Tensor[] {
  const fn = OPS[n.op];
  if (!fn) fail(`operator '${n.op}' is not supported by mbn`, { file: g.file, node: n.name, op: n.op });
  const ins = n.inputs.map((i) => {
    if (!i) return undefined;
    const t = env.get(i) ?? g.consts.get(i);
    if (!t) fail(`input '${i}' has no value`, { file: g.file, node: n.name, op: n.op });
    return t;
  });
  try {
    const outs = fn(n, ins, g.opset);
    return outs;
  } catch (e) {
    if (e instanceof CompileError) throw e;
    fail((e as Error).message || String(e), { file: g.file, node: n.name, op: n.op });
  }
}

/** Run `nodes` (topologically ordered) from the tensors in `env`; returns env extended with all outputs. */
export function run(g: Graph, env: Map<string, Tensor>, nodes: Node[] = g.nodes): Map<string, Tensor> {
  for (const n of nodes) {
    const outs = evalNode(g, n, env);
    n.outputs.forEach((o, i) => {
      if (o && outs[i]) env.set(o, outs[i]);
    });
  }
  return env;
}
