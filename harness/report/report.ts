// Harness report: one self-contained offline HTML page (inline SVG, no scripts, no network) from
// result records — attack records (mbn attack --json), latency records (mbn bench/demo JSON) and
// the zoo manifest: the design-space plot (natural vs adversarial accuracy, marker size = BOPs),
// accuracy-vs-ε curves per attack, latency bars vs peers, and the tables behind them.
import type { AttackRecord } from "../attacks/evaluate.ts";
import type { LatencyStats } from "../bench/latency.ts";
import { bars, lines, scatter } from "./svg.ts";

export interface LatencyRecord { model: string; latency: LatencyStats[]; ratios: Record<string, number>; date: string; machine?: string }
export interface ZooEntry { name: string; bops: number; ops: number; natural_acc: number; weight_bases: number | null; act_bases: number | null; fixed_point_bits: number | null; adversarial_training: string | null }

export interface ReportInput { attacks: AttackRecord[]; latency: LatencyRecord[]; zoo: ZooEntry[]; title?: string; command?: string }

const esc = (s: string) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const short = (m: string) => m.replace(/^.*\/(fmnist_[^/]+)\/model\.onnx$/, "$1").replace(/^.*\//, "");

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")}</table>`;
}

export function renderReport(inp: ReportInput): string {
  const parts: string[] = [];
  // design space: one point per model, at the PGD ε that separates the models most
  const pgd = inp.attacks.filter((r) => r.attack === "pgd");
  const epsList = [...new Set(pgd.map((r) => r.eps))];
  const spread = (e: number) => {
    const v = pgd.filter((r) => r.eps === e).map((r) => r.adversarial_acc);
    return v.length < 2 ? -1 : Math.max(...v) - Math.min(...v);
  };
  const eps = epsList.sort((a, b) => spread(b) - spread(a) || a - b)[0];
  const byModel = new Map<string, AttackRecord>();
  for (const r of pgd.filter((r) => r.eps === eps)) {
    const k = short(r.model), cur = byModel.get(k);
    if (!cur || r.n > cur.n) byModel.set(k, r);
  }
  const pts = [...byModel.entries()].map(([k, r]) => {
    const z = inp.zoo.find((e) => e.name === k);
    return { x: r.natural_acc, y: r.adversarial_acc, size: z ? Math.max(z.ops, 1) : 1, label: k.replace(/^fmnist_resnet20_/, "") };
  });
  if (pts.length) {
    parts.push(`<h2>Design space: accuracy vs robustness vs cost</h2><p>PGD-${byModel.values().next().value?.steps} at ε=${eps} on the deployed bundle (the ε that separates the models most); marker area ∝ OPs (BOPs/64 + float MACs).</p>`);
    parts.push(scatter(pts, { w: 720, h: 420, xl: "natural accuracy", yl: `adversarial accuracy (PGD, ε=${eps})` }));
  }
  // accuracy vs eps per (model, attack)
  const curves = new Map<string, [number, number][]>();
  for (const r of inp.attacks) {
    const k = `${short(r.model).replace(/^fmnist_resnet20_/, "")} ${r.attack}`;
    (curves.get(k) ?? curves.set(k, []).get(k)!).push([r.eps, r.adversarial_acc]);
  }
  if (curves.size) {
    parts.push(`<h2>Adversarial accuracy vs ε</h2>`);
    parts.push(lines([...curves.entries()].map(([label, p]) => ({ label, pts: p })), { w: 720, h: 380, xl: "ε (L∞, pixel units)", yl: "accuracy" }));
  }
  for (const l of inp.latency) {
    parts.push(`<h2>Latency: ${esc(short(l.model))}</h2><p>batch 1, median of interleaved runs, same process, ${esc(l.date)}${l.machine ? `, ${esc(l.machine)}` : ""}.</p>`);
    parts.push(bars(l.latency.map((s) => ({ label: `${s.runner} (${s.threads} thr)`, value: s.median_ms })), { w: 720, unit: "ms" }));
    parts.push(table(["runner", "threads", "median ms", "p90 ms", "min ms", "runs", "× bundle"], l.latency.map((s, i) => [s.runner, s.threads, s.median_ms.toFixed(3), s.p90_ms.toFixed(3), s.min_ms.toFixed(3), s.runs, i ? (l.ratios[s.runner] ?? 0).toFixed(2) : "1.00"])));
  }
  if (inp.attacks.length) {
    parts.push(`<h2>Attack records</h2>`);
    parts.push(table(["model", "attack", "ε", "steps", "restarts", "queries", "n", "natural", "adversarial", "replica agree", "grad zero %", "seconds", "date"],
      inp.attacks.map((r) => [short(r.model), r.attack, r.eps, r.steps, r.restarts, r.queries, r.n, pct(r.natural_acc), pct(r.adversarial_acc),
        r.replica_agreement !== undefined ? pct(r.replica_agreement) : "-", r.gradient ? (r.gradient.zero_fraction * 100).toFixed(1) + (r.gradient.masking_suspected ? " (masking!)" : "") : "-", r.seconds.toFixed(1), r.date.slice(0, 10)])));
  }
  if (inp.zoo.length) {
    parts.push(`<h2>Zoo</h2>`);
    parts.push(table(["model", "M", "K", "fixed-point bits", "adv. training", "natural acc (bundle)", "BOPs", "OPs"],
      inp.zoo.map((z) => [z.name, z.weight_bases ?? "-", z.act_bases ?? "-", z.fixed_point_bits ?? "-", z.adversarial_training ?? "none", pct(z.natural_acc), (z.bops / 1e6).toFixed(1) + "M", (z.ops / 1e6).toFixed(2) + "M"])));
  }
  const style = "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}h2{margin-top:2em}";
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(inp.title ?? "mbn report")}</title><style>${style}</style></head><body><h1>${esc(inp.title ?? "mbn report")}</h1><p>Generated ${esc(new Date().toISOString())}${inp.command ? ` by <code>${esc(inp.command)}</code>` : ""}. All accuracies are measured on the compiled .wasm bundle.</p>${parts.join("\n")}</body></html>\n`;
}

/** Sort loaded JSON documents into report inputs by shape. */
export function classify(docs: unknown[]): ReportInput {
  const out: ReportInput = { attacks: [], latency: [], zoo: [] };
  const visit = (d: any) => {
    if (Array.isArray(d)) return d.forEach(visit);
    if (!d || typeof d !== "object") return;
    if (typeof d.attack === "string" && typeof d.adversarial_acc === "number") out.attacks.push(d);
    else if (Array.isArray(d.latency)) out.latency.push(d);
    else if (Array.isArray(d.models)) out.zoo.push(...d.models);
    else if (Array.isArray(d.records)) d.records.forEach(visit);
  };
  docs.forEach(visit);
  return out;
}
