// Pass: constant folding with the reference interpreter. Every node whose inputs are all constant
// is evaluated and replaced by its outputs (so exporter weight webs — Sign/ReduceMean/Where/… over
// float initializers — become plain weight tensors). Returns a new Graph; never mutates its input.
import type { Graph, Node } from "../ir/graph.ts";
import { evalNode } from "../reference/interpret.ts";

export function foldConstants(g: Graph): Graph {
  const consts = new Map(g.consts);
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (n.inputs.every((i) => !i || consts.has(i))) {
      const outs = evalNode({ ...g, consts }, n, new Map());
      n.outputs.forEach((o, i) => o && outs[i] && consts.set(o, outs[i]));
    } else nodes.push(n);
  }
  // drop constants nothing uses any more
  const used = new Set<string>([...nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  for (const k of [...consts.keys()]) if (!used.has(k)) consts.delete(k);
  return { ...g, consts, nodes };
}
