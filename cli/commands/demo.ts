// CLI: `mbn demo` (npm start) — the main job on the default zoo model: compile it, natural accuracy
// of the bundle on the bundled Fashion-MNIST test split, latency vs onnxruntime-web/-node on the
// same file, a short PGD-20 evaluation, an HTML report in out/, and a summary.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { accuracy } from "../../harness/eval.ts";
import { makePeers, measureLatency } from "../../harness/bench/latency.ts";
import { progress, size, UsageError } from "../common.ts";
import { evaluateAttack } from "../../harness/attacks/evaluate.ts";
import { classify, renderReport } from "../../harness/report/report.ts";
import { existsSync, readdirSync } from "node:fs";
import { cpus } from "node:os";

export const ZOO = fileURLToPath(new URL("../../models/zoo/", import.meta.url));

export async function demoCommand(o: { model: string; n: number; attackN?: number }): Promise<void> {
  const tStart = performance.now();
  const file = join(ZOO, o.model, "model.onnx");
  let onnx: Uint8Array;
  try {
    onnx = readFileSync(file);
  } catch {
    throw new UsageError(`${file}: zoo model '${o.model}' not found`);
  }
  mkdirSync("out", { recursive: true });
  console.log(`mbn demo: ${o.model}`);
  const res = compile(onnx, { file });
  const wasmPath = join("out", `${o.model}.wasm`);
  writeFileSync(wasmPath, res.wasm);
  const t = res.report.totals;
  console.log(`  compiled in ${res.report.compileMs.toFixed(0)} ms → ${wasmPath}: ${size(t.bundleBytes)} bundle, ` +
    `${size(t.memoryBytes)} linear memory, ${(t.bops / 1e6).toFixed(1)} M BOPs, ${(t.ops / 1e6).toFixed(2)} M OPs`);
  const bundle = await loadBundle(res.wasm);

  const data = take(loadDataset("fashion-mnist"), o.n);
  const bar = progress("  accuracy", data.n);
  const t0 = performance.now();
  const { acc } = accuracy(bundle, data, (k) => bar.tick(k));
  bar.done();
  console.log(`  natural accuracy (bundle, ${data.n} test images): ${(acc * 100).toFixed(2)}% in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const peers = await makePeers(onnx, [1, ...res.plan.inputShape.slice(1)], ["ort-web", "ort-node"], 1);
  const lbar = progress("  latency", 60);
  const lat = await measureLatency(bundle, peers, { warmup: 10, runs: 60, onTick: () => lbar.tick() });
  lbar.done();
  for (const s of lat.stats) console.log(`  ${s.runner.padEnd(24)} p10 ${s.p10_ms.toFixed(2)} ms  median ${s.median_ms.toFixed(2)} ms  p90 ${s.p90_ms.toFixed(2)} ms  min ${s.min_ms.toFixed(2)} ms`);
  // a noisy run (harness/bench/noise.ts) publishes no ratio: not here, not in the report, not in demo.json
  const noisy = lat.noise.noisy;
  for (const [k, v] of Object.entries(lat.ratios))
    console.log(noisy ? `  bundle vs ${k}: noisy, not published`
      : `  bundle is ${(v >= 1 ? v : 1 / v).toFixed(2)}× ${v >= 1 ? "faster" : "slower"} than ${k} (median of paired ratios over interleaved rounds of ≥ ${lat.min_round_ms.toFixed(0)} ms each, same run, 1 thread)`);
  if (noisy) console.log(`  mbn: warning: NOISY — the machine is busy (${lat.noise.reasons.join("; ")}); latency ratios not published, rerun \`mbn bench\` on a quiet machine`);
  const machine = `${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`;
  const latencyRecord = { model: o.model, date: new Date().toISOString(), machine, latency: lat.stats, ratios: lat.ratios };

  const nAttack = o.attackN ?? 200;
  const sub = take(data, nAttack);
  const abar = progress("  PGD-20", sub.n);
  const { record } = await evaluateAttack({
    model: o.model, bundle, wasm: res.wasm, plan: res.plan, data: sub, attack: "pgd", batch: 50,
    params: { eps: 0.1, steps: 20, stepSize: 0.0125, restarts: 1, queries: 0, seed: 0 }, onProgress: (k) => abar.tick(k),
  });
  abar.done();
  console.log(`  PGD-20 ε=0.1 on ${sub.n} images (bundle): natural ${(record.natural_acc * 100).toFixed(1)}% → adversarial ${(record.adversarial_acc * 100).toFixed(1)}% in ${record.seconds.toFixed(0)} s; ` +
    `replica agreement ${((record.replica_agreement ?? 0) * 100).toFixed(1)}%${record.gradient?.masking_suspected ? ", GRADIENT MASKING SUSPECTED" : ""}`);

  // report: this run + the committed zoo manifest and zoo attack results
  const docs: unknown[] = noisy ? [record] : [record, latencyRecord];
  if (existsSync(join(ZOO, "manifest.json"))) docs.push(JSON.parse(readFileSync(join(ZOO, "manifest.json"), "utf8")));
  const resDir = join(ZOO, "results");
  if (existsSync(resDir)) for (const f of readdirSync(resDir).filter((f) => f.endsWith(".jsonl")))
    docs.push(readFileSync(join(resDir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
  writeFileSync(join("out", "report.html"), renderReport({ ...classify(docs), title: `mbn demo: ${o.model}`, command: "npm start" }));
  const summary = { model: o.model, date: latencyRecord.date, machine, natural_acc: acc, n: data.n, latency: lat.stats, ratios: noisy ? {} : lat.ratios, noisy, noise: lat.noise, totals: t, pgd20: record };
  writeFileSync(join("out", "demo.json"), JSON.stringify(summary, null, 2) + "\n");
  console.log(`  wrote out/report.html and out/demo.json (${((performance.now() - tStart) / 1000).toFixed(0)} s in all)`);
}
