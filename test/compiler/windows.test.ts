// Windowed ops beyond the 2-D kernels (issue 12): 3-D and dilated convolutions, grouped ones,
// transposed convolutions, 3-D and dilated pools — im2col index maps followed by a 1×1 conv or a
// Reduce (passes/windows.ts), each small model compared with onnxruntime-node and the replica.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { buildModel, floatTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd, runSmall } from "../helpers/small_models.ts";

async function agree(nodes: NodeSpec[], inShape: number[], outShape: number[], inits: unknown[] = []) {
  const bytes = buildModel({ nodes, inits, input: ["x", inShape], output: ["y", outShape], opset: 13 });
  const r = await runSmall(bytes, inShape, 2, 11, "win.onnx");
  expect(r.got.length).toBe(r.want.length);
  expect(r.rel).toBeLessThanOrEqual(1e-5);
  expect(r.replicaRel).toBeLessThanOrEqual(1e-4);
  return r.res;
}

describe("windows as index maps", () => {
  it("3-D convolution with 2 groups, stride 2, dilation 2 and asymmetric pads", async () => {
    const w = floatTensor("w", [4, 2, 3, 2, 3], rnd(4 * 2 * 18, 1)), b = floatTensor("b", [4], rnd(4, 2));
    const nodes: NodeSpec[] = [{ op: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attrs: { group: 2, strides: [2, 1, 2], dilations: [2, 1, 1], pads: [1, 0, 2, 0, 1, 1] } }];
    const res = await agree(nodes, [1, 4, 6, 5, 7], [1, 4, 2, 5, 4], [w, b]);
    expect(res.plan.steps.map((s) => s.op)).toEqual(["IndexMap", "Conv", "Output"]);
  });

  it("dilated 2-D convolution after a ReLU (DeepLab-style), unequal strides", async () => {
    const w = floatTensor("w", [3, 2, 3, 3], rnd(54, 3));
    const nodes: NodeSpec[] = [
      { op: "Relu", inputs: ["x"], outputs: ["r"] },
      { op: "Conv", inputs: ["r", "w"], outputs: ["y"], attrs: { dilations: [2, 3], strides: [1, 2], pads: [2, 3, 2, 3] } },
    ];
    await agree(nodes, [1, 2, 7, 9], [1, 3, 7, 5], [w]);
  });

  it("transposed convolutions: stride 2 with pads and output_padding, and one given by output_shape", async () => {
    const w = floatTensor("w", [3, 2, 3, 3], rnd(54, 4)), b = floatTensor("b", [2], rnd(2, 5));
    await agree([{ op: "ConvTranspose", inputs: ["x", "w", "b"], outputs: ["y"], attrs: { strides: [2, 2], pads: [1, 0, 1, 1], output_padding: [1, 0] } }], [1, 3, 4, 5], [1, 2, 8, 10], [w, b]);
    const w2 = floatTensor("w", [2, 3, 2, 2], rnd(24, 6));
    await agree([{ op: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attrs: { strides: [3, 2], output_shape: [7, 7] } }], [1, 2, 3, 4], [1, 3, 7, 7], [w2]);
  });

  it("3-D max and average pools, a dilated 2-D max pool", async () => {
    await agree([{ op: "MaxPool", inputs: ["x"], outputs: ["y"], attrs: { kernel_shape: [2, 3, 2], strides: [1, 2, 2], pads: [0, 1, 0, 0, 1, 1] } }], [1, 2, 4, 5, 6], [1, 2, 3, 3, 3]);
    await agree([{ op: "AveragePool", inputs: ["x"], outputs: ["y"], attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2], pads: [1, 0, 0, 1, 0, 0], count_include_pad: 1 } }], [1, 3, 4, 4, 4], [1, 3, 3, 2, 2]);
    await agree([{ op: "MaxPool", inputs: ["x"], outputs: ["y"], attrs: { kernel_shape: [2, 2], dilations: [2, 2], strides: [1, 1] } }], [1, 2, 6, 5], [1, 2, 4, 3]);
  });

  it("an average pool whose divisor leaves padding out is refused with one line in N-D", () => {
    const bytes = buildModel({ nodes: [{ op: "AveragePool", inputs: ["x"], outputs: ["y"], attrs: { kernel_shape: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] } }], input: ["x", [1, 1, 3, 3, 3]], output: ["y", [1, 1, 4, 4, 4]], opset: 13 });
    expect(() => compile(bytes, { file: "p.onnx" })).toThrow(/count_include_pad=0 .* not supported/);
  });
});
