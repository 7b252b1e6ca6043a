// Runtime kernel: the float fallback for an elementwise region that is not a quantizer staircase
// (a smooth activation such as SiLU or Tanh, a Sign feeding a float conv, QDQ pairs around float
// layers, …). The compiler turns the region into a small register program (kernels.json
// "elementwise_ops"); this kernel runs it on each pixel, one instruction over all C channels at a
// time. Registers and constants are rows of C floats: registers 0..nsrc−1 hold the pixel of each
// source (one for a region over one tensor; n for Div/Sub/Max… of n activations of one shape), constant
// rows hold per-channel (or broadcast scalar) operands. Every operation is float32 as in the ONNX
// graph; exp/log/tanh/pow/sigmoid use AssemblyScript's musl-derived float32 math (within a few ulp
// of onnxruntime's, see the e2e tolerance). No allocation.
import { pi, pu } from "../params";
import * as OP from "./elementwise_ops";
import { acosh64, asinh64, atanh64, cosh64, erf64, sinh64 } from "./math64";
import { channelLanes } from "./epilogue";

@inline function row(v: i32, regs: usize, consts: usize, rowBytes: usize): usize {
  return v >= 0 ? regs + <usize>v * rowBytes : consts + <usize>(-1 - v) * rowBytes;
}

@inline function flag(b: bool): f32 {
  return b ? 1 : 0;
}

function apply(op: i32, d: usize, a: usize, b: usize, c3: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(a + o);
    const y = load<f32>(b + o); // unused operands point at register 0
    let r: f32 = 0;
    switch (op) {
      case OP.OP_COPY: r = x; break;
      case OP.OP_ADD: r = x + y; break;
      case OP.OP_SUB: r = x - y; break;
      case OP.OP_MUL: r = x * y; break;
      case OP.OP_DIV: r = x / y; break;
      case OP.OP_MAX: r = max(x, y); break;
      case OP.OP_MIN: r = min(x, y); break;
      case OP.OP_POW: r = Mathf.pow(x, y); break;
      case OP.OP_NEG: r = -x; break;
      case OP.OP_ABS: r = abs(x); break;
      case OP.OP_SIGN: r = x > 0 ? 1 : x < 0 ? -1 : x; break; // sign(±0) = ±0, NaN stays NaN
      case OP.OP_SQRT: r = sqrt(x); break;
      case OP.OP_EXP: r = Mathf.exp(x); break;
      case OP.OP_LOG: r = Mathf.log(x); break;
      case OP.OP_RECIPROCAL: r = <f32>1 / x; break;
      case OP.OP_FLOOR: r = floor(x); break;
      case OP.OP_CEIL: r = ceil(x); break;
      case OP.OP_ROUND: r = nearest(x); break; // ties to even, as ONNX Round
      case OP.OP_TRUNC: r = trunc(x); break;
      case OP.OP_TANH: r = Mathf.tanh(x); break;
      case OP.OP_SIGMOID: r = <f32>1 / (<f32>1 + Mathf.exp(-x)); break;
      case OP.OP_RELU: r = x > 0 ? x : x != x ? x : 0; break;
      case OP.OP_EQ: r = flag(x == y); break;
      case OP.OP_GT: r = flag(x > y); break;
      case OP.OP_GE: r = flag(x >= y); break;
      case OP.OP_LT: r = flag(x < y); break;
      case OP.OP_LE: r = flag(x <= y); break;
      case OP.OP_AND: r = flag(x != 0 && y != 0); break;
      case OP.OP_OR: r = flag(x != 0 || y != 0); break;
      case OP.OP_NOT: r = flag(x == 0); break;
      case OP.OP_WHERE: r = x != 0 ? y : load<f32>(c3 + o); break;
      case OP.OP_LEAKY_RELU: r = x >= 0 ? x : x * y; break;
      case OP.OP_CLIP: r = min(max(x, y), load<f32>(c3 + o)); break;
      case OP.OP_HARD_SIGMOID: r = max(<f32>0, min(<f32>1, y * x + load<f32>(c3 + o))); break;
      // MBN_EXT_MATH: a compile-time constant from asconfig.json ("use": MBN_EXT_MATH=0 or 1); the core runtimes drop extended()
      // @ts-ignore
      default: if (MBN_EXT_MATH) r = extended(op, x, y);
    }
    store<f32>(d + o, r);
  }
}

/** The extended opcodes (kernels.json "elementwise_extended"): trigonometric in float32 (musl), hyperbolic and erf in float64 (math64.ts), rounded once. */
function extended(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case OP.OP_SIN: return Mathf.sin(x);
    case OP.OP_COS: return Mathf.cos(x);
    case OP.OP_TAN: return Mathf.tan(x);
    case OP.OP_ASIN: return Mathf.asin(x);
    case OP.OP_ACOS: return Mathf.acos(x);
    case OP.OP_ATAN: return Mathf.atan(x);
    case OP.OP_SINH: return <f32>sinh64(x);
    case OP.OP_COSH: return <f32>cosh64(x);
    case OP.OP_ASINH: return <f32>asinh64(x);
    case OP.OP_ACOSH: return <f32>acosh64(x);
    case OP.OP_ATANH: return <f32>atanh64(x);
    case OP.OP_ERF: return <f32>erf64(x);
    case OP.OP_XOR: return flag((x != 0) != (y != 0));
    case OP.OP_FMOD: return x % y; // C fmod: the sign of the dividend (ONNX Mod with fmod = 1)
  }
  return NaN;
}

// The whole tensor through one loop per operation: out = src op k[ch] for the npix·c floats, channel
// ch cycling through 0..c−1 (NHWC). The same float32 operation on each element as apply(). On SIMD,
// rows of fewer than four channels (an image's x / std) go four pixels at a time as c vectors, the
// constant's lanes cycling with them (as epilogue.ts epilogue_flat does); the floats past the last
// whole group go through the scalar loops.
function constRowOp(op: i32, src: usize, k: usize, out: usize, total: i32, c: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && c > 0 && c < 4) {
    const gBytes = <usize>(4 * c) << 2, groups = total / (4 * c), end = <usize>groups * gBytes;
    for (let v = 0; v < c; v++) {
      const kv = channelLanes(k, v, c);
      for (let q = <usize>v << 4; q < end; q += gBytes) {
        const x = v128.load(src + q);
        v128.store(out + q, op == OP.OP_DIV ? f32x4.div(x, kv) : op == OP.OP_MUL ? f32x4.mul(x, kv) : op == OP.OP_SUB ? f32x4.sub(x, kv) : f32x4.add(x, kv));
      }
    }
    i = groups * 4 * c;
  }
  let ch = i ? i % c : 0;
  if (op == OP.OP_DIV) {
    for (; i < total; i++) {
      store<f32>(out + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) / load<f32>(k + (<usize>ch << 2)));
      if (++ch == c) ch = 0;
    }
  } else if (op == OP.OP_MUL) {
    for (; i < total; i++) {
      store<f32>(out + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) * load<f32>(k + (<usize>ch << 2)));
      if (++ch == c) ch = 0;
    }
  } else if (op == OP.OP_SUB) {
    for (; i < total; i++) {
      store<f32>(out + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) - load<f32>(k + (<usize>ch << 2)));
      if (++ch == c) ch = 0;
    }
  } else {
    for (; i < total; i++) {
      store<f32>(out + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) + load<f32>(k + (<usize>ch << 2)));
      if (++ch == c) ch = 0;
    }
  }
}

export function elementwise_f32(p: usize): void {
  const npix = pi(p, 1), c = pi(p, 2), out = pu(p, 3), prog = pu(p, 4), n = pi(p, 5);
  const consts = pu(p, 6), regs = pu(p, 7), result = pi(p, 8), srcs = pu(p, 9), nsrc = pi(p, 10);
  const rowBytes = <usize>c << 2;
  // one instruction `src op constant row` (a network's input normalisation, x / std): no per-pixel
  // register copies and no interpretation per element, which dominate where a pixel is one or three
  // floats (results/ab-ew-const.json)
  if (nsrc == 1 && n == 1) {
    const op = load<i32>(prog), a = load<i32>(prog, 8), b = load<i32>(prog, 12);
    if (load<i32>(prog, 4) == result && a == 0 && b < 0 && (op == OP.OP_ADD || op == OP.OP_SUB || op == OP.OP_MUL || op == OP.OP_DIV)) {
      constRowOp(op, pu(srcs, 0), row(b, regs, consts, rowBytes), out, npix * c, c);
      return;
    }
  }
  for (let pix = 0; pix < npix; pix++) {
    for (let s = 0; s < nsrc; s++) memory.copy(regs + <usize>s * rowBytes, pu(srcs, s) + <usize>pix * rowBytes, rowBytes);
    for (let i = 0; i < n; i++) {
      const ins = prog + <usize>i * 20;
      apply(
        load<i32>(ins), regs + <usize>load<i32>(ins, 4) * rowBytes, row(load<i32>(ins, 8), regs, consts, rowBytes),
        row(load<i32>(ins, 12), regs, consts, rowBytes), row(load<i32>(ins, 16), regs, consts, rowBytes), c,
      );
    }
    memory.copy(out + <usize>pix * rowBytes, regs + <usize>result * rowBytes, rowBytes);
  }
}
