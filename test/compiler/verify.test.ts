// The verifiers between passes (compiler/passes/verify.ts): silent on every fixture's real plan, and
// each kind of broken invariant — a step moved before its input's producer, an index map reaching
// past its input, a graph that reads a tensor before defining it — is an internal compiler error.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { verifyGraph, verifyPlan } from "../../compiler/passes/verify.ts";
import { buildModel, floatTensor, intTensor } from "../helpers/onnx_builder.ts";
import { loadOnnx } from "../../compiler/onnx/load.ts";

const fixtures = new URL("../fixtures/", import.meta.url).pathname;

describe("verifiers between passes", () => {
  it("pass on every fixture (they run inside compile())", () => {
    for (const f of readdirSync(fixtures).filter((f) => f.endsWith(".onnx"))) {
      const r = compile(readFileSync(fixtures + f), { file: f });
      expect(() => verifyPlan(r.plan, "test", f)).not.toThrow();
    }
  });
  it("a step moved before the step that writes its input is caught", () => {
    const r = compile(readFileSync(fixtures + "resnet20_cifar_mbn3x1.onnx"), { file: "m.onnx" });
    const steps = [...r.plan.steps];
    [steps[2], steps[3]] = [steps[3], steps[2]];
    expect(() => verifyPlan({ ...r.plan, steps }, "test")).toThrow(/internal compiler error after test: step 2 .* before a step writes it/);
  });
  it("an index map that reaches past its input is caught", () => {
    const bytes = buildModel({ nodes: [{ op: "Slice", inputs: ["x", "st", "en", "ax"], outputs: ["y"] }], inits: [intTensor("st", [1], [1]), intTensor("en", [1], [3]), intTensor("ax", [1], [2])],
      input: ["x", [1, 2, 4, 4]], output: ["y", [1, 2, 2, 4]], opset: 13 });
    const r = compile(bytes, { file: "s.onnx" });
    const plan = structuredClone(r.plan);
    const s = plan.steps.find((x) => x.op === "IndexMap")!;
    if (s.op === "IndexMap") s.idx[0] = 32;
    expect(() => verifyPlan(plan, "test")).toThrow(/index 32 is outside its 32-element input/);
  });
  it("a graph that reads a tensor before defining it is caught", () => {
    const g = loadOnnx(buildModel({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["a"] }, { op: "Relu", inputs: ["a"], outputs: ["y"] }], inits: [floatTensor("k", [1], [1])] }));
    g.nodes.reverse();
    expect(() => verifyGraph(g, "test")).toThrow(/input 'a' is read before it is defined/);
  });
});
