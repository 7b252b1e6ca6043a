// Pass: ONNX function ops → the primitive ops their ONNX function bodies define, before folding, so
// the rest of the compiler (reference, lowering, replica) knows only the primitives:
//   MeanVarianceNormalization(X, axes=[0,2,3]) = (X − E X) / (√(E X² − (E X)²) + 1e-9)
//   InstanceNormalization(X, s, b, ε)          = s[c]·(X − E X)/√(Var X + ε) + b[c]   over the spatial axes
//   LayerNormalization(X, s, b, axis, ε)       = s·(X − E X)/√(Var X + ε) + b           over axes ≥ axis
//   Gelu(X) (opset 20)                         = 0.5·X·(1 + erf(X/√2)), or with approximate="tanh"
//                                                0.5·X·(1 + tanh(√(2/π)·(X + 0.044715·X³)))
// (E = ReduceMean with keepdims; Var X = E (X − E X)².) Only the first output is computed: the
// optional Mean/InvStdDev outputs of LayerNormalization are refused when read.
import { fail } from "../errors.ts";
import { attrFloat, attrInt, attrInts, attrStr, type Attr, type Graph, type Node } from "../ir/graph.ts";
import { tensor } from "../ir/tensor.ts";
import { outputRank } from "../onnx/upgrade.ts";
import { FUNCTION_OPS } from "../ops/registry.ts";

export { FUNCTION_OPS }; // OpDef.function (compiler/ops/functions.ts)

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
    if (n.outputs.slice(1).some(Boolean)) fail(`${n.op}'s extra outputs (mean, inverse standard deviation) are not computed`, where);
    const rank = rankOf.get(x);
    const normalize = (axes: number[], eps: number) => {
      const d = node("Sub", [x, mean(x, axes)]);
      return node("Div", [d, node("Sqrt", [node("Add", [mean(node("Mul", [d, d]), axes), scalar(eps)])])]);
    };
    switch (n.op) {
      case "MeanVarianceNormalization": {
        const axes = attrInts(n, "axes", [0, 2, 3]);
        const ex = mean(x, axes), two = scalar(2);
        const std = node("Sqrt", [node("Sub", [mean(node("Pow", [x, two]), axes), node("Pow", [ex, two])])]);
        node("Div", [node("Sub", [x, ex]), node("Add", [std, scalar(1e-9)])], {}, y);
        break;
      }
      case "InstanceNormalization": {
        if (rank === undefined) fail("the input's rank is not known", where);
        const s = consts.get(n.inputs[1]), b = consts.get(n.inputs[2]);
        if (!s || !b) fail("scale and bias must be constant", where);
        const per = (t: typeof s, base: string) => {
          const c = name(base);
          consts.set(c, { ...t!, shape: [t!.data.length, ...new Array(rank! - 2).fill(1)] });
          return c;
        };
        const z = normalize(Array.from({ length: rank! - 2 }, (_, i) => i + 2), attrFloat(n, "epsilon", 1e-5));
        node("Add", [node("Mul", [z, per(s, "scale")]), per(b, "bias")], {}, y);
        break;
      }
      case "LayerNormalization": {
        if (rank === undefined && attrInt(n, "axis", -1) >= 0) fail("the input's rank is not known", where);
        if (attrInt(n, "stash_type", 1) !== 1) fail("stash_type other than float is not supported", where);
        // a negative axis needs no rank: the axes −k … −1
        const a = attrInt(n, "axis", -1), axes = a < 0 ? Array.from({ length: -a }, (_, i) => a + i) : Array.from({ length: rank! - a }, (_, i) => i + a);
        const z = normalize(axes, attrFloat(n, "epsilon", 1e-5));
        const scaled = node("Mul", [z, n.inputs[1]]);
        if (n.inputs[2]) node("Add", [scaled, n.inputs[2]], {}, y);
        else node("Identity", [scaled], {}, y);
        break;
      }
      case "Gelu": {
        const half = node("Mul", [x, scalar(0.5)]);
        const inner = attrStr(n, "approximate", "none") === "tanh"
          ? node("Tanh", [node("Mul", [node("Add", [x, node("Mul", [node("Mul", [node("Mul", [x, x]), x]), scalar(0.044715)])]), scalar(Math.sqrt(2 / Math.PI))])])
          : node("Erf", [node("Mul", [x, scalar(Math.SQRT1_2)])]);
        node("Mul", [half, node("Add", [inner, scalar(1)])], {}, y);
        break;
      }
    }
    if (rank !== undefined) rankOf.set(y, rank);
  }
  return { ...g, consts, nodes };
}
