// CLI: `mbn compile <model.onnx> -o <bundle.wasm> [--target simd|scalar|c] [--report r.json] [--dump-after pass]`
// Output paths are checked before compiling.
import { compile } from "../../compiler/index.ts";
import { checkWritable, checkWritableDir, fsMessage, parseTarget, readInput, size, UsageError, writeOutput } from "../common.ts";
import { printReport } from "./inspect.ts";
import { emitC } from "../../compiler/emit/c_target.ts";

export interface CompileOpts {
  output?: string;
  target?: string;
  report?: string;
  dumpAfter?: string;
  quiet?: boolean;
}

export function compileCommand(file: string, o: CompileOpts): void {
  if (o.target === "c") {
    if (!o.output) throw new UsageError("--target c needs -o <dir>");
    if (o.dumpAfter) throw new UsageError("--dump-after prints the plan of a wasm compile; drop --target c");
    checkWritableDir(o.output);
    checkWritable(o.report);
    const res = compile(readInput(file), { file, target: "scalar" });
    const t = res.report.totals;
    try {
      emitC(res.wasm, o.output, { model: file, input: res.plan.inputShape, output: res.plan.outputShape, memory_bytes: t.memoryBytes, bundle_bytes: t.bundleBytes, bops: t.bops });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw new UsageError(fsMessage((e as NodeJS.ErrnoException).path ?? o.output, "write", e));
      throw e;
    }
    if (o.report) writeOutput(o.report, JSON.stringify(res.report, null, 2) + "\n");
    if (!o.quiet) console.log(`wrote ${o.output}/ (wasm2c C, scalar bundle ${size(t.bundleBytes)}, linear memory ${size(t.memoryBytes)}): cd ${o.output} && make`);
    return;
  }
  const target = parseTarget(o.target);
  const out = o.output ?? file.replace(/\.onnx$/i, "") + ".wasm";
  if (out === file) throw new UsageError(`${file}: the output would overwrite the model; name it with -o`);
  checkWritable(out);
  checkWritable(o.report);
  const res = compile(readInput(file), {
    file, target,
    dumpAfter: o.dumpAfter ? (pass, text) => pass === o.dumpAfter && process.stdout.write(text) : undefined,
  });
  writeOutput(out, res.wasm);
  if (o.report) writeOutput(o.report, JSON.stringify(res.report, null, 2) + "\n");
  if (!o.quiet && !o.dumpAfter) {
    printReport(res.report, false);
    console.log(`wrote ${out} (${size(res.wasm.length)}, ${target}) in ${res.report.compileMs.toFixed(0)} ms`);
  }
}
