// Harness: `mbn bench --serve` — an HTTP server on the local network that hands the device page and
// the bundle to any browser and collects the results the page posts back.
import { createServer, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import { devicePage } from "./device_page.ts";

export interface ServeHandle { server: Server; port: number; urls: string[]; results: unknown[]; close(): Promise<void> }

export function serveBundle(wasm: Uint8Array, o: { port: number; host: string; runs: number; warmup: number; title: string; onResult?: (r: unknown) => void }): Promise<ServeHandle> {
  const results: unknown[] = [];
  const page = devicePage(o);
  const server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/" || req.url === "/index.html")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else if (req.method === "GET" && req.url === "/bundle.wasm") {
      res.writeHead(200, { "content-type": "application/wasm" }).end(Buffer.from(wasm));
    } else if (req.method === "POST" && req.url === "/result") {
      let body = "";
      req.on("data", (c) => (body += c)).on("end", () => {
        try {
          const r = JSON.parse(body);
          results.push(r);
          o.onResult?.(r);
          res.writeHead(204).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    } else res.writeHead(404).end("not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      const port = (server.address() as { port: number }).port;
      const hosts = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === "IPv4").map((i) => i!.address);
      resolve({ server, port, results, urls: hosts.map((h) => `http://${h}:${port}/`), close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
