// Runtime kernel: float conv2d for the layers that stay float (typically the first conv), NHWC,
// weights [kh][kw][Cin][Cout], dilation 1, groups 1, zero padding; fused epilogue (epilogue.ts).
// The SIMD build vectorises over output channels (4 lanes, no FMA; 16 channels' sums held in registers
// across the window), so every output channel sums its terms in the same (ky, kx, ci) order as the
// scalar build: both builds give bit-identical results. Interior pixels go two at a time (pairPass):
// one chain of dependent adds per register is latency-bound (an f32x4.add waits for the previous
// one), so eight independent sums, each weight vector loaded once for both pixels, keep the
// adders busy; each sum still sees its terms in the same order. Inputs are broadcast with
// v128.load32_splat (one load that fills the lanes, not a load then a shuffle that competes with the
// float adds and multiplies): 0.96× the float ResNet-20's time (results/ab-conv-load32-splat.json).
import { pi, pu } from "../params";
import { epilogue_rows } from "./epilogue";

// Σ over the clipped window of x·w for output channels o..o+3 (f32x4 lanes), taps in (ky, kx, ci) order.
@inline function sum4(xrow: usize, rowStride: usize, wts: usize, o: i32, cin: i32, cout: i32, kw: i32, ky0: i32, ky1: i32, kx0: i32, span: i32): v128 {
  let s = f32x4.splat(0);
  for (let ky = ky0; ky < ky1; ky++) {
    const xp = xrow + <usize>ky * rowStride + (<usize>(kx0 * cin) << 2);
    const wp = wts + (<usize>(((ky * kw + kx0) * cin) * cout + o) << 2);
    for (let j = 0; j < span; j++)
      s = f32x4.add(s, f32x4.mul(v128.load32_splat(xp + (<usize>j << 2)), v128.load(wp + (<usize>(j * cout) << 2))));
  }
  return s;
}

// Sixteen output channels o..o+15 of two pixels whose full windows start at xa and xa + dx (bytes):
// the same terms in the same order as the one-pixel pass, each weight vector loaded once for both.
@inline function pairPass(xa: usize, dx: usize, rowStride: usize, wts: usize, o: i32, cin: i32, cout: i32, kh: i32, span: i32, qa: usize, qb: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  for (let ky = 0; ky < kh; ky++) {
    const xp = xa + <usize>ky * rowStride;
    const wp = wts + (<usize>((ky * span) * cout + o) << 2);
    for (let j = 0; j < span; j++) {
      const x0 = v128.load32_splat(xp + (<usize>j << 2)), x1 = v128.load32_splat(xp + dx + (<usize>j << 2));
      const wr = wp + (<usize>(j * cout) << 2);
      let w = v128.load(wr);
      s0 = f32x4.add(s0, f32x4.mul(x0, w));
      t0 = f32x4.add(t0, f32x4.mul(x1, w));
      w = v128.load(wr, 16);
      s1 = f32x4.add(s1, f32x4.mul(x0, w));
      t1 = f32x4.add(t1, f32x4.mul(x1, w));
      w = v128.load(wr, 32);
      s2 = f32x4.add(s2, f32x4.mul(x0, w));
      t2 = f32x4.add(t2, f32x4.mul(x1, w));
      w = v128.load(wr, 48);
      s3 = f32x4.add(s3, f32x4.mul(x0, w));
      t3 = f32x4.add(t3, f32x4.mul(x1, w));
    }
  }
  const a = qa + (<usize>o << 2), b = qb + (<usize>o << 2);
  v128.store(a, s0);
  v128.store(a, s1, 16);
  v128.store(a, s2, 32);
  v128.store(a, s3, 48);
  v128.store(b, t0);
  v128.store(b, t1, 16);
  v128.store(b, t2, 32);
  v128.store(b, t3, 48);
}

// Output channels o0.. of one pixel (window clipped to rows ky0..ky1, columns kx0..kx1) into acc.
// (A function of its own, not inlined: three call sites, one copy of the code.)
function pixel(
  x: usize, W: i32, cin: i32, wts: usize, cout: i32, kw: i32, rowStride: usize,
  iy0: i32, ix0: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, acc: usize, o0: i32,
): void {
  const xrow = x + (<usize>((iy0 * W + ix0) * cin) << 2); // tap (0, 0), possibly outside the image
  // within a kernel row the valid taps' (kx, ci) inputs are contiguous in NHWC and in the weights:
  // one loop of span = (kx1 − kx0)·Cin terms per row, in the same (kx, ci) order
  const span = (kx1 - kx0) * cin;
  let o = o0;
  if (ASC_FEATURE_SIMD) {
    // sixteen output channels per pass, their sums in four registers across the whole window
    for (; o + 16 <= cout; o += 16) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let ky = ky0; ky < ky1; ky++) {
        const xp = xrow + <usize>ky * rowStride + (<usize>(kx0 * cin) << 2);
        const wp = wts + (<usize>(((ky * kw + kx0) * cin) * cout + o) << 2);
        for (let j = 0; j < span; j++) {
          const xs = v128.load32_splat(xp + (<usize>j << 2));
          const wr = wp + (<usize>(j * cout) << 2);
          s0 = f32x4.add(s0, f32x4.mul(xs, v128.load(wr)));
          s1 = f32x4.add(s1, f32x4.mul(xs, v128.load(wr, 16)));
          s2 = f32x4.add(s2, f32x4.mul(xs, v128.load(wr, 32)));
          s3 = f32x4.add(s3, f32x4.mul(xs, v128.load(wr, 48)));
        }
      }
      const q = acc + (<usize>o << 2);
      v128.store(q, s0);
      v128.store(q, s1, 16);
      v128.store(q, s2, 32);
      v128.store(q, s3, 48);
    }
    for (; o + 4 <= cout; o += 4) v128.store(acc + (<usize>o << 2), sum4(xrow, rowStride, wts, o, cin, cout, kw, ky0, ky1, kx0, span));
  }
  for (; o < cout; o++) {
    let s: f32 = 0;
    for (let ky = ky0; ky < ky1; ky++) {
      const xp = xrow + <usize>ky * rowStride + (<usize>(kx0 * cin) << 2);
      const wp = wts + (<usize>(((ky * kw + kx0) * cin) * cout + o) << 2);
      for (let j = 0; j < span; j++) s += load<f32>(xp + (<usize>j << 2)) * load<f32>(wp + (<usize>(j * cout) << 2));
    }
    store<f32>(acc + (<usize>o << 2), s);
  }
}

export function conv2d_impl(
  x: usize, H: i32, W: i32, cin: i32, wts: usize, cout: i32, kh: i32, kw: i32,
  stride: i32, padT: i32, padL: i32, OH: i32, OW: i32, accRow: usize, e: usize,
): void {
  const rowStride = <usize>(W * cin) << 2;
  const c16 = cout & ~15; // channels the pair pass covers
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    const fullRows = ky0 == 0 && ky1 == kh;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const acc = accRow + (<usize>(ox * cout) << 2); // this pixel's row of acc (one output row, then its epilogue)
      if (ASC_FEATURE_SIMD && c16 && fullRows && ix0 >= 0 && ox + 1 < OW && ix0 + stride + kw <= W) {
        // two interior pixels: the pair pass for the first c16 channels, then the rest one pixel at a time
        const xa = x + (<usize>((iy0 * W + ix0) * cin) << 2), accB = acc + (<usize>cout << 2);
        for (let o = 0; o < c16; o += 16) pairPass(xa, <usize>(stride * cin) << 2, rowStride, wts, o, cin, cout, kh, kw * cin, acc, accB);
        if (c16 < cout) {
          pixel(x, W, cin, wts, cout, kw, rowStride, iy0, ix0, 0, kh, 0, kw, acc, c16);
          pixel(x, W, cin, wts, cout, kw, rowStride, iy0, ix0 + stride, 0, kh, 0, kw, accB, c16);
        }
        ox++;
        continue;
      }
      pixel(x, W, cin, wts, cout, kw, rowStride, iy0, ix0, ky0, ky1, max(0, -ix0), min(kw, W - ix0), acc, 0);
    }
    epilogue_rows(e, accRow, oy * OW, OW);
  }
}

export function conv2d_f32(p: usize): void {
  conv2d_impl(pu(p, 0), pi(p, 1), pi(p, 2), pi(p, 3), pu(p, 4), pi(p, 5), pi(p, 6), pi(p, 7),
    pi(p, 8), pi(p, 9), pi(p, 10), pi(p, 11), pi(p, 12), pu(p, 13), pu(p, 14));
}
