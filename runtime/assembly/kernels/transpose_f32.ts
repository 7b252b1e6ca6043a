// Runtime kernel: Transpose of a tensor of rank ≤ 4 in ONNX (row-major) order. The output is walked
// in order over its dims d0..d3; s0..s3 are the input strides (in floats) of those output axes, so
// y[i0][i1][i2][i3] = x[i0·s0 + i1·s1 + i2·s2 + i3·s3]. Lower ranks pad with leading dims of 1.
import { pi, pu } from "../params";

export function transpose_f32(p: usize): void {
  const x = pu(p, 0), y = pu(p, 1);
  const d0 = pi(p, 2), d1 = pi(p, 3), d2 = pi(p, 4), d3 = pi(p, 5);
  const s0 = pi(p, 6), s1 = pi(p, 7), s2 = pi(p, 8), s3 = pi(p, 9);
  let o: usize = y;
  for (let a = 0; a < d0; a++)
    for (let b = 0; b < d1; b++)
      for (let c = 0; c < d2; c++) {
        const base = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < d3; d++) {
          store<f32>(o, load<f32>(x + (<usize>(base + d * s3) << 2)));
          o += 4;
        }
      }
}
