// Runtime kernel: one input of a channel concatenation — `npix` rows of `c` floats copied into rows
// of `c_out` floats at channel `offset` (channels-last maps, or one row of a [1, F] vector). A Concat
// is one such step per input, in order, all writing the same output. No allocation.
import { pi, pu } from "../params";

export function concat_f32(p: usize): void {
  const x = pu(p, 0), npix = pi(p, 1), c = pi(p, 2), y = pu(p, 3), cOut = pi(p, 4), offset = pi(p, 5);
  for (let pix = 0; pix < npix; pix++) {
    const src = x + (<usize>(pix * c) << 2), dst = y + (<usize>(pix * cOut + offset) << 2);
    for (let ch = 0; ch < c; ch++) store<f32>(dst + (<usize>ch << 2), load<f32>(src + (<usize>ch << 2)));
  }
}
