// GridSample (ops/grid_sample.ts: a sampling matrix computed from the grid by an elementwise program,
// then one matrix product per sample): every mode × padding × align_corners mbn runs, on two images
// and a grid reaching 40 % past the borders, against onnxruntime-node and mbn's reference interpreter;
// bicubic with border/reflection padding is one mbn: line.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Node } from "../../compiler/ir/graph.ts";
import { tensor } from "../../compiler/ir/tensor.ts";
import { REGISTRY } from "../../compiler/ops/registry.ts";
import { buildModel } from "../helpers/onnx_builder.ts";
import { oneNode, type Input } from "../helpers/one_node.ts";

const X: Input = ["x", [2, 3, 5, 4]], GRID: Input = ["grid", [2, 3, 6, 2]], Y: Input = ["y", [2, 3, 3, 6]];

describe("GridSample", () => {
  for (const mode of ["bilinear", "nearest", "bicubic"])
    for (const pad of mode === "bicubic" ? ["zeros"] : ["zeros", "border", "reflection"])
      for (const align of [0, 1])
        it(`${mode}, ${pad} padding, align_corners=${align}: agrees with onnxruntime and the reference`, async () => {
          const attrs = { mode, padding_mode: pad, align_corners: align };
          const r = await oneNode({ op: "GridSample", inputs: ["x", "grid"], outputs: ["y"], attrs }, [X, GRID], Y, { opset: 16, scale: { grid: 1.4 } });
          expect(r.rel).toBeLessThanOrEqual(1e-5);
          expect(r.replicaRel).toBeLessThanOrEqual(1e-6);
          const n: Node = { name: "gs", op: "GridSample", domain: "", inputs: ["x", "grid"], outputs: ["y"], attrs };
          const [want] = REGISTRY.get("GridSample")!.reference!(n, [tensor("float", X[1], r.feeds.x), tensor("float", GRID[1], r.feeds.grid)], 16);
          expect(Array.from(r.got)).toEqual(Array.from(want.data));
        });

  it("bicubic with border padding is refused in one mbn: line", () => {
    const bytes = buildModel({ nodes: [{ op: "GridSample", inputs: ["x", "grid"], outputs: ["y"], attrs: { mode: "bicubic", padding_mode: "border" } }], inputs: [X, GRID], output: Y, opset: 16 });
    expect(() => compile(bytes, { file: "gs.onnx" })).toThrow(/bicubic with padding_mode 'border' is not supported \(zeros only\)/);
  });
});
