// Bad input gets one clear line naming file, node, op and reason — never a crash or a stack trace.
// Library level (CompileError.line()) and CLI level (exit code 1, one stderr line).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, CompileError } from "../../compiler/index.ts";
import { buildModel, floatTensor } from "../helpers/onnx_builder.ts";

function errorLine(bytes: Uint8Array, file = "bad.onnx"): string {
  try {
    compile(bytes, { file });
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    const line = (e as CompileError).line();
    expect(line).not.toMatch(/\n/);
    expect(line).not.toMatch(/ at .*\.ts:\d+/);
    return line;
  }
  throw new Error("expected a CompileError");
}

const relu = { op: "Relu", inputs: ["x"], outputs: ["y"] };

describe("compile errors name the file, node, op and reason", () => {
  it("malformed protobuf", () => {
    expect(errorLine(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]))).toMatch(/^bad\.onnx: not a valid ONNX model: malformed protobuf/);
  });
  it("empty file", () => {
    expect(errorLine(new Uint8Array(0))).toMatch(/^bad\.onnx: not a valid ONNX model/);
  });
  it("unsupported op", () => {
    expect(errorLine(buildModel({ nodes: [{ op: "Det", inputs: ["x"], outputs: ["y"], name: "sp" }] })))
      .toBe("bad.onnx: node 'sp' (Det): operator 'Det' is not supported by mbn");
  });
  it("elementwise op outside its definition (Mod of floats without fmod=1)", () => {
    const nodes = [{ op: "Relu", inputs: ["x"], outputs: ["a"], name: "r" }, { op: "Mod", inputs: ["a", "k"], outputs: ["y"], name: "m" }];
    expect(errorLine(buildModel({ nodes, inits: [floatTensor("k", [], [0.5])] })))
      .toBe("bad.onnx: node 'm' (Mod): Mod of floats needs fmod=1");
  });
  it("names the first offending node in graph order, in at most 200 characters however long the names", () => {
    const q = "qonnx.custom_op.general", long = `/encoder/${"block/".repeat(30)}Trunc`;
    const trunc = (x: string, y: string, name: string) => ({ op: "Trunc", domain: q, inputs: [x, "s", "z", "bi", "bo"], outputs: [y], name });
    const nodes = [trunc("x", "t1", long), { op: "Relu", inputs: ["t1"], outputs: ["r"], name: "relu" }, trunc("r", "y", "late")];
    const inits = [floatTensor("s", [], [0.5]), floatTensor("z", [], [0]), floatTensor("bi", [], [8]), floatTensor("bo", [], [4])];
    const line = errorLine(buildModel({ nodes, inits, domainOpsets: [[q, 1]] }), `/very/long/${"dir/".repeat(30)}model.onnx`);
    expect(line.length).toBeLessThanOrEqual(200);
    expect(line).toMatch(/^….*model\.onnx: node '\/encoder\/block.*….*Trunc' \(Trunc\): operator 'Trunc' runs only in constant folding/);
  });
  it("unsupported opset", () => {
    expect(errorLine(buildModel({ nodes: [relu], opset: 22 }))).toBe("bad.onnx: ONNX opset 22 is not supported (supported: 1–21)");
  });
  it("unknown domain", () => {
    expect(errorLine(buildModel({ nodes: [{ ...relu, domain: "com.example", name: "r" }], domainOpsets: [["com.example", 1]] })))
      .toMatch(/^bad\.onnx: node 'r' \(Relu\): operator domain 'com\.example' is not supported/);
  });
  it("external data", () => {
    const w = floatTensor("w", [2, 2, 1, 1], []);
    w.dataLocation = 1;
    w.externalData = [{ key: "location", value: "weights.bin" }];
    expect(errorLine(buildModel({ nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"] }], inits: [w] })))
      .toMatch(/tensor 'w' uses external data, which mbn does not read/);
  });
  it("shape mismatch between input and weights", () => {
    const w = floatTensor("w", [2, 3, 1, 1], [1, 2, 3, 4, 5, 6]);
    expect(errorLine(buildModel({ nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], name: "c", attrs: { kernel_shape: [1, 1] } }], inits: [w] })))
      .toMatch(/^bad\.onnx: node 'c' \(Conv\): input has 2 channels, weights expect 3/);
  });
  it("cycle", () => {
    expect(errorLine(buildModel({ nodes: [{ op: "Add", inputs: ["x", "b"], outputs: ["a"], name: "n1" }, { op: "Relu", inputs: ["a"], outputs: ["b"], name: "n2" }], output: ["b", [-1, 2, 4, 4]] })))
      .toMatch(/the graph has a cycle/);
  });
  it("missing initializer", () => {
    expect(errorLine(buildModel({ nodes: [{ op: "Conv", inputs: ["x", "nope"], outputs: ["y"], name: "c" }] })))
      .toBe("bad.onnx: node 'c' (Conv): input 'nope' is neither an initializer, a graph input nor any node's output");
  });
  it("tensor dimensions beyond the size limit are refused before allocating", () => {
    const w = floatTensor("w", [100000, 100000, 3, 3], []);
    expect(errorLine(buildModel({ nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"] }], inits: [w] })))
      .toMatch(/tensor 'w' has 90000000000 elements, over the limit/);
  });
  it("symbolic non-batch dimension", () => {
    const bytes = buildModel({ nodes: [relu], input: ["x", [-1, -1, 4, 4]] });
    expect(errorLine(bytes)).toMatch(/input 'x' has a symbolic dimension 'batch' at axis 1; only the batch axis may be dynamic/);
  });
});

describe("CLI errors: exit code 1 and one line on stderr", () => {
  const dir = mkdtempSync(join(tmpdir(), "mbn-cli-"));
  const cli = (...args: string[]) => spawnSync(process.execPath, ["bin/mbn.mjs", ...args], { encoding: "utf8" });
  it("compile of a missing file", () => {
    const r = cli("compile", join(dir, "missing.onnx"));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/missing\.onnx: cannot read \(ENOENT\)/);
  });
  it("compile of a non-ONNX file", () => {
    const f = join(dir, "text.onnx");
    writeFileSync(f, "hello, I am not a model");
    const r = cli("compile", f, "-o", join(dir, "o.wasm"));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^mbn: .*text\.onnx: not a valid ONNX model/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
  it("unknown target", () => {
    const r = cli("compile", "test/fixtures/qdq_int8.onnx", "--target", "gpu", "-o", join(dir, "o.wasm"));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("mbn: unknown target 'gpu' (simd, scalar, c)");
  });
  it("compile → inspect → run round trip", () => {
    const out = join(dir, "q.wasm");
    expect(cli("compile", "test/fixtures/qonnx_mbn.onnx", "-o", out).status).toBe(0);
    const ins = cli("inspect", out, "--json");
    expect(ins.status).toBe(0);
    expect(JSON.parse(ins.stdout).layers.some((l: { op: string }) => l.op === "BitConv")).toBe(true);
    const r = cli("run", out, "--input", "test/fixtures/qonnx_mbn.input.npy", "--output", join(dir, "y.npy"));
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "y.npy")).length).toBeGreaterThan(64 * 10 * 4);
  });
});
