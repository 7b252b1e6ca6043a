// Reference interpreter: NumPy-style multidirectional broadcasting (ONNX semantics) for n-ary
// elementwise ops. Slow and obvious on purpose.
import { alloc, type DType, type Tensor } from "../ir/tensor.ts";

export function broadcastShape(shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new RangeError(`shapes ${shapes.map((s) => `[${s}]`).join(", ")} do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Strides of `shape` aligned to an output of `rank`, with 0 on broadcast axes. */
function bstrides(shape: number[], out: number[]): number[] {
  const rank = out.length;
  const st = new Array(rank).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = rank - shape.length + i;
    st[oi] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i];
  }
  return st;
}

export function mapN(ins: Tensor[], dtype: DType, f: (...v: number[]) => number): Tensor {
  const shape = broadcastShape(ins.map((t) => t.shape));
  const out = alloc(dtype, shape);
  const n = out.data.length;
  const direct = (t: Tensor) => t.data.length === 1 || (t.data.length === n && t.shape.length === shape.length);
  const vals = new Array(ins.length);
  if (ins.every(direct)) {
    // fast path: every operand is a scalar or has the output's shape
    const d = ins.map((t) => t.data), one = ins.map((t) => t.data.length === 1);
    if (ins.length === 1) {
      const a = d[0];
      for (let i = 0; i < n; i++) out.data[i] = f(a[one[0] ? 0 : i]);
      return out;
    }
    if (ins.length === 2) {
      const [a, b] = d, [sa, sb] = one;
      for (let i = 0; i < n; i++) out.data[i] = f(a[sa ? 0 : i], b[sb ? 0 : i]);
      return out;
    }
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < ins.length; k++) vals[k] = d[k][one[k] ? 0 : i];
      out.data[i] = f(...vals);
    }
    return out;
  }
  const strides = ins.map((t) => bstrides(t.shape, shape));
  const rank = shape.length;
  const idx = new Array(rank).fill(0);
  const off = new Array(ins.length).fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ins.length; k++) vals[k] = ins[k].data[off[k]];
    out.data[i] = f(...vals);
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      for (let k = 0; k < ins.length; k++) off[k] += strides[k][a];
      if (idx[a] < shape[a]) break;
      for (let k = 0; k < ins.length; k++) off[k] -= strides[k][a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}
