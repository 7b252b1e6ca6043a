// Pass: static shapes of one sample. Each node's outputs come from the reference interpreter run on
// a zero input (the interpreter is the definition of every op, so its shapes are the ONNX shapes),
// except the ops whose evaluation costs as much as the model itself — Conv, Gemm, MatMul, the 2-D
// pools and the per-element float activations (BatchNormalization, Relu, …) — whose output shape
// follows by rule (each op's shape rule: OpDef.shape, collected as SHAPE_RULES in ops/registry.ts) and whose values are zeros of that shape
// (a zero input stays exact for shape arithmetic: Shape/Gather/Concat see the true dimensions).
// Activations are dropped to shape-only stubs after their last reader, so memory stays near the
// largest live set. A 224×224 ResNet-50 no longer runs its 4 G MACs at compile time.
import { fail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { evalNode } from "../reference/interpret.ts";
import { SHAPE_RULES } from "../ops/registry.ts";

export function inputShape(g: Graph): number[] {
  const inp = g.inputs[0];
  return inp.shape.map((d, i) => {
    if (typeof d === "number") return d;
    if (i === 0) return 1;
    return fail(`input '${inp.name}' has a symbolic dimension '${d}' at axis ${i}; only the batch axis may be dynamic`, { file: g.file });
  });
}

export function inferShapes(g: Graph, input?: Tensor): Map<string, Tensor> {
  const x = input ?? alloc("float", inputShape(g));
  const env = new Map<string, Tensor>([[g.inputs[0].name, x]]);
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((t) => t && lastUse.set(t, i)));
  const keep = new Set(g.outputs.map((o) => o.name));
  g.nodes.forEach((n, i) => {
    const rule = SHAPE_RULES[n.op];
    const ins = n.inputs.map((t) => (t ? env.get(t) ?? g.consts.get(t) : undefined));
    let shape: number[] | undefined;
    try {
      if (rule && n.outputs.length === 1 && ins.every((t, k) => t || !n.inputs[k])) shape = rule(n, ins as Tensor[]);
    } catch {
      shape = undefined; // the reference evaluation below reports it, naming the node
    }
    const outs = shape ? [alloc("float", shape)] : evalNode(g, n, env);
    n.outputs.forEach((o, k) => o && outs[k] && env.set(o, outs[k]));
    // free what no later node reads: keep the shape, drop the data
    for (const t of n.inputs)
      if (t && lastUse.get(t) === i && !keep.has(t) && env.has(t)) {
        const v = env.get(t)!;
        if (v.data.length > 64) env.set(t, { ...v, data: new Float32Array(0) });
      }
  });
  return env;
}
