// Pass: several model outputs → one. A bundle has one output buffer (the ABI of DESIGN.md §4 is
// unchanged); a model with outputs y₁…y_k writes them into that buffer laid end to end, in the graph's
// output order, each flattened in ONNX (row-major) order:
//   buffer = [ y₁ (size |y₁|) | y₂ | … | y_k ],  offset(y_i) = Σ_{j<i} |y_j|.
// The pass appends ordinary ONNX nodes — Reshape(y_i, [0, −1]) for each output (its first axis kept,
// the rest flattened), then Concat on axis 1 into one output "mbn::outputs" — so every later pass sees
// a single output. Where the outputs declare one shared first axis (the batch: a symbolic one, 1, or a
// fixed N), the joined output keeps it, so a batch still splits into samples (passes/batch.ts). Rows
// of a Concat on axis 1 interleave the outputs unless that axis is 1 per sample, so where it is not
// (a fixed first axis that is not a batch) the pipeline joins again with each output flattened whole
// (Reshape to [1, −1]), and the model runs as one sample. The table is
// per sample: sizes are known only after shape inference, so `outputParts` (pipeline.ts) reads them
// there and the manifest publishes it (`outputs`) for hosts to split each sample's buffer (loader.ts
// unpackOutputs). Outputs must be float.
import { fail } from "../errors.ts";
import type { Graph, Node } from "../ir/graph.ts";
import type { Tensor } from "../ir/tensor.ts";
import { sizeOf, tensor } from "../ir/tensor.ts";

export const JOINED_OUTPUT = "mbn::outputs";
const FLOAT = 1;

/** One model output inside the bundle's output buffer: floats [offset, offset + size of shape). */
export interface OutputPart {
  name: string;
  shape: number[];
  offset: number;
}

/** keepFirst: keep a first axis all outputs declare alike (pipeline.ts retries with false where it is not 1 per sample). */
export function joinOutputs(g: Graph, keepFirst = true): Graph {
  if (g.outputs.length < 2) return g;
  for (const o of g.outputs)
    if (o.elemType !== undefined && o.elemType !== FLOAT)
      fail(`output '${o.name}' has ONNX element type ${o.elemType}; a model with several outputs gives float32 outputs only`, { file: g.file });
  const consts = new Map(g.consts);
  const first = g.outputs.map((o) => (o.shapeless || !o.shape.length ? undefined : o.shape[0]));
  const shared = keepFirst && first[0] !== undefined && first.every((d) => d === first[0]);
  consts.set(`${JOINED_OUTPUT}/shape`, tensor("int", [2], [shared ? 0 : 1, -1]));
  const flat = g.outputs.map((o, i): Node => ({
    name: `mbn::output${i}/reshape`, op: "Reshape", domain: "", attrs: {}, inputs: [o.name, `${JOINED_OUTPUT}/shape`], outputs: [`mbn::output${i}/flat`],
  }));
  const concat: Node = { name: `${JOINED_OUTPUT}/concat`, op: "Concat", domain: "", attrs: { axis: 1 }, inputs: flat.map((n) => n.outputs[0]), outputs: [JOINED_OUTPUT] };
  return {
    ...g, consts, nodes: [...g.nodes, ...flat, concat],
    outputs: [{ name: JOINED_OUTPUT, elemType: FLOAT, shape: [], shapeless: true }],
    outputNames: g.outputs.map((o) => o.name),
  };
}

/** Where each of the model's outputs lies in the joined output, from the one-sample shapes (shape inference or constants). */
export function outputParts(g: Graph, shapes: Map<string, Tensor>): OutputPart[] | undefined {
  if (!g.outputNames) return undefined;
  let offset = 0;
  return g.outputNames.map((name) => {
    const t = shapes.get(name) ?? g.consts.get(name) ?? fail(`output '${name}' has no value`, { file: g.file });
    const part = { name, shape: t.shape, offset };
    offset += sizeOf(t.shape);
    return part;
  });
}
