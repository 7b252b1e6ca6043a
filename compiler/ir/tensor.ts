// Compiler IR: constant tensors as the reference interpreter sees them. Floats are float32
// (Float32Array, every op rounds to float32 as ONNX does); integers are held exactly in a
// Float64Array (|v| < 2^53, enough for shapes, indices and int8/int32 data); bools in Uint8Array.
export type DType = "float" | "int" | "bool";

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array;
  itype?: number; // ONNX integer data type where it matters (QuantizeLinear output range)
}

export const MAX_TENSOR_ELEMENTS = 128 * 1024 * 1024; // refuse anything larger before allocating (VGG-19's fc6 is 103 M)

export function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function alloc(dtype: DType, shape: number[]): Tensor {
  const n = sizeOf(shape);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_TENSOR_ELEMENTS || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`tensor of shape [${shape.join(",")}] exceeds the ${MAX_TENSOR_ELEMENTS}-element limit or is invalid`);
  }
  const data = dtype === "float" ? new Float32Array(n) : dtype === "int" ? new Float64Array(n) : new Uint8Array(n);
  return { dtype, shape: [...shape], data };
}

export function tensor(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  const t = alloc(dtype, shape);
  if (values.length !== t.data.length) throw new RangeError(`expected ${t.data.length} values for [${shape}], got ${values.length}`);
  t.data.set(values as ArrayLike<number>);
  return t;
}

export const scalarF = (v: number): Tensor => tensor("float", [], [v]);

export function fmtShape(shape: number[]): string {
  return `[${shape.join("×")}]`;
}
