// Runtime kernel: multi-bit binary dense layer = bconv on a 1×1 image with a 1×1 kernel
// (same planes, same maths, same output transform; see bconv.ts). scratch: K·M·cout f32 (the α·β table).
import { pi, pu, pf } from "../params";
import { bconv_impl } from "./bconv";

export function bdense(p: usize): void {
  bconv_impl(
    pu(p, 0), 1, 1, pi(p, 1), pi(p, 2), pi(p, 3), pu(p, 4),
    pu(p, 5), pi(p, 6), pi(p, 7), 1, 1, 1, 0, 0, 1, 1,
    pi(p, 8) != 0, pu(p, 9), pu(p, 10), pu(p, 11), pf(p, 12), pu(p, 13), pu(p, 14), pu(p, 15), 0, pu(p, 16), 0,
  );
}
