// Conformance: an adjudicator for quantizer ties, written from the ONNX/QONNX operator specifications
// and independent of the compiler. ONNX fixes each tensor's type (float32) but not the order in which
// a conv sums its products, so two correct float32 implementations (onnxruntime, the bundle) may land
// on either side of a quantizer's rounding step when the exact value is within their rounding error of
// it, and every later layer inherits the difference. Two evaluations decide such cases:
//  - evalF64: the *correctly rounded* float32 evaluation: every op computed exactly (float64: a product
//    of two float32 values is exact, and a sum of a few thousand of them is off by less than 2⁻⁴⁰
//    relative) and its output rounded once to float32. tie_report.ts counts who agrees with it.
//  - evalBounds: interval bounds [lo, hi] per value that hold for *every* float32 evaluation order.
//    Each op's exact result over its input intervals is widened by a rigorous bound on the float32
//    rounding error of any summation order (Higham, "Accuracy and Stability of Numerical Algorithms",
//    §3.1: a sum of n products, each rounded, in any order, errs by at most γ_n·Σ|a_i·w_i|, with
//    γ_n = n·u/(1 − n·u), u = 2⁻²⁴), plus a small bound per elementwise op. A quantizer whose input
//    interval straddles a rounding step gives both neighbouring levels; all others give one level, so
//    the bounds stay points except where a tie really is possible. worker.ts accepts a value where the
//    bundle and onnxruntime differ beyond tolerance only if both lie inside these bounds — evidence that
//    each is some valid float32 evaluation of the graph — and reports how many such values there were.
// Ops: Conv (any groups, pads, strides, dilations), Relu, BatchNormalization, DepthToSpace (DCR, CRD),
// Resize/Upsample nearest (asymmetric coordinates, floor), Identity, Add/Sub/Mul/Div of one activation
// and a constant, and QONNX Quant (ROUND = half to even, FLOOR, CEIL). Anything else: unavailable.
import onnxProto from "onnx-proto";
import { ATOL, RTOL } from "./common.ts";

const { onnx } = onnxProto as unknown as { onnx: any };
const f32 = Math.fround;
const U = 2 ** -24; // float32 unit roundoff
const gamma = (n: number) => (n * U) / (1 - n * U);

/** A tensor of intervals [lo, hi] (lo = hi: a point). */
interface T { dims: number[]; lo: Float64Array; hi: Float64Array }
const size = (d: number[]) => d.reduce((p, v) => p * v, 1);
const point = (dims: number[], v: Float64Array): T => ({ dims, lo: v, hi: v });

/** How results are rounded: "nearest" (the correctly rounded evaluation, points stay points) or "bounds". */
type Mode = "nearest" | "bounds";
const buf = new DataView(new ArrayBuffer(4));
/** The float32 neighbours of a float32 value v (finite). */
function step32(v: number, dir: 1 | -1): number {
  if (v === 0) return dir * 2 ** -149;
  buf.setFloat32(0, v);
  const b = buf.getInt32(0);
  buf.setInt32(0, b + ((v > 0) === (dir > 0) ? 1 : -1));
  return buf.getFloat32(0);
}
/** The largest float32 ≤ x and the smallest float32 ≥ x. */
const down32 = (x: number) => { const r = f32(x); return r > x ? step32(r, -1) : r; };
const up32 = (x: number) => { const r = f32(x); return r < x ? step32(r, 1) : r; };

/**
 * The op's exact result interval [lo, hi] with an error bound err (≥ 0, absolute) of float32
 * implementations, as the mode wants it: nearest → f32(lo) (lo = hi and err is ignored); bounds →
 * the float32 interval that contains [lo − err, hi + err].
 */
function out(mode: Mode, dims: number[], lo: Float64Array, hi: Float64Array, err: Float64Array | number): T {
  if (mode === "nearest") return point(dims, lo.map(f32));
  const e = (i: number) => (typeof err === "number" ? err : err[i]);
  return { dims, lo: lo.map((v, i) => down32(v - e(i))), hi: hi.map((v, i) => up32(v + e(i))) };
}

function decode(t: any): Float64Array {
  const raw: Uint8Array | undefined = t.rawData?.length ? new Uint8Array(t.rawData).slice() : undefined;
  let data: ArrayLike<number | bigint>;
  switch (t.dataType) {
    case 1: data = raw ? new Float32Array(raw.buffer) : t.floatData; break;
    case 11: data = raw ? new Float64Array(raw.buffer) : t.doubleData; break;
    case 7: data = raw ? new BigInt64Array(raw.buffer) : t.int64Data; break;
    case 6: data = raw ? new Int32Array(raw.buffer) : t.int32Data; break;
    default: throw new Error(`initializer ${t.name}: data type ${t.dataType}`);
  }
  return Float64Array.from(Array.from(data as ArrayLike<number>, (v) => Number(v)));
}
const decodeT = (t: any): T => point((t.dims ?? []).map(Number), decode(t));

const attrOf = (n: any, name: string) => n.attribute.find((a: any) => a.name === name);
const ints = (n: any, name: string, d: number[]) => (attrOf(n, name) ? attrOf(n, name).ints.map(Number) : d);
const int = (n: any, name: string, d: number) => (attrOf(n, name) ? Number(attrOf(n, name).i) : d);
const float = (n: any, name: string, d: number) => (attrOf(n, name) ? Number(attrOf(n, name).f) : d);
const str = (n: any, name: string, d: string) => (attrOf(n, name) ? new TextDecoder().decode(attrOf(n, name).s) : d);
/** A constant operand (weights, scales): one value per element. */
function constant(t: T, what: string): Float64Array {
  if (t.lo.some((v, i) => v !== t.hi[i])) throw new Error(`${what} is not a single value (a quantizer tie in a constant)`);
  return t.lo;
}

const f64 = new DataView(new ArrayBuffer(8));
/** A nonzero finite value as odd integer · 2^low: its low exponent and its width in bits (high − low + 1). */
function bitsOf(v: number): { low: number; width: number } {
  f64.setFloat64(0, v);
  const hi = f64.getUint32(0), lo = f64.getUint32(4), e = (hi >>> 20) & 0x7ff;
  const mhi = (hi & 0xfffff) | (e ? 0x100000 : 0), exp = (e || 1) - 1075; // value = (mhi·2³² + lo)·2^exp
  const tz = lo ? 31 - Math.clz32(lo & -lo) : 32 + (31 - Math.clz32(mhi & -mhi));
  const top = mhi ? 32 + (31 - Math.clz32(mhi)) : 31 - Math.clz32(lo);
  return { low: exp + tz, width: top - tz + 1 };
}

/**
 * The binary grid of a set of values: every one is an integer multiple of 2^low with at most `width`
 * significant bits; undefined when there are more than 4096 distinct values (a continuous tensor).
 */
function gridOf(values: Iterable<number>): { low: number; width: number } | undefined {
  const seen = new Set<number>();
  let low = Infinity, width = 0;
  for (const v of values) {
    if (v === 0 || seen.has(v)) continue;
    if (seen.add(v).size > 4096) return undefined;
    const b = bitsOf(v);
    low = Math.min(low, b.low);
    width = Math.max(width, b.width);
  }
  return { low: Number.isFinite(low) ? low : 0, width };
}

/**
 * Conv: per output, the exact sum over [x]·w (+ b); the bound is γ_{n+1}·Σ|x·w| + |b| over the window's
 * n taps — or 0 where no float32 order can round: inputs and weights on binary grids (x = i·2^lx with
 * |i| < 2^wx, w likewise) whose products fit 24 bits (wx + ww ≤ 24), the bias on the products' grid
 * 2^(lx+lw), and Σ|x·w| + |b| < 2^(lx+lw+24): then every product and every partial sum, in any order,
 * is an integer multiple of 2^(lx+lw) below 2^24 of them, exactly a float32 (quantized layers with
 * power-of-two scales, where the exact value can sit on a rounding step and half-to-even decides).
 */
function conv(mode: Mode, n: any, x: T, wt: T, bt?: T): T {
  const [N, C, H, W] = x.dims, [M, Cg, kh, kw] = wt.dims;
  const w = constant(wt, "Conv weight"), b = bt ? constant(bt, "Conv bias") : undefined;
  const g = int(n, "group", 1), [sh, sw] = ints(n, "strides", [1, 1]), [dh, dw] = ints(n, "dilations", [1, 1]);
  if (str(n, "auto_pad", "NOTSET") !== "NOTSET") throw new Error("Conv auto_pad");
  const [pt, pl, pb, pr] = ints(n, "pads", [0, 0, 0, 0]);
  const oh = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1, ow = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const len = N * M * oh * ow, lo = new Float64Array(len), hi = new Float64Array(len), err = new Float64Array(len), mg = M / g;
  const single = x.lo === x.hi; // a point input (the graph input, an anchored tensor): one product per tap
  const gx = mode === "bounds" ? gridOf((function* () { yield* x.lo; yield* x.hi; })()) : undefined;
  for (let s = 0; s < N; s++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / mg) * Cg;
      const gw = gx && gridOf(w.subarray(m * Cg * kh * kw, (m + 1) * Cg * kh * kw));
      const grid = gx && gw && gx.width + gw.width <= 24 && (!b || !b[m] || bitsOf(b[m]).low >= gx.low + gw.low) ? 2 ** (gx.low + gw.low + 24) : 0;
      // one weight tap at a time over the whole output plane (contiguous rows: fast in JavaScript)
      const P = oh * ow, a = new Float64Array(P).fill(b ? b[m] : 0), z = single ? a : a.slice(), mag = new Float64Array(P).fill(b ? Math.abs(b[m]) : 0);
      const taps = new Int32Array(P).fill(b ? 1 : 0);
      for (let c = 0; c < Cg; c++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const wv = w[((m * Cg + c) * kh + ky) * kw + kx];
            const ox0 = Math.max(0, Math.ceil((pl - kx * dw) / sw)), ox1 = Math.min(ow - 1, Math.floor((W - 1 + pl - kx * dw) / sw));
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - pt + ky * dh;
              if (iy < 0 || iy >= H) continue;
              const row = ((s * C + c0 + c) * H + iy) * W - pl + kx * dw, orow = oy * ow;
              for (let ox = ox0; ox <= ox1; ox++) {
                const j = row + ox * sw, o = orow + ox;
                taps[o]++;
                if (single) {
                  const p = x.lo[j] * wv;
                  a[o] += p;
                  mag[o] += Math.abs(p);
                } else {
                  const p = x.lo[j] * wv, q = x.hi[j] * wv;
                  a[o] += Math.min(p, q);
                  z[o] += Math.max(p, q);
                  mag[o] += Math.max(Math.abs(p), Math.abs(q));
                }
              }
            }
          }
      const base = (s * M + m) * P;
      for (let o = 0; o < P; o++) {
        lo[base + o] = a[o];
        hi[base + o] = z[o];
        err[base + o] = mag[o] < grid ? 0 : gamma(taps[o] + 1) * mag[o];
      }
    }
  return out(mode, [N, M, oh, ow], lo, hi, err);
}

/** A monotone per-channel map f_c applied to [lo, hi] (increasing when up(c)), with error bound e(v, c). */
function perChannel(mode: Mode, x: T, f: (v: number, c: number) => number, up: (c: number) => boolean, e: (v: number, c: number) => number): T {
  const [, C] = x.dims, inner = size(x.dims.slice(2)), ch = (i: number) => Math.floor(i / inner) % C;
  const a = x.lo.map((v, i) => f(up(ch(i)) ? v : x.hi[i], ch(i))), z = x.hi.map((v, i) => f(up(ch(i)) ? v : x.lo[i], ch(i)));
  return out(mode, x.dims, a, z, a.map((v, i) => Math.max(e(v, ch(i)), e(z[i], ch(i)))));
}

/** A permutation of values (out[i] = x[src(i)]): exact. */
function gather(x: T, dims: number[], src: (i: number) => number): T {
  const n = size(dims), lo = new Float64Array(n), hi = new Float64Array(n);
  for (let i = 0; i < n; i++) { const j = src(i); lo[i] = x.lo[j]; hi[i] = x.hi[j]; }
  return { dims, lo, hi };
}

function depthToSpace(n: any, x: T): T {
  const [N, C, H, W] = x.dims, b = int(n, "blocksize", 1), crd = str(n, "mode", "DCR") === "CRD", c = C / (b * b);
  return gather(x, [N, c, H * b, W * b], (i) => {
    const w = i % (W * b), h = Math.floor(i / (W * b)) % (H * b), k = Math.floor(i / (W * b * H * b)) % c, s = Math.floor(i / (W * b * H * b * c));
    const by = h % b, bx = w % b, src = crd ? k * b * b + by * b + bx : (by * b + bx) * c + k;
    return ((s * C + src) * H + Math.floor(h / b)) * W + Math.floor(w / b);
  });
}

function resizeNearest(n: any, x: T, scales?: T, sizes?: T): T {
  if (str(n, "mode", "nearest") !== "nearest") throw new Error("Resize mode");
  if (str(n, "coordinate_transformation_mode", "half_pixel") !== "asymmetric" || str(n, "nearest_mode", "round_prefer_floor") !== "floor") throw new Error("Resize coordinates");
  const sz = sizes?.lo.length ? Array.from(sizes.lo) : undefined, scl = scales?.lo.length ? Array.from(scales.lo) : undefined;
  const outDims = sz ?? x.dims.map((d, i) => Math.floor(d * scl![i]));
  const sc = scl ?? outDims.map((d, i) => d / x.dims[i]);
  const r = outDims.length, stride = x.dims.map((_, i) => size(x.dims.slice(i + 1))), ostride = outDims.map((_, i) => size(outDims.slice(i + 1)));
  return gather(x, outDims, (i) => {
    let j = 0;
    for (let a = 0; a < r; a++) j += Math.min(x.dims[a] - 1, Math.floor(Math.floor(i / ostride[a]) % outDims[a] / sc[a])) * stride[a];
    return j;
  });
}

/** QONNX Quant: q = clip(round(x/s + z)), y = (q − z)·s. In bounds mode x/s + z may err by 2u (a Div and an Add). */
function quant(mode: Mode, n: any, x: T, st: T, zt: T, bt: T): T {
  const s = constant(st, "Quant scale"), z = constant(zt, "Quant zero point"), b = constant(bt, "Quant bit width")[0];
  const signed = int(n, "signed", 1) === 1, narrow = int(n, "narrow", 0) === 1;
  const lo = signed ? -(2 ** (b - 1)) + (narrow ? 1 : 0) : 0, hi = signed ? 2 ** (b - 1) - 1 : 2 ** b - 1 - (narrow ? 1 : 0);
  const rm = str(n, "rounding_mode", "ROUND").toUpperCase();
  const round = rm === "FLOOR" ? Math.floor : rm === "CEIL" ? Math.ceil : rm === "ROUND" || rm === "HALF_EVEN"
    ? (v: number) => { const r = Math.round(v); return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r; } : undefined;
  if (!round) throw new Error(`Quant rounding_mode ${rm}`);
  const at = (t: Float64Array, i: number) => (t.length === 1 ? t[0] : t[Math.floor(i / (x.lo.length / t.length))]); // per output channel (axis 0) or scalar
  // x/s is exact for a power-of-two s (no underflow at these scales), x/s + 0 too: then no slack
  const exact = (i: number) => at(z, i) === 0 && bitsOf(at(s, i)).width === 1;
  const level = (v: number, i: number, dir: number) => {
    const r = v / at(s, i) + at(z, i), e = mode === "bounds" && !exact(i) ? 2 * U * (Math.abs(v / at(s, i)) + Math.abs(r)) : 0;
    return Math.min(hi, Math.max(lo, round(r + dir * e)));
  };
  const value = (q: number, i: number) => f32((q - at(z, i)) * at(s, i));
  const a = new Float64Array(x.lo.length), c = new Float64Array(x.lo.length);
  for (let i = 0; i < a.length; i++) {
    const up = at(s, i) > 0, v0 = value(level(up ? x.lo[i] : x.hi[i], i, -1), i), v1 = value(level(up ? x.hi[i] : x.lo[i], i, 1), i);
    a[i] = Math.min(v0, v1);
    c[i] = Math.max(v0, v1);
  }
  return { dims: x.dims, lo: a, hi: c };
}

/** How an anchored tensor (a value an implementation computed) compares with the bounds computed from its inputs. */
export interface AnchorCheck { name: string; values: number; outside: number; first?: { index: number; value: number; lo: number; hi: number }; open: number }

const TOL = (v: number) => ATOL + RTOL * Math.abs(v);

function evaluate(mode: Mode, bytes: Uint8Array, inputs: Record<string, { dims: number[]; data: Float32Array }>, anchors?: Map<string, Float64Array>, checks: AnchorCheck[] = []): T | { unavailable: string } {
  const g = onnx.ModelProto.decode(bytes).graph;
  const env = new Map<string, T>();
  for (const t of g.initializer) env.set(t.name, decodeT(t));
  for (const [k, v] of Object.entries(inputs)) env.set(k, point(v.dims, Float64Array.from(v.data)));
  try {
    for (const n of g.node) {
      const ins = n.input.map((i: string) => (i ? env.get(i) : undefined));
      if (ins.some((t: T | undefined, k: number) => n.input[k] && !t)) throw new Error(`${n.opType}: input missing`);
      let y: T;
      const [x, a, b] = ins as T[];
      switch (n.opType) {
        case "Constant": y = decodeT(attrOf(n, "value").t); break;
        case "Identity": y = x; break;
        case "Conv": y = conv(mode, n, x, a, b); break;
        case "Relu": y = { dims: x.dims, lo: x.lo.map((v) => Math.max(0, v)), hi: x.hi.map((v) => Math.max(0, v)) }; break;
        case "BatchNormalization": {
          // y = (x − mean)/√(var + ε)·γ + β; float32 implementations (a fused x·k + c, or op by op) err by
          // a few roundings of each term: bound 8u·(|k·x| + |k·mean| + |β|)
          const [, sc, bi, mean, v] = (ins as T[]).slice(0, 5).map((t, k) => (k ? constant(t, "BatchNormalization parameter") : t.lo));
          const eps = float(n, "epsilon", 1e-5), k = (c: number) => sc[c] / Math.sqrt(v[c] + eps);
          y = perChannel(mode, x, (u, c) => (u - mean[c]) * k(c) + bi[c], (c) => k(c) >= 0,
            (u, c) => 8 * U * (Math.abs(k(c) * u) + Math.abs(k(c) * mean[c]) + Math.abs(bi[c])));
          break;
        }
        case "DepthToSpace": y = depthToSpace(n, x); break;
        case "Resize": y = resizeNearest(n, x, ins[2], ins[3]); break;
        case "Add": case "Sub": case "Mul": case "Div": {
          const kv = constant(a, `${n.opType} operand`);
          if (kv.length !== 1) throw new Error(`${n.opType} of two tensors`);
          const k = kv[0], op = n.opType;
          const f = (v: number) => (op === "Add" ? v + k : op === "Sub" ? v - k : op === "Mul" ? v * k : v / k);
          const inc = !((op === "Mul" || op === "Div") && k < 0), l = x.lo.map((v, i) => f(inc ? v : x.hi[i])), h = x.hi.map((v, i) => f(inc ? v : x.lo[i]));
          y = out(mode, x.dims, l, h, l.map((v, i) => U * Math.max(Math.abs(v), Math.abs(h[i]))));
          break;
        }
        case "Quant": y = quant(mode, n, x, a, b, ins[3] as T); break;
        default: return { unavailable: `no float64 evaluation of ${n.opType}` };
      }
      const anchor = anchors?.get(n.output[0]);
      if (anchor) {
        // check the implementation's tensor against the bounds, then continue from its values
        if (anchor.length !== y.lo.length) throw new Error(`anchor '${n.output[0]}' has ${anchor.length} values, the tensor ${y.lo.length}`);
        const c: AnchorCheck = { name: n.output[0], values: anchor.length, outside: 0, open: 0 };
        anchor.forEach((v, i) => {
          if (y.hi[i] - y.lo[i] > TOL(y.lo[i])) c.open++;
          if (v >= y.lo[i] - TOL(y.lo[i]) && v <= y.hi[i] + TOL(y.hi[i])) return;
          if (!c.outside++) c.first = { index: i, value: v, lo: y.lo[i], hi: y.hi[i] };
        });
        checks.push(c);
        y = point(y.dims, anchor);
      }
      env.set(n.output[0], y);
    }
  } catch (e) {
    return { unavailable: `float64 evaluation: ${(e as Error).message}` };
  }
  return env.get(g.output[0].name) ?? { unavailable: "no output" };
}

/** The correctly rounded float32 evaluation of `bytes` on named float inputs, or why there is none. */
export function evalF64(bytes: Uint8Array, inputs: Record<string, { dims: number[]; data: Float32Array }>): { output: Float32Array } | { unavailable: string } {
  const t = evaluate("nearest", bytes, inputs);
  return "unavailable" in t ? t : { output: Float32Array.from(t.lo) };
}

/**
 * Bounds [lo, hi] per output value that every float32 evaluation order of `bytes` respects, or why there
 * are none. With anchors (ONNX tensor name → values an implementation computed, ONNX order), each
 * anchored tensor is checked against the bounds computed from the anchored values upstream (`checks`),
 * and evaluation continues from it: the output bounds are then those of the implementation's own last
 * layers' inputs, which a tie decided upstream no longer widens.
 */
export function evalBounds(bytes: Uint8Array, inputs: Record<string, { dims: number[]; data: Float32Array }>, anchors?: Map<string, Float64Array>): { lo: Float32Array; hi: Float32Array; checks: AnchorCheck[] } | { unavailable: string } {
  const checks: AnchorCheck[] = [];
  const t = evaluate("bounds", bytes, inputs, anchors, checks);
  return "unavailable" in t ? t : { lo: Float32Array.from(t.lo), hi: Float32Array.from(t.hi), checks };
}
