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
import { epilogue } from "./epilogue";

// Accumulate Σ_o' α[o][m]·β_k·(base − 2·popcount) into acc for four output channels o..o+3:
// popcount(a ⊕ w) (bipolar) or popcount(a ∧ w) (unipolar) over the clipped tap window, rows ky0..ky1
// of `len` contiguous words each (the valid kx span of NHWC activations and [kh][kw][words] weights
// is contiguous in both). The four counts stay in registers across the whole window.
@inline function tile4(
  xa0: usize, rowStride: usize, w0: usize, wRow: usize, ws: usize, rows: i32, len: i32, xor: bool,
  base: i32, alpha: usize, M: i32, m: i32, o: i32, bk: f32, acc: usize,
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
  const a = alpha + (<usize>(o * M + m) << 2), st = <usize>M << 2, q = acc + (<usize>o << 2);
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

// Tap-packed path for narrow layers (one channel word per pixel and cin·kw ≤ 64, kh ≤ 3): the kw
// taps of one kernel row are packed side by side into one 64-bit word — tap kx at bit kx·cin — for
// both activations (built per output pixel) and weights (`wpk`, [M][cout][kh] words, laid out by
// the compiler). One popcount then covers a whole kernel row instead of one tap: for 16-channel
// layers 3× fewer popcounts. Taps outside the image are masked off (bipolar: (a ⊕ w) ∧ mask; unipolar
// needs no mask since a = 0 there), so the sums are exactly those of the general path.
@inline function lowBits(n: i32): u64 {
  return n >= 64 ? <u64>-1 : (<u64>1 << <u64>n) - 1;
}

@inline function rowWord(x: usize, iy: i32, W: i32, ix0: i32, kx0: i32, kx1: i32, cin: i32): u64 {
  let a: u64 = 0;
  for (let kx = kx0; kx < kx1; kx++) a |= load<u64>(x + (<usize>(iy * W + ix0 + kx) << 3)) << <u64>(kx * cin);
  return a;
}

// Shared body of bconv and bdense (bdense = 1×1 conv on a 1×1 image).
export function bconv_impl(
  x: usize, H: i32, W: i32, cin: i32, words: i32, K: i32, xPlane: usize,
  wts: usize, M: i32, cout: i32, kh: i32, kw: i32, stride: i32, padT: i32, padL: i32, OH: i32, OW: i32,
  unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize, wpk: usize,
): void {
  const tapPacked = wpk != 0 && words == 1 && cin * kw <= 64 && kh <= 3;
  const wso = <usize>(kh * kw * words) << 3; // bytes per output channel in one weight plane
  const wPlane = <usize>cout * wso;
  const pixStride = <usize>words << 3;
  const rowStride = <usize>W * pixStride; // one input row
  const wRow = <usize>(kw * words) << 3; // one kernel row
  const xor = !unipolar;
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    const rows = ky1 - ky0;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const len = (kx1 - kx0) * words;
      const n = rows * (kx1 - kx0) * cin;
      memory.fill(acc, 0, <usize>cout << 2);
      for (let k = 0; k < K; k++) {
        const xk = x + <usize>k * xPlane;
        const bk = load<f32>(beta + (<usize>k << 2));
        const xa0 = xk + <usize>((iy0 + ky0) * W + ix0 + kx0) * pixStride;
        let hp = 0;
        if (tapPacked) {
          const a0 = rows > 0 ? rowWord(xk, iy0 + ky0, W, ix0, kx0, kx1, cin) : 0;
          const a1 = rows > 1 ? rowWord(xk, iy0 + ky0 + 1, W, ix0, kx0, kx1, cin) : 0;
          const a2 = rows > 2 ? rowWord(xk, iy0 + ky0 + 2, W, ix0, kx0, kx1, cin) : 0;
          hp = <i32>(popcnt<u64>(a0) + popcnt<u64>(a1) + popcnt<u64>(a2));
          const tap = lowBits(kx1 * cin) ^ lowBits(kx0 * cin);
          const m0 = rows > 0 ? tap : 0, m1 = rows > 1 ? tap : 0, m2 = rows > 2 ? tap : 0;
          const base = unipolar ? hp : n;
          const mStride = <usize>(cout * kh) << 3;
          for (let o = 0; o < cout; o++) {
            // planes innermost: the channel's sum stays in a register (same addition order as before)
            const q = acc + (<usize>o << 2);
            let sum = load<f32>(q);
            let wr = wpk + (<usize>(o * kh + ky0) << 3);
            const al = alpha + (<usize>(o * M) << 2);
            for (let m = 0; m < M; m++) {
              let p: u64;
              if (xor) p = popcnt<u64>((a0 ^ load<u64>(wr)) & m0) + popcnt<u64>((a1 ^ load<u64>(wr + 8)) & m1) + popcnt<u64>((a2 ^ load<u64>(wr + 16)) & m2);
              else p = popcnt<u64>(a0 & load<u64>(wr)) + popcnt<u64>(a1 & load<u64>(wr + 8)) + popcnt<u64>(a2 & load<u64>(wr + 16));
              sum += load<f32>(al + (<usize>m << 2)) * bk * <f32>(base - 2 * <i32>p);
              wr += mStride;
            }
            store<f32>(q, sum);
          }
        } else {
        // popcount of the activation plane over the valid window (Σh = n − 2·hp; Σu = hp)
        for (let r = 0; r < rows; r++) hp += popa(xa0 + <usize>r * rowStride, len);
        const base = unipolar ? hp : n; // dot = base − 2·popcount
        for (let m = 0; m < M; m++) {
          const w0 = wts + <usize>m * wPlane + (<usize>((ky0 * kw + kx0) * words) << 3);
          let o = 0;
          for (; o + 4 <= cout; o += 4) tile4(xa0, rowStride, w0 + <usize>o * wso, wRow, wso, rows, len, xor, base, alpha, M, m, o, bk, acc);
          for (; o < cout; o++) tile1(xa0, rowStride, w0 + <usize>o * wso, wRow, rows, len, xor, base, alpha, M, m, o, bk, acc);
        }
        }
        if (cw) {
          const s = bk * <f32>(unipolar ? hp : n - 2 * hp);
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
      epilogue(e, acc, oy * OW + ox);
    }
  }
}

export function bconv(p: usize): void {
  bconv_impl(
    pu(p, 0), pi(p, 1), pi(p, 2), pi(p, 3), pi(p, 4), pi(p, 5), pu(p, 6),
    pu(p, 7), pi(p, 8), pi(p, 9), pi(p, 10), pi(p, 11), pi(p, 12), pi(p, 13), pi(p, 14), pi(p, 15), pi(p, 16),
    pi(p, 17) != 0, pu(p, 18), pu(p, 19), pu(p, 20), pf(p, 21), pu(p, 22), pu(p, 23), pu(p, 24), pu(p, 25),
  );
}
