// Differential fuzzing, part 1: a seeded generator of random *valid* ONNX models over the op set mbn
// claims to support (in the manner of NNSmith, ASPLOS '23: grow the graph op by op while tracking
// shapes, so onnxruntime accepts every model). A model is a Recipe — input spec + a list of steps,
// plain JSON — and build() replays it. Every step adapts to the shape it meets (kernels shrink to
// fit, a 4-D-only step on a 2-D tensor is skipped), so the shrinker can delete steps or lower any
// parameter and still get a valid model. Constants come from each step's own seed. Values are kept
// off exact quantizer thresholds (see Val and quantizer()), where float32 summation order alone
// decides and no oracle could call either side wrong.
//
// Version 3 adds self-attention over a map's tokens (MatMul of two activations, MatMul by a constant
// that is not a dense layer). Version 2 added the ops mbn gained: Concat of channels (DenseNet: the tensor and 1–2 branches from
// it; Inception: the branches alone; fastai's [max, avg] pool; flattened maps of different sizes as
// rows; a few along another axis, refused), GlobalMaxPool, Transpose (NHWC inputs, Keras heads
// [0,2,3,1] → Flatten → Gemm, random perms keeping the batch first, rank-3 tokens), Softmax /
// LogSoftmax (at the end; opsets 11/12 with the 2-D coercion; the channels of a map), Sum residuals,
// and binary / multi-bit dense layers behind quantizers (rows and XNOR heads over flattened maps).
import onnxProto from "onnx-proto";
import { rng } from "../../harness/rng.ts";

const { onnx } = onnxProto as unknown as { onnx: any };

/** Bump when a seed would generate another model: the nightly log resumes only cases of this version. */
export const GENERATOR_VERSION = 3;

/**
 * rank 4: x is [N, c, h, w]; rank 2: x is [N, c]. batch "dyn" = a dim_param batch axis. nhwc: a
 * Keras-style rank-4 input declared [N, h, w, c] (the generator then starts with Transpose [0,3,1,2]).
 */
export interface InputSpec { rank: 2 | 4; batch: number | "dyn"; c: number; h: number; w: number; opset: number; nhwc?: boolean }
export type Param = number | string | boolean | number[];
export interface Step { op: string; seed: number; [param: string]: Param }
export interface Recipe { seed: number; input: InputSpec; steps: Step[] }
/** tags: what the applied steps built, for coverage counts (e.g. "concat-map", "softmax-coerced", "sum-residual"). */
export interface Built { bytes: Uint8Array; ops: string[]; tags: string[]; inputShape: (number | string)[]; outputShape: (number | string)[]; applied: number }

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1)); // inclusive
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const uni = (r: Rand, lo: number, hi: number) => lo + (hi - lo) * r();
const chance = (r: Rand, p: number) => r() < p;
/** Small values more often: sizes skew towards 1…4. */
const skewed = (r: Rand, lo: number, hi: number) => lo + Math.floor((hi - lo + 1) * r() * r());
const clampInt = (v: Param | undefined, lo: number, hi: number, dflt: number) => {
  const n = typeof v === "number" && Number.isFinite(v) ? Math.round(v) : dflt;
  return Math.max(lo, Math.min(hi, n));
};
/** A dyadic rational (multiple of 2^-8): sums of such weights are exact in float32. */
const dyadic = (v: number) => Math.max(1 / 256, Math.round(v * 256) / 256);

// ------------------------------------------------------------------------------- ONNX assembly

/**
 * A tensor: shape without the batch axis, and what its values are.
 *   quantOut  it is a quantizer's output (a conv reading it can be a BitConv)
 *   qview     it is a quantizer's output or a Flatten/Reshape view of one (a dense layer reading it can be a BitConv)
 *   discrete  it is computed from quantizer outputs alone: its values come from a finite set and
 *             repeat across pixels, so sums over it can cancel exactly (v − v = 0)
 *   sums      it is a sum over discrete values with no offset after it: its exact value can sit on a
 *             quantizer threshold while float32 lands an ulp to either side, by summation order alone
 *             (quantizer() moves such values off the thresholds)
 */
interface Val { name: string; shape: number[]; quantOut: boolean; qview?: boolean; discrete: boolean; sums: boolean }
/** How an op changes what the values are (see Val): a quantizer, a sum (conv, pool, dense without
 *  bias), an elementwise op, or a per-channel offset (bias, BatchNorm, Add/Sub of a constant). */
type Flow = "quant" | "sum" | "keep" | "offset";

/** The input's dims after the batch axis, as declared. */
const inputDims = (i: InputSpec) => (i.rank === 4 ? (i.nhwc ? [i.h, i.w, i.c] : [i.c, i.h, i.w]) : [i.c]);

class Builder {
  nodes: any[] = [];
  inits: any[] = [];
  ops: string[] = [];
  tags: string[] = [];
  cur: Val;
  stack: Val[] = [];
  applied = 0;
  private n = 0;

  constructor(readonly input: InputSpec) {
    this.cur = { name: "x", shape: inputDims(input), quantOut: false, discrete: false, sums: false };
  }

  fresh(p: string) {
    return `${p}${this.n++}`;
  }

  node(op: string, inputs: string[], attrs: Record<string, number | number[] | { f: number }> = {}): string {
    const out = this.fresh("t");
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? onnx.AttributeProto.create({ name, type: 7, ints: v })
      : typeof v === "object" ? onnx.AttributeProto.create({ name, type: 1, f: v.f })
      : onnx.AttributeProto.create({ name, type: 2, i: v }));
    this.nodes.push(onnx.NodeProto.create({ name: `${op}_${this.nodes.length}`, opType: op, domain: "", input: inputs, output: [out], attribute }));
    this.ops.push(op);
    return out;
  }

  floats(dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh("p");
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: 1, floatData: Array.from(Float32Array.from(values)) }));
    return name;
  }

  ints64(dims: number[], values: number[]): string {
    const name = this.fresh("p");
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: 7, int64Data: values }));
    return name;
  }

  /** uint8 (dataType 2) or int8 (3) — stored in int32_data as ONNX prescribes. */
  bytes8(dims: number[], values: number[], signed: boolean): string {
    const name = this.fresh("p");
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: signed ? 3 : 2, int32Data: values }));
    return name;
  }

  set(name: string, shape: number[], flow: Flow) {
    const { discrete, sums } = this.cur;
    this.cur = { name, shape, quantOut: flow === "quant", qview: flow === "quant", discrete: discrete || flow === "quant", sums: flow === "sum" ? discrete : flow === "keep" && sums };
  }

  batchDim() {
    return this.input.batch === "dyn" ? { dimParam: "N" } : { dimValue: this.input.batch };
  }

  finish(): Built {
    const vi = (name: string, shape: number[]) => onnx.ValueInfoProto.create({
      name, type: { tensorType: { elemType: 1, shape: { dim: [this.batchDim(), ...shape.map((d) => ({ dimValue: d }))] } } },
    });
    // the graph output must be a node output: an empty graph gets an Identity
    if (this.cur.name === "x") this.set(this.node("Identity", ["x"]), this.cur.shape, "keep");
    const out = this.cur.name;
    const graph = onnx.GraphProto.create({
      name: "differential", node: this.nodes, initializer: this.inits,
      input: [vi("x", inputDims(this.input))], output: [vi(out, this.cur.shape)],
    });
    const model = onnx.ModelProto.create({ irVersion: 8, producerName: "mbn-graphgen", graph, opsetImport: [{ domain: "", version: this.input.opset }] });
    const b = this.input.batch === "dyn" ? "N" : this.input.batch;
    const inputShape = [b, ...inputDims(this.input)];
    return { bytes: onnx.ModelProto.encode(model).finish(), ops: this.ops, tags: this.tags, inputShape, outputShape: [b, ...this.cur.shape], applied: this.applied };
  }
}

/** Per-channel constant shaped to broadcast along axis 1 of the current tensor (or a scalar). */
function channelConst(b: Builder, values: number[], form: string): string {
  const C = b.cur.shape[0], rank = b.cur.shape.length + 1;
  if (form === "scalar" || values.length === 1) return b.floats([], [values[0]]);
  if (rank === 4) return b.floats(form === "c11" ? [C, 1, 1] : [1, C, 1, 1], values);
  return b.floats(form === "c11" ? [C] : [1, C], values);
}

// ----------------------------------------------------------------------------------- the steps

type Apply = (b: Builder, s: Step, r: Rand) => boolean; // false = skipped (does not fit here)

const is4d = (b: Builder) => b.cur.shape.length === 3;

/**
 * Conv 2-D. weights: float | binary (±α per output channel) | multibit (Σ of M binary bases) | kbit
 * (fixed point). Rarely grouped (group divides C and cout) or dilated: mbn may refuse those, cleanly.
 */
const conv: Apply = (b, s, r) => {
  if (!is4d(b)) return false;
  const [C, H, W] = b.cur.shape;
  const cout = clampInt(s.cout, 1, 20, 4), stride = clampInt(s.stride, 1, 2, 1);
  const g = C % clampInt(s.group, 1, 20, 1) === 0 && cout % clampInt(s.group, 1, 20, 1) === 0 ? clampInt(s.group, 1, 20, 1) : 1;
  const d = clampInt(s.dilation, 1, 2, 1);
  let k = [1, 3, 5].includes(s.k as number) ? (s.k as number) : 1;
  const span = () => d * (k - 1) + 1;
  const pads = () => (Array.isArray(s.pads) ? s.pads : [0, 0, 0, 0]).map((p) => clampInt(p, 0, k - 1, 0)); // t l b r
  let p = pads();
  while (k > 1 && (H + p[0] + p[2] < span() || W + p[1] + p[3] < span())) {
    k -= 2;
    p = pads();
  }
  const fan = (C / g) * k * k, scale = 1 / Math.sqrt(fan);
  const w = new Float32Array(cout * fan);
  const kind = String(s.weights);
  for (let o = 0; o < cout; o++) {
    const row = w.subarray(o * fan, (o + 1) * fan);
    if (kind === "binary") {
      const a = dyadic(uni(r, 0.5, 1.5) * scale);
      for (let i = 0; i < fan; i++) row[i] = chance(r, 0.5) ? a : -a;
    } else if (kind === "multibit") {
      const M = clampInt(s.m, 1, 3, 2);
      const alphas = Array.from({ length: M }, (_, m) => dyadic(uni(r, 0.5, 1.5) * scale * 2 ** -m));
      for (let i = 0; i < fan; i++) row[i] = alphas.reduce((acc, a) => acc + (chance(r, 0.5) ? a : -a), 0);
    } else if (kind === "kbit") {
      const L = 2 ** clampInt(s.m, 1, 3, 2) - 1, a = dyadic(scale * 1.5);
      for (let i = 0; i < fan; i++) row[i] = a * ((2 * int(r, 0, L)) / L - 1);
    } else for (let i = 0; i < fan; i++) row[i] = uni(r, -1.7, 1.7) * scale;
  }
  const ins = [b.cur.name, b.floats([cout, C / g, k, k], w)];
  if (s.bias) ins.push(b.floats([cout], Array.from({ length: cout }, () => uni(r, -0.3, 0.3))));
  const oh = Math.floor((H + p[0] + p[2] - span()) / stride) + 1, ow = Math.floor((W + p[1] + p[3] - span()) / stride) + 1;
  const attrs: Record<string, number[] | number> = { kernel_shape: [k, k], strides: [stride, stride], pads: [p[0], p[1], p[2], p[3]] };
  if (g > 1) attrs.group = g;
  if (d > 1) attrs.dilations = [d, d];
  b.set(b.node("Conv", ins, attrs), [cout, oh, ow], s.bias ? "offset" : "sum");
  return true;
};

const batchnorm: Apply = (b, s, r) => {
  const C = b.cur.shape[0];
  const v = (lo: number, hi: number) => Array.from({ length: C }, () => uni(r, lo, hi));
  const scale = v(0.5, 1.5).map((x) => (chance(r, 0.2) ? -x : x));
  const ins = [b.cur.name, b.floats([C], scale), b.floats([C], v(-0.5, 0.5)), b.floats([C], v(-0.5, 0.5)), b.floats([C], v(0.5, 2))];
  b.set(b.node("BatchNormalization", ins, { epsilon: { f: 1e-5 } }), b.cur.shape, "offset");
  return true;
};

/** Relu / Clip / LeakyRelu / Sigmoid / Tanh. */
const activation: Apply = (b, s) => {
  const kind = String(s.kind);
  let out: string;
  if (kind === "clip") {
    const lo = typeof s.lo === "number" ? s.lo : 0, hi = typeof s.hi === "number" ? Math.max(lo + 0.25, s.hi) : 1;
    out = b.node("Clip", [b.cur.name, b.floats([], [lo]), b.floats([], [hi])]);
  } else if (kind === "leakyrelu") out = b.node("LeakyRelu", [b.cur.name], { alpha: { f: typeof s.alpha === "number" ? s.alpha : 0.1 } });
  else if (kind === "sigmoid") out = b.node("Sigmoid", [b.cur.name]);
  else if (kind === "tanh") out = b.node("Tanh", [b.cur.name]);
  else if (kind === "silu") out = b.node("Mul", [b.cur.name, b.node("Sigmoid", [b.cur.name])]); // x·sigmoid(x)
  else out = b.node("Relu", [b.cur.name]);
  b.set(out, b.cur.shape, "keep");
  return true;
};

/** Quantizers: sign | rsign (Sign(x − b_c)) | dorefa k-bit | qdq (QuantizeLinear → DequantizeLinear, per tensor or per axis). */
const quantizer: Apply = (b, s, r) => {
  const kind = String(s.kind), shape = b.cur.shape, C = shape[0];
  // Sums of discrete values (e.g. a bias-free binary conv over Sign outputs) hit thresholds exactly
  // (0 for Sign, (j + ½)/n for DoReFa) all the time; whether float32 lands on, above or below is
  // summation order alone — a tie no oracle can judge. A per-channel offset with a full float32
  // mantissa (as a trained BatchNorm or bias would give) moves the values off the thresholds.
  if (b.cur.sums) {
    const shift = Array.from({ length: C }, () => uni(r, 0.05, 0.3) * (chance(r, 0.5) ? -1 : 1));
    b.set(b.node("Add", [b.cur.name, channelConst(b, shift, "c11")]), shape, "offset");
  }
  let out: string;
  if (kind === "rsign") {
    const shift = b.node("Sub", [b.cur.name, channelConst(b, Array.from({ length: C }, () => uni(r, -0.3, 0.3)), "c11")]);
    out = b.node("Sign", [shift]);
  } else if (kind === "dorefa") {
    // round(clip(x, 0, 1)·(2^k − 1)) / (2^k − 1)
    const n = 2 ** clampInt(s.bits, 1, 4, 2) - 1;
    const c = b.node("Clip", [b.cur.name, b.floats([], [0]), b.floats([], [1])]);
    out = b.node("Div", [b.node("Round", [b.node("Mul", [c, b.floats([], [n])])]), b.floats([], [n])]);
  } else if (kind === "qdq") {
    const signed = !!s.signed, perAxis = !!s.perAxis && C > 1 && b.input.opset >= 13; // QuantizeLinear-10 has no axis
    const scales = Array.from({ length: perAxis ? C : 1 }, () => uni(r, 0.004, 0.04));
    const zps = scales.map(() => (signed ? int(r, -8, 8) : int(r, 100, 156)));
    const dims = perAxis ? [C] : [];
    const sc = b.floats(dims, scales), zp = b.bytes8(dims, zps, signed);
    const attrs: Record<string, number> = perAxis ? { axis: 1 } : {};
    out = b.node("DequantizeLinear", [b.node("QuantizeLinear", [b.cur.name, sc, zp], attrs), sc, zp], attrs);
  } else out = b.node("Sign", [b.cur.name]);
  b.set(out, shape, "quant");
  return true;
};

const pool: Apply = (b, s) => {
  if (!is4d(b)) return false;
  const [C, H, W] = b.cur.shape;
  let k = clampInt(s.k, 1, 3, 2);
  const stride = clampInt(s.stride, 1, 2, 1);
  const pads = () => (Array.isArray(s.pads) ? s.pads : [0, 0, 0, 0]).map((p) => clampInt(p, 0, k - 1, 0));
  let p = pads();
  while (k > 1 && (H + p[0] + p[2] < k || W + p[1] + p[3] < k)) {
    k--;
    p = pads();
  }
  // ceil_mode as onnxruntime computes it (no PyTorch-style dropping of the last window); kept only
  // when that last window still covers an input element — a window of padding alone has no defined value
  const dim = (n: number, a: number, z: number, c: boolean) => (c ? Math.ceil : Math.floor)((n + a + z - k) / stride) + 1;
  const inside = (n: number, a: number, z: number) => (dim(n, a, z, true) - 1) * stride < n + a;
  const ceil = s.ceil && inside(H, p[0], p[2]) && inside(W, p[1], p[3]) ? 1 : 0;
  const attrs: Record<string, number | number[]> = { kernel_shape: [k, k], strides: [stride, stride], pads: p, ceil_mode: ceil };
  const avg = s.kind === "avg";
  if (avg) attrs.count_include_pad = s.countIncludePad ? 1 : 0;
  b.set(b.node(avg ? "AveragePool" : "MaxPool", [b.cur.name], attrs), [C, dim(H, p[0], p[2], !!ceil), dim(W, p[1], p[3], !!ceil)], avg ? "sum" : "keep");
  return true;
};

/** GlobalAveragePool, or GlobalMaxPool with kind "max". */
const globalAvgPool: Apply = (b, s) => {
  if (!is4d(b)) return false;
  const max = s.kind === "max";
  b.set(b.node(max ? "GlobalMaxPool" : "GlobalAveragePool", [b.cur.name]), [b.cur.shape[0], 1, 1], max ? "keep" : "sum");
  return true;
};

/**
 * Flatten (axis 1) or Reshape to [N, C·H·W] (shape [0, −1], [N, −1] or [−1, F]); "unflatten": 2-D
 * [N, F] → [N, F, 1, 1] / [N, 1, F, 1] / [N, 1, 1, F]; "reshape4d": [N, C, H, W] → another 4-D
 * shape of the same size (the same values re-read: channels and pixels trade places).
 */
const flatten: Apply = (b, s) => {
  const F = b.cur.shape.reduce((p, d) => p * d, 1), qview = !!b.cur.qview;
  const form = String(s.form), variant = clampInt(s.variant, 0, 4, 0);
  if (form === "unflatten") {
    if (is4d(b)) return false;
    const to = [[F, 1, 1], [1, F, 1], [1, 1, F]][variant % 3];
    b.set(b.node("Reshape", [b.cur.name, b.ints64([4], [0, ...to])]), to, "keep");
    b.cur.qview = qview;
    return true;
  }
  if (form === "reshape4d") {
    if (!is4d(b)) return false;
    const [C, H, W] = b.cur.shape;
    const to = [[H, C, W], [C * H, W, 1], [C, W, H], [1, C * H, W], [F, 1, 1]][variant];
    b.set(b.node("Reshape", [b.cur.name, b.ints64([4], [0, ...to])]), to, "keep");
    b.cur.qview = qview;
    return true;
  }
  let out: string;
  if (form === "flatten") out = b.node("Flatten", [b.cur.name], { axis: 1 });
  else {
    const target = form === "zero" ? [0, -1] : form === "batch" && b.input.batch !== "dyn" ? [b.input.batch, -1] : [-1, F];
    out = b.node("Reshape", [b.cur.name, b.ints64([2], target)]);
  }
  b.set(out, [F], "keep");
  b.cur.qview = qview;
  return true;
};

/**
 * Gemm (transB, alpha, beta, bias [O] or [1]) or MatMul by a constant [F, O]. weights: float |
 * binary (±α, per output or, with perLayer, one α) | multibit (Σ of M binary bases) | kbit (fixed
 * point): behind a quantizer, the binary kinds run packed (a BitConv over the [1, F] row or over the
 * flattened map in front of Flatten/Reshape).
 */
const dense: Apply = (b, s, r) => {
  if (is4d(b)) return false;
  const F = b.cur.shape[0], O = clampInt(s.cout, 1, 16, 4), scale = 1 / Math.sqrt(F);
  const kind = String(s.weights ?? "float"), transB = s.kind !== "matmul" && !!s.transB;
  let w: number[];
  if (kind === "float") w = Array.from({ length: F * O }, () => uni(r, -1.7, 1.7) * scale); // read as [F, O] or [O, F]
  else {
    const M = kind === "binary" ? 1 : clampInt(s.m, 1, 3, 2);
    const alphasOf = () => Array.from({ length: M }, (_, m) => dyadic(uni(r, 0.5, 1.5) * scale * 2 ** -m));
    const layer = alphasOf();
    const wo: number[][] = []; // [O][F]
    for (let o = 0; o < O; o++) {
      const alphas = s.perLayer ? layer : alphasOf();
      if (kind === "kbit") {
        const L = 2 ** M - 1;
        wo.push(Array.from({ length: F }, () => alphas[0] * 1.5 * ((2 * int(r, 0, L)) / L - 1)));
      } else wo.push(Array.from({ length: F }, () => alphas.reduce((acc, a) => acc + (chance(r, 0.5) ? a : -a), 0)));
    }
    w = transB ? wo.flat() : Array.from({ length: F * O }, (_, i) => wo[i % O][Math.floor(i / O)]);
  }
  // binary weights right behind a quantizer (through Flatten/Reshape views): mbn should run it packed
  if (kind !== "float") b.tags.push("dense-binary-weights", ...(b.cur.qview ? ["dense-binary-behind-quantizer"] : []));
  if (s.kind === "matmul") {
    b.set(b.node("MatMul", [b.cur.name, b.floats([F, O], w)]), [O], "sum");
    return true;
  }
  const ins = [b.cur.name, b.floats(transB ? [O, F] : [F, O], w)];
  if (s.bias === "full") ins.push(b.floats([O], Array.from({ length: O }, () => uni(r, -0.3, 0.3))));
  else if (s.bias === "scalar") ins.push(b.floats([1], [uni(r, -0.3, 0.3)]));
  const attrs: Record<string, number | { f: number }> = { transB: transB ? 1 : 0 };
  if (typeof s.alpha === "number" && s.alpha !== 1) attrs.alpha = { f: s.alpha };
  if (typeof s.beta === "number" && s.beta !== 1) attrs.beta = { f: s.beta };
  b.set(b.node("Gemm", ins, attrs), [O], ins.length > 2 ? "offset" : "sum");
  return true;
};

/** Add / Sub / Mul / Div by a per-channel (or scalar) constant, either operand order (not c / x). */
const constOp: Apply = (b, s, r) => {
  const C = b.cur.shape[0], kind = String(s.kind);
  const op = ({ add: "Add", sub: "Sub", mul: "Mul", div: "Div" } as Record<string, string>)[kind] ?? "Mul";
  const form = C === 1 ? "scalar" : String(s.form);
  const values = Array.from({ length: form === "scalar" ? 1 : C }, () =>
    op === "Add" || op === "Sub" ? uni(r, -0.5, 0.5) : uni(r, 0.5, 2) * (chance(r, 0.25) ? -1 : 1));
  const k = channelConst(b, values, form);
  const constFirst = !!s.constFirst && op !== "Div";
  b.set(b.node(op, constFirst ? [k, b.cur.name] : [b.cur.name, k]), b.cur.shape, op === "Mul" || op === "Div" ? "keep" : "offset");
  return true;
};

const fork: Apply = (b) => {
  b.stack.push(b.cur);
  return true;
};

/**
 * Residual Add of the current tensor and the one saved by the matching fork (skipped if shapes
 * differ); kind "sum": the same as Sum (caffe2 ResNets); "sum3": Sum of three (the skip twice).
 */
const join: Apply = (b, s) => {
  const skip = b.stack.pop();
  if (!skip || skip.name === b.cur.name || skip.shape.join() !== b.cur.shape.join()) return false;
  // two branches of quantizer-derived values can cancel exactly too: treat their sum as a sum
  const both = { discrete: skip.discrete && b.cur.discrete, sums: skip.sums || b.cur.sums || (skip.discrete && b.cur.discrete) };
  const ins = s.swap ? [skip.name, b.cur.name] : [b.cur.name, skip.name];
  const op = s.kind === "sum" || s.kind === "sum3" ? "Sum" : "Add";
  b.set(b.node(op, s.kind === "sum3" ? [...ins, skip.name] : ins), b.cur.shape, "keep");
  if (op === "Sum") b.tags.push(s.kind === "sum3" ? "sum-3" : "sum-residual");
  Object.assign(b.cur, both);
  return true;
};

/**
 * Start another branch from the tensor the enclosing fork saved: the current tensor (the previous
 * branch's end) is saved too, and the fork point becomes current again. Skipped without a fork.
 */
const branch: Apply = (b) => {
  const from = b.stack[b.stack.length - 1];
  if (!from) return false;
  b.stack.push(b.cur);
  b.cur = from;
  return true;
};

/**
 * Concat of the n − 1 tensors saved by fork/branch and the current one (in that order, or the
 * current one first with swap), along `axis` (default 1; −3 on a map and −1 on a row spell 1 too,
 * anything else mbn refuses). dropBase: the fork point is popped too but not concatenated (an
 * Inception module: the branches alone). Skipped when the stack is short or the other axes differ
 * — it pops its values anyway, so replay stays aligned.
 */
const concat: Apply = (b, s) => {
  const n = clampInt(s.n, 2, 3, 2);
  const parts: Val[] = [];
  for (let i = 0; i < n - 1; i++) {
    const v = b.stack.pop();
    if (v) parts.unshift(v);
  }
  const base = s.dropBase ? b.stack.pop() : undefined;
  if (parts.length !== n - 1 || (s.dropBase && !base)) return false;
  if (s.swap) parts.unshift(b.cur);
  else parts.push(b.cur);
  const r = b.cur.shape.length + 1, raw = typeof s.axis === "number" ? Math.round(s.axis) : 1, axis = raw < 0 ? raw + r : raw;
  if (axis < 1 || axis >= r) return false; // never the batch axis
  const a = axis - 1;
  if (parts.some((p) => p.shape.length !== r - 1 || p.shape.some((d, i) => i !== a && d !== b.cur.shape[i]))) return false;
  const shape = b.cur.shape.map((d, i) => (i === a ? parts.reduce((t, p) => t + p.shape[a], 0) : d));
  const flags = {
    quantOut: parts.every((p) => p.quantOut), discrete: parts.every((p) => p.discrete), sums: parts.some((p) => p.sums),
  };
  b.tags.push(axis !== 1 ? "concat-other-axis" : r === 4 ? "concat-map" : "concat-row", ...(n === 3 ? ["concat-3"] : []), ...(base ? ["concat-branches"] : []));
  b.set(b.node("Concat", parts.map((p) => p.name), { axis: raw }), shape, "keep");
  Object.assign(b.cur, flags);
  return true;
};

/**
 * A map as tokens (rank 3, as vision transformers and attention blocks spell it): [N, C, H, W] →
 * Reshape [N, C, H·W] → Transpose [0, 2, 1] → [N, H·W, C], optionally Softmax over the channels of
 * each token (axis −1, or 2), then back: "flat" Flatten → [N, H·W·C]; "map" Transpose [0, 2, 1] and
 * Reshape to [N, C, H, W]; "hwc" Reshape to [N, H, W, C] (a channels-last map, read as NCHW after).
 */
const tokens: Apply = (b, s) => {
  if (!is4d(b)) return false;
  const [C, H, W] = b.cur.shape, P = H * W;
  const { quantOut, discrete, sums } = b.cur;
  const t = b.node("Transpose", [b.node("Reshape", [b.cur.name, b.ints64([3], [0, C, P])])], { perm: [0, 2, 1] });
  const sm = s.softmax ? b.node(s.softmax === "log" ? "LogSoftmax" : "Softmax", [t], { axis: s.axis === 1 || s.axis === 2 ? s.axis : -1 }) : t;
  const back = String(s.back);
  b.tags.push("transpose-rank3");
  if (back === "map") b.set(b.node("Reshape", [b.node("Transpose", [sm], { perm: [0, 2, 1] }), b.ints64([4], [0, C, H, W])]), [C, H, W], "keep");
  else if (back === "hwc") b.set(b.node("Reshape", [sm, b.ints64([4], [0, H, W, C])]), [H, W, C], "keep");
  else b.set(b.node("Flatten", [sm], { axis: 1 }), [P * C], "keep");
  if (!s.softmax) Object.assign(b.cur, { quantOut, discrete, sums });
  return true;
};

/**
 * Self-attention over a map's tokens (vision transformers; version 3): [N, C, H, W] → tokens X [N, P, C]
 * (Reshape, Transpose) → Q, K, V = X·W (MatMul by constants [C, d]) → S = Q·Kᵀ/√d (a MatMul of two
 * activations, Kᵀ by Transpose [0, 2, 1]) → Softmax over the last axis → S·V [N, P, d] → a map
 * [N, d, H, W] again (Transpose, Reshape). Maps of at most 64 pixels.
 */
const attention: Apply = (b, s, r) => {
  if (!is4d(b)) return false;
  const [C, H, W] = b.cur.shape, P = H * W, d = clampInt(s.d, 1, 16, 4);
  if (P > 64) return false;
  const X = b.node("Transpose", [b.node("Reshape", [b.cur.name, b.ints64([3], [0, C, P])])], { perm: [0, 2, 1] });
  const proj = () => b.node("MatMul", [X, b.floats([C, d], Array.from({ length: C * d }, () => uni(r, -1, 1) / Math.sqrt(C)))]);
  const Q = proj(), K = proj(), V = proj();
  const S = b.node("Mul", [b.node("MatMul", [Q, b.node("Transpose", [K], { perm: [0, 2, 1] })]), b.floats([], [1 / Math.sqrt(d)])]);
  const O = b.node("MatMul", [b.node("Softmax", [S], { axis: -1 }), V]);
  b.tags.push("attention");
  b.set(b.node("Reshape", [b.node("Transpose", [O], { perm: [0, 2, 1] }), b.ints64([4], [0, d, H, W])]), [d, H, W], "sum");
  return true;
};

/** Transpose by `perm` (a permutation of the axes that keeps axis 0, the batch, first; else skipped). */
const transpose: Apply = (b, s) => {
  const r = b.cur.shape.length + 1, perm = Array.isArray(s.perm) ? s.perm : [];
  if (perm.length !== r || perm[0] !== 0 || [...perm].sort().some((p, i) => p !== i)) return false;
  const { quantOut, discrete, sums } = b.cur;
  b.tags.push(perm.join() === "0,3,1,2" && b.input.nhwc && b.ops.length === 0 ? "transpose-nhwc-input" : perm.join() === "0,2,3,1" ? "transpose-to-nhwc" : "transpose-other");
  b.set(b.node("Transpose", [b.cur.name], { perm }), perm.slice(1).map((p) => b.cur.shape[p - 1]), "keep");
  Object.assign(b.cur, { quantOut, discrete, sums });
  return true;
};

/**
 * Softmax / LogSoftmax (kind "log"), with attribute axis, or none (axis "none": −1 from opset 13,
 * 1 — the 2-D coercion [N, rest] — before). The batch axis is never the one reduced.
 */
const softmax: Apply = (b, s) => {
  const r = b.cur.shape.length + 1;
  const attrs: Record<string, number> = {};
  if (typeof s.axis === "number") {
    const axis = s.axis < 0 ? s.axis + r : s.axis;
    if (axis < 1 || axis >= r) return false;
    attrs.axis = s.axis;
  }
  const axis = typeof s.axis === "number" ? (s.axis < 0 ? s.axis + r : s.axis) : b.input.opset >= 13 ? r - 1 : 1;
  b.tags.push(b.input.opset < 13 ? "softmax-coerced" : axis === r - 1 ? "softmax-last" : axis === 1 ? "softmax-channels" : "softmax-other");
  b.set(b.node(s.kind === "log" ? "LogSoftmax" : "Softmax", [b.cur.name], attrs), b.cur.shape, "keep");
  return true;
};

export const STEPS: Record<string, Apply> = { conv, batchnorm, activation, quantizer, pool, globalAvgPool, flatten, dense, constOp, fork, join, branch, concat, transpose, tokens, attention, softmax };

/** Replay a recipe into an ONNX model. */
export function build(recipe: Recipe): Built {
  const b = new Builder(recipe.input);
  for (const s of recipe.steps) if (STEPS[s.op]?.(b, s, rng(s.seed))) b.applied++;
  return b.finish();
}

// -------------------------------------------------------------------------------- the generator

function genInput(r: Rand): InputSpec {
  const rank = chance(r, 0.78) ? 4 : 2;
  const batch = chance(r, 0.45) ? "dyn" : pick(r, [1, 1, 2, 3]);
  const c = rank === 4 ? 1 + skewed(r, 0, 19) : 1 + skewed(r, 0, 47);
  // a quarter at opsets 11/12 (Softmax's 2-D coercion, QuantizeLinear without axis)
  const spec: InputSpec = { rank, batch, c, h: rank === 4 ? int(r, 1, 12) : 1, w: rank === 4 ? int(r, 1, 12) : 1, opset: pick(r, [11, 12, 13, 13, 13, 13, 17, 17]) };
  if (rank === 4 && chance(r, 0.12)) spec.nhwc = true;
  return spec;
}

const actStep = (r: Rand, seed: number): Step => {
  const kind = pick(r, ["relu", "relu", "clip", "leakyrelu", "sigmoid", "tanh", "silu"]);
  const s: Step = { op: "activation", seed, kind };
  if (kind === "clip") [s.lo, s.hi] = pick(r, [[0, 1], [-1, 1], [0, 6], [-0.5, 0.25]]);
  if (kind === "leakyrelu") s.alpha = pick(r, [0.01, 0.1, 0.25]);
  return s;
};
const quantStep = (r: Rand, seed: number): Step => {
  const kind = pick(r, ["sign", "sign", "rsign", "dorefa", "dorefa", "qdq"]);
  return { op: "quantizer", seed, kind, bits: int(r, 1, 4), signed: chance(r, 0.5), perAxis: chance(r, 0.4) };
};
/** keep "shape": same channels and size (a residual branch); "spatial": same size, any channels (a concat branch). */
const convStep = (r: Rand, seed: number, C: number, weights: string, keep: false | "shape" | "spatial" = false): Step => {
  const k = pick(r, [1, 3, 3, 5]);
  const half = (k - 1) / 2;
  const pads = keep ? [half, half, half, half]
    : chance(r, 0.5) ? [half, half, half, half] : [0, 0, 0, 0].map(() => int(r, 0, k - 1));
  const s: Step = { op: "conv", seed, cout: keep === "shape" ? C : 1 + skewed(r, 0, 19), k, stride: keep ? 1 : pick(r, [1, 1, 2]), pads, bias: chance(r, 0.5), weights, m: int(r, 1, 3) };
  if (!keep && chance(r, 0.03)) s.dilation = 2;
  if (!keep && chance(r, 0.03)) [s.group, s.cout] = [C, C * pick(r, [1, 2])]; // depthwise (group = C)
  return s;
};
const constStep = (r: Rand, seed: number): Step => ({
  op: "constOp", seed, kind: pick(r, ["add", "sub", "mul", "div"]), form: pick(r, ["scalar", "c11", "1c11"]), constFirst: chance(r, 0.3),
});
const flattenStep = (r: Rand, seed: number): Step => ({ op: "flatten", seed, form: pick(r, ["flatten", "flatten", "zero", "batch", "minus1"]) });
const denseStep = (r: Rand, seed: number, weights = "float", cout = 1 + skewed(r, 0, 15)): Step => ({
  op: "dense", seed, kind: pick(r, ["gemm", "gemm", "matmul"]), cout, transB: chance(r, 0.5), bias: pick(r, ["none", "full", "full", "scalar"]),
  alpha: pick(r, [1, 1, 0.5]), beta: pick(r, [1, 1, 2]), weights, m: int(r, 1, 3), perLayer: chance(r, 0.3),
});
const binWeights = (r: Rand) => pick(r, ["binary", "binary", "multibit", "kbit"]);
/** A shape-keeping 3×3 pool (stride 1, padding 1): Inception's pool branch. */
const samePool = (r: Rand, seed: number): Step => ({ op: "pool", seed, kind: pick(r, ["max", "avg"]), k: 3, stride: 1, pads: [1, 1, 1, 1], ceil: false, countIncludePad: chance(r, 0.5) });
/** Softmax / LogSoftmax over the last axis (opset ≥ 13: mostly no attribute; < 13: mostly the default axis 1, the 2-D coercion). */
const softmaxStep = (r: Rand, seed: number, opset: number, rank: number): Step => {
  // rarely another axis of a map: before 13 the coercion [N·C·H, W] / [N·C, H·W]; from 13 mbn refuses it
  const axis = rank === 4 && chance(r, 0.08) ? pick(r, [2, -2]) : opset >= 13 ? pick(r, ["none", "none", -1, rank - 1]) : pick(r, ["none", "none", "none", 1, -1]);
  return { op: "softmax", seed, kind: chance(r, 0.35) ? "log" : "softmax", axis };
};
/** A random permutation of axes 1…3 (axis 0, the batch, stays first). */
const randomPerm = (r: Rand) => {
  const rest = [1, 2, 3];
  for (let i = 2; i > 0; i--) {
    const j = int(r, 0, i);
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [0, ...rest];
};

/** One random valid model: 1–8 steps chosen by the shape they meet. */
export function generate(seed: number): Recipe {
  const r = rng(seed);
  const input = genInput(r);
  const steps: Step[] = [];
  const b = new Builder(input);
  // every step is kept, applied or not: a skipped fork/join still moves the stack the same way on replay
  const add = (s: Step) => {
    steps.push(s);
    if (STEPS[s.op](b, s, rng(s.seed))) b.applied++;
  };
  const nextSeed = () => Math.floor(r() * 2 ** 31);
  // not an 8-bit QDQ on a wide row: in front of a binary dense layer its 256-level staircase is
  // probed per feature, seconds of compile time for a 1000-feature row
  const qStep = () => {
    const q = quantStep(r, nextSeed());
    if (q.kind === "qdq" && !is4d(b) && b.cur.shape[0] > 256) q.kind = "dorefa";
    return q;
  };
  // a quantizer (often behind BatchNorm) unless the tensor is one's output already
  const quantize = (pBn: number) => {
    if (chance(r, pBn)) add({ op: "batchnorm", seed: nextSeed() });
    if (!b.cur.quantOut || chance(r, 0.3)) add(qStep());
  };
  if (input.nhwc) add({ op: "transpose", seed: 0, perm: [0, 3, 1, 2] }); // Keras: NHWC → NCHW
  const len = int(r, 1, 8);
  for (let guard = 0; b.applied < len && guard < 50; guard++) {
    const C = b.cur.shape[0];
    const choice = is4d(b)
      ? pick(r, ["conv", "conv", "bitconv", "bitconv", "bitconv", "bn", "act", "act", "quant", "pool", "gap", "gmp", "flatten", "flatten",
        "const", "const", "residual", "residual", "concat", "concat", "inception", "concatpool", "transpose", "tokens", "attention", "xnorhead", "softmax"])
      : pick(r, ["dense", "dense", "bdense", "bdense", "bn", "act", "act", "quant", "const", "const", "residual", "flatten", "unflatten", "concat", "concat", "rowtranspose"]);
    switch (choice) {
      case "conv": add(convStep(r, nextSeed(), C, chance(r, 0.8) ? "float" : pick(r, ["binary", "multibit"]))); break;
      case "bitconv": // a quantizer, optionally behind BatchNorm, then a conv with binary / multi-bit weights
        quantize(0.3);
        add(convStep(r, nextSeed(), C, pick(r, ["binary", "binary", "multibit", "kbit"])));
        break;
      case "bn": add({ op: "batchnorm", seed: nextSeed() }); break;
      case "act": add(actStep(r, nextSeed())); break;
      case "quant": add(qStep()); break;
      case "pool": add({ op: "pool", seed: nextSeed(), kind: pick(r, ["max", "avg"]), k: int(r, 1, 3), stride: int(r, 1, 2), pads: [0, 0, 0, 0].map(() => int(r, 0, 1)), ceil: chance(r, 0.2), countIncludePad: chance(r, 0.5) }); break;
      case "gap": add({ op: "globalAvgPool", seed: nextSeed() }); break;
      case "gmp": add({ op: "globalAvgPool", seed: nextSeed(), kind: "max" }); break;
      case "flatten": add(chance(r, 0.2) ? { op: "flatten", seed: nextSeed(), form: "reshape4d", variant: int(r, 0, 4) } : flattenStep(r, nextSeed())); break;
      case "unflatten": if (chance(r, 0.4)) add({ op: "flatten", seed: nextSeed(), form: "unflatten", variant: int(r, 0, 2) }); break;
      case "dense": add(denseStep(r, nextSeed(), chance(r, 0.15) ? binWeights(r) : "float")); break; // binary weights over a float row stay float
      case "bdense": // a binary / multi-bit dense layer over a [N, F] row
        quantize(0.3);
        add(denseStep(r, nextSeed(), binWeights(r)));
        break;
      case "xnorhead": // BinaryNet / XNOR-Net head: [Conv →] BN → Sign → Flatten → Gemm(±α) over the whole map
        if (chance(r, 0.5)) add(convStep(r, nextSeed(), C, "float"));
        quantize(0.7);
        add(chance(r, 0.2) ? { op: "flatten", seed: nextSeed(), form: "reshape4d", variant: int(r, 0, 4) } : flattenStep(r, nextSeed()));
        if (!is4d(b)) add(denseStep(r, nextSeed(), binWeights(r)));
        break;
      case "transpose": add({ op: "transpose", seed: 0, perm: chance(r, 0.1) ? [0, 1, 2, 3] : randomPerm(r) }); break;
      case "rowtranspose": if (chance(r, 0.3)) add({ op: "transpose", seed: 0, perm: [0, 1] }); break; // the identity, the only perm of [N, F] that keeps the batch
      case "attention": add({ op: "attention", seed: nextSeed(), d: int(r, 1, 8) }); break;
      case "tokens": add({ op: "tokens", seed: 0, back: pick(r, ["flat", "map", "map", "hwc"]), softmax: pick(r, [false, false, "softmax", "log"]), axis: pick(r, [-1, 2, 1]) }); break;
      case "inception": { // 2–3 branches from the current map (1×1 conv, k×k conv, pool → 1×1 conv, binary conv), their channels concatenated
        add({ op: "fork", seed: 0 });
        const branches = int(r, 2, 3);
        for (let k = 0; k < branches; k++) {
          if (k) add({ op: "branch", seed: 0 });
          const c = pick(r, ["conv1", "conv", "pool", "bitconv", "transpose"]);
          const C0 = b.cur.shape[0];
          if (c === "pool") add(samePool(r, nextSeed()));
          if (c === "bitconv") quantize(0.3);
          if (c === "transpose" && b.cur.shape[1] === b.cur.shape[2]) add({ op: "transpose", seed: 0, perm: [0, 1, 3, 2] }); // H ↔ W of a square map: another layout
          const cs = convStep(r, nextSeed(), C0, c === "bitconv" ? pick(r, ["binary", "multibit"]) : "float", "spatial");
          if (c === "conv1" || c === "pool") [cs.k, cs.pads] = [1, [0, 0, 0, 0]];
          add(cs);
          if (chance(r, 0.5)) add(actStep(r, nextSeed()));
        }
        add({ op: "concat", seed: 0, n: branches, axis: 1, dropBase: true, swap: false });
        break;
      }
      case "concatpool": { // fastai's AdaptiveConcatPool ([GlobalMaxPool, GlobalAveragePool] along the channels, or their rows), or two flattened maps
        const mode = pick(r, ["pool-map", "pool-rows", "flat-maps"]);
        const rows = mode !== "pool-map";
        add({ op: "fork", seed: 0 });
        if (mode !== "flat-maps") add({ op: "globalAvgPool", seed: 0, kind: "max" });
        if (rows) add(flattenStep(r, nextSeed()));
        add({ op: "branch", seed: 0 });
        if (mode === "flat-maps" || chance(r, 0.3)) add(convStep(r, nextSeed(), C, chance(r, 0.7) ? "float" : "binary")); // a map of another size
        if (mode !== "flat-maps") add({ op: "globalAvgPool", seed: 0, kind: chance(r, 0.8) ? "avg" : "max" });
        if (rows) add(flattenStep(r, nextSeed()));
        add({ op: "concat", seed: 0, n: 2, axis: 1, dropBase: true, swap: chance(r, 0.3) });
        break;
      }
      case "softmax": // over the channels of a map (opset ≥ 13 axis 1; before 13, axis 1 is the whole sample)
        add({ op: "softmax", seed: 0, kind: chance(r, 0.35) ? "log" : "softmax", axis: 1 });
        break;
      case "concat": { // DenseNet / Inception: the current tensor and 1–2 branches from it, joined along the channels
        const map = is4d(b), refuse = map && chance(r, 0.06);
        add({ op: "fork", seed: 0 });
        const branches = chance(r, 0.35) ? 2 : 1;
        for (let k = 0; k < branches; k++) {
          if (k) add({ op: "branch", seed: 0 });
          const inner = chance(r, 0.05) ? 0 : int(r, 1, 2); // none: the same tensor twice
          for (let i = 0; i < inner; i++) {
            const c = refuse ? pick(r, ["act", "bn", "const"])
              : pick(r, map ? ["conv", "conv", "bitconv", "act", "bn", "pool", "quant", "view"] : ["dense", "dense", "bdense", "act", "bn", "quant"]);
            if (c === "conv") add(convStep(r, nextSeed(), b.cur.shape[0], chance(r, 0.8) ? "float" : "binary", "spatial"));
            else if (c === "bitconv") {
              quantize(0.3);
              add(convStep(r, nextSeed(), b.cur.shape[0], pick(r, ["binary", "multibit"]), "spatial"));
            } else if (c === "pool") add(samePool(r, nextSeed()));
            else if (c === "view") { // a square map re-read with its pixels transposed or reshaped: another layout, same shape
              const [C1, H1, W1] = b.cur.shape;
              if (H1 === W1) add(chance(r, 0.5) ? { op: "transpose", seed: 0, perm: [0, 1, 3, 2] } : { op: "flatten", seed: 0, form: "reshape4d", variant: 2 });
              else add(convStep(r, nextSeed(), C1, "float", "spatial"));
            } else if (c === "dense") add(denseStep(r, nextSeed()));
            else if (c === "bdense") {
              quantize(0.3);
              add(denseStep(r, nextSeed(), binWeights(r)));
            } else if (c === "act") add(actStep(r, nextSeed()));
            else if (c === "bn") add({ op: "batchnorm", seed: nextSeed() });
            else if (c === "const") add(constStep(r, nextSeed()));
            else add(qStep());
          }
        }
        // axis 1 (also spelled −3 / −1); a few along another axis, which mbn refuses
        const axis = refuse ? pick(r, [2, 3, -1, -2]) : map ? pick(r, [1, 1, 1, -3]) : pick(r, [1, 1, 1, -1]);
        add({ op: "concat", seed: 0, n: branches + 1, axis, swap: chance(r, 0.2) });
        break;
      }
      case "residual": { // fork → 1–3 shape-keeping steps → Add(branch, skip) or Sum(branch, skip)
        add({ op: "fork", seed: 0 });
        const inner = int(r, 1, 3);
        for (let i = 0; i < inner; i++) {
          const c = pick(r, is4d(b) ? ["conv", "bitconv", "bn", "act", "const", "quant"] : ["bn", "act", "const", "quant"]);
          if (c === "conv") add(convStep(r, nextSeed(), C, "float", "shape"));
          else if (c === "bitconv") {
            add(qStep());
            add(convStep(r, nextSeed(), C, pick(r, ["binary", "multibit"]), "shape"));
          } else if (c === "bn") add({ op: "batchnorm", seed: nextSeed() });
          else if (c === "act") add(actStep(r, nextSeed()));
          else if (c === "const") add(constStep(r, nextSeed()));
          else add(qStep());
        }
        add({ op: "join", seed: 0, swap: chance(r, 0.5), kind: chance(r, 0.05) ? "sum3" : pick(r, ["add", "sum"]) });
        break;
      }
    }
  }
  // a tail that ends on a flattened map, often followed by elementwise work on it
  if (is4d(b) && chance(r, 0.3)) {
    const head = pick(r, ["plain", "plain", "plain", "keras", "xnor"]);
    if (head === "keras") add({ op: "transpose", seed: 0, perm: [0, 2, 3, 1] }); // NHWC before the head, as Keras flattens
    if (head === "xnor") quantize(0.7);
    add(flattenStep(r, nextSeed()));
    if (head !== "plain") add(denseStep(r, nextSeed(), head === "xnor" || chance(r, 0.3) ? binWeights(r) : "float", int(r, 1, 10)));
    const tail = int(r, 0, 2);
    for (let i = 0; i < tail; i++) {
      const c = pick(r, ["act", "quant", "const", "bn", "dense"]);
      if (c === "act") add(actStep(r, nextSeed()));
      else if (c === "quant") add(qStep());
      else if (c === "const") add(constStep(r, nextSeed()));
      else if (c === "bn") add({ op: "batchnorm", seed: nextSeed() });
      else add({ op: "dense", seed: nextSeed(), kind: "gemm", cout: int(r, 1, 10), transB: true, bias: "full" });
    }
  }
  // classifiers end on Softmax / LogSoftmax
  if (chance(r, 0.2)) add(softmaxStep(r, nextSeed(), input.opset, b.cur.shape.length + 1));
  return { seed, input, steps };
}

/** Short human-readable summary: "[2,3,4,4] Conv→Relu→Flatten". */
export function describe(recipe: Recipe, built = build(recipe)): string {
  return `[${built.inputShape.join(",")}] ${built.ops.join("→") || "(identity)"} → [${built.outputShape.join(",")}]`;
}
