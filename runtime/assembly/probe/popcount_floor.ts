// Benchmark probe (not part of any bundle): a bare XOR-popcount loop in the shape of the runtime's
// inner tiles — four output channels' counts in registers, each activation word loaded once for
// the four — with no float work, no gathering and no epilogue. `mbn bench` times it for as many
// popcounts as the model's binary layers need, in the same rounds as the bundle: the floor that a
// popcount-bound bundle cannot beat on this host (see harness/bench/popcount_floor.ts).
//
// a: nw activation words; w: cout·nw weight words; returns a checksum so that nothing is dead code.
export function popcount_tiles(a: usize, w: usize, cout: i32, nw: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const ws = <usize>nw << 3;
  for (let r = 0; r < reps; r++)
    for (let o = 0; o + 4 <= cout; o += 4) {
      let p0: u64 = 0, p1: u64 = 0, p2: u64 = 0, p3: u64 = 0;
      const w0 = w + <usize>o * ws;
      for (let j = 0; j + 3 <= nw; j += 3) {
        const off = <usize>j << 3;
        const x0 = load<u64>(a + off), x1 = load<u64>(a + off, 8), x2 = load<u64>(a + off, 16);
        const q0 = w0 + off, q1 = q0 + ws, q2 = q1 + ws, q3 = q2 + ws;
        p0 += popcnt<u64>(x0 ^ load<u64>(q0)) + popcnt<u64>(x1 ^ load<u64>(q0, 8)) + popcnt<u64>(x2 ^ load<u64>(q0, 16));
        p1 += popcnt<u64>(x0 ^ load<u64>(q1)) + popcnt<u64>(x1 ^ load<u64>(q1, 8)) + popcnt<u64>(x2 ^ load<u64>(q1, 16));
        p2 += popcnt<u64>(x0 ^ load<u64>(q2)) + popcnt<u64>(x1 ^ load<u64>(q2, 8)) + popcnt<u64>(x2 ^ load<u64>(q2, 16));
        p3 += popcnt<u64>(x0 ^ load<u64>(q3)) + popcnt<u64>(x1 ^ load<u64>(q3, 8)) + popcnt<u64>(x2 ^ load<u64>(q3, 16));
      }
      tot += p0 + p1 * 3 + p2 * 5 + p3 * 7;
    }
  return tot;
}

// A variant tiling, to test the floor itself (scripts/floor_variants.ts): two windows (a, and the nw
// words after it) against the same weights, so each weight word is loaded once for two pixels; two
// output channels' counts per window in registers. One rep of the outer loop = two pixels, so `reps`
// counts pixels as above (rounded down to even). Checksum weights by o mod 4: the first window's
// count 1, 3, 5, 7 (as above), the second window's 11, 13, 17, 19.
export function popcount_tiles2(a: usize, w: usize, cout: i32, nw: i32, reps: i32): u64 {
  let tot: u64 = 0;
  const ws = <usize>nw << 3;
  const b = a + ws;
  for (let r = 0; r + 2 <= reps; r += 2)
    for (let o = 0; o + 2 <= cout; o += 2) {
      let p0: u64 = 0, p1: u64 = 0, s0: u64 = 0, s1: u64 = 0;
      const q0 = w + <usize>o * ws, q1 = q0 + ws;
      for (let j = 0; j + 3 <= nw; j += 3) {
        const off = <usize>j << 3;
        const x0 = load<u64>(a + off), x1 = load<u64>(a + off, 8), x2 = load<u64>(a + off, 16);
        const y0 = load<u64>(b + off), y1 = load<u64>(b + off, 8), y2 = load<u64>(b + off, 16);
        const u0 = load<u64>(q0 + off), u1 = load<u64>(q0 + off, 8), u2 = load<u64>(q0 + off, 16);
        const v0 = load<u64>(q1 + off), v1 = load<u64>(q1 + off, 8), v2 = load<u64>(q1 + off, 16);
        p0 += popcnt<u64>(x0 ^ u0) + popcnt<u64>(x1 ^ u1) + popcnt<u64>(x2 ^ u2);
        s0 += popcnt<u64>(y0 ^ u0) + popcnt<u64>(y1 ^ u1) + popcnt<u64>(y2 ^ u2);
        p1 += popcnt<u64>(x0 ^ v0) + popcnt<u64>(x1 ^ v1) + popcnt<u64>(x2 ^ v2);
        s1 += popcnt<u64>(y0 ^ v0) + popcnt<u64>(y1 ^ v1) + popcnt<u64>(y2 ^ v2);
      }
      const k = <u64>(o & 3); // o is even, k = 0 or 2
      tot += p0 * (1 + k * 2) + p1 * (3 + k * 2) + s0 * (11 + k * 3) + s1 * (13 + k * 3);
    }
  return tot;
}
