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
