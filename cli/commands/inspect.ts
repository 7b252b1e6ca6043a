// CLI: `mbn inspect <bundle.wasm|model.onnx> [--json]` — per layer op, shapes, planes M×K, MACs,
// BOPs, 64-bit popcounts as the runtime runs them, bytes; totals (BOPs, OPs, packed vs float32 weight bytes, peak arena, linear memory).
// A bundle gets the same table from its manifest, less the columns the manifest does not store.
// Counts are decimal (k, M, G); sizes binary (KiB, MiB), as everywhere in the CLI.
import { compile } from "../../compiler/index.ts";
import { customSection } from "../../compiler/emit/bundle.ts";
import type { CompileReport, LayerReport } from "../../compiler/report.ts";
import { checkBundleTarget, firstLine, isWasm, parseTarget, readInput, size, UsageError } from "../common.ts";

const k = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);

type Row = Pick<LayerReport, "node" | "op" | "out" | "planes" | "macs" | "bops"> & Partial<Pick<LayerReport, "step" | "popcounts" | "weightBytes" | "detail">>;

const COLUMNS: { head: string; cell: (l: Row, i: number) => string; full?: boolean }[] = [
  { head: "#", cell: (l, i) => String(l.step ?? i) },
  { head: "op", cell: (l) => l.op },
  { head: "node", cell: (l) => l.node },
  { head: "out", cell: (l) => l.out.join("×") },
  { head: "M×K", cell: (l) => l.planes || "-" },
  { head: "MACs", cell: (l) => k(l.macs) },
  { head: "BOPs", cell: (l) => k(l.bops) },
  { head: "popcnts", cell: (l) => (l.popcounts ? k(l.popcounts) : "-"), full: true },
  { head: "bytes", cell: (l) => (l.weightBytes ? size(l.weightBytes) : "-"), full: true },
  { head: "detail", cell: (l) => l.detail ?? "", full: true },
];

/** The per-layer table; `full` false: only the columns a bundle's manifest holds. */
function printLayers(layers: Row[], full: boolean): void {
  const cols = COLUMNS.filter((c) => full || !c.full);
  const rows = layers.map((l, i) => cols.map((c) => c.cell(l, i)));
  const w = cols.map((c, i) => Math.max(c.head.length, ...rows.map((row) => row[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]))).join("  ").trimEnd();
  console.log(line(cols.map((c) => c.head)));
  for (const row of rows) console.log(line(row));
}

function printTotals(t: CompileReport["totals"]): void {
  console.log(
    `totals: MACs ${k(t.macs)} (binary ${k(t.binaryMacs)}), BOPs ${k(t.bops)}, OPs ${k(t.ops)}, 64-bit popcounts ${k(t.popcounts)}; weights ${size(t.packedWeightBytes)} stored ` +
      `(float32 would be ${size(t.float32WeightBytes)}, ${(t.float32WeightBytes / Math.max(1, t.packedWeightBytes)).toFixed(1)}×); ` +
      `peak arena ${size(t.arenaBytes)}; linear memory ${size(t.memoryBytes)}; bundle ${size(t.bundleBytes)}`,
  );
}

export function printReport(r: CompileReport, layers = true): void {
  if (layers) printLayers(r.layers, true);
  printTotals(r.totals);
  if (r.batch > 1) console.log(`fixed batch ${r.batch}: one mbn_run runs ${r.batch} samples; the figures above are per sample`);
  for (const n of r.notes) console.log(`note: ${n}`);
}

export function inspectCommand(file: string, o: { json?: boolean; target?: string }): void {
  const target = parseTarget(o.target, "mbn inspect");
  const bytes = readInput(file);
  if (isWasm(bytes)) {
    let m;
    try {
      const sec = customSection(bytes, "mbn.manifest");
      if (!sec) throw new UsageError(`${file}: not an mbn bundle (no mbn.manifest section)`);
      m = JSON.parse(new TextDecoder().decode(sec));
      if (!m || !Array.isArray(m.layers) || !m.totals || !m.input || !m.output) throw new UsageError(`${file}: not an mbn bundle (the mbn.manifest section lacks layers, totals, input or output)`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${file}: not an mbn bundle (${e instanceof SyntaxError ? "its manifest is not JSON" : `malformed WebAssembly: ${firstLine(e)}`})`);
    }
    checkBundleTarget(file, m.target, o.target);
    if (o.json) return console.log(JSON.stringify(m, null, 2));
    console.log(`${file}: mbn bundle format ${m.format_version}, runtime ${m.runtime_version}, target ${m.target}, blob sha256 ${String(m.blob_sha256).slice(0, 16)}…`);
    if (m.inputs?.length > 1) console.log(`inputs, laid end to end in the input buffer: ${m.inputs.map((i: { name: string; shape: number[]; offset: number }) => `${i.name} [${i.shape}] at ${i.offset}`).join(", ")}`);
    if (m.outputs?.length > 1) console.log(`outputs, laid end to end in the output buffer: ${m.outputs.map((o: { name: string; shape: number[]; offset: number }) => `${o.name} [${o.shape}] at ${o.offset}`).join(", ")}`);
    console.log(`input ${m.input.name} [${m.input.shape}] → output ${m.output.name} [${m.output.shape}], ${m.dynamic_batch ? "any number of samples (dynamic batch)" : `${m.batch} sample(s) per mbn_run`}, linear memory ${size(m.memory_bytes)}`);
    printLayers(m.layers, false);
    printTotals({ ...m.totals, bundleBytes: bytes.length }); // the manifest is written before the bundle's size is known
    console.log("not in the bundle: per-layer popcounts, weight bytes and detail, and the compiler's notes (inspect the .onnx model for them)");
    return;
  }
  const r = compile(bytes, { file, target }).report;
  if (o.json) console.log(JSON.stringify(r, null, 2));
  else printReport(r);
}
