// Runtime: the bundle ABI (DESIGN.md §4) and the executor. One fixed program that runs the plan in
// the model blob the compiler placed at `mbn_blob_base()`. Knows nothing of ONNX; never allocates;
// mbn_run returns an error code instead of trapping when the blob or memory is not what it expects.
// The plan runs one sample; a model with a fixed batch N > 1 has ABI buffers of N samples, and
// mbn_run copies each sample into the plan's input and its result out of the plan's output.
import { dispatch, KERNEL_COUNT } from "./kernels/dispatch";

// Blob header, i32 slots (compiler/emit/blob.ts writes the same layout).
const H_MAGIC = 0, H_VERSION = 1, H_IN_PTR = 2, H_IN_LEN = 3, H_OUT_PTR = 4, H_OUT_LEN = 5;
const H_NSTEPS = 6, H_STEPS = 7, H_MEM_END = 8, H_BLOB_LEN = 9, H_BATCH = 10, H_SAMPLE_IN = 11, H_SAMPLE_OUT = 12;
const MAGIC = 0x314e424d; // "MBN1"
const FORMAT_VERSION = 2;

// Error codes of mbn_run.
const ERR_MAGIC = 1, ERR_VERSION = 2, ERR_MEMORY = 3, ERR_KERNEL = 4, ERR_STEPS = 5, ERR_BATCH = 6;

@inline function blob(): usize {
  return (__heap_base + 63) & ~63;
}
@inline function hdr(slot: i32): i32 {
  return load<i32>(blob() + (<usize>slot << 2));
}
// An unsigned header field widened to 64 bits. (Not <u64><u32>hdr(…): AssemblyScript 0.28 compiles
// that to a sign-extending i64.load32_s, so a field ≥ 2^31 would read as a huge value.)
@inline function hdrU64(slot: i32): u64 {
  return <u64>load<u32>(blob() + (<usize>slot << 2));
}

export function mbn_blob_base(): usize {
  return blob();
}
export function mbn_format_version(): i32 {
  return FORMAT_VERSION;
}
export function mbn_simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
export function mbn_input_ptr(): usize {
  return <usize>hdr(H_IN_PTR);
}
export function mbn_input_len(): i32 {
  return hdr(H_IN_LEN);
}
export function mbn_output_ptr(): usize {
  return <usize>hdr(H_OUT_PTR);
}
export function mbn_output_len(): i32 {
  return hdr(H_OUT_LEN);
}

// Validate the blob header against this runtime and the memory actually present.
export function mbn_check(): i32 {
  if (<usize>memory.size() << 16 < blob() + 64) return ERR_MEMORY;
  if (hdr(H_MAGIC) != MAGIC) return ERR_MAGIC;
  if (hdr(H_VERSION) != FORMAT_VERSION) return ERR_VERSION;
  const memBytes = <u64>memory.size() << 16;
  if (hdrU64(H_MEM_END) > memBytes) return ERR_MEMORY;
  const steps = hdrU64(H_STEPS), n = hdrU64(H_NSTEPS);
  if (steps + n * 8 > memBytes) return ERR_STEPS;
  const batch = hdr(H_BATCH);
  if (batch < 1 || hdr(H_IN_LEN) % batch || hdr(H_OUT_LEN) % batch) return ERR_BATCH;
  return 0;
}

// f32 copy without bulk memory (WebAssembly 1.0 hosts)
function copy_f32(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** Copy sample b of the ABI input into the plan's input buffer (a no-op at batch 1). */
export function mbn_load_sample(b: i32): i32 {
  const err = mbn_check();
  if (err) return err;
  const batch = hdr(H_BATCH);
  if (<u32>b >= <u32>batch) return ERR_BATCH;
  if (batch > 1) {
    const len = hdr(H_IN_LEN) / batch;
    copy_f32(<usize>hdr(H_SAMPLE_IN), <usize>hdr(H_IN_PTR) + (<usize>(b * len) << 2), len);
  }
  return 0;
}

export function mbn_run(): i32 {
  const err = mbn_check();
  if (err) return err;
  const n = hdr(H_NSTEPS);
  const steps = <usize>hdr(H_STEPS);
  for (let i = 0; i < n; i++) {
    const id = load<i32>(steps + (<usize>i << 3));
    if (<u32>id >= <u32>KERNEL_COUNT) return ERR_KERNEL;
  }
  const batch = hdr(H_BATCH), outLen = hdr(H_OUT_LEN) / batch;
  for (let b = 0; b < batch; b++) {
    mbn_load_sample(b);
    for (let i = 0; i < n; i++) {
      const s = steps + (<usize>i << 3);
      dispatch(load<i32>(s), <usize>load<u32>(s + 4));
    }
    if (batch > 1) copy_f32(<usize>hdr(H_OUT_PTR) + (<usize>(b * outLen) << 2), <usize>hdr(H_SAMPLE_OUT), outLen);
  }
  return 0;
}

// Self-test for hosts without a way to write memory (e.g. `wasm-interp --run-all-exports`): fill
// the input with a fixed xorshift32 sequence mapped to [0, 1), run, and return the FNV-1a hash of the
// output bytes (or −code on error). Hosts compare it with the hash of their own run on the same input.
export function mbn_selftest(): i32 {
  const n = hdr(H_IN_LEN);
  const x = <usize>hdr(H_IN_PTR);
  let s: u32 = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    store<f32>(x + (<usize>i << 2), <f32>(s >> 8) * (<f32>1.0 / <f32>16777216.0));
  }
  const err = mbn_run();
  if (err) return -err;
  let h: u32 = 0x811c9dc5;
  const y = <usize>hdr(H_OUT_PTR), m = <usize>hdr(H_OUT_LEN) << 2;
  for (let i: usize = 0; i < m; i++) h = (h ^ <u32>load<u8>(y + i)) * 0x01000193;
  return <i32>h;
}

// Run one step of a plan: used by the profiler (per-step timing) and the kernel tests/benchmark.
export function mbn_step_count(): i32 {
  return hdr(H_NSTEPS);
}
export function mbn_run_step(i: i32): i32 {
  const err = mbn_check();
  if (err) return err;
  if (<u32>i >= <u32>hdr(H_NSTEPS)) return ERR_STEPS;
  const s = <usize>hdr(H_STEPS) + (<usize>i << 3);
  return mbn_call(load<i32>(s), <usize>load<u32>(s + 4));
}
export function mbn_call(id: i32, params: usize): i32 {
  if (<u32>id >= <u32>KERNEL_COUNT) return ERR_KERNEL;
  dispatch(id, params);
  return 0;
}
