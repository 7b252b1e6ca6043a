// Runtime kernel: float NHWC activations → P bit-planes packed along channels (DESIGN.md §3).
// Thresholds and the level→planes table come from the quant record (see epilogue.ts pack_pixel).
import { pi, pu } from "../params";
import { pack_pixel } from "./epilogue";

export function quantize_pack(p: usize): void {
  const x = pu(p, 0), npix = pi(p, 1), c = pi(p, 2), out = pu(p, 3), q = pu(p, 4);
  for (let pix = 0; pix < npix; pix++) pack_pixel(q, x + (<usize>(pix * c) << 2), c, out, pix);
}
