// Fuzz (fixed-seed subset, 200 cases): mutated real ONNX files either compile or fail with a
// one-line CompileError naming the problem — no uncaught TypeError/RangeError, no internal error,
// no case slower than 10 s. The nightly-style run with 2000+ cases: `npx tsx test/fuzz/nightly.ts`.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mutate, rng, runCase } from "../fuzz/mutate.ts";

const SEEDS = ["qdq_int8", "qonnx_mbn"].map((n) => readFileSync(new URL(`../fixtures/${n}.onnx`, import.meta.url)));

describe("compiler fuzz, fixed seed", () => {
  it("200 mutated models: compile or one clear line", () => {
    const r = rng(20261126);
    const problems: string[] = [];
    const kinds: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const base = SEEDS[i % SEEDS.length], other = SEEDS[(i + 1) % SEEDS.length];
      const [kind, bytes] = mutate(base, other, r);
      const v = runCase(bytes, `case${i}.onnx`, 10_000);
      kinds[`${kind}:${v.outcome}`] = (kinds[`${kind}:${v.outcome}`] ?? 0) + 1;
      if (!v.ok) problems.push(`case ${i} (${kind}): ${v.problem} — ${v.line ?? ""}`);
    }
    expect(problems).toEqual([]);
    expect(Object.keys(kinds).some((k) => k.endsWith(":error"))).toBe(true);
  }, 600_000);
});
