// Differential testing in the manner of NNSmith (ASPLOS '23): 300 random valid ONNX models from a
// fixed seed (test/fuzz/graphgen.ts) compiled by mbn and run against onnxruntime-node on the same
// inputs (test/fuzz/differential.ts). Zero WRONG (compiled but different output) and zero CRASH;
// refusals are fine but most models must compile and be compared, and the generator must keep
// reaching the paths that matter (BitConv, fixed batch N > 1, elementwise work on flattened maps;
// Concat of channels on maps and rows, GlobalMaxPool, Transpose — NHWC inputs and Keras heads —,
// Softmax/LogSoftmax at opset ≥ 13 and in the opset-11/12 2-D coercion, Sum residuals, and binary /
// multi-bit dense layers that run packed over a row and over a flattened map).
// Also replays every shrunk failure in test/fixtures/differential/ (written by the nightly run,
// `npm run fuzz:differential -- 5000 <seed>`), and checks that the harness can fail at all.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { build, describe as describeModel, generate } from "../fuzz/graphgen.ts";
import { caseSeed, checkModel, FIXTURES, type Verdict } from "../fuzz/differential.ts";

const SEED = 20261127, CASES = 300;

describe("differential: mbn bundles vs onnxruntime-node on generated models", () => {
  it(`${CASES} generated graphs: no WRONG, no CRASH, most compiled and compared`, async () => {
    const t0 = performance.now();
    const counts: Record<string, number> = {};
    const failures: string[] = [];
    let bitconv = 0, fixedBatch = 0, flatElementwise = 0, bitdense = 0, bitdenseMap = 0, bdenseExpected = 0, bdensePacked = 0;
    const seen: Record<string, number> = {}; // ok graphs by what they contain (ops and graphgen's tags)
    for (let i = 0; i < CASES; i++) {
      const recipe = generate(caseSeed(SEED, i));
      const built = build(recipe);
      const v: Verdict = await checkModel(built.bytes);
      const key = v.kind === "refused" ? `refused: ${v.reason}` : v.kind;
      counts[key] = (counts[key] ?? 0) + 1;
      if (v.kind === "wrong" || v.kind === "crash" || v.kind === "invalid")
        failures.push(`case ${i} (seed ${caseSeed(SEED, i)}): ${v.kind.toUpperCase()} ${v.reason} — ${describeModel(recipe, built)}: ${v.detail.slice(0, 300)}`);
      if (v.kind !== "ok") continue;
      if (v.bitconv) bitconv++;
      if (v.bitdense) bitdense++;
      if (v.bitdenseMap) bitdenseMap++;
      if (built.tags.includes("dense-binary-behind-quantizer")) {
        bdenseExpected++;
        if (v.bitdense) bdensePacked++;
      }
      for (const t of new Set([...built.ops, ...built.tags, ...(recipe.input.nhwc ? ["nhwc-input"] : [])])) seen[t] = (seen[t] ?? 0) + 1;
      if (typeof recipe.input.batch === "number" && recipe.input.batch > 1) fixedBatch++;
      const at = built.ops.findIndex((op) => op === "Flatten" || op === "Reshape");
      if (at >= 0 && at < built.ops.length - 1 && recipe.input.rank === 4) flatElementwise++;
    }
    const ok = counts.ok ?? 0;
    const has = (t: string) => seen[t] ?? 0;
    console.log(`differential (seed ${SEED}): ${JSON.stringify(counts)}; compared with BitConv ${bitconv} (dense ${bitdense}, over a flattened map ${bitdenseMap}; binary dense behind a quantizer packed ${bdensePacked}/${bdenseExpected}), fixed batch N>1 ${fixedBatch}, ops after a flattened map ${flatElementwise}; ` +
      `compared graphs with ${JSON.stringify(Object.fromEntries(Object.entries(seen).filter(([t]) => /^[a-z]|^(Concat|GlobalMaxPool|Transpose|Softmax|LogSoftmax|Sum)$/.test(t)).sort()))}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(CASES / 2);
    expect(bitconv).toBeGreaterThanOrEqual(CASES / 10);
    expect(fixedBatch).toBeGreaterThanOrEqual(CASES / 20);
    expect(flatElementwise).toBeGreaterThanOrEqual(CASES / 20);
    // the ops mbn gained: each among the compared graphs often enough that losing it fails here
    const min = {
      "concat-map": CASES / 15, "concat-row": CASES / 50, "concat-3": CASES / 50, "concat-branches": CASES / 30, GlobalMaxPool: CASES / 30,
      "nhwc-input": CASES / 30, "transpose-to-nhwc": CASES / 50, "transpose-other": CASES / 30, "transpose-rank3": CASES / 50,
      Softmax: CASES / 20, LogSoftmax: CASES / 30, "softmax-last": CASES / 30, "softmax-coerced": CASES / 50, "softmax-channels": CASES / 50,
      "sum-residual": CASES / 20, "concat-other-axis": CASES / 100, attention: CASES / 50,
    };
    for (const [t, n] of Object.entries(min)) expect(has(t), `compared graphs with ${t}`).toBeGreaterThanOrEqual(Math.ceil(n));
    // binary / multi-bit dense layers that ran packed (a BitConv with a [1, K] output, compile report)
    expect(bitdense).toBeGreaterThanOrEqual(CASES / 10);
    expect(bitdenseMap).toBeGreaterThanOrEqual(CASES / 30);
    // ±α / Σ-of-bases / fixed-point weights right behind a quantizer run packed (a few stay float
    // with a reason, e.g. Sign → BatchNorm → QDQ: no staircase shared by the channels)
    expect(bdensePacked).toBeGreaterThanOrEqual(0.9 * bdenseExpected);
  }, 300_000);

  it("the harness reports WRONG for a nudged output value and for two swapped output values", async () => {
    let tried = 0, swaps = 0;
    for (let i = 0; tried < 10 && i < 100; i++) {
      const bytes = build(generate(caseSeed(SEED + 1, i))).bytes;
      if ((await checkModel(bytes)).kind !== "ok") continue;
      tried++;
      const nudged = await checkModel(bytes, { corrupt: (y) => void (y[y.length - 1] += 1e-2 * Math.max(1, ...Array.from(y, Math.abs))) });
      expect(nudged.kind, nudged.detail).toBe("wrong");
      // swap the largest and the smallest output value (a layout bug in miniature), when they differ
      let hi = 0, lo = 0;
      const swapped = await checkModel(bytes, {
        corrupt: (y) => {
          y.forEach((v, j) => { if (v > y[hi]) hi = j; if (v < y[lo]) lo = j; });
          [y[hi], y[lo]] = [y[lo], y[hi]];
        },
      });
      if (hi !== lo) {
        swaps++;
        expect(swapped.kind, swapped.detail).toBe("wrong");
      }
    }
    expect(tried).toBe(10);
    expect(swaps).toBeGreaterThan(5);
  }, 120_000);
});

// Shrunk failures (one per bug class): expected to fail until the compiler is fixed, then to stay fixed.
const fixtures = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => f.endsWith(".onnx")).sort() : [];
describe("differential: shrunk fixtures in test/fixtures/differential/", () => {
  it("fixture folder is readable", () => expect(Array.isArray(fixtures)).toBe(true));
  for (const f of fixtures)
    it(f, async () => {
      const meta = f.replace(/\.onnx$/, ".json");
      const why = existsSync(new URL(meta, FIXTURES)) ? JSON.parse(readFileSync(new URL(meta, FIXTURES), "utf8")).model : "";
      const v = await checkModel(readFileSync(new URL(f, FIXTURES)));
      expect(["ok", "refused"], `${f} (${why}): ${v.kind} ${v.reason}: ${v.detail}`).toContain(v.kind);
    });
});
