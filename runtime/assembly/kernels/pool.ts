// Runtime kernels: float pooling on NHWC tensors (MaxPool, AveragePool, GlobalAveragePool).
// Padded positions never win a max; AveragePool divides by the window's in-bounds count, or with
// count_include_pad by its size within the padded extent [−pad_t, H + pad_b) × [−pad_l, W + pad_r)
// (a ceil_mode window that reaches past the padding counts only up to it, as onnxruntime does).
import { pi, pu } from "../params";

export function maxpool_f32(p: usize): void {
  const x = pu(p, 0), H = pi(p, 1), W = pi(p, 2), c = pi(p, 3), kh = pi(p, 4), kw = pi(p, 5);
  const sh = pi(p, 6), sw = pi(p, 7), padT = pi(p, 8), padL = pi(p, 9), OH = pi(p, 10), OW = pi(p, 11), y = pu(p, 12);
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * sh - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * sw - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const yp = y + (<usize>((oy * OW + ox) * c) << 2);
      for (let ch = 0; ch < c; ch++) {
        let m = -Infinity as f32;
        for (let ky = ky0; ky < ky1; ky++)
          for (let kx = kx0; kx < kx1; kx++)
            m = max(m, load<f32>(x + (<usize>(((iy0 + ky) * W + ix0 + kx) * c + ch) << 2)));
        store<f32>(yp + (<usize>ch << 2), m);
      }
    }
  }
}

export function avgpool_f32(p: usize): void {
  const x = pu(p, 0), H = pi(p, 1), W = pi(p, 2), c = pi(p, 3), kh = pi(p, 4), kw = pi(p, 5);
  const sh = pi(p, 6), sw = pi(p, 7), padT = pi(p, 8), padL = pi(p, 9), OH = pi(p, 10), OW = pi(p, 11);
  const includePad = pi(p, 12) != 0, y = pu(p, 13), padB = pi(p, 14), padR = pi(p, 15);
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * sh - padT;
    const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * sw - padL;
      const kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      const cnt = <f32>(includePad ? (min(kh, H + padB - iy0)) * (min(kw, W + padR - ix0)) : (ky1 - ky0) * (kx1 - kx0));
      const yp = y + (<usize>((oy * OW + ox) * c) << 2);
      for (let ch = 0; ch < c; ch++) {
        let s: f32 = 0;
        for (let ky = ky0; ky < ky1; ky++)
          for (let kx = kx0; kx < kx1; kx++)
            s += load<f32>(x + (<usize>(((iy0 + ky) * W + ix0 + kx) * c + ch) << 2));
        store<f32>(yp + (<usize>ch << 2), s / cnt);
      }
    }
  }
}

export function global_avgpool_f32(p: usize): void {
  const x = pu(p, 0), hw = pi(p, 1), c = pi(p, 2), y = pu(p, 3);
  for (let ch = 0; ch < c; ch++) {
    let s: f32 = 0;
    for (let i = 0; i < hw; i++) s += load<f32>(x + (<usize>(i * c + ch) << 2));
    store<f32>(y + (<usize>ch << 2), s / <f32>hw);
  }
}

export function global_maxpool_f32(p: usize): void {
  const x = pu(p, 0), hw = pi(p, 1), c = pi(p, 2), y = pu(p, 3);
  for (let ch = 0; ch < c; ch++) {
    let m: f32 = -Infinity;
    for (let i = 0; i < hw; i++) m = max(m, load<f32>(x + (<usize>(i * c + ch) << 2)));
    store<f32>(y + (<usize>ch << 2), m);
  }
}
