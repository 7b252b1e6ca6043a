// Runtime kernel: float conv2d for the layers that stay float (typically the first conv), NHWC,
// weights [kh][kw][Cin][Cout], dilation 1, groups 1, zero padding; fused epilogue (epilogue.ts).
// The SIMD build vectorises over output channels (4 lanes, no FMA), so every output channel sums
// its terms in the same order as the scalar build: both builds give bit-identical results.
import { pi, pu } from "../params";
import { epilogue } from "./epilogue";

export function conv2d_impl(
  x: usize, H: i32, W: i32, cin: i32, wts: usize, cout: i32, kh: i32, kw: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, acc: usize, e: usize,
): void {
  const c4 = ASC_FEATURE_SIMD ? cout & ~3 : 0;
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      for (let o = 0; o < cout; o++) store<f32>(acc + (<usize>o << 2), 0); // (memory.fill is a call in V8)
      for (let ky = ky0; ky < ky1; ky++) {
        for (let kx = kx0; kx < kx1; kx++) {
          const xp = x + (<usize>(((iy0 + ky) * W + ix0 + kx) * cin) << 2);
          const wp = wts + (<usize>((ky * kw + kx) * cin * cout) << 2);
          for (let ci = 0; ci < cin; ci++) {
            const xv = load<f32>(xp + (<usize>ci << 2));
            const wr = wp + (<usize>(ci * cout) << 2);
            if (ASC_FEATURE_SIMD) {
              const xs = f32x4.splat(xv);
              for (let o = 0; o < c4; o += 4) {
                const q = acc + (<usize>o << 2);
                v128.store(q, f32x4.add(v128.load(q), f32x4.mul(xs, v128.load(wr + (<usize>o << 2)))));
              }
            }
            for (let o = c4; o < cout; o++) {
              const q = acc + (<usize>o << 2);
              store<f32>(q, load<f32>(q) + xv * load<f32>(wr + (<usize>o << 2)));
            }
          }
        }
      }
      epilogue(e, acc, oy * OW + ox);
    }
  }
}

export function conv2d_f32(p: usize): void {
  conv2d_impl(pu(p, 0), pi(p, 1), pi(p, 2), pi(p, 3), pu(p, 4), pi(p, 5), pi(p, 6), pi(p, 7),
    pi(p, 8), pi(p, 9), pi(p, 10), pi(p, 11), pi(p, 12), pu(p, 13), pu(p, 14));
}
