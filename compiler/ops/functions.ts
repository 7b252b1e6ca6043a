// Ops: ONNX function ops — MeanVarianceNormalization, InstanceNormalization, LayerNormalization, Gelu —
// expanded into the primitive ops of their ONNX function bodies before folding
// (passes/expand_functions.ts), so reference, lowering and replica know only the primitives.
import { float, int, ints, str, type OpDef } from "./op_def.ts";

// their bodies' primitives (ReduceMean, Sub, Mul, Sqrt, Div, Add, Erf/Tanh) lower to these
const STEPS: OpDef["steps"] = ["Reduce", "GlobalAveragePool", "Affine", "Elementwise", "IndexMap"];

export const FUNCTIONS: OpDef[] = [
  { op: "MeanVarianceNormalization", attrs: { axes: ints([0, 2, 3]) }, function: true, steps: STEPS },
  { op: "InstanceNormalization", attrs: { epsilon: float(1e-5) }, function: true, steps: STEPS },
  { op: "LayerNormalization", attrs: { axis: int(-1), epsilon: float(1e-5), stash_type: int(1) }, function: true, steps: STEPS },
  { op: "Gelu", attrs: { approximate: str("none") }, function: true, steps: STEPS },
];
