// Conformance: an oracle for QONNX models that onnxruntime cannot load. Each QONNX quantizer node
// (Quant/IntQuant, BipolarQuant, Trunc in the qonnx/finn/brevitas domains) is rewritten into the
// standard ONNX ops its specification spells out (qonnx-custom-ops/*.md), and onnxruntime runs that:
//   Quant(x, s, z, b)      = (clip(round(x/s + z), lo, hi) − z)·s, lo/hi from b, signed, narrow
//                            (rounding_mode ROUND: ONNX Round, half to even; FLOOR; CEIL; ROUND_TO_ZERO)
//   BipolarQuant(x, s)     = where(x < 0, −1, 1)·s
//   Trunc(x, s, z, bi, bo) = (floor(x/s + z) ·2^(bo−bi) rounded down … ) — refused here (no test needs it)
// The expansion is written from the specification, independently of the compiler's elementwise
// programs (compiler/passes/elementwise.ts); a model at a default-domain opset below 11 is raised to
// 11 (Round and Clip's inputs) when its other ops mean the same there.
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: any };
const QONNX_DOMAINS = new Set(["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas", "finn"]);
/** Default-domain ops whose meaning does not change between opset 7 and 11 for the models here. */
const SAME_AT_11 = new Set(["Conv", "Relu", "Add", "Mul", "Sub", "Div", "BatchNormalization", "MaxPool", "AveragePool", "Reshape", "Flatten", "Gemm", "MatMul", "Transpose", "Sigmoid", "Tanh", "GlobalAveragePool", "Concat"]);

/** The rewritten model's bytes, or why there is none. */
export function expandQonnx(bytes: Uint8Array): { bytes: Uint8Array } | { unavailable: string } {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  if (!g.node.some((n: any) => QONNX_DOMAINS.has(n.domain))) return { unavailable: "no QONNX op to expand" };
  const inits = new Map<string, any>(g.initializer.map((t: any) => [t.name, t]));
  const scalar = (t: any): number | undefined => {
    if (!t) return undefined;
    const v = t.floatData?.length ? t.floatData : t.rawData?.length ? new Float32Array(new Uint8Array(t.rawData).slice().buffer) : undefined;
    return v && v.length === 1 ? Number(v[0]) : undefined;
  };
  const nodes: any[] = [];
  let k = 0;
  const name = (base: string) => `${base}__q${k++}`;
  const constant = (v: number) => {
    const n = name("c");
    g.initializer.push(onnx.TensorProto.create({ name: n, dims: [], dataType: 1, floatData: [v] }));
    return n;
  };
  const node = (op: string, inputs: string[], out?: string) => {
    const o = out ?? name(op);
    nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: [o], name: o }));
    return o;
  };
  const attr = (n: any, a: string, d: number | string) => {
    const at = n.attribute.find((x: any) => x.name === a);
    return at === undefined ? d : typeof d === "string" ? new TextDecoder().decode(at.s) : Number(at.i);
  };
  for (const n of g.node) {
    if (!QONNX_DOMAINS.has(n.domain)) {
      nodes.push(n);
      continue;
    }
    if (n.opType === "Quant" || n.opType === "IntQuant") {
      const [x, s, z, b] = n.input;
      const bits = scalar(inits.get(b));
      if (bits === undefined) return { unavailable: `${n.name}: Quant bit width is not a constant scalar` };
      const signed = attr(n, "signed", 1) === 1, narrow = attr(n, "narrow", 0) === 1;
      const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0, hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
      const mode = String(attr(n, "rounding_mode", "ROUND")).toUpperCase();
      const round = { ROUND: "Round", HALF_EVEN: "Round", FLOOR: "Floor", CEIL: "Ceil" }[mode];
      if (!round) return { unavailable: `${n.name}: rounding_mode ${mode} has no single ONNX op` };
      const v = node("Add", [node("Div", [x, s]), z]);
      const r = node(round, [v]);
      const q = node("Clip", [r, constant(lo), constant(hi)]);
      node("Mul", [node("Sub", [q, z]), s], n.output[0]);
    } else if (n.opType === "BipolarQuant") {
      const [x, s] = n.input;
      node("Mul", [node("Where", [node("Less", [x, constant(0)]), constant(-1), constant(1)]), s], n.output[0]);
    } else return { unavailable: `${n.name}: QONNX op ${n.opType} has no expansion here` };
  }
  g.node = nodes;
  const std = m.opsetImport.find((o: any) => !o.domain || o.domain === "ai.onnx");
  if (!std) return { unavailable: "no default-domain opset" };
  if (Number(std.version) < 11) {
    const other = nodes.filter((n: any) => (!n.domain || n.domain === "ai.onnx") && !SAME_AT_11.has(n.opType) && !["Clip", "Round", "Floor", "Ceil", "Where", "Less"].includes(n.opType));
    if (other.length) return { unavailable: `opset ${std.version} model with ${other[0].opType}, which may mean something else at 11` };
    std.version = 11;
  }
  m.opsetImport = m.opsetImport.filter((o: any) => !QONNX_DOMAINS.has(o.domain));
  return { bytes: onnx.ModelProto.encode(m).finish() };
}
