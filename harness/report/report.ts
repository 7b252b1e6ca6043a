// Harness report: one self-contained offline HTML page (inline SVG, no scripts, no network) from
// result records — attack records (mbn attack --json), latency records (mbn bench/demo JSON) and
// the zoo manifest: the design-space plot (natural vs adversarial accuracy per model under PGD,
// Square and the AutoAttack worst case, marker area = OPs), accuracy-vs-ε curves (colour = model,
// line style = attack), latency bars vs peers, and the tables behind them. Every accuracy names
// its sample size and which test images it is over; a record flagged "noisy": true is listed as
// "noisy run, not published" and drawn nowhere. The page embeds the hash of the records it shows
// (records.ts), which the committed screenshot's sidecar must match.
import type { AttackRecord } from "../attacks/evaluate.ts";
import type { LatencyStats } from "../bench/latency.ts";
import { recordsHash } from "./records.ts";
import { attackStyle, bars, type LegendItem, lines, modelColors, type ScatterGroup, scatter, type Series } from "./svg.ts";

export interface LatencyRecord {
  model: string; latency: (Partial<LatencyStats> & Pick<LatencyStats, "runner" | "median_ms" | "p90_ms" | "min_ms" | "runs" | "threads">)[];
  ratios: Record<string, number>; date: string; machine?: string; command?: string; noisy?: boolean; noise?: { reasons?: string[] }; min_round_ms?: number;
}
export interface ZooEntry {
  name: string; bops: number; ops: number; natural_acc: number; weight_bases: number | null; act_bases: number | null; fixed_point_bits: number | null; adversarial_training: string | null;
  dataset?: string; /** test images behind natural_acc (absent in older manifests: the whole test split) */ natural_n?: number;
}
/** A record not published because its run was flagged noisy. */
export interface NoisyRecord { kind: string; model: string; date?: string; reasons: string[] }

export interface ReportInput { attacks: AttackRecord[]; latency: LatencyRecord[]; zoo: ZooEntry[]; noisy: NoisyRecord[]; title?: string; command?: string; /** the "generated" date shown (default: now) */ generated?: string }

const esc = (s: string) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
/** A model's display name: the zoo folder or file name without the common prefix. */
export const short = (m: string) => m.replace(/\/model\.onnx$/, "").replace(/^.*\//, "").replace(/\.onnx$/, "").replace(/^fmnist_(resnet20_)?/, "");

/** Which images an attack record's accuracies are over, e.g. "Fashion-MNIST test images 0–99 (n = 100)". */
export function sliceOf(r: Pick<AttackRecord, "dataset" | "n" | "offset">): string {
  const ds = r.dataset === "fashion-mnist" ? "Fashion-MNIST" : r.dataset === "cifar10" ? "CIFAR-10" : r.dataset;
  return `${ds} test images ${r.offset ?? 0}–${(r.offset ?? 0) + r.n - 1} (n = ${r.n})`;
}
const sliceKey = (r: AttackRecord) => `${r.dataset}:${r.offset ?? 0}:${r.n}`;
const attackName = (r: AttackRecord) => {
  const s = attackStyle(r.attack).name;
  return r.attack === "pgd" || r.attack.startsWith("apgd") ? `${s}-${r.steps}${r.restarts > 1 ? `×${r.restarts}` : ""}` : r.attack === "square" ? `${s} (${r.queries} queries)` : s;
};

function table(head: string[], rows: (string | number)[][], cls = ""): string {
  return `<table${cls ? ` class="${cls}"` : ""}><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")}</table>`;
}

/** The design-space data: a PGD ε (one with Square / AutoAttack records where there is one, the one
 * that separates the models most among those), and per model its PGD, Square and AutoAttack records
 * there (on the same images as the PGD record where one exists, else the largest n). */
export function designSpace(attacks: AttackRecord[]): { eps: number; why: string; rows: { model: string; pgd: AttackRecord; square?: AttackRecord; autoattack?: AttackRecord }[] } | undefined {
  const pgd = attacks.filter((r) => r.attack === "pgd");
  if (!pgd.length) return undefined;
  const spread = (e: number) => {
    const v = pgd.filter((r) => r.eps === e).map((r) => r.adversarial_acc);
    return v.length < 2 ? -1 : Math.max(...v) - Math.min(...v);
  };
  // prefer an ε where Square / AutoAttack records exist too, then the one where PGD separates most
  const others = (e: number) => new Set(attacks.filter((r) => r.eps === e && (r.attack === "square" || r.attack === "autoattack")).map((r) => `${short(r.model)} ${r.attack}`)).size;
  const eps = [...new Set(pgd.map((r) => r.eps))].sort((a, b) => others(b) - others(a) || spread(b) - spread(a) || a - b)[0];
  const best = (rs: AttackRecord[], like?: AttackRecord) =>
    rs.sort((a, b) => (like ? +(sliceKey(b) === sliceKey(like)) - +(sliceKey(a) === sliceKey(like)) : 0) || b.n - a.n)[0] as AttackRecord | undefined;
  const models = [...new Set(pgd.filter((r) => r.eps === eps).map((r) => short(r.model)))].sort();
  const at = (m: string, a: string) => attacks.filter((r) => r.attack === a && r.eps === eps && short(r.model) === m);
  return {
    eps, why: others(eps) ? "the ε with Square / AutoAttack records" : "the ε at which PGD separates the models most",
    rows: models.map((m) => {
      const p = best(at(m, "pgd"))!;
      return { model: m, pgd: p, square: best(at(m, "square"), p), autoattack: best(at(m, "autoattack"), p) };
    }),
  };
}

export function renderReport(inp: ReportInput): string {
  const parts: string[] = [];
  const colors = modelColors([...inp.attacks.map((r) => short(r.model))]);
  const slices = new Set(inp.attacks.map(sliceKey));
  const oneSlice = slices.size === 1 ? sliceOf(inp.attacks[0]) : undefined;

  const ds = designSpace(inp.attacks);
  if (ds) {
    const present = ["pgd", "square", "autoattack"].filter((a) => ds.rows.some((r) => (a === "pgd" ? r.pgd : (r as any)[a])));
    const zooOps = (m: string) => inp.zoo.find((e) => short(e.name) === m)?.ops ?? 1;
    const maxOps = Math.max(...ds.rows.map((r) => zooOps(r.model)), 1);
    const groups: ScatterGroup[] = ds.rows.map((r) => ({
      label: r.model, color: colors.get(r.model)!, x: r.pgd.natural_acc,
      points: [{ y: r.pgd.adversarial_acc, attack: "pgd", r: 4 + 14 * Math.sqrt(zooOps(r.model) / maxOps) },
        ...(r.square ? [{ y: r.square.adversarial_acc, attack: "square", r: 4.5 }] : []),
        ...(r.autoattack ? [{ y: r.autoattack.adversarial_acc, attack: "autoattack", r: 4.5 }] : [])],
    }));
    const legendItems: LegendItem[] = [{ label: "model (colour)", color: "", heading: true }, ...ds.rows.map((r) => ({ label: r.model, color: colors.get(r.model)! })),
      { label: `attack at ε = ${ds.eps} (marker)`, color: "", heading: true }, ...present.map((a) => ({ label: attackStyle(a).name, color: "#555", marker: attackStyle(a).marker })),
      { label: "PGD marker area ∝ OPs", color: "", heading: true }];
    const sl = new Set(ds.rows.map((r) => sliceKey(r.pgd)));
    const where = sl.size === 1 ? sliceOf(ds.rows[0].pgd) : "images per model in the table below";
    const missing = ["square", "autoattack"].filter((a) => present.includes(a)).flatMap((a) => ds.rows.filter((r) => !(r as any)[a]).map((r) => `${r.model} (${attackStyle(a).name})`));
    parts.push(`<h2>Design space: accuracy vs robustness vs cost</h2><p>Each model at its natural accuracy (x) with one marker per attack at ε = ${ds.eps} (y: adversarial accuracy on the same images; ${ds.why}). Both axes: the deployed .wasm bundle on ${esc(where)}. Marker area of the PGD marker ∝ OPs (BOPs/64 + float MACs).${missing.length ? ` No record at this ε for: ${esc(missing.join(", "))}.` : ""}${present.includes("square") ? "" : " No Square records at this ε."}</p>`);
    parts.push(scatter(groups, { w: 900, h: 440, xl: `natural accuracy — ${sl.size === 1 ? sliceOf(ds.rows[0].pgd) : "see table"}`, yl: `adversarial accuracy at ε = ${ds.eps}` }, legendItems));
    const cell = (r: AttackRecord | undefined, of: AttackRecord) => (r ? `${pct(r.adversarial_acc)}${sliceKey(r) === sliceKey(of) ? "" : ` (${sliceOf(r)})`}` : "no record");
    parts.push(table(["model", "images", "natural", `${attackName(ds.rows[0].pgd)} ε=${ds.eps}`, "Square", "AutoAttack worst case"],
      ds.rows.map((r) => [r.model, sliceOf(r.pgd), pct(r.pgd.natural_acc), pct(r.pgd.adversarial_acc), cell(r.square, r.pgd), cell(r.autoattack, r.pgd)]), "design"));
  }

  // accuracy vs ε: one series per (model, attack, images); ε = 0 is the natural accuracy on the same images
  const curves = new Map<string, Series & { slice: string }>();
  for (const r of inp.attacks) {
    const m = short(r.model), k = `${m}\u0000${r.attack}\u0000${sliceKey(r)}`;
    const s = curves.get(k) ?? curves.set(k, { model: m, attack: r.attack, color: colors.get(m)!, pts: [[0, r.natural_acc]], slice: sliceKey(r) }).get(k)!;
    if (!s.pts.some(([e]) => e === r.eps)) s.pts.push([r.eps, r.adversarial_acc]);
  }
  if (curves.size) {
    const series = [...curves.values()];
    // a model with several image slices for one attack: the smaller ones drawn hollow
    for (const s of series) s.hollow = series.some((o) => o !== s && o.model === s.model && o.attack === s.attack && +o.slice.split(":")[2] > +s.slice.split(":")[2]);
    const models = [...new Set(series.map((s) => s.model))].sort(), attacks = [...new Set(series.map((s) => s.attack))].sort();
    const legendItems: LegendItem[] = [{ label: "model (colour)", color: "", heading: true }, ...models.map((m) => ({ label: m, color: colors.get(m)! })),
      { label: "attack (line style)", color: "", heading: true }, ...attacks.map((a) => ({ label: attackStyle(a).name, color: "#555", dash: attackStyle(a).dash, marker: attackStyle(a).marker }))];
    parts.push(`<h2>Adversarial accuracy vs ε</h2><p>Accuracy of the deployed bundle under each attack (L∞, pixel units in [0, 1]); ε = 0 is the natural accuracy on the same images. ${oneSlice ? `Every point: ${esc(oneSlice)}.` : "Points are over different image sets (hollow markers: the smaller one); each record's images and n are in the attack table."}</p>`);
    parts.push(lines(series, { w: 900, h: 400, xl: "ε (L∞, pixel units)", yl: `accuracy${oneSlice ? ` — ${oneSlice}` : ""}` }, legendItems));
  }

  for (const l of inp.latency) {
    const robust = l.latency.every((s) => typeof s.p10_ms === "number");
    const fig = (s: LatencyRecord["latency"][number]) => (robust ? s.p10_ms! : s.median_ms);
    const rounds = l.latency[0]?.runs;
    parts.push(`<h2>Latency: ${esc(short(l.model))}</h2><p>Batch 1, one process, interleaved rounds (${rounds} per runner${l.min_round_ms ? `, each ≥ ${l.min_round_ms.toFixed(1)} ms` : ""}); bars: ${robust ? "10th percentile over rounds" : "median over runs (older record, before the robust statistic)"}; “× bundle”: ${robust ? "median over rounds of peer / bundle in the same round" : "ratio of medians"}. ${esc(l.date)}${l.machine ? `, ${esc(l.machine)}` : ""}${l.command ? `, <code>${esc(l.command)}</code>` : ""}.</p>`);
    parts.push(bars(l.latency.map((s) => ({ label: `${s.runner} (${s.threads} thr)`, value: fig(s) })), { w: 720, unit: "ms" }));
    parts.push(table(["runner", "threads", ...(robust ? ["p10 ms"] : []), "median ms", "p90 ms", "min ms", "rounds", "× bundle"],
      l.latency.map((s, i) => [s.runner, s.threads, ...(robust ? [s.p10_ms!.toFixed(3)] : []), s.median_ms.toFixed(3), s.p90_ms.toFixed(3), s.min_ms.toFixed(3), s.runs, i ? (l.ratios[s.runner] ?? 0).toFixed(2) : "1.00"])));
  }
  if (inp.noisy.length) {
    parts.push(`<h2>Not published</h2><p>These runs were flagged <code>"noisy": true</code> by the noise gauge (the machine was busy); their figures are not drawn.</p>`);
    parts.push(table(["record", "model", "date", "status", "why"], inp.noisy.map((r) => [r.kind, short(r.model), r.date ?? "-", "noisy run, not published", r.reasons.join("; ") || "-"]), "noisy"));
  }
  if (inp.attacks.length) {
    parts.push(`<h2>Attack records</h2><p>Every accuracy on the deployed bundle; “images”: which test images and how many (n).</p>`);
    parts.push(table(["model", "attack", "ε", "steps", "restarts", "queries", "images", "natural", "adversarial", "replica agree", "grad zero %", "seconds", "date"],
      inp.attacks.map((r) => [short(r.model), r.attack, r.eps, r.steps, r.restarts, r.queries, sliceOf(r), pct(r.natural_acc), pct(r.adversarial_acc),
        r.replica_agreement !== undefined ? pct(r.replica_agreement) : "-", r.gradient ? (r.gradient.zero_fraction * 100).toFixed(1) + (r.gradient.masking_suspected ? " (masking!)" : "") : "-", r.seconds.toFixed(1), r.date.slice(0, 10)])));
  }
  if (inp.zoo.length) {
    const natural = (z: ZooEntry) => `${pct(z.natural_acc)} (${z.natural_n ? `n = ${z.natural_n}` : "whole test split"})`;
    parts.push(`<h2>Zoo</h2><p>“natural acc”: the bundle on the whole ${z0(inp.zoo)} test split (a different, larger image set than the attack records).</p>`);
    parts.push(table(["model", "M", "K", "fixed-point bits", "adv. training", "natural acc (bundle, test split)", "BOPs", "OPs"],
      inp.zoo.map((z) => [short(z.name), z.weight_bases ?? "-", z.act_bases ?? "-", z.fixed_point_bits ?? "-", z.adversarial_training ?? "none", natural(z), (z.bops / 1e6).toFixed(1) + "M", (z.ops / 1e6).toFixed(2) + "M"])));
  }
  const hash = recordsHash(inp);
  const style = "body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}h2{margin-top:2em}p{font-size:14px;line-height:1.4}";
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="mbn-records-sha256" content="${hash}"><title>${esc(inp.title ?? "mbn report")}</title><style>${style}</style></head><body><h1>${esc(inp.title ?? "mbn report")}</h1><p>Generated ${esc(inp.generated ?? new Date().toISOString())}${inp.command ? ` by <code>${esc(inp.command)}</code>` : ""} from ${inp.attacks.length} attack, ${inp.latency.length} latency and ${inp.zoo.length} zoo records (sha256 ${hash.slice(0, 12)}). All accuracies are measured on the compiled .wasm bundle.</p>${parts.join("\n")}</body></html>\n`;
}

function z0(zoo: ZooEntry[]): string {
  const d = [...new Set(zoo.map((z) => z.dataset ?? "fashion-mnist"))];
  return d.map((x) => (x === "fashion-mnist" ? "Fashion-MNIST" : x)).join(" / ");
}

/** Sort loaded JSON documents into report inputs by shape; records flagged noisy go to `noisy`. */
export function classify(docs: unknown[]): ReportInput {
  const out: ReportInput = { attacks: [], latency: [], zoo: [], noisy: [] };
  const visit = (d: any) => {
    if (Array.isArray(d)) return d.forEach(visit);
    if (!d || typeof d !== "object") return;
    const kind = typeof d.attack === "string" && typeof d.adversarial_acc === "number" ? "attack" : Array.isArray(d.latency) ? "latency" : "";
    if (kind && d.noisy === true) out.noisy.push({ kind, model: String(d.model), date: d.date, reasons: d.noise?.reasons ?? [] });
    else if (kind === "attack") out.attacks.push(d);
    else if (kind === "latency") out.latency.push(d);
    else if (Array.isArray(d.models)) out.zoo.push(...d.models);
    else if (Array.isArray(d.records)) d.records.forEach(visit);
  };
  docs.forEach(visit);
  return out;
}
