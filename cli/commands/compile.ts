// CLI: `mbn compile <model.onnx> -o <bundle.wasm> [--target simd|scalar] [--report r.json] [--dump-after pass]`
import { writeFileSync } from "node:fs";
import { compile } from "../../compiler/index.ts";
import { parseTarget, readInput, UsageError } from "../common.ts";
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
    const res = compile(readInput(file), { file, target: "scalar" });
    const t = res.report.totals;
    emitC(res.wasm, o.output, { model: file, input: res.plan.inputShape, output: res.plan.outputShape, memory_bytes: t.memoryBytes, bundle_bytes: t.bundleBytes, bops: t.bops });
    if (!o.quiet) console.log(`wrote ${o.output}/ (wasm2c C, scalar bundle ${t.bundleBytes} bytes, linear memory ${t.memoryBytes} bytes): cd ${o.output} && make`);
    return;
  }
  const target = parseTarget(o.target);
  const out = o.output ?? file.replace(/\.onnx$/i, "") + ".wasm";
  const res = compile(readInput(file), {
    file, target,
    dumpAfter: o.dumpAfter ? (pass, text) => pass === o.dumpAfter && process.stdout.write(text) : undefined,
  });
  writeFileSync(out, res.wasm);
  if (o.report) writeFileSync(o.report, JSON.stringify(res.report, null, 2) + "\n");
  if (!o.quiet && !o.dumpAfter) {
    printReport(res.report, false);
    console.log(`wrote ${out} (${res.wasm.length} bytes, ${target}) in ${res.report.compileMs.toFixed(0)} ms`);
  }
}
