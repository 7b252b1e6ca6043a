// Test helpers: build small ONNX models in TypeScript (onnx-proto) for error-path tests.
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: any };

/** Attribute values: an int, ints, { f: x } for a float (FLOAT attributes such as alpha/beta), or a string. */
export type AttrValue = number | number[] | { f: number } | string;
export interface NodeSpec { op: string; inputs: string[]; outputs: string[]; name?: string; domain?: string; attrs?: Record<string, AttrValue> }

export function floatTensor(name: string, dims: number[], values: number[]): any {
  return onnx.TensorProto.create({ name, dims, dataType: 1, floatData: values });
}

export function buildModel(o: {
  nodes: NodeSpec[]; inits?: any[]; input?: [string, number[]]; inputs?: [string, number[]][]; output?: [string, number[]]; outputs?: [string, number[]][]; opset?: number; domainOpsets?: [string, number][];
}): Uint8Array {
  const vi = (name: string, dims: number[]) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (d < 0 ? { dimParam: "batch" } : { dimValue: d })) } } },
  });
  const attr = (k: string, v: AttrValue) =>
    typeof v === "string" ? onnx.AttributeProto.create({ name: k, type: 3, s: new TextEncoder().encode(v) })
    : typeof v === "object" && !Array.isArray(v) ? onnx.AttributeProto.create({ name: k, type: 1, f: v.f })
      : Array.isArray(v) ? onnx.AttributeProto.create({ name: k, type: 7, ints: v }) : onnx.AttributeProto.create({ name: k, type: 2, i: v });
  const graph = onnx.GraphProto.create({
    name: "g",
    node: o.nodes.map((n, i) => onnx.NodeProto.create({
      name: n.name ?? `${n.op}_${i}`, opType: n.op, domain: n.domain ?? "", input: n.inputs, output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
    })),
    initializer: o.inits ?? [],
    input: (o.inputs ?? [o.input ?? ["x", [-1, 2, 4, 4]]]).map(([name, dims]) => vi(name, dims)),
    output: (o.outputs ?? [o.output ?? ["y", [-1, 2, 4, 4]]]).map(([name, dims]) => vi(name, dims)),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, graph,
    opsetImport: [{ domain: "", version: o.opset ?? 13 }, ...(o.domainOpsets ?? []).map(([domain, version]) => ({ domain, version }))],
  });
  return onnx.ModelProto.encode(model).finish();
}

export function intTensor(name: string, dims: number[], values: number[]): any {
  return onnx.TensorProto.create({ name, dims, dataType: 7, int64Data: values });
}
