// Runtime kernel: Softmax / LogSoftmax / Hardmax over `rows` contiguous rows of `n` floats (the
// compiler puts the reduced axis innermost: the channels of a channels-last map, or the last axis in
// ONNX order, transposing other axes there). Per row, in float32 and in this order: m = max x;
// e_i = exp(x_i − m); s = Σ e_i (left to right); mode 0 softmax y_i = e_i / s, mode 1 log-softmax
// y_i = (x_i − m) − log s, mode 2 hardmax y_i = 1 at the first i with x_i = m, else 0. No allocation.
import { pi, pu } from "../params";

export function softmax_f32(p: usize): void {
  const x = pu(p, 0), rows = pi(p, 1), n = pi(p, 2), out = pu(p, 3), mode = pi(p, 4);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * n) << 2), o = out + (<usize>(r * n) << 2);
    let m: f32 = -Infinity;
    for (let i = 0; i < n; i++) m = max(m, load<f32>(row + (<usize>i << 2)));
    if (mode == 2) {
      let first = true;
      for (let i = 0; i < n; i++) {
        const hit = first && load<f32>(row + (<usize>i << 2)) == m;
        if (hit) first = false;
        store<f32>(o + (<usize>i << 2), hit ? 1 : 0);
      }
      continue;
    }
    let s: f32 = 0;
    for (let i = 0; i < n; i++) {
      const e = Mathf.exp(load<f32>(row + (<usize>i << 2)) - m);
      s += e;
      if (mode == 0) store<f32>(o + (<usize>i << 2), e);
    }
    if (mode == 1) {
      const ls = Mathf.log(s);
      for (let i = 0; i < n; i++) store<f32>(o + (<usize>i << 2), (load<f32>(row + (<usize>i << 2)) - m) - ls);
    } else {
      for (let i = 0; i < n; i++) store<f32>(o + (<usize>i << 2), load<f32>(o + (<usize>i << 2)) / s);
    }
  }
}
