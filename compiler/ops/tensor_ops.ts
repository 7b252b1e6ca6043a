// Ops: tensors made at compile time — Constant, Shape, Size, ConstantOfShape, Range, Cast. They fold;
// inside an elementwise region Shape → ConstantOfShape (ones_like) is a constant row and Cast an opcode.
import { attrInt } from "../ir/graph.ts";
import { alloc, tensor, type DType, type Tensor } from "../ir/tensor.ts";
import { ints, req, type OpFn } from "../reference/kit.ts";
import { int, str, tensorAttr, type AttrDef, type OpDef } from "./op_def.ts";

/** Cast targets mbn computes exactly: float/double (as float32), bool, the integer types. */
const CAST_TYPES: Record<number, string> = { 1: "float", 11: "double", 9: "bool", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 12: "uint32", 13: "uint64" };

function castTo(x: Tensor, to: number): Tensor {
  // float16/bfloat16 round to 16-bit precision, strings and 8-/4-bit types are other encodings: refused
  if (!CAST_TYPES[to]) throw new RangeError(`Cast to ONNX type ${to} (${{ 8: "string", 10: "float16", 16: "bfloat16" }[to] ?? "8-/4-bit"}) is not supported`);
  const dtype: DType = to === 1 || to === 11 ? "float" : to === 9 ? "bool" : "int";
  const out = alloc(dtype, x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    out.data[i] = dtype === "bool" ? (v !== 0 ? 1 : 0) : dtype === "int" ? Math.trunc(v) : v;
  }
  if (dtype === "int") out.itype = to;
  return out;
}

const constant: OpFn = (n) => {
  const v = n.attrs.value ?? n.attrs.value_float ?? n.attrs.value_floats ?? n.attrs.value_int ?? n.attrs.value_ints;
  if (v === undefined) throw new RangeError("Constant without a supported value attribute");
  if (typeof v === "object" && !Array.isArray(v)) return [v as Tensor];
  const isF = "value_float" in n.attrs || "value_floats" in n.attrs;
  const arr = Array.isArray(v) ? (v as number[]) : [v as number];
  return [tensor(isF ? "float" : "int", Array.isArray(v) ? [arr.length] : [], arr)];
};

const shape: OpFn = (n, ins) => {
  const x = req(n, ins, 0), r = x.shape.length;
  let s = attrInt(n, "start", 0), e = attrInt(n, "end", r);
  s = Math.min(Math.max(s < 0 ? s + r : s, 0), r);
  e = Math.min(Math.max(e < 0 ? e + r : e, 0), r);
  const dims = x.shape.slice(s, Math.max(s, e));
  return [tensor("int", [dims.length], dims)];
};

const size: OpFn = (n, ins) => [tensor("int", [], [req(n, ins, 0).data.length])];

const constantOfShape: OpFn = (n, ins) => {
  const shape = ints(req(n, ins, 0));
  const v = n.attrs.value as Tensor | undefined;
  const out = alloc(v ? v.dtype : "float", shape);
  out.data.fill(v ? v.data[0] : 0);
  return [out];
};

const range: OpFn = (n, ins) => {
  const s = req(n, ins, 0).data[0], l = req(n, ins, 1).data[0], d = req(n, ins, 2).data[0];
  const cnt = Math.max(Math.ceil((l - s) / d), 0);
  return [tensor(req(n, ins, 0).dtype, [cnt], Array.from({ length: cnt }, (_, i) => s + i * d))];
};

const FLOAT_TYPES = new Set([1, 11]); // float, double (float16/bfloat16 would round: refused by the reference)
const BOOL_TYPE = 9;

const CONSTANT_ATTRS: Record<string, AttrDef> = {
  sparse_value: tensorAttr(), value: tensorAttr(), value_float: { type: "float" }, value_floats: { type: "floats" },
  value_int: int(), value_ints: { type: "ints" }, value_string: str(), value_strings: { type: "string" },
};

export const TENSOR_OPS: OpDef[] = [
  { op: "Constant", attrs: CONSTANT_ATTRS, reference: constant, stays: "folds (a constant)", steps: [] },
  { op: "Shape", attrs: { end: int(), start: int(0) }, reference: shape, elementwise: () => undefined, steps: [] }, // only read by ConstantOfShape (ones_like), whose output is a constant row
  { op: "Size", reference: size, stays: "folds (a shape computation)", steps: [] },
  {
    op: "ConstantOfShape", attrs: { value: tensorAttr() }, reference: constantOfShape, steps: [],
    elementwise: (e, n) => {
      const v = n.attrs.value as Tensor | undefined;
      return e.k(v ? v.data[0] : 0);
    },
  },
  { op: "Range", reference: range, stays: "folds (a shape computation)", steps: [] },
  {
    // Cast to bool = (x ≠ 0), to an integer type = trunc(x)
    op: "Cast", attrs: { saturate: int(1), to: int() }, reference: (n, ins) => [castTo(req(n, ins, 0), attrInt(n, "to", 1))], steps: ["Elementwise"],
    elementwise: (e, n) => {
      const to = attrInt(n, "to", 1);
      return FLOAT_TYPES.has(to) ? e.operand(n, 0) : to === BOOL_TYPE ? e.emit("not", e.emit("eq", e.operand(n, 0), e.k(0))) : e.emit("trunc", e.operand(n, 0));
    },
  },
];
