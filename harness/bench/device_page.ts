// Harness: the on-device benchmark page — an HTML shell with the run's settings inline, and its
// script: the in-browser benchmark (device_client.ts, with the statistics of latency.ts / noise.ts it
// imports) bundled for the browser (device_client_build.mjs).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DeviceConfig } from "./device_client.ts";

export type { DeviceConfig };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function devicePage(cfg: DeviceConfig): string {
  const json = JSON.stringify(cfg).replace(/</g, "\\u003c");
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(cfg.title)}</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:980px}table{border-collapse:collapse;margin:.8em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l{text-align:left}th{background:#f4f4f4}.bar{display:inline-block;height:9px;background:#1f77b4}.bad{color:#b00}pre{font-size:11px}</style></head>
<body><h1>${esc(cfg.title)}</h1><p id="status">loading…</p><div id="out"></div>
<script type="application/json" id="config">${json}</script><script type="module" src="client.js"></script></body></html>`;
}

let client: Promise<string> | undefined;
/** device_client.ts and what it imports as one browser ES module: built with esbuild in a checkout
 * (device_client_build.mjs), else the device_client.bundle.js that the package build writes beside
 * this file (scripts/build_package.mjs). */
export function deviceClientScript(): Promise<string> {
  return (client ??= (async () => {
    if (existsSync(fileURLToPath(new URL("./device_client.ts", import.meta.url)))) {
      try {
        const build = "./device_client_build.mjs"; // (a checkout only: not part of the built package)
        return await ((await import(build)) as { buildDeviceClient(): Promise<string> }).buildDeviceClient();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw e;
      }
    }
    const pre = fileURLToPath(new URL("./device_client.bundle.js", import.meta.url));
    if (existsSync(pre)) return readFileSync(pre, "utf8");
    throw new Error("the device page's script is not built (it needs esbuild: npm run build in a checkout)");
  })());
}
