// Runtime kernel: matrix products of float tensors in ONNX (row-major) order — the general MatMul of
// two activations, or of an activation and a constant that is not a dense layer (passes/lower.ts).
// For each of `batch` products t: out_t [m][n] = A_t [m][k] · B_t [k][n], with A_t at in + t·a_stride
// and B_t at b + t·b_stride floats (a stride of 0 reuses one matrix for every product).
// Each output element sums its k products in ascending k, one float32 rounding per multiply and per
// add, exactly as runtime/reference/kernels.ts matmulRef does: the loop order i, kk, j keeps that
// order per element while reading B row by row (four outputs per SIMD step, no fused multiply-add).
import { pi, pu } from "../params";

export function matmul_f32(p: usize): void {
  const a = pu(p, 0), b = pu(p, 1), y = pu(p, 2);
  const batch = pi(p, 3), m = pi(p, 4), k = pi(p, 5), n = pi(p, 6), as = pi(p, 7), bs = pi(p, 8);
  for (let t = 0; t < batch; t++) {
    const A = a + (<usize>(t * as) << 2), B = b + (<usize>(t * bs) << 2), Y = y + (<usize>(t * m * n) << 2);
    for (let i = 0; i < m; i++) {
      const row = Y + (<usize>(i * n) << 2);
      for (let j = 0; j < n; j++) store<f32>(row + (<usize>j << 2), 0);
      for (let kk = 0; kk < k; kk++) {
        const av = load<f32>(A + (<usize>(i * k + kk) << 2));
        const brow = B + (<usize>(kk * n) << 2);
        let j = 0;
        if (ASC_FEATURE_SIMD) {
          const av4 = f32x4.splat(av);
          for (; j + 4 <= n; j += 4) {
            const o = row + (<usize>j << 2);
            v128.store(o, f32x4.add(v128.load(o), f32x4.mul(av4, v128.load(brow + (<usize>j << 2)))));
          }
        }
        for (; j < n; j++) {
          const o = row + (<usize>j << 2);
          store<f32>(o, load<f32>(o) + av * load<f32>(brow + (<usize>j << 2)));
        }
      }
    }
  }
}
