// Differential fuzzing, part 2: one ONNX model through mbn (compile → loadBundle → run) and through
// onnxruntime-node (and, where it disagrees, onnxruntime-web) on the same deterministic inputs,
// judged by the e2e tests' rule (agreement() in
// test/helpers/oracle.ts: tolerance plus the quantizer-tie explanation), after checking that the
// bundle returns exactly as many floats as onnxruntime. Three things agreement() cannot know are
// excused here: an output tie (only the argmax moved, between values equal within tolerance), a
// vanishing output (all |y| < 1e-5: an exact cancellation's float32 residue) and a cancelled one
// (all |y| < 1e-2 and within 1e-6 absolute: float32 noise of O(1) terms). Verdicts:
//   ok       compiled, same output size, values agree
//   refused  a one-line CompileError (not an internal error) — acceptable, counted by reason
//   wrong    compiled but the output differs (size or values)          — a miscompile
//   crash    internal compiler error, load failure, mbn_run error, trap — a bug
//   invalid  onnxruntime rejected the model or computed another output shape than declared — a generator bug
// Also: the shrinker (greedy: delete steps, shrink shapes and parameters while the failure stays
// the same) and the fixture writer for test/fixtures/differential/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { compile, CompileError, type Target } from "../../compiler/index.ts";
import type { CompileResult } from "../../compiler/pipeline.ts";
import { rng } from "../../harness/rng.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { agreement, argmax } from "../helpers/oracle.ts";
import { build, describe, type Param, type Recipe, type Step } from "./graphgen.ts";

const { onnx } = onnxProto as unknown as { onnx: any };

export type Kind = "ok" | "refused" | "wrong" | "crash" | "invalid";
export interface Verdict {
  kind: Kind;
  reason: string; // refusal / crash message with names and numbers blanked; for wrong see mismatchMode()
  detail: string; // the full message or the first mismatching samples
  bitconv: number; // BitConv layers in the compiled plan
  bitdense: number; // of which dense (a [1, K] output: over a [1, F] row or a whole flattened map)
  bitdenseMap: number; // of which over a flattened [1, C, H, W] map (the XNOR head)
  ms: number;
}
export interface CheckOptions {
  target?: Target;
  samples?: number; // samples per dynamic-batch run (static batch N: two runs of N)
  inputSeed?: number;
  tol?: number;
  /** Test hook: tamper with the bundle's output before the comparison (proves the harness can fail). */
  corrupt?: (got: Float32Array) => void;
}

export const FIXTURES = new URL("../fixtures/differential/", import.meta.url);

/** A refusal or crash message with the parts that vary per model blanked, so reasons can be counted. */
export function normalize(msg: string): string {
  return msg
    .replace(/'[^']*'/g, "'…'")
    .replace(/\[[-\d, ]*\]/g, "[…]")
    .replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, "#")
    .slice(0, 160);
}

/** The model's input and output dims as declared (a string for a dim_param). */
export function declaredDims(bytes: Uint8Array): { input: (number | string)[]; output: (number | string)[] } {
  const m = onnx.ModelProto.decode(bytes);
  const inits = new Set(m.graph.initializer.map((t: any) => t.name));
  const dims = (v: any): (number | string)[] => v.type.tensorType.shape.dim.map((d: any) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
  return { input: dims(m.graph.input.find((v: any) => !inits.has(v.name))), output: dims(m.graph.output[0]) };
}

function randomInputs(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, m = 1e-30;
  for (let j = 0; j < b.length; j++) {
    d = Math.max(d, Math.abs(a[j] - b[j]));
    m = Math.max(m, Math.abs(b[j]));
  }
  return d / m;
};

/**
 * An output tie: values agree within tolerance and only argmax moved, to an element the oracle has
 * within tolerance of its maximum (e.g. two saturated Clip outputs) — not a miscompile.
 */
function outputTie(g: Float32Array, w: Float32Array, tol: number): boolean {
  if (!(relDiff(g, w) <= tol)) return false;
  let m = 1e-30;
  for (const v of w) m = Math.max(m, Math.abs(v));
  return w[argmax(w)] - w[argmax(g)] <= tol * m;
}

/** The seed of case i of a run with master seed `seed` (independent of the other cases, so runs can resume). */
export const caseSeed = (seed: number, i: number) => Math.floor(rng((Math.imul(seed, 1000003) + i) >>> 0)() * 2 ** 31);

/**
 * A vanishing output: onnxruntime's is below 1e-5 everywhere and the bundle's within 1e-5 of it — an
 * exact cancellation (e.g. ±α·b over a constant map) whose float32 residue (2^-31 vs 0) depends on
 * summation order; relative to max|output| ≈ 0 it would look like a 100% error. Values in these
 * graphs are O(0.1–1), so 1e-5 absolute is ~100 float32 ulps of the terms being summed.
 */
function vanishing(g: Float32Array, w: Float32Array): boolean {
  return w.every((x, i) => Math.abs(x) < 1e-5 && Math.abs(g[i] - x) < 1e-5);
}

/** onnxruntime-web (wasm, one thread) on the same runs as onnxruntime-node, concatenated. */
async function ortWebOutputs(bytes: Uint8Array, x: Float32Array, runs: number, batch: number, sample: number[]): Promise<Float32Array> {
  const ortw = await import("onnxruntime-web");
  ortw.env.wasm.numThreads = 1;
  ortw.env.logLevel = "error";
  const sess = await ortw.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "disabled" });
  try {
    const per = sample.reduce((p, d) => p * d, 1), parts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await sess.run({ [sess.inputNames[0]]: new ortw.Tensor("float32", x.slice(i * batch * per, (i + 1) * batch * per), [batch, ...sample]) });
      parts.push(...(out[sess.outputNames[0]].data as Float32Array));
    }
    return Float32Array.from(parts);
  } finally {
    await sess.release();
  }
}

/**
 * A cancelled output: every |y| < 1e-2 (e.g. a one-value head whose BatchNorm subtracts nearly its
 * input) and the bundle within 1e-6 absolute of onnxruntime everywhere — a few float32 ulps of the
 * O(1) terms it was computed from, however small the result. Where max|y| ≥ 1e-2 the relative
 * tolerance (1e-4·max|y| ≥ 1e-6) already allows as much, so this widens nothing else.
 */
function cancelled(g: Float32Array, w: Float32Array): boolean {
  return w.every((x, i) => Math.abs(x) < 1e-2 && Math.abs(g[i] - x) <= 1e-6);
}

const failMsg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Run one model through both and judge. Never throws. */
export async function checkModel(bytes: Uint8Array, o: CheckOptions = {}): Promise<Verdict> {
  const t0 = performance.now();
  const tol = o.tol ?? 1e-4;
  let bitdense = 0, bitdenseMap = 0;
  const v = (kind: Kind, reason: string, detail = "", bitconv = 0): Verdict => ({ kind, reason, detail, bitconv, bitdense, bitdenseMap, ms: Math.round(performance.now() - t0) });

  // inputs: a dynamic batch runs `samples` samples at once; a static batch N runs twice
  let dims: (number | string)[], outDims: (number | string)[];
  try {
    ({ input: dims, output: outDims } = declaredDims(bytes));
  } catch (e) {
    return v("invalid", "undecodable", failMsg(e));
  }
  const dynamic = typeof dims[0] === "string";
  const per = dims.slice(1).reduce<number>((p, d) => p * Number(d), 1);
  const batch = dynamic ? o.samples ?? 3 : Number(dims[0]);
  const runs = dynamic ? 1 : 2;
  const units = dynamic ? batch : runs; // what agreement() calls a sample: one sample, or one whole static batch
  const x = randomInputs(runs * batch * per, o.inputSeed ?? 12345);

  // the oracle
  let want: Float32Array;
  try {
    const sess = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "disabled", logSeverityLevel: 3 });
    try {
      const parts: Float32Array[] = [];
      for (let i = 0; i < runs; i++) {
        const xi = x.subarray(i * batch * per, (i + 1) * batch * per);
        const out = await sess.run({ [sess.inputNames[0]]: new ort.Tensor("float32", xi, [batch, ...dims.slice(1).map(Number)]) });
        const y = out[sess.outputNames[0]];
        // onnxruntime only warns when the declared output shape is wrong: that is a generator bug
        const declared = outDims.map((d) => (typeof d === "string" ? batch : d));
        if (declared.join() !== y.dims.join()) return v("invalid", "declared output shape", `declared [${declared}], onnxruntime computed [${y.dims}]`);
        parts.push(Float32Array.from(y.data as Float32Array));
      }
      want = new Float32Array(parts.reduce((p, a) => p + a.length, 0));
      parts.reduce((at, a) => (want.set(a, at), at + a.length), 0);
    } finally {
      await sess.release();
    }
  } catch (e) {
    return v("invalid", `onnxruntime: ${normalize(failMsg(e))}`, failMsg(e));
  }

  // mbn
  let res: CompileResult;
  try {
    res = compile(bytes, { target: o.target ?? "simd", file: "model.onnx" });
  } catch (e) {
    if (e instanceof CompileError) {
      const line = e.line();
      if (/internal compiler error/i.test(line)) return v("crash", `compile: ${normalize(e.reason)}`, line);
      if (!e.reason.trim() || /\n/.test(line)) return v("crash", "compile: not a one-line reason", line);
      return v("refused", normalize(e.reason), line);
    }
    return v("crash", `compile threw ${(e as Error)?.name ?? typeof e}: ${normalize(failMsg(e))}`, String((e as Error)?.stack ?? e));
  }
  const bitconv = res.report.layers.filter((l) => l.op === "BitConv").length;
  const dense = res.report.layers.filter((l) => l.op === "BitConv" && l.out.length === 2);
  bitdense = dense.length;
  bitdenseMap = dense.filter((l) => l.in.length === 4).length;
  let got: Float32Array;
  try {
    const bundle = await loadBundle(res.wasm);
    // one sample or one whole batch per mbn_run; bundle.run() splits x into runs of inputLength
    if (bundle.inputLength !== batch * per && bundle.inputLength !== per)
      return v("wrong", "input-size", `bundle takes ${bundle.inputLength} floats per run; the model's sample has ${per}, its batch ${batch * per}`, bitconv);
    got = bundle.run(x);
  } catch (e) {
    return v("crash", `run: ${normalize(failMsg(e))}`, failMsg(e), bitconv);
  }
  o.corrupt?.(got);
  if (got.length !== want.length)
    return v("wrong", "size", `bundle returned ${got.length} floats, onnxruntime ${want.length} (input [${[batch, ...dims.slice(1)]}] × ${runs})`, bitconv);

  // values: one agreement() call over all units (its tie rule and its cap on excused samples)
  const k = want.length / units, unit = (a: Float32Array, u: number) => a.subarray(u * k, (u + 1) * k);
  let unexplained: string[];
  try {
    unexplained = agreement(res, x, got, want, units, tol).unexplained;
    // beyond onnxruntime-node: the rule's second float32 oracle, onnxruntime-web (another summation
    // order), asked only then (it costs a wasm session per model)
    if (unexplained.length) {
      const web = await ortWebOutputs(bytes, x, runs, batch, dims.slice(1).map(Number));
      unexplained = agreement(res, x, got, { "ort-node": want, "ort-web": web }, units, tol).unexplained;
    }
  } catch (e) {
    unexplained = [`the comparison failed: ${failMsg(e)}`];
  }
  // agreement() starts each failure line with "sample <i>:"
  const bad = unexplained.filter((line) => {
    const u = Number(/^sample (\d+):/.exec(line)?.[1] ?? NaN);
    const [gu, wu] = [unit(got, u), unit(want, u)];
    return !(u >= 0 && u < units && (outputTie(gu, wu, tol) || vanishing(gu, wu) || cancelled(gu, wu)));
  });
  if (bad.length) {
    const label = dynamic ? "sample" : "batch run";
    const us = bad.map((line) => Number(/^sample (\d+):/.exec(line)?.[1] ?? 0));
    const mode = mismatchMode(us.map((u) => unit(got, u)), us.map((u) => unit(want, u)), dynamic ? 1 : batch, tol);
    return v("wrong", mode, `${bad.length}/${units} ${label}s differ; ${bad[0]}${firstDiff(unit(got, us[0]), unit(want, us[0]), tol)}`.slice(0, 600), bitconv);
  }
  return v("ok", "", unexplained.length ? `${unexplained.length} unit(s) excused as an output tie or a vanishing output` : "", bitconv);
}

/**
 * What a value mismatch looks like, so that the shrinker keeps one bug class apart from another:
 *   "batch samples after the first" — in a fixed batch of N > 1, sample 0 right and a later one wrong
 *   "layout"                         — the right values in another order (e.g. NHWC instead of NCHW)
 *   "values"                         — anything else
 */
export function mismatchMode(got: Float32Array[], want: Float32Array[], batch: number, tol: number): string {
  const close = (g: Float32Array, w: Float32Array, scale: number) => g.every((x, i) => Math.abs(x - w[i]) <= tol * scale);
  const scale = (w: Float32Array) => w.reduce((m, x) => Math.max(m, Math.abs(x)), 1e-30);
  if (batch > 1) {
    const ok = got.every((g, u) => {
      const s = g.length / batch, w = want[u];
      return close(g.subarray(0, s), w.subarray(0, s), scale(w.subarray(0, s)));
    });
    if (ok) return "batch samples after the first";
  }
  const sorted = (a: Float32Array) => Float32Array.from(a).sort();
  if (got.every((g, u) => close(sorted(g), sorted(want[u]), scale(want[u])))) return "layout";
  return "values";
}

function firstDiff(g: Float32Array, w: Float32Array, tol: number): string {
  let m = 1e-30;
  for (const a of w) m = Math.max(m, Math.abs(a));
  for (let i = 0; i < w.length; i++)
    if (!(Math.abs(g[i] - w[i]) <= tol * m)) return `; first at [${i}]: got ${g[i]}, want ${w[i]}`;
  return "";
}

// -------------------------------------------------------------------------------------- shrinking

/** The simplest value of each parameter, tried first (other numbers try 1, halving and −1). */
const SIMPLEST: Record<string, Param> = { group: 1, dilation: 1, weights: "float", bias: false, constFirst: false, swap: false, ceil: false, countIncludePad: false, perAxis: false, signed: false, transB: false, alpha: 1, beta: 1, stride: 1, k: 1, perLayer: false };
const SIMPLEST_BY_OP: Record<string, Record<string, Param>> = {
  activation: { kind: "relu" }, quantizer: { kind: "sign" }, pool: { kind: "max" }, constOp: { kind: "mul", form: "scalar" },
  dense: { kind: "matmul" }, flatten: { form: "flatten", variant: 0 }, join: { kind: "add" }, globalAvgPool: { kind: "avg" },
  softmax: { kind: "softmax" }, concat: { n: 2 },
};

function* paramEdits(s: Step): Generator<Step> {
  const simplest = { ...SIMPLEST, ...SIMPLEST_BY_OP[s.op] };
  for (const [key, val] of Object.entries(s)) {
    // axes and perms are not sizes: lowering them changes the meaning (their steps are deleted or kept whole)
    if (key === "op" || key === "seed" || key === "lo" || key === "hi" || key === "axis" || key === "perm") continue;
    if (key in simplest) {
      if (val !== simplest[key]) yield { ...s, [key]: simplest[key] };
    } else if (Array.isArray(val)) {
      if (val.some((p) => p !== 0)) yield { ...s, [key]: val.map(() => 0) } as Step;
    } else if (typeof val === "number")
      for (const smaller of [1, Math.floor(val / 2), val - 1]) if (smaller >= 1 && smaller < val) yield { ...s, [key]: smaller };
  }
}

export function* candidates(rc: Recipe): Generator<Recipe> {
  for (let i = rc.steps.length - 1; i >= 0; i--) yield { ...rc, steps: rc.steps.filter((_, j) => j !== i) };
  // a step replaced by the plainest one (Relu), so that one bug met through many ops shrinks to one fixture
  for (let i = 0; i < rc.steps.length; i++)
    if (!["activation", "fork", "join", "branch", "concat"].includes(rc.steps[i].op))
      yield { ...rc, steps: rc.steps.map((t, j) => (j === i ? { op: "activation", seed: t.seed, kind: "relu" } : t)) };
  const inp = rc.input;
  if (inp.batch !== 1 && inp.batch !== "dyn") yield { ...rc, input: { ...inp, batch: 1 } };
  if (inp.batch !== "dyn" && inp.batch !== 1 && inp.batch > 2) yield { ...rc, input: { ...inp, batch: 2 } };
  if (inp.batch === "dyn") yield { ...rc, input: { ...inp, batch: 1 } };
  if (inp.nhwc) yield { ...rc, input: { ...inp, nhwc: false } };
  for (const key of ["c", "h", "w"] as const)
    for (const smaller of [1, 2, Math.floor(inp[key] / 2), inp[key] - 1])
      if (smaller >= 1 && smaller < inp[key]) yield { ...rc, input: { ...inp, [key]: smaller } };
  for (let i = 0; i < rc.steps.length; i++)
    for (const s of paramEdits(rc.steps[i])) yield { ...rc, steps: rc.steps.map((t, j) => (j === i ? s : t)) };
}

/** Greedy shrink: keep any edit after which the model still fails with the same kind and reason. */
export async function shrink(rc: Recipe, failing: Verdict, o: CheckOptions & { maxTries?: number } = {}): Promise<{ recipe: Recipe; verdict: Verdict; tries: number }> {
  let best = rc, verdict = failing, tries = 0;
  const max = o.maxTries ?? 400;
  for (let progress = true; progress && tries < max;) {
    progress = false;
    for (const cand of candidates(best)) {
      if (tries++ >= max) break;
      const v = await checkModel(build(cand).bytes, o);
      if (v.kind === failing.kind && v.reason === failing.reason) {
        best = cand;
        verdict = v;
        progress = true;
        break;
      }
    }
  }
  // drop steps that were skipped anyway (e.g. an unmatched fork)
  best = { ...best, steps: best.steps.filter((s) => s.op !== "fork" || best.steps.some((t) => t.op === "join" || t.op === "concat" || t.op === "branch")) };
  return { recipe: best, verdict, tries };
}

/** `wrong-flatten-relu-n2`: kind, the ONNX ops, the input's rank and static batch. */
export function fixtureName(rc: Recipe, v: Verdict): string {
  const built = build(rc);
  const short: Record<string, string> = { BatchNormalization: "bn", QuantizeLinear: "q", DequantizeLinear: "dq", GlobalAveragePool: "gap", GlobalMaxPool: "gmp", AveragePool: "avgpool", LeakyRelu: "lrelu", Transpose: "tr" };
  const ops = built.ops.map((op) => short[op] ?? op.toLowerCase()).join("-") || "identity";
  const tags = [rc.input.rank === 2 ? "2d" : "", typeof rc.input.batch === "number" && rc.input.batch > 1 ? `n${rc.input.batch}` : "",
    rc.input.nhwc ? "nhwc" : "", rc.input.opset < 13 ? `opset${rc.input.opset}` : ""].filter(Boolean);
  const reason = v.kind === "wrong" ? v.reason.split(" ")[0] : "";
  return [v.kind, reason, ops.slice(0, 60), ...tags].filter(Boolean).join("-").replace(/[^a-z0-9-]/gi, "");
}

/**
 * Write a shrunk failure as test/fixtures/differential/<name>.onnx + <name>.json (seed, recipe,
 * verdict). One fixture per name (= class): an existing one is kept unless this model is smaller.
 */
export function writeFixture(rc: Recipe, v: Verdict, meta: Record<string, unknown> = {}, dir = FIXTURES): { name: string; written: boolean } {
  const name = fixtureName(rc, v);
  const base = new URL(name, dir).pathname;
  const built = build(rc);
  if (existsSync(`${base}.onnx`) && readFileSync(`${base}.onnx`).length <= built.bytes.length) return { name, written: false };
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${base}.onnx`, built.bytes);
  writeFileSync(`${base}.json`, JSON.stringify({
    comment: "shrunk differential-fuzzing failure (test/fuzz/differential.ts); replayed by test/compiler/differential.test.ts",
    seed: rc.seed, ...meta, model: describe(rc, built), verdict: { kind: v.kind, reason: v.reason, detail: v.detail }, recipe: rc,
  }, null, 1) + "\n");
  return { name, written: true };
}
