// The report (harness/report): read back from the HTML it writes — one distinct colour per model,
// the same in every chart; one line style per attack; legends right of the plot area; design-space
// labels whose boxes overlap no other label or marker (estimated here, measured in Chromium); an
// image set and n beside every accuracy; Square and AutoAttack in the design space; noisy records
// not drawn; and docs/report.png current against the committed records it shows.
import { attackStyle } from "../../harness/report/svg.ts";
import { existsSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { AttackRecord } from "../../harness/attacks/evaluate.ts";
import { type Box, overlaps, placeLabels, textBox } from "../../harness/report/labels.ts";
import { readText } from "../../harness/report/png_text.ts";
import { publishedRecords, recordsHash, rendererHash } from "../../harness/report/records.ts";
import { classify, renderReport, sliceOf } from "../../harness/report/report.ts";
import { LEGEND_W, plotArea } from "../../harness/report/svg.ts";

const CHROMIUM = "/usr/bin/chromium";
const published = () => publishedRecords().input;

const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
const svgs = (html: string) => [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
const groups = (svg: string, cls: string): Record<string, string>[] => [...svg.matchAll(new RegExp(`<g class="${cls}"([^>]*)>([\\s\\S]*?)</g>`, "g"))].map((m) => ({ ...attrs(m[1]), body: m[2] }));

/** Label boxes and marker boxes of a design-space SVG, recomputed from its text. */
function labelAndMarkerBoxes(svg: string): { labels: (Box & { text: string })[]; markers: Box[] } {
  const labels = [...svg.matchAll(/<text class="label" ([^>]*)>([^<]*)<\/text>/g)].map((m) => {
    const a = attrs(m[1]);
    return { ...textBox(m[2].replace(/&amp;/g, "&"), +a.x, +a.y, +a["font-size"]), text: m[2] };
  });
  const markers = groups(svg, "marker").map((g) => {
    const c = attrs(g.body.match(/<(circle|rect|polygon|path)([^>]*)/)![2]);
    if (c.r) return { x: +c.cx - +c.r, y: +c.cy - +c.r, w: 2 * +c.r, h: 2 * +c.r };
    if (c.width) return { x: +c.x, y: +c.y, w: +c.width, h: +c.height };
    const xy = (c.points ?? c.d).match(/-?[\d.]+/g)!.map(Number), xs = xy.filter((_, i) => i % 2 === 0), ys = xy.filter((_, i) => i % 2 === 1);
    return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  });
  return { labels, markers };
}

function assertNoCollisions(svg: string) {
  const { labels, markers } = labelAndMarkerBoxes(svg);
  expect(labels.length).toBeGreaterThan(0);
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) expect(overlaps(labels[i], labels[j]), `labels "${labels[i].text}" and "${labels[j].text}" overlap`).toBe(false);
    for (const m of markers) expect(overlaps(labels[i], m), `label "${labels[i].text}" covers a marker at ${m.x},${m.y}`).toBe(false);
  }
}

/** A synthetic attack record (the shape `mbn attack --json` writes). */
function rec(model: string, attack: string, eps: number, nat: number, adv: number, n = 100, offset = 0): AttackRecord {
  return { model: `models/zoo/${model}/model.onnx`, dataset: "fashion-mnist", n, offset, attack, norm: "Linf", eps, steps: attack === "pgd" ? 20 : 1, step_size: eps / 8, restarts: 1, random_start: true,
    queries: attack === "square" ? 5000 : 0, mean_queries: 1, seed: 0, natural_acc: nat, adversarial_acc: adv, per_sample_success: [], per_sample_robust: [], seconds: 1, bundle_sha256: "x", machine: "test", date: "2026-12-01T00:00:00.000Z" };
}

describe("report charts", () => {
  const html = renderReport({ ...published(), title: "t" });
  const [design, curves] = svgs(html);

  it("gives every model one colour of its own, the same in the design space, the curves and both legends", () => {
    const series = groups(curves, "series");
    expect(series.length).toBeGreaterThan(7);
    const colorOf = new Map<string, string>();
    for (const s of series) {
      expect(colorOf.get(s["data-model"]) ?? s["data-color"], `${s["data-model"]} drawn in two colours`).toBe(s["data-color"]);
      colorOf.set(s["data-model"], s["data-color"]);
    }
    expect(new Set(colorOf.values()).size, "two models share a colour").toBe(colorOf.size);
    for (const m of groups(design, "marker")) expect(m["data-color"], `${m["data-model"]} in the design space`).toBe(colorOf.get(m["data-model"]));
    for (const svg of [design, curves])
      for (const l of groups(svg, "legend").filter((l) => colorOf.has(l["data-label"]))) expect(l["data-color"]).toBe(colorOf.get(l["data-label"]));
  });

  it("draws every attack in one line style of its own, and its legend entry in the same style", () => {
    const dashOf = new Map<string, string>();
    for (const s of groups(curves, "series")) {
      expect(dashOf.get(s["data-attack"]) ?? s["data-dash"]).toBe(s["data-dash"]);
      expect(s.body).toContain(s["data-dash"] ? `stroke-dasharray="${s["data-dash"]}"` : "points=");
      dashOf.set(s["data-attack"], s["data-dash"]);
    }
    // the committed records hold FGSM and PGD curves at least (Square / AutoAttack where recorded)
    expect([...dashOf.keys()]).toEqual(expect.arrayContaining(["fgsm", "pgd"]));
    expect(new Set(dashOf.values()).size, "two attacks share a line style").toBe(dashOf.size);
    const legend = groups(curves, "legend");
    for (const [attack, dash] of dashOf) expect(legend.find((l) => l["data-label"] === attackStyle(attack).name)?.["data-dash"], attack).toBe(dash);
  });

  it("puts the legends right of the plot area, never on the data", () => {
    for (const svg of [design, curves]) {
      const w = +attrs(svg.match(/<svg([^>]*)>/)![1]).width, h = +attrs(svg.match(/<svg([^>]*)>/)![1]).height;
      const area = plotArea(w, h), legend = groups(svg, "legend");
      expect(legend.length).toBeGreaterThan(0);
      for (const l of legend) {
        const x = +attrs(l.body.match(/<line([^>]*)>/)![1]).x1;
        expect(x, `legend entry ${l["data-label"]}`).toBeGreaterThan(area.x + area.w);
        expect(x).toBeLessThan(w - LEGEND_W + 10);
      }
    }
  });

  it("places the design-space labels of the committed records without overlaps", () => assertNoCollisions(design));

  it("places labels without overlaps when seven models crowd into one spot", () => {
    const names = ["mbn3x1", "mbn3x3", "mbn3xp2", "fxp2", "mbn1x1", "fp32", "mbn2x2"];
    const recs = names.map((m, i) => rec(`fmnist_resnet20_${m}`, "pgd", 0.05, 0.88 + i * 0.002, 0.01 + (i % 3) * 0.004));
    assertNoCollisions(svgs(renderReport({ attacks: recs, latency: [], zoo: [], noisy: [] }))[0]);
    // and the placer itself, on points closer still
    const placed = placeLabels(names.map((label, i) => ({ x: 300 + i, y: 200 + (i % 2), r: 5, label })), { x: 0, y: 0, w: 600, h: 400 }, 11);
    for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) expect(overlaps(placed[i].box, placed[j].box)).toBe(false);
  });

  it("shows Square and the AutoAttack worst case in the design space, at the PGD records' ε and images", () => {
    // PGD separates the models more at ε = 0.05, but only ε = 0.1 has Square and AutoAttack records
    const recs = ["a", "b"].flatMap((m, i) => [rec(m, "pgd", 0.05, 0.9 - i / 10, 0.8 - i / 2), rec(m, "pgd", 0.1, 0.9 - i / 10, 0.3 - i / 10), rec(m, "square", 0.1, 0.9 - i / 10, 0.5 - i / 10), rec(m, "autoattack", 0.1, 0.9 - i / 10, 0.2 - i / 10)]);
    const out = renderReport({ attacks: recs, latency: [], zoo: [], noisy: [] });
    const marks = groups(svgs(out)[0], "marker").map((m) => `${m["data-model"]}:${m["data-attack"]}`).sort();
    expect(marks).toEqual(["a:autoattack", "a:pgd", "a:square", "b:autoattack", "b:pgd", "b:square"]);
    const row = out.match(/<table class="design">[\s\S]*?<\/table>/)![0];
    expect(row).toContain("<td>50.0%</td>"); // a's Square accuracy
    expect(row).toContain("<td>20.0%</td>"); // a's AutoAttack worst case
  });

  it("names the images and n beside every accuracy", () => {
    const zooNat = (html.match(/<h2>Zoo<\/h2><p>([^<]*)<\/p>/) ?? [])[1];
    expect(zooNat).toMatch(/whole Fashion-MNIST test split/);
    for (const r of published().attacks) expect(html).toContain(sliceOf(r));
    // every "natural accuracy" text names its images: the design space's axis and caption
    expect(design).toMatch(/natural accuracy — (Fashion-MNIST test images \d+–\d+ \(n = \d+\)|see table)/);
    const mixed = renderReport({ attacks: [rec("a", "pgd", 0.1, 0.9, 0.3, 500), rec("b", "pgd", 0.1, 0.8, 0.2, 500)], latency: [], zoo: [], noisy: [] });
    expect(mixed).toContain("natural accuracy — Fashion-MNIST test images 0–499 (n = 500)");
    expect(mixed).toContain("Every point: Fashion-MNIST test images 0–499 (n = 500).");
  });

  it("lists a noisy record as not published and draws none of its figures", () => {
    const lat = (noisy: boolean) => ({ model: "m.onnx", date: "2026-12-01", noisy, noise: { reasons: ["on a CPU 20% of the time < 90%"] }, ratios: { peer: 22.21 },
      latency: [{ runner: "mbn bundle", median_ms: 0.123, p90_ms: 0.2, min_ms: 0.1, p10_ms: 0.11, runs: 60, threads: 1 }, { runner: "peer", median_ms: 2.731, p90_ms: 3, min_ms: 2, p10_ms: 2.5, runs: 60, threads: 1 }] });
    const quiet = renderReport(classify([lat(false)]));
    expect(quiet).toContain("22.21");
    const noisy = renderReport(classify([lat(true), rec("a", "pgd", 0.1, 0.9, 0.3)]));
    expect(noisy).toContain("noisy run, not published");
    expect(noisy).toContain("on a CPU 20% of the time");
    expect(noisy).not.toContain("22.21");
    expect(noisy).not.toContain("2.731");
    expect(noisy).not.toContain("<h2>Latency");
  });
});

describe("docs/report.png", () => {
  it("is current: its PNG text and sidecar name the hashes of the committed records and of the report's code", () => {
    const png = readText(readFileSync("docs/report.png"));
    const side = JSON.parse(readFileSync("docs/report.png.json", "utf8"));
    const want = recordsHash(published()), code = rendererHash();
    const hint = "docs/report.png is stale: run `npx tsx scripts/screenshot.ts` and commit docs/report.png{,.json}";
    expect(png["mbn-records-sha256"], hint).toBe(want);
    expect(side.records_sha256, hint).toBe(want);
    expect(png["mbn-renderer-sha256"], hint).toBe(code);
    expect(side.renderer_sha256, hint).toBe(code);
    expect(side.sources).toEqual(publishedRecords().sources);
  });
});

describe.runIf(existsSync(CHROMIUM))("report in headless Chromium (needs Debian chromium at /usr/bin/chromium)", () => {
  it("the drawn labels (measured by the browser) fit their estimated boxes and overlap nothing", async () => {
    const names = ["mbn3x1", "mbn3x3", "mbn3xp2", "fxp2", "mbn1x1", "MobileNetV1_W", "WM_mmm"];
    const crowded = renderReport({ attacks: names.map((m, i) => rec(`fmnist_resnet20_${m}`, "pgd", 0.05, 0.88 + i * 0.002, 0.01 + (i % 3) * 0.004)), latency: [], zoo: [], noisy: [] });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      for (const doc of [renderReport({ ...published(), title: "t" }), crowded]) {
        const page = await browser.newPage();
        await page.setContent(doc);
        const got = await page.evaluate(() => Array.from(document.querySelectorAll("svg")[0].querySelectorAll("text.label, g.marker > *:first-child")).map((e) => {
          const b = (e as SVGGraphicsElement).getBBox();
          return { label: e.classList.contains("label"), x: b.x, y: b.y, w: b.width, h: b.height, text: e.textContent ?? "", ex: +(e.getAttribute("x") ?? 0), ey: +(e.getAttribute("y") ?? 0), fs: +(e.getAttribute("font-size") ?? 0) };
        }));
        const labels = got.filter((g) => g.label), markers = got.filter((g) => !g.label);
        expect(labels.length).toBeGreaterThan(1);
        for (const l of labels) {
          const est = textBox(l.text, l.ex, l.ey, l.fs);
          expect(l.w, `"${l.text}" is wider than its estimated box`).toBeLessThanOrEqual(est.w + 0.5);
          for (const o of labels) if (o !== l) expect(overlaps(l, o), `"${l.text}" and "${o.text}" overlap on screen`).toBe(false);
          for (const m of markers) expect(overlaps(l, m), `"${l.text}" covers a marker on screen`).toBe(false);
        }
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
