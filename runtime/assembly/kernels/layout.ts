// Runtime kernels: layout changes at the bundle boundary (ABI tensors are NCHW, the plan is NHWC).
import { pi, pu } from "../params";

export function nchw_to_nhwc(p: usize): void {
  const x = pu(p, 0), y = pu(p, 1), c = pi(p, 2), hw = pi(p, 3);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < hw; i++)
      store<f32>(y + (<usize>(i * c + ch) << 2), load<f32>(x + (<usize>(ch * hw + i) << 2)));
}

export function nhwc_to_nchw(p: usize): void {
  const x = pu(p, 0), y = pu(p, 1), c = pi(p, 2), hw = pi(p, 3);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < hw; i++)
      store<f32>(y + (<usize>(ch * hw + i) << 2), load<f32>(x + (<usize>(i * c + ch) << 2)));
}
