// Runtime kernel: TopK / ArgMax / ArgMin over `rows` contiguous rows of `n` floats (the compiler puts
// the axis innermost). Per row the k best elements in order — largest (or smallest) first, equal
// values by lower index (select_last: by higher index, ArgMax's select_last_index) — written as their
// values or, with `indices`, their indices as floats (exact below 2^24); NaNs rank after every number.
// The k indices are kept in
// the output row while selecting (insertion into a sorted run, O(n·k)). No allocation.
import { pi, pu } from "../params";

@inline function better(a: f32, ia: i32, b: f32, ib: i32, largest: bool, last: bool): bool {
  if (a != b) return largest ? a > b : a < b;
  return last ? ia > ib : ia < ib;
}

export function topk_f32(p: usize): void {
  const x = pu(p, 0), rows = pi(p, 1), n = pi(p, 2), k = pi(p, 3), out = pu(p, 4);
  const largest = pi(p, 5) != 0, indices = pi(p, 6) != 0, last = pi(p, 7) != 0;
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * n) << 2), o = out + (<usize>(r * k) << 2);
    let have = 0;
    for (let i = 0; i < n; i++) {
      const v = load<f32>(row + (<usize>i << 2));
      if (v != v) continue; // NaN never ranks
      // position among the kept ones (sorted best first)
      let at = have;
      while (at > 0) {
        const j = <i32>load<f32>(o + (<usize>(at - 1) << 2));
        if (!better(v, i, load<f32>(row + (<usize>j << 2)), j, largest, last)) break;
        at--;
      }
      if (at >= k) continue;
      const end = have < k ? have : k - 1;
      for (let m = end; m > at; m--) store<f32>(o + (<usize>m << 2), load<f32>(o + (<usize>(m - 1) << 2)));
      store<f32>(o + (<usize>at << 2), <f32>i);
      if (have < k) have++;
    }
    // NaNs rank after every number, in index order, so that a row always fills its k slots
    for (let i = 0; i < n && have < k; i++)
      if (load<f32>(row + (<usize>i << 2)) != load<f32>(row + (<usize>i << 2))) store<f32>(o + (<usize>(have++) << 2), <f32>i);
    if (!indices) for (let m = 0; m < have; m++) store<f32>(o + (<usize>m << 2), load<f32>(row + (<usize><i32>load<f32>(o + (<usize>m << 2)) << 2)));
  }
}
