// CLI: `mbn run <bundle.wasm|model.onnx> --input x.npy --output y.npy [--scale s | --as-is]`
// (batch = first axis). The input is float32; any other dtype is refused unless --scale s (divide
// by s, e.g. 255 for uint8 pixels) or --as-is (values unchanged) says how to read it.
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { checkWritable, openModel, parseTarget, readInput, UsageError, writeOutput } from "../common.ts";

export async function runCommand(file: string, o: { input: string; output: string; target?: string; scale?: number; asIs?: boolean }): Promise<void> {
  if (o.scale !== undefined && o.asIs) throw new UsageError("--scale and --as-is exclude each other: --scale divides the input values, --as-is keeps them");
  const target = parseTarget(o.target, "mbn run"); // (a bundle's own target is checked against it once loaded)
  checkWritable(o.output);
  let x;
  try {
    x = readNpy(readInput(o.input), o.input);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (x.dtype !== "float32" && o.scale === undefined && !o.asIs) {
    const hint = x.dtype === "uint8" ? "--scale 255 to divide the values by 255 (uint8 pixels → [0, 1])" : "--scale s to divide the values by s";
    throw new UsageError(`${o.input}: dtype ${x.dtype}, not float32: pass ${hint}, or --as-is to take the values unchanged`);
  }
  if (o.scale !== undefined) for (let i = 0; i < x.data.length; i++) x.data[i] /= o.scale;
  const { bundle } = await openModel(file, target, o.target);
  const per = bundle.inputLength;
  const inShape = bundle.info.input.shape;
  if (x.data.length % per) throw new UsageError(`${o.input}: shape [${x.shape}] does not hold whole samples of [${inShape.slice(1)}] (${per} floats each)`);
  // same rank, same element count per sample, other dimensions: another layout (e.g. NHWC for NCHW)
  if (x.shape.length === inShape.length && x.shape.slice(1).join() !== inShape.slice(1).join())
    throw new UsageError(`${o.input}: samples of shape [${x.shape.slice(1)}], but the model takes [${inShape.slice(1)}] (another layout? mbn takes the ONNX input's layout)`);
  const n = x.data.length / per;
  if (n === 0) throw new UsageError(`${o.input}: no samples (shape [${x.shape}])`);
  if (n % bundle.batch) throw new UsageError(`${o.input}: ${n} sample(s), but the model has a fixed batch of ${bundle.batch}: give a multiple of ${bundle.batch}`);
  const y = bundle.run(x.data);
  writeOutput(o.output, writeNpy({ shape: [n, ...bundle.info.output.shape.slice(1)], data: y }));
  console.error(`ran ${n} sample(s) → ${o.output}`);
}
