// Compiler, emit stage: Plan + MemoryPlan → the `.mbn` model blob, a memory image placed at the
// runtime's blob base: header, step table, kernel parameter records and constant data (packed
// weight planes, thresholds, scales). Input, output and arena follow the image (zero-initialised,
// not stored). The header layout matches runtime/assembly/index.ts. A fixed batch N > 1 gets ABI
// buffers of N samples beside the plan's one-sample input and output; mbn_run moves each sample
// through them.
import { intThresholds } from "../quant/int_threshold.ts";
import { fail } from "../errors.ts";
import { REDUCE_KINDS, SOFTMAX_MODES, type Epilogue, type Plan, type QuantSpec, type Step, type ValueId } from "../ir/plan.ts";
import { valueBytes } from "../ir/plan.ts";
import { packBits, transposeThresholds, windowPack, windowPackable, windowScratchBytes, windowStride, wordsFor } from "../pack/bits.ts";
import type { MemoryPlan } from "../passes/plan_memory.ts";
import { KERNEL_ID, Layout, RECORDS } from "./layout.ts";

export const MAGIC = 0x314e424d; // "MBN1" little-endian
export const FORMAT_VERSION = 2;
const HEADER_SLOTS = 13;

export interface Blob {
  image: Uint8Array; // bytes at [base, base + image.length)
  base: number;
  inputPtr: number;
  outputPtr: number;
  memEnd: number; // bytes of linear memory the plan needs
  arenaBytes: number;
  /** Where each value that steps write lies in linear memory (the sample's input and output buffers, arena slots), for tracing. */
  addresses: Map<ValueId, number>;
  /** The runtime functions the plan reaches (compiler/emit/prune.ts): its kernels, and `window<S>` (or `window<S>u`, `window<S>i`, windowGate) for each window stride S of its window-path binary convs. */
  needs: Set<string>;
}

const align = (n: number, a = 64) => Math.ceil(n / a) * a;

/**
 * Which threshold tables a quant record needs (runtime kernels/epilogue.ts pack_pixel): the SIMD
 * build packs 2–16 levels into ≤ 4 planes of one channel word from the transposed table only;
 * every other case reads the [C][L−1] table.
 */
function thresholdTables(levels: number, c: number, planes: number, simd: boolean): { thr: boolean; thrT: boolean } {
  const nt = levels - 1;
  const packLevels = nt > 1 && wordsFor(c) === 1 && planes <= 4 && nt < 16;
  return { thr: !(simd && packLevels), thrT: simd && packLevels };
}

/** capacity undefined: a measuring pass (places everything, writes nothing); else the image's size. */
function writeBlob(plan: Plan, mem: MemoryPlan, base: number, dynBase: number, simd: boolean, capacity?: number): Blob {
  const L = capacity === undefined ? new Layout(base, 0, true) : new Layout(base, capacity);
  const header = L.alloc(HEADER_SLOTS * 4, 64);
  const table = L.alloc(plan.steps.length * 8, 8);
  const needs = new Set<string>();
  // dynamic region (after the image): input, output, shared scratch, arena
  let dyn = dynBase;
  const dynAlloc = (n: number) => {
    const at = dyn;
    dyn = align(dyn + n + 16, 16);
    return at;
  };
  const sampleIn = valueBytes(plan.values[plan.input]), sampleOut = valueBytes(plan.values[plan.output]);
  const inputPtr = dynAlloc(sampleIn);
  const outputPtr = dynAlloc(sampleOut);
  const batchInPtr = plan.batch > 1 ? dynAlloc(sampleIn * plan.batch) : inputPtr;
  const batchOutPtr = plan.batch > 1 ? dynAlloc(sampleOut * plan.batch) : outputPtr;
  // shared scratch rows: the widest per-pixel row any step uses (epilogue channels, output copy)
  let maxC = 16;
  for (const s of plan.steps) {
    if ("epi" in s) maxC = Math.max(maxC, s.epi.c);
    if (s.op === "Output" || s.op === "BitQuantize") maxC = Math.max(maxC, s.op === "Output" ? s.hw : s.c);
  }
  // binary and float convs fill a whole output row of acc (ow·cout floats) before its epilogue
  // (bconv.ts, conv2d_f32.ts: epilogue_rows)
  let accBytes = maxC * 8;
  for (const s of plan.steps) if (s.op === "BitConv" || s.op === "Conv") accBytes = Math.max(accBytes, s.geom.ow * s.geom.cout * 4);
  const acc = dynAlloc(accBytes);
  // scratch of the bconv window path (the largest any window-packed step needs)
  let windowBytes = 0;
  for (const s of plan.steps)
    if (s.op === "BitConv")
      windowBytes = Math.max(windowBytes, windowPackable(s.geom.cin, s.geom.kh, s.geom.kw)
        ? windowScratchBytes(s.geom.cin, s.geom.kh, s.geom.kw, s.geom.cout, s.m, Math.max(1, s.act.planes), simd)
        : s.geom.cout * s.m * Math.max(1, s.act.planes) * 4 + 16); // the general path's α·β table (bconv.ts)
  const bscratch = windowBytes ? dynAlloc(windowBytes) : 0;
  // register rows of the elementwise programs (the largest any step needs)
  let regBytes = 0;
  for (const s of plan.steps) if (s.op === "Elementwise") regBytes = Math.max(regBytes, s.prog.regs * s.c * 4);
  const eregs = regBytes ? dynAlloc(regBytes) : 0;
  const qscratch = dynAlloc(maxC + 16);
  const arena = align(dyn, 64);
  const memEnd = arena + mem.arenaBytes;

  const constAt = new Map<ValueId, number>();
  const addr = (v: ValueId): number => {
    const val = plan.values[v];
    if (val.pinned === "input") return inputPtr;
    if (val.pinned === "output") return outputPtr;
    if (val.pinned === "const") {
      if (!constAt.has(v)) constAt.set(v, L.f32(val.data!));
      return constAt.get(v)!;
    }
    const off = mem.offset.get(v);
    if (off === undefined) return fail(`internal: value '${val.name}' has no memory`);
    return arena + off;
  };
  const f32 = (a: Float32Array | undefined) => (a ? L.f32(a) : 0);
  const quantRec = (q: QuantSpec, c: number, npix: number): number => {
    // only the table the target's kernel reads is stored; the other slot points at it (never read)
    const need = thresholdTables(q.levels.length, c, Math.max(1, q.planes), simd);
    const thr = q.thr.length && need.thr ? L.f32(q.thr) : 0;
    const thrT = q.thr.length && need.thrT ? L.f32(transposeThresholds(q.thr, c, q.levels.length)) : 0;
    const any = thr || thrT || L.alloc(4);
    return L.record(RECORDS.quant, {
      levels: q.levels.length, thr: thr || any, flip: L.bytes(q.flip.length ? q.flip : new Uint8Array(1)),
      planes: Math.max(1, q.planes), lut: L.bytes(q.lut), words: wordsFor(c), plane_stride: npix * wordsFor(c) * 8, scratch: qscratch,
      thr_t: thrT || any,
    }, "quant");
  };
  const epiRec = (e: Epilogue, out: ValueId, npix: number): number =>
    L.record(RECORDS.epilogue, {
      c: e.c, scale: f32(e.scale), bias: f32(e.bias), res: e.res !== undefined ? addr(e.res) : 0, act: e.act,
      lo: e.lo, hi: e.hi, out: addr(out), quant: e.quant ? quantRec(e.quant, e.c, npix) : 0, fout: e.fout !== undefined ? addr(e.fout) : 0,
    }, "epilogue");

  const encode = (s: Step): [string, number] => {
    switch (s.op) {
      case "Relayout": {
        const kernel = s.to === "channels_last" ? "nchw_to_nhwc" : "nhwc_to_nchw";
        return [kernel, L.params(kernel, { in: addr(s.in), out: addr(s.out), c: s.c, hw: s.hw })];
      }
      case "Output":
        if (s.c > 1) return ["nhwc_to_nchw", L.params("nhwc_to_nchw", { in: addr(s.in), out: addr(s.out), c: s.c, hw: s.hw })];
        return ["channel_affine_f32", L.params("channel_affine_f32", { in: addr(s.in), npix: 1, acc, epilogue: epiRec({ c: s.hw, act: 0, lo: 0, hi: 0 }, s.out, 1) })];
      case "Conv": {
        const g = s.geom;
        return ["conv2d_f32", L.params("conv2d_f32", {
          in: addr(s.in), h: g.h, w: g.w, cin: g.cin, weights: L.f32(s.weights), cout: g.cout, kh: g.kh, kw: g.kw,
          stride: g.sh, pad_t: g.padT, pad_l: g.padL, oh: g.oh, ow: g.ow, acc, epilogue: epiRec(s.epi, s.out, g.oh * g.ow),
        })];
      }
      case "GroupConv": {
        const g = s.geom;
        return ["conv2d_group_f32", L.params("conv2d_group_f32", {
          in: addr(s.in), h: g.h, w: g.w, cin: g.cin, weights: L.f32(s.weights), cout: g.cout, kh: g.kh, kw: g.kw,
          stride: g.sh, pad_t: g.padT, pad_l: g.padL, oh: g.oh, ow: g.ow, acc, epilogue: epiRec(s.epi, s.out, g.oh * g.ow), groups: s.groups,
        })];
      }
      case "Gemm":
        return ["dense_f32", L.params("dense_f32", { in: addr(s.in), cin: s.cin, weights: L.f32(s.weights), cout: s.cout, acc, epilogue: epiRec(s.epi, s.out, 1) })];
      case "BitConv": {
        const g = s.geom;
        const words = wordsFor(g.cin);
        // narrow layers carry only window-packed weights (bconv_window.ts), the others the general layout
        const window = windowPackable(g.cin, g.kh, g.kw);
        const ithr = bitConvIntThresholds(s);
        if (window) needs.add(windowGate(s, simd, ithr)!);
        return ["bconv", L.params("bconv", {
          in: addr(s.in), h: g.h, w: g.w, cin: g.cin, in_words: words, k: Math.max(1, s.act.planes), in_plane_stride: g.h * g.w * words * 8,
          weights: window ? 0 : L.bytes(packBits(s.wbits, s.m, g.cout * g.kh * g.kw, g.cin)), m: s.m, cout: g.cout, kh: g.kh, kw: g.kw, stride: g.sh, pad_t: g.padT, pad_l: g.padL,
          oh: g.oh, ow: g.ow, unipolar: s.act.unipolar ? 1 : 0, alpha: L.f32(s.alpha),
          beta: L.f32(s.act.planes ? s.act.scales : new Float32Array([0])), cw: f32(s.cw), ca: s.act.offset,
          wtap: f32(s.wtap), acc, epilogue: epiRec(s.epi, s.out, g.oh * g.ow),
          wpk: window ? L.bytes(windowPack(s.wbits, s.m, g.cout, g.kh, g.kw, g.cin, simd)) : 0, scratch: bscratch,
          ithr: ithr ? L.i32(ithr) : 0,
        })];
      }
      case "BitQuantize":
        return ["quantize_pack", L.params("quantize_pack", { in: addr(s.in), npix: s.npix, c: s.c, out: addr(s.out), quant: quantRec(s.quant, s.c, s.npix) })];
      case "Elementwise":
        return ["elementwise_f32", L.params("elementwise_f32", {
          in: addr(s.in), npix: s.npix, c: s.c, out: addr(s.out), prog: L.bytes(new Uint8Array(s.prog.code.buffer)),
          n: s.prog.code.length / 5, consts: s.prog.consts.length ? L.f32(s.prog.consts) : L.alloc(4), regs: eregs, result: s.prog.result,
          srcs: L.bytes(new Uint8Array(Int32Array.from([s.in, ...s.srcs], addr).buffer)), nsrc: 1 + s.srcs.length,
        })];
      case "MatMul":
        return ["matmul_f32", L.params("matmul_f32", { in: addr(s.in), b: addr(s.b), out: addr(s.out), batch: s.batch, m: s.m, k: s.k, n: s.n, a_stride: s.aStride, b_stride: s.bStride })];
      case "TopK":
        return ["topk_f32", L.params("topk_f32", { in: addr(s.in), rows: s.rows, n: s.n, k: s.k, out: addr(s.out), largest: s.largest ? 1 : 0, indices: s.indices ? 1 : 0, last: s.last ? 1 : 0 })];
      case "IndexMap":
        return ["gather_f32", L.params("gather_f32", { in: addr(s.in), out: addr(s.out), n: s.idx.length, idx: L.bytes(new Uint8Array(s.idx.buffer, s.idx.byteOffset, s.idx.byteLength)), fill: s.fill })];
      case "Affine":
        return ["channel_affine_f32", L.params("channel_affine_f32", { in: addr(s.in), npix: s.npix, acc, epilogue: epiRec(s.epi, s.out, s.npix) })];
      case "MaxPool":
      case "AveragePool": {
        const g = s.geom;
        const p = { in: addr(s.in), h: g.h, w: g.w, c: g.c, kh: g.kh, kw: g.kw, stride_h: g.sh, stride_w: g.sw, pad_t: g.padT, pad_l: g.padL, oh: g.oh, ow: g.ow, out: addr(s.out) };
        return s.op === "MaxPool" ? ["maxpool_f32", L.params("maxpool_f32", p)] : ["avgpool_f32", L.params("avgpool_f32", { ...p, count_include_pad: s.countIncludePad ? 1 : 0, pad_b: g.padB, pad_r: g.padR })];
      }
      case "Reduce":
        return ["reduce_f32", L.params("reduce_f32", { in: addr(s.in), outer: s.outer, red: s.red, inner: s.inner, out: addr(s.out), kind: REDUCE_KINDS.indexOf(s.kind) })];
      case "Pad":
        return ["pad_f32", L.params("pad_f32", { in: addr(s.in), h: s.h, w: s.w, c: s.c, out: addr(s.out), oh: s.oh, ow: s.ow, top: s.top, left: s.left, value: s.value })];
      case "LRN":
        return ["lrn_f32", L.params("lrn_f32", { in: addr(s.in), npix: s.npix, c: s.c, out: addr(s.out), size: s.size, alpha: s.alpha, beta: s.beta, bias: s.bias })];
      case "Softmax":
        return ["softmax_f32", L.params("softmax_f32", { in: addr(s.in), rows: s.rows, n: s.n, out: addr(s.out), mode: SOFTMAX_MODES.indexOf(s.mode) })];
      case "GlobalAveragePool":
      case "GlobalMaxPool": {
        const kernel = s.op === "GlobalAveragePool" ? "global_avgpool_f32" : "global_maxpool_f32";
        return [kernel, L.params(kernel, { in: addr(s.in), hw: s.hw, c: s.c, out: addr(s.out) })];
      }
      case "Concat":
        return ["concat_f32", L.params("concat_f32", { in: addr(s.in), npix: s.npix, c: s.c, out: addr(s.out), c_out: s.cOut, offset: s.offset })];
      case "Transpose": {
        // output axis k walks input axis perm[k]: its dim and the input's row-major stride, padded to rank 4
        const stride = s.inDims.map((_, i) => s.inDims.slice(i + 1).reduce((p, d) => p * d, 1));
        const pad = 4 - s.perm.length;
        const [d0, d1, d2, d3] = [...Array(pad).fill(1), ...s.perm.map((a) => s.inDims[a])];
        const [s0, s1, s2, s3] = [...Array(pad).fill(0), ...s.perm.map((a) => stride[a])];
        return ["transpose_f32", L.params("transpose_f32", { in: addr(s.in), out: addr(s.out), d0, d1, d2, d3, s0, s1, s2, s3 })];
      }
    }
  };
  plan.steps.forEach((s, i) => {
    const [kernel, params] = encode(s);
    needs.add(kernel);
    L.setI32(table + 8 * i, KERNEL_ID[kernel]);
    L.setI32(table + 8 * i + 4, params);
  });
  const imageEnd = align(base + L.size, 64);
  const values = [MAGIC, FORMAT_VERSION, batchInPtr, (sampleIn / 4) * plan.batch, batchOutPtr, (sampleOut / 4) * plan.batch,
    plan.steps.length, table, memEnd, imageEnd - base, plan.batch, inputPtr, outputPtr];
  values.forEach((v, i) => L.setI32(header + 4 * i, v));
  // the measuring pass allocates only the size; the writing pass was sized to it (Layout.image: no copy)
  L.alloc(imageEnd - base - L.size, 1);
  const image = L.measure ? new Uint8Array(imageEnd - base) : L.image(); // (measuring: zeros of the size)
  if (image.length !== imageEnd - base) fail("internal: blob image size mismatch");
  const addresses = new Map<ValueId, number>(plan.values.filter((v) => v.pinned !== "const" && (v.pinned || mem.offset.has(v.id))).map((v) => [v.id, addr(v.id)]));
  return { image, base, inputPtr: batchInPtr, outputPtr: batchOutPtr, memEnd, arenaBytes: mem.arenaBytes, addresses, needs };
}

/** Two passes: the first measures the constant image, the second places the dynamic region after it. */
type BitConvStep = Extract<Step, { op: "BitConv" }>;

/** Integer thresholds of a window-path binary conv whose output is only the next layer's bits (compiler/quant/int_threshold.ts), else undefined. */
export function bitConvIntThresholds(s: BitConvStep): Int32Array | undefined {
  const g = s.geom;
  if (!windowPackable(g.cin, g.kh, g.kw)) return undefined;
  return intThresholds({
    m: s.m, k: Math.max(1, s.act.planes), unipolar: s.act.unipolar, cw: s.cw, ca: s.act.offset, alpha: s.alpha,
    beta: s.act.planes ? s.act.scales : new Float32Array([0]), cout: g.cout, taps: g.kh * g.kw * g.cin, epi: s.epi,
  });
}

/** The window-loop instance a binary conv runs in (a prune gate): window<S> (bipolar), window<S>u (unipolar), or window<S>i on the integer path; undefined off the window path. */
export function windowGate(s: BitConvStep, simd: boolean, ithr = bitConvIntThresholds(s)): string | undefined {
  const g = s.geom;
  if (!windowPackable(g.cin, g.kh, g.kw)) return undefined;
  return `window${windowStride(g.cin, g.kh, g.kw, simd)}${ithr ? "i" : s.act.unipolar ? "u" : ""}`;
}

export function emitBlob(plan: Plan, mem: MemoryPlan, base: number, simd: boolean): Blob {
  const probe = writeBlob(plan, mem, base, 0, simd); // places everything, writes nothing
  const blob = writeBlob(plan, mem, base, base + probe.image.length, simd, probe.image.length);
  if (blob.image.length !== probe.image.length) fail("internal: blob size changed between emit passes");
  return blob;
}
