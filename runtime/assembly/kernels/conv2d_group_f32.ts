// Runtime kernel: grouped (and depthwise) float convolution on channels-last maps — MobileNet,
// ShuffleNet, AlexNet's two towers. Weights in ONNX order [cout][cin/group][kh][kw]; output channel o
// reads input channels g·cg … g·cg + cg − 1 of its group g = o / (cout/group). Per output element the
// terms are summed over (c, ky, kx) in that order, in-bounds taps only, then the epilogue (bias,
// BatchNorm, activation, residual, quantize+pack) runs on the pixel's row. No allocation.
import { pi, pu } from "../params";
import { epilogue } from "./epilogue";

export function conv2d_group_f32(p: usize): void {
  const x = pu(p, 0), H = pi(p, 1), W = pi(p, 2), cin = pi(p, 3), wt = pu(p, 4), cout = pi(p, 5);
  const kh = pi(p, 6), kw = pi(p, 7), s = pi(p, 8), padT = pi(p, 9), padL = pi(p, 10), OH = pi(p, 11), OW = pi(p, 12);
  const acc = pu(p, 13), e = pu(p, 14), groups = pi(p, 15);
  const cg = cin / groups, mg = cout / groups;
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++) {
      const iy0 = oy * s - padT, ix0 = ox * s - padL;
      const ky0 = max(0, -iy0), ky1 = min(kh, H - iy0), kx0 = max(0, -ix0), kx1 = min(kw, W - ix0);
      for (let o = 0; o < cout; o++) {
        const c0 = (o / mg) * cg;
        let sum: f32 = 0;
        for (let c = 0; c < cg; c++) {
          const wo = wt + (<usize>((o * cg + c) * kh * kw) << 2);
          for (let ky = ky0; ky < ky1; ky++)
            for (let kx = kx0; kx < kx1; kx++)
              sum += load<f32>(x + (<usize>(((iy0 + ky) * W + ix0 + kx) * cin + c0 + c) << 2)) * load<f32>(wo + (<usize>(ky * kw + kx) << 2));
        }
        store<f32>(acc + (<usize>o << 2), sum);
      }
      epilogue(e, acc, oy * OW + ox);
    }
}
