// Ops: Gemm and MatMul as dense layers [1, K] × constant [K, N]: a binary dense layer (the bdense
// maths, a BitConv) when the weights decompose and the input is a recovered quantizer, else a float Gemm.
import { fail } from "../errors.ts";
import { attrFloat, attrInt, type Node } from "../ir/graph.ts";
import { f } from "../reference/kit.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { lowerDense, shapeOf, where, type Lower } from "../passes/lower.ts";
import { float, int, type OpDef } from "./op_def.ts";

function matmul2(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) throw new RangeError(`matrix shapes [${a.shape}] and [${b.shape}] do not match`);
  const out = alloc("float", [M, N]);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a.data[k * M + i] : a.data[i * K + k];
        const bv = transB ? b.data[j * K + k] : b.data[k * N + j];
        acc = f(acc + f(av * bv));
      }
      out.data[i * N + j] = acc;
    }
  return out;
}

function gemm(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const a = ins[0]!, b = ins[1]!, c = ins[2];
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new RangeError("Gemm needs 2-D inputs");
  const y = matmul2(a, b, attrInt(n, "transA", 0) === 1, attrInt(n, "transB", 0) === 1);
  const alpha = f(attrFloat(n, "alpha", 1)), beta = f(attrFloat(n, "beta", 1));
  const [M, N] = y.shape;
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let v = alpha === 1 ? y.data[i * N + j] : f(alpha * y.data[i * N + j]);
      if (c) {
        const cv = c.data.length === 1 ? c.data[0] : c.shape.length === 1 || c.shape[0] === 1 ? c.data[j] : c.shape[1] === 1 ? c.data[i] : c.data[i * N + j];
        v = f(v + (beta === 1 ? cv : f(beta * cv)));
      }
      y.data[i * N + j] = v;
    }
  return [y];
}

function matmul(_n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const a = ins[0]!, b = ins[1]!;
  if (b.shape.length !== 2) throw new RangeError("MatMul supports a 2-D right operand only");
  const K = a.shape[a.shape.length - 1];
  const rows = a.data.length / K;
  const y = matmul2({ dtype: "float", shape: [rows, K], data: a.data }, b, false, false);
  return [{ dtype: "float", shape: [...a.shape.slice(0, -1), b.shape[1]], data: y.data }];
}


const lowerGemm: Lower = (ctx, n) => {
  const [a, bName, cName] = n.inputs;
  const b = ctx.g.consts.get(bName);
  if (!b || b.shape.length !== 2) fail("Gemm needs a constant 2-D weight (input B)", where(ctx, n));
  if (attrInt(n, "transA", 0)) fail("Gemm with transA=1 is not supported", where(ctx, n));
  const transB = attrInt(n, "transB", 0) === 1;
  const [cin, cout] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  const alpha = f(attrFloat(n, "alpha", 1)), beta = f(attrFloat(n, "beta", 1));
  // w [cin][cout] = alpha·B (or Bᵀ); alpha = 1 copies (float32 already)
  const w = new Float32Array(cin * cout), bd = b.data;
  if (transB) for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) w[i * cout + o] = bd[o * cin + i];
  else w.set(bd);
  if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] = f(alpha * w[i]);
  const c = cName ? ctx.g.consts.get(cName) : undefined;
  if (cName && (!c || (c.data.length !== cout && c.data.length !== 1))) fail("Gemm bias C must be a constant of size N", where(ctx, n));
  const bias = c ? Float32Array.from({ length: cout }, (_, o) => f(beta * c.data[c.data.length === 1 ? 0 : o])) : undefined;
  return lowerDense(ctx, n, a, w, cin, cout, bias);
};

const lowerMatMul: Lower = (ctx, n) => {
  const b = ctx.g.consts.get(n.inputs[1]);
  const as = shapeOf(ctx, n.inputs[0]);
  if (!b || b.shape.length !== 2 || as.length !== 2 || as[0] !== 1) fail("MatMul is supported as a dense layer: [1, K] × constant [K, N]", where(ctx, n));
  return lowerDense(ctx, n, n.inputs[0], b.data as Float32Array, b.shape[0], b.shape[1]);
};

const dense2d = (a: number[], b: number[], transA: boolean, transB: boolean): number[] | undefined => {
  if (a.length !== 2 || b.length !== 2) return undefined;
  const [M, K] = transA ? [a[1], a[0]] : a, [K2, N] = transB ? [b[1], b[0]] : b;
  return K === K2 ? [M, N] : undefined;
};

const STEPS: OpDef["steps"] = ["Gemm", "BitConv", "BitQuantize"];

export const DENSE: OpDef[] = [
  {
    op: "Gemm", attrs: { alpha: float(1), beta: float(1), transA: int(0), transB: int(0) }, reference: gemm, run: (ctx, n) => lowerGemm(ctx, n), steps: STEPS,
    shape: (n, [a, b]) => (b ? dense2d(a.shape, b.shape, attrInt(n, "transA", 0) === 1, attrInt(n, "transB", 0) === 1) : undefined),
  },
  {
    op: "MatMul", reference: matmul, run: (ctx, n) => lowerMatMul(ctx, n), steps: STEPS,
    shape: (_n, [a, b]) => {
      if (!b || b.shape.length !== 2 || a.shape.length < 1 || a.shape[a.shape.length - 1] !== b.shape[0]) return undefined;
      return [...a.shape.slice(0, -1), b.shape[1]];
    },
  },
];
