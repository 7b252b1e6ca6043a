// Ops: ONNX function ops — MeanVarianceNormalization, InstanceNormalization, LayerNormalization, Gelu —
// each its ONNX function body, expanded into primitive ops before folding (passes/expand_functions.ts),
// so reference, lowering and replica know only the primitives:
//   MeanVarianceNormalization(X, axes=[0,2,3]) = (X − E X) / (√(E X² − (E X)²) + 1e-9)
//   InstanceNormalization(X, s, b, ε)          = s[c]·(X − E X)/√(Var X + ε) + b[c]   over the spatial axes
//                                                (s, b activations: Reshape to [C, 1, …] first)
//   LayerNormalization(X, s, b, axis, ε)       = s·(X − E X)/√(Var X + ε) + b           over axes ≥ axis
//                                                (optional outputs Mean = E X, InvStdDev = 1/√(Var X + ε))
//   Gelu(X) (opset 20)                         = 0.5·X·(1 + erf(X/√2)), or with approximate="tanh"
//                                                0.5·X·(1 + tanh(√(2/π)·(X + 0.044715·X³)))
// (E = ReduceMean with keepdims; Var X = E (X − E X)².)
import { fail } from "../errors.ts";
import { tensor } from "../ir/tensor.ts";
import { attrFloat, attrInt, attrInts, attrStr } from "../ir/graph.ts";
import { float, int, ints, str, type Expander, type OpDef } from "./op_def.ts";

const mvn: Expander = ({ x, y, node, scalar, mean }, n) => {
  const axes = attrInts(n, "axes", [0, 2, 3]);
  const ex = mean(x, axes), two = scalar(2);
  const std = node("Sqrt", [node("Sub", [mean(node("Pow", [x, two]), axes), node("Pow", [ex, two])])]);
  node("Div", [node("Sub", [x, ex]), node("Add", [std, scalar(1e-9)])], {}, y);
};

const instanceNorm: Expander = ({ consts, where, y, rank, name, node, normalize }, n) => {
  if (rank === undefined) fail("the input's rank is not known", where);
  // scale and bias [C] as [C, 1, …] (broadcasting over the spatial axes): a constant reshaped, or an activation through Reshape
  const per = (input: string, base: string) => {
    const t = consts.get(input), c = name(base);
    if (t) consts.set(c, { ...t, shape: [t.data.length, ...new Array(rank! - 2).fill(1)] });
    else {
      consts.set(c, tensor("int", [rank! - 1], [-1, ...new Array(rank! - 2).fill(1)]));
      return node("Reshape", [input, c]);
    }
    return c;
  };
  const [s, b] = [per(n.inputs[1], "scale"), per(n.inputs[2], "bias")];
  const z = normalize(Array.from({ length: rank! - 2 }, (_, i) => i + 2), attrFloat(n, "epsilon", 1e-5));
  node("Add", [node("Mul", [z, s]), b], {}, y);
};

const layerNorm: Expander = ({ where, y, rank, node, normalize }, n) => {
  if (rank === undefined && attrInt(n, "axis", -1) >= 0) fail("the input's rank is not known", where);
  if (attrInt(n, "stash_type", 1) !== 1) fail("stash_type other than float is not supported", where);
  // a negative axis needs no rank: the axes −k … −1
  const a = attrInt(n, "axis", -1), axes = a < 0 ? Array.from({ length: -a }, (_, i) => a + i) : Array.from({ length: rank! - a }, (_, i) => i + a);
  const z = normalize(axes, attrFloat(n, "epsilon", 1e-5), { mean: n.outputs[1] || undefined, invStd: n.outputs[2] || undefined });
  const scaled = node("Mul", [z, n.inputs[1]]);
  if (n.inputs[2]) node("Add", [scaled, n.inputs[2]], {}, y);
  else node("Identity", [scaled], {}, y);
};

const gelu: Expander = ({ x, y, node, scalar }, n) => {
  const half = node("Mul", [x, scalar(0.5)]);
  const inner = attrStr(n, "approximate", "none") === "tanh"
    ? node("Tanh", [node("Mul", [node("Add", [x, node("Mul", [node("Mul", [node("Mul", [x, x]), x]), scalar(0.044715)])]), scalar(Math.sqrt(2 / Math.PI))])])
    : node("Erf", [node("Mul", [x, scalar(Math.SQRT1_2)])]);
  node("Mul", [half, node("Add", [inner, scalar(1)])], {}, y);
};

// their bodies' primitives (ReduceMean, Sub, Mul, Sqrt, Div, Add, Erf/Tanh) lower to these
const STEPS: OpDef["steps"] = ["Reduce", "GlobalAveragePool", "Affine", "Elementwise", "IndexMap"];

export const FUNCTIONS: OpDef[] = [
  { op: "MeanVarianceNormalization", attrs: { axes: ints([0, 2, 3]) }, expand: mvn, steps: STEPS },
  { op: "InstanceNormalization", attrs: { epsilon: float(1e-5) }, expand: instanceNorm, steps: STEPS },
  { op: "LayerNormalization", attrs: { axis: int(-1), epsilon: float(1e-5), stash_type: int(1) }, expand: layerNorm, steps: STEPS },
  { op: "Gelu", attrs: { approximate: str("none") }, expand: gelu, steps: STEPS },
];
