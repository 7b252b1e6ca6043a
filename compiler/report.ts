// Compiler: the compile report — per layer op, shapes, weight planes × activation planes, MACs,
// BOPs, OPs, bytes; totals; notes on layers that stayed float. Cost convention (DESIGN.md §1):
// BOPs = MACs·M·K for binary layers; OPs = BOPs/64 + FLOPs(MACs) of float layers.
import { windowPackBytes, windowPackable, windowPopWords } from "./pack/bits.ts";
import type { Plan, Step } from "./ir/plan.ts";
import { valueBytes } from "./ir/plan.ts";

export interface LayerReport {
  step: number;
  node: string;
  op: string;
  in: number[];
  out: number[];
  planes: string; // "M×K" for binary layers, "" otherwise
  macs: number;
  bops: number;
  flops: number;
  weightBytes: number;
  weightFloatBytes: number;
  popcounts: number; // 64-bit weight×activation popcounts per inference as the runtime runs it
  detail: string;
}

export interface CompileReport {
  model: string;
  target: string;
  batch: number; // samples per mbn_run (a fixed batch N > 1); every per-layer figure is per sample
  layers: LayerReport[];
  totals: {
    macs: number; bops: number; flops: number; ops: number; binaryMacs: number; popcounts: number;
    packedWeightBytes: number; float32WeightBytes: number; arenaBytes: number; memoryBytes: number; bundleBytes: number;
  };
  notes: string[];
  compileMs: number;
}

// Σ over output pixels of the kernel taps that fall inside the (unpadded) input: rows × columns.
function inBoundsTaps(g: { h: number; w: number; kh: number; kw: number; sh: number; padT: number; padL: number; oh: number; ow: number }): number {
  const span = (o: number, n: number, k: number, st: number, pad: number) => {
    const i0 = o * st - pad;
    return Math.min(k, n - i0) - Math.max(0, -i0);
  };
  let rows = 0, cols = 0;
  for (let oy = 0; oy < g.oh; oy++) rows += span(oy, g.h, g.kh, g.sh, g.padT);
  for (let ox = 0; ox < g.ow; ox++) cols += span(ox, g.w, g.kw, g.sh, g.padL); // (the runtime takes one stride)
  return rows * cols;
}

function layer(plan: Plan, s: Step, i: number, target: string): LayerReport {
  const inShape = plan.values[s.in].shape, outShape = plan.values[s.out].shape;
  const base = { step: i, node: s.node, op: s.op, in: inShape, out: outShape, planes: "", macs: 0, bops: 0, flops: 0, weightBytes: 0, weightFloatBytes: 0, popcounts: 0, detail: "" };
  switch (s.op) {
    case "Conv": {
      const g = s.geom, macs = g.oh * g.ow * g.cout * g.cin * g.kh * g.kw;
      return { ...base, macs, flops: 2 * macs, weightBytes: s.weights.length * 4, weightFloatBytes: s.weights.length * 4, detail: `${g.kh}×${g.kw}/${g.sh} float` };
    }
    case "GroupConv": {
      const g = s.geom, macs = g.oh * g.ow * g.cout * (g.cin / s.groups) * g.kh * g.kw;
      return { ...base, macs, flops: 2 * macs, weightBytes: s.weights.length * 4, weightFloatBytes: s.weights.length * 4, detail: `${g.kh}×${g.kw}/${g.sh} float, ${s.groups} groups` };
    }
    case "Gemm": {
      const macs = s.cin * s.cout;
      return { ...base, macs, flops: 2 * macs, weightBytes: macs * 4, weightFloatBytes: macs * 4, detail: "float" };
    }
    case "BitConv": {
      const g = s.geom, macs = g.oh * g.ow * g.cout * g.cin * g.kh * g.kw, K = Math.max(1, s.act.planes);
      // popcount words per (output channel, weight plane): the window-packed run (every pixel counts
      // all of it; on the SIMD build a tail layout's tail counts as the part of a word its bits fill, as
      // 8 or 4 channels' tails share one 128-bit popcount) or one word run per tap (each pixel counts
      // its in-bounds taps only)
      const window = windowPackable(g.cin, g.kh, g.kw), cw = Math.ceil(g.cin / 64), simd = target === "simd";
      const words = window ? windowPopWords(g.cin, g.kh, g.kw, simd) : g.kh * g.kw * cw;
      const perChannel = window ? g.oh * g.ow * words : inBoundsTaps(g) * cw;
      return {
        ...base, planes: `${s.m}×${K}`, macs, bops: macs * s.m * K, weightBytes: window ? windowPackBytes(g.cin, g.kh, g.kw, g.cout, s.m, simd) : s.m * g.cout * words * 8, popcounts: perChannel * g.cout * s.m * K, weightFloatBytes: g.cout * g.cin * g.kh * g.kw * 4,
        detail: `${g.kh}×${g.kw}/${g.sh} w: ${s.weightLevels}; a: ${s.act.levels.length} levels ${s.act.encoding} ${s.act.unipolar ? "unipolar (AND)" : "bipolar (XOR)"}${s.epi.quant ? " → packed" : ""}`,
      };
    }
    case "BitQuantize":
      return { ...base, detail: `${s.quant.levels.length} levels → ${s.quant.planes} planes` };
    case "Affine":
      return { ...base, flops: s.c * s.npix * 2, detail: [s.epi.scale && "scale", s.epi.bias && "bias", s.epi.res !== undefined && "residual", ["", "relu", "clip"][s.epi.act], s.epi.quant && "→ packed"].filter(Boolean).join(" ") };
    case "Elementwise":
      return { ...base, flops: s.c * s.npix * (s.prog.code.length / 5), detail: `float fallback: ${s.prog.ops.join(" → ")}` };
    case "IndexMap":
      return { ...base, detail: `index map (${s.what})` };
    case "MatMul": {
      const macs = s.batch * s.m * s.k * s.n;
      return { ...base, macs, flops: 2 * macs, detail: `float matrix product ${s.batch > 1 ? `${s.batch}× ` : ""}[${s.m}×${s.k}]·[${s.k}×${s.n}]` };
    }
    default:
      return { ...base, flops: valueBytes(plan.values[s.out]) / 4 };
  }
}

export function buildReport(plan: Plan, model: string, target: string, arenaBytes: number, memoryBytes: number, bundleBytes: number, compileMs: number): CompileReport {
  const layers = plan.steps.map((s, i) => layer(plan, s, i, target));
  const sum = (k: keyof LayerReport) => layers.reduce((p, l) => p + (l[k] as number), 0);
  const bops = sum("bops"), flops = sum("flops");
  return {
    model, target, batch: plan.batch, layers, notes: plan.notes, compileMs,
    totals: {
      macs: sum("macs"), bops, flops, ops: bops / 64 + flops / 2, popcounts: sum("popcounts"), binaryMacs: layers.filter((l) => l.op === "BitConv").reduce((p, l) => p + l.macs, 0),
      packedWeightBytes: sum("weightBytes"), float32WeightBytes: sum("weightFloatBytes"), arenaBytes, memoryBytes, bundleBytes,
    },
  };
}
