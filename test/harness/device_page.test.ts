// The on-device benchmark page in a real browser: headless Debian Chromium driven by playwright-core
// loads the served page, runs the bundle with the bare WebAssembly API and posts the figures back;
// its self-test hash equals Node's (same bundle, same output bits).
import { existsSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { serveBundle } from "../../harness/bench/serve.ts";

const CHROMIUM = "/usr/bin/chromium";

describe.runIf(existsSync(CHROMIUM))("device page in headless Chromium (needs Debian chromium at /usr/bin/chromium)", () => {
  it("runs the benchmark in the browser and reports JSON with the same self-test hash as Node", async () => {
    const file = new URL("../fixtures/xnornet_nonsquare.onnx", import.meta.url).pathname;
    const { wasm } = compile(readFileSync(file), { file });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), {});
    const nodeHash = (inst.exports.mbn_selftest as () => number)() >>> 0;
    const h = await serveBundle(wasm, { port: 0, host: "127.0.0.1", runs: 20, warmup: 3, title: "test" });
    const browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${h.port}/`);
      await page.waitForFunction(() => document.getElementById("status")?.textContent === "done", undefined, { timeout: 60_000 });
      const shown = JSON.parse((await page.textContent("#json"))!);
      expect(shown.median_ms).toBeGreaterThan(0);
      expect(shown.selftest).toBe(nodeHash);
      for (let i = 0; i < 50 && !h.results.length; i++) await new Promise((r) => setTimeout(r, 100));
      expect((h.results[0] as { selftest: number }).selftest).toBe(nodeHash);
    } finally {
      await browser.close();
      await h.close();
    }
  }, 120_000);
});
