// Runtime kernel: standalone per-channel elementwise step on NHWC floats — the epilogue applied to
// the input itself: BatchNorm / Mul / Add by per-channel constants, residual Add (res), Relu/Clip,
// or quantize+pack (quant record). Used where no producing kernel can absorb the transform.
// Rows of fewer than four channels with a float output (an image's per-channel normalisation) run as
// one flat array (epilogue_flat): 0.15× the step's time on the CIFAR ResNet-20s' /Sub, 0.99× model
// time (results/ab-affine-flat.json).
import { pi, pu } from "../params";
import { epilogue, epilogue_flat, epilogue_rows } from "./epilogue";

const E_C = 0, E_QUANT = 8, E_FOUT = 9; // epilogue record slots: channel count, quantizer, float copy

export function channel_affine_f32(p: usize): void {
  const x = pu(p, 0), npix = pi(p, 1), acc = pu(p, 2), e = pu(p, 3);
  const c = pi(e, E_C);
  if (epilogue_flat(e, x, npix)) return; // fewer than four channels, float output: one flat array
  if (pu(e, E_QUANT) == 0 || pu(e, E_FOUT) != 0) {
    // the epilogue only reads its acc rows here (it writes out or fout): the input rows serve as
    // acc, all pixels in one call
    epilogue_rows(e, x, 0, npix);
    return;
  }
  // a quantized output without a float copy is staged in acc (the epilogue transforms it in place)
  for (let pix = 0; pix < npix; pix++) {
    const row = x + (<usize>(pix * c) << 2);
    for (let ch = 0; ch < c; ch++) store<f32>(acc + (<usize>ch << 2), load<f32>(row + (<usize>ch << 2)));
    epilogue(e, acc, pix);
  }
}
