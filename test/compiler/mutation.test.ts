// Mutation testing of the end-to-end oracle (test/helpers/oracle.ts): for every fixture the compiled
// plan is corrupted in one small, bug-like way — one packed weight bit, one activation threshold
// moved by 1e-3 of its scale, two output channels' scales swapped, a flatten→dense head read in the
// wrong (channels-last vs ONNX) order, one float weight or bias perturbed by 1% of its layer's
// largest — the bundle is re-emitted with the pipeline's own back end (planMemory → emitBlob →
// pruneRuntime → buildBundle), and the oracle must reject every mutant. The un-mutated plan re-emitted first must
// give the compiler's bundle byte for byte, and pass — so a rejection is due to the mutation.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, runtimeFor } from "../../compiler/index.ts";
import type { CompileResult } from "../../compiler/pipeline.ts";
import type { Plan, QuantSpec, Step } from "../../compiler/ir/plan.ts";
import { planMemory } from "../../compiler/passes/plan_memory.ts";
import { emitBlob } from "../../compiler/emit/blob.ts";
import { buildBundle, customSection } from "../../compiler/emit/bundle.ts";
import { pruneRuntime } from "../../compiler/emit/prune.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { agreement, argmax, ortOracles, relDiff, uniformInputs, type Agreement } from "../helpers/oracle.ts";

const dir = new URL("../fixtures/", import.meta.url).pathname;
const TARGET = "simd" as const;
const N = 64;
const FIXTURES = ["resnet20_cifar_fp32", "resnet20_cifar_fxp2", "resnet20_cifar_mbn1x1", "resnet20_cifar_mbn3x1", "resnet20_cifar_mbn3x3", "xnornet_nonsquare", "qdq_int8", "float_fallback", "qonnx_mbn"];

/** Re-emit a (possibly mutated) plan as the pipeline does; the manifest is the compiled bundle's with the blob fields updated. */
function reemit(res: CompileResult, plan: Plan): Uint8Array {
  const rt = runtimeFor(TARGET);
  const blob = emitBlob(plan, planMemory(plan), rt.base, TARGET === "simd");
  const manifest = JSON.parse(new TextDecoder().decode(customSection(res.wasm, "mbn.manifest")!));
  Object.assign(manifest, {
    blob_sha256: createHash("sha256").update(blob.image).digest("hex"), blob_base: blob.base, blob_bytes: blob.image.length, memory_bytes: blob.memEnd,
  });
  return buildBundle(pruneRuntime(rt.bytes, rt.funcs!, blob.needs).wasm, blob, manifest);
}

// ---- mutants. Each lists a few candidate sites of one kind of corruption, in a fixed order (the
// middle layer first, the middle channel first); a site where the corrupted bundle gives the same
// outputs as the clean one on every test input (a dead channel, a threshold no input comes near) is
// an equivalent mutant and proves nothing, nor does one that moves every output by less than the
// tolerance (below the oracle's resolution by design); the test takes the first site whose outputs
// differ from the clean bundle's beyond the tolerance on some sample — and the oracle must reject it.
interface Site { what: string; apply(p: Plan): void }
type Mutant = (p: Plan) => Site[];
type BitConv = Extract<Step, { op: "BitConv" }>;
type FloatLayer = Extract<Step, { op: "Conv" | "Gemm" }>;
const SITES = 8;

/** The middle element first, then outwards. */
function middleOut<T>(xs: T[]): T[] {
  const mid = (xs.length - 1) >> 1, at = (i: number) => Math.abs(i - mid) * 2 + (i > mid ? 1 : 0);
  return xs.map((x, i) => [x, at(i)] as const).sort((a, b) => a[1] - b[1]).map(([x]) => x);
}
/** Indices 0..n−1 starting at n/2. */
const fromMiddle = (n: number) => Array.from({ length: n }, (_, d) => ((n >> 1) + d) % n);
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
/** The same step in another copy of the plan. */
const at = <T extends Step>(p: Plan, s: T): T => p.steps[p.steps.findIndex((x) => x.node === s.node && x.op === s.op)] as T;
const bitConvs = (p: Plan) => p.steps.filter((s): s is BitConv => s.op === "BitConv");
const floatLayers = (p: Plan) => p.steps.filter((s): s is FloatLayer => s.op === "Conv" || s.op === "Gemm");
const packers = (p: Plan) => p.steps.filter((s) => s.op === "BitQuantize" || ("epi" in s && s.epi.quant));
const packQuant = (s: Step): QuantSpec => (s.op === "BitQuantize" ? s.quant : (s as FloatLayer).epi.quant!);

const MUTANTS: Record<string, Mutant> = {
  /** One weight bit of the middle binary layer (plane 0, centre tap, input channel 0). */
  "weight bit": (p) =>
    middleOut(bitConvs(p)).slice(0, 2).flatMap((s) => fromMiddle(s.geom.cout).slice(0, SITES / 2).map((c) => {
      const g = s.geom, i = ((c * g.kh + (g.kh >> 1)) * g.kw + (g.kw >> 1)) * g.cin;
      return { what: `${s.node}: wbits[${i}] (channel ${c}, plane 0, centre tap, input 0) ${s.wbits[i]}→${s.wbits[i] ^ 1}`, apply: (q: Plan) => void (at(q, s).wbits[i] ^= 1) };
    })),
  /** One threshold (the lowest, channel C/2 or the next) of a packing quantizer, the middle one first, moved up by 1e-3 of the quantizer's max |threshold|. */
  threshold: (p) =>
    middleOut(packers(p)).flatMap((s) => {
      const q = packQuant(s), C = q.flip.length, L1 = q.levels.length - 1, scale = maxAbs(Array.from(q.thr).filter(Number.isFinite)) || 1;
      return fromMiddle(C).map((c) => c * L1).filter((i) => Number.isFinite(q.thr[i])).slice(0, 2).map((i) => ({
        what: `${s.node}: quantizer of ${q.source}, channel ${i / L1} threshold 1: ${q.thr[i].toPrecision(6)} + ${(1e-3 * scale).toPrecision(3)}`,
        apply: (pl: Plan) => void (packQuant(at(pl, s)).thr[i] += 1e-3 * scale),
      }));
    }),
  /** Two output channels' scales swapped: α of the middle binary layer (channels with distinct α), else its epilogue scale. */
  "scale swap": (p) =>
    middleOut(bitConvs(p)).flatMap((s): Site[] => {
      const M = s.m, row = (c: number) => Array.from(s.alpha.subarray(c * M, (c + 1) * M)).join();
      const sc = s.epi.scale, out: Site[] = [];
      for (const c1 of fromMiddle(s.geom.cout).slice(0, SITES / 2)) {
        const c2 = (c1 + 1) % s.geom.cout;
        if (s.alpha.length === s.geom.cout * M && row(c1) !== row(c2))
          out.push({ what: `${s.node}: alpha of channels ${c1} and ${c2} swapped`, apply: (pl) => {
            const a = at(pl, s).alpha, t = a.slice(c1 * M, (c1 + 1) * M);
            a.copyWithin(c1 * M, c2 * M, (c2 + 1) * M);
            a.set(t, c2 * M);
          } });
        else if (sc && sc[c1] !== sc[c2])
          out.push({ what: `${s.node}: epilogue scale of channels ${c1} and ${c2} swapped`, apply: (pl) => {
            const e = at(pl, s).epi.scale!;
            [e[c1], e[c2]] = [e[c2], e[c1]];
          } });
      }
      return out;
    }).slice(0, SITES),
  /** A dense layer fed by a flattened C×H×W map (H·W > 1) reads it in the other order (channels-last ↔ ONNX). */
  "head order": (p) =>
    p.steps.flatMap((s): Site[] => {
      if (s.op !== "Gemm") return [];
      const v = p.values[s.in] as Plan["values"][number] & { layout?: { order: string; c?: number; hw?: number } };
      let C = 0, HW = 0, channelsLast = false;
      if (v.layout?.order === "channels_last") [C, HW, channelsLast] = [v.layout.c!, v.layout.hw!, true];
      else {
        // the map that was flattened: a 4-D value of cin elements (plans without layouts store every 4-D map channels-last)
        const m = p.values.find((u) => u.shape.length === 4 && u.shape[2] * u.shape[3] > 1 && u.shape[1] * u.shape[2] * u.shape[3] === s.cin);
        if (m) [C, HW, channelsLast] = [m.shape[1], m.shape[2] * m.shape[3], !("layout" in v)];
      }
      if (C * HW !== s.cin || C < 2 || HW < 2) return [];
      return [{
        what: `${s.node}: the ${C}×${HW} map read in ${channelsLast ? "ONNX" : "channels-last"} order instead of ${channelsLast ? "channels-last" : "ONNX"}`,
        apply: (pl) => {
          const w = at(pl, s).weights, w0 = w.slice(), K = s.cout;
          for (let c = 0; c < C; c++)
            for (let h = 0; h < HW; h++) {
              const [to, from] = channelsLast ? [c * HW + h, h * C + c] : [h * C + c, c * HW + h];
              w.set(w0.subarray(from * K, (from + 1) * K), to * K);
            }
        },
      }];
    }),
  /** One weight of a float layer (convs, the middle one first, else dense; its two largest weights) changed by 10% of the layer's max |w|. */
  "float weight": (p) => {
    const fl = floatLayers(p), convs = fl.filter((s) => s.op === "Conv");
    return middleOut(convs.length ? convs : fl).flatMap((s) => {
      const m = maxAbs(s.weights), order = [...s.weights.keys()].sort((a, b) => Math.abs(s.weights[b]) - Math.abs(s.weights[a]) || a - b);
      return order.slice(0, 2).map((i) => ({ what: `${s.node}: weights[${i}] ${s.weights[i].toPrecision(6)} + ${(0.1 * m).toPrecision(3)}`, apply: (pl: Plan) => void (at(pl, s).weights[i] += 0.1 * m) }));
    });
  },
  /** One bias (channel C/2, then the next) of a float layer with biases, the middle one first, moved by 1% of the layer's max |bias|. */
  "float bias": (p) =>
    middleOut(floatLayers(p).filter((x) => x.epi.bias && maxAbs(x.epi.bias) > 0)).flatMap((s) => {
      const b = s.epi.bias!, m = maxAbs(b);
      return fromMiddle(b.length).slice(0, 2).map((c) => ({ what: `${s.node}: bias[${c}] ${b[c].toPrecision(6)} + ${(0.01 * m).toPrecision(3)}`, apply: (pl: Plan) => void (at(pl, s).epi.bias![c] += 0.01 * m) }));
    }),
};

interface Row { fixture: string; mutant: string; what: string; verdict: string; ms: number }
const matrix: Row[] = [];
/** Largest per-sample max|Δ|/max|clean| between two bundles' outputs (∞ where the argmax differs; 0: identical). */
function observable(y: Float32Array, clean: Float32Array, n: number): number {
  const k = y.length / n;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const a = y.subarray(i * k, (i + 1) * k), b = clean.subarray(i * k, (i + 1) * k);
    worst = Math.max(worst, argmax(a) !== argmax(b) ? Infinity : relDiff(a, b));
  }
  return worst;
}
const rejects = (a: Agreement) => a.unexplained.length > 0 || a.excused.length > a.cap || a.maxRel > 1e-4;

afterAll(() => {
  const names = Object.keys(MUTANTS);
  const cell = (f: string, m: string) => matrix.find((r) => r.fixture === f && r.mutant === m)?.verdict ?? "–";
  const lines = [["fixture", ...names].join(" | "), ...FIXTURES.map((f) => [f, ...names.map((m) => cell(f, m))].join(" | "))];
  console.log(`mutant kill matrix (${N} samples):\n${lines.join("\n")}\n${matrix.map((r) => `  ${r.fixture} / ${r.mutant}: ${r.verdict} (${r.ms} ms) — ${r.what}`).join("\n")}`);
});

describe("the end-to-end oracle rejects corrupted bundles", () => {
  for (const name of FIXTURES)
    describe(name, () => {
      let res: CompileResult, x: Float32Array, n: number, want: Record<string, Float32Array>, clean: Float32Array;
      beforeAll(async () => {
        const file = dir + name + ".onnx", onnx = readFileSync(file);
        res = compile(onnx, { file, target: TARGET });
        if (name === "qonnx_mbn") {
          const xi = readNpy(readFileSync(dir + "qonnx_mbn.input.npy"));
          [x, n, want] = [xi.data, xi.shape[0], { numpy: readNpy(readFileSync(dir + "qonnx_mbn.output.npy")).data }];
        } else {
          const b = await loadBundle(res.wasm);
          [x, n] = [uniformInputs(N, b.inputLength), N];
          want = await ortOracles(onnx, x, b.info.input.shape.slice(1));
        }
        clean = (await loadBundle(res.wasm)).run(x);
      });

      it("the un-mutated plan re-emits to the same bundle, and it passes", async () => {
        const wasm = reemit(res, structuredClone(res.plan));
        expect(Buffer.from(wasm).equals(Buffer.from(res.wasm))).toBe(true);
        const a = agreement(res, x, (await loadBundle(wasm)).run(x), want, n);
        expect(a.unexplained).toEqual([]);
        expect(rejects(a)).toBe(false);
      });

      // mutants that have no site in this fixture (no binary layer, no dense head, …) are listed as
      // n/a in the matrix, not run as skipped tests (the plan is known at collection: compile is sync)
      const plan0 = compile(readFileSync(dir + name + ".onnx"), { file: dir + name + ".onnx", target: TARGET }).plan;
      for (const [mutant, sites] of Object.entries(MUTANTS)) {
        if (!sites(plan0).length) {
          matrix.push({ fixture: name, mutant, what: "not applicable (no site in this plan)", verdict: "n/a", ms: 0 });
          continue;
        }
        it(`rejects: ${mutant}`, async () => {
          const t0 = performance.now();
          const all = sites(res.plan);
          // the first site whose corruption moves some sample beyond the tolerance (vs the clean bundle)
          let got: Float32Array | undefined, site: Site | undefined, equivalent = 0, below = 0;
          for (const st of all) {
            const plan = structuredClone(res.plan);
            st.apply(plan);
            const y = (await loadBundle(reemit(res, plan))).run(x);
            const d = observable(y, clean, n);
            if (d > 1e-4) [got, site] = [y, st];
            else if (d > 0) below++;
            else equivalent++;
            if (got) break;
          }
          if (!got || !site) {
            matrix.push({ fixture: name, mutant, what: `no site observable beyond the tolerance: ${equivalent} equivalent, ${below} below tolerance (${all[0].what}, …)`, verdict: "unobservable", ms: Math.round(performance.now() - t0) });
            expect.fail(`${mutant}: none of ${all.length} candidate sites moves an output beyond the tolerance (${equivalent} leave every output unchanged)`);
            return;
          }
          const a = agreement(res, x, got, want, n);
          const killed = rejects(a);
          const why = `${a.unexplained.length}/${n} unexplained, excused ${a.excused.length}/${a.cap}, maxRel ${a.maxRel.toExponential(2)}${equivalent + below ? `; skipped ${equivalent} equivalent and ${below} below-tolerance site(s)` : ""}`;
          matrix.push({ fixture: name, mutant, what: `${site.what}; ${why}`, verdict: killed ? "killed" : "SURVIVED", ms: Math.round(performance.now() - t0) });
          expect(killed, `${site.what}: ${why}; ${a.excused.map((e) => e.evidence).join("; ")}`).toBe(true);
        });
      }
    });
});
