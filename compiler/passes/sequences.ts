// Pass: ONNX sequences whose positions are constants → plain tensors. SequenceEmpty, SequenceConstruct,
// SequenceInsert and SequenceErase only rearrange a list of tensors; the pass follows each sequence
// value as that list of tensor names and rewrites the nodes that turn a sequence back into a tensor:
//   SequenceAt(s, i)             → Identity(s[i])          (i constant, negative counts from the end)
//   SequenceLength(s)            → a constant
//   ConcatFromSequence(s, axis)  → Concat(s…, axis); with new_axis = 1 each tensor is Unsqueezed at axis first
// and drops the sequence nodes. If any sequence is left unresolved (a position that is not a constant,
// a sequence read by another op or produced as a graph output), the graph is returned unchanged and
// the sequence op is refused where it is evaluated, as before.
import { attrInt, type Graph, type Node } from "../ir/graph.ts";
import { tensor } from "../ir/tensor.ts";

const BUILDERS = new Set(["SequenceEmpty", "SequenceConstruct", "SequenceInsert", "SequenceErase"]);
const READERS = new Set(["SequenceAt", "SequenceLength", "ConcatFromSequence"]);

export function resolveSequences(g: Graph): Graph {
  if (!g.nodes.some((n) => !n.domain && (BUILDERS.has(n.op) || READERS.has(n.op)))) return g;
  const consts = new Map(g.consts);
  const lists = new Map<string, string[]>();
  const nodes: Node[] = [];
  let k = 0;
  const fresh = (base: string) => `${base}::seq${k++}`;
  /** The constant position `name` in a list of `len` (insert: len is valid too), or undefined. */
  const position = (name: string, len: number, insert: boolean): number | undefined => {
    const t = consts.get(name);
    if (!t || t.data.length !== 1) return undefined;
    const p = t.data[0] < 0 ? t.data[0] + len : t.data[0];
    return Number.isInteger(p) && p >= 0 && p < len + (insert ? 1 : 0) ? p : undefined;
  };
  for (const n of g.nodes) {
    const l = lists.get(n.inputs[0]);
    let list: string[] | undefined;
    if (n.domain) {
      nodes.push(n);
      continue;
    }
    if (n.op === "SequenceEmpty") list = [];
    else if (n.op === "SequenceConstruct") list = [...n.inputs];
    else if (n.op === "SequenceInsert" && l) {
      const p = n.inputs[2] ? position(n.inputs[2], l.length, true) : l.length;
      if (p !== undefined) list = [...l.slice(0, p), n.inputs[1], ...l.slice(p)];
    } else if (n.op === "SequenceErase" && l && l.length) {
      const p = n.inputs[1] ? position(n.inputs[1], l.length, false) : l.length - 1;
      if (p !== undefined) list = l.filter((_, i) => i !== p);
    } else if (n.op === "SequenceAt" && l) {
      const p = position(n.inputs[1], l.length, false);
      if (p !== undefined) {
        nodes.push({ name: n.name, op: "Identity", domain: "", inputs: [l[p]], outputs: [n.outputs[0]], attrs: {} });
        continue;
      }
    } else if (n.op === "SequenceLength" && l) {
      consts.set(n.outputs[0], tensor("int", [], [l.length]));
      continue;
    } else if (n.op === "ConcatFromSequence" && l && l.length) {
      const axis = attrInt(n, "axis", 0);
      let ins = l;
      if (attrInt(n, "new_axis", 0) === 1) {
        ins = l.map((t) => {
          const o = fresh(`${n.name}/unsqueeze`);
          if (g.opset >= 13) {
            const a = fresh(`${n.name}/axes`);
            consts.set(a, tensor("int", [1], [axis]));
            nodes.push({ name: o, op: "Unsqueeze", domain: "", inputs: [t, a], outputs: [o], attrs: {} });
          } else nodes.push({ name: o, op: "Unsqueeze", domain: "", inputs: [t], outputs: [o], attrs: { axes: [axis] } });
          return o;
        });
      }
      nodes.push({ name: n.name, op: "Concat", domain: "", inputs: ins, outputs: [n.outputs[0]], attrs: { axis } });
      continue;
    }
    if (list && BUILDERS.has(n.op)) {
      lists.set(n.outputs[0], list);
      continue;
    }
    nodes.push(n);
  }
  const unresolved = nodes.some((n) => n.inputs.some((i) => lists.has(i))) || g.outputs.some((o) => lists.has(o.name));
  return unresolved ? g : { ...g, consts, nodes };
}
