// Compiler IR: a stable text form of a Plan for golden tests and `--dump-after` (one line per step;
// weights are summarised by shape and a checksum, never printed in full).
import { layoutText, naturalLayout, sameLayout, type Epilogue, type Plan, type Step } from "./plan.ts";

function sum(a: ArrayLike<number> | undefined): string {
  if (!a) return "-";
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s.toPrecision(6);
}

function epi(e: Epilogue): string {
  const parts = [`c=${e.c}`];
  if (e.scale) parts.push(`scale(Σ=${sum(e.scale)})`);
  if (e.bias) parts.push(`bias(Σ=${sum(e.bias)})`);
  if (e.res !== undefined) parts.push(`res=%${e.res}`);
  if (e.act) parts.push(e.act === 1 ? "relu" : `clip[${e.lo},${e.hi}]`);
  if (e.quant) parts.push(`quant(L=${e.quant.levels.length},P=${e.quant.planes},${e.quant.unipolar ? "uni" : "bi"})`);
  if (e.fout !== undefined) parts.push(`float=%${e.fout}`);
  return parts.join(" ");
}

function step(plan: Plan, s: Step): string {
  const v = (id: number) => {
    const val = plan.values[id];
    const order = val.kind === "float" && !sameLayout(val.layout, naturalLayout(val.shape)) ? `/${layoutText(val.layout)}` : ""; // a view
    return `%${id}:${val.kind === "bits" ? `bits${val.planes}` : "f32"}[${val.shape.join("x")}]${order}`;
  };
  const head = `${v(s.out)} = ${s.op}(${v(s.in)})`;
  switch (s.op) {
    case "Conv": return `${head} k=${s.geom.kh}x${s.geom.kw} s=${s.geom.sh} p=${s.geom.padT} w(Σ=${sum(s.weights)}) ${epi(s.epi)}`;
    case "GroupConv": return `${head} k=${s.geom.kh}x${s.geom.kw} s=${s.geom.sh} p=${s.geom.padT} groups=${s.groups} w(Σ=${sum(s.weights)}) ${epi(s.epi)}`;
    case "Gemm": return `${head} ${s.cin}->${s.cout} w(Σ=${sum(s.weights)}) ${epi(s.epi)}`;
    case "BitConv": return `${head} k=${s.geom.kh}x${s.geom.kw} s=${s.geom.sh} p=${s.geom.padT} M=${s.m} K=${s.act.planes} α(Σ=${sum(s.alpha)}) bits(Σ=${sum(s.wbits)}) ${epi(s.epi)}`;
    case "BitQuantize": return `${head} L=${s.quant.levels.length} P=${s.quant.planes} levels=[${s.quant.levels.map((x) => x.toPrecision(4)).join(",")}] thr(Σ=${sum(s.quant.thr.filter(Number.isFinite))})`;
    case "Affine": return `${head} ${epi(s.epi)}`;
    case "Elementwise": return `${head} c=${s.c} ${s.srcs.length ? `${1 + s.srcs.length} sources ` : ""}prog[${s.prog.ops.join(",")}] ${s.prog.code.length / 5} instr, ${s.prog.regs} regs, consts(Σ=${sum(s.prog.consts.filter(Number.isFinite))})`;
    case "Reduce": return `${head} ${s.kind} [${s.outer}][${s.red}][${s.inner}]`;
    case "Softmax": return `${head} ${s.mode === "softmax" ? "" : s.mode + " "}rows=${s.rows} n=${s.n}`;
    case "Concat": return `${head} channels ${s.offset}..${s.offset + s.c - 1} of ${s.cOut}`;
    case "MatMul": return `${head} × v${s.b} ${s.batch > 1 ? `${s.batch}× ` : ""}[${s.m}×${s.k}]·[${s.k}×${s.n}]${s.batch > 1 ? ` strides ${s.aStride},${s.bStride}` : ""}`;
    case "Transpose": return `${head} perm=[${s.perm}]`;
    case "TopK": return `${head} ${s.indices ? "indices" : "values"} of the ${s.k} ${s.largest ? "largest" : "smallest"} rows=${s.rows} n=${s.n}`;
    case "IndexMap": return `${head} ${s.what} ${s.idx.length} elements${s.idx.includes(-1) ? ` fill=${s.fill}` : ""}`;
    case "Relayout": return `${head} to ${s.to} c=${s.c} hw=${s.hw}`;
    case "Output": return `${head} ${s.c > 1 ? `from channels-last c=${s.c} hw=${s.hw}` : `copy ${s.hw}`}`;
    default: return head;
  }
}

export function printPlan(plan: Plan): string {
  return [...plan.steps.map((s) => `${step(plan, s)}  # ${s.node}`), ...plan.notes.map((n) => `# note: ${n}`)].join("\n") + "\n";
}
