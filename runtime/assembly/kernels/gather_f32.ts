// Runtime kernel: an index map — y[i] = idx[i] ≥ 0 ? x[idx[i]] : fill, over n floats in ONNX order.
// The compiler (passes/index_map.ts) computes the table for every pure data-movement op whose layout
// has no dedicated kernel: Transpose of rank > 4, DepthToSpace/SpaceToDepth, Slice, Split, Tile,
// Expand, Gather with constant indices, Pad (any mode and axes), nearest Resize, the windows of N-D
// convolutions and pools (im2col). One i32 per output element; no allocation.
import { pf, pi, pu } from "../params";

export function gather_f32(p: usize): void {
  const x = pu(p, 0), y = pu(p, 1), n = pi(p, 2), idx = pu(p, 3);
  const fill = pf(p, 4);
  for (let i = 0; i < n; i++) {
    const j = load<i32>(idx + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), j >= 0 ? load<f32>(x + (<usize>j << 2)) : fill);
  }
}
