// `mbn bench --peers wasm3` (issue 14): the interpreter as a bench peer — its record names what it is
// (its own process, not interleaved, an interpreter on this host) and says how it compares with the
// bundle; without wasm3 sources the option fails with one `mbn:` line.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { wasm3Missing } from "../../harness/bench/wasm3_peer.ts";

const root = new URL("../../", import.meta.url).pathname;
const mbn = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [`${root}bin/mbn.mjs`, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
const why = wasm3Missing();
if (why) console.log(`wasm3_bench.test: SKIPPED — ${why}`);

describe("mbn bench --peers wasm3", () => {
  it.runIf(!why)("times the scalar bundle under wasm3 and records it as an interpreter peer", () => {
    const r = mbn(["bench", "test/fixtures/xnornet_nonsquare.onnx", "--peers", "wasm3", "--runs", "3", "--no-floor", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(rec.interpreters).toHaveLength(1);
    const w = rec.interpreters[0];
    expect(w.runner).toMatch(/wasm3 \(interpreter/);
    expect(w.note).toMatch(/not interleaved/);
    expect(w.ms_min).toBeGreaterThan(0);
    expect(w.ms_per_run).toBeGreaterThanOrEqual(w.ms_min);
    expect(w.over_bundle_p10).toBeCloseTo(w.ms_min / rec.latency[0].p10_ms, 6);
    expect(w.over_bundle_p10).toBeGreaterThan(1); // an interpreter is slower than V8's compiled SIMD bundle
  }, 300_000);

  it("without wasm3 sources, one mbn: line and exit 1", () => {
    const r = mbn(["bench", "test/fixtures/xnornet_nonsquare.onnx", "--peers", "wasm3", "--runs", "3"], { MBN_WASM3_DIR: "/nonexistent" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("mbn: --peers wasm3: no wasm3 sources at /nonexistent (set MBN_WASM3_DIR to a checkout of github.com/wasm3/wasm3)");
  });
});
