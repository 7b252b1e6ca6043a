// Script: who decides a quantizer tie. For QONNX models whose bundle and onnxruntime differ by single
// output levels, count per seeded input (the conformance sets) the output values where each pair of
// {bundle, onnxruntime on the expanded QONNX ops, the correctly rounded float32 evaluation
// (f64_oracle.ts)} differ beyond the conformance tolerance; then check each implementation layer by
// layer: its quantized tensors (the bundle's read back from its memory, bundle_trace.ts; onnxruntime's
// as extra graph outputs) and its output against the bounds of every float32 evaluation order computed
// from its own inputs to that layer (evalBounds with anchors). "outside" should be 0 for both.
// Usage: npx tsx scripts/conformance/tie_report.ts <model.onnx>…
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { compile } from "../../compiler/index.ts";
import { rng } from "../../harness/rng.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { quantizedTensors } from "./bundle_trace.ts";
import { ATOL, RTOL } from "./common.ts";
import { evalBounds, evalF64, type AnchorCheck } from "./f64_oracle.ts";
import { expandQonnx } from "./qonnx_oracle.ts";

const { onnx } = onnxProto as unknown as { onnx: any };

/** The model with extra float graph outputs. */
function withOutputs(bytes: Uint8Array, names: string[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  for (const name of names) m.graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }));
  return onnx.ModelProto.encode(m).finish();
}

const tol = (v: number) => ATOL + RTOL * Math.abs(v);
const off = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).filter((v, i) => Math.abs(v - b[i]) > tol(b[i])).length;
const layers = (c: AnchorCheck[]) => c.map((k) => `${k.name} outside ${k.outside}/open ${k.open}`).join(", ");

for (const file of process.argv.slice(2)) {
  const bytes = readFileSync(file);
  const res = compile(bytes, { file });
  const bundle = await loadBundle(res.wasm);
  const expanded = expandQonnx(bytes);
  if ("unavailable" in expanded) throw new Error(`${file}: ${expanded.unavailable}`);
  const dims = bundle.info.input.shape;
  const x0 = Float32Array.from({ length: bundle.inputLength }, rng(1));
  const names = [...quantizedTensors(res, bundle, x0).keys()];
  const sess = await ort.InferenceSession.create(withOutputs(expanded.bytes, names), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const name = sess.inputNames[0], outName = sess.outputNames[0];
  for (let s = 1; s <= 4; s++) {
    const r = rng(s), x = Float32Array.from({ length: bundle.inputLength }, r); // the conformance worker's inputs
    const got = bundle.run(x);
    const ys = await sess.run({ [name]: new ort.Tensor("float32", x, dims) });
    const want = ys[outName].data as Float32Array;
    const inputs = { [name]: { dims, data: x } };
    const exact = evalF64(bytes, inputs);
    if ("unavailable" in exact) throw new Error(`${file}: ${exact.unavailable}`);
    const verify = (anchors: Map<string, Float64Array>, out: Float32Array) => {
      const b = evalBounds(bytes, inputs, anchors);
      if ("unavailable" in b) throw new Error(`${file}: ${b.unavailable}`);
      const outside = Array.from(out).filter((v, i) => v < b.lo[i] - tol(b.lo[i]) || v > b.hi[i] + tol(b.hi[i])).length;
      const open = Array.from(b.lo).filter((v, i) => b.hi[i] - v > tol(v)).length;
      return `${layers(b.checks)}, output outside ${outside}/open ${open}`;
    };
    const ortAnchors = new Map(names.map((n) => [n, Float64Array.from(ys[n].data as Float32Array)]));
    console.log(`${basename(file)} set ${s} (${got.length} values): bundle≠onnxruntime ${off(got, want)}, bundle≠exact ${off(got, exact.output)}, onnxruntime≠exact ${off(want, exact.output)}`);
    console.log(`  layer by layer: bundle ${verify(quantizedTensors(res, bundle, x), got)}`);
    console.log(`                  onnxruntime ${verify(ortAnchors, want)}`);
  }
  await sess.release();
}
