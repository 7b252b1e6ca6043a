// Ops: quantizers — ONNX QuantizeLinear / DequantizeLinear, QONNX Quant / IntQuant, BipolarQuant,
// MultiThreshold, Trunc. In front of a binary layer they are recovered as a staircase and absorbed
// (quant/region.ts); elsewhere they run as float elementwise programs. Reference and programs follow their
// specifications (ONNX QDQ per-tensor and per-axis; QONNX docs: qonnx-custom-ops/*.md, >=-semantics for BipolarQuant).
import { fail } from "../errors.ts";
import { attrFloat, attrInt, attrStr, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { mapN } from "../reference/broadcast.ts";
import { f, roundHalfEven } from "../reference/kit.ts";
import { float, int, str, type ElemEmitter, type OpDef } from "./op_def.ts";

/** Reshape a 1-D per-axis parameter so that it broadcasts along `axis` of an x of rank r. */
function alongAxis(p: Tensor, axis: number, rank: number): Tensor {
  if (p.shape.length !== 1 || p.data.length === 1) return p;
  const a = axis < 0 ? axis + rank : axis;
  return { ...p, shape: Array.from({ length: rank }, (_, i) => (i === a ? p.data.length : 1)) };
}

/** Value range of an ONNX integer type (QuantizeLinear's output, by its zero point's type). */
export const INT_RANGE: Record<number, [number, number]> = { 2: [0, 255], 3: [-128, 127], 4: [0, 65535], 5: [-32768, 32767], 6: [-(2 ** 31), 2 ** 31 - 1] };

function quantizeLinear(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!, r = x.shape.length, axis = attrInt(n, "axis", 1);
  if (attrInt(n, "output_dtype", 0) || attrInt(n, "block_size", 0)) throw new RangeError("QuantizeLinear with output_dtype or block_size is not supported");
  if (ins[2] && !INT_RANGE[ins[2].itype ?? -1]) throw new RangeError(`QuantizeLinear to ONNX type ${ins[2].itype} is not supported (int8/uint8/int16/uint16/int32)`);
  const s = alongAxis(ins[1]!, axis, r);
  const zp = ins[2] ? alongAxis(ins[2], axis, r) : { dtype: "int" as const, shape: [], data: new Float64Array([0]), itype: 2 };
  const [lo, hi] = INT_RANGE[zp.itype ?? 2] ?? INT_RANGE[2];
  const out = mapN([x, s, zp], "int", (v, sc, z) => Math.min(Math.max(roundHalfEven(f(v / sc)) + z, lo), hi));
  out.itype = zp.itype ?? 2;
  return [out];
}

function dequantizeLinear(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!, r = x.shape.length, axis = attrInt(n, "axis", 1);
  if (attrInt(n, "block_size", 0)) throw new RangeError("DequantizeLinear with block_size (blocked quantization) is not supported");
  const s = alongAxis(ins[1]!, axis, r);
  const zp = ins[2] ? alongAxis(ins[2], axis, r) : { dtype: "int" as const, shape: [], data: new Float64Array([0]) };
  return [mapN([x, s, zp], "float", (v, sc, z) => f((v - z) * sc))];
}

function qonnxRound(mode: string): (x: number) => number {
  switch (mode.toUpperCase()) {
    case "ROUND": case "HALF_EVEN": return roundHalfEven;
    case "CEIL": return Math.ceil;
    case "FLOOR": return Math.floor;
    case "ROUND_TO_ZERO": return Math.trunc;
    case "HALF_UP": return (x) => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));
    default: throw new RangeError(`unknown rounding_mode '${mode}'`);
  }
}

/** QONNX Quant/IntQuant: q = clamp(round(x/scale + zeropt)); y = (q − zeropt)·scale. */
function quant(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const [x, scale, zp, bw] = ins as Tensor[];
  const bits = bw.data[0];
  const signed = attrInt(n, "signed", 1) === 1, narrow = attrInt(n, "narrow", 0) === 1;
  const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
  const rnd = qonnxRound(attrStr(n, "rounding_mode", "ROUND"));
  return [mapN([x, scale, zp], "float", (v, s, z) => {
    const q = Math.min(Math.max(rnd(f(f(v / s) + z)), lo), hi);
    return f(f(q - z) * s);
  })];
}

/** QONNX BipolarQuant: y = (x >= 0 ? +1 : −1)·scale. */
function bipolarQuant(_n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  return [mapN([ins[0]!, ins[1]!], "float", (v, s) => f((v >= 0 ? 1 : -1) * s))];
}

/** QONNX MultiThreshold: y = out_scale·#{t : x[c] ≥ thr[c][t]} + out_bias, channel axis 1 (NCHW) or last (NHWC). */
function multiThreshold(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!, thr = ins[1]!;
  const scale = f(attrFloat(n, "out_scale", 1)), bias = f(attrFloat(n, "out_bias", 0));
  const nhwc = attrStr(n, "data_layout", "NCHW") === "NHWC";
  const C = x.shape.length > 1 ? x.shape[nhwc ? x.shape.length - 1 : 1] : 1;
  const [tc, T] = thr.shape;
  if (tc !== C && tc !== 1) throw new RangeError(`MultiThreshold has ${tc} threshold rows for ${C} channels`);
  const inner = nhwc ? 1 : x.shape.slice(2).reduce((p, d) => p * d, 1);
  const out = alloc("float", x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = nhwc ? i % C : Math.floor(i / inner) % C;
    const row = tc === 1 ? 0 : c;
    let cnt = 0;
    for (let t = 0; t < T; t++) if (x.data[i] >= thr.data[row * T + t]) cnt++;
    out.data[i] = f(f(scale * cnt) + bias);
  }
  return [out];
}

/** QONNX Trunc: truncate the low bits of a quantized value (y = trunc(x/scale·2^−Δbits)·2^Δbits·scale). */
function trunc(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const [x, scale, zp, inBits, outBits] = ins as Tensor[];
  const shift = 2 ** (inBits.data[0] - outBits.data[0]);
  const rnd = qonnxRound(attrStr(n, "rounding_mode", "FLOOR"));
  return [mapN([x, scale, zp], "float", (v, s, z) => f(f(rnd(f(f(f(v / s) + z) / shift)) * shift - z) * s))];
}


// (in front of a binary layer the layer emits the BitQuantize step: ops/conv.ts, ops/dense.ts)
const STEPS: OpDef["steps"] = ["Elementwise"];

/** QONNX Quant/IntQuant: q = clip(round(x/scale + zeropt), lo, hi); y = (q − zeropt)·scale. */
const quantElem: ElemEmitter = (e, n) => {
  const bw = e.constOf(n.inputs[3]);
  if (!bw || bw.data.length !== 1) return fail("Quant bit width must be a constant scalar", e.where(n));
  const bits = bw.data[0], signed = attrInt(n, "signed", 1) === 1, narrow = attrInt(n, "narrow", 0) === 1;
  const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
  const s = e.operand(n, 1), z = e.operand(n, 2);
  const v = e.emit("add", e.emit("div", e.operand(n, 0), s), z);
  const mode = attrStr(n, "rounding_mode", "ROUND").toUpperCase();
  const q = mode === "ROUND" || mode === "HALF_EVEN" ? e.emit("round", v) : mode === "CEIL" ? e.emit("ceil", v) : mode === "FLOOR" ? e.emit("floor", v)
    : mode === "ROUND_TO_ZERO" ? e.emit("trunc", v)
    : mode === "HALF_UP" ? e.emit("where", e.emit("lt", v, e.k(0)), e.emit("neg", e.emit("floor", e.emit("add", e.emit("neg", v), e.k(0.5)))), e.emit("floor", e.emit("add", v, e.k(0.5))))
    : fail(`unknown rounding_mode '${mode}'`, e.where(n));
  return e.emit("mul", e.emit("sub", e.emit("clip", q, e.k(lo), e.k(hi)), z), s);
};
const QUANT_ATTRS = { narrow: int(0), rounding_mode: str("ROUND"), signed: int(1) };

export const QUANT: OpDef[] = [
  {
    op: "QuantizeLinear", attrs: { axis: int(1), block_size: int(0), output_dtype: int(0), saturate: int(1) }, reference: quantizeLinear, steps: STEPS,
    elementwise: (e, n) => {
      const zpT = n.inputs[2] ? e.constOf(n.inputs[2]) : undefined;
      const [lo, hi] = INT_RANGE[zpT?.itype ?? 2] ?? INT_RANGE[2];
      const q = e.emit("round", e.emit("div", e.operand(n, 0), e.qdqParam(n, 1)));
      return e.emit("clip", n.inputs[2] ? e.emit("add", q, e.qdqParam(n, 2)) : q, e.k(lo), e.k(hi));
    },
  },
  {
    op: "DequantizeLinear", attrs: { axis: int(1), block_size: int(0) }, reference: dequantizeLinear, steps: STEPS,
    elementwise: (e, n) => {
      const x = e.operand(n, 0);
      return e.emit("mul", n.inputs[2] ? e.emit("sub", x, e.qdqParam(n, 2)) : x, e.qdqParam(n, 1));
    },
  },
  // QONNX quantizers where no binary layer reads them (e.g. in front of a MaxPool), as their spec defines them
  { op: "Quant", domain: "qonnx", attrs: QUANT_ATTRS, reference: quant, elementwise: quantElem, steps: STEPS },
  { op: "IntQuant", domain: "qonnx", attrs: QUANT_ATTRS, reference: quant, elementwise: quantElem, steps: STEPS },
  { // (x ≥ 0 ? 1 : −1)·scale
    op: "BipolarQuant", domain: "qonnx", reference: bipolarQuant, steps: STEPS,
    elementwise: (e, n) => e.emit("mul", e.emit("where", e.emit("ge", e.operand(n, 0), e.k(0)), e.k(1), e.k(-1)), e.operand(n, 1)),
  },
  { // out_scale·#{t : x ≥ thr[c][t]} + out_bias, channels on axis 1
    op: "MultiThreshold", domain: "qonnx", attrs: { data_layout: str("NCHW"), out_bias: float(0), out_dtype: str(), out_scale: float(1) }, reference: multiThreshold, steps: STEPS,
    elementwise: (e, n) => {
      const thr = e.constOf(n.inputs[1]);
      if (!thr || thr.shape.length !== 2 || (thr.shape[0] !== e.C && thr.shape[0] !== 1)) return fail("MultiThreshold thresholds must be a constant [C or 1, T]", e.where(n));
      if (attrStr(n, "data_layout", "NCHW") !== "NCHW") return fail("MultiThreshold with data_layout NHWC is not supported as a float program", e.where(n));
      const x = e.operand(n, 0), T = thr.shape[1];
      let cnt = e.k(0);
      for (let t = 0; t < T; t++) cnt = e.emit("add", cnt, e.emit("ge", x, e.constRow(Array.from({ length: thr.shape[0] }, (_, c) => thr.data[c * T + t]))));
      return e.emit("add", e.emit("mul", cnt, e.k(attrFloat(n, "out_scale", 1))), e.k(attrFloat(n, "out_bias", 0)));
    },
  },
  {
    op: "Trunc", domain: "qonnx", attrs: { rounding_mode: str("FLOOR") }, reference: trunc, steps: [],
    stays: "runs only inside a quantizer a binary layer absorbs, or folds",
  },
];
