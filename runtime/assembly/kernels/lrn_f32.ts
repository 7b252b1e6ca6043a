// Runtime kernel: LocalResponseNormalization across channels on channels-last rows (AlexNet,
// GoogLeNet, ZFNet): for each pixel and channel c, with the window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉
// clipped to the channels, s = Σ x², y = x · (bias + alpha/size · s)^(−beta), in float32. No allocation.
import { pf, pi, pu } from "../params";

export function lrn_f32(p: usize): void {
  const x = pu(p, 0), npix = pi(p, 1), c = pi(p, 2), y = pu(p, 3), size = pi(p, 4);
  const alpha = pf(p, 5), beta = pf(p, 6), bias = pf(p, 7);
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const k = alpha / <f32>size;
  for (let pix = 0; pix < npix; pix++) {
    const row = x + (<usize>(pix * c) << 2), out = y + (<usize>(pix * c) << 2);
    for (let ch = 0; ch < c; ch++) {
      let s: f32 = 0;
      const c0 = max(0, ch - lo), c1 = min(c - 1, ch + hi);
      for (let j = c0; j <= c1; j++) {
        const v = load<f32>(row + (<usize>j << 2));
        s += v * v;
      }
      store<f32>(out + (<usize>ch << 2), load<f32>(row + (<usize>ch << 2)) * Mathf.pow(bias + k * s, -beta));
    }
  }
}
