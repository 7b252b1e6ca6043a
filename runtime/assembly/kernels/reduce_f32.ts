// Runtime kernel: Reduce* over one contiguous run of axes of a tensor in ONNX order, viewed as
// [outer][red][inner]: out[o][i] folds x[o][r][i] for r = 0 … red−1 in order, in float32 —
// kind 0 sum, 1 mean (sum / red), 2 max, 3 min, 4 prod, 5 Σx², 6 Σ|x|, 7 √Σx², 8 log Σx. No allocation.
import { pi, pu } from "../params";

export function reduce_f32(p: usize): void {
  const x = pu(p, 0), outer = pi(p, 1), red = pi(p, 2), inner = pi(p, 3), y = pu(p, 4), kind = pi(p, 5);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc: f32 = kind == 2 ? -Infinity : kind == 3 ? Infinity : kind == 4 ? 1 : 0;
      for (let r = 0; r < red; r++) {
        const v = load<f32>(x + (<usize>((o * red + r) * inner + i) << 2));
        if (kind == 2) acc = max(acc, v);
        else if (kind == 3) acc = min(acc, v);
        else if (kind == 4) acc *= v;
        else if (kind == 5 || kind == 7) acc += v * v;
        else if (kind == 6) acc += abs(v);
        else acc += v;
      }
      if (kind == 1) acc /= <f32>red;
      else if (kind == 7) acc = sqrt(acc);
      else if (kind == 8) acc = Mathf.log(acc);
      store<f32>(y + (<usize>(o * inner + i) << 2), acc);
    }
}
