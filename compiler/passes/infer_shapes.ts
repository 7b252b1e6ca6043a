// Pass: static shapes of one sample. Each node's outputs come from the reference interpreter run on
// a zero input (the interpreter is the definition of every op, so its shapes are the ONNX shapes),
// except the ops whose evaluation costs as much as the model itself — Conv, Gemm, MatMul, the 2-D
// pools and the per-element float activations (BatchNormalization, Relu, …) — whose output shape
// follows by rule (SHAPE_RULES) and whose values are zeros of that shape
// (a zero input stays exact for shape arithmetic: Shape/Gather/Concat see the true dimensions).
// Activations are dropped to shape-only stubs after their last reader, so memory stays near the
// largest live set. A 224×224 ResNet-50 no longer runs its 4 G MACs at compile time.
import { fail } from "../errors.ts";
import { attrInt, attrInts, type Graph, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { evalNode } from "../reference/interpret.ts";
import { geom2d } from "../reference/nn.ts";

export function inputShape(g: Graph): number[] {
  const inp = g.inputs[0];
  return inp.shape.map((d, i) => {
    if (typeof d === "number") return d;
    if (i === 0) return 1;
    return fail(`input '${inp.name}' has a symbolic dimension '${d}' at axis ${i}; only the batch axis may be dynamic`, { file: g.file });
  });
}

type Rule = (n: Node, ins: Tensor[]) => number[] | undefined; // undefined: let the reference decide (and refuse)

const dense2d = (a: number[], b: number[], transA: boolean, transB: boolean): number[] | undefined => {
  if (a.length !== 2 || b.length !== 2) return undefined;
  const [M, K] = transA ? [a[1], a[0]] : a, [K2, N] = transB ? [b[1], b[0]] : b;
  return K === K2 ? [M, N] : undefined;
};

const pool2d: Rule = (n, [x]) => {
  const ks = attrInts(n, "kernel_shape", []);
  if (x.shape.length !== 4 || ks.length !== 2) return undefined;
  const g = geom2d(n, x.shape[2], x.shape[3], ks[0], ks[1], attrInt(n, "ceil_mode", 0) === 1);
  return [x.shape[0], x.shape[1], g.oh, g.ow];
};

/** Output shapes of the expensive ops (the same checks the reference makes, or undefined to defer to it). */
const SHAPE_RULES: Record<string, Rule> = {
  Conv: (n, [x, w]) => {
    if (!w || x.shape.length !== 4 || w.shape.length !== 4) return undefined;
    const group = attrInt(n, "group", 1);
    if (x.shape[1] !== w.shape[1] * group || w.shape[0] % group) return undefined;
    const g = geom2d(n, x.shape[2], x.shape[3], w.shape[2], w.shape[3]);
    return [x.shape[0], w.shape[0], g.oh, g.ow];
  },
  Gemm: (n, [a, b]) => (b ? dense2d(a.shape, b.shape, attrInt(n, "transA", 0) === 1, attrInt(n, "transB", 0) === 1) : undefined),
  MatMul: (_n, [a, b]) => {
    if (!b || b.shape.length !== 2 || a.shape.length < 1 || a.shape[a.shape.length - 1] !== b.shape[0]) return undefined;
    return [...a.shape.slice(0, -1), b.shape[1]];
  },
  MaxPool: pool2d,
  AveragePool: pool2d,
  LRN: (_n, [x]) => x.shape, // elementwise in shape (run-time only: passes/lower.ts)
  // per-element float maps of one activation: the shape of their input (their values never reach a shape)
  ...Object.fromEntries(["BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Softplus", "HardSigmoid", "HardSwish"]
    .map((op) => [op, ((_n, [x]) => (x.dtype === "float" ? x.shape : undefined)) as Rule])),
};

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
