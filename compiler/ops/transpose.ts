// Op: Transpose — the transpose_f32 step (rank ≤ 4, ONNX order), higher ranks an index map.
import { attrInts, type Node } from "../ir/graph.ts";
import { alloc, type Tensor } from "../ir/tensor.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { req } from "../reference/kit.ts";
import { floatIn, lowerIndexMap, newValue, push, shapeOf, type Ctx } from "../passes/lower.ts";
import { ints, type OpDef } from "./op_def.ts";

function transpose(x: Tensor, perm: number[]): Tensor {
  const rank = x.shape.length;
  const outShape = perm.map((p) => x.shape[p]);
  const out = alloc(x.dtype, outShape);
  const inStr = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((p, d) => p * d, 1));
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let o = 0;
    for (let a = 0; a < rank; a++) o += idx[a] * inStr[perm[a]];
    out.data[i] = x.data[o];
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Transpose (rank ≤ 4; higher ranks as an index map) in ONNX order; a perm that moves axis 0 would move the batch. */
function lowerTranspose(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), r = xs.length;
  if (r > 4) return lowerIndexMap(ctx, n);
  const perm = attrInts(n, "perm", xs.map((_, i) => r - 1 - i));
  if (perm[0] !== 0) ctx.plan.mixesSamples.push(`node '${n.name}' (Transpose) moves axis 0 (the batch)`);
  const inp = floatIn(ctx, n.inputs[0], n, ONNX_ORDER);
  return push(ctx, { op: "Transpose", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0]), 0, ONNX_ORDER), inDims: xs, perm });
}

export const TRANSPOSE: OpDef[] = [
  {
    op: "Transpose", attrs: { perm: ints() }, run: (ctx, n) => lowerTranspose(ctx, n), indexMap: true, steps: ["Transpose", "IndexMap"],
    reference: (n, ins) => {
      const x = req(n, ins, 0);
      return [transpose(x, attrInts(n, "perm", x.shape.map((_, i) => x.shape.length - 1 - i)))];
    },
  },
];
