// Pass: several model inputs → one. A bundle has one input buffer (the ABI of DESIGN.md §4 is
// unchanged); a model with inputs x₁…x_k reads them from that buffer laid end to end, in the graph's
// input order, each flattened in ONNX (row-major) order:
//   buffer = [ x₁ (size |x₁|) | x₂ | … | x_k ],  offset(x_i) = Σ_{j<i} |x_j|.
// The pass rewrites the graph so that every later pass sees a single input "mbn::inputs" of shape
// [1, Σ|x_i|]: each x_i becomes Slice(buffer, axis 1, [offset, offset + |x_i|)) → Reshape to x_i's
// shape, i.e. ordinary ONNX nodes (an index map and a view at run time). `graph.inputParts` keeps
// the table; the manifest publishes it (`inputs`) so hosts can place each input (loader.ts packInputs).
// The joined buffer has no batch axis of its own, so such a model runs at its declared shapes
// (batch 1; a symbolic first axis is taken as 1, like a single input's). Inputs must be float.
import { fail } from "../errors.ts";
import type { Graph, InputPart, Node } from "../ir/graph.ts";
import { sizeOf, tensor } from "../ir/tensor.ts";

export const JOINED_INPUT = "mbn::inputs";
const FLOAT = 1;

export function joinInputs(g: Graph): Graph {
  if (g.inputs.length < 2) return g;
  const parts: InputPart[] = [];
  let offset = 0;
  for (const inp of g.inputs) {
    if (inp.elemType !== undefined && inp.elemType !== FLOAT)
      fail(`input '${inp.name}' has ONNX element type ${inp.elemType}; a model with several inputs takes float32 inputs only`, { file: g.file });
    const shape = inp.shape.map((d, i) => {
      if (typeof d === "number") return d;
      if (i === 0) return 1;
      return fail(`input '${inp.name}' has a symbolic dimension '${d}' at axis ${i}; only the first axis may be dynamic (it is taken as 1)`, { file: g.file });
    });
    if (inp.shapeless) fail(`input '${inp.name}' has no declared shape; a model with several inputs needs each input's shape`, { file: g.file });
    parts.push({ name: inp.name, shape, offset });
    offset += sizeOf(shape);
  }
  const consts = new Map(g.consts);
  const c = (name: string, values: number[]) => (consts.set(name, tensor("int", [values.length], values)), name);
  const nodes: Node[] = parts.flatMap((p, i) => {
    const base = `mbn::input${i}`;
    return [
      { name: `${base}/slice`, op: "Slice", domain: "", attrs: {}, outputs: [`${base}/flat`],
        inputs: [JOINED_INPUT, c(`${base}/starts`, [p.offset]), c(`${base}/ends`, [p.offset + sizeOf(p.shape)]), c(`${base}/axes`, [1])] },
      { name: `${base}/reshape`, op: "Reshape", domain: "", attrs: {}, outputs: [p.name], inputs: [`${base}/flat`, c(`${base}/shape`, p.shape)] },
    ];
  });
  return {
    ...g, consts, nodes: [...nodes, ...g.nodes],
    inputs: [{ name: JOINED_INPUT, elemType: FLOAT, shape: [1, offset] }],
    inputParts: parts,
  };
}
