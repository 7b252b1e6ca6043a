// Compiler, emit stage: embeds a blob into the prebuilt runtime module → one `.wasm` bundle with
// zero imports: sets the memory's initial pages to what the plan needs, appends an active data
// segment holding the blob at its base, and adds the `mbn.manifest` custom section (DESIGN.md §4).
// Works on the binary format directly (sections are length-prefixed; only 3 are touched).
import { fail } from "../errors.ts";

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
/** An unsigned LEB128 at b[p]: [value, position after it]. */
export function readUleb(b: Uint8Array, p: number): [number, number] {
  let v = 0, shift = 0;
  for (;;) {
    const x = b[p++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return [v, p];
  }
}

export interface Section {
  id: number;
  body: Uint8Array;
}

export function parseSections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) fail("not a WebAssembly module");
  const out: Section[] = [];
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p++];
    const [size, q] = readUleb(wasm, p);
    if (q + size > wasm.length) fail("truncated WebAssembly section");
    out.push({ id, body: wasm.subarray(q, q + size) });
    p = q + size;
  }
  return out;
}

export function customSection(wasm: Uint8Array, name: string): Uint8Array | undefined {
  for (const s of parseSections(wasm)) {
    if (s.id !== 0) continue;
    const [len, p] = readUleb(s.body, 0);
    if (new TextDecoder().decode(s.body.subarray(p, p + len)) === name) return s.body.subarray(p + len);
  }
  return undefined;
}

export const concat = (parts: (Uint8Array | number[])[]): Uint8Array => {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export function buildBundle(runtime: Uint8Array, blob: { image: Uint8Array; base: number; memEnd: number }, manifest: object): Uint8Array {
  const secs = parseSections(runtime);
  const pages = Math.ceil((blob.memEnd + 64) / 65536);
  const segment = concat([[0x00, 0x41], sleb(blob.base), [0x0b], uleb(blob.image.length), blob.image]);
  const out: Section[] = [];
  let sawData = false;
  for (const s of secs) {
    if (s.id === 5) {
      out.push({ id: 5, body: new Uint8Array([1, 0x00, ...uleb(pages)]) });
    } else if (s.id === 12) {
      const [count] = readUleb(s.body, 0);
      out.push({ id: 12, body: new Uint8Array(uleb(count + 1)) });
    } else if (s.id === 11) {
      const [count, p] = readUleb(s.body, 0);
      out.push({ id: 11, body: concat([uleb(count + 1), s.body.subarray(p), segment]) });
      sawData = true;
    } else out.push(s);
  }
  if (!sawData) {
    // data section goes after code (10) and before any trailing custom sections
    const at = out.findIndex((s) => s.id === 10) + 1;
    out.splice(at, 0, { id: 11, body: concat([uleb(1), segment]) });
  }
  const name = new TextEncoder().encode("mbn.manifest");
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  out.push({ id: 0, body: concat([uleb(name.length), name, json]) });
  return concat([runtime.subarray(0, 8), ...out.flatMap((s) => [[s.id], uleb(s.body.length), s.body])]);
}
