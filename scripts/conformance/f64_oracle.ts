// Conformance: an adjudicator for quantizer ties, written from the ONNX/QONNX operator specifications
// and independent of the compiler. onnxruntime sums a conv's products in float32 in its own order; when
// such a sum lands within its rounding error of a quantizer's step, onnxruntime and the bundle (whose
// binary convs sum exactly in integers) may pick neighbouring levels, and every later layer inherits
// the difference. Who is right is decided by the *correctly rounded* float32 evaluation of the graph:
// every op computed exactly (float64: a product of two float32 values is exact, and a sum of a few
// thousand of them is off by less than 2⁻⁴⁰ relative) and its output rounded once to float32, as the
// ONNX type system says each tensor is. worker.ts accepts a value where the bundle and onnxruntime
// differ only if this evaluation gives the bundle's value there.
// Ops: Conv (any groups, pads, strides, dilations), Relu, BatchNormalization, DepthToSpace (DCR, CRD),
// Resize/Upsample nearest (asymmetric coordinates, floor), Identity, Add/Sub/Mul/Div of one activation
// and a constant, and QONNX Quant (ROUND = half to even, FLOOR, CEIL). Anything else: unavailable.
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: any };
const f32 = Math.fround;

interface T { dims: number[]; data: Float64Array }
const size = (d: number[]) => d.reduce((p, v) => p * v, 1);

function decode(t: any): T {
  const dims = (t.dims ?? []).map(Number);
  const raw: Uint8Array | undefined = t.rawData?.length ? new Uint8Array(t.rawData).slice() : undefined;
  let data: ArrayLike<number | bigint>;
  switch (t.dataType) {
    case 1: data = raw ? new Float32Array(raw.buffer) : t.floatData; break;
    case 11: data = raw ? new Float64Array(raw.buffer) : t.doubleData; break;
    case 7: data = raw ? new BigInt64Array(raw.buffer) : t.int64Data; break;
    case 6: data = raw ? new Int32Array(raw.buffer) : t.int32Data; break;
    default: throw new Error(`initializer ${t.name}: data type ${t.dataType}`);
  }
  return { dims, data: Float64Array.from(Array.from(data as ArrayLike<number>, (v) => Number(v))) };
}

const attrOf = (n: any, name: string) => n.attribute.find((a: any) => a.name === name);
const ints = (n: any, name: string, d: number[]) => (attrOf(n, name) ? attrOf(n, name).ints.map(Number) : d);
const int = (n: any, name: string, d: number) => (attrOf(n, name) ? Number(attrOf(n, name).i) : d);
const float = (n: any, name: string, d: number) => (attrOf(n, name) ? Number(attrOf(n, name).f) : d);
const str = (n: any, name: string, d: string) => (attrOf(n, name) ? new TextDecoder().decode(attrOf(n, name).s) : d);
const rounded = (dims: number[], data: Float64Array): T => ({ dims, data: data.map(f32) });

function conv(n: any, x: T, w: T, b?: T): T {
  const [N, C, H, W] = x.dims, [M, Cg, kh, kw] = w.dims;
  const g = int(n, "group", 1), [sh, sw] = ints(n, "strides", [1, 1]), [dh, dw] = ints(n, "dilations", [1, 1]);
  if (str(n, "auto_pad", "NOTSET") !== "NOTSET") throw new Error("Conv auto_pad");
  const [pt, pl, pb, pr] = ints(n, "pads", [0, 0, 0, 0]);
  const oh = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1, ow = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const y = new Float64Array(N * M * oh * ow), mg = M / g;
  for (let s = 0; s < N; s++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / mg) * Cg;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = b ? b.data[m] : 0;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - pt + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= W) continue;
                acc += x.data[((s * C + c0 + c) * H + iy) * W + ix] * w.data[((m * Cg + c) * kh + ky) * kw + kx];
              }
            }
          y[((s * M + m) * oh + oy) * ow + ox] = acc;
        }
    }
  return rounded([N, M, oh, ow], y);
}

function perChannel(x: T, f: (v: number, c: number) => number): T {
  const [, C] = x.dims, inner = size(x.dims.slice(2));
  return rounded(x.dims, x.data.map((v, i) => f(v, Math.floor(i / inner) % C)));
}

function depthToSpace(n: any, x: T): T {
  const [N, C, H, W] = x.dims, b = int(n, "blocksize", 1), crd = str(n, "mode", "DCR") === "CRD", c = C / (b * b);
  const y = new Float64Array(x.data.length);
  for (let s = 0; s < N; s++)
    for (let k = 0; k < c; k++)
      for (let h = 0; h < H * b; h++)
        for (let w = 0; w < W * b; w++) {
          const by = h % b, bx = w % b;
          const src = crd ? k * b * b + by * b + bx : (by * b + bx) * c + k;
          y[((s * c + k) * H * b + h) * W * b + w] = x.data[((s * C + src) * H + Math.floor(h / b)) * W + Math.floor(w / b)];
        }
  return { dims: [N, c, H * b, W * b], data: y };
}

function resizeNearest(n: any, x: T, scales?: T, sizes?: T): T {
  if (str(n, "mode", "nearest") !== "nearest") throw new Error("Resize mode");
  if (str(n, "coordinate_transformation_mode", "half_pixel") !== "asymmetric" || str(n, "nearest_mode", "round_prefer_floor") !== "floor") throw new Error("Resize coordinates");
  const out = sizes?.data.length ? Array.from(sizes.data) : x.dims.map((d, i) => Math.floor(d * scales!.data[i]));
  const sc = scales?.data.length ? Array.from(scales.data) : out.map((d, i) => d / x.dims[i]);
  const y = new Float64Array(size(out)), r = out.length, at = new Array(r).fill(0);
  const stride = x.dims.map((_, i) => size(x.dims.slice(i + 1)));
  for (let i = 0; i < y.length; i++) {
    let j = 0;
    for (let a = 0; a < r; a++) j += Math.min(x.dims[a] - 1, Math.floor(at[a] / sc[a])) * stride[a];
    y[i] = x.data[j];
    for (let a = r - 1; a >= 0; a--) if (++at[a] < out[a]) break; else at[a] = 0;
  }
  return { dims: out, data: y };
}

function quant(n: any, x: T, s: T, z: T, bits: T): T {
  const b = bits.data[0], signed = int(n, "signed", 1) === 1, narrow = int(n, "narrow", 0) === 1;
  const lo = signed ? -(2 ** (b - 1)) + (narrow ? 1 : 0) : 0, hi = signed ? 2 ** (b - 1) - 1 : 2 ** b - 1 - (narrow ? 1 : 0);
  const mode = str(n, "rounding_mode", "ROUND").toUpperCase();
  const round = mode === "FLOOR" ? Math.floor : mode === "CEIL" ? Math.ceil : mode === "ROUND" || mode === "HALF_EVEN"
    ? (v: number) => { const r = Math.round(v); return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r; } : undefined;
  if (!round) throw new Error(`Quant rounding_mode ${mode}`);
  const at = (t: T, i: number) => (t.data.length === 1 ? t.data[0] : t.data[Math.floor(i / (x.data.length / t.data.length))]); // per output channel (axis 0) or scalar
  return rounded(x.dims, x.data.map((v, i) => {
    const sv = at(s, i), zv = at(z, i);
    return (Math.min(hi, Math.max(lo, round(v / sv + zv))) - zv) * sv;
  }));
}

/** The correctly rounded float32 evaluation of `bytes` on named float inputs, or why there is none. */
export function evalF64(bytes: Uint8Array, inputs: Record<string, { dims: number[]; data: Float32Array }>): { output: Float32Array } | { unavailable: string } {
  const g = onnx.ModelProto.decode(bytes).graph;
  const env = new Map<string, T>();
  for (const t of g.initializer) env.set(t.name, decode(t));
  for (const [k, v] of Object.entries(inputs)) env.set(k, { dims: v.dims, data: Float64Array.from(v.data) });
  try {
    for (const n of g.node) {
      const ins = n.input.map((i: string) => (i ? env.get(i) : undefined));
      if (ins.some((t: T | undefined, k: number) => n.input[k] && !t)) throw new Error(`${n.opType}: input missing`);
      let y: T;
      const [x, a, b] = ins as T[];
      switch (n.opType) {
        case "Constant": y = decode(attrOf(n, "value").t); break;
        case "Identity": y = x; break;
        case "Conv": y = conv(n, x, a, b); break;
        case "Relu": y = { dims: x.dims, data: x.data.map((v) => Math.max(0, v)) }; break;
        case "BatchNormalization": {
          const [, sc, bi, mean, v] = ins as T[], eps = float(n, "epsilon", 1e-5);
          y = perChannel(x, (u, c) => ((u - mean.data[c]) / Math.sqrt(v.data[c] + eps)) * sc.data[c] + bi.data[c]);
          break;
        }
        case "DepthToSpace": y = depthToSpace(n, x); break;
        case "Resize": y = resizeNearest(n, x, ins[2], ins[3]); break;
        case "Add": case "Sub": case "Mul": case "Div": {
          if (a.data.length !== 1) throw new Error(`${n.opType} of two tensors`);
          const k = a.data[0], op = n.opType;
          y = rounded(x.dims, x.data.map((v) => (op === "Add" ? v + k : op === "Sub" ? v - k : op === "Mul" ? v * k : v / k)));
          break;
        }
        case "Quant": y = quant(n, x, a, b, ins[3] as T); break;
        default: return { unavailable: `no float64 evaluation of ${n.opType}` };
      }
      env.set(n.output[0], y);
    }
  } catch (e) {
    return { unavailable: `float64 evaluation: ${(e as Error).message}` };
  }
  const out = env.get(g.output[0].name);
  return out ? { output: Float32Array.from(out.data) } : { unavailable: "no output" };
}
