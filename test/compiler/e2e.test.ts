// End to end: real ONNX fixtures (test/fixtures, made by make_fixtures.py with PyTorch/onnx) →
// compile → run the bundle on 64 random inputs → compare with onnxruntime-node and onnxruntime-web
// on the same file (QONNX custom ops: with the NumPy reference stored beside the fixture).
// Rule (test/helpers/oracle.ts): every sample within max|Δlogit| ≤ 1e-4·max|logit| and the same
// argmax of some oracle, except at most ceil(n/16) samples excused by a tie with evidence (one
// quantizer decision near its threshold whose flip in the reference run accounts for the difference).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { agreement, ortOracles, summary, uniformInputs } from "../helpers/oracle.ts";

const dir = new URL("../fixtures/", import.meta.url).pathname;
interface Case { name: string; binaryLayers: number; planes?: string; elementwise?: number }
const CASES: Case[] = [
  { name: "resnet20_cifar_fp32", binaryLayers: 0 },
  { name: "resnet20_cifar_fxp2", binaryLayers: 20, planes: "2×2" },
  { name: "resnet20_cifar_mbn1x1", binaryLayers: 20, planes: "1×1" },
  { name: "resnet20_cifar_mbn3x1", binaryLayers: 20, planes: "3×1" },
  { name: "resnet20_cifar_mbn3x3", binaryLayers: 20, planes: "3×3" },
  { name: "xnornet_nonsquare", binaryLayers: 3 },
  { name: "qdq_int8", binaryLayers: 1, planes: "8×8" },
  { name: "float_fallback", binaryLayers: 0, elementwise: 5 },
];
const N = 64;

describe("compiled bundles agree with onnxruntime-node / onnxruntime-web on the same ONNX file", () => {
  for (const c of CASES)
    for (const target of ["simd"] as const) {
      it(`${c.name} (${target})`, async () => {
        const file = dir + c.name + ".onnx";
        const onnx = readFileSync(file);
        const res = compile(onnx, { file, target });
        const bits = res.report.layers.filter((l) => l.op === "BitConv");
        expect(bits.length).toBe(c.binaryLayers);
        if (c.planes) expect(bits.every((l) => l.planes === c.planes), bits.map((l) => l.planes).join()).toBe(true);
        if (c.elementwise) expect(res.report.layers.filter((l) => l.op === "Elementwise").length).toBe(c.elementwise);
        // the bundle budget: packed weights as stored + runtime, plan and parameters within 64 KiB
        expect(res.report.totals.bundleBytes).toBeLessThanOrEqual(res.report.totals.packedWeightBytes + 64 * 1024);
        const bundle = await loadBundle(res.wasm);
        const x = uniformInputs(N, bundle.inputLength);
        const got = bundle.run(x);
        const a = agreement(res, x, got, await ortOracles(onnx, x, bundle.info.input.shape.slice(1)), N);
        console.log(summary(`${c.name} (${target})`, a));
        expect(a.unexplained).toEqual([]);
        expect(a.excused.length).toBeLessThanOrEqual(a.cap);
        expect(a.argmaxAgree).toBeGreaterThanOrEqual(N - a.excused.length);
        expect(a.maxRel).toBeLessThanOrEqual(1e-4);
      });
    }

  it("qonnx_mbn (QONNX MultiThreshold/BipolarQuant/Quant) matches its NumPy reference", async () => {
    const file = dir + "qonnx_mbn.onnx";
    for (const target of ["simd", "scalar"] as const) {
      const res = compile(readFileSync(file), { file, target });
      expect(res.report.layers.filter((l) => l.op === "BitConv").map((l) => l.planes)).toEqual(["1×2", "2×2"]);
      const bundle = await loadBundle(res.wasm);
      const x = readNpy(readFileSync(dir + "qonnx_mbn.input.npy"));
      const want = readNpy(readFileSync(dir + "qonnx_mbn.output.npy"));
      const a = agreement(res, x.data, bundle.run(x.data), { numpy: want.data }, x.shape[0]);
      console.log(summary(`qonnx_mbn (${target})`, a));
      expect(a.unexplained).toEqual([]);
      expect(a.excused.length).toBeLessThanOrEqual(a.cap);
      expect(a.maxRel).toBeLessThanOrEqual(1e-4);
    }
  });

  for (const c of CASES)
    it(`${c.name}: simd and scalar bundles give bit-identical outputs`, async () => {
      const file = dir + c.name + ".onnx";
      const bytes = readFileSync(file);
      const [a, b] = await Promise.all((["simd", "scalar"] as const).map((target) => loadBundle(compile(bytes, { file, target }).wasm)));
      const x = uniformInputs(8, a.inputLength, 7);
      expect(Array.from(a.run(x))).toEqual(Array.from(b.run(x)));
    });

  it("the same ONNX gives byte-identical bundles", () => {
    const file = dir + "xnornet_nonsquare.onnx";
    const bytes = readFileSync(file);
    expect(Buffer.from(compile(bytes, { file }).wasm).equals(Buffer.from(compile(bytes, { file }).wasm))).toBe(true);
  });
});
