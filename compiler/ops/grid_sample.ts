// Op: GridSample (opset 16; opset 20's mode names linear/cubic), 4-D: X [N, C, H, W] sampled at the
// grid's points (Grid [N, Ho, Wo, 2], x then y in [−1, 1]) → Y [N, C, Ho, Wo]. Every mode is a
// weighted sum of input pixels, so per sample Y[c][p] = Σ_q X[c][q]·S[q][p] with a sampling matrix S
// [Q = H·W][P = Ho·Wo] computed from the grid:
//   S[q][p] = k(ix_p − x_q)·k(iy_p − y_q),   (x_q, y_q) = pixel q's column and row,
// where ix_p is grid point p's x denormalised (align_corners: (g + 1)/2·(W − 1), else ((g + 1)·W − 1)/2),
// then border: clamped to [0, W − 1]; reflection: reflected into [0, W − 1] (align_corners) or
// [−0.5, W − 0.5] and clamped to [0, W − 1] — as onnxruntime moves the coordinate, then reads the
// pixels around it with the same padding (for these kernels the two give the same sum); and k is
//   bilinear: max(0, 1 − |d|);  nearest: [round(ix) = x_q] (ties to even);  bicubic (A = −0.75, zeros
//   padding only): the cubic convolution kernel on |d| < 2.
// Zeros padding needs nothing: a tap outside the image has no pixel q. At run time: two index maps
// spread the grid's x and y over [N][Q][P], one elementwise program computes S, one matmul_f32 step
// (batch N) multiplies. S costs Q·P floats, so larger samplings are refused.
import { fail } from "../errors.ts";
import { attrInt, attrStr, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { f, type OpFn } from "../reference/kit.ts";
import { arrayProgram, gathered, pinnedConst, plain, programStep, type ProgramBuilder } from "../passes/float_steps.ts";
import { newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { int, str, type OpDef } from "./op_def.ts";

/** The largest sampling matrix (Q·P per sample) mbn builds. */
const MAX_SAMPLING = 1 << 22;
const A = -0.75;

interface Geo { N: number; C: number; H: number; W: number; Ho: number; Wo: number; mode: "bilinear" | "nearest" | "bicubic"; pad: string; align: boolean }

/** The geometry, or why mbn does not run it. */
function geometry(n: Node, xs: number[], gs: number[]): Geo | string {
  const modeAttr = attrStr(n, "mode", "bilinear"), pad = attrStr(n, "padding_mode", "zeros");
  const mode = modeAttr === "linear" ? "bilinear" : modeAttr === "cubic" ? "bicubic" : modeAttr;
  if (mode !== "bilinear" && mode !== "nearest" && mode !== "bicubic") return `mode '${modeAttr}' is not supported`;
  if (pad !== "zeros" && pad !== "border" && pad !== "reflection") return `padding_mode '${pad}' is not supported`;
  if (mode === "bicubic" && pad !== "zeros") return `bicubic with padding_mode '${pad}' is not supported (zeros only)`;
  if (xs.length !== 4 || gs.length !== 4 || gs[0] !== xs[0] || gs[3] !== 2) return `X [${xs}] and Grid [${gs}] are not a 2-D sampling ([N, C, H, W] and [N, Ho, Wo, 2])`;
  const [N, C, H, W] = xs, [, Ho, Wo] = gs;
  if (H * W * Ho * Wo > MAX_SAMPLING) return `sampling ${H}×${W} at ${Ho}×${Wo} points needs a ${H * W}×${Ho * Wo} matrix, more than mbn's ${MAX_SAMPLING} elements`;
  return { N, C, H, W, Ho, Wo, mode, pad, align: attrInt(n, "align_corners", 0) === 1 };
}

/** The program of S over sources gx, gy (grid x, y spread over [Q][P]) and px, py (pixel column and row). */
function samplingProgram(g: Geo) {
  return (p: ProgramBuilder): number => {
    const axis = (src: number, L: number, pix: number): number => {
      // denormalise
      let v = g.align ? p.emit("mul", p.emit("div", p.emit("add", src, p.k(1)), p.k(2)), p.k(L - 1)) : p.emit("div", p.emit("sub", p.emit("mul", p.emit("add", src, p.k(1)), p.k(L)), p.k(1)), p.k(2));
      if (g.pad === "reflection") {
        const lo = g.align ? 0 : -0.5, rng = g.align ? L - 1 : L;
        if (rng === 0) v = p.k(0);
        else {
          // lo + rng − |rng − ((v − lo) mod 2·rng)|, the modulo made non-negative
          let m = p.emit("fmod", p.emit("sub", v, p.k(lo)), p.k(2 * rng));
          m = p.emit("where", p.emit("lt", m, p.k(0)), p.emit("add", m, p.k(2 * rng)), m);
          v = p.emit("sub", p.k(lo + rng), p.emit("abs", p.emit("sub", p.k(rng), m)));
        }
      }
      if (g.pad !== "zeros") v = p.emit("clip", v, p.k(0), p.k(L - 1));
      if (g.mode === "nearest") return p.emit("eq", p.emit("round", v), pix);
      const d = p.emit("abs", p.emit("sub", v, pix));
      if (g.mode === "bilinear") return p.emit("relu", p.emit("sub", p.k(1), d));
      const near = p.emit("add", p.emit("mul", p.emit("mul", p.emit("sub", p.emit("mul", p.k(A + 2), d), p.k(A + 3)), d), d), p.k(1));
      const far = p.emit("sub", p.emit("mul", p.emit("add", p.emit("mul", p.emit("sub", p.emit("mul", p.k(A), d), p.k(5 * A)), d), p.k(8 * A)), d), p.k(4 * A));
      return p.emit("where", p.emit("le", d, p.k(1)), near, p.emit("where", p.emit("lt", d, p.k(2)), far, p.k(0)));
    };
    return p.emit("mul", axis(p.src(0), g.W, p.src(2)), axis(p.src(1), g.H, p.src(3)));
  };
}

/** Index maps (grid → [N][Q][P], component k) and the pixel coordinates [N][Q][P] (column, row). */
function spread(g: Geo, k: 0 | 1): Int32Array {
  const Q = g.H * g.W, P = g.Ho * g.Wo;
  return Int32Array.from({ length: g.N * Q * P }, (_, e) => {
    const nn = Math.floor(e / (Q * P)), p = e % P;
    return (nn * P + p) * 2 + k;
  });
}
const pixel = (g: Geo, k: 0 | 1) => {
  const Q = g.H * g.W, P = g.Ho * g.Wo;
  return Float32Array.from({ length: g.N * Q * P }, (_, e) => {
    const q = Math.floor(e / P) % Q;
    return k === 0 ? q % g.W : Math.floor(q / g.W);
  });
};

const gridSample: OpFn = (n, ins) => {
  const x = ins[0]!, grid = ins[1]!;
  const g = geometry(n, x.shape, grid.shape);
  if (typeof g === "string") throw new RangeError(g);
  const Q = g.H * g.W, P = g.Ho * g.Wo;
  const spreadOf = (k: 0 | 1) => Float32Array.from(spread(g, k), (j) => grid.data[j]);
  const S = arrayProgram([spreadOf(0), spreadOf(1), pixel(g, 0), pixel(g, 1)], g.N * Q * P, samplingProgram(g));
  const y = alloc("float", [g.N, g.C, g.Ho, g.Wo]);
  for (let nn = 0; nn < g.N; nn++)
    for (let c = 0; c < g.C; c++)
      for (let p = 0; p < P; p++) {
        let acc = 0;
        for (let q = 0; q < Q; q++) acc = f(acc + f(x.data[(nn * g.C + c) * Q + q] * S[(nn * Q + q) * P + p]));
        y.data[(nn * g.C + c) * P + p] = acc;
      }
  return [y];
};

function lowerGridSample(ctx: Ctx, n: Node): ValueId {
  const [xName, gridName] = n.inputs, xs = shapeOf(ctx, xName), ys = shapeOf(ctx, n.outputs[0]);
  const g = geometry(n, xs, shapeOf(ctx, gridName));
  if (typeof g === "string") return fail(g, where(ctx, n));
  const Q = g.H * g.W, P = g.Ho * g.Wo, size = [g.N, Q, P];
  const srcs = [
    gathered(ctx, n, gridName, `${gridName}.x→[Q×P]`, size, spread(g, 0), "GridSample grid x"),
    gathered(ctx, n, gridName, `${gridName}.y→[Q×P]`, size, spread(g, 1), "GridSample grid y"),
    pinnedConst(ctx, `${n.name}::pixel x`, size, pixel(g, 0)),
    pinnedConst(ctx, `${n.name}::pixel y`, size, pixel(g, 1)),
  ];
  const S = programStep(ctx, n, srcs, `${n.name}::sampling`, size, [`GridSample ${g.mode} ${g.pad} sampling matrix`], samplingProgram(g));
  ctx.plan.notes.push(`${n.name} (GridSample ${g.mode}, ${g.pad}) runs as a ${Q}×${P} sampling matrix and a float matrix product`);
  return push(ctx, {
    op: "MatMul", node: n.name, in: plain(ctx, n, xName), b: S, out: newValue(ctx, n.outputs[0], "float", ys, 0, ONNX_ORDER),
    batch: g.N, m: g.C, k: Q, n: P, aStride: g.C * Q, bStride: Q * P,
  });
}

export const GRID_SAMPLE: OpDef[] = [
  {
    op: "GridSample", attrs: { align_corners: int(0), mode: str("bilinear"), padding_mode: str("zeros") }, reference: gridSample, run: (ctx, n) => lowerGridSample(ctx, n),
    steps: ["IndexMap", "Elementwise", "MatMul"],
    shape: (n, [x, grid]) => {
      const g = grid && geometry(n, x.shape, grid.shape);
      return g && typeof g !== "string" ? [g.N, g.C, g.Ho, g.Wo] : undefined;
    },
  },
];
