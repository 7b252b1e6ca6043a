// Pass: verifiers run between passes — the imported graph (every tensor defined once, before it is
// read; the outputs produced) and each plan (every step reads values that exist by then, writes a
// value of the kind and size its op implies, index maps stay inside their input, layouts describe
// their shapes). A failure is an internal compiler error naming the pass and the node: it means a
// pass broke an invariant, never that the model is bad.
import { fail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { stepReads, type Plan } from "../ir/plan.ts";
import { sizeOf } from "../ir/tensor.ts";

export function verifyGraph(g: Graph, after: string): void {
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.consts.keys()]);
  const bad = (node: string, op: string, why: string) => fail(`internal compiler error after ${after}: ${why}`, { file: g.file, node, op });
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !defined.has(i)) bad(n.name, n.op, `input '${i}' is read before it is defined`);
    for (const o of n.outputs) {
      if (!o) continue;
      if (defined.has(o)) bad(n.name, n.op, `tensor '${o}' is defined twice`);
      defined.add(o);
    }
  }
  for (const o of g.outputs) if (!defined.has(o.name)) fail(`internal compiler error after ${after}: output '${o.name}' is never produced`, { file: g.file });
}

export function verifyPlan(plan: Plan, after: string, file?: string): void {
  const ready = new Set<number>([plan.input, ...plan.values.filter((v) => v.pinned === "const").map((v) => v.id)]);
  plan.steps.forEach((s, k) => {
    const bad = (why: string) => fail(`internal compiler error after ${after}: step ${k} ${s.op}: ${why}`, { file, node: s.node, op: s.op });
    for (const r of stepReads(s)) {
      if (!plan.values[r]) bad(`reads value ${r}, which does not exist`);
      if (!ready.has(r)) bad(`reads '${plan.values[r].name}' before a step writes it`);
    }
    const out = plan.values[s.out], inp = plan.values[s.in];
    if (!out) bad(`writes value ${s.out}, which does not exist`);
    if (out.pinned === "input" || out.pinned === "const") bad(`writes the ${out.pinned} '${out.name}'`);
    const want = s.op === "BitQuantize" || ("epi" in s && s.epi.quant) ? "bits" : "float";
    if (out.kind !== want) bad(`writes a ${out.kind} value where ${want} is due`);
    const n = sizeOf(out.shape);
    if (out.layout.order === "channels_last" && out.layout.c * out.layout.hw !== n) bad(`layout c=${out.layout.c} hw=${out.layout.hw} does not cover [${out.shape}]`);
    if (s.op === "IndexMap") {
      if (s.idx.length !== n) bad(`maps ${s.idx.length} elements into a value of ${n}`);
      const m = sizeOf(inp.shape);
      for (const j of s.idx) if (j >= m) bad(`index ${j} is outside its ${m}-element input`);
    }
    if (s.op === "Elementwise") for (const v of s.srcs) if (sizeOf(plan.values[v].shape) !== sizeOf(inp.shape)) bad(`sources of different sizes`);
    if (s.op === "Relayout" && s.c * s.hw !== n) bad(`relayout c=${s.c} hw=${s.hw} of a ${n}-element value`);
    if (s.op === "Concat" && s.offset + s.c > s.cOut) bad(`channels ${s.offset}+${s.c} past ${s.cOut}`);
    if ("epi" in s && s.epi.fout !== undefined) {
      const f = plan.values[s.epi.fout];
      if (!s.epi.quant) bad(`keeps a float copy without quantizing`);
      if (!f || f.kind !== "float" || f.pinned) bad(`keeps its float copy in a value that is not a free float value`);
      if (sizeOf(f.shape) !== n) bad(`keeps a float copy of ${sizeOf(f.shape)} elements beside ${n} quantized ones`);
      ready.add(s.epi.fout);
    }
    ready.add(s.out);
  });
  if (!ready.has(plan.output)) fail(`internal compiler error after ${after}: the output is never written`, { file });
}
