// Compiler, import stage: ONNX protobuf bytes → Graph (ir/graph.ts). Validates what later stages rely
// on — opset, domains, tensor data, references, acyclicity — and refuses bad input with a CompileError.
// Models at opsets 1–10 are rewritten to their opset-11 forms (upgrade.ts), so the Graph's opset is
// always 11–21 and every node has the meaning its op has there. Must not interpret ops (that is the
// reference interpreter's job).
import onnxProto from "onnx-proto";
import { CompileError, fail } from "../errors.ts";
import type { Attr, Graph, Node, ValueInfo } from "../ir/graph.ts";
import { alloc, MAX_TENSOR_ELEMENTS, type Tensor } from "../ir/tensor.ts";
import { NEWEST_OPSET, OLDEST_OPSET, upgradeGraph } from "./upgrade.ts";

const { onnx } = onnxProto as unknown as { onnx: any };

/** Default-domain opsets accepted (below 11 upgraded at import). */
export const SUPPORTED_OPSETS = { min: OLDEST_OPSET, max: NEWEST_OPSET };
export const QONNX_DOMAINS = new Set(["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"]);

const num = (v: unknown): number => (typeof v === "number" ? v : v == null ? 0 : Number((v as { toString(): string }).toString()));

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decode a TensorProto into a Tensor (float types → float32, integer types → exact ints). */
export function decodeTensor(t: any, where: string): Tensor {
  const dims = (t.dims ?? []).map(num);
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length)) {
    fail(`tensor '${t.name}' uses external data, which mbn does not read: re-export with all data inside the .onnx file`, { node: where });
  }
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) fail(`tensor '${t.name}' has invalid dimension ${d}`, { node: where });
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) fail(`tensor '${t.name}' has ${n} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`, { node: where });
  const dt = num(t.dataType);
  const raw: Uint8Array | undefined = t.rawData && t.rawData.length ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const need = (bytes: number) => {
    if (raw && raw.length !== n * bytes) fail(`tensor '${t.name}' raw data has ${raw.length} bytes, expected ${n * bytes} for shape [${dims}]`, { node: where });
  };
  const fromList = (list: unknown[] | undefined, conv: (v: unknown) => number) => {
    const l = list ?? [];
    if (l.length !== n) fail(`tensor '${t.name}' has ${l.length} values, expected ${n} for shape [${dims}]`, { node: where });
    return l.map(conv);
  };
  switch (dt) {
    case 1: { // FLOAT
      const out = alloc("float", dims);
      if (view) { need(4); for (let i = 0; i < n; i++) out.data[i] = view.getFloat32(4 * i, true); }
      else out.data.set(fromList(t.floatData, Number));
      return out;
    }
    case 11: { // DOUBLE → float32
      const out = alloc("float", dims);
      if (view) { need(8); for (let i = 0; i < n; i++) out.data[i] = view.getFloat64(8 * i, true); }
      else out.data.set(fromList(t.doubleData, Number));
      return out;
    }
    case 10: { // FLOAT16 → float32
      const out = alloc("float", dims);
      if (view) { need(2); for (let i = 0; i < n; i++) out.data[i] = halfToFloat(view.getUint16(2 * i, true)); }
      else out.data.set(fromList(t.int32Data, (v) => halfToFloat(num(v))));
      return out;
    }
    case 2: case 3: case 4: case 5: case 6: case 7: case 12: case 13: { // integer types
      const out = alloc("int", dims);
      out.itype = dt;
      const bytes = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 12: 4, 13: 8 }[dt]!;
      if (view) {
        need(bytes);
        for (let i = 0; i < n; i++) {
          const o = bytes * i;
          out.data[i] = dt === 2 ? view.getUint8(o) : dt === 3 ? view.getInt8(o) : dt === 4 ? view.getUint16(o, true)
            : dt === 5 ? view.getInt16(o, true) : dt === 6 ? view.getInt32(o, true) : dt === 12 ? view.getUint32(o, true)
            : Number(dt === 7 ? view.getBigInt64(o, true) : view.getBigUint64(o, true));
        }
      } else {
        const list = dt === 7 ? t.int64Data : dt === 13 ? t.uint64Data : t.int32Data;
        out.data.set(fromList(list, num));
      }
      return out;
    }
    case 9: { // BOOL
      const out = alloc("bool", dims);
      if (raw) { need(1); out.data.set(raw); } else out.data.set(fromList(t.int32Data, (v) => (num(v) ? 1 : 0)));
      return out;
    }
    default:
      return fail(`tensor '${t.name}' has data type ${dt}, which mbn does not support`, { node: where });
  }
}

function decodeAttr(a: any, node: string, op: string): Attr {
  switch (a.type) {
    case "FLOAT": case 1: return a.f ?? 0;
    case "INT": case 2: return num(a.i);
    case "STRING": case 3: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case "TENSOR": case 4: return decodeTensor(a.t, node);
    case "FLOATS": case 6: return (a.floats ?? []).map(Number);
    case "INTS": case 7: return (a.ints ?? []).map(num);
    case "STRINGS": case 8: return (a.strings ?? []).map((s: Uint8Array) => new TextDecoder().decode(s));
    default: return fail(`attribute '${a.name}' has type ${a.type}, which mbn does not support`, { node, op });
  }
}

function valueInfo(v: any): ValueInfo {
  const dims = v?.type?.tensorType?.shape?.dim ?? [];
  return {
    name: v.name,
    elemType: v?.type?.tensorType?.elemType != null ? num(v.type.tensorType.elemType) : undefined,
    ...(v?.type?.tensorType?.shape ? {} : { shapeless: true as const }),
    shape: dims.map((d: any) => (d.dimParam ? String(d.dimParam) : d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : "?")),
  };
}

export function loadOnnx(bytes: Uint8Array, file = "<model>"): Graph {
  let model: any;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new CompileError(`not a valid ONNX model: malformed protobuf (${(e as Error).message.split("\n")[0]})`, { file });
  }
  const g = model.graph;
  if (!g || !g.node || g.node.length === 0) fail("not a valid ONNX model: it has no graph or no nodes", { file });
  let opset = -1;
  for (const o of model.opsetImport ?? []) {
    const d = o.domain ?? "";
    if (d === "" || d === "ai.onnx") opset = num(o.version);
  }
  if (opset < 0) fail("the model imports no default ONNX opset", { file });
  if (opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
    fail(`ONNX opset ${opset} is not supported (supported: ${SUPPORTED_OPSETS.min}–${SUPPORTED_OPSETS.max})`, { file });
  }
  const consts = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) consts.set(t.name, decodeTensor(t, `initializer ${t.name}`));
  const nodes: Node[] = g.node.map((n: any, i: number) => {
    const name = n.name || `${n.opType}_${i}`;
    const domain = n.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx" && !QONNX_DOMAINS.has(domain)) {
      fail(`operator domain '${domain}' is not supported (ONNX, or QONNX: ${[...QONNX_DOMAINS].join(", ")})`, { file, node: name, op: n.opType });
    }
    const attrs: Record<string, Attr> = {};
    for (const a of n.attribute ?? []) attrs[a.name] = decodeAttr(a, name, n.opType);
    return { name, op: n.opType, domain, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
  const inputs: ValueInfo[] = (g.input ?? []).filter((v: any) => !consts.has(v.name)).map(valueInfo);
  const outputs = (g.output ?? []).map(valueInfo);
  if (inputs.length < 1) fail("the model has no non-constant input", { file });
  if (outputs.length < 1) fail("the model declares no outputs", { file });
  const declaredRanks = new Map<string, number>();
  for (const v of [...(g.valueInfo ?? []), ...(g.output ?? []), ...(g.input ?? [])]) {
    const shape = v?.type?.tensorType?.shape;
    if (v?.name && shape) declaredRanks.set(v.name, (shape.dim ?? []).length);
  }
  const isDefaultDomain = (n: Node) => n.domain === "" || n.domain === "ai.onnx";
  const sorted = toposort(nodes, new Set([...consts.keys(), ...inputs.map((i) => i.name)]), file);
  const reserved = [...(g.input ?? []), ...(g.output ?? [])].map((v: any) => String(v.name));
  const up = upgradeGraph({ file, opset, nodes: sorted, consts, declaredRanks, reserved, isDefaultDomain });
  const graph: Graph = { file, opset: up.opset, inputs, outputs, consts, nodes: up.nodes };
  for (const o of outputs) {
    if (!graph.nodes.some((n) => n.outputs.includes(o.name)) && !consts.has(o.name) && !inputs.some((i) => i.name === o.name)) {
      fail(`graph output '${o.name}' is produced by no node`, { file });
    }
  }
  return graph;
}

/** Kahn's algorithm; reports cycles and references to tensors that nothing produces. */
function toposort(nodes: Node[], available: Set<string>, file: string): Node[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => {
    if (!o) return;
    if (producer.has(o) || available.has(o)) fail(`tensor '${o}' is produced more than once`, { file, node: n.name, op: n.op });
    producer.set(o, i);
  }));
  const indeg = nodes.map(() => 0);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const inp of n.inputs) {
      if (!inp || available.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) fail(`input '${inp}' is neither an initializer, a graph input nor any node's output`, { file, node: n.name, op: n.op });
      indeg[i]++;
      users[p].push(i);
    }
  });
  const ready = nodes.map((_, i) => i).filter((i) => indeg[i] === 0);
  const out: Node[] = [];
  while (ready.length) {
    const i = ready.shift()!;
    out.push(nodes[i]);
    for (const u of users[i]) if (--indeg[u] === 0) ready.push(u);
  }
  if (out.length !== nodes.length) {
    const stuck = nodes.find((_, i) => indeg[i] > 0)!;
    fail("the graph has a cycle", { file, node: stuck.name, op: stuck.op });
  }
  return out;
}
