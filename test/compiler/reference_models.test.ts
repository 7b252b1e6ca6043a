// Issue 12's reference models (test/fixtures/reference, made by models/reference/make_reference_models.py
// with PyTorch 1.13 and models/reference/make_qonnx_cnv.py with onnx.helper, random fixed weights):
// ReActNet-A-style, Bi-Real-Net-18 at 224×224 (width 1/4), MobileNetV1 with multi-bit pointwise layers,
// a binary DenseNet/MeliusNet-style concat network, a FINN CNV-style QONNX network (width 1/4).
// Each must compile, keep its binary layers packed (BitConv steps with the expected M×K planes, as
// `mbn inspect` lists them) and agree with the stored PyTorch outputs, onnxruntime-node and
// onnxruntime-web (QONNX: the stored float32 reference) under the rule of test/helpers/oracle.ts.
// Each compiles as exported; the same function with once-refused constructs rewritten away (zero-width
// Pads, expand_as, BipolarQuant/MaxPool order: no arithmetic changes) must agree too.
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { CompileError } from "../../compiler/errors.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { agreement, ortOracles, summary } from "../helpers/oracle.ts";

const dir = new URL("../fixtures/reference/", import.meta.url).pathname;
const { onnx: P } = onnxProto as unknown as { onnx: any };

// Rewrites of the exported graph that compute the same function (bit for bit: no arithmetic changes),
// used to check the rest of a model while mbn refuses one construct of PyTorch's export of it.
type Rewrite = (g: any) => number; // returns how many nodes it bypassed

function bypass(g: any, drop: Set<any>, rename: Map<string, string>) {
  g.node = g.node.filter((n: any) => !drop.has(n));
  for (const n of g.node) n.input = n.input.map((i: string) => rename.get(i) ?? i);
  const used = new Set(g.node.flatMap((n: any) => n.input));
  g.node = g.node.filter((n: any) => !["Constant", "Shape"].includes(n.opType) || used.has(n.output[0]));
  return drop.size;
}
function constant(g: any, name: string): any {
  const c = g.node.find((n: any) => n.opType === "Constant" && n.output[0] === name);
  return c?.attribute.find((a: any) => a.name === "value")?.t ?? g.initializer.find((t: any) => t.name === name);
}
/** torch's default nn.AvgPool2d export: a Pad of zero width (all pads 0) in front of AveragePool. */
const zeroPads: Rewrite = (g) => {
  const drop = new Set<any>(), rename = new Map<string, string>();
  for (const n of g.node) {
    const t = n.opType === "Pad" && n.input.length >= 2 ? constant(g, n.input[1]) : undefined;
    if (t && [...(t.rawData ?? [])].every((b: number) => b === 0) && [...(t.int64Data ?? [])].every((v: any) => Number(v) === 0)) {
      drop.add(n);
      rename.set(n.output[0], n.input[0]);
    }
  }
  return bypass(g, drop, rename);
};
/** ReActNet's LearnableBias `x + b.expand_as(x)`: Add(x, Expand(b, Shape(x))) = Add(x, b) by broadcasting. */
const expandAs: Rewrite = (g) => {
  const drop = new Set<any>(), rename = new Map<string, string>();
  for (const n of g.node) {
    if (n.opType !== "Expand" || !constant(g, n.input[0])) continue;
    const shape = g.node.find((m: any) => m.opType === "Shape" && m.output[0] === n.input[1]);
    const readers = g.node.filter((m: any) => m.input.includes(n.output[0]));
    if (shape && readers.every((m: any) => ["Add", "Sub", "Mul"].includes(m.opType) && m.input.includes(shape.input[0]))) {
      drop.add(n);
      rename.set(n.output[0], n.input[0]);
    }
  }
  return bypass(g, drop, rename);
};
/** FINN CNV's BipolarQuant -> MaxPool = MaxPool -> BipolarQuant (max commutes with a non-decreasing step). */
const poolFirst: Rewrite = (g) => {
  let k = 0;
  for (let i = 1; i < g.node.length; i++) {
    const n = g.node[i], q = g.node[i - 1];
    if (n.opType !== "MaxPool" || q.opType !== "BipolarQuant" || n.input[0] !== q.output[0]) continue;
    if (g.node.filter((m: any) => m.input.includes(q.output[0])).length !== 1) continue;
    const [src, mid, out] = [q.input[0], q.output[0], n.output[0]];
    n.input[0] = src; n.output[0] = mid; q.input[0] = mid; q.output[0] = out;
    g.node[i - 1] = n; g.node[i] = q;
    k++;
  }
  return k;
};
function rewrite(bytes: Uint8Array, rewrites: Rewrite[]): { bytes: Uint8Array; bypassed: number[] } {
  const m = P.ModelProto.decode(bytes);
  const bypassed = rewrites.map((r) => r(m.graph));
  return { bytes: P.ModelProto.encode(m).finish(), bypassed };
}

interface Case {
  name: string;
  planes: string[]; // M×K of every BitConv step, in plan order
  exportedPlanes?: string[]; // the file as exported, where it packs fewer layers than the rewritten one
  rewrites?: [Rewrite, number][]; // the same function with constructs bypassed (once refused) must agree too
  qonnx?: boolean; // onnxruntime cannot run it: the stored reference (NumPy/PyTorch functional) is the oracle
}

const S = (n: number, p: string) => Array<string>(n).fill(p);
const CASES: Case[] = [
  {
    name: "reactnet_a", planes: S(13, "1×2"),
    rewrites: [[zeroPads, 3], [expandAs, 30]],
  },
  {
    name: "bireal18", planes: [...S(14, "1×2"), "2×2", "1×2"],
    rewrites: [[zeroPads, 3]],
  },
  { name: "mobilenet_v1", planes: Array.from({ length: 12 }, (_, i) => (i % 2 ? "2×3" : "3×2")) },
  {
    name: "densenet_bin", planes: S(14, "1×2"),
    rewrites: [[zeroPads, 2]],
  },
  {
    // as Brevitas writes CNV, BipolarQuant → MaxPool → Conv: the MaxPool sits between the quantizer and
    // two convs, which then stay float (max of ±1 levels commutes with the sign: not used yet)
    name: "qonnx_cnv", planes: ["1×8", ...S(8, "1×1")], exportedPlanes: ["1×8", ...S(6, "1×1")], qonnx: true,
    rewrites: [[poolFirst, 2]],
  },
];

async function check(c: Case, rewrites: [Rewrite, number][] = [], planes = c.planes) {
  const file = dir + c.name + ".onnx";
  let onnx: Uint8Array = readFileSync(file);
  if (rewrites.length) {
    const r = rewrite(onnx, rewrites.map(([f]) => f));
    expect(r.bypassed).toEqual(rewrites.map(([, k]) => k));
    onnx = r.bytes;
  }
  let t = performance.now();
  const res = compile(onnx, { file: c.name + ".onnx", target: "simd" });
  const compileMs = performance.now() - t;
  const bits = res.report.layers.filter((l) => l.op === "BitConv");
  expect(bits.map((l) => l.planes)).toEqual(planes);
  const bundle = await loadBundle(res.wasm);
  const u = readNpy(readFileSync(dir + c.name + ".input.npy")); // uint8; the samples are u / 256
  const x = Float32Array.from(u.data, (v) => v / 256);
  const want = readNpy(readFileSync(dir + c.name + ".output.npy"));
  const n = u.shape[0];
  t = performance.now();
  const got = bundle.run(x);
  const runMs = (performance.now() - t) / n;
  const oracles: Record<string, Float32Array> = c.qonnx ? { reference: want.data } : { pytorch: want.data, ...(await ortOracles(onnx, x, bundle.info.input.shape.slice(1))) };
  const a = agreement(res, x, got, oracles, n);
  console.log(`${summary(c.name + (rewrites.length ? " (rewritten)" : ""), a)}; compile ${compileMs.toFixed(0)} ms, run ${runMs.toFixed(1)} ms/sample, ${bits.length} BitConv, bundle ${res.report.totals.bundleBytes} bytes`);
  expect(a.unexplained).toEqual([]);
  expect(a.excused.length).toBeLessThanOrEqual(a.cap);
  expect(a.argmaxAgree).toBeGreaterThanOrEqual(n - a.excused.length);
  expect(a.maxRel).toBeLessThanOrEqual(1e-4);
}

const NAMES = new Map<Rewrite, string>([[zeroPads, "zero-width Pads bypassed"], [expandAs, "bias.expand_as(x) Expands bypassed"], [poolFirst, "BipolarQuant→MaxPool pairs swapped"]]);
const names = (r: [Rewrite, number][]) => r.map(([f]) => NAMES.get(f)).join(" and ");

describe("issue 12's reference models compile, stay packed and agree with PyTorch / onnxruntime", () => {
  for (const c of CASES) {
    it(`${c.name} as exported`, () => check(c, [], c.exportedPlanes ?? c.planes));
    if (c.rewrites) it(`${c.name} with ${names(c.rewrites)} (same function) agrees`, () => check(c, c.rewrites));
  }
});
