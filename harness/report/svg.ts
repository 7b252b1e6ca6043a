// Harness report: tiny dependency-free SVG charts. Colour encodes the model (one distinct colour per
// model, the same in every chart), line style and marker shape encode the attack; legends sit in a
// column right of the plot area, never on the data; scatter labels are placed by labels.ts so that
// none overlap. Labels, markers and legend entries carry class/data attributes the tests read back.
import { type Box, placeLabels } from "./labels.ts";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Distinct colours (Tableau 10, then 6 more far from them). A report with more models than this
 * throws rather than reuse a colour. */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#000000", "#393b79", "#e7ba52", "#637939", "#ad494a", "#a55194"];

/** One colour per model, in order of the sorted names. */
export function modelColors(models: string[]): Map<string, string> {
  const names = [...new Set(models)].sort();
  if (names.length > PALETTE.length) throw new Error(`report: ${names.length} models, only ${PALETTE.length} distinct colours`);
  return new Map(names.map((m, i) => [m, PALETTE[i]]));
}

export type Marker = "circle" | "square" | "triangle" | "diamond" | "cross" | "star";
/** Line style (SVG stroke-dasharray, "" = solid) and marker per attack. */
export const ATTACK_STYLE: Record<string, { dash: string; marker: Marker; name: string }> = {
  pgd: { dash: "", marker: "circle", name: "PGD" },
  fgsm: { dash: "8 4", marker: "triangle", name: "FGSM" },
  square: { dash: "2 3", marker: "square", name: "Square" },
  "apgd-ce": { dash: "10 3 2 3", marker: "diamond", name: "APGD-CE" },
  "apgd-t": { dash: "4 2 1 2", marker: "star", name: "APGD-T" },
  autoattack: { dash: "14 3 2 3 2 3", marker: "cross", name: "AutoAttack (worst case)" },
};
const OTHER_DASH = ["1 5", "12 6", "6 2 6 6"];
export function attackStyle(attack: string): { dash: string; marker: Marker; name: string } {
  if (ATTACK_STYLE[attack]) return ATTACK_STYLE[attack];
  const i = [...attack].reduce((p, c) => p + c.charCodeAt(0), 0) % OTHER_DASH.length;
  return { dash: OTHER_DASH[i], marker: "circle", name: attack };
}

export function marker(kind: Marker, x: number, y: number, r: number, color: string, fill: string, extra = ""): string {
  const a = `stroke="${color}" fill="${fill}" ${extra}`;
  switch (kind) {
    case "circle": return `<circle cx="${x}" cy="${y}" r="${r}" ${a}/>`;
    case "square": return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" ${a}/>`;
    case "triangle": return `<polygon points="${x},${y - r} ${x + r},${y + r * 0.8} ${x - r},${y + r * 0.8}" ${a}/>`;
    case "diamond": return `<polygon points="${x},${y - r} ${x + r},${y} ${x},${y + r} ${x - r},${y}" ${a}/>`;
    case "star": return `<polygon points="${[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => { const q = (i % 2 ? 0.45 : 1) * r, t = (Math.PI * i) / 5 - Math.PI / 2; return `${x + q * Math.cos(t)},${y + q * Math.sin(t)}`; }).join(" ")}" ${a}/>`;
    case "cross": return `<path d="M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}" stroke-width="2" ${a}/>`;
  }
}

interface Axes { w: number; h: number; x0: number; x1: number; y0: number; y1: number; xl: string; yl: string }
/** Plot margins; `r` includes the legend column. */
export const LEGEND_W = 230;
const M = { l: 56, r: 16 + LEGEND_W, t: 16, b: 44 };

/** The plot area of a chart of width w and height h (data are drawn only inside it). */
export function plotArea(w: number, h: number): Box {
  return { x: M.l, y: M.t, w: w - M.l - M.r, h: h - M.t - M.b };
}

function frame(a: Axes): { sx: (v: number) => number; sy: (v: number) => number; body: string[] } {
  const sx = (v: number) => M.l + ((v - a.x0) / (a.x1 - a.x0 || 1)) * (a.w - M.l - M.r);
  const sy = (v: number) => a.h - M.b - ((v - a.y0) / (a.y1 - a.y0 || 1)) * (a.h - M.t - M.b);
  const body: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const xv = a.x0 + ((a.x1 - a.x0) * i) / 5, yv = a.y0 + ((a.y1 - a.y0) * i) / 5;
    body.push(`<line x1="${sx(xv)}" y1="${M.t}" x2="${sx(xv)}" y2="${a.h - M.b}" stroke="#eee"/>`);
    body.push(`<line x1="${M.l}" y1="${sy(yv)}" x2="${a.w - M.r}" y2="${sy(yv)}" stroke="#eee"/>`);
    body.push(`<text x="${sx(xv)}" y="${a.h - M.b + 14}" font-size="10" text-anchor="middle">${+xv.toFixed(3)}</text>`);
    body.push(`<text x="${M.l - 4}" y="${sy(yv) + 3}" font-size="10" text-anchor="end">${+yv.toFixed(3)}</text>`);
  }
  body.push(`<rect x="${M.l}" y="${M.t}" width="${a.w - M.l - M.r}" height="${a.h - M.t - M.b}" fill="none" stroke="#bbb"/>`);
  body.push(`<text x="${(a.w - M.r + M.l) / 2}" y="${a.h - 8}" font-size="12" text-anchor="middle">${esc(a.xl)}</text>`);
  body.push(`<text x="14" y="${a.h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${a.h / 2})">${esc(a.yl)}</text>`);
  return { sx, sy, body };
}

const wrap = (a: { w: number; h: number }, body: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${a.w}" height="${a.h}" viewBox="0 0 ${a.w} ${a.h}" font-family="sans-serif">${body.join("")}</svg>`;

/** A legend entry: a colour swatch line, or a grey line with the attack's dash and marker. */
export type LegendItem = { label: string; color: string; dash?: string; marker?: Marker; heading?: boolean };

/** The legend column, right of the plot area; its height grows with the items (the chart is made
 * tall enough by the caller via legendHeight). */
function legend(items: LegendItem[], w: number): string[] {
  const x = w - LEGEND_W + 4, out: string[] = [];
  items.forEach((it, i) => {
    const y = M.t + 12 + 16 * i;
    if (it.heading) return out.push(`<text x="${x}" y="${y}" font-size="11" font-weight="bold">${esc(it.label)}</text>`);
    out.push(`<g class="legend" data-label="${esc(it.label)}" data-color="${it.color}" data-dash="${it.dash ?? ""}" data-marker="${it.marker ?? ""}">`);
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 28}" y2="${y - 4}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ""}/>`);
    if (it.marker) out.push(marker(it.marker, x + 14, y - 4, 4, it.color, "#fff"));
    out.push(`<text x="${x + 34}" y="${y}" font-size="11">${esc(it.label)}</text></g>`);
  });
  return out;
}
export const legendHeight = (n: number) => M.t + 12 + 16 * n + M.b;

export interface ScatterGroup {
  /** the model; its label and colour */ label: string; color: string;
  x: number;
  /** one marker per attack at the same natural accuracy; the first is the labelled one */
  points: { y: number; attack: string; r: number }[];
}

/** Design space: per model a vertical stack of markers (one per attack) at its natural accuracy,
 * joined by a thin line; the label sits where it overlaps no other label or marker. */
export function scatter(groups: ScatterGroup[], a: Omit<Axes, "x0" | "x1" | "y0" | "y1">, legendItems: LegendItem[]): string {
  const xs = groups.map((g) => g.x), ys = groups.flatMap((g) => g.points.map((p) => p.y));
  const h = Math.max(a.h, legendHeight(legendItems.length));
  const ax = { ...a, h, x0: Math.max(0, Math.floor((Math.min(...xs) - 0.05) * 10) / 10), x1: Math.min(1, Math.ceil((Math.max(...xs) + 0.03) * 10) / 10), y0: 0, y1: Math.min(1, Math.ceil((Math.max(...ys) + 0.1) * 10) / 10) };
  const { sx, sy, body } = frame(ax);
  const area = plotArea(a.w, h);
  const anchors: { x: number; y: number; r: number; label: string }[] = [], extra: Box[] = [];
  for (const g of groups) {
    const px = sx(g.x), pys = g.points.map((p) => sy(p.y));
    if (g.points.length > 1) body.push(`<line x1="${px}" y1="${Math.min(...pys)}" x2="${px}" y2="${Math.max(...pys)}" stroke="${g.color}" stroke-width="1"/>`);
    g.points.forEach((p, i) => {
      const st = attackStyle(p.attack);
      body.push(`<g class="marker" data-model="${esc(g.label)}" data-attack="${esc(p.attack)}" data-color="${g.color}">${marker(st.marker, px, pys[i], p.r, g.color, g.color, `fill-opacity="${i ? 0.9 : 0.45}"`)}<title>${esc(`${g.label} ${st.name}: ${(p.y * 100).toFixed(1)}%`)}</title></g>`);
      if (i) extra.push({ x: px - p.r, y: pys[i] - p.r, w: 2 * p.r, h: 2 * p.r });
    });
    // the vertical joining line is an obstacle too
    if (g.points.length > 1) extra.push({ x: px - 1, y: Math.min(...pys), w: 2, h: Math.max(...pys) - Math.min(...pys) });
    anchors.push({ x: px, y: pys[0], r: g.points[0].r, label: g.label });
  }
  for (const l of placeLabels(anchors, area, 11, extra)) {
    if (l.leader) {
      const cx = Math.max(l.box.x, Math.min(l.ax, l.box.x + l.box.w)), cy = Math.max(l.box.y, Math.min(l.ay, l.box.y + l.box.h));
      body.push(`<line x1="${l.ax}" y1="${l.ay}" x2="${cx}" y2="${cy}" stroke="#999" stroke-width="0.7"/>`);
    }
    body.push(`<text class="label" x="${l.x}" y="${l.y}" font-size="11">${esc(l.label)}</text>`);
  }
  body.push(...legend(legendItems, a.w));
  return wrap({ w: a.w, h }, body);
}

export interface Series { model: string; attack: string; color: string; pts: [number, number][]; /** hollow markers (a second slice of the same model and attack) */ hollow?: boolean }

/** Accuracy vs ε: colour = model, dash and marker = attack; legend (models, then attacks) outside. */
export function lines(series: Series[], a: Omit<Axes, "x0" | "x1" | "y0" | "y1">, legendItems: LegendItem[]): string {
  const all = series.flatMap((s) => s.pts);
  const h = Math.max(a.h, legendHeight(legendItems.length));
  const ax = { ...a, h, x0: 0, x1: Math.max(...all.map((p) => p[0]), 0.01), y0: 0, y1: 1 };
  const { sx, sy, body } = frame(ax);
  for (const s of series) {
    const st = attackStyle(s.attack);
    const pts = [...s.pts].sort((p, q) => p[0] - q[0]);
    body.push(`<g class="series" data-model="${esc(s.model)}" data-attack="${esc(s.attack)}" data-color="${s.color}" data-dash="${st.dash}">`);
    body.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""} points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")}"/>`);
    pts.forEach(([x, y]) => body.push(marker(st.marker, sx(x), sy(y), 3.5, s.color, s.hollow ? "#fff" : s.color)));
    body.push(`</g>`);
  }
  body.push(...legend(legendItems, a.w));
  return wrap({ w: a.w, h }, body);
}

export function bars(items: { label: string; value: number; color?: string }[], a: { w: number; unit: string }): string {
  const h = 24 * items.length + 20, max = Math.max(...items.map((i) => i.value), 1e-9);
  const body = items.map((it, i) => {
    const w = ((a.w - 310) * it.value) / max; // leaves 80 px right of the longest bar for its figure
    return `<text x="0" y="${24 * i + 16}" font-size="12">${esc(it.label)}</text><rect x="220" y="${24 * i + 4}" width="${w}" height="16" fill="${it.color ?? PALETTE[i % PALETTE.length]}"/><text x="${224 + w}" y="${24 * i + 16}" font-size="11">${it.value.toFixed(3)} ${esc(a.unit)}</text>`;
  });
  return wrap({ w: a.w, h }, body);
}

