// Harness replica (not part of any bundle): the straight-through staircase of a quantizer, forward
// and backward, on channel-last float32 data (channel = index mod C). Called by
// harness/replica/staircase.ts; replaces per-threshold TensorFlow.js ops (a broadcast compare, a
// cast, a multiply and an add per threshold) that took ~45 % of the replica's kernel time on MBN3x3.
// Bit-identical to those ops: the same float32 operations in the same order, and a 0/1 mask times a
// float is written as a select of s or 0·s (= copysign(0, s)), which is what the multiply gives.
//   forward:  v = v0; for j: v += [x' ≥ thr[j][c]]·step[j]            x' = x with its sign bit xor neg[c]
//             (neg: u32 per channel, 0x80000000 for a decreasing channel: x' = −x, as x·(−1) gives)
//   backward: g = dy · ([lo[c] ≤ x' ≤ hi[c]]·ss[c])                    ss = slope·sign per channel

/** First free byte (the JS side lays out its arrays from here and grows the memory itself). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

export function stair_forward(x: usize, out: usize, n: i32, C: i32, nt: i32, neg: usize, thr: usize, steps: usize, v0: f32): void {
  let i = 0;
  if (C % 4 == 0) {
    for (; i + 4 <= n; i += 4) {
      const c = i % C;
      const xp = v128.xor(v128.load(x + (<usize>i << 2)), v128.load(neg + (<usize>c << 2)));
      let v = f32x4.splat(v0);
      for (let j = 0; j < nt; j++) {
        const s = load<f32>(steps + (<usize>j << 2));
        const ge = f32x4.ge(xp, v128.load(thr + (<usize>(j * C + c) << 2)));
        v = f32x4.add(v, v128.bitselect(f32x4.splat(s), f32x4.splat(<f32>0 * s), ge));
      }
      v128.store(out + (<usize>i << 2), v);
    }
  }
  for (; i < n; i++) {
    const c = i % C;
    const xp = reinterpret<f32>(load<u32>(x + (<usize>i << 2)) ^ load<u32>(neg + (<usize>c << 2)));
    let v = v0;
    for (let j = 0; j < nt; j++) {
      const s = load<f32>(steps + (<usize>j << 2));
      v += xp >= load<f32>(thr + (<usize>(j * C + c) << 2)) ? s : <f32>0 * s;
    }
    store<f32>(out + (<usize>i << 2), v);
  }
}

export function stair_backward(x: usize, dy: usize, out: usize, n: i32, C: i32, neg: usize, lo: usize, hi: usize, ss: usize): void {
  let i = 0;
  if (C % 4 == 0) {
    for (; i + 4 <= n; i += 4) {
      const c = i % C, o = <usize>c << 2;
      const xp = v128.xor(v128.load(x + (<usize>i << 2)), v128.load(neg + (<usize>c << 2)));
      const inside = v128.and(f32x4.ge(xp, v128.load(lo + o)), f32x4.le(xp, v128.load(hi + o)));
      const s = v128.load(ss + o);
      const m = v128.bitselect(s, f32x4.mul(f32x4.splat(0), s), inside);
      v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(dy + (<usize>i << 2)), m));
    }
  }
  for (; i < n; i++) {
    const c = i % C, o = <usize>c << 2;
    const xp = reinterpret<f32>(load<u32>(x + (<usize>i << 2)) ^ load<u32>(neg + (<usize>c << 2)));
    const s = load<f32>(ss + o);
    const m = xp >= load<f32>(lo + o) && xp <= load<f32>(hi + o) ? s : <f32>0 * s;
    store<f32>(out + (<usize>i << 2), load<f32>(dy + (<usize>i << 2)) * m);
  }
}
