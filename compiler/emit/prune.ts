// Compiler, emit stage: leaves out of a bundle the runtime functions its plan never reaches. The
// prebuilt runtime holds every kernel and every instance of the window loop (one wasm function per
// window stride S, bconv_window.ts); a plan uses a few. Each function a plan cannot reach keeps its
// place in the function index space (no call, export or index moves) but its body becomes
// `unreachable`: 3 bytes instead of up to 8 KB. Same bytes for every function the plan does reach,
// so outputs are identical to the whole runtime's (test/compiler/prune.test.ts).
//
// What a plan reaches: from the exports, through the call graph of the runtime's function table
// (runtime/build/mbn-<target>.funcs.json, written by runtime/build.mjs from the module's text file),
// except that a gated function — a kernel of runtime/kernels.json or a window-loop instance
// `window<S>` (bipolar), `window<S>u` (unipolar) or `window<S>i` (integer thresholds), by the last part of its name under runtime/assembly/kernels/ — is reached only when
// the plan needs it (Blob.needs: its steps' kernels and window strides). A gated function must have
// exactly one call site (its dispatch case; the window stride selector), checked here, so that
// leaving it out affects nothing else. Kernels the dispatch function inlined stay in it.
import { fail } from "../errors.ts";
import { KERNELS } from "./layout.ts";
import { WINDOW_STRIDES } from "../pack/bits.ts";
import { concat, parseSections, readUleb, uleb } from "./bundle.ts";

export interface FunctionTable {
  wasm_sha256: string;
  functions: { name: string; calls: number[] }[];
}

/** The names a plan's needs refer to: every kernel, and window<S> / window<S>u (unipolar) / window<S>i (the integer path) for each stride of the window path. */
export const GATES: ReadonlySet<string> = new Set([...KERNELS.map((k) => k.name), ...WINDOW_STRIDES.flatMap((s) => [`window${s}`, `window${s}u`, `window${s}i`])]);
const PREFIX = "runtime/assembly/kernels/";

/** The gate of a runtime function (its kernel, window<S>, window<S>u or window<S>i), or undefined for one that is always reached when called. */
export function gateOf(name: string): string | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const last = name.slice(name.lastIndexOf("/") + 1);
  return GATES.has(last) ? last : undefined;
}

const STUB = [0x03, 0x00, 0x00, 0x0b]; // body of 3 bytes: no locals, unreachable, end

/**
 * The runtime with the functions `needs` does not reach replaced by stubs, and the names of those
 * left out. `needs`: names of GATES; one that is not a gate is an internal error.
 */
export function pruneRuntime(wasm: Uint8Array, table: FunctionTable, needs: ReadonlySet<string>): { wasm: Uint8Array; dropped: string[] } {
  for (const n of needs) if (!GATES.has(n)) fail(`internal: the plan needs '${n}', which is no kernel or window stride of the runtime`);
  const fns = table.functions;
  const secs = parseSections(wasm);
  const code = secs.find((s) => s.id === 10);
  const exp = secs.find((s) => s.id === 7);
  if (!code || !exp || secs.some((s) => s.id === 2 || s.id === 8 || s.id === 9))
    fail("internal: the runtime module has imports, a start function or a table, which the pruning does not handle");
  const [count, first] = readUleb(code!.body, 0);
  if (count !== fns.length) fail(`internal: the runtime's function table lists ${fns.length} functions, its code section ${count} (stale runtime/build/*.funcs.json? run npm run build)`);
  // gated functions: one call site each
  const sites = new Array<number>(fns.length).fill(0);
  for (const f of fns) for (const c of f.calls) sites[c]++;
  fns.forEach((f, i) => {
    if (gateOf(f.name) && sites[i] !== 1) fail(`internal: runtime function ${f.name} has ${sites[i]} call sites; a kernel or window-loop instance must have one`);
  });
  // roots: the exported functions
  const live = new Array<boolean>(fns.length).fill(false);
  const todo: number[] = [];
  const [nexp, p0] = readUleb(exp!.body, 0);
  let p = p0;
  for (let i = 0; i < nexp; i++) {
    const [len, q] = readUleb(exp!.body, p);
    const kind = exp!.body[q + len];
    const [idx, r] = readUleb(exp!.body, q + len + 1);
    if (kind === 0) todo.push(idx);
    p = r;
  }
  const reach = (i: number) => {
    if (live[i]) return;
    const g = gateOf(fns[i].name);
    if (g && !needs.has(g)) return;
    live[i] = true;
    todo.push(...fns[i].calls);
  };
  while (todo.length) reach(todo.pop()!);
  // the code section again, with stubs for the functions not reached
  const bodies: (Uint8Array | number[])[] = [uleb(count)];
  const dropped: string[] = [];
  let at = first;
  for (let i = 0; i < count; i++) {
    const [size, q] = readUleb(code!.body, at);
    if (live[i]) bodies.push(code!.body.subarray(at, q + size));
    else {
      bodies.push(STUB);
      dropped.push(fns[i].name);
    }
    at = q + size;
  }
  if (at !== code!.body.length) fail("internal: malformed runtime code section");
  const out = secs.map((s) => (s === code ? { id: 10, body: concat(bodies) } : s));
  return { wasm: concat([wasm.subarray(0, 8), ...out.flatMap((s) => [[s.id], uleb(s.body.length), s.body])]), dropped };
}
