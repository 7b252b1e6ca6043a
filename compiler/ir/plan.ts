// Compiler IR, stage 2: the execution plan — a closed discriminated union of steps over values in
// NHWC float or packed-bit form. Lowering builds it from the ONNX-level graph; fusion rewrites it;
// the memory planner and the blob writer read it. `Bit*` ops work on packed planes.
import type { Geom2d } from "../reference/nn.ts";

export type ValueId = number;

export interface Value {
  id: ValueId;
  name: string; // the ONNX tensor it holds
  kind: "float" | "bits";
  shape: number[]; // logical ONNX shape, batch 1 (e.g. [1, C, H, W] or [1, F])
  planes: number; // bits: plane count (P); float: 0
  pinned?: "input" | "output"; // ABI buffers: never reused
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
 * register r (register 0 = the region's input), r < 0 is constant row −1 − r of `consts` ([slots][C]).
 */
export interface ElemProgram {
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
  | (StepBase & { op: "Input"; c: number; hw: number })
  | (StepBase & { op: "Output"; c: number; hw: number })
  | (StepBase & { op: "Conv"; geom: ConvGeom; weights: Float32Array /* [kh][kw][cin][cout] */; epi: Epilogue })
  | (StepBase & { op: "Gemm"; cin: number; cout: number; weights: Float32Array /* [cin][cout] */; epi: Epilogue })
  | (StepBase & {
      op: "BitConv"; geom: ConvGeom; act: QuantSpec; m: number;
      wbits: Uint8Array /* [M][cout][kh][kw][cin] 0/1 */; alpha: Float32Array /* [cout][M] */;
      cw?: Float32Array; wtap?: Float32Array; weightLevels: string; epi: Epilogue;
    })
  | (StepBase & { op: "BitQuantize"; c: number; npix: number; quant: QuantSpec })
  | (StepBase & { op: "Affine"; c: number; npix: number; epi: Epilogue })
  | (StepBase & { op: "Elementwise"; c: number; npix: number; prog: ElemProgram })
  | (StepBase & { op: "MaxPool" | "AveragePool"; geom: Geom2d & { c: number; h: number; w: number }; countIncludePad: boolean })
  | (StepBase & { op: "GlobalAveragePool"; c: number; hw: number });

export interface Plan {
  values: Value[];
  steps: Step[];
  input: ValueId; // pinned NCHW input buffer
  output: ValueId; // pinned output buffer (ONNX layout)
  inputName: string;
  outputName: string;
  inputShape: number[];
  outputShape: number[];
  notes: string[]; // why layers stayed float, etc.
}

export function stepReads(s: Step): ValueId[] {
  const r = [s.in];
  if ("epi" in s && s.epi.res !== undefined) r.push(s.epi.res);
  return r;
}

export function valueBytes(v: Value): number {
  if (v.kind === "float") return v.shape.reduce((p, d) => p * d, 1) * 4;
  const c = v.shape[1], pix = v.shape.slice(2).reduce((p, d) => p * d, 1);
  return v.planes * pix * Math.ceil(c / 64) * 8;
}
