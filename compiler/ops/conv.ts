// Ops: Conv and ConvTranspose. A 2-D conv whose weights decompose and whose input is a recovered
// quantizer becomes a BitConv (packed planes); otherwise a float Conv (channels-last), a GroupConv
// (grouped / depthwise), or — not 2-D, dilated, unequal strides, pads ≥ the kernel, transposed —
// im2col rows (an index map) and a 1×1 float conv (passes/windows.ts).
import { fail } from "../errors.ts";
import { attrInt, attrInts, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ConvGeom, type Epilogue, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { geom2d } from "../reference/nn.ts";
import { convNd, convTransposeNd, geomNd, geomTransposed } from "../reference/window.ts";
import { f } from "../reference/kit.ts";
import { bitLayer, floatIn, newValue, noEpi, push, shapeOf, where, type Ctx, type Lower } from "../passes/lower.ts";
import { convRows, rowWeights } from "../passes/windows.ts";
import { channelMap, gathered, plain, programStep } from "../passes/float_steps.ts";
import { int, ints, str, type OpDef, type ShapeRule } from "./op_def.ts";

function conv(n: Node, ins: (Tensor | undefined)[]): Tensor[] {
  const x = ins[0]!, w = ins[1]!, b = ins[2];
  if (x.shape.length !== 4 || w.shape.length !== 4) return [convNd(n, x, w, b)]; // 1-D, 3-D…: reference/window.ts
  const [N, C, H, W] = x.shape, [M, Cg, kh, kw] = w.shape;
  const group = attrInt(n, "group", 1);
  if (C !== Cg * group || M % group) throw new RangeError(`input has ${C} channels, weights expect ${Cg}×${group} groups`);
  const g = geom2d(n, H, W, kh, kw);
  const out = alloc("float", [N, M, g.oh, g.ow]);
  const mg = M / group, { oh, ow, sh, sw, dh, dw, padT, padL } = g;
  const xd = x.data, wd = w.data, od = out.data as Float32Array;
  // Each output element is Σ over (c, ky, kx) in that order of f(x·w), rounded to float32 after every
  // addition, in-bounds taps only, then + bias. The loops run tap by tap over whole output planes
  // (od holds float32, so every store rounds) — the same additions in the same order per element.
  for (let nn = 0; nn < N; nn++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(m / mg), ob = (nn * M + m) * oh * ow;
      for (let c = 0; c < Cg; c++) {
        const xb = (nn * C + gi * Cg + c) * H * W;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const wv = wd[((m * Cg + c) * kh + ky) * kw + kx];
            const ox0 = Math.max(0, Math.ceil((padL - kx * dw) / sw)), ox1 = Math.min(ow - 1, Math.floor((W - 1 + padL - kx * dw) / sw));
            if (ox0 > ox1) continue;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - padT + ky * dh;
              if (iy < 0 || iy >= H) continue;
              const xr = xb + iy * W - padL + kx * dw, orow = ob + oy * ow;
              for (let ox = ox0; ox <= ox1; ox++) od[orow + ox] += f(xd[xr + ox * sw] * wv);
            }
          }
      }
      if (b) {
        const bv = b.data[m];
        for (let o = ob; o < ob + oh * ow; o++) od[o] += bv;
      }
    }
  return [out];
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

/** Whether a conv needs the im2col path (passes/windows.ts): not 2-D, dilated, unequal strides, or pads ≥ the kernel. */
function needsWindows(ctx: Ctx, n: Node, x: string, w: Tensor): boolean {
  const xs = shapeOf(ctx, x);
  if (xs.length !== 4 || w.shape.length !== 4) return true;
  const d = attrInts(n, "dilations", [1, 1]), s = attrInts(n, "strides", [1, 1]), p = attrInts(n, "pads", [0, 0, 0, 0]);
  return d.some((v) => v !== 1) || s[0] !== s[1] || p[0] >= w.shape[2] || p[2] >= w.shape[2] || p[1] >= w.shape[3] || p[3] >= w.shape[3];
}

/**
 * A Conv or ConvTranspose whose weights or bias are activations (graph inputs): the input's im2col
 * columns cols[c·K + k][p] (passes/windows.ts's taps, an index map) and, per group g, one matrix
 * product W_g [M/g][C/g·K] · cols_g [C/g·K][P] on the matmul_f32 step, whose [M][P] result is the
 * output in ONNX order. Conv weights [M][C/g][K] are that A as they are; ConvTranspose weights
 * [C][M/g][K] are rearranged to it by an index map. A bias [M] is repeated over P (an index map) and
 * added by an elementwise program. The same terms as the reference, summed in (c, k) order.
 */
function lowerActivationConv(ctx: Ctx, n: Node): ValueId {
  const [x, wName, bName] = n.inputs, transposed = n.op === "ConvTranspose";
  const xs = shapeOf(ctx, x), ws = shapeOf(ctx, wName), ys = shapeOf(ctx, n.outputs[0]);
  if (xs[0] !== 1) fail(`${n.op} input [${xs}] holds ${xs[0]} samples; mbn convolves one sample at a time`, where(ctx, n));
  const [, C, ...dims] = xs, k = ws.slice(2), groups = attrInt(n, "group", 1), M = ys[1];
  if (ws.length !== xs.length || groups < 1 || C % groups || M % groups || C !== (transposed ? ws[0] : ws[1] * groups))
    fail(`input [${xs}] and weights [${ws}] do not match (${groups} groups)`, where(ctx, n));
  const g = transposed ? geomTransposed(n, dims, k) : geomNd(n, dims, k);
  if (g.out.join() !== ys.slice(2).join()) fail(`internal: window geometry [${g.out}] for an output [${ys}]`, where(ctx, n));
  const K = sizeOf(k), P = sizeOf(g.out), CK = C * K, cg = C / groups, mg = M / groups;
  const rows = convRows(C, dims, g, transposed); // [P][C·K]
  const cols = new Int32Array(rows.length);
  for (let p = 0; p < P; p++) for (let j = 0; j < CK; j++) cols[j * P + p] = rows[p * CK + j];
  const colsId = gathered(ctx, n, x, `${x}⊞${n.name}`, [1, CK, P], cols, `${n.op} im2col`);
  let W = plain(ctx, n, wName);
  if (transposed) {
    const widx = new Int32Array(M * cg * K);
    for (let gi = 0; gi < groups; gi++)
      for (let m = 0; m < mg; m++)
        for (let c = 0; c < cg; c++) for (let kk = 0; kk < K; kk++) widx[((gi * mg + m) * cg + c) * K + kk] = ((gi * cg + c) * mg + m) * K + kk;
    W = gathered(ctx, n, wName, `${wName}↻`, [M, cg * K], widx, "ConvTranspose weights");
  }
  ctx.plan.notes.push(`${n.name} (${n.op} [${k}]${groups > 1 ? `, ${groups} groups` : ""}, weights or bias an activation) runs float as im2col columns (an index map) and a matrix product per group`);
  const y = push(ctx, {
    op: "MatMul", node: n.name, in: W, b: colsId, out: newValue(ctx, bName ? `${n.outputs[0]}·W` : n.outputs[0], "float", ys, 0, ONNX_ORDER),
    batch: groups, m: mg, k: cg * K, n: P, aStride: mg * cg * K, bStride: cg * K * P,
  });
  if (!bName) return y;
  if (sizeOf(shapeOf(ctx, bName)) !== M) fail(`bias of shape [${shapeOf(ctx, bName)}] for ${M} output channels`, where(ctx, n));
  const bias = gathered(ctx, n, bName, `${bName}→[${ys}]`, ys, channelMap(ys), "broadcast");
  return programStep(ctx, n, [y, bias], n.outputs[0], ys, [`${n.op} + bias`], (p) => p.emit("add", p.src(0), p.src(1)));
}

const constParams = (ctx: Ctx, n: Node) => ctx.g.consts.has(n.inputs[1]) && (!n.inputs[2] || ctx.g.consts.has(n.inputs[2]));

/** Conv / ConvTranspose through im2col rows and a 1×1 float conv (passes/windows.ts). */
function lowerWindowConv(ctx: Ctx, n: Node): ValueId {
  if (!constParams(ctx, n)) return lowerActivationConv(ctx, n);
  const [x, wName, bName] = n.inputs, transposed = n.op === "ConvTranspose";
  const w = ctx.g.consts.get(wName)!, bias = bName ? ctx.g.consts.get(bName) : undefined;
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

const lowerConv: Lower = (ctx, n) => {
  const [x, wName, bName] = n.inputs;
  const w = ctx.g.consts.get(wName);
  if (!w || !constParams(ctx, n)) return lowerActivationConv(ctx, n);
  if (needsWindows(ctx, n, x, w)) return lowerWindowConv(ctx, n);
  const geom = convGeom(ctx, n, x, w);
  const bias = bName ? ctx.g.consts.get(bName) : undefined;
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

const shape: ShapeRule = (n, [x, w]) => {
  if (!w || x.shape.length !== 4 || w.shape.length !== 4) return undefined;
  const group = attrInt(n, "group", 1);
  if (x.shape[1] !== w.shape[1] * group || w.shape[0] % group) return undefined;
  const g = geom2d(n, x.shape[2], x.shape[3], w.shape[2], w.shape[3]);
  return [x.shape[0], w.shape[0], g.oh, g.ow];
};

const CONV_ATTRS = { auto_pad: str("NOTSET"), dilations: ints(), group: int(1), kernel_shape: ints(), pads: ints(), strides: ints() };

export const CONV: OpDef[] = [
  { op: "Conv", attrs: CONV_ATTRS, shape, reference: conv, run: (ctx, n) => lowerConv(ctx, n), steps: ["BitConv", "BitQuantize", "Conv", "GroupConv", "IndexMap", "MatMul", "Elementwise"] },
  {
    op: "ConvTranspose", attrs: { ...CONV_ATTRS, output_padding: ints(), output_shape: ints() },
    reference: (n, ins) => [convTransposeNd(n, ins[0]!, ins[1]!, ins[2])], run: (ctx, n) => lowerWindowConv(ctx, n), steps: ["IndexMap", "Conv", "MatMul", "Elementwise"],
  },
];
