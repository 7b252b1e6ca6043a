// CLI: `mbn inspect <bundle.wasm|model.onnx> [--json]` — per layer op, shapes, planes M×K, MACs,
// BOPs, 64-bit popcounts as the runtime runs them, bytes; totals (BOPs, OPs, packed vs float32 weight bytes, peak arena, linear memory).
import { compile } from "../../compiler/index.ts";
import { customSection } from "../../compiler/emit/bundle.ts";
import type { CompileReport } from "../../compiler/report.ts";
import { isWasm, parseTarget, readInput, UsageError } from "../common.ts";

const k = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);

export function printReport(r: CompileReport, layers = true): void {
  if (layers) {
    const rows = r.layers.map((l) => [String(l.step), l.op, l.node, l.out.join("×"), l.planes || "-", k(l.macs), k(l.bops), l.popcounts ? k(l.popcounts) : "-", l.weightBytes ? k(l.weightBytes) : "-", l.detail]);
    const head = ["#", "op", "node", "out", "M×K", "MACs", "BOPs", "popcnts", "bytes", "detail"];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]))).join("  ");
    console.log(line(head));
    for (const row of rows) console.log(line(row));
  }
  const t = r.totals;
  console.log(
    `totals: MACs ${k(t.macs)} (binary ${k(t.binaryMacs)}), BOPs ${k(t.bops)}, OPs ${k(t.ops)}, 64-bit popcounts ${k(t.popcounts)}; weights ${k(t.packedWeightBytes)}B stored ` +
      `(float32 would be ${k(t.float32WeightBytes)}B, ${(t.float32WeightBytes / Math.max(1, t.packedWeightBytes)).toFixed(1)}×); ` +
      `peak arena ${k(t.arenaBytes)}B; linear memory ${k(t.memoryBytes)}B; bundle ${k(t.bundleBytes)}B`,
  );
  if (r.batch > 1) console.log(`fixed batch ${r.batch}: one mbn_run runs ${r.batch} samples; the figures above are per sample`);
  for (const n of r.notes) console.log(`note: ${n}`);
}

export function inspectCommand(file: string, o: { json?: boolean; target?: string }): void {
  const bytes = readInput(file);
  if (isWasm(bytes)) {
    const sec = customSection(bytes, "mbn.manifest");
    if (!sec) throw new UsageError(`${file}: not an mbn bundle (no mbn.manifest section)`);
    const m = JSON.parse(new TextDecoder().decode(sec));
    if (o.json) return console.log(JSON.stringify(m, null, 2));
    console.log(`${file}: mbn bundle format ${m.format_version}, runtime ${m.runtime_version}, target ${m.target}, blob sha256 ${m.blob_sha256.slice(0, 16)}…`);
    console.log(`input ${m.input.name} [${m.input.shape}] → output ${m.output.name} [${m.output.shape}], ${m.dynamic_batch ? "any number of samples (dynamic batch)" : `${m.batch} sample(s) per mbn_run`}, linear memory ${m.memory_bytes} bytes`);
    for (const l of m.layers) console.log(`  ${l.op.padEnd(18)} ${l.node.padEnd(40)} ${l.out.join("×").padEnd(12)} ${(l.planes || "-").padEnd(5)} MACs ${k(l.macs)} BOPs ${k(l.bops)}`);
    console.log(`totals: ${JSON.stringify(m.totals)}`);
    return;
  }
  const r = compile(bytes, { file, target: parseTarget(o.target) }).report;
  if (o.json) console.log(JSON.stringify(r, null, 2));
  else printReport(r);
}
