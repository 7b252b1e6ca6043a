// The on-device benchmark page in a real browser: headless Debian Chromium driven by playwright-core
// loads the served page, which runs the bundle and onnxruntime-web (served from node_modules) on the
// same .onnx, with the popcount floor, in interleaved rounds, and posts the result back. Checked: the self-test hash equals
// Node's, the outputs agree with onnxruntime-web, the ratio is a finite number from rounds of
// ≥ 5 ms, the noise gauge is there, the per-step table has one row per plan step, the page makes no
// request outside this server, and the server writes the posted JSON to a file when asked.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { serveBundle } from "../../harness/bench/serve.ts";

const CHROMIUM = "/usr/bin/chromium";

describe.runIf(existsSync(CHROMIUM))("device page in headless Chromium (needs Debian chromium at /usr/bin/chromium)", () => {
  it("runs the bundle and onnxruntime-web side by side and posts JSON: same outputs, finite ratio, one profile row per plan step", async () => {
    const file = new URL("../fixtures/xnornet_nonsquare.onnx", import.meta.url).pathname;
    const onnx = readFileSync(file);
    const { wasm, plan, report } = compile(onnx, { file });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), {});
    const nodeHash = (inst.exports.mbn_selftest as () => number)() >>> 0;
    const out = join(mkdtempSync(join(tmpdir(), "mbn-device-")), "results.jsonl");
    const h = await serveBundle(wasm, { port: 0, host: "127.0.0.1", runs: 12, warmup: 3, title: "test", model: "xnornet_nonsquare", onnx, out });
    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const foreign: string[] = [];
      page.on("request", (r) => { if (!r.url().startsWith(`http://127.0.0.1:${h.port}/`) && !r.url().startsWith("blob:")) foreign.push(r.url()); });
      await page.goto(`http://127.0.0.1:${h.port}/`);
      await page.waitForFunction(() => /^(done|error)/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 90_000 });
      expect(await page.textContent("#status")).toBe("done");
      for (let i = 0; i < 50 && !h.results.length; i++) await new Promise((r) => setTimeout(r, 100));
      const r = h.results[0] as any;
      expect(r.selftest).toEqual({ bundle: nodeHash, node: nodeHash, match: true });
      expect(r.outputs.match, JSON.stringify(r.outputs)).toBe(true);
      expect(r.latency.map((s: any) => s.runner)).toEqual(["mbn bundle", "onnxruntime-web (wasm)", "popcount floor"]);
      expect(r.popcount_floor.popcounts).toBe(report.totals.popcounts);
      expect(report.totals.popcounts).toBeGreaterThan(0);
      expect(Number.isFinite(r.popcount_floor.bundle_over_floor)).toBe(true);
      const ratio = r.measured_ratios["onnxruntime-web (wasm)"];
      expect(Number.isFinite(ratio) && ratio > 0).toBe(true);
      expect(r.ratios).toEqual(r.noisy ? {} : r.measured_ratios); // a noisy run publishes no ratio
      expect(r.min_round_ms).toBeGreaterThanOrEqual(5);
      for (const s of r.latency) {
        expect(s.runs).toBe(12);
        expect(s.reps).toBeGreaterThanOrEqual(12); // each round repeats the runner until ≥ 5 ms have passed
        expect(s.p10_ms * s.reps / s.runs).toBeGreaterThan(0);
      }
      expect(typeof r.noise.noisy).toBe("boolean");
      expect(r.noise.calibration_p10_ms).toBeGreaterThan(0);
      // the per-step table: one row per plan step, with the step's op, readable (not JSON)
      expect(r.profile.map((p: any) => p.op)).toEqual(plan.steps.map((s) => s.op));
      const rows = await page.$$eval("#profile tr", (trs) => trs.slice(1).map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)));
      expect(rows.length).toBe(plan.steps.length);
      rows.forEach((row, i) => expect(row[1]).toBe(plan.steps[i].op));
      expect(r.profile.every((p: any) => p.ms > 0)).toBe(true);
      expect(await page.textContent("#verdict")).toMatch(/faster|slower|NOISY/);
      expect(await page.isVisible("#json")).toBe(false); // raw JSON only on request
      expect(foreign).toEqual([]);
      expect(JSON.parse(readFileSync(out, "utf8").trim().split("\n")[0]).measured_ratios).toEqual(r.measured_ratios);
    } finally {
      await browser.close();
      await h.close();
    }
  }, 150_000);
});
