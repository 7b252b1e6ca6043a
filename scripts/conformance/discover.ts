// Conformance: finds the tests of the two suites. backend = Debian's libonnx-testdata (the ONNX
// backend tests) whose model has exactly one non-initializer float32 input and one float32 output;
// backend-multi = the backend tests whose model has several inputs or several outputs, all float32;
// corpus = every .onnx file under the shared third-party corpus (../shared/corpus, see its SOURCES.md).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { graphIo, type TestSpec } from "./common.ts";

const FLOAT = 1;
export const BACKEND_FOLDERS = ["node", "pytorch-converted", "pytorch-operator", "simple"];
export const ORT_SAMPLES = 4;

export interface Discovered {
  tests: TestSpec[];
  outOfScope: number; // backend tests left out: not one float32 input and one float32 output, or no data
}

/**
 * The ONNX backend tests. `multi` = false: those whose model has exactly one float32 input and one
 * float32 output (suite "backend"); true: those with several inputs or several outputs, all float32
 * (suite "backend-multi": inputs and outputs laid end to end, as a bundle of such a model reads and
 * writes them). Both: stored data.
 */
export function backendTests(root: string, multi = false): Discovered {
  const tests: TestSpec[] = [];
  let outOfScope = 0;
  for (const folder of BACKEND_FOLDERS) {
    const dir = join(root, folder);
    if (!existsSync(dir)) continue;
    for (const test of readdirSync(dir).sort()) {
      const model = join(dir, test, "model.onnx");
      if (!existsSync(model)) continue;
      const io = graphIo(readFileSync(model));
      const sets = readdirSync(join(dir, test)).filter((f) => f.startsWith("test_data_set_")).sort()
        .map((s) => ({
          input: join(dir, test, s, "input_0.pb"), output: join(dir, test, s, "output_0.pb"),
          ...(multi ? { inputs: io.inputs.map((_, i) => join(dir, test, s, `input_${i}.pb`)), outputs: io.outputs.map((_, i) => join(dir, test, s, `output_${i}.pb`)) } : {}),
        }))
        .filter((s) => [...(s.inputs ?? [s.input]), ...(s.outputs ?? [s.output])].every((f) => existsSync(f)));
      const several = io.inputs.length > 1 || io.outputs.length > 1;
      const shapeOk = io.inputs.length >= 1 && io.outputs.length >= 1 && (multi ? several : !several);
      const inScope = shapeOk && [...io.inputs, ...io.outputs].every((v) => v.elemType === FLOAT) && sets.length > 0;
      if (!inScope) {
        outOfScope++;
        continue;
      }
      tests.push({ suite: multi ? "backend-multi" : "backend", name: `${folder}/${test}`, model, data: { kind: "pb", sets } });
    }
  }
  return { tests, outOfScope };
}

/** Every .onnx file in the corpus; `<stem>_model.onnx` with `<stem>_input.npy` + `<stem>_expected_output.npy` uses them, the rest onnxruntime. */
export function corpusTests(root: string): TestSpec[] {
  const tests: TestSpec[] = [];
  const walk = (dir: string, rel: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f), r = rel ? `${rel}/${f}` : f;
      if (statSync(p).isDirectory()) walk(p, r);
      else if (f.endsWith(".onnx")) {
        const stem = p.replace(/(_model)?\.onnx$/, "");
        const input = `${stem}_input.npy`, output = `${stem}_expected_output.npy`;
        const data = existsSync(input) && existsSync(output) ? { kind: "npy" as const, input, output } : { kind: "ort" as const, samples: ORT_SAMPLES };
        tests.push({ suite: "corpus", name: r, model: p, data });
      }
    }
  };
  walk(root, "");
  return tests;
}
