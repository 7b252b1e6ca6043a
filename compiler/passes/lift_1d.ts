// Pass: 1-D convolutions and pools (keyword spotting, 1-D sensor models) as 2-D ones over a map of
// height 1. Conv with 3-D weights [M, C, k] and MaxPool/AveragePool with a 1-D kernel become
//   Unsqueeze(x, axis 2) → the 2-D op (weights [M, C, 1, k]; kernel [1, k], strides [s, s], dilations
//   [1, d], pads [0, b, 0, e]) → Squeeze(axis 2),
// which is the same arithmetic: a 1×k window over one row, taps and padding along the row only.
// Unsqueeze/Squeeze are views in the plan ([1, C, L] and [1, C, 1, L] share their channels-last
// storage), so the rewrite costs nothing at run time. Returns a new Graph.
import type { Attr, Graph, Node } from "../ir/graph.ts";
import { attrInts } from "../ir/graph.ts";
import { tensor } from "../ir/tensor.ts";

function lifted(n: Node, g: Graph): boolean {
  if (n.domain && n.domain !== "ai.onnx") return false;
  if (n.op === "Conv") return g.consts.get(n.inputs[1])?.shape.length === 3;
  if (n.op === "MaxPool" || n.op === "AveragePool") return attrInts(n, "kernel_shape", []).length === 1;
  return false;
}

export function lift1d(g: Graph): Graph {
  if (!g.nodes.some((n) => lifted(n, g))) return g;
  const consts = new Map(g.consts);
  const nodes: Node[] = [];
  const axis2 = `${g.nodes.length}/lift_1d/axes`;
  consts.set(axis2, tensor("int", [1], [2]));
  // Unsqueeze/Squeeze take their axes as an input from opset 13, as an attribute before
  const axesArgs = (x: string) => (g.opset >= 13 ? { inputs: [x, axis2], attrs: {} } : { inputs: [x], attrs: { axes: [2] } as Record<string, Attr> });
  for (const n of g.nodes) {
    if (!lifted(n, g)) {
      nodes.push(n);
      continue;
    }
    const x = n.inputs[0], y = n.outputs[0], base = `${n.name}/lift_1d`;
    const attrs: Record<string, Attr> = { ...n.attrs };
    const one = (k: string, d: number) => Array.isArray(n.attrs[k]) && (attrs[k] = [d, ...(n.attrs[k] as number[])]);
    one("kernel_shape", 1);
    // the row's stride also vertically: over one row of height 1 with a 1-high window it moves nothing
    // (the output keeps height 1) and the conv kernels take one stride for both axes
    if (Array.isArray(n.attrs.strides)) attrs.strides = [(n.attrs.strides as number[])[0], (n.attrs.strides as number[])[0]];
    one("dilations", 1);
    if (Array.isArray(n.attrs.pads)) {
      const [b, e] = n.attrs.pads as number[];
      attrs.pads = [0, b, 0, e];
    }
    const inputs = [...n.inputs];
    inputs[0] = `${base}/x`;
    if (n.op === "Conv") {
      const w = consts.get(n.inputs[1])!;
      const w4 = `${base}/w`;
      consts.set(w4, { ...w, shape: [w.shape[0], w.shape[1], 1, w.shape[2]] });
      inputs[1] = w4;
    }
    const u = axesArgs(x);
    nodes.push({ name: `${base}/unsqueeze`, op: "Unsqueeze", domain: "", inputs: u.inputs, outputs: [`${base}/x`], attrs: u.attrs });
    nodes.push({ ...n, inputs, outputs: [`${base}/y`, ...n.outputs.slice(1)], attrs });
    const s = axesArgs(`${base}/y`);
    nodes.push({ name: `${base}/squeeze`, op: "Squeeze", domain: "", inputs: s.inputs, outputs: [y], attrs: s.attrs });
  }
  return { ...g, consts, nodes };
}
