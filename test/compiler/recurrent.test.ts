// RNN, GRU and LSTM (ops/recurrent.ts: unrolled over X's sequence length into matmul_f32 and
// elementwise steps), weights and states as graph inputs or initializers: the bundle against
// onnxruntime-node on the same small models, and against mbn's own reference interpreter; what mbn
// does not run (bidirectional, Y of several steps) is one mbn: line.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Node } from "../../compiler/ir/graph.ts";
import { tensor } from "../../compiler/ir/tensor.ts";
import { REGISTRY } from "../../compiler/ops/registry.ts";
import { buildModel, floatTensor, type AttrValue } from "../helpers/onnx_builder.ts";
import { oneNode, type Input } from "../helpers/one_node.ts";
import { rnd } from "../helpers/small_models.ts";

const T = 3, B = 2, I = 4, H = 5;
const G = { RNN: 1, GRU: 3, LSTM: 4 } as const;
type Op = keyof typeof G;
const inputsOf = (op: Op, extra: ("B" | "initial_h" | "initial_c")[]): Input[] => [
  ["X", [T, B, I]], ["W", [1, G[op] * H, I]], ["R", [1, G[op] * H, H]],
  ...extra.map((e): Input => (e === "B" ? ["B", [1, 2 * G[op] * H]] : [e, [1, B, H]])),
];
/** Node inputs in ONNX order: X, W, R, B, sequence_lens, initial_h, initial_c ("" where absent). */
const slots = (names: string[]) => {
  const all = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c"];
  const last = Math.max(...names.map((nm) => all.indexOf(nm)));
  return all.slice(0, last + 1).map((nm) => (names.includes(nm) ? nm : ""));
};

describe("RNN, GRU, LSTM unrolled", () => {
  const cases: [string, Op, ("B" | "initial_h" | "initial_c")[], Record<string, AttrValue>, number][] = [
    ["RNN forward, bias", "RNN", ["B"], {}, 1],
    ["RNN reverse, bias and initial_h", "RNN", ["B", "initial_h"], { direction: "reverse" }, 1],
    ["GRU, bias and initial_h", "GRU", ["B", "initial_h"], {}, 1],
    ["GRU linear_before_reset=1, bias", "GRU", ["B"], { linear_before_reset: 1 }, 1],
    ["LSTM, no bias, Y_h", "LSTM", [], {}, 1],
    ["LSTM, bias, initial_h and initial_c, Y_c", "LSTM", ["B", "initial_h", "initial_c"], {}, 2],
  ];
  for (const [what, op, extra, attrs, out] of cases)
    it(`${what}: agrees with onnxruntime and with the reference interpreter`, async () => {
      const inputs = inputsOf(op, extra);
      const names = slots(inputs.map(([nm]) => nm));
      const outputs = ["", "", ""].slice(0, out + 1).map((_, k) => (k === out ? "y" : ""));
      const r = await oneNode({ op, inputs: names, outputs, attrs: { hidden_size: H, ...attrs } }, inputs, ["y", [1, B, H]], { opset: 14 });
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(r.replicaRel).toBeLessThanOrEqual(1e-6);
      const shapes = new Map(inputs);
      const n: Node = { name: "n", op, domain: "", inputs: names, outputs: ["Y", "Y_h", "Y_c"].slice(0, op === "LSTM" ? 3 : 2), attrs: { hidden_size: H, ...(attrs as Record<string, number | string>) } };
      const ins = names.map((nm) => (nm ? tensor("float", shapes.get(nm)!, r.feeds[nm]) : undefined));
      const want = REGISTRY.get(op)!.reference!(n, ins, 14)[out].data;
      let d = 0;
      want.forEach((w, i) => (d = Math.max(d, Math.abs(w - r.got[i]))));
      expect(d).toBeLessThanOrEqual(1e-6);
    });

  it("Y of one time step is the last hidden state", async () => {
    const inputs: Input[] = [["X", [1, B, I]], ["W", [1, 3 * H, I]], ["R", [1, 3 * H, H]]];
    const r = await oneNode({ op: "GRU", inputs: ["X", "W", "R"], outputs: ["y"], attrs: { hidden_size: H } }, inputs, ["y", [1, 1, B, H]], { opset: 14 });
    expect(r.rel).toBeLessThanOrEqual(1e-5);
  });

  it("bidirectional, and Y of several steps, are refused in one mbn: line", () => {
    const w = [floatTensor("W", [2, H, I], rnd(2 * H * I, 3)), floatTensor("R", [2, H, H], rnd(2 * H * H, 4))];
    const bi = buildModel({ nodes: [{ op: "RNN", inputs: ["X", "W", "R"], outputs: ["", "y"], attrs: { hidden_size: H, direction: "bidirectional" } }], inputs: [["X", [T, B, I]]], inits: w, output: ["y", [2, B, H]], opset: 14 });
    expect(() => compile(bi, { file: "rnn.onnx" })).toThrow(/direction 'bidirectional' is not supported/);
    const ys = buildModel({ nodes: [{ op: "RNN", inputs: ["X", "W", "R"], outputs: ["y"], attrs: { hidden_size: H } }], inputs: [["X", [T, B, I]]], inits: [floatTensor("W", [1, H, I], rnd(H * I, 3)), floatTensor("R", [1, H, H], rnd(H * H, 4))], output: ["y", [T, 1, B, H]], opset: 14 });
    expect(() => compile(ys, { file: "rnn.onnx" })).toThrow(/output Y \(every hidden state\) of a sequence of 3 steps is not computed; read Y_h/);
  });
});
