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

// popcount(a ⊕ w) (xor=true) or popcount(a ∧ w) over `len` contiguous words, four weight rows at once.
@inline function pop4(a: usize, w: usize, ws: usize, len: i32, xor: bool, out: usize): void {
  let p0: u64 = 0, p1: u64 = 0, p2: u64 = 0, p3: u64 = 0;
  for (let j = 0; j < len; j++) {
    const off = <usize>j << 3;
    const x = load<u64>(a + off);
    const q = w + off;
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
  store<i32>(out, load<i32>(out) + <i32>p0);
  store<i32>(out + 4, load<i32>(out + 4) + <i32>p1);
  store<i32>(out + 8, load<i32>(out + 8) + <i32>p2);
  store<i32>(out + 12, load<i32>(out + 12) + <i32>p3);
}

@inline function pop1(a: usize, w: usize, len: i32, xor: bool): i32 {
  let p: u64 = 0;
  for (let j = 0; j < len; j++) {
    const off = <usize>j << 3;
    const x = load<u64>(a + off);
    p += xor ? popcnt<u64>(x ^ load<u64>(w + off)) : popcnt<u64>(x & load<u64>(w + off));
  }
  return <i32>p;
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
  unipolar: bool, alpha: usize, beta: usize, cw: usize, ca: f32, wtap: usize, acc: usize, e: usize,
): void {
  // acc holds cout f32 sums followed by cout i32 popcounts.
  const pops = acc + (<usize>cout << 2);
  const wso = <usize>(kh * kw * words) << 3; // bytes per output channel in one weight plane
  const wPlane = <usize>cout * wso;
  const pixStride = <usize>words << 3;
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * stride - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * stride - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const len = (kx1 - kx0) * words;
      const n = (ky1 - ky0) * (kx1 - kx0) * cin;
      memory.fill(acc, 0, <usize>cout << 2);
      for (let k = 0; k < K; k++) {
        const xk = x + <usize>k * xPlane;
        const bk = load<f32>(beta + (<usize>k << 2));
        // popcount of the activation plane over the valid window (Σh = n − 2·it; Σu = it)
        let hp = 0;
        for (let ky = ky0; ky < ky1; ky++) hp += popa(xk + <usize>((iy0 + ky) * W + ix0 + kx0) * pixStride, len);
        const base = unipolar ? hp : n; // dot = base − 2·popcnt
        for (let m = 0; m < M; m++) {
          const wm = wts + <usize>m * wPlane;
          memory.fill(pops, 0, <usize>cout << 2);
          for (let ky = ky0; ky < ky1; ky++) {
            const xa = xk + <usize>((iy0 + ky) * W + ix0 + kx0) * pixStride;
            const wr = wm + (<usize>((ky * kw + kx0) * words) << 3);
            let o = 0;
            for (; o + 4 <= cout; o += 4) pop4(xa, wr + <usize>o * wso, wso, len, !unipolar, pops + (<usize>o << 2));
            for (; o < cout; o++) {
              const q = pops + (<usize>o << 2);
              store<i32>(q, load<i32>(q) + pop1(xa, wr + <usize>o * wso, len, !unipolar));
            }
          }
          for (let o = 0; o < cout; o++) {
            const dot = base - 2 * load<i32>(pops + (<usize>o << 2));
            const ab = load<f32>(alpha + (<usize>(o * M + m) << 2)) * bk;
            const q = acc + (<usize>o << 2);
            store<f32>(q, load<f32>(q) + ab * <f32>dot);
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
    pi(p, 17) != 0, pu(p, 18), pu(p, 19), pu(p, 20), pf(p, 21), pu(p, 22), pu(p, 23), pu(p, 24),
  );
}
