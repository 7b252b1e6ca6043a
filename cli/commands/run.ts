// CLI: `mbn run <bundle.wasm|model.onnx> --input x.npy --output y.npy [--scale s | --as-is]`
// (several inputs: `--input name=x.npy` once per input; several outputs: `--output name=y.npy` for
// each output wanted)
// (batch = first axis). The input is float32; any other dtype is refused unless --scale s (divide
// by s, e.g. 255 for uint8 pixels) or --as-is (values unchanged) says how to read it.
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { packInputs, unpackOutputs, type Bundle } from "../../runtime/host/loader.ts";
import { checkWritable, openModel, parseTarget, readInput, UsageError, writeOutput } from "../common.ts";

export async function runCommand(file: string, o: { input: string | string[]; output: string | string[]; target?: string; scale?: number; asIs?: boolean }): Promise<void> {
  if (o.scale !== undefined && o.asIs) throw new UsageError("--scale and --as-is exclude each other: --scale divides the input values, --as-is keeps them");
  const target = parseTarget(o.target, "mbn run"); // (a bundle's own target is checked against it once loaded)
  const outputs = typeof o.output === "string" ? [o.output] : o.output;
  for (const s of outputs) checkWritable(s.slice(s.indexOf("=") + 1));
  const inputs = typeof o.input === "string" ? [o.input] : o.input;
  const { bundle } = await openModel(file, target, o.target);
  const targets = outputTargets(bundle, outputs);
  if ((bundle.info.inputs?.length ?? 1) > 1) return runMany(bundle, inputs, targets, o);
  if (inputs.length !== 1) throw new UsageError(`the model has one input ('${bundle.info.input.name}'): give --input once`);
  const x = readFloat(inputs[0], o);
  const per = bundle.inputLength;
  const inShape = bundle.info.input.shape;
  if (x.data.length % per) throw new UsageError(`${inputs[0]}: shape [${x.shape}] does not hold whole samples of [${inShape.slice(1)}] (${per} floats each)`);
  // same rank, same element count per sample, other dimensions: another layout (e.g. NHWC for NCHW)
  if (x.shape.length === inShape.length && x.shape.slice(1).join() !== inShape.slice(1).join())
    throw new UsageError(`${inputs[0]}: samples of shape [${x.shape.slice(1)}], but the model takes [${inShape.slice(1)}] (another layout? mbn takes the ONNX input's layout)`);
  const n = x.data.length / per;
  if (n === 0) throw new UsageError(`${inputs[0]}: no samples (shape [${x.shape}])`);
  if (n % bundle.batch) throw new UsageError(`${inputs[0]}: ${n} sample(s), but the model has a fixed batch of ${bundle.batch}: give a multiple of ${bundle.batch}`);
  const y = bundle.run(x.data);
  const written = writeResults(bundle, y, n, targets, (shape) => [n, ...shape.slice(1)]);
  console.error(`ran ${n} sample(s) → ${written}`);
}

/** Where each output goes: the one output's path, or `name=path` per wanted output of a model with several. */
function outputTargets(bundle: Bundle, specs: string[]): { path: string; name?: string }[] {
  const parts = bundle.info.outputs ?? [];
  if (parts.length <= 1) {
    if (specs.length !== 1) throw new UsageError(`the model has one output ('${bundle.info.output.name}'): give --output once`);
    return [{ path: specs[0] }];
  }
  const names = parts.map((p) => p.name).join(", "), seen = new Set<string>();
  return specs.map((s) => {
    const at = s.indexOf("=");
    if (at < 1) throw new UsageError(`the model has ${parts.length} outputs (${names}): give --output <name>=<y.npy> for each one wanted, not '${s}'`);
    const name = s.slice(0, at);
    if (!parts.some((p) => p.name === name)) throw new UsageError(`--output ${s}: the model has no output '${name}' (outputs: ${names})`);
    if (seen.has(name)) throw new UsageError(`--output ${name} is given twice`);
    seen.add(name);
    return { name, path: s.slice(at + 1) };
  });
}

/**
 * Write n samples' outputs (y: n × bundle.outputLength floats). One output: its shape as `shapeOf`
 * stacks it. Several: each sample's buffer split by the manifest's table (per sample), each output into
 * its own file. Returns what was written, for the progress line.
 */
function writeResults(bundle: Bundle, y: Float32Array, n: number, targets: { path: string; name?: string }[], shapeOf: (shape: number[]) => number[]): string {
  if (!targets[0].name) {
    writeOutput(targets[0].path, writeNpy({ shape: shapeOf(bundle.info.output.shape), data: y }));
    return targets[0].path;
  }
  const per = bundle.outputLength;
  const samples = Array.from({ length: n }, (_, i) => unpackOutputs(bundle.info, y.subarray(i * per, (i + 1) * per)));
  for (const t of targets) {
    const part = samples[0][t.name!], data = new Float32Array(n * part.data.length);
    samples.forEach((s, i) => data.set(s[t.name!].data, i * part.data.length));
    // one sample: its shape; n samples: stacked on the batch axis (a first axis of 1), else on a new one
    writeOutput(t.path, writeNpy({ shape: n === 1 ? part.shape : [n, ...part.shape.slice(part.shape[0] === 1 ? 1 : 0)], data }));
  }
  return targets.map((t) => `${t.name} → ${t.path}`).join(", ");
}

/** A .npy file as float32 values: float32 as stored, another dtype only with --scale (divided) or --as-is. */
function readFloat(path: string, o: { scale?: number; asIs?: boolean }) {
  let x;
  try {
    x = readNpy(readInput(path), path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (x.dtype !== "float32" && o.scale === undefined && !o.asIs) {
    const hint = x.dtype === "uint8" ? "--scale 255 to divide the values by 255 (uint8 pixels → [0, 1])" : "--scale s to divide the values by s";
    throw new UsageError(`${path}: dtype ${x.dtype}, not float32: pass ${hint}, or --as-is to take the values unchanged`);
  }
  if (o.scale !== undefined) for (let i = 0; i < x.data.length; i++) x.data[i] /= o.scale;
  return x;
}

/**
 * A model with several inputs: `--input name=x.npy` once per input. Each file holds that input's shape,
 * or n of them stacked on a new first axis (the same n for every input): n runs, outputs stacked likewise.
 */
async function runMany(bundle: Bundle, specs: string[], targets: { path: string; name?: string }[], o: { scale?: number; asIs?: boolean }): Promise<void> {
  const parts = bundle.info.inputs!;
  const names = parts.map((p) => p.name).join(", ");
  const files = new Map<string, string>();
  for (const s of specs) {
    const at = s.indexOf("=");
    if (at < 1) throw new UsageError(`the model has ${parts.length} inputs (${names}): give --input <name>=<x.npy> for each, not '${s}'`);
    const name = s.slice(0, at);
    if (!parts.some((p) => p.name === name)) throw new UsageError(`--input ${s}: the model has no input '${name}' (inputs: ${names})`);
    if (files.has(name)) throw new UsageError(`--input ${name} is given twice`);
    files.set(name, s.slice(at + 1));
  }
  const missing = parts.filter((p) => !files.has(p.name)).map((p) => p.name);
  if (missing.length) throw new UsageError(`missing --input for ${missing.map((m) => `'${m}'`).join(", ")} (the model's inputs: ${names})`);
  let n = -1, anyStacked = false;
  const data = parts.map((p) => {
    const path = files.get(p.name)!, x = readFloat(path, o), per = p.shape.reduce((a, d) => a * d, 1);
    const stacked = x.shape.length === p.shape.length + 1 && x.shape.slice(1).join() === p.shape.join();
    if (x.shape.join() !== p.shape.join() && !stacked) throw new UsageError(`${path}: shape [${x.shape}], but input '${p.name}' is [${p.shape}] (or n of them stacked: [n,${p.shape}])`);
    const count = x.data.length / per;
    anyStacked ||= stacked;
    if (n >= 0 && count !== n) throw new UsageError(`${path}: ${count} sample(s) of '${p.name}', but the other inputs have ${n}`);
    n = count;
    return { p, x: x.data, per };
  });
  const y: Float32Array[] = [];
  for (let i = 0; i < n; i++) y.push(bundle.run(packInputs(bundle.info, Object.fromEntries(data.map((d) => [d.p.name, d.x.subarray(i * d.per, (i + 1) * d.per)])))));
  const out = new Float32Array(n * bundle.outputLength);
  y.forEach((v, i) => out.set(v, i * bundle.outputLength));
  const written = writeResults(bundle, out, n, targets, (shape) => (anyStacked ? [n, ...shape] : shape));
  console.error(`ran ${n} sample(s) of ${parts.length} inputs → ${written}`);
}
