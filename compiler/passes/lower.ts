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
// The op table below is the importer registry: one entry per supported ONNX op.
import { CompileError, fail } from "../errors.ts";
import { attrFloat, attrInt, attrInts, attrStr, consumers, producers, type Graph, type Node } from "../ir/graph.ts";
import { type ElemProgram, layoutText, naturalLayout, type ReduceKind, ONNX_ORDER, sameLayout, type ConvGeom, type Epilogue, type Layout, type Plan, type QuantSpec, type Step, type Value, type ValueId } from "../ir/plan.ts";
import { sizeOf, type Tensor } from "../ir/tensor.ts";
import { bnScaleShift, geom2d } from "../reference/nn.ts";
import { decomposeLevels } from "../quant/levels.ts";
import { probeStaircase } from "../quant/probe.ts";
import { findRegion, regionProbe } from "../quant/region.ts";
import { compileElementwise, FLOAT_ELEMENTWISE } from "./elementwise.ts";
import { broadcastMap, INDEX_MAP_OPS, indexMapOf, keepsBatch } from "./index_map.ts";
import { convRows, poolWindows, rowWeights } from "./windows.ts";
import { geomNd, geomTransposed } from "../reference/window.ts";
import { perChannel } from "./per_channel.ts";
import { decomposeWeights } from "../quant/weights.ts";

const f = Math.fround;

interface Ctx {
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

const noEpi = (c: number): Epilogue => ({ c, act: 0, lo: 0, hi: 0 });

function shapeOf(ctx: Ctx, name: string): number[] {
  const t = ctx.shapes.get(name) ?? ctx.g.consts.get(name);
  if (!t) return fail(`tensor '${name}' has no known shape`, { file: ctx.g.file });
  return t.shape;
}

/** Channels (axis 1) and pixels (all other elements) of a one-sample shape, as per-channel kernels see it. */
const chan = (shape: number[]) => (shape.length >= 2 ? shape[1] : 1);
const pixels = (shape: number[]) => sizeOf(shape) / chan(shape);

const natural = naturalLayout;

function newValue(ctx: Ctx, name: string, kind: "float" | "bits", shape: number[], planes = 0, layout = natural(shape)): ValueId {
  const id = ctx.plan.values.length;
  const v: Value = { id, name, kind, shape, layout, planes };
  ctx.plan.values.push(v);
  return id;
}

function push(ctx: Ctx, s: Step): ValueId {
  ctx.plan.steps.push(s);
  return s.out;
}

const where = (ctx: Ctx, n: Node) => ({ file: ctx.g.file, node: n.name, op: n.op });

// ------------------------------------------------------------------------------------------ floats

function floatValue(ctx: Ctx, name: string): ValueId {
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
    if (k !== 0 && !INDEX_MAP_OPS.has(n.op) && n.op !== "TopK") fail(`its output ${k} ('${name}') is read; mbn computes an op's first output only`, where(ctx, n));
    id = k === 0 ? lower(ctx, n) : n.op === "TopK" ? lowerSelect(ctx, n, k) : lowerIndexMap(ctx, n, k);
  }
  ctx.floatOf.set(name, id);
  return id;
}

/**
 * The tensor `name` stored in the natural layout of its shape, for a step of node n that reads it
 * per channel: its value, or a Relayout copy of it (memoised) when the storage order differs.
 */
function floatIn(ctx: Ctx, name: string, n: Node, want = natural(shapeOf(ctx, name))): ValueId {
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

type Lower = (ctx: Ctx, n: Node) => ValueId;

/** A per-element op of a tensor whose first axis is not one sample (a graph compiled whole): no channels-last rows. */
const wholeTensor = (shape: number[]) => shape.length >= 3 && shape[0] !== 1;

function affine(ctx: Ctx, n: Node, x: string, epi: Partial<Epilogue>): ValueId {
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
function lowerElementwise(ctx: Ctx, n: Node): ValueId {
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
function constValue(ctx: Ctx, name: string, shape: number[], layout: Layout, n: Node): ValueId {
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
function broadcastTo(ctx: Ctx, name: string, shape: number[], n: Node): string {
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
function lowerIndexMap(ctx: Ctx, n: Node, out = 0): ValueId {
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
function alias(ctx: Ctx, n: Node): ValueId {
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
function mixesSamples(ctx: Ctx, n: Node): string | undefined {
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

function convGeom(ctx: Ctx, n: Node, x: string, w: Tensor): ConvGeom {
  const xs = shapeOf(ctx, x);
  if (xs.length !== 4) fail(`Conv input has rank ${xs.length}; mbn supports 2-D convolutions (rank 4)`, where(ctx, n));
  if (xs[0] !== 1) fail(`Conv input [${xs}] holds ${xs[0]} maps; mbn convolves one sample ([1, C, H, W]) at a time`, where(ctx, n));
  const groups = attrInt(n, "group", 1);
  const g = geom2d(n, xs[2], xs[3], w.shape[2], w.shape[3]);
  if (g.dh !== 1 || g.dw !== 1) fail("dilated convolution is not supported", where(ctx, n));
  if (g.sh !== g.sw) fail(`unequal strides ${g.sh}×${g.sw} are not supported`, where(ctx, n));
  if (g.padT >= g.kh || g.padL >= g.kw || g.padB >= g.kh || g.padR >= g.kw) fail("padding must be smaller than the kernel", where(ctx, n));
  if (groups < 1 || xs[1] !== w.shape[1] * groups || w.shape[0] % groups) fail(`input has ${xs[1]} channels but the weights expect ${w.shape[1]}×${groups} groups of ${w.shape[0] / groups} outputs`, where(ctx, n));
  return { ...g, h: xs[2], w: xs[3], cin: xs[1], cout: w.shape[0] };
}

/** Try to express the conv input as packed planes of a recovered quantizer. */
function bitsValue(ctx: Ctx, n: Node, x: string): { id: ValueId; spec: QuantSpec } | string {
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
function bitLayer(ctx: Ctx, n: Node, x: string, wf: Float32Array, geom: ConvGeom, epi: Epilogue): ValueId | string {
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

/** Whether a conv needs the im2col path (passes/windows.ts): not 2-D, dilated, unequal strides, or pads ≥ the kernel. */
function needsWindows(ctx: Ctx, n: Node, x: string, w: Tensor): boolean {
  const xs = shapeOf(ctx, x);
  if (xs.length !== 4 || w.shape.length !== 4) return true;
  const d = attrInts(n, "dilations", [1, 1]), s = attrInts(n, "strides", [1, 1]), p = attrInts(n, "pads", [0, 0, 0, 0]);
  return d.some((v) => v !== 1) || s[0] !== s[1] || p[0] >= w.shape[2] || p[2] >= w.shape[2] || p[1] >= w.shape[3] || p[3] >= w.shape[3];
}

/** Conv / ConvTranspose through im2col rows and a 1×1 float conv (passes/windows.ts). */
function lowerWindowConv(ctx: Ctx, n: Node): ValueId {
  const [x, wName, bName] = n.inputs, transposed = n.op === "ConvTranspose";
  const w = ctx.g.consts.get(wName), bias = bName ? ctx.g.consts.get(bName) : undefined;
  if (!w || (bName && !bias)) return fail(`${n.op} weights and bias must be constant after folding`, where(ctx, n));
  const xs = shapeOf(ctx, x), ys = shapeOf(ctx, n.outputs[0]);
  if (xs[0] !== 1) fail(`${n.op} input [${xs}] holds ${xs[0]} samples; mbn convolves one sample at a time`, where(ctx, n));
  const [, C, ...dims] = xs, k = w.shape.slice(2), groups = attrInt(n, "group", 1), M = ys[1];
  const g = transposed ? geomTransposed(n, dims, k) : geomNd(n, dims, k);
  if (g.out.join() !== ys.slice(2).join()) fail(`internal: window geometry [${g.out}] for an output [${ys}]`, where(ctx, n));
  const K = sizeOf(k), P = sizeOf(g.out);
  const rows = push(ctx, {
    op: "IndexMap", node: n.name, in: floatIn(ctx, x, n, ONNX_ORDER), out: newValue(ctx, `${x}⊞${n.name}`, "float", [1, C * K, P, 1]),
    idx: convRows(C, dims, g, transposed), fill: 0, what: `${n.op} im2col`,
  });
  const geom: ConvGeom = { h: P, w: 1, cin: C * K, cout: M, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, padT: 0, padL: 0, padB: 0, padR: 0, oh: P, ow: 1 };
  ctx.plan.notes.push(`${n.name} (${n.op} [${k}], ${dims.length}-D${groups > 1 ? `, ${groups} groups` : ""}) runs float as im2col rows (an index map) and a 1×1 conv`);
  return push(ctx, {
    op: "Conv", node: n.name, in: rows, out: newValue(ctx, n.outputs[0], "float", ys), geom,
    weights: rowWeights(w.data as Float32Array, C, M, K, groups, transposed), epi: { ...noEpi(M), bias: bias ? Float32Array.from(bias.data) : undefined },
  });
}

/** Max/average pooling over 1 or 3+ spatial axes or with dilations: windows (an index map) reduced over each window. */
function lowerWindowPool(ctx: Ctx, n: Node, op: "MaxPool" | "AveragePool"): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), ys = shapeOf(ctx, n.outputs[0]);
  if (xs[0] !== 1) fail(`${op} input [${xs}] holds ${xs[0]} samples; mbn pools one sample at a time`, where(ctx, n));
  const [, C, ...dims] = xs, ceil = attrInt(n, "ceil_mode", 0) === 1;
  const g = geomNd(n, dims, attrInts(n, "kernel_shape", []), ceil);
  const K = sizeOf(g.k), P = sizeOf(g.out), idx = poolWindows(C, dims, g);
  // a mean over the whole window counts padding as zeros: right for count_include_pad (windows within the padded extent)
  if (op === "AveragePool" && idx.includes(-1) && !(attrInt(n, "count_include_pad", 0) === 1 && !ceil))
    fail("AveragePool over padding that count_include_pad=0 (or ceil_mode) leaves out of the divisor is not supported in N-D or dilated pooling", where(ctx, n));
  const win = push(ctx, {
    op: "IndexMap", node: n.name, in: floatIn(ctx, n.inputs[0], n, ONNX_ORDER), out: newValue(ctx, `${n.inputs[0]}⊞${n.name}`, "float", [1, C, P, K], 0, ONNX_ORDER),
    idx, fill: op === "MaxPool" ? -Infinity : 0, what: `${op} windows`,
  });
  return push(ctx, { op: "Reduce", node: n.name, in: win, out: newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER), kind: op === "MaxPool" ? "max" : "mean", outer: C * P, red: K, inner: 1 });
}

const lowerConv: Lower = (ctx, n) => {
  const [x, wName, bName] = n.inputs;
  const w = ctx.g.consts.get(wName);
  if (!w) fail("Conv weights are not constant after folding", where(ctx, n));
  if (needsWindows(ctx, n, x, w)) return lowerWindowConv(ctx, n);
  const geom = convGeom(ctx, n, x, w);
  const bias = bName ? ctx.g.consts.get(bName) : undefined;
  if (bName && !bias) fail("Conv bias is not constant after folding", where(ctx, n));
  const epi: Epilogue = { ...noEpi(geom.cout), bias: bias ? Float32Array.from(bias.data) : undefined };
  const wf = w.data as Float32Array;
  const groups = attrInt(n, "group", 1);
  if (groups > 1) {
    // grouped / depthwise: float (binary grouped layers are not packed yet), weights in ONNX order
    if (ctx.producer.has(x) || x === ctx.plan.inputName) ctx.plan.notes.push(`${n.name} (Conv ${geom.cin}→${geom.cout} ${geom.kh}×${geom.kw}, ${groups} groups) stays float: grouped convolutions run float`);
    return push(ctx, { op: "GroupConv", node: n.name, in: floatIn(ctx, x, n), out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])), geom, groups, weights: Float32Array.from(wf), epi });
  }
  const bits = bitLayer(ctx, n, x, wf, geom, epi);
  if (typeof bits !== "string") return bits;
  if (ctx.producer.has(x) || x === ctx.plan.inputName) ctx.plan.notes.push(`${n.name} (Conv ${geom.cin}→${geom.cout} ${geom.kh}×${geom.kw}) stays float: ${bits}`);
  const rest = geom.cin * geom.kh * geom.kw;
  const wt = new Float32Array(wf.length);
  for (let o = 0; o < geom.cout; o++)
    for (let c = 0; c < geom.cin; c++)
      for (let k = 0; k < geom.kh * geom.kw; k++) wt[(k * geom.cin + c) * geom.cout + o] = wf[o * rest + c * geom.kh * geom.kw + k];
  return push(ctx, { op: "Conv", node: n.name, in: floatIn(ctx, x, n), out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])), geom, weights: wt, epi });
};

/**
 * A binary dense layer [1, cin] × [cin, cout] as a BitConv (the bdense maths): over [1, F] a 1×1
 * conv of a 1×1 map with F channels; over a flattened map [1, C, H, W] (through Flatten/Reshape
 * views) a conv whose H×W kernel covers the whole map, since ONNX's flat index c·HW + p is tap p of
 * channel c. The quantizer is recovered on the tensor in front of the views.
 */
function bitDense(ctx: Ctx, n: Node, x: string, w: Float32Array /* [cin][cout] */, cin: number, cout: number, bias?: Float32Array): ValueId | string {
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
function lowerDense(ctx: Ctx, n: Node, x: string, w: Float32Array /* [cin][cout] */, cin: number, cout: number, bias?: Float32Array): ValueId {
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

const lowerGemm: Lower = (ctx, n) => {
  const [a, bName, cName] = n.inputs;
  const b = ctx.g.consts.get(bName);
  if (!b || b.shape.length !== 2) fail("Gemm needs a constant 2-D weight (input B)", where(ctx, n));
  if (attrInt(n, "transA", 0)) fail("Gemm with transA=1 is not supported", where(ctx, n));
  const transB = attrInt(n, "transB", 0) === 1;
  const [cin, cout] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  const alpha = f(attrFloat(n, "alpha", 1)), beta = f(attrFloat(n, "beta", 1));
  // w [cin][cout] = alpha·B (or Bᵀ); alpha = 1 copies (float32 already)
  const w = new Float32Array(cin * cout), bd = b.data;
  if (transB) for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) w[i * cout + o] = bd[o * cin + i];
  else w.set(bd);
  if (alpha !== 1) for (let i = 0; i < w.length; i++) w[i] = f(alpha * w[i]);
  const c = cName ? ctx.g.consts.get(cName) : undefined;
  if (cName && (!c || (c.data.length !== cout && c.data.length !== 1))) fail("Gemm bias C must be a constant of size N", where(ctx, n));
  const bias = c ? Float32Array.from({ length: cout }, (_, o) => f(beta * c.data[c.data.length === 1 ? 0 : o])) : undefined;
  return lowerDense(ctx, n, a, w, cin, cout, bias);
};

const lowerMatMul: Lower = (ctx, n) => {
  const b = ctx.g.consts.get(n.inputs[1]);
  const as = shapeOf(ctx, n.inputs[0]);
  // [1, K] × constant [K, N] is a dense layer (binary when its weights and input quantizer decompose)
  if (b && b.shape.length === 2 && as.length === 2 && as[0] === 1 && !ctx.g.consts.has(n.inputs[0]))
    return lowerDense(ctx, n, n.inputs[0], b.data as Float32Array, b.shape[0], b.shape[1]);
  return lowerMatMulF32(ctx, n);
};

/**
 * Any other MatMul: NumPy's matmul of two tensors, activations or constants. A [..., M, K] × B [..., K, N]
 * → [..., M, N]; a 1-D A is read as [1, K] and a 1-D B as [K, 1] (that axis is absent from the result);
 * the leading (batch) axes broadcast. One matmul_f32 step runs the `batch` products in ONNX order; an
 * operand whose batch axes are all 1 is read with stride 0, one that broadcasts otherwise is expanded
 * by an index map first. Samples stay independent when every activation operand keeps the output's
 * first axis (rank ≥ 3 and the output's rank) or is A of rank 2 (its rows); else plan.mixesSamples says so.
 */
function lowerMatMulF32(ctx: Ctx, n: Node): ValueId {
  const [aName, bName] = n.inputs, ys = shapeOf(ctx, n.outputs[0]);
  const as = shapeOf(ctx, aName), bs = shapeOf(ctx, bName);
  if (!as.length || !bs.length) fail("MatMul of a scalar is not defined", where(ctx, n));
  const a2 = as.length === 1 ? [1, as[0]] : as, b2 = bs.length === 1 ? [bs[0], 1] : bs;
  const [M, K] = a2.slice(-2), [K2, N] = b2.slice(-2);
  if (K !== K2) fail(`MatMul of [${as}] and [${bs}]: inner dimensions ${K} and ${K2} differ`, where(ctx, n));
  const ra = a2.length - 2, rb = b2.length - 2, r = Math.max(ra, rb);
  const pad = (d: number[], k: number) => [...new Array(r - k).fill(1), ...d.slice(0, k)];
  const aB = pad(a2, ra), bB = pad(b2, rb);
  const batchShape = aB.map((d, i) => {
    if (d !== bB[i] && d !== 1 && bB[i] !== 1) fail(`MatMul of [${as}] and [${bs}]: batch dimensions do not broadcast`, where(ctx, n));
    return Math.max(d, bB[i]);
  });
  const batch = sizeOf(batchShape);
  if (sizeOf([...batchShape, M, N]) !== sizeOf(ys)) fail(`internal: MatMul output [${ys}] is not ${batch}×[${M}×${N}]`, where(ctx, n));
  const isConst = (name: string) => ctx.g.consts.has(name);
  for (const [name, shape, first] of [[aName, as, true], [bName, bs, false]] as const)
    if (!isConst(name) && !((shape.length >= 3 && shape.length === ys.length) || (first && shape.length === 2)))
      ctx.plan.mixesSamples.push(`node '${n.name}' (MatMul) reads '${name}' [${shape}] across its first axis`);
  // one operand as a value in ONNX order, and the floats between its consecutive matrices (0: shared)
  const operand = (name: string, mat: number[], own: number[]): { id: ValueId; stride: number } => {
    const size = mat[mat.length - 2] * mat[mat.length - 1];
    if (sizeOf(own) === 1 || own.join() === batchShape.join()) {
      const id = isConst(name) ? constValue(ctx, name, ctx.g.consts.get(name)!.shape, ONNX_ORDER, n) : floatIn(ctx, name, n, ONNX_ORDER);
      return { id, stride: sizeOf(own) === 1 ? 0 : size };
    }
    const full = [...batchShape, ...mat.slice(-2)], idx = broadcastMap(mat, full);
    if (isConst(name)) {
      const t = ctx.g.consts.get(name)!, id = ctx.plan.values.length;
      ctx.plan.values.push({ id, name: `${name}→[${full}]`, kind: "float", shape: full, layout: ONNX_ORDER, planes: 0, pinned: "const", data: Float32Array.from(idx, (j) => t.data[j]) });
      return { id, stride: size };
    }
    const inp = floatIn(ctx, name, n, ONNX_ORDER);
    return { id: push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${name}→[${full}]`, "float", full, 0, ONNX_ORDER), idx, fill: 0, what: "broadcast" }), stride: size };
  };
  if (isConst(aName) && isConst(bName)) fail("MatMul of two constants should have been folded", where(ctx, n));
  const A = operand(aName, a2, aB), B = operand(bName, b2, bB);
  ctx.plan.notes.push(`${n.name} (MatMul ${batch > 1 ? `${batch}× ` : ""}[${M}×${K}]·[${K}×${N}]) runs as a float matrix product`);
  return push(ctx, { op: "MatMul", node: n.name, in: A.id, b: B.id, out: newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER), batch, m: M, k: K, n: N, aStride: A.stride, bStride: B.stride });
}

/**
 * A constant operand of a binary op: an initializer, or a constant broadcast by Expand to the output's
 * shape (ReActNet's x + bias.expand_as(x) exports Expand(bias, Shape(x))) — the same values under
 * the op's own broadcasting.
 */
function constOperand(ctx: Ctx, name: string, outShape: number[]): Tensor | undefined {
  const c = ctx.g.consts.get(name);
  if (c) return c;
  const p = ctx.producer.get(name);
  const src = p?.op === "Expand" ? ctx.g.consts.get(p.inputs[0]) : undefined;
  return src && shapeOf(ctx, name).join() === outShape.join() ? src : undefined;
}

function binaryConst(ctx: Ctx, n: Node): { x: string; k: Float32Array; constFirst: boolean } | undefined {
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

const ones = (c: number) => new Float32Array(c).fill(1);
const VIEWS = new Set(["Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"]);

const REDUCE_OPS: Record<string, ReduceKind> = {
  ReduceSum: "sum", ReduceMean: "mean", ReduceMax: "max", ReduceMin: "min", ReduceProd: "prod", ReduceSumSquare: "sumsq",
  ReduceL1: "l1", ReduceL2: "l2", ReduceLogSum: "logsum",
};

const LOWER: Record<string, Lower> = {
  Conv: lowerConv,
  ConvTranspose: lowerWindowConv,
  Gemm: lowerGemm,
  MatMul: lowerMatMul,
  BatchNormalization: (ctx, n) => {
    const ins = n.inputs.map((i) => (i ? ctx.g.consts.get(i) : undefined));
    if (ins.slice(1, 5).some((t) => !t)) fail("BatchNormalization parameters must be constant", where(ctx, n));
    const { scale, shift } = bnScaleShift(n, ins);
    return affine(ctx, n, n.inputs[0], { scale, bias: shift });
  },
  Relu: (ctx, n) => affine(ctx, n, n.inputs[0], { act: 1 }),
  Clip: (ctx, n) => {
    // import (onnx/upgrade.ts) makes every bound an input, omitted ones ±FLT_MAX as onnxruntime clamps
    const lo = n.inputs[1] ? ctx.g.consts.get(n.inputs[1])?.data[0] : -Infinity;
    const hi = n.inputs[2] ? ctx.g.consts.get(n.inputs[2])?.data[0] : Infinity;
    if (lo === undefined || hi === undefined) return lowerElementwise(ctx, n); // bounds that are activations: a program over them
    return affine(ctx, n, n.inputs[0], { act: 2, lo, hi });
  },
  Add: (ctx, n) => {
    const bc = binaryConst(ctx, n);
    if (bc) return affine(ctx, n, bc.x, { bias: bc.k });
    const [a, b] = n.inputs;
    const sa = shapeOf(ctx, a), sb = shapeOf(ctx, b);
    if (sa.join() !== sb.join() || wholeTensor(sa)) return lowerElementwise(ctx, n);
    const res = floatIn(ctx, b, n);
    return affine(ctx, n, a, { res });
  },
  Sum: (ctx, n) => {
    // two activations of one shape: a residual add (caffe2 ResNets); anything else is elementwise
    const [a, b] = n.inputs;
    const act = (t: string) => !ctx.g.consts.has(t);
    if (n.inputs.length !== 2 || !act(a) || !act(b) || shapeOf(ctx, a).join() !== shapeOf(ctx, b).join() || shapeOf(ctx, a).join() !== shapeOf(ctx, n.outputs[0]).join() || wholeTensor(shapeOf(ctx, a))) return lowerElementwise(ctx, n);
    return affine(ctx, n, a, { res: floatIn(ctx, b, n) });
  },
  Sub: (ctx, n) => {
    const bc = binaryConst(ctx, n);
    if (!bc) return lowerElementwise(ctx, n);
    return bc.constFirst
      ? affine(ctx, n, bc.x, { scale: ones(bc.k.length).fill(-1), bias: bc.k })
      : affine(ctx, n, bc.x, { bias: bc.k.map((v) => -v) });
  },
  Mul: (ctx, n) => {
    const bc = binaryConst(ctx, n);
    if (!bc) return lowerElementwise(ctx, n);
    return affine(ctx, n, bc.x, { scale: bc.k });
  },
  Div: (ctx, n) => {
    const bc = binaryConst(ctx, n);
    if (!bc || bc.constFirst) return lowerElementwise(ctx, n);
    return affine(ctx, n, bc.x, { scale: bc.k.map((v) => f(1 / v)) });
  },
  MaxPool: (ctx, n) => pool(ctx, n, "MaxPool"),
  AveragePool: (ctx, n) => pool(ctx, n, "AveragePool"),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  ...Object.fromEntries(Object.keys(REDUCE_OPS).map((op) => [op, lowerReduce])),
  Pad: lowerPad,
  LRN: (ctx, n) => {
    const xs = shapeOf(ctx, n.inputs[0]);
    const size = attrInt(n, "size", 0);
    if (xs.length < 3 || xs[0] !== 1 || size < 1) fail(`LRN needs a [1, C, spatial…] input and a size ≥ 1, got [${xs}] and ${size}`, where(ctx, n));
    const inp = floatIn(ctx, n.inputs[0], n);
    return push(ctx, {
      op: "LRN", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", xs), npix: pixels(xs), c: xs[1], size,
      alpha: f(attrFloat(n, "alpha", 1e-4)), beta: f(attrFloat(n, "beta", 0.75)), bias: f(attrFloat(n, "bias", 1)),
    });
  },
  Concat: lowerConcat,
  Transpose: lowerTranspose,
  Softmax: lowerSoftmax,
  LogSoftmax: lowerSoftmax,
  Hardmax: lowerSoftmax,
  TopK: (ctx, n) => lowerSelect(ctx, n, 0),
  ArgMax: (ctx, n) => lowerSelect(ctx, n, 0),
  ArgMin: (ctx, n) => lowerSelect(ctx, n, 0),
  ...Object.fromEntries([...INDEX_MAP_OPS].filter((op) => op !== "Transpose" && op !== "Pad").map((op) => [op, (ctx: Ctx, n: Node) => lowerIndexMap(ctx, n)])),
  Flatten: alias,
  Reshape: alias,
  Squeeze: alias,
  Unsqueeze: alias,
  Identity: alias,
  Dropout: alias,
};

/**
 * Softmax / LogSoftmax: one row per reduced slice, the reduced elements contiguous. Opset ≥ 13
 * reduces one axis: the last (rows in ONNX order) or the channels of a [1, C, spatial…] map (rows of
 * channels-last pixels). Opsets < 13 reduce the 2-D coercion [Π d<axis, Π d≥axis]: with one row
 * (axis ≤ 1 at batch 1) the storage order does not matter and the result keeps it.
 */
function lowerSoftmax(ctx: Ctx, n: Node): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length, size = sizeOf(xs);
  const mode = n.op === "LogSoftmax" ? "log" : n.op === "Hardmax" ? "hard" : "softmax";
  const raw = attrInt(n, "axis", ctx.g.opset >= 13 ? -1 : 1), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= Math.max(1, r)) fail(`axis ${raw} is out of range for rank ${r}`, where(ctx, n));
  const step = (inp: ValueId, rows: number, len: number) =>
    push(ctx, { op: "Softmax", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", xs, 0, ctx.plan.values[inp].layout), rows, n: len, mode });
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) normalises over axis 0 (the batch)`);
  const inner = sizeOf(xs.slice(axis));
  // one row of the whole tensor: any storage order for (log-)softmax; hardmax's first maximum needs ONNX order
  if (ctx.g.opset < 13 && size === inner) return step(mode === "hard" ? floatIn(ctx, x, n, ONNX_ORDER) : floatValue(ctx, x), 1, size);
  if (ctx.g.opset < 13 || axis === r - 1) return step(floatIn(ctx, x, n, ONNX_ORDER), size / inner, inner);
  if (axis === 1 && xs[0] === 1) return step(floatIn(ctx, x, n), pixels(xs), xs[1]);
  // any other axis: [outer][len][inner] → [outer][inner][len] (index map), rows of len, and back
  const outer = sizeOf(xs.slice(0, axis)), len = xs[axis], rest = sizeOf(xs.slice(axis + 1));
  const { there, back } = axisMaps(outer, len, rest);
  const moved = (inp: ValueId, idx: Int32Array, name: string) =>
    push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, name, "float", xs, 0, ONNX_ORDER), idx, fill: 0, what: `${n.op} axis` });
  const t = moved(floatIn(ctx, x, n, ONNX_ORDER), there, `${x}@axis${axis}-last`);
  const y = push(ctx, { op: "Softmax", node: n.name, in: t, out: newValue(ctx, `${n.outputs[0]}@axis${axis}-last`, "float", xs, 0, ONNX_ORDER), rows: outer * rest, n: len, mode });
  return moved(y, back, n.outputs[0]);
}

/** [outer][len][inner] ↔ [outer][inner][len]: the index maps that move one axis innermost and back. */
function axisMaps(outer: number, len: number, inner: number, kOut = len): { there: Int32Array; back: Int32Array } {
  const there = new Int32Array(outer * inner * len), back = new Int32Array(outer * inner * kOut);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < len; k++) there[(o * inner + i) * len + k] = (o * len + k) * inner + i;
      for (let k = 0; k < kOut; k++) back[(o * kOut + k) * inner + i] = (o * inner + i) * kOut + k;
    }
  return { there, back };
}

/**
 * TopK (output 0: values, 1: indices), ArgMax, ArgMin along one axis: rows of that axis (moved
 * innermost by an index map when it is not the last), the topk_f32 kernel, and back. Indices are
 * float32 outputs (exact below 2^24), as the bundle's one output type.
 */
function lowerSelect(ctx: Ctx, n: Node, out: number): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length, name = n.outputs[out], ys = shapeOf(ctx, name);
  const arg = n.op !== "TopK";
  const raw = attrInt(n, "axis", arg ? 0 : -1), axis = raw < 0 ? raw + r : raw;
  if (axis < 0 || axis >= r) fail(`axis ${raw} is out of range for rank ${r}`, where(ctx, n));
  const kT = arg ? undefined : ctx.g.consts.get(n.inputs[1]);
  if (!arg && !kT) fail("TopK's k must be a constant", where(ctx, n));
  const k = arg ? 1 : kT!.data[0];
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) selects along axis 0 (the batch)`);
  const outer = sizeOf(xs.slice(0, axis)), len = xs[axis], inner = sizeOf(xs.slice(axis + 1));
  const step = { node: n.name, rows: outer * inner, n: len, k, largest: n.op !== "ArgMin" && (arg || attrInt(n, "largest", 1) === 1), indices: arg || out === 1, last: arg && attrInt(n, "select_last_index", 0) === 1 };
  let inp = floatIn(ctx, x, n, ONNX_ORDER);
  if (inner === 1) return push(ctx, { op: "TopK", ...step, in: inp, out: newValue(ctx, name, "float", ys, 0, ONNX_ORDER) });
  const { there, back } = axisMaps(outer, len, inner, k);
  inp = push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${x}@axis${axis}-last`, "float", [outer, inner, len], 0, ONNX_ORDER), idx: there, fill: 0, what: `${n.op} axis` });
  const sel = push(ctx, { op: "TopK", ...step, in: inp, out: newValue(ctx, `${name}@axis${axis}-last`, "float", [outer, inner, k], 0, ONNX_ORDER) });
  return push(ctx, { op: "IndexMap", node: n.name, in: sel, out: newValue(ctx, name, "float", ys, 0, ONNX_ORDER), idx: back, fill: 0, what: `${n.op} axis back` });
}

/**
 * Reduce* over one contiguous run of axes, in ONNX order ([outer][red][inner] → [outer][inner]);
 * ReduceMean / ReduceMax over exactly the spatial axes of [1, C, spatial…] (x.mean((2, 3))) run as
 * the channels-last global pools instead. Axes that are not one run are moved innermost first.
 */
function lowerReduce(ctx: Ctx, n: Node): ValueId {
  const x = n.inputs[0], xs = shapeOf(ctx, x), r = xs.length;
  const t = n.inputs[1] ? ctx.g.consts.get(n.inputs[1]) : undefined;
  if (n.inputs[1] && !t) fail("the axes input must be constant", where(ctx, n));
  let axes = [...new Set((t ? Array.from(t.data) : attrInts(n, "axes", [])).map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  if (!axes.length) {
    if (attrInt(n, "noop_with_empty_axes", 0)) return alias(ctx, n);
    axes = xs.map((_, i) => i);
  }
  const kind = REDUCE_OPS[n.op];
  if ((kind === "mean" || kind === "max") && r >= 3 && xs[0] === 1 && axes.join() === xs.slice(2).map((_, i) => i + 2).join()) return globalPool(ctx, n);
  if (axes[0] === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) reduces axis 0 (the batch)`);
  let inp = floatIn(ctx, x, n, ONNX_ORDER);
  let [outer, red, inner] = [sizeOf(xs.slice(0, axes[0])), sizeOf(xs.slice(axes[0], axes[axes.length - 1] + 1)), sizeOf(xs.slice(axes[axes.length - 1] + 1))];
  if (axes.some((a, k) => a !== axes[0] + k)) {
    // axes that are not one run: the kept axes, then the reduced ones (an index map), reduced as one run
    const perm = [...xs.keys()].filter((a) => !axes.includes(a)).concat(axes);
    const moved = perm.map((a) => xs[a]), stride = xs.map((_, a) => sizeOf(xs.slice(a + 1)));
    const idx = new Int32Array(sizeOf(xs)), at = new Array(r).fill(0);
    for (let i = 0; i < idx.length; i++) {
      idx[i] = perm.reduce((p, a, k) => p + at[k] * stride[a], 0);
      for (let k = r - 1; k >= 0; k--) {
        if (++at[k] < moved[k]) break;
        at[k] = 0;
      }
    }
    inp = push(ctx, { op: "IndexMap", node: n.name, in: inp, out: newValue(ctx, `${x}@[${perm}]`, "float", moved, 0, ONNX_ORDER), idx, fill: 0, what: `${n.op} axes [${axes}] innermost` });
    [outer, red, inner] = [sizeOf(xs) / sizeOf(axes.map((a) => xs[a])), sizeOf(axes.map((a) => xs[a])), 1];
  }
  return push(ctx, { op: "Reduce", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0]), 0, ONNX_ORDER), kind, outer, red, inner });
}

/**
 * Pad: all-zero pads are a view (torch writes one in front of every default nn.AvgPool2d); constant
 * padding of the spatial axes of a [1, C, H, W] map is a pad_f32 step; any other mode or axes an index map.
 */
function lowerPad(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), ys = shapeOf(ctx, n.outputs[0]), r = xs.length;
  const t = ctx.g.consts.get(n.inputs[1]);
  if (!t) fail("the pads input must be constant", where(ctx, n));
  if (n.inputs[3] && !ctx.g.consts.has(n.inputs[3])) fail("the axes input must be constant", where(ctx, n));
  if (xs.join() === ys.join() && Array.from(t.data).every((v) => v === 0)) return alias(ctx, n);
  const mode = attrStr(n, "mode", "constant");
  const v = n.inputs[2] ? ctx.g.consts.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && !v) fail("the constant_value input must be constant", where(ctx, n));
  const growsOnly = ys.every((d, i) => d >= xs[i]) && ys[0] === xs[0] && ys[1] === xs[1];
  if (mode !== "constant" || r !== 4 || xs[0] !== 1 || !growsOnly) return lowerIndexMap(ctx, n); // reflect/edge, other axes, crops
  // where the input lands: the reference's own output shape, and the begin pads of axes 2 and 3
  const axes = n.inputs[3] ? Array.from(ctx.g.consts.get(n.inputs[3])!.data).map((a) => (a < 0 ? a + r : a)) : [0, 1, 2, 3];
  const begin = [0, 0, 0, 0];
  axes.forEach((a, k) => (begin[a] = t.data[k]));
  const inp = floatIn(ctx, n.inputs[0], n);
  return push(ctx, {
    op: "Pad", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", ys), h: xs[2], w: xs[3], c: xs[1], oh: ys[2], ow: ys[3],
    top: begin[2], left: begin[3], value: v ? f(v.data[0]) : 0,
  });
}

function globalPool(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]);
  if (xs.length < 3 || xs[0] !== 1) fail(`${n.op} needs a [1, C, spatial…] input, got [${xs}]`, where(ctx, n));
  const inp = floatIn(ctx, n.inputs[0], n);
  const op = n.op === "GlobalMaxPool" || n.op === "ReduceMax" ? "GlobalMaxPool" : "GlobalAveragePool";
  return push(ctx, { op, node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])), c: xs[1], hw: pixels(xs) });
}

/**
 * Concat along the channels (axis 1) of [1, C_i, …] tensors: one Concat step per input, in order,
 * each copying its channels into the output at its offset (channels-last rows, or one [1, F] row).
 */
function lowerConcat(ctx: Ctx, n: Node): ValueId {
  const ys = shapeOf(ctx, n.outputs[0]), r = ys.length;
  const raw = attrInt(n, "axis", 0), axis = raw < 0 ? raw + r : raw;
  if (axis !== 1 || ys[0] !== 1) return lowerConcatOnnx(ctx, n, axis);
  const ins = n.inputs.filter((i) => i && sizeOf(shapeOf(ctx, i)) > 0);
  const parts = ins.map((i) => ({ name: i, c: shapeOf(ctx, i)[1] }));
  // inputs first (their steps may come in any order), then the copies in channel order
  const ids = parts.map((p) => floatIn(ctx, p.name, n));
  const out = newValue(ctx, n.outputs[0], "float", ys);
  let offset = 0;
  parts.forEach((p, k) => {
    push(ctx, { op: "Concat", node: n.name, in: ids[k], out, npix: pixels(ys), c: p.c, cOut: ys[1], offset });
    offset += p.c;
  });
  return out;
}

/** Transpose (rank ≤ 4; higher ranks as an index map) in ONNX order; a perm that moves axis 0 would move the batch. */
/**
 * Concat along any other axis (or of tensors whose first axis is not one sample), in ONNX order: the
 * output is [outer][Σ len_i][inner] and input i, [outer][len_i][inner], is copied at offset
 * Σ_{j<i} len_j·inner of each row — the same Concat step, rows of len_i·inner floats.
 */
function lowerConcatOnnx(ctx: Ctx, n: Node, axis: number): ValueId {
  const ys = shapeOf(ctx, n.outputs[0]);
  if (axis === 0) ctx.plan.mixesSamples.push(`node '${n.name}' (Concat) joins along axis 0 (the batch)`);
  const outer = sizeOf(ys.slice(0, axis)), inner = sizeOf(ys.slice(axis + 1));
  const ins = n.inputs.filter((i) => i && sizeOf(shapeOf(ctx, i)) > 0);
  const ids = ins.map((i) => floatIn(ctx, i, n, ONNX_ORDER));
  const out = newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER);
  let offset = 0;
  ins.forEach((name, k) => {
    const c = shapeOf(ctx, name)[axis] * inner;
    push(ctx, { op: "Concat", node: n.name, in: ids[k], out, npix: outer, c, cOut: ys[axis] * inner, offset });
    offset += c;
  });
  return out;
}

function lowerTranspose(ctx: Ctx, n: Node): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), r = xs.length;
  if (r > 4) return lowerIndexMap(ctx, n);
  const perm = attrInts(n, "perm", xs.map((_, i) => r - 1 - i));
  if (perm[0] !== 0) ctx.plan.mixesSamples.push(`node '${n.name}' (Transpose) moves axis 0 (the batch)`);
  const inp = floatIn(ctx, n.inputs[0], n, ONNX_ORDER);
  return push(ctx, { op: "Transpose", node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0]), 0, ONNX_ORDER), inDims: xs, perm });
}

function pool(ctx: Ctx, n: Node, op: "MaxPool" | "AveragePool"): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]);
  const ks = attrInts(n, "kernel_shape", []);
  if (xs.length !== 4 || ks.length !== 2 || attrInts(n, "dilations", [1, 1]).some((d) => d !== 1)) return lowerWindowPool(ctx, n, op);
  if (xs.length !== 4 || ks.length !== 2) fail(`${op} on a rank-${xs.length} input: mbn supports 2-D pooling (rank 4)`, where(ctx, n));
  if (xs[0] !== 1) fail(`${op} input [${xs}] holds ${xs[0]} maps; mbn pools one sample ([1, C, H, W]) at a time`, where(ctx, n));
  const [kh, kw] = ks;
  const g = geom2d(n, xs[2], xs[3], kh, kw, attrInt(n, "ceil_mode", 0) === 1);
  if (g.dh !== 1 || g.dw !== 1) fail("dilated pooling is not supported", where(ctx, n));
  const inp = floatIn(ctx, n.inputs[0], n);
  return push(ctx, {
    op, node: n.name, in: inp, out: newValue(ctx, n.outputs[0], "float", shapeOf(ctx, n.outputs[0])),
    geom: { ...g, c: xs[1], h: xs[2], w: xs[3] }, countIncludePad: attrInt(n, "count_include_pad", 0) === 1,
  });
}

/** ONNX ops that lower to run-time layers (besides the float elementwise programs of FLOAT_ELEMENTWISE). */
export const RUNTIME_OPS: string[] = Object.keys(LOWER);

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
