// Reference interpreter: quantization ops — ONNX QDQ (QuantizeLinear/DequantizeLinear, per-tensor
// and per-axis) and QONNX (Quant/IntQuant, BipolarQuant, MultiThreshold, Trunc), as their
// specifications define them (QONNX docs: qonnx-custom-ops/*.md; >=-semantics for BipolarQuant).
import { attrFloat, attrInt, attrStr, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { mapN } from "./broadcast.ts";

const f = Math.fround;
const roundHalfEven = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

/** Reshape a 1-D per-axis parameter so that it broadcasts along `axis` of an x of rank r. */
function alongAxis(p: Tensor, axis: number, rank: number): Tensor {
  if (p.shape.length !== 1 || p.data.length === 1) return p;
  const a = axis < 0 ? axis + rank : axis;
  return { ...p, shape: Array.from({ length: rank }, (_, i) => (i === a ? p.data.length : 1)) };
}

/** Value range of an ONNX integer type (QuantizeLinear's output, by its zero point's type). */
export const INT_RANGE: Record<number, [number, number]> = { 2: [0, 255], 3: [-128, 127], 4: [0, 65535], 5: [-32768, 32767], 6: [-(2 ** 31), 2 ** 31 - 1] };

export function quantizeLinear(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
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

export function dequantizeLinear(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
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
export function quant(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
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
export function bipolarQuant(_n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  return [mapN([ins[0]!, ins[1]!], "float", (v, s) => f((v >= 0 ? 1 : -1) * s))];
}

/** QONNX MultiThreshold: y = out_scale·#{t : x[c] ≥ thr[c][t]} + out_bias, channel axis 1 (NCHW) or last (NHWC). */
export function multiThreshold(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
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
export function trunc(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const [x, scale, zp, inBits, outBits] = ins as Tensor[];
  const shift = 2 ** (inBits.data[0] - outBits.data[0]);
  const rnd = qonnxRound(attrStr(n, "rounding_mode", "FLOOR"));
  return [mapN([x, scale, zp], "float", (v, s, z) => f(f(rnd(f(f(f(v / s) + z) / shift)) * shift - z) * s))];
}
