// Attack records: what the bundle that measured them computes, in a form today's bundle can be checked
// against. A record's figures follow from the function the bundle computes, not from its bytes: a
// runtime that is faster (or merely rebuilt) but gives bit-identical outputs leaves them true, while any
// change of a single output bit may not. The fingerprint holds, per evaluated image i (offset + k), the
// FNV-1a hash of the bundle's float32 logits on x_i ("clean") and on one fixed point of its ε-ball
// ("ball": every pixel moved by ±ε, the signs drawn from a seed of the image's index, clipped to [0, 1]).
// test/models/records.test.ts recomputes it with today's bundle when a record's bundle sha256 is not
// today's: equal hashes on every image keep the record, any difference marks it stale.
import type { Bundle } from "../../runtime/host/loader.ts";

export interface Fingerprint {
  clean: number[];
  ball: number[];
}

/** FNV-1a (32 bit) of the bytes of rows [i·len, (i+1)·len) of y. */
function rowHash(y: Float32Array, i: number, len: number): number {
  const b = new Uint8Array(y.buffer, y.byteOffset + i * len * 4, len * 4);
  let h = 0x811c9dc5;
  for (let j = 0; j < b.length; j++) h = Math.imul(h ^ b[j], 0x01000193);
  return h >>> 0;
}

/** The point of image `index`'s ε-ball the fingerprint probes: x ± ε per pixel (xorshift32 signs), clipped. */
export function ballPoint(x: Float32Array, index: number, eps: number): Float32Array {
  let s = (0x9e3779b9 ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0 || 1;
  return Float32Array.from(x, (v) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return Math.min(1, Math.max(0, v + (s & 1 ? eps : -eps)));
  });
}

/** The fingerprint of `bundle` on n images x (rows of bundle.inputLength) that are images offset… of the dataset. */
export function fingerprint(bundle: Bundle, x: Float32Array, n: number, offset: number, eps: number): Fingerprint {
  const per = bundle.inputLength, classes = bundle.outputLength;
  const clean = bundle.run(x.subarray(0, n * per));
  const ball = new Float32Array(n * per);
  for (let k = 0; k < n; k++) ball.set(ballPoint(x.subarray(k * per, (k + 1) * per), offset + k, eps), k * per);
  const near = bundle.run(ball);
  return { clean: Array.from({ length: n }, (_, k) => rowHash(clean, k, classes)), ball: Array.from({ length: n }, (_, k) => rowHash(near, k, classes)) };
}

/** Shard fingerprints of one run, in image order, as one. */
export function joinFingerprints(parts: (Fingerprint | undefined)[]): Fingerprint | undefined {
  if (!parts.length || parts.some((p) => !p)) return undefined;
  return { clean: parts.flatMap((p) => p!.clean), ball: parts.flatMap((p) => p!.ball) };
}
