// Runtime kernel: multi-bit binary conv2d (any kernel size, stride, zero padding 0..k−1), M weight
// planes × K activation planes, XOR-popcount (bipolar ±1 activations) or AND-popcount (unipolar
// {0,1} activations), fused output transform (epilogue.ts). No allocation; reads ≤ 0 bytes past buffers.
//
// Maths (DESIGN.md §3). Weights w = c_w + Σ_m α_m·b_m (b ∈ ±1, bit 1 = −1), activations
// a = c_a + Σ_k β_k·h_k. Over the n = taps·Cin *valid* (in-bounds) inputs of one output pixel:
//   bipolar h ∈ ±1:   Σ w·a = Σ_{m,k} α_m β_k (n − 2·popcnt(b_m ⊕ h_k)) + c_w Σ_k β_k (n − 2·popcnt(h_k)) + c_a·Σ w
//   unipolar u ∈ {0,1}: Σ w·u_k = c_w·popcnt(u_k) + Σ_m α_m (popcnt(u_k) − 2·popcnt(b_m ∧ u_k)), so
//                     Σ w·a = Σ_k β_k [Σ_m α_m (pu_k − 2·popcnt(b_m ∧ u_k)) + c_w pu_k] + c_a·Σ w
// Zero padding: ONNX pads the *quantized* input with 0, so padded taps contribute exactly nothing.
// We iterate only over in-bounds taps (the tap window is clipped per output pixel), which is the
// same sum as larq's "pad with a fixed bit, then subtract the padded taps' contribution" — without
// the correction table. Σ w over valid taps (for c_a ≠ 0) is the sum of per-tap sums `wtap`.
// Pad bits of each pixel's last channel word are 0 in weights and activations: 0 ⊕ 0 = 0 ∧ 0 = 0,
// so they never count; n uses the true Cin.
import { pi, pu, pf } from "../params";
import { epilogue_rows } from "./epilogue";
import { bconv_window } from "./bconv_window";

// Accumulate Σ_o' α[o][m]·β_k·(base − 2·popcount) into acc for four output channels o..o+3:
// popcount(a ⊕ w) (bipolar) or popcount(a ∧ w) (unipolar) over the clipped tap window, rows ky0..ky1
// of `len` contiguous words each (the valid kx span of NHWC activations and [kh][kw][words] weights
// is contiguous in both). The four counts stay in registers across the whole window.
@inline function tile4(
  xa0: usize, rowStride: usize, w0: usize, wRow: usize, ws: usize, rows: i32, len: i32, xor: bool,
  base: i32, alpha: usize, M: i32, m: i32, o: i32, bk: f32, acc: usize, ab: usize,
): void {
  let p0: u64 = 0, p1: u64 = 0, p2: u64 = 0, p3: u64 = 0;
  for (let r = 0; r < rows; r++) {
    const xa = xa0 + <usize>r * rowStride;
    const wr = w0 + <usize>r * wRow;
    for (let j = 0; j < len; j++) {
      const off = <usize>j << 3;
      const x = load<u64>(xa + off);
      const q = wr + off;
      if (xor) {
        p0 += popcnt<u64>(x ^ load<u64>(q));
        p1 += popcnt<u64>(x ^ load<u64>(q + ws));
        p2 += popcnt<u64>(x ^ load<u64>(q + 2 * ws));
        p3 += popcnt<u64>(x ^ load<u64>(q + 3 * ws));
      } else {
        p0 += popcnt<u64>(x & load<u64>(q));
        p1 += popcnt<u64>(x & load<u64>(q + ws));
        p2 += popcnt<u64>(x & load<u64>(q + 2 * ws));
        p3 += popcnt<u64>(x & load<u64>(q + 3 * ws));
      }
    }
  }
  update4(acc, alpha, M, m, o, bk, base, p0, p1, p2, p3, ab);
}

// tile4 for a full 3-word row span (3×3 kernel, Cin ≤ 64, interior pixel): the row's three words
// written out instead of the word loop.
@inline function tile4w3(
  xa0: usize, rowStride: usize, w0: usize, wRow: usize, ws: usize, rows: i32, xor: bool,
  base: i32, alpha: usize, M: i32, m: i32, o: i32, bk: f32, acc: usize, ab: usize,
): void {
  let p0: u64 = 0, p1: u64 = 0, p2: u64 = 0, p3: u64 = 0;
  for (let r = 0; r < rows; r++) {
    const xa = xa0 + <usize>r * rowStride, q0 = w0 + <usize>r * wRow, q1 = q0 + ws, q2 = q1 + ws, q3 = q2 + ws;
    const x0 = load<u64>(xa), x1 = load<u64>(xa, 8), x2 = load<u64>(xa, 16);
    if (xor) {
      p0 += popcnt<u64>(x0 ^ load<u64>(q0)) + popcnt<u64>(x1 ^ load<u64>(q0, 8)) + popcnt<u64>(x2 ^ load<u64>(q0, 16));
      p1 += popcnt<u64>(x0 ^ load<u64>(q1)) + popcnt<u64>(x1 ^ load<u64>(q1, 8)) + popcnt<u64>(x2 ^ load<u64>(q1, 16));
      p2 += popcnt<u64>(x0 ^ load<u64>(q2)) + popcnt<u64>(x1 ^ load<u64>(q2, 8)) + popcnt<u64>(x2 ^ load<u64>(q2, 16));
      p3 += popcnt<u64>(x0 ^ load<u64>(q3)) + popcnt<u64>(x1 ^ load<u64>(q3, 8)) + popcnt<u64>(x2 ^ load<u64>(q3, 16));
    } else {
      p0 += popcnt<u64>(x0 & load<u64>(q0)) + popcnt<u64>(x1 & load<u64>(q0, 8)) + popcnt<u64>(x2 & load<u64>(q0, 16));
      p1 += popcnt<u64>(x0 & load<u64>(q1)) + popcnt<u64>(x1 & load<u64>(q1, 8)) + popcnt<u64>(x2 & load<u64>(q1, 16));
      p2 += popcnt<u64>(x0 & load<u64>(q2)) + popcnt<u64>(x1 & load<u64>(q2, 8)) + popcnt<u64>(x2 & load<u64>(q2, 16));
      p3 += popcnt<u64>(x0 & load<u64>(q3)) + popcnt<u64>(x1 & load<u64>(q3, 8)) + popcnt<u64>(x2 & load<u64>(q3, 16));
    }
  }
  update4(acc, alpha, M, m, o, bk, base, p0, p1, p2, p3, ab);
}

// acc[o..o+4) += α[o..o+4][m]·β_k·(base − 2·count): in f32x4 lanes where SIMD is on (each lane does
// the scalar operations in the same order, so both builds agree bit for bit).
@inline function update4(acc: usize, alpha: usize, M: i32, m: i32, o: i32, bk: f32, base: i32, p0: u64, p1: u64, p2: u64, p3: u64, ab: usize): void {
  const a = alpha + (<usize>(o * M + m) << 2), st = <usize>M << 2, q = acc + (<usize>o << 2);
  if (ASC_FEATURE_SIMD) {
    let cv = i32x4.splat(<i32>p0);
    cv = i32x4.replace_lane(cv, 1, <i32>p1);
    cv = i32x4.replace_lane(cv, 2, <i32>p2);
    cv = i32x4.replace_lane(cv, 3, <i32>p3);
    // ab: this (k, m)'s row of the α·β table, α[o][m]·β_k rounded as the scalar path rounds it
    const d = f32x4.convert_i32x4_s(i32x4.sub(i32x4.splat(base), i32x4.shl(cv, 1)));
    v128.store(q, f32x4.add(v128.load(q), f32x4.mul(v128.load(ab + (<usize>o << 2)), d)));
    return;
  }
  store<f32>(q, load<f32>(q) + load<f32>(a) * bk * <f32>(base - 2 * <i32>p0));
  store<f32>(q + 4, load<f32>(q + 4) + load<f32>(a + st) * bk * <f32>(base - 2 * <i32>p1));
  store<f32>(q + 8, load<f32>(q + 8) + load<f32>(a + 2 * st) * bk * <f32>(base - 2 * <i32>p2));
  store<f32>(q + 12, load<f32>(q + 12) + load<f32>(a + 3 * st) * bk * <f32>(base - 2 * <i32>p3));
}

@inline function tile1(
  xa0: usize, rowStride: usize, w0: usize, wRow: usize, rows: i32, len: i32, xor: bool,
  base: i32, alpha: usize, M: i32, m: i32, o: i32, bk: f32, acc: usize,
): void {
  let p: u64 = 0;
  for (let r = 0; r < rows; r++) {
    const xa = xa0 + <usize>r * rowStride;
    const wr = w0 + <usize>r * wRow;
    for (let j = 0; j < len; j++) {
      const off = <usize>j << 3;
      const x = load<u64>(xa + off);
      p += xor ? popcnt<u64>(x ^ load<u64>(wr + off)) : popcnt<u64>(x & load<u64>(wr + off));
    }
  }
  const q = acc + (<usize>o << 2);
  store<f32>(q, load<f32>(q) + load<f32>(alpha + (<usize>(o * M + m) << 2)) * bk * <f32>(base - 2 * <i32>p));
}

@inline function popa(a: usize, len: i32): i32 {
  let p: u64 = 0;
  for (let j = 0; j < len; j++) p += popcnt<u64>(load<u64>(a + (<usize>j << 3)));
  return <i32>p;
}

// Shared body of bconv and bdense (bdense = 1×1 conv on a 1×1 image).
export function bconv_impl(
  x: usize, H: i32, W: i32, cin: i32, words: i32, K: i32, xPlane: usize,
  wts: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, accRow: usize, e: usize, wpk: usize, scratch: usize, ithr: usize,
): void {
  if (wpk != 0) {
    // narrow layer: the compiler packed the weights for the window path (bconv_window.ts); ithr ≠ 0:
    // integer thresholds (compiler/quant/int_threshold.ts) replace the float sums and the epilogue
    bconv_window(x, H, W, cin, K, xPlane, M, cout, kh, kw, stride, padT, padL, OH, OW, unipolar, alpha, beta, cw, ca, wtap, accRow, e, wpk, scratch, ithr);
    return;
  }
  if (unipolar) general_unipolar(x, H, W, cin, words, K, xPlane, wts, M, cout, kh, kw, stride, padT, padL, OH, OW, alpha, beta, cw, ca, wtap, accRow, e, scratch);
  else general_bipolar(x, H, W, cin, words, K, xPlane, wts, M, cout, kh, kw, stride, padT, padL, OH, OW, alpha, beta, cw, ca, wtap, accRow, e, scratch);
}

// The general path with XOR (bipolar) or AND (unipolar) a constant of each function: no branch on it
// in the popcount loops (results/ab-xor-const-steps.json).
function general_bipolar(
  x: usize, H: i32, W: i32, cin: i32, words: i32, K: i32, xPlane: usize,
  wts: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, accRow: usize, e: usize, scratch: usize,
): void {
  generalLoop(false, x, H, W, cin, words, K, xPlane, wts, M, cout, kh, kw, stride, padT, padL, OH, OW, alpha, beta, cw, ca, wtap, accRow, e, scratch);
}
function general_unipolar(
  x: usize, H: i32, W: i32, cin: i32, words: i32, K: i32, xPlane: usize,
  wts: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, accRow: usize, e: usize, scratch: usize,
): void {
  generalLoop(true, x, H, W, cin, words, K, xPlane, wts, M, cout, kh, kw, stride, padT, padL, OH, OW, alpha, beta, cw, ca, wtap, accRow, e, scratch);
}

@inline function generalLoop(
  uni: bool, x: usize, H: i32, W: i32, cin: i32, words: i32, K: i32, xPlane: usize,
  wts: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, accRow: usize, e: usize, scratch: usize,
): void {
  const wso = <usize>(kh * kw * words) << 3; // bytes per output channel in one weight plane
  const wPlane = <usize>cout * wso;
  const pixStride = <usize>words << 3;
  const rowStride = <usize>W * pixStride; // one input row
  const wRow = <usize>(kw * words) << 3; // one kernel row
  const xor = !uni;
  // SIMD: α[o][m]·β_k as a [K][M][cout] table in scratch, one vector load per four channels
  if (ASC_FEATURE_SIMD)
    for (let k = 0; k < K; k++)
      for (let m = 0; m < M; m++)
        for (let o = 0; o < cout; o++)
          store<f32>(scratch + (<usize>((k * M + m) * cout + o) << 2), load<f32>(alpha + (<usize>(o * M + m) << 2)) * load<f32>(beta + (<usize>k << 2)));
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    const rows = ky1 - ky0;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const len = (kx1 - kx0) * words;
      const n = rows * (kx1 - kx0) * cin;
      const acc = accRow + (<usize>(ox * cout) << 2); // this pixel's row of acc
      for (let o = 0; o < cout; o++) store<f32>(acc + (<usize>o << 2), 0); // (memory.fill is a call in V8)
      for (let k = 0; k < K; k++) {
        const xk = x + <usize>k * xPlane;
        const bk = load<f32>(beta + (<usize>k << 2));
        const xa0 = xk + <usize>((iy0 + ky0) * W + ix0 + kx0) * pixStride;
        let hp = 0;
        // popcount of the activation plane over the valid window (Σh = n − 2·hp; Σu = hp), needed
        // for unipolar bases and for the c_w term only
        if (uni || cw) for (let r = 0; r < rows; r++) hp += popa(xa0 + <usize>r * rowStride, len);
        const base = uni ? hp : n; // dot = base − 2·popcount
        for (let m = 0; m < M; m++) {
          const w0 = wts + <usize>m * wPlane + (<usize>((ky0 * kw + kx0) * words) << 3);
          const ab = scratch + (<usize>((k * M + m) * cout) << 2);
          let o = 0;
          if (len == 3)
            for (; o + 4 <= cout; o += 4) tile4w3(xa0, rowStride, w0 + <usize>o * wso, wRow, wso, rows, xor, base, alpha, M, m, o, bk, acc, ab);
          else
            for (; o + 4 <= cout; o += 4) tile4(xa0, rowStride, w0 + <usize>o * wso, wRow, wso, rows, len, xor, base, alpha, M, m, o, bk, acc, ab);
          for (; o < cout; o++) tile1(xa0, rowStride, w0 + <usize>o * wso, wRow, rows, len, xor, base, alpha, M, m, o, bk, acc);
        }
        if (cw) {
          const s = bk * <f32>(uni ? hp : n - 2 * hp);
          for (let o = 0; o < cout; o++) {
            const q = acc + (<usize>o << 2);
            store<f32>(q, load<f32>(q) + load<f32>(cw + (<usize>o << 2)) * s);
          }
        }
      }
      if (ca != 0) {
        for (let o = 0; o < cout; o++) {
          let sw: f32 = 0;
          const t = wtap + (<usize>(o * kh * kw) << 2);
          for (let ky = ky0; ky < ky1; ky++)
            for (let kx = kx0; kx < kx1; kx++) sw += load<f32>(t + (<usize>(ky * kw + kx) << 2));
          const q = acc + (<usize>o << 2);
          store<f32>(q, load<f32>(q) + ca * sw);
        }
      }
    }
    epilogue_rows(e, accRow, oy * OW, OW);
  }
}

export function bconv(p: usize): void {
  bconv_impl(
    pu(p, 0), pi(p, 1), pi(p, 2), pi(p, 3), pi(p, 4), pi(p, 5), pu(p, 6),
    pu(p, 7), pi(p, 8), pi(p, 9), pi(p, 10), pi(p, 11), pi(p, 12), pi(p, 13), pi(p, 14), pi(p, 15), pi(p, 16),
    pi(p, 17) != 0, pu(p, 18), pu(p, 19), pu(p, 20), pf(p, 21), pu(p, 22), pu(p, 23), pu(p, 24), pu(p, 25), pu(p, 26), pu(p, 27),
  );
}
