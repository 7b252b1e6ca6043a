// Test helpers: what a bundle's mbn_selftest() does, computed on the host side — the input it writes
// (xorshift32 mapped to [0, 1), runtime/assembly/index.ts) and the FNV-1a hash of output bytes — so
// that another engine's outputs on that input can be compared with the hash any host reports.

/** The input mbn_selftest writes (xorshift32 → [0, 1)). */
export function selftestInput(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    x[i] = Math.fround((s >>> 8) * (1 / 16777216));
  }
  return x;
}

/** FNV-1a over the output bytes, as mbn_selftest hashes them. */
export function fnv(y: Float32Array): number {
  let h = 0x811c9dc5;
  for (const b of new Uint8Array(y.buffer, y.byteOffset, y.byteLength)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
