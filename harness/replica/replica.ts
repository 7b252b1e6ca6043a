// Harness replica: a differentiable copy of a compiled model, built from the same Plan the bundle
// was emitted from, in TensorFlow.js. It only supplies gradients to FGSM/PGD; every prediction and
// every reported accuracy comes from the bundle itself.
//
// Straight-through estimator (STE), applied to *every* quantizing step of the plan (BitQuantize
// steps and quantizing epilogues — that is, every Sign / GreaterOrEqual+Where / Round / Clip edge /
// QONNX or QDQ quantizer the compiler recovered as a staircase). Forward: the exact staircase
// value(x) = v_0 + Σ_j (v_j − v_{j−1})·[x' ≥ t_j], x' = x (or −x for a decreasing channel).
// Backward: the staircase's secant slope (v_{L−1} − v_0)/(t_max − t_min + 2δ) inside the window
// [t_min − δ, t_max + δ], 0 outside, with δ = 1 for a single threshold (the hard-tanh STE used in
// training) and δ = half a step otherwise. Without it every quantizer has zero gradient almost
// everywhere and gradient attacks fail for the wrong reason (gradient masking).
import kernelList from "../../runtime/kernels.json" with { type: "json" };
import type { ElemProgram, Epilogue, Plan, QuantSpec, Step, ValueId } from "../../compiler/ir/plan.ts";
import { tf, tfReady, type Tensor } from "./tf.ts";
import { staircaseOf, stairBackward, stairForward, type Staircase } from "./staircase.ts";

const ELEM_OPS: string[] = kernelList.elementwise_ops;

// every quantizer's staircase, forward and backward, in staircase.ts
function staircase(x: Tensor, s: Staircase): Tensor {
  const last = x.shape[x.shape.length - 1];
  const f = tf.customGrad(((xin: Tensor, save: (t: Tensor[]) => void) => {
    save([xin]);
    return {
      value: tf.tensor(stairForward(xin.dataSync() as Float32Array, last, s), xin.shape, "float32"),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tensor(stairBackward(saved[0].dataSync() as Float32Array, dy.dataSync() as Float32Array, last, s), dy.shape, "float32"),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as Tensor;
}

/** Forward f, backward g(x, dy): the STE wrapper for the float fallback's piecewise-constant ops. */
function ste(f: (x: Tensor) => Tensor, g: (x: Tensor, dy: Tensor) => Tensor): (x: Tensor) => Tensor {
  return tf.customGrad(((xin: Tensor, save: (t: Tensor[]) => void) => {
    save([xin]);
    return { value: f(xin), gradFunc: (dy: Tensor, saved: Tensor[]) => g(saved[0], dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: Tensor) => Tensor;
}
const identityGrad = (_x: Tensor, dy: Tensor) => dy;
// Sign: the hard-tanh STE (gradient 1 on |x| ≤ 1); Round/Floor/Ceil/Trunc: identity. Comparisons
// (and the conditions of Where) carry no gradient, as in the graph; Where routes it to its branches.
const signSte = ste((x) => tf.sign(x), (x, dy) => tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(x), 1), "float32")));
const roundSte = ste((x) => tf.round(x), identityGrad);
const floorSte = ste((x) => tf.floor(x), identityGrad);
const ceilSte = ste((x) => tf.ceil(x), identityGrad);
const truncSte = ste((x) => tf.mul(tf.sign(x), tf.floor(tf.abs(x))), identityGrad);
const flag = (b: Tensor) => tf.cast(b, "float32");

/** The float fallback's register program (kernels/elementwise_f32.ts) on an NHWC batch. */
function elementwise(xs: Tensor[], p: ElemProgram, consts: Tensor[]): Tensor {
  const regs: Tensor[] = [...xs];
  const at = (v: number) => (v >= 0 ? regs[v] : consts[-1 - v]);
  for (let i = 0; i < p.code.length; i += 5) {
    const a = at(p.code[i + 2]), b = at(p.code[i + 3]), c = at(p.code[i + 4]);
    const ops: Record<string, () => Tensor> = {
      copy: () => a, add: () => tf.add(a, b), sub: () => tf.sub(a, b), mul: () => tf.mul(a, b), div: () => tf.div(a, b),
      max: () => tf.maximum(a, b), min: () => tf.minimum(a, b), pow: () => tf.pow(a, b), neg: () => tf.neg(a), abs: () => tf.abs(a),
      sign: () => signSte(a), sqrt: () => tf.sqrt(a), exp: () => tf.exp(a), log: () => tf.log(a), reciprocal: () => tf.div(1, a),
      floor: () => floorSte(a), ceil: () => ceilSte(a), round: () => roundSte(a), trunc: () => truncSte(a), tanh: () => tf.tanh(a),
      sigmoid: () => tf.sigmoid(a), relu: () => tf.relu(a), eq: () => flag(tf.equal(a, b)), gt: () => flag(tf.greater(a, b)),
      ge: () => flag(tf.greaterEqual(a, b)), lt: () => flag(tf.less(a, b)), le: () => flag(tf.lessEqual(a, b)),
      and: () => flag(tf.logicalAnd(tf.notEqual(a, 0), tf.notEqual(b, 0))), or: () => flag(tf.logicalOr(tf.notEqual(a, 0), tf.notEqual(b, 0))),
      not: () => flag(tf.equal(a, 0)), where: () => tf.where(tf.notEqual(tf.add(a, tf.zerosLike(b)), 0), tf.add(b, tf.zerosLike(c)), tf.add(c, tf.zerosLike(b))),
      leaky_relu: () => tf.where(tf.greaterEqual(a, 0), a, tf.mul(a, b)), clip: () => tf.minimum(tf.maximum(a, b), c),
      hard_sigmoid: () => tf.maximum(0, tf.minimum(1, tf.add(tf.mul(b, a), c))),
      sin: () => tf.sin(a), cos: () => tf.cos(a), tan: () => tf.tan(a), asin: () => tf.asin(a), acos: () => tf.acos(a), atan: () => tf.atan(a),
      sinh: () => tf.sinh(a), cosh: () => tf.cosh(a), asinh: () => tf.asinh(a), acosh: () => tf.acosh(a), atanh: () => tf.atanh(a), erf: () => tf.erf(a),
      xor: () => flag(tf.notEqual(tf.notEqual(a, 0), tf.notEqual(b, 0))),
      fmod: () => tf.sub(a, tf.mul(truncSte(tf.div(a, b)), b)),
    };
    regs[p.code[i + 1]] = ops[ELEM_OPS[p.code[i]]]();
  }
  return regs[p.result];
}

export class Replica {
  private stairs = new Map<QuantSpec, Staircase>();
  private consts = new Map<Step, Record<string, Tensor>>();

  private constructor(readonly plan: Plan) {}

  static async build(plan: Plan): Promise<Replica> {
    await tfReady();
    const r = new Replica(plan);
    for (const s of plan.steps) r.prepare(s);
    return r;
  }

  private stair(q: QuantSpec): Staircase {
    let s = this.stairs.get(q);
    if (!s) this.stairs.set(q, (s = staircaseOf(q)));
    return s;
  }

  private prepare(s: Step): void {
    const c: Record<string, Tensor> = {};
    if (s.op === "Conv") c.w = tf.tensor4d(s.weights, [s.geom.kh, s.geom.kw, s.geom.cin, s.geom.cout]);
    if (s.op === "GroupConv") {
      // one [kh][kw][cg][mg] filter per group from the ONNX-order [cout][cg][kh][kw] weights
      const { kh, kw, cin, cout } = s.geom, cg = cin / s.groups, mg = cout / s.groups;
      for (let gi = 0; gi < s.groups; gi++) {
        const w = new Float32Array(kh * kw * cg * mg);
        for (let o = 0; o < mg; o++)
          for (let ci = 0; ci < cg; ci++)
            for (let k = 0; k < kh * kw; k++) w[(k * cg + ci) * mg + o] = s.weights[((gi * mg + o) * cg + ci) * kh * kw + k];
        c[`w${gi}`] = tf.tensor4d(w, [kh, kw, cg, mg]);
      }
    }
    if (s.op === "Gemm") c.w = tf.tensor2d(s.weights, [s.cin, s.cout]);
    if (s.op === "BitConv") {
      // w[kh][kw][cin][cout] = c_w[o] + Σ_m α[o][m]·(bit ? −1 : +1)
      const { kh, kw, cin, cout } = s.geom;
      const w = new Float32Array(kh * kw * cin * cout);
      for (let o = 0; o < cout; o++)
        for (let k = 0; k < kh * kw; k++)
          for (let ci = 0; ci < cin; ci++) {
            let v = s.cw ? s.cw[o] : 0;
            for (let m = 0; m < s.m; m++) v += s.alpha[o * s.m + m] * (s.wbits[((m * cout + o) * kh * kw + k) * cin + ci] ? -1 : 1);
            w[(k * cin + ci) * cout + o] = v;
          }
      c.w = tf.tensor4d(w, [kh, kw, cin, cout]);
    }
    if ("epi" in s) {
      if (s.epi.scale) c.scale = tf.tensor1d(s.epi.scale);
      if (s.epi.bias) c.bias = tf.tensor1d(s.epi.bias);
      if (s.epi.quant) this.stair(s.epi.quant);
    }
    if (s.op === "BitQuantize") this.stair(s.quant);
    if (s.op === "IndexMap") {
      // the fill value sits one past the input's elements (the forward pass appends it)
      const n = this.plan.values[s.in].shape.reduce((p, d) => p * d, 1);
      c.idx = tf.tensor1d(Int32Array.from(s.idx, (j) => (j < 0 ? n : j)), "int32");
    }
    if (s.op === "Elementwise")
      for (let j = 0; j < s.prog.consts.length / s.c; j++) c[`k${j}`] = tf.tensor1d(s.prog.consts.subarray(j * s.c, (j + 1) * s.c));
    this.consts.set(s, c);
  }

  private epilogue(y: Tensor, e: Epilogue, c: Record<string, Tensor>, vals: Map<ValueId, Tensor>): Tensor {
    if (c.scale) y = tf.mul(y, c.scale);
    if (c.bias) y = tf.add(y, c.bias);
    if (e.res !== undefined) y = tf.add(y, tf.reshape(vals.get(e.res)!, y.shape));
    if (e.act === 1) y = tf.relu(y);
    if (e.act === 2) y = tf.clipByValue(y, e.lo, e.hi);
    if (e.fout !== undefined) vals.set(e.fout, y); // the float value the step also keeps (plan.ts Epilogue.fout)
    if (e.quant) y = staircase(y, this.stair(e.quant));
    return y;
  }

  /**
   * Logits for a batch x [n, …input] (ONNX order, as the bundle's input). Each value is held in its
   * storage order (plan.ts Layout) with the batch in front; a step reshapes what it reads to the form
   * its kernel assumes: [n, h, w, c] maps, [n, pixels, c] per-channel rows, [n, cin] dense rows.
   */
  forward(x: Tensor): Tensor {
    const p = this.plan, n = x.shape[0];
    const vals = new Map<ValueId, Tensor>([[p.input, x]]);
    // constants the plan stores whole (elementwise sources), one copy per sample
    for (const v of p.values) if (v.pinned === "const") vals.set(v.id, tf.tile(tf.tensor2d(v.data!, [1, v.data!.length]), [n, 1]));
    const get = (id: ValueId, shape: number[]): Tensor => tf.reshape(vals.get(id)!, [n, ...shape]);
    const swap = (id: ValueId, a: number, b: number) => tf.transpose(get(id, [a, b]), [0, 2, 1]); // [a][b] → [b][a]
    for (const s of p.steps) {
      const c = this.consts.get(s)!;
      let y: Tensor;
      switch (s.op) {
        case "Relayout": y = s.to === "channels_last" ? swap(s.in, s.c, s.hw) : swap(s.in, s.hw, s.c); break;
        case "Output": y = s.c > 1 ? swap(s.in, s.hw, s.c) : get(s.in, [-1]); break;
        case "GroupConv": {
          const g = s.geom, cg = g.cin / s.groups;
          const pad: [number, number][] = [[0, 0], [g.padT, g.padB], [g.padL, g.padR], [0, 0]];
          const xin = get(s.in, [g.h, g.w, g.cin]);
          const parts = Array.from({ length: s.groups }, (_, gi) =>
            tf.conv2d(tf.slice(xin, [0, 0, 0, gi * cg], [n, g.h, g.w, cg]) as any, c[`w${gi}`] as any, [g.sh, g.sw], pad as any));
          y = this.epilogue(tf.concat(parts, 3), s.epi, c, vals);
          break;
        }
        case "Conv": case "BitConv": {
          const g = s.geom;
          const pad: [number, number][] = [[0, 0], [g.padT, g.padB], [g.padL, g.padR], [0, 0]];
          y = this.epilogue(tf.conv2d(get(s.in, [g.h, g.w, g.cin]) as any, c.w as any, [g.sh, g.sw], pad as any), s.epi, c, vals);
          break;
        }
        case "Gemm": y = this.epilogue(tf.matMul(get(s.in, [s.cin]), c.w as any), s.epi, c, vals); break;
        case "Affine": y = this.epilogue(get(s.in, [-1, s.c]), s.epi, c, vals); break;
        case "BitQuantize": y = staircase(get(s.in, [-1, s.c]), this.stair(s.quant)); break;
        case "Elementwise": y = elementwise([s.in, ...s.srcs].map((id) => get(id, [-1, s.c])), s.prog, Array.from({ length: s.prog.consts.length / s.c }, (_, j) => c[`k${j}`])); break;
        case "TopK": { // indices carry no gradient; values pass it to the selected elements
          const x0 = get(s.in, [s.rows, s.n]), x = s.last ? tf.reverse(x0, -1) : x0; // ties: the last index first
          const t = tf.topk(s.largest ? x : tf.neg(x), s.k, true);
          const ix = tf.cast(t.indices, "float32");
          y = s.indices ? (s.last ? tf.sub(s.n - 1, ix) : ix) : s.largest ? t.values : tf.neg(t.values);
          break;
        }
        case "IndexMap": y = tf.gather(tf.concat([get(s.in, [-1]), tf.fill([n, 1], s.fill)], 1), c.idx, 1); break;
        case "Pad": y = tf.pad(get(s.in, [s.h, s.w, s.c]), [[0, 0], [s.top, s.oh - s.h - s.top], [s.left, s.ow - s.w - s.left], [0, 0]], s.value); break;
        case "LRN": {
          // x · (bias + alpha/size · Σ_window x²)^(−beta): the window sum as a zero-padded conv over channels
          const v = get(s.in, [s.npix, s.c]), lo = (s.size - 1) >> 1, hi = s.size - 1 - lo;
          const sq = tf.pad(tf.square(v), [[0, 0], [0, 0], [lo, hi]]);
          const win = tf.addN(Array.from({ length: s.size }, (_, j) => tf.slice(sq, [0, 0, j], [n, s.npix, s.c])));
          y = tf.mul(v, tf.pow(tf.add(s.bias, tf.mul(s.alpha / s.size, win)), -s.beta));
          break;
        }
        case "Reduce": {
          const v = get(s.in, [s.outer, s.red, s.inner]);
          const r = { sum: () => tf.sum(v, 2), mean: () => tf.mean(v, 2), max: () => tf.max(v, 2), min: () => tf.min(v, 2), prod: () => tf.prod(v, 2),
            sumsq: () => tf.sum(tf.square(v), 2), l1: () => tf.sum(tf.abs(v), 2), l2: () => tf.sqrt(tf.sum(tf.square(v), 2)), logsum: () => tf.log(tf.sum(v, 2)) };
          y = r[s.kind]();
          break;
        }
        case "Softmax": {
          const x = get(s.in, [s.rows, s.n]);
          y = s.mode === "log" ? tf.logSoftmax(x) : s.mode === "softmax" ? tf.softmax(x) : tf.cast(tf.oneHot(tf.argMax(x, -1), s.n), "float32"); // hardmax: no gradient
          break;
        }
        case "GlobalAveragePool": y = tf.mean(get(s.in, [s.hw, s.c]), [1], true); break;
        case "GlobalMaxPool": y = tf.max(get(s.in, [s.hw, s.c]), [1], true); break;
        case "Concat": { // the inputs' steps come in channel order; each appends its channels
          const piece = get(s.in, [s.npix, s.c]);
          y = s.offset === 0 ? piece : tf.concat([tf.reshape(vals.get(s.out)!, [n, s.npix, s.offset]), piece], 2);
          break;
        }
        case "Transpose": y = tf.transpose(get(s.in, s.inDims), [0, ...s.perm.map((a) => a + 1)]); break; // the replica's batch in front
        case "MatMul": { // a stride of 0 shares one matrix across the products: broadcast it
          const mat = (id: ValueId, stride: number, r: number, k: number) =>
            stride ? get(id, [s.batch, r, k]) : tf.tile(get(id, [1, r, k]), [1, s.batch, 1, 1]);
          const a = mat(s.in, s.aStride, s.m, s.k), b = mat(s.b, s.bStride, s.k, s.n);
          y = tf.matMul(tf.reshape(a, [n * s.batch, s.m, s.k]) as any, tf.reshape(b, [n * s.batch, s.k, s.n]) as any);
          break;
        }
        case "MaxPool": case "AveragePool": {
          // ceil_mode windows may reach past the bottom/right padding: pad with the extra rows too
          const g = s.geom;
          const exB = Math.max(0, (g.oh - 1) * g.sh + g.kh - (g.h + g.padT + g.padB)), exR = Math.max(0, (g.ow - 1) * g.sw + g.kw - (g.w + g.padL + g.padR));
          const pads: [number, number][] = [[0, 0], [g.padT, g.padB + exB], [g.padL, g.padR + exR], [0, 0]];
          const v = get(s.in, [g.h, g.w, g.c]);
          if (s.op === "MaxPool") y = tf.maxPool(tf.pad(v, pads, -3.4e38) as any, [g.kh, g.kw], [g.sh, g.sw], "valid");
          else {
            // mean = Σ window / count, count from a mask of what the window may count (the input, or
            // with count_include_pad the padded extent): the ratio of two average pools
            const PH = g.h + g.padT + g.padB + exB, PW = g.w + g.padL + g.padR + exR;
            const mask = new Float32Array(PH * PW);
            for (let i = 0; i < PH; i++)
              for (let j = 0; j < PW; j++) {
                const inside = s.countIncludePad ? i < g.h + g.padT + g.padB && j < g.w + g.padL + g.padR : i >= g.padT && i < g.padT + g.h && j >= g.padL && j < g.padL + g.w;
                mask[i * PW + j] = inside ? 1 : 0;
              }
            const sum = tf.avgPool(tf.pad(v, pads) as any, [g.kh, g.kw], [g.sh, g.sw], "valid");
            const cnt = tf.avgPool(tf.tensor4d(mask, [1, PH, PW, 1]) as any, [g.kh, g.kw], [g.sh, g.sw], "valid");
            y = tf.div(sum, cnt);
          }
          break;
        }
        default: throw new Error(`replica: no differentiable form for plan step ${(s as Step).op}`);
      }
      vals.set(s.out, y!);
    }
    return tf.reshape(vals.get(p.output)!, [n, -1]);
  }

  /** Logits and the input gradient of the summed cross-entropy for a batch. */
  async gradient(x: Float32Array, labels: Int32Array): Promise<{ grad: Float32Array; logits: Float32Array }> {
    const n = labels.length;
    const shape = [n, x.length / n]; // n plan runs (every step reshapes what it reads)
    return tf.tidy(() => {
      const xt = tf.tensor(x, shape);
      const yt = tf.oneHot(tf.tensor1d(labels, "int32"), this.plan.outputShape[this.plan.outputShape.length - 1]);
      let logits: Float32Array = new Float32Array(0);
      const g = tf.grad((xi: Tensor) => {
        const l = this.forward(xi);
        logits = Float32Array.from(l.dataSync() as Float32Array);
        return tf.neg(tf.sum(tf.mul(yt, tf.logSoftmax(l))));
      })(xt);
      return { grad: g.dataSync() as Float32Array, logits };
    });
  }

  logits(x: Float32Array, n: number): Float32Array {
    return tf.tidy(() => this.forward(tf.tensor(x, [n, x.length / n])).dataSync() as Float32Array);
  }
}
