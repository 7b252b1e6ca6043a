// Pass: lowering — ONNX-level graph (folded, shapes known, one sample) → execution Plan (ir/plan.ts).
// Demand-driven from the graph output: each ONNX tensor that must exist at run time becomes one
// float value; each quantized conv input becomes one packed-bit value produced by BitQuantize
// from its quantizer's source. Layouts: kernels write the channels-last order of their output's
// shape (`natural`); a reshape is a view that keeps its source's storage and layout; a step that
// reads per channel (conv, pool, affine, elementwise, quantize) asks `floatIn` for the natural
// layout of the shape it reads and gets a Relayout step when the storage differs (a flattened map,
// the NCHW input, a 4-D reshape); dense layers read any layout (their weights are permuted
// instead) and the output copy converts from any layout. A conv whose weights and input quantizer both decompose becomes a
// BitConv; anything that does not decompose stays float, and plan.notes says which layer and why.
// Each op's own lowering lives in its op module (compiler/ops/, collected by ops/registry.ts); this
// file is the machinery they share (values, layouts, views, affine epilogues, elementwise fallback,
// index maps, binary layers).
import { CompileError, fail } from "../errors.ts";
import { attrInt, attrInts, consumers, producers, type Graph, type Node } from "../ir/graph.ts";
import { type ElemProgram, layoutText, naturalLayout, ONNX_ORDER, sameLayout, type ConvGeom, type Epilogue, type Layout, type Plan, type QuantSpec, type Step, type Value, type ValueId } from "../ir/plan.ts";
import { sizeOf, type Tensor } from "../ir/tensor.ts";
import { decomposeLevels } from "../quant/levels.ts";
import { probeStaircase } from "../quant/probe.ts";
import { findRegion, regionProbe } from "../quant/region.ts";
import { compileElementwise } from "./elementwise.ts";
import { broadcastMap, indexMapOf, keepsBatch } from "./index_map.ts";
import { ANY_OUTPUT, FLOAT_ELEMENTWISE, LOWER } from "../ops/registry.ts";
import { perChannel } from "./per_channel.ts";
import { decomposeWeights } from "../quant/weights.ts";

const f = Math.fround;

export interface Ctx {
  g: Graph;
  shapes: Map<string, Tensor>;
  producer: Map<string, Node>;
  consumers: Map<string, Node[]>;
  order: Map<Node, number>;
  plan: Plan;
  floatOf: Map<string, ValueId>; // ONNX tensor → the value holding it (in whatever layout)
  bitsOf: Map<string, ValueId>;
  relaid: Map<string, ValueId>; // "value:layout" → the Relayout copy of that value
}

export const noEpi = (c: number): Epilogue => ({ c, act: 0, lo: 0, hi: 0 });

export function shapeOf(ctx: Ctx, name: string): number[] {
  const t = ctx.shapes.get(name) ?? ctx.g.consts.get(name);
  if (!t) return fail(`tensor '${name}' has no known shape`, { file: ctx.g.file });
  return t.shape;
}

/** Channels (axis 1) and pixels (all other elements) of a one-sample shape, as per-channel kernels see it. */
export const chan = (shape: number[]) => (shape.length >= 2 ? shape[1] : 1);
export const pixels = (shape: number[]) => sizeOf(shape) / chan(shape);

export const natural = naturalLayout;

export function newValue(ctx: Ctx, name: string, kind: "float" | "bits", shape: number[], planes = 0, layout = natural(shape)): ValueId {
  const id = ctx.plan.values.length;
  const v: Value = { id, name, kind, shape, layout, planes };
  ctx.plan.values.push(v);
  return id;
}

export function push(ctx: Ctx, s: Step): ValueId {
  ctx.plan.steps.push(s);
  return s.out;
}

export const where = (ctx: Ctx, n: Node) => ({ file: ctx.g.file, node: n.name, op: n.op });

// ------------------------------------------------------------------------------------------ floats

export function floatValue(ctx: Ctx, name: string): ValueId {
  const memo = ctx.floatOf.get(name);
  if (memo !== undefined) return memo;
  const g = ctx.g;
  if (g.consts.has(name)) fail(`constant tensor '${name}' is used as a layer input; mbn expects activations here`, { file: g.file });
  let id: ValueId;
  if (name === ctx.plan.inputName) id = ctx.plan.input;
  else {
    const n = ctx.producer.get(name)!;
    const lower = LOWER[n.op] ?? (FLOAT_ELEMENTWISE.has(n.op) ? lowerElementwise : undefined);
    if (!lower) {
      // an earlier offending node on this path is named first (graph order), not this later one
      for (const i of n.inputs) if (i && !ctx.g.consts.has(i) && i !== ctx.plan.inputName) floatValue(ctx, i);
      fail(`operator '${n.op}' runs only in constant folding or a binary layer's quantizer, not on activations (README "Supported ONNX")`, where(ctx, n));
    }
    const k = n.outputs.indexOf(name);
    if (k !== 0 && !ANY_OUTPUT.has(n.op)) fail(`its output ${k} ('${name}') is read; mbn computes an op's first output only`, where(ctx, n));
    id = lower(ctx, n, k);
  }
  ctx.floatOf.set(name, id);
  return id;
}

/**
 * The tensor `name` stored in the natural layout of its shape, for a step of node n that reads it
 * per channel: its value, or a Relayout copy of it (memoised) when the storage order differs.
 */
export function floatIn(ctx: Ctx, name: string, n: Node, want = natural(shapeOf(ctx, name))): ValueId {
  const id = floatValue(ctx, name);
  const shape = shapeOf(ctx, name);
  const have = ctx.plan.values[id].layout;
  if (sameLayout(have, want)) return id;
  if (want.order === "channels_last" && shape[0] !== 1) fail(`'${name}' of shape [${shape}] is read per channel but its first axis is not the batch`, where(ctx, n));
  const key = `${id}:${layoutText(want)}`;
  const memo = ctx.relaid.get(key);
  if (memo !== undefined) return memo;
  let v = id;
  if (have.order === "channels_last")
    v = push(ctx, { op: "Relayout", node: n.name, to: "onnx", c: have.c, hw: have.hw, in: v, out: newValue(ctx, name, "float", shape, 0, ONNX_ORDER) });
  if (want.order === "channels_last")
    v = push(ctx, { op: "Relayout", node: n.name, to: "channels_last", c: want.c, hw: want.hw, in: v, out: newValue(ctx, name, "float", shape, 0, want) });
  ctx.relaid.set(key, v);
  return v;
}

export type Lower = (ctx: Ctx, n: Node) => ValueId;

/** A per-element op of a tensor whose first axis is not one sample (a graph compiled whole): no channels-last rows. */
export const wholeTensor = (shape: number[]) => shape.length >= 3 && shape[0] !== 1;

export function affine(ctx: Ctx, n: Node, x: string, epi: Partial<Epilogue>): ValueId {
  const shape = shapeOf(ctx, n.outputs[0]);
  if (wholeTensor(shape)) return lowerElementwise(ctx, n); // runs in ONNX order (passes/elementwise.ts)
  const C = chan(shape);
  const inp = floatIn(ctx, x, n);
  return push(ctx, { op: "Affine", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shape), c: C, npix: pixels(shape), epi: { ...noEpi(C), ...epi } });
}

/**
 * Float fallback: the smallest elementwise region ending at this node's output with a single float
 * source, run by the elementwise_f32 kernel (passes/elementwise.ts); plan.notes records it. A node
 * that combines several activations (x − mean, a / b, Max of n) is a region of its own over them,
 * each source broadcast to the output's shape first (an index map) where NumPy broadcasting says so.
 */
export function lowerElementwise(ctx: Ctx, n: Node): ValueId {
  const target = n.outputs[0];
  const shape = shapeOf(ctx, target);
  // rows of C channels (channels-last storage) when the first axis is one sample; a tensor whose
  // first axis is not (a graph compiled whole at a fixed batch) runs in ONNX order as rows of one,
  // where only scalar constants fit (compileElementwise refuses per-channel ones)
  const rowsPerChannel = shape[0] === 1 || shape.length < 3;
  const C = rowsPerChannel ? chan(shape) : 1;
  const layout = rowsPerChannel ? natural(shape) : ONNX_ORDER;
  const single = findRegion(ctx.g, target, ctx.producer, ctx.order, ctx.consumers, { ops: FLOAT_ELEMENTWISE, nearest: true });
  let usable = single && shapeOf(ctx, single.source).join() === shape.join() ? single : undefined;
  let prog: ElemProgram | undefined;
  if (usable) {
    try {
      prog = compileElementwise(ctx.g, usable, C, shape.length, [usable.source]);
    } catch (e) {
      if (!(e instanceof CompileError) || !/does not broadcast per channel/.test(e.message)) throw e;
      usable = undefined; // a constant that varies along other axes: this node alone, the constant as a source
    }
  }
  const r = usable ?? { source: "", target, nodes: [n] };
  const perChannelConst = (i: string) => {
    const t = ctx.g.consts.get(i);
    return !!t && (t.dtype !== "float" || !!perChannel(t, C, shape.length));
  };
  // activations, and float constants that do not broadcast per channel (stored whole, as a source)
  const sources = usable ? [usable.source] : [...new Set(n.inputs.filter((i) => i && !perChannelConst(i) && !(constOperand(ctx, i, shape) && !ctx.g.consts.has(i))))];
  if (!sources.some((s) => !ctx.g.consts.has(s))) fail("elementwise op without an activation input", where(ctx, n));
  prog ??= compileElementwise(ctx.g, r, C, shape.length, sources);
  const ids = sources.map((s) => ctx.g.consts.has(s) ? constValue(ctx, s, shape, layout, n)
    : floatIn(ctx, shapeOf(ctx, s).join() === shape.join() ? s : broadcastTo(ctx, s, shape, n), n, layout));
  ctx.plan.notes.push(`${n.name} runs as a float elementwise program (${prog.ops.join(" → ")} on '${sources.join("', '")}'): it is not a quantizer in front of a binary layer`);
  return push(ctx, { op: "Elementwise", node: n.name, in: ids[0], srcs: ids.slice(1), out: newValue(ctx, target, "float", shape, 0, layout), c: C, npix: sizeOf(shape) / C, prog });
}

/** A float constant broadcast to `shape` and stored in `layout`: a value the blob holds (pinned "const"). */
export function constValue(ctx: Ctx, name: string, shape: number[], layout: Layout, n: Node): ValueId {
  const t = ctx.g.consts.get(name)!;
  const from = t.shape;
  if (from.length > shape.length || !from.every((d, i) => d === 1 || d === shape[shape.length - from.length + i])) fail(`constant '${name}' of shape [${from}] does not broadcast to [${shape}]`, where(ctx, n));
  const onnx = Float32Array.from(broadcastMap(from, shape), (j) => t.data[j]);
  let data = onnx;
  if (layout.order === "channels_last") {
    data = new Float32Array(onnx.length);
    for (let c = 0; c < layout.c; c++) for (let p = 0; p < layout.hw; p++) data[p * layout.c + c] = onnx[c * layout.hw + p];
  }
  const id = ctx.plan.values.length;
  ctx.plan.values.push({ id, name, kind: "float", shape, layout, planes: 0, pinned: "const", data });
  return id;
}

/**
 * The activation `name` broadcast to `shape` (NumPy rules): an IndexMap step in ONNX order, registered
 * as the float value of a synthetic tensor name so that the elementwise program reads it like any source.
 */
export function broadcastTo(ctx: Ctx, name: string, shape: number[], n: Node): string {
  const from = shapeOf(ctx, name);
  const ok = from.length <= shape.length && from.every((d, i) => d === 1 || d === shape[shape.length - from.length + i]);
  if (!ok) fail(`'${name}' of shape [${from}] does not broadcast to [${shape}]`, where(ctx, n));
  const synthetic = `${name}→[${shape}]`;
  if (!ctx.floatOf.has(synthetic)) {
    if (from[0] !== shape[0] || from.length !== shape.length) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) broadcasts '${name}' across the batch axis`);
    ctx.shapes.set(synthetic, { dtype: "float", shape, data: new Float32Array(0) });
    const inp = floatIn(ctx, name, n, ONNX_ORDER);
    const id = push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, synthetic, "float", shape, 0, ONNX_ORDER), idx: broadcastMap(from, shape), fill: 0, what: "broadcast" });
    ctx.floatOf.set(synthetic, id);
  }
  return synthetic;
}

/**
 * A pure data-movement op (passes/index_map.ts): output `out` of node n as an IndexMap step in ONNX
 * order; an identity map (a Slice of everything, a Pad of zeros) is a view.
 */
export function lowerIndexMap(ctx: Ctx, n: Node, out = 0): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), name = n.outputs[out], ys = shapeOf(ctx, name);
  const m = indexMapOf(ctx.g, n, xs, out, where(ctx, n));
  if (m.outShape.join() !== ys.join()) fail(`internal: index map of shape [${m.outShape}] for an output of shape [${ys}]`, where(ctx, n));
  if (!keepsBatch(ctx.g, n, xs, out, m, where(ctx, n))) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) moves elements across the batch axis`);
  if (m.idx.length === sizeOf(xs) && m.idx.every((j, i) => j === i)) return floatValue(ctx, x);
  const inp = floatIn(ctx, x, n, ONNX_ORDER);
  return push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, name, "float", ys, 0, ONNX_ORDER), idx: m.idx, fill: m.fill, what: n.op });
}

/**
 * Flatten/Reshape/Squeeze/Unsqueeze/Identity/Dropout: a view — the same storage (and layout) under a
 * new ONNX name and shape, no step. Readers that need another order get a Relayout (floatIn).
 */
export function alias(ctx: Ctx, n: Node): ValueId {
  const why = mixesSamples(ctx, n);
  if (why) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) ${why}`);
  return floatValue(ctx, n.inputs[0]);
}

/**
 * Whether a view would merge or move the batch axis at a batch > 1 (the plan runs one sample): a
 * Flatten at axis 0, a Squeeze/Unsqueeze of axis 0, a Reshape whose constant shape does not begin
 * with 0 (copy) or a −1 that can only be the batch. A shape computed from the input (torch's
 * x.view(x.size(0), −1)) is taken as batch-preserving.
 */
export function mixesSamples(ctx: Ctx, n: Node): string | undefined {
  const xs = shapeOf(ctx, n.inputs[0]), ys = shapeOf(ctx, n.outputs[0]);
  if (n.op === "Flatten") return attrInt(n, "axis", 1) === 0 ? "flattens the batch axis (axis 0)" : undefined;
  if (n.op === "Squeeze" || n.op === "Unsqueeze") {
    const t = n.inputs[1] ? ctx.g.consts.get(n.inputs[1]) : undefined;
    const axes = t ? Array.from(t.data) : attrInts(n, "axes", n.op === "Squeeze" ? xs.map((_, i) => i) : []);
    const rank = n.op === "Squeeze" ? xs.length : ys.length;
    return axes.some((a) => (a < 0 ? a + rank : a) === 0) ? "squeezes or inserts axis 0 (the batch)" : undefined;
  }
  if (n.op === "Reshape") {
    const t = ctx.g.consts.get(n.inputs[1]);
    if (!t) return undefined;
    const rest = Array.from(t.data).slice(1).reduce((p, d) => p * d, 1);
    const ok = t.data[0] === 0 || (t.data[0] === -1 && !Array.from(t.data).slice(1).includes(-1) && rest === sizeOf(xs) / xs[0]);
    return ok ? undefined : `reshapes to [${Array.from(t.data)}], which does not keep the batch axis`;
  }
  return undefined;
}

/** Try to express the conv input as packed planes of a recovered quantizer. */
export function bitsValue(ctx: Ctx, n: Node, x: string): { id: ValueId; spec: QuantSpec } | string {
  const r = findRegion(ctx.g, x, ctx.producer, ctx.order, ctx.consumers);
  if (!r) return "its input is not produced by a quantizer";
  const srcShape = shapeOf(ctx, r.source);
  const C = srcShape[1] ?? 1;
  let stair;
  try {
    stair = probeStaircase(regionProbe(ctx.g, r, srcShape), C);
  } catch (e) {
    return `its input quantizer could not be probed (${(e as Error).message})`;
  }
  if (typeof stair === "string") return `its input quantizer is not a staircase: ${stair}`;
  const lp = decomposeLevels(stair.levels, true);
  if (typeof lp === "string") return `its input quantizer: ${lp}`;
  const spec: QuantSpec = {
    source: r.source, levels: stair.levels, thr: stair.thr, flip: stair.flip, planes: lp.planes, lut: Uint8Array.from(lp.bits),
    unipolar: lp.unipolar, scales: Float32Array.from(lp.scales), offset: lp.offset, encoding: lp.encoding,
  };
  const memo = ctx.bitsOf.get(x);
  if (memo !== undefined) return { id: memo, spec };
  const last = r.nodes[r.nodes.length - 1];
  const src = floatIn(ctx, r.source, last);
  const out = newValue(ctx, x, "bits", shapeOf(ctx, x), Math.max(1, lp.planes));
  push(ctx, { op: "BitQuantize", node: last.name, in: src, out, c: C, npix: pixels(srcShape), quant: spec });
  ctx.bitsOf.set(x, out);
  return { id: out, spec };
}

/**
 * A binary layer: a conv of geometry `geom` with ONNX-order weights wf [cout][cin][kh][kw] over the
 * tensor x, when the weights decompose into planes and x is a recovered quantizer's output; else
 * the reason it stays float.
 */
export function bitLayer(ctx: Ctx, n: Node, x: string, wf: Float32Array, geom: ConvGeom, epi: Epilogue): ValueId | string {
  if (!findRegion(ctx.g, x, ctx.producer, ctx.order, ctx.consumers)) return "its input is not produced by a quantizer"; // (cheap; before the weights)
  const wp = decomposeWeights(wf, geom.cout);
  if (typeof wp === "string") return `its weights do not decompose (${wp})`;
  const act = bitsValue(ctx, n, x);
  if (typeof act === "string") return act;
  // bits [M][cout][cin][kh][kw] (ONNX order) → [M][cout][kh][kw][cin] (packed along channels)
  const { kh, kw, cin, cout } = geom, rest = cin * kh * kw;
  const wbits = new Uint8Array(wp.bits.length);
  for (let m = 0; m < wp.m; m++)
    for (let o = 0; o < cout; o++)
      for (let c = 0; c < cin; c++)
        for (let k = 0; k < kh * kw; k++) wbits[((m * cout + o) * kh * kw + k) * cin + c] = wp.bits[(m * cout + o) * rest + c * kh * kw + k];
  let wtap: Float32Array | undefined;
  if (act.spec.offset !== 0) {
    wtap = new Float32Array(cout * kh * kw);
    for (let o = 0; o < cout; o++)
      for (let k = 0; k < kh * kw; k++) {
        let s = 0;
        for (let c = 0; c < cin; c++) s = f(s + wf[o * rest + c * kh * kw + k]);
        wtap[o * kh * kw + k] = s;
      }
  }
  return push(ctx, {
    op: "BitConv", node: n.name, in: act.id, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])), geom, act: act.spec,
    m: wp.m, wbits, alpha: wp.alpha, cw: wp.cw, wtap, weightLevels: wp.describe, epi,
  });
}

/**
 * A binary dense layer [1, cin] × [cin, cout] as a BitConv (the bdense maths): over [1, F] a 1×1
 * conv of a 1×1 map with F channels; over a flattened map [1, C, H, W] (through Flatten/Reshape
 * views) a conv whose H×W kernel covers the whole map, since ONNX's flat index c·HW + p is tap p of
 * channel c. The quantizer is recovered on the tensor in front of the views.
 */
export function bitDense(ctx: Ctx, n: Node, x: string, w: Float32Array /* [cin][cout] */, cin: number, cout: number, bias?: Float32Array): ValueId | string {
  let src = x;
  for (let p = ctx.producer.get(src); p && VIEWS.has(p.op); p = ctx.producer.get(src)) src = p.inputs[0];
  if (!findRegion(ctx.g, src, ctx.producer, ctx.order, ctx.consumers)) return "its input is not produced by a quantizer"; // (cheap; before the weights)
  const ss = shapeOf(ctx, src);
  const map = ss.length === 4 && ss[0] === 1 && sizeOf(ss) === cin;
  if (!map && !(ss.length === 2 && ss[0] === 1 && ss[1] === cin)) return "its input is not a [1, F] row or a flattened [1, C, H, W] map";
  const [C, H, W] = map ? ss.slice(1) : [cin, 1, 1];
  const geom: ConvGeom = { h: H, w: W, cin: C, cout, kh: H, kw: W, sh: 1, sw: 1, dh: 1, dw: 1, padT: 0, padL: 0, padB: 0, padR: 0, oh: 1, ow: 1 };
  const wf = new Float32Array(cin * cout); // [cout][C][H][W] = w[c·HW + p][o]
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) wf[o * cin + i] = w[i * cout + o];
  return bitLayer(ctx, n, src, wf, geom, { ...noEpi(cout), bias });
}

/** A dense layer [1, cin] × [cin, cout]: reads its input in any layout (the weights follow it). */
export function lowerDense(ctx: Ctx, n: Node, x: string, w: Float32Array /* [cin][cout] */, cin: number, cout: number, bias?: Float32Array): ValueId {
  const xs = shapeOf(ctx, x);
  if (xs.length !== 2 || xs[0] !== 1 || xs[1] !== cin) fail(`dense layer input has shape [${xs}]; mbn runs [1, ${cin}] per sample (one row)`, where(ctx, n));
  const bits = bitDense(ctx, n, x, w, cin, cout, bias);
  if (typeof bits !== "string") return bits;
  if (ctx.producer.has(x)) ctx.plan.notes.push(`${n.name} (dense ${cin}→${cout}) stays float: ${bits}`);
  const inp = floatValue(ctx, x);
  const layout = ctx.plan.values[inp].layout;
  let weights = w;
  if (layout.order === "channels_last") {
    // a channels-last map viewed flat: ONNX index c·HW + p is stored at p·C + c
    const { c: C, hw: HW } = layout;
    weights = new Float32Array(w.length);
    for (let c = 0; c < C; c++)
      for (let p = 0; p < HW; p++) weights.set(w.subarray((c * HW + p) * cout, (c * HW + p + 1) * cout), (p * C + c) * cout);
  }
  const out = shapeOf(ctx, n.outputs[0]);
  return push(ctx, { op: "Gemm", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", out), cin, cout, weights, epi: { ...noEpi(cout), bias } });
}

/**
 * A constant operand of a binary op: an initializer, or a constant broadcast by Expand to the output's
 * shape (ReActNet's x + bias.expand_as(x) exports Expand(bias, Shape(x))) — the same values under
 * the op's own broadcasting.
 */
export function constOperand(ctx: Ctx, name: string, outShape: number[]): Tensor | undefined {
  const c = ctx.g.consts.get(name);
  if (c) return c;
  const p = ctx.producer.get(name);
  const src = p?.op === "Expand" ? ctx.g.consts.get(p.inputs[0]) : undefined;
  return src && shapeOf(ctx, name).join() === outShape.join() ? src : undefined;
}

export function binaryConst(ctx: Ctx, n: Node): { x: string; k: Float32Array; constFirst: boolean } | undefined {
  const [a, b] = n.inputs;
  const shape = shapeOf(ctx, n.outputs[0]);
  const C = shape[1] ?? 1;
  const ca = constOperand(ctx, a, shape), cb = constOperand(ctx, b, shape);
  if (cb && !ca) {
    const k = cb.dtype === "float" ? perChannel(cb, C, shape.length) : undefined;
    return k && shapeOf(ctx, a).join() === shape.join() ? { x: a, k, constFirst: false } : undefined;
  }
  if (ca && !cb) {
    const k = ca.dtype === "float" ? perChannel(ca, C, shape.length) : undefined;
    return k && shapeOf(ctx, b).join() === shape.join() ? { x: b, k, constFirst: true } : undefined;
  }
  return undefined;
}

export const ones = (c: number) => new Float32Array(c).fill(1);
export const VIEWS = new Set(["Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"]);

/** [outer][len][inner] ↔ [outer][inner][len]: the index maps that move one axis innermost and back. */
export function axisMaps(outer: number, len: number, inner: number, kOut = len): { there: Int32Array; back: Int32Array } {
  const there = new Int32Array(outer * inner * len), back = new Int32Array(outer * inner * kOut);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < len; k++) there[(o * inner + i) * len + k] = (o * len + k) * inner + i;
      for (let k = 0; k < kOut; k++) back[(o * kOut + k) * inner + i] = (o * inner + i) * kOut + k;
    }
  return { there, back };
}

export function lower(g: Graph, shapes: Map<string, Tensor>, inputShape: number[], batch = 1): Plan {
  if (g.outputs.length !== 1) fail(`the model has ${g.outputs.length} outputs; mbn compiles single-output models`, { file: g.file });
  const order = new Map(g.nodes.map((n, i) => [n, i]));
  const outName = g.outputs[0].name;
  const outShape = shapes.get(outName)?.shape ?? fail(`output '${outName}' has no value`, { file: g.file });
  const plan: Plan = {
    values: [], steps: [], input: 0, output: -1, inputName: g.inputs[0].name, outputName: outName,
    inputShape, outputShape: outShape, batch, mixesSamples: [], notes: [],
  };
  const ctx: Ctx = { g, shapes, producer: producers(g), consumers: consumers(g), order, plan, floatOf: new Map(), bitsOf: new Map(), relaid: new Map() };
  plan.values.push({ id: 0, name: plan.inputName, kind: "float", shape: inputShape, layout: ONNX_ORDER, planes: 0, pinned: "input" });
  const last = floatValue(ctx, outName);
  if (outShape[0] !== 1 || outShape.length < 1) plan.mixesSamples.push(`the output [${outShape}] has no batch axis`);
  // a declared output shape the graph does not compute (beyond the batch axis) is a warning in the notes
  const declared = g.outputs[0].shape;
  if (declared.length && (declared.length !== outShape.length || declared.some((d, i) => i > 0 && typeof d === "number" && d !== outShape[i])))
    plan.notes.push(`warning: the model declares its output as [${declared}] but its graph computes [${outShape}] (the computed shape is used)`);
  const out = newValue(ctx, outName, "float", outShape, 0, ONNX_ORDER);
  plan.values[out].pinned = "output";
  plan.output = out;
  // the output buffer is in ONNX order: channels-last storage is transposed (c, hw), any other copied
  const from = plan.values[last].layout;
  const [c, hw] = from.order === "channels_last" ? [from.c, from.hw] : [1, sizeOf(outShape)];
  push(ctx, { op: "Output", node: "(output)", in: last, out, c, hw });
  return plan;
}
