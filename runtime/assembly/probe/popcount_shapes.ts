// Benchmark probe (not part of any bundle; compiled by scripts/popcount_shapes.ts): the binary conv's
// popcount loop shapes side by side, to see which way of counting is cheapest on this engine before
// a kernel changes. Each function counts, for `cout` output channels (weights at w, `ws` words per
// channel, words past the window zero) and one activation window at a, the bits of activation ⊕
// weight over nw words, `reps` times, and returns Σ reps·Σ_o (o mod 4 + 1)·count_o (checked
// against JavaScript by the script).
//   scalar4 / scalar8  i64.popcnt, four / eight channels' counts in registers (the kernels today)
//   lanes4             SIMD: two words per v128, i8x16.popcnt into byte counts, one horizontal sum per channel
//   csa6 / csa10       lanes4 with a carry-save adder first (Harley–Seal): 3 vectors → ones + 2·twos,
//                      5 vectors → ones + 2·twos + 4·fours, fewer i8x16.popcnt per window
//   hybrid6            four channels by i64.popcnt and four by csa6 in one loop (integer and vector units)
//   gen4 / gen8        the general path's 3×3 window of one-word pixels: three rows of three words
//                      (rows `rs` bytes apart), four / eight channels
//   scalar8_5          the dense 3×3 × 32-channel window (5 words), eight channels
//   tail16 / tail32    the tail layout (bconv_window.ts): 2 / 4 full words by i64.popcnt and the last
//                      tap's 16 / 32 bits for 8 channels in SIMD lanes (weights' tails at t)

@inline function fold(pv: v128): u64 {
  return <u64>i32x4.extract_lane(pv, 0) + 2 * <u64>i32x4.extract_lane(pv, 1) + 3 * <u64>i32x4.extract_lane(pv, 2) + 4 * <u64>i32x4.extract_lane(pv, 3);
}

@inline function lanes(p0: u64, p1: u64, p2: u64, p3: u64): v128 {
  let pv = i32x4.splat(<i32>p0);
  pv = i32x4.replace_lane(pv, 1, <i32>p1);
  pv = i32x4.replace_lane(pv, 2, <i32>p2);
  return i32x4.replace_lane(pv, 3, <i32>p3);
}

// Σ of the bytes of four byte-count vectors, one i32 lane each.
@inline function sum4(c0: v128, c1: v128, c2: v128, c3: v128): v128 {
  const b01 = i8x16.add(i8x16.shuffle(c0, c1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(c0, c1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  const b23 = i8x16.add(i8x16.shuffle(c2, c3, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(c2, c3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  const e01 = i16x8.extadd_pairwise_i8x16_u(b01), e23 = i16x8.extadd_pairwise_i8x16_u(b23);
  return i32x4.dot_i16x8_s(i16x8.add(i32x4.shuffle(e01, e23, 0, 2, 4, 6), i32x4.shuffle(e01, e23, 1, 3, 5, 7)), i16x8.splat(1));
}

@inline function pop3(x0: u64, x1: u64, x2: u64, q: usize): u64 {
  return popcnt<u64>(x0 ^ load<u64>(q)) + popcnt<u64>(x1 ^ load<u64>(q, 8)) + popcnt<u64>(x2 ^ load<u64>(q, 16));
}

// The activation words in registers (loaded once per call, as the kernels load them once per pixel
// and plane); nw = 3, 6 or 9 words, straight-line (nw is a constant in every instance).
@inline function pop(x0: u64, x1: u64, x2: u64, x3: u64, x4: u64, x5: u64, x6: u64, x7: u64, x8: u64, q: usize, nw: i32): u64 {
  const p = pop3(x0, x1, x2, q);
  if (nw == 3) return p;
  if (nw == 6) return p + pop3(x3, x4, x5, q + 24);
  return p + pop3(x3, x4, x5, q + 24) + pop3(x6, x7, x8, q + 48);
}

@inline function scalar4(a: usize, w: usize, cout: i32, nw: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), x2 = load<u64>(a, 16), x3 = load<u64>(a, 24), x4 = load<u64>(a, 32), x5 = load<u64>(a, 40);
  const x6 = load<u64>(a, 48), x7 = load<u64>(a, 56), x8 = load<u64>(a, 64);
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) {
      const q = w + <usize>o * cs;
      tot += fold(lanes(pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 2 * cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 3 * cs, nw)));
    }
  return tot;
}

@inline function scalar8(a: usize, w: usize, cout: i32, nw: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), x2 = load<u64>(a, 16), x3 = load<u64>(a, 24), x4 = load<u64>(a, 32), x5 = load<u64>(a, 40);
  const x6 = load<u64>(a, 48), x7 = load<u64>(a, 56), x8 = load<u64>(a, 64);
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) {
      const q = w + <usize>o * cs, q4 = q + 4 * cs;
      const pv = lanes(pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 2 * cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 3 * cs, nw));
      const pw = lanes(pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q4, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q4 + cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q4 + 2 * cs, nw), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q4 + 3 * cs, nw));
      tot += fold(pv) + fold(pw);
    }
  return tot;
}

// byte counts of one channel's window: nv vectors of two words
@inline function bytes(a: usize, q: usize, nv: i32): v128 {
  let c = i8x16.splat(0);
  for (let j = 0; j < nv; j++) c = i8x16.add(c, i8x16.popcnt(v128.xor(v128.load(a + (<usize>j << 4)), v128.load(q + (<usize>j << 4)))));
  return c;
}

@inline function lanes4(a: usize, w: usize, cout: i32, nw: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3, nv = (nw + 1) >> 1;
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) {
      const q = w + <usize>o * cs;
      tot += fold(sum4(bytes(a, q, nv), bytes(a, q + cs, nv), bytes(a, q + 2 * cs, nv), bytes(a, q + 3 * cs, nv)));
    }
  return tot;
}

// full adder: byte counts of a + b + c as popcnt(ones) + 2·popcnt(twos)
@inline function csa3(x0: v128, x1: v128, x2: v128, q: usize): v128 {
  const a = v128.xor(x0, v128.load(q)), b = v128.xor(x1, v128.load(q, 16)), c = v128.xor(x2, v128.load(q, 32));
  const u = v128.xor(a, b);
  const pt = i8x16.popcnt(v128.or(v128.and(a, b), v128.and(u, c)));
  return i8x16.add(i8x16.popcnt(v128.xor(u, c)), i8x16.add(pt, pt));
}

export function csa6(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = v128.load(a), x1 = v128.load(a, 16), x2 = v128.load(a, 32);
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) {
      const q = w + <usize>o * cs;
      tot += fold(sum4(csa3(x0, x1, x2, q), csa3(x0, x1, x2, q + cs), csa3(x0, x1, x2, q + 2 * cs), csa3(x0, x1, x2, q + 3 * cs)));
    }
  return tot;
}

// five vectors: CSA(v0, v1, v2) → o1, t1; CSA(o1, v3, v4) → ones, t2; t1 + t2 → twos, fours
@inline function csa5(a: usize, q: usize): v128 {
  const v0 = v128.xor(v128.load(a), v128.load(q)), v1 = v128.xor(v128.load(a, 16), v128.load(q, 16)), v2 = v128.xor(v128.load(a, 32), v128.load(q, 32));
  const v3 = v128.xor(v128.load(a, 48), v128.load(q, 48)), v4 = v128.xor(v128.load(a, 64), v128.load(q, 64));
  const u = v128.xor(v0, v1), o1 = v128.xor(u, v2), t1 = v128.or(v128.and(v0, v1), v128.and(u, v2));
  const u2 = v128.xor(o1, v3), ones = v128.xor(u2, v4), t2 = v128.or(v128.and(o1, v3), v128.and(u2, v4));
  const p2 = i8x16.popcnt(v128.xor(t1, t2)), p4 = i8x16.popcnt(v128.and(t1, t2)), p44 = i8x16.add(p4, p4);
  return i8x16.add(i8x16.popcnt(ones), i8x16.add(i8x16.add(p2, p2), i8x16.add(p44, p44)));
}

export function csa10(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) {
      const q = w + <usize>o * cs;
      tot += fold(sum4(csa5(a, q), csa5(a, q + cs), csa5(a, q + 2 * cs), csa5(a, q + 3 * cs)));
    }
  return tot;
}

export function hybrid6(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), x2 = load<u64>(a, 16), x3 = load<u64>(a, 24), x4 = load<u64>(a, 32), x5 = load<u64>(a, 40);
  const x6 = load<u64>(a, 48), x7 = load<u64>(a, 56), x8 = load<u64>(a, 64);
  const v0 = v128.load(a), v1 = v128.load(a, 16), v2 = v128.load(a, 32);
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) {
      const q = w + <usize>o * cs, q4 = q + 4 * cs;
      const pv = lanes(pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q, 6), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + cs, 6), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 2 * cs, 6), pop(x0, x1, x2, x3, x4, x5, x6, x7, x8, q + 3 * cs, 6));
      tot += fold(pv) + fold(sum4(csa3(v0, v1, v2, q4), csa3(v0, v1, v2, q4 + cs), csa3(v0, v1, v2, q4 + 2 * cs), csa3(v0, v1, v2, q4 + 3 * cs)));
    }
  return tot;
}

// general path (bconv.ts tile4w3): per group of channels, row by row, the row's three activation words
// loaded once for the group; weights nine consecutive words per channel
@inline function genRows(a: usize, rs: usize, q: usize, cs: usize, eight: bool): u64 {
  let p0: u64 = 0, p1: u64 = 0, p2: u64 = 0, p3: u64 = 0, p4: u64 = 0, p5: u64 = 0, p6: u64 = 0, p7: u64 = 0;
  for (let r = 0; r < 3; r++) {
    const xa = a + <usize>r * rs, qr = q + <usize>r * 24;
    const x0 = load<u64>(xa), x1 = load<u64>(xa, 8), x2 = load<u64>(xa, 16);
    p0 += pop3(x0, x1, x2, qr);
    p1 += pop3(x0, x1, x2, qr + cs);
    p2 += pop3(x0, x1, x2, qr + 2 * cs);
    p3 += pop3(x0, x1, x2, qr + 3 * cs);
    if (eight) {
      p4 += pop3(x0, x1, x2, qr + 4 * cs);
      p5 += pop3(x0, x1, x2, qr + 5 * cs);
      p6 += pop3(x0, x1, x2, qr + 6 * cs);
      p7 += pop3(x0, x1, x2, qr + 7 * cs);
    }
  }
  return fold(lanes(p0, p1, p2, p3)) + (eight ? fold(lanes(p4, p5, p6, p7)) : 0);
}

export function gen4(a: usize, w: usize, cout: i32, rs: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) tot += genRows(a, rs, w + <usize>o * cs, cs, false);
  return tot;
}

export function gen8(a: usize, w: usize, cout: i32, rs: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) tot += genRows(a, rs, w + <usize>o * cs, cs, true);
  return tot;
}

// the instances timed (nw a constant in each)
export function scalar4_3(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return scalar4(a, w, cout, 3, ws, reps); }
export function scalar4_6(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return scalar4(a, w, cout, 6, ws, reps); }
export function scalar4_9(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return scalar4(a, w, cout, 9, ws, reps); }
export function scalar8_3(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return scalar8(a, w, cout, 3, ws, reps); }
export function scalar8_6(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return scalar8(a, w, cout, 6, ws, reps); }
export function lanes4_3(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return lanes4(a, w, cout, 3, ws, reps); }
export function lanes4_6(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return lanes4(a, w, cout, 6, ws, reps); }
export function lanes4_9(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 { return lanes4(a, w, cout, 9, ws, reps); }

// tail layout: the window's full words by i64.popcnt, its last tap (16 or 32 bits) for 8 or 4
// channels at once in SIMD lanes (one v128 of 8 × u16 / 4 × u32 weights' tails)
@inline function pop2w(x0: u64, x1: u64, q: usize): u64 {
  return popcnt<u64>(x0 ^ load<u64>(q)) + popcnt<u64>(x1 ^ load<u64>(q, 8));
}
export function tail16(a: usize, w: usize, t: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), xt = i16x8.splat(<i16>load<u16>(a, 16));
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) {
      const q = w + <usize>o * cs, q4 = q + 4 * cs;
      const tv = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(xt, v128.load(t + (<usize>o << 1)))));
      const pv = i32x4.add(lanes(pop2w(x0, x1, q), pop2w(x0, x1, q + cs), pop2w(x0, x1, q + 2 * cs), pop2w(x0, x1, q + 3 * cs)), i32x4.extend_low_i16x8_u(tv));
      const pw = i32x4.add(lanes(pop2w(x0, x1, q4), pop2w(x0, x1, q4 + cs), pop2w(x0, x1, q4 + 2 * cs), pop2w(x0, x1, q4 + 3 * cs)), i32x4.extend_high_i16x8_u(tv));
      tot += fold(pv) + fold(pw);
    }
  return tot;
}
@inline function pop4w(x0: u64, x1: u64, x2: u64, x3: u64, q: usize): u64 {
  return popcnt<u64>(x0 ^ load<u64>(q)) + popcnt<u64>(x1 ^ load<u64>(q, 8)) + popcnt<u64>(x2 ^ load<u64>(q, 16)) + popcnt<u64>(x3 ^ load<u64>(q, 24));
}
@inline function pop5w(x0: u64, x1: u64, x2: u64, x3: u64, x4: u64, q: usize): u64 {
  return pop4w(x0, x1, x2, x3, q) + popcnt<u64>(x4 ^ load<u64>(q, 32));
}
export function scalar8_5(a: usize, w: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), x2 = load<u64>(a, 16), x3 = load<u64>(a, 24), x4 = load<u64>(a, 32);
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) {
      const q = w + <usize>o * cs, q4 = q + 4 * cs;
      const pv = lanes(pop5w(x0, x1, x2, x3, x4, q), pop5w(x0, x1, x2, x3, x4, q + cs), pop5w(x0, x1, x2, x3, x4, q + 2 * cs), pop5w(x0, x1, x2, x3, x4, q + 3 * cs));
      const pw = lanes(pop5w(x0, x1, x2, x3, x4, q4), pop5w(x0, x1, x2, x3, x4, q4 + cs), pop5w(x0, x1, x2, x3, x4, q4 + 2 * cs), pop5w(x0, x1, x2, x3, x4, q4 + 3 * cs));
      tot += fold(pv) + fold(pw);
    }
  return tot;
}
export function tail32(a: usize, w: usize, t: usize, cout: i32, ws: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const cs = <usize>ws << 3;
  const x0 = load<u64>(a), x1 = load<u64>(a, 8), x2 = load<u64>(a, 16), x3 = load<u64>(a, 24), xt = i32x4.splat(<i32>load<u32>(a, 32));
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 8 <= cout; o += 8) {
      const q = w + <usize>o * cs, q4 = q + 4 * cs;
      const ta = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(xt, v128.load(t + (<usize>o << 2))))));
      const tb = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(xt, v128.load(t + (<usize>o << 2), 16)))));
      const pv = i32x4.add(lanes(pop4w(x0, x1, x2, x3, q), pop4w(x0, x1, x2, x3, q + cs), pop4w(x0, x1, x2, x3, q + 2 * cs), pop4w(x0, x1, x2, x3, q + 3 * cs)), ta);
      const pw = i32x4.add(lanes(pop4w(x0, x1, x2, x3, q4), pop4w(x0, x1, x2, x3, q4 + cs), pop4w(x0, x1, x2, x3, q4 + 2 * cs), pop4w(x0, x1, x2, x3, q4 + 3 * cs)), tb);
      tot += fold(pv) + fold(pw);
    }
  return tot;
}
