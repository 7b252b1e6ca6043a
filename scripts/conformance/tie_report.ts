// Script: who decides a quantizer tie. For QONNX models whose bundle and onnxruntime differ by single
// output levels ("unverified" in npm run conformance), count per seeded input (the conformance sets) the
// output values where each pair of {bundle, onnxruntime on the expanded QONNX ops, the correctly rounded
// float32 evaluation (f64_oracle.ts)} differ beyond the conformance tolerance, how many values the
// bounds of every float32 evaluation order (evalBounds) leave open between two or more levels, and how
// many values of the bundle and of onnxruntime fall outside those bounds (both should be 0).
// Usage: npx tsx scripts/conformance/tie_report.ts <model.onnx>…
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../../compiler/index.ts";
import { rng } from "../../harness/rng.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { ATOL, RTOL } from "./common.ts";
import { evalBounds, evalF64 } from "./f64_oracle.ts";
import { expandQonnx } from "./qonnx_oracle.ts";

for (const file of process.argv.slice(2)) {
  const bytes = readFileSync(file);
  const bundle = await loadBundle(compile(bytes, { file }).wasm);
  const expanded = expandQonnx(bytes);
  if ("unavailable" in expanded) throw new Error(`${file}: ${expanded.unavailable}`);
  const sess = await ort.InferenceSession.create(expanded.bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const dims = bundle.info.input.shape, name = sess.inputNames[0];
  const off = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).filter((v, i) => Math.abs(v - b[i]) > ATOL + RTOL * Math.abs(b[i])).length;
  for (let s = 1; s <= 4; s++) {
    const r = rng(s), x = Float32Array.from({ length: bundle.inputLength }, r); // the conformance worker's inputs
    const got = bundle.run(x);
    const want = (await sess.run({ [name]: new ort.Tensor("float32", x, dims) }))[sess.outputNames[0]].data as Float32Array;
    const exact = evalF64(bytes, { [name]: { dims, data: x } });
    if ("unavailable" in exact) throw new Error(`${file}: ${exact.unavailable}`);
    const b = evalBounds(bytes, { [name]: { dims, data: x } });
    if ("unavailable" in b) throw new Error(`${file}: ${b.unavailable}`);
    const tol = (v: number) => ATOL + RTOL * Math.abs(v);
    const outside = (a: ArrayLike<number>) => Array.from(a).filter((v, i) => v < b.lo[i] - tol(b.lo[i]) || v > b.hi[i] + tol(b.hi[i])).length;
    const open = Array.from(b.lo).filter((v, i) => b.hi[i] - v > tol(v)).length;
    console.log(`${basename(file)} set ${s} (${got.length} values): bundle≠onnxruntime ${off(got, want)}, bundle≠exact ${off(got, exact.output)}, onnxruntime≠exact ${off(want, exact.output)}; bounds open at ${open}, bundle outside ${outside(got)}, onnxruntime outside ${outside(want)}`);
  }
  await sess.release();
}
