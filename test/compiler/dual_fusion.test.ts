// Epilogue fusion with a kept float copy (passes/fuse_epilogues.ts rule 2, Epilogue.fout, issue 16):
// a residual block's conv packs the next block's bits and stores the float shortcut in one pass. The
// fused bundle must give the same outputs, bit for bit, as the plan without the rule (a conv, then a
// standalone quantize step) on the ResNet-20 fixtures and the zoo models, on random inputs and the
// zoo's Fashion-MNIST test images, in both runtime builds (simd and scalar); the attack replica
// (harness/replica) of the fused plan computes what it computes for the plan without the rule.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runtimeFor } from "../../compiler/index.ts";
import { compilePipeline, type Target } from "../../compiler/pipeline.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { rng } from "../../harness/rng.ts";
import { Replica } from "../../harness/replica/replica.ts";

const FIXTURES = ["mbn3x1", "mbn1x1", "mbn3x3", "fxp2", "fp32"].map((m) => `test/fixtures/resnet20_cifar_${m}.onnx`);
const ZOO = ["mbn3x1", "mbn1x1", "mbn3x3", "fxp2"].map((m) => `models/zoo/fmnist_resnet20_${m}/model.onnx`);

async function both(file: string, target: Target) {
  const onnx = readFileSync(file);
  const opts = { target, runtime: (ext: boolean) => runtimeFor(target, ext), file };
  const fused = compilePipeline(onnx, opts), before = compilePipeline(onnx, { ...opts, fuse: { dual: false } });
  return { fused, before, a: await loadBundle(fused.wasm), b: await loadBundle(before.wasm) };
}

function randomInputs(n: number, len: number, seed: number): Float32Array {
  const r = rng(seed), x = new Float32Array(n * len);
  for (let i = 0; i < x.length; i++) x[i] = r();
  return x;
}

function expectSameBits(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let differ = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) differ++;
  expect(differ).toBe(0);
}

describe("epilogue fusion keeping the float copy", () => {
  for (const file of [...FIXTURES, ...ZOO])
    for (const target of ["simd", "scalar"] as const)
      it(`${file} (${target}): fused plan = plan without the rule, bit for bit`, async () => {
        const { fused, before, a, b } = await both(file, target);
        const dualSteps = fused.plan.steps.filter((s) => "epi" in s && s.epi.fout !== undefined).length;
        const quantSteps = (p: typeof fused.plan) => p.steps.filter((s) => s.op === "BitQuantize").length;
        if (!file.includes("fp32")) {
          // every standalone quantize of a ResNet-20 reads a residual value: all of them fold
          expect(dualSteps).toBeGreaterThan(0);
          expect(quantSteps(fused.plan)).toBe(0);
          expect(fused.plan.steps.length).toBe(before.plan.steps.length - quantSteps(before.plan));
        }
        const n = 8, x = randomInputs(n, a.inputLength, 20261202);
        expectSameBits(a.run(x), b.run(x));
        if (file.startsWith("models/zoo")) {
          const d = take(loadDataset("fashion-mnist"), 32);
          expectSameBits(a.run(d.x), b.run(d.x));
        }
      }, 60_000);

  it("the replica of the fused plan equals the replica of the plan without the rule", async () => {
    const { fused, before } = await both("models/zoo/fmnist_resnet20_mbn3x1/model.onnx", "simd");
    const d = take(loadDataset("fashion-mnist"), 4), labels = Int32Array.from(d.y);
    const a = await (await Replica.build(fused.plan)).gradient(d.x, labels);
    const b = await (await Replica.build(before.plan)).gradient(d.x, labels);
    expectSameBits(Float32Array.from(a.logits), Float32Array.from(b.logits));
    expectSameBits(Float32Array.from(a.grad), Float32Array.from(b.grad));
  }, 60_000);
});
