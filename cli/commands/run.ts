// CLI: `mbn run <bundle.wasm|model.onnx> --input x.npy --output y.npy` (float32, batch = first axis).
import { readFileSync, writeFileSync } from "node:fs";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { openModel, parseTarget, UsageError } from "../common.ts";

export async function runCommand(file: string, o: { input: string; output: string; target?: string }): Promise<void> {
  const { bundle } = await openModel(file, parseTarget(o.target));
  let x;
  try {
    x = readNpy(readFileSync(o.input), o.input);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const per = bundle.inputLength;
  const inShape = bundle.info.input.shape;
  if (x.data.length % per) throw new UsageError(`${o.input}: shape [${x.shape}] does not hold whole samples of [${inShape.slice(1)}] (${per} floats each)`);
  const n = x.data.length / per;
  if (n % bundle.batch) throw new UsageError(`${o.input}: ${n} sample(s), but the model has a fixed batch of ${bundle.batch}: give a multiple of ${bundle.batch}`);
  const y = bundle.run(x.data);
  writeFileSync(o.output, writeNpy({ shape: [n, ...bundle.info.output.shape.slice(1)], data: y }));
  console.error(`ran ${n} sample(s) → ${o.output}`);
}
