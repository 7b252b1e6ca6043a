// Ops: RNN, GRU and LSTM (one direction, forward or reverse, layout 0, the default activations),
// unrolled over the sequence length, which X's shape fixes. Each time step is written once (`unroll`)
// against a small backend of [B, ·] matrices: a matrix product (ascending k, float32 after every
// multiply and add) and elementwise programs (runtime/kernels.json opcodes). The reference backend
// evaluates them on arrays; the lowering backend emits matmul_f32 and elementwise_f32 steps (weights
// transposed per gate and biases repeated per row by index maps), so both compute the same operations
// in the same order (sigmoid/tanh aside: the kernels' float32 math may differ by an ulp). Per ONNX:
//   RNN:  h = tanh(x·Wᵢᵀ + h·Rᵢᵀ + Wbᵢ + Rbᵢ)
//   GRU:  z = σ(x·W_zᵀ + h·R_zᵀ + Wb_z + Rb_z), r likewise, h̃ = tanh(x·W_hᵀ + (r⊙h)·R_hᵀ + Rb_h + Wb_h)
//         (linear_before_reset: x·W_hᵀ + Wb_h + r⊙(h·R_hᵀ + Rb_h)), h = (1 − z)⊙h̃ + z⊙h
//   LSTM: gates i, o, f, c in W's order; c = f⊙c + i⊙tanh(ĉ), h = o⊙tanh(c)
// A missing bias or initial state is zeros. Outputs: Y_h (and LSTM's Y_c); Y only for one time step.
import { fail } from "../errors.ts";
import { attrInt, attrStr, type Node } from "../ir/graph.ts";
import { ONNX_ORDER, type ValueId } from "../ir/plan.ts";
import { alloc, sizeOf, type Tensor } from "../ir/tensor.ts";
import { f, type OpFn } from "../reference/kit.ts";
import { arrayProgram, gathered, pinnedConst, plain, programStep, type ProgramBuilder } from "../passes/float_steps.ts";
import { newValue, push, shapeOf, where, type Ctx } from "../passes/lower.ts";
import { float, floats, int, str, strs, type OpDef } from "./op_def.ts";

type Kind = "RNN" | "GRU" | "LSTM";
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ["Tanh"], GRU: ["Sigmoid", "Tanh"], LSTM: ["Sigmoid", "Tanh", "Tanh"] };

interface Dims { T: number; B: number; I: number; H: number }

/** Why mbn does not run this node (undefined: it does), from its attributes and which inputs it has. */
function unsupported(n: Node, xs: number[], ws: number[]): string | undefined {
  const kind = n.op as Kind;
  const dir = attrStr(n, "direction", "forward");
  if (dir !== "forward" && dir !== "reverse") return `direction '${dir}' is not supported (forward or reverse)`;
  if (attrInt(n, "layout", 0) !== 0) return "layout=1 (batch first) is not supported";
  if (n.attrs.clip !== undefined) return "clip is not supported";
  if (n.attrs.activation_alpha !== undefined || n.attrs.activation_beta !== undefined) return "activation_alpha/beta are not supported";
  const acts = n.attrs.activations;
  if (acts !== undefined && (!Array.isArray(acts) || acts.join() !== DEFAULT_ACTS[kind].join())) return `activations [${String(acts)}] are not supported (the defaults only)`;
  if (kind === "LSTM" && attrInt(n, "input_forget", 0) !== 0) return "input_forget=1 is not supported";
  if (n.inputs[4]) return "sequence_lens is not supported (every sequence runs X's full length)";
  if (kind === "LSTM" && n.inputs[7]) return "peepholes (input P) are not supported";
  if (xs.length !== 3 || ws.length !== 3 || ws[0] !== 1 || ws[2] !== xs[2] || ws[1] !== GATES[kind] * attrInt(n, "hidden_size", ws[1] / GATES[kind])) return `X [${xs}] and W [${ws}] do not fit one direction of hidden_size ${attrInt(n, "hidden_size", 0)}`;
  return undefined;
}

/** The operations unroll needs, over values V holding [rows × cols] float32 matrices in row-major order. */
interface Backend<V> {
  x(t: number): V; // X_t [B, I]
  wT(g: number): V; // gate g of W, transposed: [I, H]
  rT(g: number): V; // gate g of R, transposed: [H, H]
  bias(which: 0 | 1, g: number): V; // Wb (0) or Rb (1) of gate g, repeated over B rows: [B, H]
  h0(): V;
  c0(): V;
  matmul(a: V, b: V, m: number, k: number, n: number, what: string): V;
  program(srcs: V[], what: string, build: (p: ProgramBuilder) => number): V;
}

const sum4 = (p: ProgramBuilder) => p.emit("add", p.emit("add", p.emit("add", p.src(0), p.src(1)), p.src(2)), p.src(3));

/** The time steps of one direction: the hidden state after each step (in time order of X), and the last h (and c). */
function unroll<V>(kind: Kind, be: Backend<V>, d: Dims, reverse: boolean, lbr: boolean): { ys: V[]; h: V; c: V } {
  const { T, B, I, H } = d;
  let h = be.h0(), c = be.c0();
  const ys: V[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s, x = be.x(t);
    const xw = (g: number) => be.matmul(x, be.wT(g), B, I, H, `t${t} x·W${g}ᵀ`);
    const hr = (g: number) => be.matmul(h, be.rT(g), B, H, H, `t${t} h·R${g}ᵀ`);
    const pre = (g: number) => [xw(g), hr(g), be.bias(0, g), be.bias(1, g)];
    if (kind === "RNN") h = be.program(pre(0), `t${t} h`, (p) => p.emit("tanh", sum4(p)));
    else if (kind === "GRU") {
      const z = be.program(pre(0), `t${t} z`, (p) => p.emit("sigmoid", sum4(p)));
      const r = be.program(pre(1), `t${t} r`, (p) => p.emit("sigmoid", sum4(p)));
      // srcs: x·W_hᵀ, (r⊙h)·R_hᵀ or h·R_hᵀ, Wb_h, Rb_h, z, h (and r)
      const blend = (p: ProgramBuilder, hh: number) => p.emit("add", p.emit("mul", p.emit("sub", p.k(1), p.src(4)), hh), p.emit("mul", p.src(4), p.src(5)));
      if (!lbr) {
        const rh = be.program([r, h], `t${t} r⊙h`, (p) => p.emit("mul", p.src(0), p.src(1)));
        const q = be.matmul(rh, be.rT(2), B, H, H, `t${t} (r⊙h)·R_hᵀ`);
        h = be.program([xw(2), q, be.bias(1, 2), be.bias(0, 2), z, h], `t${t} h`, (p) => blend(p, p.emit("tanh", sum4(p))));
      } else
        h = be.program([xw(2), hr(2), be.bias(1, 2), be.bias(0, 2), z, h, r], `t${t} h`, (p) =>
          blend(p, p.emit("tanh", p.emit("add", p.emit("add", p.src(0), p.src(3)), p.emit("mul", p.src(6), p.emit("add", p.src(1), p.src(2)))))));
    } else {
      const i = be.program(pre(0), `t${t} i`, (p) => p.emit("sigmoid", sum4(p)));
      const o = be.program(pre(1), `t${t} o`, (p) => p.emit("sigmoid", sum4(p)));
      const fg = be.program(pre(2), `t${t} f`, (p) => p.emit("sigmoid", sum4(p)));
      c = be.program([...pre(3), fg, c, i], `t${t} c`, (p) => p.emit("add", p.emit("mul", p.src(4), p.src(5)), p.emit("mul", p.src(6), p.emit("tanh", sum4(p)))));
      h = be.program([o, c], `t${t} h`, (p) => p.emit("mul", p.src(0), p.emit("tanh", p.src(1))));
    }
    ys[t] = h;
  }
  return { ys, h, c };
}

// ------------------------------------------------------------------------------------- reference

function referenceBackend(kind: Kind, ins: (Tensor | undefined)[], d: Dims): Backend<Float32Array> {
  const { T, B, I, H } = d, G = GATES[kind];
  const [X, W, R, Bs] = ins as Tensor[];
  const state = (t: Tensor | undefined) => (t ? Float32Array.from(t.data) : new Float32Array(B * H));
  return {
    x: (t) => Float32Array.from(X.data.subarray(t * B * I, (t + 1) * B * I)),
    wT: (g) => Float32Array.from({ length: I * H }, (_, e) => W.data[(g * H + (e % H)) * I + Math.floor(e / H)]),
    rT: (g) => Float32Array.from({ length: H * H }, (_, e) => R.data[(g * H + (e % H)) * H + Math.floor(e / H)]),
    bias: (which, g) => Float32Array.from({ length: B * H }, (_, e) => (Bs ? Bs.data[which * G * H + g * H + (e % H)] : 0)),
    h0: () => state(ins[5]),
    c0: () => state(kind === "LSTM" ? ins[6] : undefined),
    matmul: (a, b, m, k, n) => {
      const y = new Float32Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let kk = 0; kk < k; kk++) acc = f(acc + f(a[i * k + kk] * b[kk * n + j]));
          y[i * n + j] = acc;
        }
      return y;
    },
    program: (srcs, _what, build) => arrayProgram(srcs, B * H, build),
  };
}

const recurrent: OpFn = (n, ins) => {
  const kind = n.op as Kind, X = ins[0]!, W = ins[1]!;
  const why = unsupported(n, X.shape, W.shape);
  if (why) throw new RangeError(why);
  const [T, B, I] = X.shape, H = W.shape[1] / GATES[kind], d = { T, B, I, H };
  const { ys, h, c } = unroll(kind, referenceBackend(kind, ins, d), d, attrStr(n, "direction", "forward") === "reverse", attrInt(n, "linear_before_reset", 0) === 1);
  const Y = alloc("float", [T, 1, B, H]);
  ys.forEach((y, t) => Y.data.set(y, t * B * H));
  const last = (v: Float32Array) => ({ ...alloc("float", [1, B, H]), data: v });
  return kind === "LSTM" ? [Y, last(h), last(c)] : [Y, last(h)];
};

// -------------------------------------------------------------------------------------- lowering

function loweringBackend(ctx: Ctx, n: Node, d: Dims): Backend<ValueId> {
  const kind = n.op as Kind, { B, I, H } = d, G = GATES[kind];
  const [xName, wName, rName, bName] = n.inputs;
  const memo = new Map<string, ValueId>();
  const once = (key: string, make: () => ValueId) => memo.get(key) ?? (memo.set(key, make()), memo.get(key)!);
  const transposed = (name: string, g: number, rows: number, what: string) =>
    gathered(ctx, n, name, `${name}[${g}]ᵀ`, [rows, H], Int32Array.from({ length: rows * H }, (_, e) => (g * H + (e % H)) * rows + Math.floor(e / H)), what);
  const zeros = (what: string) => pinnedConst(ctx, `${n.name}::${what}`, [B, H], new Float32Array(B * H));
  const state = (name: string | undefined, what: string) => (name ? plain(ctx, n, name) : zeros(what));
  return {
    x: (t) => gathered(ctx, n, xName, `${xName}[${t}]`, [B, I], Int32Array.from({ length: B * I }, (_, e) => t * B * I + e), `${n.op} time step`),
    wT: (g) => once(`w${g}`, () => transposed(wName, g, I, `${n.op} W gate ${g}ᵀ`)),
    rT: (g) => once(`r${g}`, () => transposed(rName, g, H, `${n.op} R gate ${g}ᵀ`)),
    bias: (which, g) => once(`b${which}${g}`, () => (bName
      ? gathered(ctx, n, bName, `${bName}[${which}, ${g}]`, [B, H], Int32Array.from({ length: B * H }, (_, e) => which * G * H + g * H + (e % H)), `${n.op} bias`)
      : zeros("zero bias"))),
    h0: () => state(n.inputs[5], "h0"),
    c0: () => state(kind === "LSTM" ? n.inputs[6] : undefined, "c0"),
    matmul: (a, b, m, k, nn, what) => push(ctx, { op: "MatMul", node: n.name, in: a, b, out: newValue(ctx, `${n.name}::${what}`, "float", [m, nn], 0, ONNX_ORDER), batch: 1, m, k, n: nn, aStride: 0, bStride: 0 }),
    program: (srcs, what, build) => programStep(ctx, n, srcs, `${n.name}::${what}`, [B, H], [`${n.op} ${what}`], build),
  };
}

const unrolled = new WeakMap<Ctx, Map<Node, { ys: ValueId[]; h: ValueId; c: ValueId }>>();

function lowerRecurrent(ctx: Ctx, n: Node, out: number): ValueId {
  const xs = shapeOf(ctx, n.inputs[0]), ws = shapeOf(ctx, n.inputs[1]);
  const why = unsupported(n, xs, ws);
  if (why) fail(why, where(ctx, n));
  const [T, B, I] = xs, H = ws[1] / GATES[n.op as Kind];
  if (out === 0 && T > 1) fail(`output Y (every hidden state) of a sequence of ${T} steps is not computed; read Y_h`, where(ctx, n));
  if (B !== 1) ctx.plan.mixesSamples.push(`node '${n.name}' (${n.op}) reads its batch axis (axis 1) as rows`);
  let byNode = unrolled.get(ctx);
  if (!byNode) unrolled.set(ctx, (byNode = new Map()));
  let r = byNode.get(n);
  if (!r) {
    ctx.plan.notes.push(`${n.name} (${n.op}, ${T} step(s), hidden ${H}) runs unrolled as float matrix products and elementwise programs`);
    r = unroll(n.op as Kind, loweringBackend(ctx, n, { T, B, I, H }), { T, B, I, H }, attrStr(n, "direction", "forward") === "reverse", attrInt(n, "linear_before_reset", 0) === 1);
    byNode.set(n, r);
  }
  return out === 0 ? r.ys[0] : out === 1 ? r.h : r.c;
}

const ATTRS = {
  activation_alpha: floats(), activation_beta: floats(), activations: strs(), clip: float(), direction: str("forward"), hidden_size: int(), layout: int(0),
};
const STEPS: OpDef["steps"] = ["IndexMap", "MatMul", "Elementwise"];

export const RECURRENT: OpDef[] = (["RNN", "GRU", "LSTM"] as const).map((op): OpDef => ({
  op, reference: recurrent, run: lowerRecurrent, anyOutput: true, steps: STEPS,
  attrs: { ...ATTRS, ...(op === "GRU" ? { linear_before_reset: int(0) } : {}), ...(op === "LSTM" ? { input_forget: int(0) } : {}) },
}));
