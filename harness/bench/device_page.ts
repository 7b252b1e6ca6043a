// Harness: the on-device benchmark page — an HTML shell with the run's settings inline and the
// in-browser benchmark (device_client.ts, with the statistics of latency.ts / noise.ts it imports)
// bundled for the browser by esbuild. Node built-ins those modules import are never called in the
// page; they resolve to stubs with the same export names that throw if one ever is called (loadavg: NaN,
// reported as null).
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
/** device_client.ts and what it imports as one browser ES module (built once per process). */
export function deviceClientScript(): Promise<string> {
  return (client ??= (async () => {
    let esbuild: typeof import("esbuild");
    try {
      esbuild = await import("esbuild");
    } catch {
      throw new Error("the device page needs esbuild (npm install esbuild) to build its script");
    }
    const r = await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./device_client.ts", import.meta.url))],
      bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent",
      external: ["onnxruntime-web", "onnxruntime-node"],
      plugins: [{
        name: "node-builtins-stub",
        setup(b) {
          b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "node-stub" }));
          // the same export names as the real module (read from it here), each one throwing
          b.onLoad({ filter: /.*/, namespace: "node-stub" }, async (a) => ({
            loader: "js",
            contents: Object.keys(await import(a.path)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== "default").map((k) => k === "loadavg"
              ? "export const loadavg = () => [NaN];"
              : `export function ${k}() { throw new Error(${JSON.stringify(`${a.path} ${k}() is not available in a browser`)}); }`).join("\n") + "\nexport default {};",
          }));
        },
      }],
    });
    return r.outputFiles[0].text;
  })());
}
