// The replica's fast Conv2D input gradient (harness/replica/conv_grad.ts: a stride-1 forward
// convolution of the dilated output gradient with the flipped kernel) against TensorFlow.js's own
// Conv2DBackpropInput: on random convolutions (1×1 / 3×3 / 5×3 kernels, strides 1–2, symmetric and
// asymmetric padding, odd and even sizes) and on the zoo MBN3x1 replica's input gradient (32
// Fashion-MNIST images), equal within float rounding: max |Δ| ≤ 1e-5 · max |g| (they sum in another
// order), and the gradient signs that the attacks step along agree except where |g| is at rounding level;
// on that model it is bit-identical in practice, and so are APGD-CE's adversarial inputs with either gradient.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { tf, tfReady, type Tensor } from "../../harness/replica/tf.ts";
import { useFastConvGradient } from "../../harness/replica/conv_grad.ts";
import { rng } from "../../harness/rng.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((p, v) => Math.max(p, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((p, v, i) => Math.max(p, Math.abs(v - b[i])), 0);

describe("fast Conv2D input gradient", async () => {
  await tfReady();
  it("equals tfjs's Conv2DBackpropInput on random convolutions within float rounding", () => {
    const r = rng(9);
    const cases: [number, number, number, number, number, number, number[][]][] = [
      // n, H, W, Ci, Co, stride, [kh, kw, pt, pb, pl, pr]
      [2, 7, 7, 3, 4, 1, [[3, 3, 1, 1, 1, 1]]], [2, 8, 8, 3, 5, 2, [[3, 3, 1, 1, 1, 1]]], [1, 9, 6, 4, 2, 2, [[3, 3, 0, 1, 1, 0]]],
      [3, 8, 8, 6, 3, 2, [[1, 1, 0, 0, 0, 0]]], [1, 10, 9, 2, 2, 1, [[5, 3, 2, 2, 1, 1]]], [2, 11, 11, 3, 3, 3, [[3, 3, 0, 0, 0, 0]]],
      [1, 28, 28, 1, 16, 1, [[3, 3, 1, 1, 1, 1]]], [1, 14, 14, 16, 32, 2, [[3, 3, 1, 1, 1, 1]]],
    ];
    for (const [n, H, W, Ci, Co, s, [[kh, kw, pt, pb, pl, pr]]] of cases) {
      const x = tf.tensor4d(Float32Array.from({ length: n * H * W * Ci }, () => r() - 0.5), [n, H, W, Ci]);
      const f = tf.tensor4d(Float32Array.from({ length: kh * kw * Ci * Co }, () => r() - 0.5), [kh, kw, Ci, Co]);
      const pad = [[0, 0], [pt, pb], [pl, pr], [0, 0]] as [number, number][];
      const yShape = tf.conv2d(x, f, s, pad as any).shape;
      const dy = tf.tensor(Float32Array.from({ length: yShape.reduce((a, b) => a * b, 1) }, () => r() - 0.5), yShape);
      const grad = () => tf.grad((xi: Tensor) => tf.sum(tf.mul(tf.conv2d(xi as any, f, s, pad as any), dy)))(x).dataSync() as Float32Array;
      useFastConvGradient(false);
      const ref = grad();
      useFastConvGradient(true);
      const fast = grad();
      expect(maxDiff(fast, ref), `case ${[n, H, W, Ci, Co, s, kh, kw, pt, pb, pl, pr]}`).toBeLessThanOrEqual(1e-5 * maxAbs(ref));
      expect(maxAbs(ref)).toBeGreaterThan(0);
    }
  });

  it("the MBN3x1 replica's input gradient: same within float rounding, faster", async () => {
    const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;
    const res = compile(readFileSync(file), { file });
    const rep = await Replica.build(res.plan);
    const d = take(loadDataset("fashion-mnist"), 32);
    const timed = async (on: boolean) => {
      useFastConvGradient(on);
      await rep.gradient(d.x, d.y);
      const t = performance.now();
      const g = (await rep.gradient(d.x, d.y)).grad;
      return { g, ms: performance.now() - t };
    };
    const ref = await timed(false), fast = await timed(true);
    const scale = maxAbs(ref.g);
    let flips = 0, small = 0;
    ref.g.forEach((v, i) => {
      if (Math.sign(v) !== Math.sign(fast.g[i])) {
        flips++;
        if (Math.abs(v) <= 1e-5 * scale) small++;
      }
    });
    console.log(`MBN3x1 replica gradient, 32 images: tfjs ${ref.ms.toFixed(0)} ms, fast ${fast.ms.toFixed(0)} ms; max |Δ| ${maxDiff(fast.g, ref.g).toExponential(2)} of max |g| ${scale.toExponential(2)}; sign flips ${flips} of ${ref.g.length} (${small} at |g| ≤ 1e-5·max)`);
    expect(maxDiff(fast.g, ref.g)).toBeLessThanOrEqual(1e-5 * scale);
    expect(flips).toBe(small);
  });

  it("APGD-CE on the MBN3x1 (16 images, 10 iterations) gives the same adversarial inputs with either gradient", async () => {
    const file = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;
    const res = compile(readFileSync(file), { file });
    const bundle = await loadBundle(res.wasm);
    const data = take(loadDataset("fashion-mnist"), 16);
    const run = async (on: boolean) => {
      useFastConvGradient(on);
      return evaluateAttack({ model: "m", bundle, wasm: res.wasm, plan: res.plan, data, attack: "apgd-ce", batch: 16, params: { eps: 0.03, steps: 10, stepSize: 0, restarts: 1, queries: 0, seed: 2 } });
    };
    const ref = await run(false), fast = await run(true);
    expect(fast.record.per_sample_robust).toEqual(ref.record.per_sample_robust);
    expect(Buffer.from(fast.xadv.buffer).equals(Buffer.from(ref.xadv.buffer))).toBe(true);
  });
});
