// Runtime kernel: constant padding of a channels-last map (ZeroPad2d, explicit Pad before a conv):
// out [oh][ow][c] holds in [h][w][c] at (top, left) and `value` elsewhere. No allocation.
import { pf, pi, pu } from "../params";

export function pad_f32(p: usize): void {
  const x = pu(p, 0), h = pi(p, 1), w = pi(p, 2), c = pi(p, 3), y = pu(p, 4), oh = pi(p, 5), ow = pi(p, 6);
  const top = pi(p, 7), left = pi(p, 8), value = pf(p, 9);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++) {
      const iy = oy - top, ix = ox - left, dst = y + (<usize>((oy * ow + ox) * c) << 2);
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
        const src = x + (<usize>((iy * w + ix) * c) << 2);
        for (let ch = 0; ch < c; ch++) store<f32>(dst + (<usize>ch << 2), load<f32>(src + (<usize>ch << 2)));
      } else for (let ch = 0; ch < c; ch++) store<f32>(dst + (<usize>ch << 2), value);
    }
}
