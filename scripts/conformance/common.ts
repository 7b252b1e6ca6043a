// Conformance: what the runner (scripts/conformance.ts) and its worker processes share — the test
// and result types, reading ONNX models' graph I/O and TensorProto files, and the output check
// (shape, then values within onnxruntime's backend-test tolerance).
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: any };

/** |got − want| ≤ ATOL + RTOL·|want| per element, as numpy.testing.assert_allclose in onnxruntime's ONNX backend-test runner. */
export const RTOL = 1e-3;
export const ATOL = 1e-5;

export type Outcome = "pass" | "refused" | "wrong" | "crash" | "unverified";
export const OUTCOMES: Outcome[] = ["pass", "refused", "wrong", "crash", "unverified"];

/** Where a test's expected outputs come from. */
export type TestData =
  | { kind: "pb"; sets: { input: string; output: string; inputs?: string[]; outputs?: string[] }[] } // backend test_data_set_*/input_0.pb, output_0.pb (several: `inputs`, `outputs`)
  | { kind: "npy"; input: string; output: string } // stored input / expected output, samples along axis 0
  | { kind: "ort"; samples: number }; // onnxruntime-node on deterministic uniform [0,1) inputs

export interface TestSpec {
  suite: "backend" | "backend-multi" | "corpus";
  name: string; // e.g. node/test_abs, qonnx/mnist-conv_model.onnx
  model: string; // absolute path
  data: TestData;
}

export interface TestResult {
  suite: string;
  name: string;
  outcome: Outcome;
  detail: string; // the mbn: line for refused tests
  group?: string; // refused: the reason grouped (operator, opset, …)
  ms: number;
}

export interface Tensor {
  dims: number[];
  data: Float32Array;
}

const num = (v: unknown): number => (typeof v === "number" ? v : v == null ? 0 : Number(String(v)));

export interface GraphIo {
  inputs: { name: string; elemType: number; dims: (number | null)[] }[]; // graph inputs that are not initializers
  outputs: { name: string; elemType: number; dims: (number | null)[] }[];
  opsets: string[]; // "domain:version"
}

/** The model's real graph inputs (initializers excluded) and outputs; null dims are symbolic/unknown. */
export function graphIo(bytes: Uint8Array): GraphIo {
  const m = onnx.ModelProto.decode(bytes);
  const inits = new Set((m.graph?.initializer ?? []).map((t: any) => t.name));
  const vi = (v: any) => ({
    name: v.name as string,
    elemType: num(v.type?.tensorType?.elemType),
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d: any) => (d.dimValue != null && !d.dimParam ? num(d.dimValue) : null)),
  });
  return {
    inputs: (m.graph?.input ?? []).filter((v: any) => !inits.has(v.name)).map(vi),
    outputs: (m.graph?.output ?? []).map(vi),
    opsets: (m.opsetImport ?? []).map((o: any) => `${o.domain || "ai.onnx"}:${num(o.version)}`),
  };
}

/** A serialized float32 TensorProto (float_data or little-endian raw_data). */
export function readTensorPb(bytes: Uint8Array, file: string): Tensor {
  const t = onnx.TensorProto.decode(bytes);
  const dims: number[] = (t.dims ?? []).map(num);
  const n = dims.reduce((p, d) => p * d, 1);
  if (num(t.dataType) !== 1) throw new Error(`${file}: tensor data type ${num(t.dataType)} is not float32`);
  const data = new Float32Array(n);
  if (t.rawData && t.rawData.length) {
    if (t.rawData.length !== 4 * n) throw new Error(`${file}: raw data has ${t.rawData.length} bytes, expected ${4 * n}`);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
  } else {
    if ((t.floatData ?? []).length !== n) throw new Error(`${file}: ${(t.floatData ?? []).length} float values, expected ${n}`);
    data.set(t.floatData);
  }
  return { dims, data };
}

const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));
const shapeStr = (s: readonly number[]) => `[${s.join(",")}]`;

/**
 * The manifest's output shape covers k = (its element count) / outputLength samples (k = the bundle's
 * batch: 1, or N for a model exported with a fixed batch N). For the n samples the bundle ran on one
 * set, the expected shape is the manifest's with its first axis scaled by n / k; it must equal the
 * expected dims. Then the values must agree element by element: NaN only with NaN, ±Inf only with
 * itself, finite values within ATOL + RTOL·|want|. Returns null when they agree, else what differs.
 */
export function checkOutput(got: Float32Array, manifestOut: readonly number[], outputLength: number, n: number, want: Tensor): string | null {
  const samples = `${n} sample(s) of ${outputLength} values`;
  if (got.length !== want.data.length) {
    return `output has ${got.length} values (${samples}, manifest shape ${shapeStr(manifestOut)}), expected ${want.data.length} ${shapeStr(want.dims)}`;
  }
  const k = manifestOut.reduce((p, d) => p * d, 1) / outputLength;
  const axis0 = manifestOut.length ? (manifestOut[0] * n) / k : NaN;
  const shape = n === k ? [...manifestOut] : Number.isInteger(axis0) ? [axis0, ...manifestOut.slice(1)] : null;
  if (!shape || shapeStr(shape) !== shapeStr(want.dims)) {
    return `output shape ${shape ? shapeStr(shape) : "?"} (manifest ${shapeStr(manifestOut)} for ${k} sample(s), ${samples}) differs from expected ${shapeStr(want.dims)}`;
  }
  let bad = 0, special = 0, firstBad = -1, maxAbs = 0, maxRel = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want.data[i];
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else ok = Math.abs(g - w) <= ATOL + RTOL * Math.abs(w); // false when g is NaN
    if (ok) continue;
    bad++;
    if (firstBad < 0) firstBad = i;
    if (!Number.isFinite(g) || !Number.isFinite(w)) { special++; continue; }
    maxAbs = Math.max(maxAbs, Math.abs(g - w));
    maxRel = Math.max(maxRel, w !== 0 ? Math.abs(g - w) / Math.abs(w) : Infinity);
  }
  if (!bad) return null;
  const errs = bad > special ? `, max abs err ${fmt(maxAbs)}, max rel err ${fmt(maxRel)}` : "";
  return `${bad}/${got.length} values out of tolerance${special ? ` (${special} NaN/Inf mismatches)` : ""}${errs}; first at index ${firstBad}: got ${fmt(got[firstBad])}, want ${fmt(want.data[firstBad])}`;
}
