// Compiler: finds the quantizer in front of a binary layer — the elementwise subgraph between one
// float source tensor s and the layer's input t (DESIGN.md §3) — and turns it into a ProbeFn.
// Walking back from t, the frontier (the non-constant tensors the region reads) is expanded at its
// latest producer while that producer is elementwise; each time the frontier is a single tensor,
// that tensor is a valid source. The furthest one wins, so BatchNorm/ReLU in front of a quantizer
// are absorbed into its thresholds — but the walk stops at a tensor that other layers read anyway
// (e.g. a block output that also feeds a residual), which must exist as a float tensor regardless.
// Shape/ConstantOfShape (ones_like) count as elementwise.
import type { Graph, Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { run } from "../reference/interpret.ts";
import type { ProbeFn } from "./probe.ts";

const ELEMENTWISE = new Set([
  "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Sign", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil",
  "Round", "Tanh", "Sigmoid", "Relu", "LeakyRelu", "HardSigmoid", "Elu", "Selu", "Celu", "Softplus", "Softsign",
  "HardSwish", "ThresholdedRelu", "PRelu", "Clip", "Not", "And", "Or", "Equal", "Greater",
  "GreaterOrEqual", "Less", "LessOrEqual", "Where", "Cast", "Identity", "Max", "Min", "Sum", "Dropout",
  "QuantizeLinear", "DequantizeLinear", "Quant", "IntQuant", "BipolarQuant", "MultiThreshold", "Trunc",
  "BatchNormalization", "Shape", "ConstantOfShape",
]);
/** Ops that are pure quantizers: a region containing none of them is not a quantizer. */
const QUANTIZING = new Set(["Sign", "Round", "Floor", "Ceil", "Where", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
  "Equal", "QuantizeLinear", "Quant", "IntQuant", "BipolarQuant", "MultiThreshold", "Trunc", "Cast"]);

export interface Region {
  source: string;
  target: string;
  nodes: Node[]; // topological order
}

/**
 * The quantizer region ending at `target` (furthest valid source; must contain a quantizing op), or
 * with `nearest` the smallest elementwise region over `ops` (the float fallback's, passes/elementwise.ts).
 */
export function findRegion(
  g: Graph, target: string, producer: Map<string, Node>, order: Map<Node, number>, consumers: Map<string, Node[]>,
  opts: { ops?: Set<string>; nearest?: boolean } = {},
): Region | undefined {
  const ops = opts.ops ?? ELEMENTWISE;
  const frontier = new Set<string>([target]);
  const taken: Node[] = [];
  let best: Region | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    if (frontier.size === 1 && taken.length) {
      const source = [...frontier][0];
      best = { source, target, nodes: [...taken].sort((a, b) => order.get(a)! - order.get(b)!) };
      if (opts.nearest) return best;
      const readers = consumers.get(source) ?? [];
      if (readers.some((n) => !taken.includes(n)) || g.outputs.some((o) => o.name === source)) break;
    }
    // expand the frontier tensor whose producer is latest
    let pick: string | undefined, pickAt = -1;
    for (const t of frontier) {
      const p = producer.get(t);
      const at = p ? order.get(p)! : -1;
      if (at > pickAt) [pick, pickAt] = [t, at];
    }
    const p = pick !== undefined ? producer.get(pick) : undefined;
    if (!p || !ops.has(p.op)) break;
    frontier.delete(pick!);
    if (!taken.includes(p)) taken.push(p);
    const dataInputs = p.op === "BatchNormalization" ? p.inputs.slice(0, 1) : p.inputs;
    for (const i of dataInputs) if (i && !g.consts.has(i)) frontier.add(i);
  }
  if (!best || !best.nodes.some((n) => QUANTIZING.has(n.op))) return undefined;
  return best;
}

/**
 * ProbeFn for a region over a source of logical shape [1, C, …]: probes are laid along the batch
 * axis ([G, C, 1, …]) so per-channel constants broadcast as in the real graph; a result of any
 * other shape means the function is not per-channel.
 */
export function regionProbe(g: Graph, r: Region, sourceShape: number[]): ProbeFn {
  const C = sourceShape[1] ?? 1;
  const rank = sourceShape.length;
  return (x: Float32Array, G: number) => {
    const shape = [G, C, ...new Array(Math.max(0, rank - 2)).fill(1)];
    const t: Tensor = alloc("float", shape);
    t.data.set(x);
    const env = run(g, new Map([[r.source, t]]), r.nodes);
    const y = env.get(r.target)!;
    if (y.data.length !== x.length || y.shape.join() !== shape.join()) {
      throw new RangeError(`quantizer output has shape [${y.shape}] for probe shape [${shape}]: it is not a per-channel function`);
    }
    return y.dtype === "float" ? (y.data as Float32Array) : Float32Array.from(y.data);
  };
}
