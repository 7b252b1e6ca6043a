// Harness replica: a faster input gradient for Conv2D. TensorFlow.js's WebAssembly backend computes
// Conv2D's input gradient with its Conv2DBackpropInput kernel, a plain loop nest about 3× slower than
// its XNNPACK forward convolution; in the replica's gradient (ResNet-20, Fashion-MNIST) that kernel
// took ~60 % of all kernel time. The input gradient of a convolution is itself a convolution:
//   dx = conv2d(dilate(dy, stride), rot180(W) with in/out channels swapped, stride 1,
//               pad top/left = K − 1 − pad top/left, bottom/right = what restores H × W)
// (dilate: stride − 1 zero rows/columns between dy's rows/columns), which runs on the fast kernel.
// Registered as Conv2D's gradient (NHWC, explicit or 'valid' padding, no dilation — every
// convolution the replica makes); anything else, and the filter gradient, keep tfjs's own. Same
// mathematics, summed in another order: equal to tfjs's gradient within float rounding (test).
// @ts-ignore -- generated at build time by runtime/build.mjs (npm ci runs it)
import * as bundled from "./build/tf.mjs";
import type * as TF from "@tensorflow/tfjs-core";

const tf = bundled as unknown as typeof TF;
type Tensor = TF.Tensor;
type GradConfig = NonNullable<ReturnType<typeof TF.getGradient>>;

let original: GradConfig | undefined;
let installed = false;

const pair = (v: number | number[]): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[v.length - 1]]);

/** dL/dx of y = conv2d(x, f, strides, pad) (NHWC), as a stride-1 forward convolution; undefined if the padding does not fit. */
export function convInputGradient(dy: Tensor, f: Tensor, xShape: number[], strides: number | number[], pad: number[][]): Tensor | undefined {
  const [n, H, W] = xShape, [K1, K2, , Co] = f.shape;
  const [sh, sw] = pair(strides);
  const [pt, pl] = [pad[1][0], pad[2][0]];
  const OH = dy.shape[1]!, OW = dy.shape[2]!;
  const Hd = (OH - 1) * sh + 1, Wd = (OW - 1) * sw + 1;
  const top = K1 - 1 - pt, left = K2 - 1 - pl;
  const bottom = H - Hd + K1 - 1 - top, right = W - Wd + K2 - 1 - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return undefined;
  return tf.tidy(() => {
    let d = dy;
    if (sh > 1 || sw > 1) {
      d = tf.reshape(dy, [n, OH, 1, OW, 1, Co]);
      d = tf.pad(d, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      d = tf.slice(tf.reshape(d, [n, OH * sh, OW * sw, Co]), [0, 0, 0, 0], [n, Hd, Wd, Co]);
    }
    const fr = tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(d as TF.Tensor4D, fr as TF.Tensor4D, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  });
}

/** Registers the fast input gradient for Conv2D (on) or tfjs's own (off). */
export function useFastConvGradient(on: boolean): void {
  original ??= tf.getGradient("Conv2D");
  if (!original) throw new Error("replica: TensorFlow.js registers no Conv2D gradient");
  if (on === installed) return;
  const base = original;
  const config: GradConfig = on ? {
    ...base,
    gradFunc: (dy, saved, attrs) => {
      const grads = base.gradFunc(dy, saved, attrs);
      const a = attrs as { strides: number | number[]; pad: string | number | number[][]; dataFormat?: string; dilations?: number | number[] };
      const pad = a.pad === "valid" ? [[0, 0], [0, 0], [0, 0], [0, 0]] : a.pad;
      const dil = pair(a.dilations ?? 1);
      if (!Array.isArray(pad) || (a.dataFormat ?? "NHWC") !== "NHWC" || dil[0] !== 1 || dil[1] !== 1) return grads;
      const [x, f] = saved as Tensor[];
      return { ...grads, x: () => convInputGradient(dy as Tensor, f, x.shape, a.strides, pad) ?? (grads.x as () => Tensor)() };
    },
  } : base;
  // tfjs warns when a gradient is registered twice: this replacement is deliberate
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
  installed = on;
}
