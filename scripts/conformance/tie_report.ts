// Script: who decides a quantizer tie. For QONNX models whose bundle and onnxruntime differ by single
// output levels ("unverified" in npm run conformance), count per seeded input (the conformance sets) the
// output values where each pair of {bundle, onnxruntime on the expanded QONNX ops, the correctly rounded
// float32 evaluation (f64_oracle.ts)} differ beyond the conformance tolerance.
// Usage: npx tsx scripts/conformance/tie_report.ts <model.onnx>…
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../../compiler/index.ts";
import { rng } from "../../harness/rng.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { ATOL, RTOL } from "./common.ts";
import { evalF64 } from "./f64_oracle.ts";
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
    console.log(`${basename(file)} set ${s} (${got.length} values): bundle≠onnxruntime ${off(got, want)}, bundle≠exact ${off(got, exact.output)}, onnxruntime≠exact ${off(want, exact.output)}`);
  }
  await sess.release();
}
