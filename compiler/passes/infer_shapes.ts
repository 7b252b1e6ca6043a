// Pass: static shapes at batch 1, by running the reference interpreter once on a zero input (the
// interpreter is the definition of every op, so its shapes are the ONNX shapes). Also yields the
// reference outputs for that input, which the pipeline keeps for its self-check.
import { fail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { run } from "../reference/interpret.ts";

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
  return run(g, new Map([[g.inputs[0].name, x]]));
}
