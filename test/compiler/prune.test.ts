// The bundle keeps only the runtime functions its plan reaches (compiler/emit/prune.ts): the kernels
// it uses and the window-loop instances of its window strides; every other function becomes a
// 3-byte `unreachable` stub. Checked here: outputs bit-identical to the whole runtime's on every
// fixture and both targets; the function tables describe their modules completely (with every gate
// needed, nothing is left out); and a bundle that lacks a function its plan calls fails with a clear
// message instead of a result (mutants: one window stride, one kernel, left out).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, runtimeFor } from "../../compiler/index.ts";
import { compilePipeline } from "../../compiler/pipeline.ts";
import { customSection, buildBundle, parseSections, readUleb } from "../../compiler/emit/bundle.ts";
import { emitBlob, windowGate } from "../../compiler/emit/blob.ts";
import { GATES, gateOf, pruneRuntime } from "../../compiler/emit/prune.ts";
import { planMemory } from "../../compiler/passes/plan_memory.ts";
import { WINDOW_STRIDES, windowPackable, windowStride } from "../../compiler/pack/bits.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { buildModel, floatTensor } from "../helpers/onnx_builder.ts";
import { uniformInputs } from "../helpers/oracle.ts";

const dir = new URL("../fixtures/", import.meta.url).pathname;
const FIXTURES = ["resnet20_cifar_fp32", "resnet20_cifar_fxp2", "resnet20_cifar_mbn1x1", "resnet20_cifar_mbn3x1", "resnet20_cifar_mbn3x3", "xnornet_nonsquare", "qdq_int8", "float_fallback", "qonnx_mbn"];
const TARGETS = ["simd", "scalar"] as const;
const BUILDS = [["simd", false], ["scalar", false], ["simd", true], ["scalar", true]] as const;

/** The bodies of a module's code section. */
function bodies(wasm: Uint8Array): Uint8Array[] {
  const code = parseSections(wasm).find((s) => s.id === 10)!.body;
  const [n, p0] = readUleb(code, 0);
  const out: Uint8Array[] = [];
  for (let i = 0, p = p0; i < n; i++) {
    const [size, q] = readUleb(code, p);
    out.push(code.subarray(p, q + size));
    p = q + size;
  }
  return out;
}

/** Re-emit a compiled plan's bundle with the runtime pruned for `needs` (as the pipeline does). */
function bundleWith(res: ReturnType<typeof compile>, target: "simd" | "scalar", needs: Set<string>): Uint8Array {
  const rt = runtimeFor(target);
  const blob = emitBlob(res.plan, planMemory(res.plan), rt.base, target === "simd");
  const manifest = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
  return buildBundle(pruneRuntime(rt.bytes, rt.funcs!, needs).wasm, blob, manifest);
}

const needsOf = (res: ReturnType<typeof compile>, target: "simd" | "scalar") => {
  const rt = runtimeFor(target);
  return emitBlob(res.plan, planMemory(res.plan), rt.base, target === "simd").needs;
};

describe("bundles keep only the runtime functions their plan reaches", () => {
  for (const build of BUILDS)
    it(`the function table of mbn-${build[0]}${build[1] ? "-ext" : ""} is complete: with every gate needed nothing is left out; each window stride has its gated function`, () => {
      const rt = runtimeFor(build[0], build[1]);
      const p = pruneRuntime(rt.bytes, rt.funcs!, GATES);
      expect(p.dropped).toEqual([]);
      expect(Buffer.from(p.wasm).equals(Buffer.from(rt.bytes))).toBe(true);
      const names = rt.funcs!.functions.map((f) => f.name);
      for (const s of WINDOW_STRIDES)
        for (const g of [`window${s}`, `window${s}u`, `window${s}i`]) expect(names.filter((n) => gateOf(n) === g), g).toHaveLength(1);
      // and with none, only the plan-independent code stays (mbn_run, dispatch, the epilogue, …)
      const none = pruneRuntime(rt.bytes, rt.funcs!, new Set());
      expect(none.dropped.filter((n) => gateOf(n)).length).toBe(names.filter((n) => gateOf(n)).length);
      expect(none.wasm.length).toBeLessThan(rt.bytes.length);
    });

  for (const name of FIXTURES)
    it(`${name}: simd and scalar bundles give the whole runtime's outputs bit for bit, with the window strides of the plan kept and the others left out`, async () => {
      const file = dir + name + ".onnx";
      const onnx = readFileSync(file);
      for (const target of TARGETS) {
        const res = compile(onnx, { file, target });
        const whole = compilePipeline(onnx, { target, runtime: (ext) => runtimeFor(target, ext), file, wholeRuntime: true });
        const rt = runtimeFor(target, JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!)).extended_math);
        // each function of the bundle: the runtime's own bytes, or a stub of a gated or unreached one
        const [a, b] = [bodies(res.wasm), bodies(rt.bytes)];
        expect(a.length).toBe(b.length);
        const stubbed = rt.funcs!.functions.filter((_, i) => a[i].length === 4 && b[i].length !== 4).map((f) => f.name);
        a.forEach((body, i) => {
          if (body.length !== 4 || b[i].length === 4) expect(Buffer.from(body).equals(Buffer.from(b[i])), rt.funcs!.functions[i].name).toBe(true);
        });
        // the window-loop instances kept are exactly the plan's (stride, and the integer path or not)
        const gates = new Set(res.plan.steps.flatMap((s) => (s.op === "BitConv" ? [windowGate(s, target === "simd")].filter((g) => g !== undefined) : [])));
        for (const s of WINDOW_STRIDES)
          for (const g of [`window${s}`, `window${s}u`, `window${s}i`]) expect(stubbed.some((n) => gateOf(n) === g), `${target} ${g}`).toBe(!gates.has(g));
        // outputs: bit-identical to the bundle with the whole runtime
        const [x1, x2] = await Promise.all([loadBundle(res.wasm), loadBundle(whole.wasm)]);
        const x = uniformInputs(4, x1.inputLength, 11);
        expect(Array.from(x1.run(x))).toEqual(Array.from(x2.run(x)));
        expect(res.wasm.length).toBeLessThan(whole.wasm.length);
      }
    });

  it("a binary conv of each window stride (1–6), bipolar and unipolar: its window-loop instance kept, the others left out, outputs as the whole runtime's", async () => {
    // Sign → Conv with ±α weights: 1×1 × 8 channels (1 word), 3×3 × 16 (2 + tail; the scalar build: 3 rows),
    // 3×3 × 12 (2 → 3, dense), 3×3 × 32 (4 + tail; scalar: 5, dense), 3×3 × 24 (5, dense), 2×2 × 40 (4 → 6);
    // Sign → Relu ({0, 1} activations) takes the unipolar instance window<S>u
    const cases: [number, number, number, number][] = [[8, 1, 1, 1], [16, 3, 2, 3], [12, 3, 3, 3], [32, 3, 4, 5], [24, 3, 5, 5], [40, 2, 6, 6]];
    for (const [cin, k, simdS, scalarS] of cases)
      for (const [target, uni] of TARGETS.flatMap((t) => [[t, false], [t, true]] as const)) {
        const S = target === "simd" ? simdS : scalarS;
        const cout = 8, n = cout * cin * k * k, pad = k > 1 ? 1 : 0;
        const w = floatTensor("w", [cout, cin, k, k], Array.from({ length: n }, (_, i) => ((i * 7919) % 3 ? 0.25 : -0.25) * (1 + (Math.floor(i / (cin * k * k)) % 2))));
        const oh = 6 + 2 * pad - k + 1, ow = 7 + 2 * pad - k + 1;
        const bytes = buildModel({
          nodes: [
            { op: "Sign", inputs: ["x"], outputs: [uni ? "s0" : "s"] },
            ...(uni ? [{ op: "Relu", inputs: ["s0"], outputs: ["s"] }] : []),
            { op: "Conv", inputs: ["s", "w"], outputs: ["y"], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad] } },
          ],
          inits: [w], input: ["x", [1, cin, 6, 7]], output: ["y", [1, cout, oh, ow]], opset: 13,
        });
        const res = compile(bytes, { file: "win.onnx", target });
        const whole = compilePipeline(bytes, { target, runtime: (ext) => runtimeFor(target, ext), file: "win.onnx", wholeRuntime: true });
        expect(res.report.layers.filter((l) => l.op === "BitConv")).toHaveLength(1);
        const windows = [...needsOf(res, target)].filter((g) => g.startsWith("window"));
        expect(windows, `${cin}×${k}×${k}`).toEqual([`window${S}${uni ? "u" : ""}`]);
        const [a, b] = await Promise.all([loadBundle(res.wasm), loadBundle(whole.wasm)]);
        const x = uniformInputs(3, a.inputLength, 5);
        expect(Array.from(a.run(x))).toEqual(Array.from(b.run(x)));
      }
  });

  it("mutant: a bundle without a window stride its plan uses fails with a clear error (the mbn3x3 fixture, window2 left out)", async () => {
    const file = dir + "resnet20_cifar_mbn3x3.onnx";
    const res = compile(readFileSync(file), { file, target: "simd" });
    const needs = needsOf(res, "simd");
    expect([...needs].filter((n) => n.startsWith("window")).sort()).toEqual(["window1", "window2", "window4"]);
    const ok = await loadBundle(bundleWith(res, "simd", needs));
    const x = uniformInputs(1, ok.inputLength, 3);
    expect(Array.from(ok.run(x))).toEqual(Array.from((await loadBundle(res.wasm)).run(x)));
    const bad = await loadBundle(bundleWith(res, "simd", new Set([...needs].filter((n) => n !== "window2"))));
    expect(() => bad.run(x)).toThrow(/reached a runtime function that the compiler left out of this bundle/);
    expect(() => bad.profile(x, () => 0)).toThrow(/left out of this bundle/);
  });

  it("mutant: a bundle without a kernel its plan uses fails with a clear error (softmax_f32 left out)", async () => {
    const bytes = buildModel({ nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"], attrs: { axis: 1 } }], input: ["x", [1, 10]], output: ["y", [1, 10]] });
    for (const target of TARGETS) {
      const res = compile(bytes, { file: "softmax.onnx", target });
      const needs = needsOf(res, target);
      expect(needs.has("softmax_f32")).toBe(true);
      const x = uniformInputs(1, 10, 3);
      const good = await loadBundle(res.wasm);
      expect(good.run(x).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      const bad = await loadBundle(bundleWith(res, target, new Set([...needs].filter((n) => n !== "softmax_f32"))));
      expect(() => bad.run(x)).toThrow(/left out of this bundle/);
    }
  });

  it("refuses a function table that does not match the module, and a need that is no gate", () => {
    const rt = runtimeFor("simd");
    const short = { ...rt.funcs!, functions: rt.funcs!.functions.slice(1) };
    expect(() => pruneRuntime(rt.bytes, short, new Set())).toThrow(/function table lists/);
    expect(() => pruneRuntime(rt.bytes, rt.funcs!, new Set(["window7"]))).toThrow(/no kernel or window stride/);
    // a gated function with a second call site (its gate would no longer say when it runs)
    const twice = { ...rt.funcs!, functions: rt.funcs!.functions.map((f, i) => (i === 0 ? { ...f, calls: [...f.calls, rt.funcs!.functions.findIndex((g) => gateOf(g.name) === "window3")] } : f)) };
    expect(() => pruneRuntime(rt.bytes, twice, new Set())).toThrow(/window3 has 2 call sites/);
  });
});
