// Harness report: label placement for charts — text boxes estimated from the font size, and a
// greedy placer that puts each label next to its marker where it overlaps no other label, no marker
// and stays inside the plot (farther out, with a leader line, when the near spots are taken).
// The tests recompute the boxes from the SVG and assert that none overlap.

export interface Box { x: number; y: number; w: number; h: number }

/** Advance width / font size of a character, at or above DejaVu Sans's (the widest common default
 * sans-serif; Arial/Helvetica/Liberation are narrower), so the estimated box contains the drawn text. */
export function charWidth(c: string): number {
  if ("mwMW@%".includes(c)) return 1.0;
  if (c >= "A" && c <= "Z") return 0.8;
  if ("ijl.,:;|!'".includes(c)) return 0.34;
  if ("ftr()[] ".includes(c)) return 0.46;
  return 0.66; // other lower case, digits, _ - ×
}
/** The estimated width of `text` at `fontSize`. */
export const textWidth = (text: string, fontSize: number) => [...text].reduce((p, c) => p + charWidth(c), 0) * fontSize;

/** The box of `text` drawn with its baseline-left (or baseline-middle/end) at (x, y). */
export function textBox(text: string, x: number, y: number, fontSize: number, anchor: "start" | "middle" | "end" = "start"): Box {
  const w = textWidth(text, fontSize), h = fontSize * 1.15;
  const left = anchor === "start" ? x : anchor === "middle" ? x - w / 2 : x - w;
  return { x: left, y: y - fontSize * 0.92, w, h };
}

export function overlaps(a: Box, b: Box, pad = 0): boolean {
  return a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;
}

const inside = (a: Box, b: Box) => a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;

export interface Anchor { x: number; y: number; /** the marker's radius (the label keeps clear of it) */ r: number; label: string }
export interface Placed { label: string; x: number; y: number; box: Box; /** drawn away from its marker: needs a leader line */ leader: boolean; ax: number; ay: number }

// directions tried in order: right, left, above, below, then the diagonals
const DIRS: [number, number][] = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];

/** Place one label per anchor. `obstacles`: boxes no label may cover (markers, legend); the markers'
 * own boxes are added. Throws when a label fits nowhere (the chart must then be made larger). */
export function placeLabels(anchors: Anchor[], bounds: Box, fontSize: number, obstacles: Box[] = []): Placed[] {
  const markers = anchors.map((a) => ({ x: a.x - a.r, y: a.y - a.r, w: 2 * a.r, h: 2 * a.r }));
  const taken: Box[] = [...obstacles, ...markers];
  const out: Placed[] = [];
  for (const a of anchors) {
    const w = textWidth(a.label, fontSize), h = fontSize * 1.15;
    let best: Placed | undefined;
    for (const gap of [3, 10, 20, 34, 52, 76, 104]) {
      for (const [dx, dy] of DIRS) {
        // the box's near edge sits `gap` beyond the marker's edge in direction (dx, dy)
        const cx = a.x + dx * (a.r + gap + w / 2), cy = a.y + dy * (a.r + gap + h / 2);
        const box = { x: cx - w / 2, y: cy - h / 2, w, h };
        if (!inside(box, bounds) || taken.some((t) => overlaps(box, t, 1))) continue;
        best = { label: a.label, x: box.x, y: box.y + fontSize * 0.92, box, leader: gap > 10, ax: a.x, ay: a.y };
        break;
      }
      if (best) break;
    }
    if (!best) throw new Error(`report: no room for the label "${a.label}"`);
    taken.push(best.box);
    out.push(best);
  }
  return out;
}
