// Harness: builds the device page's browser script — device_client.ts and what it imports
// (latency.ts, noise.ts, the runtime loader types) as one ES module, with esbuild. Node built-ins
// those modules import are never called in the page: they resolve to stubs with the same export
// names that throw if one ever is (loadavg returns NaN; the page reports it as null).
// A checkout builds it on the fly; the package build (scripts/build_package.mjs) writes it once to
// dist/harness/bench/device_client.bundle.js, which an installed package serves (no esbuild there).
import { fileURLToPath } from "node:url";

/** The page's script as text. */
export async function buildDeviceClient() {
  const esbuild = await import("esbuild");
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
}
