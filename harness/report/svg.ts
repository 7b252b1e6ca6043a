// Harness report: tiny dependency-free SVG charts (scatter with sized markers, line chart, bars).
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

interface Axes { w: number; h: number; x0: number; x1: number; y0: number; y1: number; xl: string; yl: string }
const M = { l: 56, r: 16, t: 16, b: 44 };

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
  body.push(`<text x="${(a.w + M.l) / 2}" y="${a.h - 8}" font-size="12" text-anchor="middle">${esc(a.xl)}</text>`);
  body.push(`<text x="14" y="${a.h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${a.h / 2})">${esc(a.yl)}</text>`);
  return { sx, sy, body };
}

const wrap = (a: { w: number; h: number }, body: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${a.w}" height="${a.h}" viewBox="0 0 ${a.w} ${a.h}" font-family="sans-serif">${body.join("")}</svg>`;

export function scatter(points: { x: number; y: number; size: number; label: string }[], a: Omit<Axes, "x0" | "x1" | "y0" | "y1">): string {
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const ax = { ...a, x0: Math.max(0, Math.floor((Math.min(...xs) - 0.05) * 10) / 10), x1: 1, y0: 0, y1: Math.min(1, Math.ceil((Math.max(...ys) + 0.1) * 10) / 10) };
  const { sx, sy, body } = frame(ax);
  const maxS = Math.max(...points.map((p) => p.size), 1);
  points.forEach((p, i) => {
    const r = 4 + 16 * Math.sqrt(p.size / maxS);
    body.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="${r}" fill="${COLORS[i % COLORS.length]}" fill-opacity="0.5" stroke="${COLORS[i % COLORS.length]}"><title>${esc(p.label)}</title></circle>`);
    body.push(`<text x="${sx(p.x) + r + 2}" y="${sy(p.y) + 3}" font-size="10">${esc(p.label)}</text>`);
  });
  return wrap(a, body);
}

export function lines(series: { label: string; pts: [number, number][] }[], a: Omit<Axes, "x0" | "x1" | "y0" | "y1">): string {
  const all = series.flatMap((s) => s.pts);
  const ax = { ...a, x0: 0, x1: Math.max(...all.map((p) => p[0]), 0.01), y0: 0, y1: 1 };
  const { sx, sy, body } = frame(ax);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.pts].sort((p, q) => p[0] - q[0]);
    body.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")}"/>`);
    pts.forEach(([x, y]) => body.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${c}"/>`));
    body.push(`<text x="${a.w - M.r - 4}" y="${M.t + 12 + 14 * i}" font-size="11" text-anchor="end" fill="${c}">${esc(s.label)}</text>`);
  });
  return wrap(a, body);
}

export function bars(items: { label: string; value: number }[], a: { w: number; unit: string }): string {
  const h = 24 * items.length + 20, max = Math.max(...items.map((i) => i.value), 1e-9);
  const body = items.map((it, i) => {
    const w = ((a.w - 220) * it.value) / max;
    return `<text x="0" y="${24 * i + 16}" font-size="12">${esc(it.label)}</text><rect x="180" y="${24 * i + 4}" width="${w}" height="16" fill="${COLORS[i % COLORS.length]}"/><text x="${184 + w}" y="${24 * i + 16}" font-size="11">${it.value.toFixed(2)} ${esc(a.unit)}</text>`;
  });
  return wrap({ w: a.w, h }, body);
}
