// Harness: `mbn bench --serve` — an HTTP server on the local network that hands any browser the
// device page (device_page.ts), the bundle, the same .onnx, the popcount-floor probe and onnxruntime-web's browser build from
// this machine's node_modules (the page needs no other network), and collects the results the page
// posts back (printed by the caller; appended to a JSON-lines file when `out` is given). Responses
// carry the cross-origin isolation headers, which give the page a 5 µs timer instead of 100 µs.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deviceClientScript, devicePage } from "./device_page.ts";

export interface ServeHandle { server: Server; port: number; urls: string[]; results: unknown[]; close(): Promise<void> }

export interface ServeOptions {
  port: number; host: string; runs: number; warmup: number; title: string;
  /** the .onnx the bundle was compiled from: onnxruntime-web runs it beside the bundle */ onnx?: Uint8Array;
  /** model name shown and recorded */ model?: string; /** the command line, recorded in each result */ command?: string;
  /** each round ≥ this many ms per runner (default 5, as mbn bench) */ minRoundMs?: number;
  /** append every posted result to this file (one JSON per line) */ out?: string;
  onResult?: (r: unknown) => void;
}

/** The folder of onnxruntime-web's browser builds (its dist/), or undefined when it is not installed. */
function ortDist(): string | undefined {
  try {
    const d = dirname(createRequire(import.meta.url).resolve("onnxruntime-web"));
    return existsSync(join(d, "ort.wasm.min.mjs")) ? d : undefined;
  } catch {
    return undefined;
  }
}
// only the files the page loads: the wasm-backend ES module, its glue and its WebAssembly binary
const PROBE = fileURLToPath(new URL("../../runtime/build/popcount-floor.wasm", import.meta.url));
const ORT_FILE = /^ort(\.wasm\.min\.mjs|-wasm-simd-threaded\.(mjs|wasm))$/;

export async function serveBundle(wasm: Uint8Array, o: ServeOptions): Promise<ServeHandle> {
  const results: unknown[] = [];
  const dist = o.onnx ? ortDist() : undefined;
  if (o.onnx && !dist) throw new Error("onnxruntime-web is not installed: the device page cannot run it beside the bundle");
  let nodeSelftest: number | null = null;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), {});
    nodeSelftest = (inst.exports.mbn_selftest as () => number)() >>> 0;
  } catch { /* not an mbn bundle with a self-test: the page says so */ }
  const page = devicePage({ runs: o.runs, warmup: o.warmup, minRoundMs: o.minRoundMs ?? 5, title: o.title, model: o.model ?? o.title, command: o.command, nodeSelftest, onnx: !!o.onnx, floor: existsSync(PROBE) });
  const script = await deviceClientScript();
  const isolated = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp", "cross-origin-resource-policy": "same-origin", "cache-control": "no-store" };
  const server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    const send = (type: string, body: string | Uint8Array) => res.writeHead(200, { "content-type": type, ...isolated }).end(typeof body === "string" ? body : Buffer.from(body));
    if (req.method === "GET" && (url === "/" || url === "/index.html")) send("text/html; charset=utf-8", page);
    else if (req.method === "GET" && url === "/client.js") send("text/javascript; charset=utf-8", script);
    else if (req.method === "GET" && url === "/bundle.wasm") send("application/wasm", wasm);
    else if (req.method === "GET" && url === "/model.onnx" && o.onnx) send("application/octet-stream", o.onnx);
    else if (req.method === "GET" && url === "/popcount-floor.wasm" && existsSync(PROBE)) send("application/wasm", readFileSync(PROBE));
    else if (req.method === "GET" && url.startsWith("/ort/") && dist && ORT_FILE.test(url.slice(5))) {
      const f = url.slice(5);
      send(f.endsWith(".wasm") ? "application/wasm" : "text/javascript; charset=utf-8", readFileSync(join(dist, f)));
    } else if (req.method === "POST" && url === "/result") {
      let body = "";
      req.on("data", (c) => (body += c)).on("end", () => {
        try {
          const r = JSON.parse(body);
          results.push(r);
          if (o.out) appendFileSync(o.out, JSON.stringify(r) + "\n");
          o.onResult?.(r);
          res.writeHead(204, isolated).end();
        } catch {
          res.writeHead(400, isolated).end();
        }
      });
    } else res.writeHead(404, isolated).end("not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      const port = (server.address() as { port: number }).port;
      const hosts = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === "IPv4").map((i) => i!.address);
      const shown = o.host === "0.0.0.0" || o.host === "::" ? hosts : [o.host]; // the addresses it answers on
      resolve({ server, port, results, urls: shown.map((h) => `http://${h.includes(":") ? `[${h}]` : h}:${port}/`), close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }) });
    });
  });
}
