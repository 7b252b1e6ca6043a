// Runtime kernel: float dense layer (typically the classifier head) = conv2d_f32 with a 1×1 kernel
// on a 1×1 image; weights [Cin][Cout]; fused epilogue.
import { pi, pu } from "../params";
import { conv2d_impl } from "./conv2d_f32";

export function dense_f32(p: usize): void {
  conv2d_impl(pu(p, 0), 1, 1, pi(p, 1), pu(p, 2), pi(p, 3), 1, 1, 1, 0, 0, 1, 1, pu(p, 4), pu(p, 5));
}
