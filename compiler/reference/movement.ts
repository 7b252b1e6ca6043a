// Reference library for the data-movement ops (compiler/ops/movement.ts, select.ts): each written as
// "output element ← input element", never arithmetic on the values, since the compiler runs them on
// an index tensor to get their index maps (passes/index_map.ts).
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";

export const strides = (shape: number[]) => shape.map((_, i) => sizeOf(shape.slice(i + 1)));

/** out[i] = x[src(outIndex)] over the output's multi-index, in row-major order. */
export function gather(x: Tensor, outShape: number[], src: (idx: number[]) => number): Tensor {
  const out = alloc(x.dtype, outShape);
  const r = outShape.length, idx = new Array(r).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = x.data[src(idx)];
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

export function need(x: Tensor, rank: number, what: string) {
  if (x.shape.length !== rank) throw new RangeError(`${what} needs a rank-${rank} input, got [${x.shape}]`);
}
