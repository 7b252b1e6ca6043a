// Harness report: PNG tEXt chunks — write key/value text into a PNG (before IEND) and read it back,
// so that docs/report.png itself names the records it was rendered from.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const SIG = [137, 80, 78, 71, 13, 10, 26, 10];

function chunks(png: Uint8Array): { type: string; start: number; data: Uint8Array }[] {
  if (!SIG.every((v, i) => png[i] === v)) throw new Error("not a PNG file");
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength), out = [];
  for (let p = 8; p + 12 <= png.length;) {
    const len = dv.getUint32(p), type = String.fromCharCode(...png.subarray(p + 4, p + 8));
    out.push({ type, start: p, data: png.subarray(p + 8, p + 8 + len) });
    p += 12 + len;
  }
  return out;
}

/** The PNG with one tEXt chunk per entry inserted before IEND (existing tEXt chunks of the same keys dropped). */
export function withText(png: Uint8Array, text: Record<string, string>): Uint8Array {
  const cs = chunks(png), keep: Uint8Array[] = [png.subarray(0, 8)];
  const enc = new TextEncoder();
  for (const c of cs) {
    const whole = png.subarray(c.start, c.start + 12 + c.data.length);
    if (c.type === "tEXt" && new TextDecoder("latin1").decode(c.data).split("\0")[0] in text) continue;
    if (c.type === "IEND")
      for (const [k, v] of Object.entries(text)) {
        const body = enc.encode(`tEXt${k}\0${v}`), out = new Uint8Array(body.length + 8), dv = new DataView(out.buffer);
        dv.setUint32(0, body.length - 4);
        out.set(body, 4);
        dv.setUint32(out.length - 4, crc32(body));
        keep.push(out);
      }
    keep.push(whole);
  }
  const total = keep.reduce((p, c) => p + c.length, 0), res = new Uint8Array(total);
  let o = 0;
  for (const c of keep) res.set(c, o), (o += c.length);
  return res;
}

/** The PNG's tEXt entries. */
export function readText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of chunks(png).filter((c) => c.type === "tEXt")) {
    const s = new TextDecoder("latin1").decode(c.data), i = s.indexOf("\0");
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}
