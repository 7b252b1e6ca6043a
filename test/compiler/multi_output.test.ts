// Models with several outputs (passes/join_outputs.ts: one output buffer, the outputs laid end to end in
// graph order, manifest `outputs`, loader unpackOutputs, `mbn run --output name=y.npy`): each output
// judged against onnxruntime-node's output of that name on the same file. LayerNormalization's optional
// Mean and InvStdDev outputs are computed (passes/expand_functions.ts).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { CompileError } from "../../compiler/errors.ts";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { loadBundle, unpackOutputs } from "../../runtime/host/loader.ts";
import { buildModel, floatTensor, type NodeSpec } from "../helpers/onnx_builder.ts";
import { rnd } from "../helpers/small_models.ts";
import onnxProto from "onnx-proto";

const { onnx } = onnxProto as unknown as { onnx: any };

const BIN = new URL("../../bin/mbn.mjs", import.meta.url).pathname;
const X: [string, number[]] = ["x", [1, 3, 4, 5]];
// conv → relu (y), its channel mean (m), and a LayerNormalization over the last two axes with its Mean
// and InvStdDev (ln, mean, inv): five outputs of four shapes, one of them read again by a later node
const NODES: NodeSpec[] = [
  { op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
  { op: "Relu", inputs: ["c"], outputs: ["y"] },
  { op: "ReduceMean", inputs: ["y"], outputs: ["m"], attrs: { axes: [1], keepdims: 0 } },
  { op: "LayerNormalization", inputs: ["c", "s", "b"], outputs: ["ln", "mean", "inv"], attrs: { axis: -2 } },
];
const OUTS: [string, number[]][] = [["y", [1, 4, 4, 5]], ["m", [1, 4, 5]], ["ln", [1, 4, 4, 5]], ["mean", [1, 4, 1, 1]], ["inv", [1, 4, 1, 1]]];
const model = () => buildModel({
  nodes: NODES, opset: 17, input: X, outputs: OUTS,
  inits: [floatTensor("w", [4, 3, 3, 3], rnd(108, 5)), floatTensor("s", [4, 5], rnd(20, 6)), floatTensor("b", [4, 5], rnd(20, 7))],
});

describe("several outputs, one output buffer", () => {
  it("each output agrees with onnxruntime's output of that name; the manifest places each", async () => {
    const bytes = model(), bundle = await loadBundle(compile(bytes, { file: "multi_out.onnx" }).wasm);
    const x = Float32Array.from(rnd(60, 9));
    const got = unpackOutputs(bundle.info, bundle.run(x));
    const sess = await ort.InferenceSession.create(bytes);
    const want = await sess.run({ x: new ort.Tensor("float32", x, X[1]) });
    await sess.release();
    let offset = 0;
    expect(bundle.info.outputs).toEqual(OUTS.map(([name, shape]) => { const p = { name, shape, offset }; offset += shape.reduce((a, d) => a * d, 1); return p; }));
    for (const [name, shape] of OUTS) {
      expect(got[name].shape).toEqual(shape);
      const w = want[name].data as Float32Array, scale = Math.max(...Array.from(w, Math.abs));
      got[name].data.forEach((v, i) => expect(Math.abs(v - w[i])).toBeLessThanOrEqual(1e-5 * scale + 1e-6));
    }
  });

  it("mbn run writes each output asked for, by name; unknown names and a plain path are one-line errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbn-multi-out-")), onnx = join(dir, "m.onnx"), xin = join(dir, "x.npy");
    writeFileSync(onnx, model());
    writeFileSync(xin, writeNpy({ shape: X[1], data: Float32Array.from(rnd(60, 9)) }));
    const run = (...a: string[]) => spawnSync(process.execPath, [BIN, "run", onnx, "--input", xin, ...a], { encoding: "utf8" });
    const ok = run("--output", `inv=${join(dir, "inv.npy")}`, "--output", `m=${join(dir, "m.npy")}`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readNpy(readFileSync(join(dir, "inv.npy")), "inv").shape).toEqual([1, 4, 1, 1]);
    expect(readNpy(readFileSync(join(dir, "m.npy")), "m").shape).toEqual([1, 4, 5]);
    for (const [args, msg] of [[["--output", join(dir, "y.npy")], "give --output <name>=<y.npy>"], [["--output", `zz=${join(dir, "z.npy")}`], "the model has no output 'zz'"]] as const) {
      const r = run(...args);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    }
  });

  it("a non-float output and a fixed batch N > 1 are refused in one line", () => {
    const line = (bytes: Uint8Array, file: string) => {
      try {
        compile(bytes, { file });
      } catch (e) {
        expect(e).toBeInstanceOf(CompileError);
        return (e as CompileError).line();
      }
      return "compiled";
    };
    // a Cast to int64 declared as such in the graph's outputs
    const m = onnx.ModelProto.decode(buildModel({ nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }, { op: "Cast", inputs: ["x"], outputs: ["i"], attrs: { to: 7 } }], input: X, outputs: [["y", X[1]], ["i", X[1]]] }));
    m.graph.output[1].type.tensorType.elemType = 7;
    expect(line(onnx.ModelProto.encode(m).finish(), "cast.onnx")).toMatch(/^cast\.onnx: output 'i' has ONNX element type 7; a model with several outputs gives float32 outputs only$/);
  });

  it("a fixed batch N = 2 still splits into samples: the joined output keeps the shared batch axis", async () => {
    const bytes = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }, { op: "Relu", inputs: ["c"], outputs: ["y"] }, { op: "ReduceMax", inputs: ["c"], outputs: ["z"], attrs: { axes: [1], keepdims: 1 } }],
      inits: [floatTensor("w", [4, 3, 3, 3], rnd(108, 5))], input: ["x", [2, 3, 4, 5]], outputs: [["y", [2, 4, 4, 5]], ["z", [2, 1, 4, 5]]],
    });
    const bundle = await loadBundle(compile(bytes, { file: "n2.onnx" }).wasm);
    expect(bundle.batch).toBe(2);
    expect(bundle.info.outputs).toEqual([{ name: "y", shape: [1, 4, 4, 5], offset: 0 }, { name: "z", shape: [1, 1, 4, 5], offset: 80 }]);
    const x = Float32Array.from(rnd(120, 9)), y = bundle.run(x), per = bundle.outputLength;
    const sess = await ort.InferenceSession.create(bytes);
    const want = await sess.run({ x: new ort.Tensor("float32", x, [2, 3, 4, 5]) });
    await sess.release();
    for (let s = 0; s < 2; s++) {
      const got = unpackOutputs(bundle.info, y.subarray(s * per, (s + 1) * per));
      for (const k of ["y", "z"]) {
        const w = (want[k].data as Float32Array).subarray(s * got[k].data.length, (s + 1) * got[k].data.length);
        got[k].data.forEach((v, i) => expect(Math.abs(v - w[i])).toBeLessThanOrEqual(1e-5));
      }
    }
  });
});
