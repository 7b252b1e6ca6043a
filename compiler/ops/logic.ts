// Ops: booleans and comparisons — Not, And, Or, Xor, Equal, Greater, GreaterOrEqual, Less,
// LessOrEqual — and Where. Booleans are 0/1 floats in the elementwise programs.
import { mapN } from "../reference/broadcast.ts";
import { binary, cmp, req, unary } from "../reference/kit.ts";
import { binaryElem, unaryElem, type OpDef } from "./op_def.ts";

const STEPS: OpDef["steps"] = ["Elementwise", "IndexMap"];

export const LOGIC: OpDef[] = [
  { op: "Not", reference: unary((x) => (x ? 0 : 1), "bool"), elementwise: unaryElem("not"), steps: ["Elementwise"] },
  { op: "And", reference: binary((a, b) => (a && b ? 1 : 0), "bool"), elementwise: binaryElem("and"), steps: STEPS },
  { op: "Or", reference: binary((a, b) => (a || b ? 1 : 0), "bool"), elementwise: binaryElem("or"), steps: STEPS },
  { op: "Xor", reference: binary((a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0), "bool"), elementwise: binaryElem("xor"), steps: STEPS },
  { op: "Equal", reference: cmp((a, b) => a === b), elementwise: binaryElem("eq"), steps: STEPS },
  { op: "Greater", reference: cmp((a, b) => a > b), elementwise: binaryElem("gt"), steps: STEPS },
  { op: "GreaterOrEqual", reference: cmp((a, b) => a >= b), elementwise: binaryElem("ge"), steps: STEPS },
  { op: "Less", reference: cmp((a, b) => a < b), elementwise: binaryElem("lt"), steps: STEPS },
  { op: "LessOrEqual", reference: cmp((a, b) => a <= b), elementwise: binaryElem("le"), steps: STEPS },
  {
    op: "Where", steps: STEPS,
    reference: (n, ins) => {
      const x = req(n, ins, 1);
      return [mapN([req(n, ins, 0), x, req(n, ins, 2)], x.dtype, (c, a, b) => (c ? a : b))];
    },
    elementwise: (e, n) => e.emit("where", e.operand(n, 0), e.operand(n, 1), e.operand(n, 2)),
  },
];
