// Runtime host: loads a bundle with the bare WebAssembly API (Node and browsers), verifies its
// manifest (format version, runtime version, blob SHA-256) and runs samples. No Node-only imports.
export interface Manifest {
  format_version: number;
  runtime_version: string;
  target: string;
  input: { name: string; shape: number[] }; // shape[0] = batch: samples per mbn_run (1 for a dynamic batch axis)
  /** The model's inputs inside the one input buffer (floats from offset; several inputs: laid end to end). */
  inputs?: { name: string; shape: number[]; offset: number }[];
  output: { name: string; shape: number[] };
  /** The model's outputs inside the one output buffer (floats from offset; several outputs: laid end to end). */
  outputs?: { name: string; shape: number[]; offset: number }[];
  batch: number; // samples per mbn_run
  dynamic_batch: boolean; // the model's batch axis is symbolic: run() takes any number of batches
  blob_sha256: string;
  blob_base: number;
  blob_bytes: number;
  memory_bytes: number;
  totals: Record<string, number>;
  layers: { node: string; op: string; out: number[]; planes: string; macs: number; bops: number }[];
}

export const SUPPORTED_FORMAT = 2;

/**
 * A model's named outputs from one sample's output buffer (a model with several outputs writes them laid
 * end to end, manifest `outputs`), each in ONNX (row-major) order with its shape.
 */
export function unpackOutputs(info: Manifest, y: Float32Array): Record<string, { shape: number[]; data: Float32Array }> {
  const parts = info.outputs ?? [{ name: info.output.name, shape: info.output.shape, offset: 0 }];
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const end = parts.reduce((n, p) => Math.max(n, p.offset + size(p.shape)), 0);
  if (y.length !== end) throw new BundleError(`output has ${y.length} floats; the model's outputs hold ${end}`);
  return Object.fromEntries(parts.map((p) => [p.name, { shape: p.shape, data: y.slice(p.offset, p.offset + size(p.shape)) }]));
}

/**
 * One input buffer from a model's named inputs (a model with several inputs reads them laid end to end,
 * manifest `inputs`): each given in ONNX (row-major) order with exactly its shape's number of floats.
 */
export function packInputs(info: Manifest, feeds: Record<string, Float32Array>): Float32Array {
  const parts = info.inputs ?? [{ name: info.input.name, shape: info.input.shape, offset: 0 }];
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const x = new Float32Array(parts.reduce((n, p) => Math.max(n, p.offset + size(p.shape)), 0));
  for (const name of Object.keys(feeds)) if (!parts.some((p) => p.name === name)) throw new BundleError(`the model has no input '${name}' (inputs: ${parts.map((p) => p.name).join(", ")})`);
  for (const p of parts) {
    const v = feeds[p.name];
    if (!v) throw new BundleError(`input '${p.name}' [${p.shape}] is missing`);
    if (v.length !== size(p.shape)) throw new BundleError(`input '${p.name}' has ${v.length} floats; its shape [${p.shape}] holds ${size(p.shape)}`);
    x.set(v, p.offset);
  }
  return x;
}
const ERRORS: Record<number, string> = { 1: "bad blob magic", 2: "blob format version mismatch", 3: "linear memory too small", 4: "unknown kernel id", 5: "step table out of bounds", 6: "bad batch size" };

interface Exports {
  memory: WebAssembly.Memory;
  mbn_input_ptr(): number;
  mbn_input_len(): number;
  mbn_output_ptr(): number;
  mbn_output_len(): number;
  mbn_run(): number;
  mbn_step_count(): number;
  mbn_run_step(i: number): number;
  mbn_format_version(): number;
  mbn_load_sample(b: number): number;
}

export class BundleError extends Error {}

function readManifest(mod: WebAssembly.Module): Manifest {
  const secs = WebAssembly.Module.customSections(mod, "mbn.manifest");
  if (secs.length !== 1) throw new BundleError("not an mbn bundle: the mbn.manifest custom section is missing");
  try {
    return JSON.parse(new TextDecoder().decode(secs[0]));
  } catch {
    throw new BundleError("the mbn.manifest section is not valid JSON");
  }
}

async function sha256hex(data: Uint8Array): Promise<string> {
  const d = await globalThis.crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface Bundle {
  info: Manifest;
  inputLength: number; // floats per sample
  outputLength: number;
  batch: number; // samples per mbn_run: a model exported with a fixed batch N runs N at a time
  /** Run samples: x holds n·inputLength floats (n a multiple of batch); returns n·outputLength floats. */
  run(x: Float32Array): Float32Array;
  /** Run the first sample step by step; after each step, `after(step, memory)` may read the linear memory (CompileResult.addresses). */
  trace(x: Float32Array, after: (step: number, memory: ArrayBuffer) => void): void;
  /** Run the first sample and time each plan step (ms), for the profiler. */
  profile(x: Float32Array, now: () => number): number[];
}

export async function loadBundle(wasm: Uint8Array, opts: { verify?: boolean } = {}): Promise<Bundle> {
  let mod: WebAssembly.Module;
  try {
    mod = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new BundleError(`not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const info = readManifest(mod);
  if (WebAssembly.Module.imports(mod).length) throw new BundleError("the bundle has imports; mbn bundles have none");
  if (info.format_version !== SUPPORTED_FORMAT) throw new BundleError(`bundle format ${info.format_version} is not supported by this loader (expects ${SUPPORTED_FORMAT})`);
  const inst = await WebAssembly.instantiate(mod, {});
  const ex = inst.exports as unknown as Exports;
  if (ex.mbn_format_version() !== info.format_version) throw new BundleError(`runtime format ${ex.mbn_format_version()} does not match the manifest (${info.format_version})`);
  if (opts.verify !== false) {
    const blob = new Uint8Array(ex.memory.buffer, info.blob_base, info.blob_bytes).slice();
    const sha = await sha256hex(blob);
    if (sha !== info.blob_sha256) throw new BundleError(`model blob SHA-256 ${sha.slice(0, 12)}… does not match the manifest's ${info.blob_sha256.slice(0, 12)}…: the bundle is corrupt`);
  }
  const inLen = ex.mbn_input_len(), outLen = ex.mbn_output_len(); // per mbn_run: batch samples
  const batch = info.batch ?? 1;
  const check = (x: Float32Array) => {
    if (!(x instanceof Float32Array)) throw new BundleError("input must be a Float32Array");
    if (x.length % inLen) {
      throw new BundleError(batch > 1
        ? `input has ${x.length} floats: the model has a fixed batch of ${batch} samples (${inLen} floats); give a multiple of ${batch} samples`
        : `input has ${x.length} floats, not a multiple of the model's ${inLen} per sample`);
    }
  };
  const fail = (rc: number) => new BundleError(`mbn_run failed with code ${rc} (${ERRORS[rc] ?? "unknown"})`);
  // The runtime's own `unreachable` instructions (binaryen's, after exhaustive branches; none in the
  // core builds) are never reached, so that trap means the plan called a function the compiler left
  // out of the bundle (compiler/emit/prune.ts): a compiler bug.
  const guard = (f: () => number): number => {
    try {
      return f();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError && /unreachable/i.test(e.message))
        throw new BundleError("the plan reached a runtime function that the compiler left out of this bundle (compiler/emit/prune.ts: a compiler bug; recompile with the whole runtime)");
      throw e;
    }
  };
  /** Load the first sample of x, then call each(i, step) for every plan step; step() runs step i. */
  const stepwise = (x: Float32Array, what: string, each: (i: number, step: () => void) => void) => {
    const per = inLen / batch;
    if (!(x instanceof Float32Array) || x.length < per) throw new BundleError(`${what} needs one sample of ${per} floats`);
    new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), per).set(x.subarray(0, per));
    const rc0 = guard(() => ex.mbn_load_sample(0));
    if (rc0) throw fail(rc0);
    for (let i = 0; i < ex.mbn_step_count(); i++)
      each(i, () => {
        const rc = guard(() => ex.mbn_run_step(i));
        if (rc) throw fail(rc);
      });
  };
  return {
    info, inputLength: inLen / batch, outputLength: outLen / batch, batch,
    run(x) {
      check(x);
      const n = x.length / inLen;
      const y = new Float32Array(n * outLen);
      for (let i = 0; i < n; i++) {
        new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), inLen).set(x.subarray(i * inLen, (i + 1) * inLen));
        const rc = guard(() => ex.mbn_run());
        if (rc) throw fail(rc);
        y.set(new Float32Array(ex.memory.buffer, ex.mbn_output_ptr(), outLen), i * outLen);
      }
      return y;
    },
    trace(x, after) {
      stepwise(x, "trace", (i, step) => {
        step();
        after(i, ex.memory.buffer);
      });
    },
    profile(x, now) {
      const times: number[] = [];
      stepwise(x, "profile", (_, step) => {
        const t = now();
        step();
        times.push(now() - t);
      });
      return times;
    },
  };
}
