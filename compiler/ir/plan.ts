// Compiler IR, stage 2: the execution plan — a closed discriminated union of steps over values in
// float or packed-bit form, one sample at a time. Every float value carries its storage order
// (Layout): conv, pool and per-channel kernels read and write channels-last maps; the ABI buffers
// are in ONNX order; a reshaped view keeps its source's order until a step that needs another one
// gets a Relayout (passes/lower.ts). Lowering builds the plan from the ONNX-level graph; fusion
// rewrites it; the memory planner and the blob writer read it. `Bit*` ops work on packed planes.
import type { Geom2d } from "../reference/nn.ts";

export type ValueId = number;

/**
 * Element order of a value's storage. "onnx": row-major in the ONNX shape (NCHW). "channels_last": the
 * map [1, c, spatial…] stored as [spatial…][c] (hw = Π spatial), the order conv, pool and per-channel
 * kernels use. With c = 1 or hw = 1 the two coincide and the layout is always written "onnx".
 */
export type Layout = { order: "onnx" } | { order: "channels_last"; c: number; hw: number };

export const ONNX_ORDER: Layout = { order: "onnx" };

export function channelsLast(c: number, hw: number): Layout {
  return c > 1 && hw > 1 ? { order: "channels_last", c, hw } : ONNX_ORDER;
}

/** The order a kernel writes for a tensor of this one-sample shape: channels-last for [1, C, spatial…]. */
export function naturalLayout(shape: number[]): Layout {
  return shape.length >= 3 ? channelsLast(shape[1], shape.slice(2).reduce((p, d) => p * d, 1)) : ONNX_ORDER;
}

export function sameLayout(a: Layout, b: Layout): boolean {
  return a.order === "onnx" ? b.order === "onnx" : b.order === "channels_last" && a.c === b.c && a.hw === b.hw;
}

export function layoutText(l: Layout): string {
  return l.order === "onnx" ? "onnx" : `cl${l.c}x${l.hw}`;
}

export interface Value {
  id: ValueId;
  name: string; // the ONNX tensor it holds (a reshaped view shares the value of its source)
  kind: "float" | "bits";
  shape: number[]; // logical ONNX shape of one sample (e.g. [1, C, H, W] or [1, F])
  layout: Layout; // storage order of a float value (bits: packed channels-last planes)
  planes: number; // bits: plane count (P); float: 0
  pinned?: "input" | "output" | "const"; // ABI buffers: never reused; const: `data`, stored in the blob
  data?: Float32Array; // pinned "const": the values in this value's storage order
}

/** A quantizer recovered from the graph: per-channel staircase + plane encoding of its levels. */
export interface QuantSpec {
  source: string; // the ONNX tensor the thresholds apply to
  levels: number[]; // the L level values, ascending, shared by all channels
  thr: Float32Array; // [C][L−1]: level ≥ j ⇔ (flip ? −x : x) ≥ thr[c][j−1]
  flip: Uint8Array; // [C]
  planes: number;
  lut: Uint8Array; // [L] level index → plane bits
  unipolar: boolean; // planes are {0,1} (AND-popcount) rather than ±1 (XOR-popcount)
  scales: Float32Array; // [P] plane scales β_p
  offset: number; // c_a: level = c_a + Σ β_p·plane_p
  encoding: "thermometer" | "binary";
}

/**
 * A float elementwise region compiled to a register program (runtime kernels/elementwise_f32.ts):
 * five i32 per instruction — op (kernels.json "elementwise_ops"), dst, a, b, c; operand r ≥ 0 is
 * register r (registers 0..nsrc−1 = the region's sources, in the order of the step's `in` and `srcs`),
 * r < 0 is constant row −1 − r of `consts` ([slots][C]).
 */
export interface ElemProgram {
  nsrc: number;
  code: Int32Array;
  consts: Float32Array;
  regs: number;
  result: number;
  ops: string[]; // the ONNX ops it evaluates, for reports
}

export interface Epilogue {
  c: number;
  scale?: Float32Array;
  bias?: Float32Array;
  res?: ValueId;
  act: 0 | 1 | 2; // none, relu, clip
  lo: number;
  hi: number;
  quant?: QuantSpec; // set: the output is packed bits for the next binary layer
  fout?: ValueId; // with quant: the float result (before quantizing) is also stored in this value, for its other readers
}

export interface ConvGeom extends Geom2d {
  h: number;
  w: number;
  cin: number;
  cout: number;
}

interface StepBase {
  node: string; // the ONNX node it comes from (for reports and errors)
  in: ValueId;
  out: ValueId;
}

export type Step =
  | (StepBase & { op: "Relayout"; to: "channels_last" | "onnx"; c: number; hw: number }) // [c][hw] ↔ [hw][c]
  | (StepBase & { op: "Output"; c: number; hw: number }) // copy to the output buffer: c > 1 = channels-last [hw][c] → [c][hw]
  | (StepBase & { op: "Conv"; geom: ConvGeom; weights: Float32Array /* [kh][kw][cin][cout] */; epi: Epilogue })
  | (StepBase & { op: "GroupConv"; geom: ConvGeom; groups: number; weights: Float32Array /* ONNX [cout][cin/groups][kh][kw] */; epi: Epilogue })
  | (StepBase & { op: "Gemm"; cin: number; cout: number; weights: Float32Array /* [cin][cout] */; epi: Epilogue })
  | (StepBase & {
      op: "BitConv"; geom: ConvGeom; act: QuantSpec; m: number;
      wbits: Uint8Array /* [M][cout][kh][kw][cin] 0/1 */; alpha: Float32Array /* [cout][M] */;
      cw?: Float32Array; wtap?: Float32Array; weightLevels: string; epi: Epilogue;
    })
  | (StepBase & { op: "BitQuantize"; c: number; npix: number; quant: QuantSpec })
  | (StepBase & { op: "Affine"; c: number; npix: number; epi: Epilogue })
  | (StepBase & { op: "Elementwise"; c: number; npix: number; prog: ElemProgram; srcs: ValueId[] /* sources after `in`, same shape and layout */ })
  | (StepBase & { op: "IndexMap"; idx: Int32Array; fill: number; what: string }) // y[i] = idx[i] ≥ 0 ? x[idx[i]] : fill, ONNX order
  | (StepBase & { op: "MaxPool" | "AveragePool"; geom: Geom2d & { c: number; h: number; w: number }; countIncludePad: boolean })
  | (StepBase & { op: "GlobalAveragePool" | "GlobalMaxPool"; c: number; hw: number })
  | (StepBase & { op: "Concat"; npix: number; c: number; cOut: number; offset: number }) // one input's channels into out
  | (StepBase & { op: "Transpose"; inDims: number[]; perm: number[] }) // rank ≤ 4, ONNX order in and out
  | (StepBase & { op: "Softmax"; rows: number; n: number; mode: SoftmaxMode }) // over contiguous rows of n
  | (StepBase & { op: "TopK"; rows: number; n: number; k: number; largest: boolean; indices: boolean; last: boolean }) // rows of n → rows of k
  | (StepBase & { op: "Reduce"; kind: ReduceKind; outer: number; red: number; inner: number }) // [outer][red][inner] → [outer][inner], ONNX order
  | (StepBase & { op: "Pad"; h: number; w: number; c: number; oh: number; ow: number; top: number; left: number; value: number }) // channels-last
  | (StepBase & { op: "LRN"; npix: number; c: number; size: number; alpha: number; beta: number; bias: number })
  // `batch` products [m][k]·[k][n] in ONNX order: A = `in` at t·aStride, B = `b` at t·bStride (floats; 0 = the same matrix)
  | (StepBase & { op: "MatMul"; b: ValueId; batch: number; m: number; k: number; n: number; aStride: number; bStride: number });

/** Softmax kernel modes, in the order of softmax_f32's codes. */
export const SOFTMAX_MODES = ["softmax", "log", "hard"] as const;
export type SoftmaxMode = (typeof SOFTMAX_MODES)[number];

/** Reduce kinds in the order of the reduce_f32 kernel's codes. */
export const REDUCE_KINDS = ["sum", "mean", "max", "min", "prod", "sumsq", "l1", "l2", "logsum"] as const;
export type ReduceKind = (typeof REDUCE_KINDS)[number];

export interface Plan {
  values: Value[];
  steps: Step[];
  input: ValueId; // pinned input buffer of one sample (ONNX order)
  output: ValueId; // pinned output buffer of one sample (ONNX order)
  inputName: string;
  outputName: string;
  inputShape: number[]; // of one sample (batch axis 1)
  outputShape: number[];
  batch: number; // samples per mbn_run: a fixed batch N > 1 runs the plan N times (passes/batch.ts)
  mixesSamples: string[]; // steps whose ONNX semantics would mix samples at a batch > 1 (lower.ts)
  notes: string[]; // why layers stayed float, etc.
}

export function stepReads(s: Step): ValueId[] {
  const r = [s.in];
  if (s.op === "Elementwise") r.push(...s.srcs);
  if (s.op === "MatMul") r.push(s.b);
  if ("epi" in s && s.epi.res !== undefined) r.push(s.epi.res);
  return r;
}

/** The values a step writes: its output, and an epilogue's float copy where it keeps one (Epilogue.fout). */
export function stepWrites(s: Step): ValueId[] {
  return "epi" in s && s.epi.fout !== undefined ? [s.out, s.epi.fout] : [s.out];
}

export function valueBytes(v: Value): number {
  if (v.kind === "float") return v.shape.reduce((p, d) => p * d, 1) * 4;
  const c = v.shape[1], pix = v.shape.slice(2).reduce((p, d) => p * d, 1);
  return v.planes * pix * Math.ceil(c / 64) * 8;
}
