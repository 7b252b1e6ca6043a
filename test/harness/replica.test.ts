// The tfjs replica (gradients for FGSM/PGD) follows the plan's float elementwise programs: on the
// float_fallback fixture (SiLU, Tanh, Sign before a float conv, HardSwish, LeakyReLU) its logits
// agree with the bundle's, and its input gradient is finite and not zero (the Sign has an STE).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { uniformInputs } from "../helpers/oracle.ts";

describe("replica of a plan with float elementwise programs", () => {
  it("agrees with the bundle and has a usable gradient", async () => {
    const file = new URL("../fixtures/float_fallback.onnx", import.meta.url).pathname;
    const res = compile(readFileSync(file), { file });
    expect(res.plan.steps.some((s) => s.op === "Elementwise")).toBe(true);
    const bundle = await loadBundle(res.wasm);
    const n = 8;
    const x = uniformInputs(n, bundle.inputLength);
    const want = bundle.run(x);
    const replica = await Replica.build(res.plan);
    const { grad, logits } = await replica.gradient(x, Int32Array.from({ length: n }, (_, i) => i % 10));
    const scale = Math.max(...want.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(logits[i] - want[i]));
    expect(worst).toBeLessThanOrEqual(1e-3 * scale);
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad.some((g) => g !== 0)).toBe(true);
  });
});
