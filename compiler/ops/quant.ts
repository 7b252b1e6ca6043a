// Ops: quantizers — ONNX QuantizeLinear / DequantizeLinear, QONNX Quant / IntQuant, BipolarQuant,
// MultiThreshold, Trunc. In front of a binary layer they are recovered as a staircase and absorbed
// (quant/region.ts); elsewhere they run as float elementwise programs, as their specifications define them.
import { fail } from "../errors.ts";
import { attrFloat, attrInt, attrStr } from "../ir/graph.ts";
import { bipolarQuant, dequantizeLinear, INT_RANGE, multiThreshold, quant, quantizeLinear, trunc } from "../reference/quant_ops.ts";
import { float, int, str, type ElemEmitter, type OpDef } from "./op_def.ts";

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
    stays: "QONNX Trunc runs only inside a quantizer that a binary layer absorbs (or in constant folding)",
  },
];
