// Pass: ONNX function ops → the primitive ops their ONNX function bodies define (each op's body:
// OpDef.expand, compiler/ops/functions.ts), before folding, so the rest of the compiler (reference,
// lowering, replica) knows only the primitives. This file is the builder the bodies write through
// (fresh names, constants, ReduceMean by opset, normalisation). Only LayerNormalization has extra
// outputs (Mean, InvStdDev); normalize() writes them where the graph reads them.
import { fail } from "../errors.ts";
import type { Attr, Graph, Node } from "../ir/graph.ts";
import { tensor } from "../ir/tensor.ts";
import { outputRank } from "../onnx/upgrade.ts";
import { FUNCTION_OPS, REGISTRY } from "../ops/registry.ts";

export { FUNCTION_OPS }; // the ops with an OpDef.expand (compiler/ops/functions.ts)

export function expandFunctions(g: Graph): Graph {
  if (!g.nodes.some((n) => FUNCTION_OPS.has(n.op) && !n.domain)) return g;
  const consts = new Map(g.consts);
  const nodes: Node[] = [];
  const rankOf = new Map<string, number>(g.inputs.map((i) => [i.name, i.shape.length]));
  for (const [k, t] of consts) rankOf.set(k, t.shape.length);
  let k = 0;
  for (const n of g.nodes) {
    if (!FUNCTION_OPS.has(n.op) || n.domain) {
      nodes.push(n);
      const r = outputRank(n, (t) => rankOf.get(t), consts);
      if (r !== undefined) for (const o of n.outputs) if (o) rankOf.set(o, r);
      continue;
    }
    const where = { file: g.file, node: n.name, op: n.op };
    const name = (what: string) => `${n.name}::${what}${k++}`;
    const node = (op: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string) => {
      const o = out ?? name(op);
      nodes.push({ name: o, op, domain: "", inputs, outputs: [o], attrs });
      return o;
    };
    const scalar = (v: number) => {
      const c = name("c");
      consts.set(c, tensor("float", [], [v]));
      return c;
    };
    const mean = (x: string, axes: number[]) =>
      g.opset >= 18 ? node("ReduceMean", [x, (() => { const c = name("axes"); consts.set(c, tensor("int", [axes.length], axes)); return c; })()], { keepdims: 1 })
        : node("ReduceMean", [x], { axes, keepdims: 1 });
    const [x] = n.inputs, y = n.outputs[0];
    if (n.op !== "LayerNormalization" && n.outputs.slice(1).some(Boolean)) fail(`${n.op} has ${n.outputs.length} outputs; its ONNX definition has one`, where);
    const rank = rankOf.get(x);
    // (x − E x)/√(Var x + ε) over axes; `stats`: also write E x (Mean) and 1/√(Var x + ε) (InvStdDev) there
    const normalize = (axes: number[], eps: number, stats: { mean?: string; invStd?: string } = {}) => {
      const m = mean(x, axes), d = node("Sub", [x, m]);
      const std = node("Sqrt", [node("Add", [mean(node("Mul", [d, d]), axes), scalar(eps)])]);
      if (stats.mean) node("Identity", [m], {}, stats.mean);
      if (stats.invStd) node("Reciprocal", [std], {}, stats.invStd);
      return node("Div", [d, std]);
    };
    REGISTRY.get(n.op)!.expand!({ consts, where, x, y, rank, name, node, scalar, mean, normalize }, n);
    if (rank !== undefined) for (const o of n.outputs) if (o) rankOf.set(o, rank);
  }
  return { ...g, consts, nodes };
}
