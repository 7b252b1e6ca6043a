// ONNX sequences with constant positions (passes/sequences.ts): SequenceEmpty/Construct/Insert/Erase
// followed as lists of tensors, SequenceAt → the tensor, ConcatFromSequence → Concat (new_axis: Unsqueeze
// first). Small models against onnxruntime-node; a position that is not an initializer leaves the
// sequence ops in place, refused in one mbn: line.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { buildModel, intTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { oneNodeGraph, type Input } from "../helpers/one_node.ts";

const A: Input = ["a", [2, 3, 4]], B: Input = ["b", [2, 3, 4]], C: Input = ["c", [2, 3, 4]];

describe("sequences with constant positions", () => {
  it("Construct → Erase(−3) → Insert(a, −1) → Insert(c) → At(−2): the tensor onnxruntime picks", async () => {
    const nodes: NodeSpec[] = [
      { op: "SequenceConstruct", inputs: ["a", "b", "c"], outputs: ["s1"] },
      { op: "SequenceErase", inputs: ["s1", "e"], outputs: ["s2"] },
      { op: "SequenceInsert", inputs: ["s2", "a", "i"], outputs: ["s3"] },
      { op: "SequenceInsert", inputs: ["s3", "c"], outputs: ["s4"] },
      { op: "SequenceAt", inputs: ["s4", "at"], outputs: ["t"] },
      { op: "Neg", inputs: ["t"], outputs: ["y"] },
    ];
    const inits = [intTensor("e", [], [-3]), intTensor("i", [], [-1]), intTensor("at", [], [-2])];
    const r = await oneNodeGraph(nodes, [A, B, C], ["y", [2, 3, 4]], { inits, opset: 12 });
    expect(r.rel).toBe(0);
    expect(r.plan.steps.some((s) => s.op === "Elementwise" || s.op === "Affine")).toBe(true);
  });

  for (const [at, pick] of [[-1, "c"], [-3, "a"], [1, "b"]] as const)
    it(`SequenceAt(${at}) of Construct(a, b, c) is ${pick}`, async () => {
      const nodes: NodeSpec[] = [{ op: "SequenceConstruct", inputs: ["a", "b", "c"], outputs: ["s"] }, { op: "SequenceAt", inputs: ["s", "at"], outputs: ["t"] }, { op: "Neg", inputs: ["t"], outputs: ["y"] }];
      const r = await oneNodeGraph(nodes, [A, B, C], ["y", [2, 3, 4]], { inits: [intTensor("at", [], [at])], opset: 12 });
      expect(r.rel).toBe(0);
      expect(Array.from(r.got)).toEqual(Array.from(r.feeds[pick], (v) => -v));
    });

  for (const [newAxis, axis, out] of [[0, 1, [2, 9, 4]], [1, -1, [2, 3, 4, 3]], [1, 0, [3, 2, 3, 4]]] as const)
    it(`ConcatFromSequence new_axis=${newAxis} axis=${axis} (opset 12 and 13) agrees with onnxruntime`, async () => {
      for (const opset of [12, 13]) {
        const nodes: NodeSpec[] = [
          { op: "SequenceEmpty", inputs: [], outputs: ["s0"] },
          { op: "SequenceInsert", inputs: ["s0", "b"], outputs: ["s1"] },
          { op: "SequenceInsert", inputs: ["s1", "a", "zero"], outputs: ["s2"] },
          { op: "SequenceInsert", inputs: ["s2", "c"], outputs: ["s3"] },
          { op: "ConcatFromSequence", inputs: ["s3"], outputs: ["y"], attrs: { axis, new_axis: newAxis } },
        ];
        const r = await oneNodeGraph(nodes, [A, B, C], ["y", [...out]], { inits: [intTensor("zero", [], [0])], opset });
        expect(r.rel).toBe(0);
      }
    });

  it("a position computed at run time leaves the sequence ops, refused in one mbn: line", () => {
    const bytes = buildModel({
      nodes: [
        { op: "SequenceConstruct", inputs: ["a", "b"], outputs: ["s"] },
        { op: "Shape", inputs: ["a"], outputs: ["sh"] },
        { op: "Gather", inputs: ["sh", "zero"], outputs: ["p"] },
        { op: "SequenceAt", inputs: ["s", "p"], outputs: ["y"] },
      ],
      inputs: [A, B], inits: [intTensor("zero", [], [0])], output: ["y", [2, 3, 4]], opset: 13,
    });
    expect(() => compile(bytes, { file: "seq.onnx" })).toThrow(/operator 'SequenceConstruct' is not supported by mbn/);
  });
});
