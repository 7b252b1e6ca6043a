// Conformance worker: a child process of scripts/conformance.ts that runs one test at a time
// (messages { test } in, { phase } while working, { result } out). It loads the expected outputs
// (backend .pb files, stored .npy, or onnxruntime-node on seeded inputs), compiles the model with
// mbn, runs the bundle and classifies the outcome. The parent kills it on a timeout or a hang.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compile, CompileError } from "../../compiler/index.ts";
import { BundleError, loadBundle, unpackOutputs, type Bundle } from "../../runtime/host/loader.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { rng } from "../../harness/rng.ts";
import { quantizedTensors } from "./bundle_trace.ts";
import { evalBounds } from "./f64_oracle.ts";
import { expandQonnx } from "./qonnx_oracle.ts";
import { ATOL, checkOutput, graphIo, RTOL, readTensorPb, type Outcome, type Tensor, type TestSpec, type TestResult } from "./common.ts";

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const send = (m: unknown) => process.send!(m);
const firstLine = (s: string) => s.split("\n")[0];

interface Verdict { outcome: Outcome; detail: string; group?: string }
// quantized: the oracle is onnxruntime on the QONNX quantizers expanded into ONNX ops, so its outputs may
// differ from the bundle's at quantizer ties (judged by float32 bounds in verdict)
// outs: a model with several outputs — each expected output, in graph order (each checked alone;
// `want` is then the first, unused)
interface Oracle { sets: { input: Tensor; want: Tensor; outs?: Tensor[] }[]; unavailable?: string; note?: string; quantized?: boolean }

const expected = (ts: Tensor[]): { want: Tensor; outs?: Tensor[] } => (ts.length === 1 ? { want: ts[0] } : { want: ts[0], outs: ts });

/** Where an unexpected exception came from: the first stack frame, with paths relative to the repo. */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return `thrown non-Error: ${String(e)}`;
  const frame = (e.stack ?? "").split("\n").find((l) => l.trim().startsWith("at "))?.trim();
  const where = frame ? ` (${frame.replace(/file:\/\//g, "").replaceAll(repo + "/", "")})` : "";
  return `${e.name}: ${firstLine(e.message)}${e.message.includes("\n") ? " […multi-line message]" : ""}${where}`;
}

/** The refusal reason grouped for the summary: the operator, the opset, or the reason with names and numbers blanked. */
function refusalGroup(e: CompileError): string {
  const r = e.reason;
  const opset = /\bopset (\d+)\b.*not supported/i.exec(r);
  if (opset) return `opset ${opset[1]}`;
  const op = /operator '([^']+)'/.exec(r);
  if (op) return `operator ${op[1]}`;
  const generic = r.replace(/\s*\([^)]*\)/g, "").replace(/'[^']*'/g, "'…'").replace(/\[[^\]]*\]/g, "[…]").replace(/\b\d+(\.\d+)?(e-?\d+)?\b(?!-D)/g, "N");
  return (e.where.op ? `${e.where.op}: ` : "") + (generic.length > 100 ? generic.slice(0, 100).replace(/\s+\S*$/, "") + " …" : generic);
}

/** Deterministic uniform [0,1) tensor. */
function uniform(dims: number[], seed: number): Tensor {
  const r = rng(seed);
  return { dims, data: Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, r) };
}

async function oracle(t: TestSpec, bytes: Uint8Array): Promise<Oracle> {
  const d = t.data;
  if (d.kind === "pb") {
    // several inputs: laid end to end in graph order (the input_i.pb files follow it), as the bundle reads them
    const read = (f: string) => readTensorPb(readFileSync(f), f);
    const laid = (fs: string[]): Tensor => {
      const ts = fs.map(read);
      return { dims: [ts.reduce((n, t) => n + t.data.length, 0)], data: Float32Array.from(ts.flatMap((t) => Array.from(t.data))) };
    };
    return { sets: d.sets.map((s) => ({ input: s.inputs ? laid(s.inputs) : read(s.input), ...expected((s.outputs ?? [s.output]).map(read)) })) };
  }
  const io = graphIo(bytes);
  if (d.kind === "npy") {
    // Stored samples stacked along axis 0; each becomes one set shaped like the graph's input/output.
    const x = readNpy(readFileSync(d.input), d.input), y = readNpy(readFileSync(d.output), d.output);
    const n = x.shape[0], xs = x.data.length / n, ys = y.data.length / n;
    const decl = io.outputs[0]?.dims.map((v) => v ?? 1) ?? [];
    const outDims = decl.reduce((p, v) => p * v, 1) === ys ? decl : [1, ...y.shape.slice(1)];
    return {
      sets: Array.from({ length: n }, (_, i) => ({
        input: { dims: [1, ...x.shape.slice(1)], data: x.data.slice(i * xs, (i + 1) * xs) },
        want: { dims: outDims, data: y.data.slice(i * ys, (i + 1) * ys) },
      })),
    };
  }
  // onnxruntime on seeded inputs: each graph input's shape, symbolic dimensions (a dynamic batch) = 1;
  // a model with several inputs gets them laid end to end in graph order, as its bundle reads them
  const dimsOf = io.inputs.map((i) => i.dims.map((v) => v ?? 1));
  const ort = await import("onnxruntime-node");
  type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  let session: Session, quantized = false;
  const opts = { logSeverityLevel: 3 as const, intraOpNumThreads: 1, interOpNumThreads: 1 };
  try {
    session = await ort.InferenceSession.create(t.model, opts);
  } catch (e) {
    // QONNX quantizers: onnxruntime on the model with them expanded into standard ops (qonnx_oracle.ts)
    const x = expandQonnx(readFileSync(t.model));
    try {
      if ("unavailable" in x) throw new Error(x.unavailable);
      session = await ort.InferenceSession.create(x.bytes, opts);
      quantized = true;
    } catch (e2) {
      return { sets: [], unavailable: `onnxruntime cannot run it: ${firstLine(String((e as Error).message ?? e)).slice(0, 200)} (QONNX expansion: ${firstLine(String((e2 as Error).message)).slice(0, 120)})` };
    }
  }
  const sets = [];
  try {
    for (let s = 1; s <= d.samples; s++) {
      const parts = dimsOf.map((dims, i) => uniform(dims, i ? s * 1000 + i : s));
      const input = parts.length === 1 ? parts[0] : { dims: [parts.reduce((n, p) => n + p.data.length, 0)], data: Float32Array.from(parts.flatMap((p) => Array.from(p.data))) };
      const run = async (sess: Session) => {
        const feeds = Object.fromEntries(io.inputs.map((inp, i) => [inp.name, new ort.Tensor("float32", parts[i].data, dimsOf[i])]));
        const ys = await sess.run(feeds);
        return expected(io.outputs.map((o) => ({ dims: ys[o.name].dims.map(Number), data: Float32Array.from(ys[o.name].data as ArrayLike<number>, Number) })));
      };
      sets.push({ input, ...(await run(session)) });
    }
  } catch (e) {
    return { sets: [], unavailable: `onnxruntime failed to run it: ${firstLine(String((e as Error).message ?? e)).slice(0, 200)}` };
  } finally {
    await session.release();
  }
  return { sets, quantized, note: quantized ? "onnxruntime on the QONNX quantizers expanded into ONNX ops (conformance/qonnx_oracle.ts)" : undefined };
}

/**
 * A quantized model's output that differs from onnxruntime's beyond tolerance: values off by a
 * quantizer's rounding decision (and every later layer's, which inherit it) are judged layer by layer
 * (f64_oracle.ts evalBounds). The bundle's quantized tensors, read back from its memory
 * (bundle_trace.ts), and its output must each lie inside the bounds that every float32 evaluation order
 * gives from the bundle's own inputs to that layer. Then the bundle is a valid float32 evaluation of the
 * graph that decided some ties otherwise (a pass, with the count: `note`); anything else is wrong
 * (`why`). (That the bounds hold for other implementations is checked by test/conformance/bounds.test.ts
 * over many summation orders, and for onnxruntime layer by layer by tie_report.ts; here that costs a
 * second whole-graph evaluation per set.)
 */
function judgeTies(bytes: Uint8Array, res: ReturnType<typeof compile>, bundle: Bundle, graphInputs: { name: string }[], input: Tensor, got: Float32Array, want: Float32Array): { note: string } | { why: string } {
  if (graphInputs.length !== 1 || (bundle.info.outputs?.length ?? 1) !== 1) return { why: "quantizer ties are judged for models with one input and one output only" };
  const inputs = { [graphInputs[0].name]: { dims: input.dims, data: input.data } };
  const layered = evalBounds(bytes, inputs, quantizedTensors(res, bundle, input.data));
  if ("unavailable" in layered) return { why: `no bounds to judge quantizer ties: ${layered.unavailable}` };
  const tol = (v: number) => ATOL + RTOL * Math.abs(v);
  const outside = (a: ArrayLike<number>, b: { lo: Float32Array; hi: Float32Array }) => Array.from(a).findIndex((v, j) => v < b.lo[j] - tol(b.lo[j]) || v > b.hi[j] + tol(b.hi[j]));
  const layer = layered.checks.find((c) => c.outside);
  if (layer) return { why: `the bundle's quantized tensor '${layer.name}' has ${layer.outside}/${layer.values} values outside the bounds of every float32 evaluation order from its inputs (index ${layer.first!.index}: ${layer.first!.value}, bounds [${layer.first!.lo}, ${layer.first!.hi}])` };
  const j = outside(got, layered);
  if (j >= 0) return { why: `output index ${j} (${got[j]}) lies outside the bounds of every float32 evaluation order from the bundle's quantized inputs [${layered.lo[j]}, ${layered.hi[j]}]` };
  const n = Array.from(got, (g, m) => Math.abs(g - want[m]) > tol(want[m])).filter(Boolean).length;
  const open = layered.checks.reduce((a, c) => a + c.open, 0);
  return { note: `${n}/${got.length} values differ from onnxruntime's at quantizer ties; the bundle's ${layered.checks.length} quantized tensor(s) and output lie inside the bounds of every float32 evaluation order from their own inputs (which leave ${open} quantized values open between two levels)` };
}

async function verdict(t: TestSpec): Promise<Verdict> {
  const bytes = readFileSync(t.model);
  send({ phase: "compile" });
  let res: ReturnType<typeof compile>;
  try {
    res = compile(bytes, { file: t.name });
  } catch (e) {
    if (!(e instanceof CompileError)) return { outcome: "crash", detail: `compile threw ${describe(e)}` };
    const line = `mbn: ${e.line()}`;
    if (e.message.includes("\n") || !e.message.trim()) return { outcome: "crash", detail: `multi-line or empty CompileError: ${line}` };
    if (/internal compiler error/i.test(line)) return { outcome: "crash", detail: line };
    return { outcome: "refused", detail: line, group: refusalGroup(e) };
  }

  send({ phase: "load" });
  let bundle;
  try {
    bundle = await loadBundle(res.wasm);
  } catch (e) {
    // A one-line BundleError is a refusal, except the loader's consistency checks: a bundle that
    // compile() just emitted must never fail those (a stale runtime/build also lands here).
    const inconsistent = /does not match|corrupt|not supported by this loader|not a valid WebAssembly|not an mbn bundle|has imports|not valid JSON/;
    if (e instanceof BundleError && !e.message.includes("\n") && !inconsistent.test(e.message)) {
      return { outcome: "refused", detail: `mbn: bundle: ${e.message}`, group: `bundle: ${e.message.slice(0, 60)}` };
    }
    const hint = e instanceof BundleError && /format|version/.test(e.message) ? " (stale runtime/build? run npm run build)" : "";
    return { outcome: "crash", detail: `loadBundle rejected the bundle compile() emitted: ${describe(e)}${hint}` };
  }
  const io = graphIo(bytes);
  const bundleInputs = bundle.info.inputs?.length ?? 1, bundleOutputs = bundle.info.outputs?.length ?? 1;
  if (io.inputs.length !== bundleInputs || io.outputs.length !== bundleOutputs) {
    return { outcome: "wrong", detail: `compiled a model with ${io.inputs.length} graph inputs and ${io.outputs.length} outputs into a bundle of ${bundleInputs} input(s) and ${bundleOutputs} output(s)` };
  }

  send({ phase: "oracle" }); // only for compiled models: onnxruntime is slow on the big corpus files
  const ref = await oracle(t, bytes);

  send({ phase: "run" });
  const inShape = `[${bundle.info.input.shape.join(",")}]`;
  const batch = bundle.batch ?? 1; // samples per mbn_run (a fixed batch N runs N at a time)
  // Without an oracle, still run the bundle once (a crash or a non-zero mbn_run is still a crash).
  const sets: { input: Tensor; want?: Tensor; outs?: Tensor[] }[] = ref.sets.length ? ref.sets : [{ input: uniform([bundle.inputLength * batch], 1), want: undefined }];
  const tieNotes: string[] = [];
  for (const [i, s] of sets.entries()) {
    const x = s.input.data;
    if (x.length % (bundle.inputLength * batch)) {
      return { outcome: "wrong", detail: `set ${i}: input has ${x.length} values [${s.input.dims.join(",")}], not a multiple of the bundle's ${bundle.inputLength} per sample × batch ${batch} (input ${inShape})` };
    }
    let got: Float32Array;
    try {
      got = bundle.run(x);
    } catch (e) {
      return { outcome: "crash", detail: `set ${i}: bundle.run threw ${describe(e)}` };
    }
    if (!s.want) continue;
    if (s.outs) {
      // several outputs: each sample's buffer split by the manifest's table, each output's samples stacked and checked alone
      const n = got.length / bundle.outputLength, parts = bundle.info.outputs!;
      const split = Array.from({ length: n }, (_, k) => unpackOutputs(bundle.info, got.subarray(k * bundle.outputLength, (k + 1) * bundle.outputLength)));
      for (const [k, p] of parts.entries()) {
        const mine = new Float32Array(n * split[0][p.name].data.length);
        split.forEach((o, j) => mine.set(o[p.name].data, j * o[p.name].data.length));
        const bad = checkOutput(mine, p.shape, mine.length / n, n, s.outs[k]);
        if (bad) return { outcome: "wrong", detail: `set ${i}: output ${k} ('${p.name}'): ${bad} [bundle input ${inShape}, batch ${batch}]` };
      }
      continue;
    }
    let bad = checkOutput(got, bundle.info.output.shape, bundle.outputLength, x.length / bundle.inputLength, s.want);
    if (bad && ref.quantized) {
      const j = judgeTies(bytes, res, bundle, io.inputs, s.input, got, s.want.data);
      if ("note" in j) {
        tieNotes.push(`set ${i}: ${j.note}`);
        bad = null;
      } else bad += `; ${j.why}`;
    }
    if (bad) return { outcome: "wrong", detail: `set ${i}: ${bad} [bundle input ${inShape}, batch ${batch}, ${x.length / bundle.inputLength} sample(s) of ${bundle.inputLength} values for the set's [${s.input.dims.join(",")}]]` };
  }
  if (ref.unavailable) return { outcome: "unverified", detail: `compiled and ran, but no expected output: ${ref.unavailable}` };
  const extra = [ref.note, ...tieNotes].filter(Boolean).join("; ");
  return { outcome: "pass", detail: `${sets.length} set(s), input ${inShape}, output [${bundle.info.output.shape.join(",")}]${extra ? `; ${extra}` : ""}` };
}

process.on("disconnect", () => process.exit(0)); // the runner is gone
process.on("message", async (m: { test: TestSpec }) => {
  const t0 = performance.now();
  let v: Verdict;
  try {
    v = await verdict(m.test);
  } catch (e) {
    v = { outcome: "crash", detail: `test harness: ${describe(e)}` }; // e.g. unreadable test data
  }
  const result: TestResult = { suite: m.test.suite, name: m.test.name, ...v, ms: Math.round(performance.now() - t0) };
  send({ result });
});
