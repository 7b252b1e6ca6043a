// Ops: Gemm and MatMul as dense layers [1, K] × constant [K, N]: a binary dense layer (the bdense
// maths, a BitConv) when the weights decompose and the input is a recovered quantizer, else a float Gemm.
// Any other MatMul (NumPy matmul of activations or constants) is a float matrix product (matmul_f32).
import { fail } from "../errors.ts";
import { attrFloat, attrInt, type Node } from "../ir/graph.ts";
import { f } from "../reference/kit.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { broadcastMap } from "../passes/index_map.ts";
import { constValue, floatIn, lowerDense, newValue, push, shapeOf, where, type Ctx, type Lower } from "../passes/lower.ts";
import { gathered, plain, programStep, transpose2 } from "../passes/float_steps.ts";
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

/**
 * NumPy matmul: A [..., M, K] · B [..., K, N] → [..., M, N], the leading axes broadcast; a 1-D A is
 * [1, K] and a 1-D B is [K, 1], that axis absent from the result. Each element sums in ascending k,
 * rounding to float32 after every multiply and add (the runtime's matmul_f32 and dense kernels alike).
 */
function matmul(_n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const a = ins[0]!, b = ins[1]!;
  if (!a.shape.length || !b.shape.length) throw new RangeError("MatMul of a scalar is not defined");
  const a2 = a.shape.length === 1 ? [1, a.shape[0]] : a.shape, b2 = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [M, K] = a2.slice(-2), [K2, N] = b2.slice(-2);
  if (K !== K2) throw new RangeError(`matrix shapes [${a.shape}] and [${b.shape}] do not match`);
  const r = Math.max(a2.length, b2.length) - 2;
  const pad = (d: number[]) => [...new Array(r - (d.length - 2)).fill(1), ...d.slice(0, -2)];
  const aB = pad(a2), bB = pad(b2);
  const batch = aB.map((d, i) => {
    if (d !== bB[i] && d !== 1 && bB[i] !== 1) throw new RangeError(`batch dimensions of [${a.shape}] and [${b.shape}] do not broadcast`);
    return Math.max(d, bB[i]);
  });
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  const out = alloc("float", shape);
  const count = batch.reduce((p, d) => p * d, 1);
  // the offset of product t's matrix in an operand with batch dims `own` (broadcast axes stay at 0)
  const offset = (own: number[], t: number, size: number) => {
    let off = 0, stride = size;
    for (let i = r - 1; i >= 0; i--) {
      const at = t % batch[i];
      t = Math.floor(t / batch[i]);
      if (own[i] !== 1) off += at * stride;
      stride *= own[i];
    }
    return off;
  };
  for (let t = 0; t < count; t++) {
    const ao = offset(aB, t, M * K), bo = offset(bB, t, K * N);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc = f(acc + f(a.data[ao + i * K + k] * b.data[bo + k * N + j]));
        out.data[(t * M + i) * N + j] = acc;
      }
  }
  return [out];
}

const lowerGemm: Lower = (ctx, n) => {
  const [a, bName, cName] = n.inputs;
  const b = ctx.g.consts.get(bName);
  const as = shapeOf(ctx, a);
  // a dense layer: one row [1, K] times constant weights (binary when they decompose), C constant
  const dense = b && b.shape.length === 2 && !attrInt(n, "transA", 0) && as.length === 2 && as[0] === 1 && !ctx.g.consts.has(a) && (!cName || ctx.g.consts.has(cName));
  if (!dense) return lowerGemmF32(ctx, n);
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

/**
 * Any other Gemm — B or C an activation, A of several rows, transA — as a float matrix product:
 * Y = alpha·(A′·B′) + beta·C with A′ = Aᵀ if transA, B′ = Bᵀ if transB (an index map of an
 * activation, a constant stored transposed), one matmul_f32 step (ascending k, float32 after every
 * multiply and add, as the reference), then an elementwise program f(alpha·y) + f(beta·c) when alpha ≠ 1
 * or C is given (C broadcast to [M, N] first, NumPy rules). Bit-exact against the reference `gemm`.
 */
function lowerGemmF32(ctx: Ctx, n: Node): ValueId {
  const [aName, bName, cName] = n.inputs, ys = shapeOf(ctx, n.outputs[0]);
  const as = shapeOf(ctx, aName), bs = shapeOf(ctx, bName);
  if (as.length !== 2 || bs.length !== 2) fail(`Gemm needs 2-D A and B, got [${as}] and [${bs}]`, where(ctx, n));
  const transA = attrInt(n, "transA", 0) === 1, transB = attrInt(n, "transB", 0) === 1;
  const [M, K] = transA ? [as[1], as[0]] : as, [K2, N] = transB ? [bs[1], bs[0]] : bs;
  if (K !== K2 || ys.join() !== [M, N].join()) fail(`Gemm of [${as}] and [${bs}] (transA=${+transA}, transB=${+transB}): inner dimensions ${K} and ${K2} differ`, where(ctx, n));
  const isConst = (t: string) => ctx.g.consts.has(t);
  if (isConst(aName) && isConst(bName) && (!cName || isConst(cName))) fail("Gemm of constants should have been folded", where(ctx, n));
  if (!isConst(bName) || (transA && !isConst(aName))) ctx.plan.mixesSamples.push(`node '${n.name}' (Gemm) reads an activation across its first axis`);
  const operand = (t: string, s: number[], trans: boolean) =>
    trans ? gathered(ctx, n, t, `${t}ᵀ`, [s[1], s[0]], transpose2(s[0], s[1]), "Gemm transpose") : plain(ctx, n, t);
  const A = operand(aName, as, transA), B = operand(bName, bs, transB);
  const alpha = f(attrFloat(n, "alpha", 1)), beta = f(attrFloat(n, "beta", 1));
  const epilogue = alpha !== 1 || !!cName;
  ctx.plan.notes.push(`${n.name} (Gemm [${M}×${K}]·[${K}×${N}]) runs as a float matrix product`);
  const y = push(ctx, { op: "MatMul", node: n.name, in: A, b: B, out: newValue(ctx, epilogue ? `${n.outputs[0]}·AB` : n.outputs[0], "float", ys, 0, ONNX_ORDER), batch: 1, m: M, k: K, n: N, aStride: 0, bStride: 0 });
  if (!epilogue) return y;
  const srcs = [y];
  if (cName) {
    const cs = shapeOf(ctx, cName);
    if (cs.length > 2 || !cs.every((d, i) => d === 1 || d === ys[ys.length - cs.length + i])) fail(`Gemm bias C of shape [${cs}] does not broadcast to [${ys}]`, where(ctx, n));
    if (cs.length === 2 && cs[0] !== M && !isConst(cName)) ctx.plan.mixesSamples.push(`node '${n.name}' (Gemm) broadcasts C across its first axis`);
    srcs.push(cs.join() === ys.join() ? plain(ctx, n, cName) : gathered(ctx, n, cName, `${cName}→[${ys}]`, ys, broadcastMap(cs, ys), "broadcast"));
  }
  return programStep(ctx, n, srcs, n.outputs[0], ys, ["Gemm alpha·AB + beta·C"], (p) => {
    let r = alpha === 1 ? p.src(0) : p.emit("mul", p.src(0), p.k(alpha));
    if (cName) r = p.emit("add", r, beta === 1 ? p.src(1) : p.emit("mul", p.src(1), p.k(beta)));
    return r;
  });
}

const lowerMatMul: Lower = (ctx, n) => {
  const b = ctx.g.consts.get(n.inputs[1]);
  const as = shapeOf(ctx, n.inputs[0]);
  // [1, K] × constant [K, N] is a dense layer (binary when its weights and input quantizer decompose)
  if (b && b.shape.length === 2 && as.length === 2 && as[0] === 1 && !ctx.g.consts.has(n.inputs[0]))
    return lowerDense(ctx, n, n.inputs[0], b.data as Float32Array, b.shape[0], b.shape[1]);
  return lowerMatMulF32(ctx, n);
};

/**
 * Any other MatMul: NumPy's matmul of two tensors, activations or constants. A [..., M, K] × B [..., K, N]
 * → [..., M, N]; a 1-D A is read as [1, K] and a 1-D B as [K, 1] (that axis is absent from the result);
 * the leading (batch) axes broadcast. One matmul_f32 step runs the `batch` products in ONNX order; an
 * operand whose batch axes are all 1 is read with stride 0, one that broadcasts otherwise is expanded
 * by an index map first. Samples stay independent when every activation operand keeps the output's
 * first axis (rank ≥ 3 and the output's rank) or is A of rank 2 (its rows); else plan.mixesSamples says so.
 */
function lowerMatMulF32(ctx: Ctx, n: Node): ValueId {
  const [aName, bName] = n.inputs, ys = shapeOf(ctx, n.outputs[0]);
  const as = shapeOf(ctx, aName), bs = shapeOf(ctx, bName);
  if (!as.length || !bs.length) fail("MatMul of a scalar is not defined", where(ctx, n));
  const a2 = as.length === 1 ? [1, as[0]] : as, b2 = bs.length === 1 ? [bs[0], 1] : bs;
  const [M, K] = a2.slice(-2), [K2, N] = b2.slice(-2);
  if (K !== K2) fail(`MatMul of [${as}] and [${bs}]: inner dimensions ${K} and ${K2} differ`, where(ctx, n));
  const ra = a2.length - 2, rb = b2.length - 2, r = Math.max(ra, rb);
  const pad = (d: number[], k: number) => [...new Array(r - k).fill(1), ...d.slice(0, k)];
  const aB = pad(a2, ra), bB = pad(b2, rb);
  const batchShape = aB.map((d, i) => {
    if (d !== bB[i] && d !== 1 && bB[i] !== 1) fail(`MatMul of [${as}] and [${bs}]: batch dimensions do not broadcast`, where(ctx, n));
    return Math.max(d, bB[i]);
  });
  const batch = sizeOf(batchShape);
  if (sizeOf([...batchShape, M, N]) !== sizeOf(ys)) fail(`internal: MatMul output [${ys}] is not ${batch}×[${M}×${N}]`, where(ctx, n));
  const isConst = (name: string) => ctx.g.consts.has(name);
  for (const [name, shape, first] of [[aName, as, true], [bName, bs, false]] as const)
    if (!isConst(name) && !((shape.length >= 3 && shape.length === ys.length) || (first && shape.length === 2)))
      ctx.plan.mixesSamples.push(`node '${n.name}' (MatMul) reads '${name}' [${shape}] across its first axis`);
  // one operand as a value in ONNX order, and the floats between its consecutive matrices (0: shared)
  const operand = (name: string, mat: number[], own: number[]): { id: ValueId; stride: number } => {
    const size = mat[mat.length - 2] * mat[mat.length - 1];
    if (sizeOf(own) === 1 || own.join() === batchShape.join()) {
      const id = isConst(name) ? constValue(ctx, name, ctx.g.consts.get(name)!.shape, ONNX_ORDER, n) : floatIn(ctx, name, n, ONNX_ORDER);
      return { id, stride: sizeOf(own) === 1 ? 0 : size };
    }
    const full = [...batchShape, ...mat.slice(-2)];
    if (isConst(name)) return { id: constValue(ctx, name, full, ONNX_ORDER, n), stride: size }; // stored broadcast
    const inp = floatIn(ctx, name, n, ONNX_ORDER);
    return { id: push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${name}→[${full}]`, "float", full, 0, ONNX_ORDER), idx: broadcastMap(mat, full), fill: 0, what: "broadcast" }), stride: size };
  };
  if (isConst(aName) && isConst(bName)) fail("MatMul of two constants should have been folded", where(ctx, n));
  const A = operand(aName, a2, aB), B = operand(bName, b2, bB);
  ctx.plan.notes.push(`${n.name} (MatMul ${batch > 1 ? `${batch}× ` : ""}[${M}×${K}]·[${K}×${N}]) runs as a float matrix product`);
  return push(ctx, { op: "MatMul", node: n.name, in: A.id, b: B.id, out: newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER), batch, m: M, k: K, n: N, aStride: A.stride, bStride: B.stride });
}


const dense2d = (a: number[], b: number[], transA: boolean, transB: boolean): number[] | undefined => {
  if (a.length !== 2 || b.length !== 2) return undefined;
  const [M, K] = transA ? [a[1], a[0]] : a, [K2, N] = transB ? [b[1], b[0]] : b;
  return K === K2 ? [M, N] : undefined;
};

const STEPS: OpDef["steps"] = ["Gemm", "BitConv", "BitQuantize"];
const GEMM_STEPS: OpDef["steps"] = [...STEPS, "MatMul", "IndexMap", "Elementwise"];

export const DENSE: OpDef[] = [
  {
    op: "Gemm", attrs: { alpha: float(1), beta: float(1), transA: int(0), transB: int(0) }, reference: gemm, run: (ctx, n) => lowerGemm(ctx, n), steps: GEMM_STEPS,
    shape: (n, [a, b]) => (b ? dense2d(a.shape, b.shape, attrInt(n, "transA", 0) === 1, attrInt(n, "transB", 0) === 1) : undefined),
  },
  {
    op: "MatMul", reference: matmul, run: (ctx, n) => lowerMatMul(ctx, n), steps: [...STEPS, "MatMul", "IndexMap"],
    shape: (_n, [a, b]) => {
      if (!b || b.shape.length !== 2 || a.shape.length < 1 || a.shape[a.shape.length - 1] !== b.shape[0]) return undefined;
      return [...a.shape.slice(0, -1), b.shape[1]];
    },
  },
];
