// Regenerates docs/report.png (the README's picture of the report) from the committed records with
// Debian Chromium (playwright-core): renders the report of harness/report/records.ts's sources to
// out/report-published.html, screenshots its two charts, writes the records' and the renderer's
// sha256 into the PNG (tEXt chunks) and into docs/report.png.json. test/harness/report.test.ts fails
// when they no longer match the files on disk — rerun this script after any record or report change:
//   npx tsx scripts/screenshot.ts [--chromium /usr/bin/chromium]
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { renderReport } from "../harness/report/report.ts";
import { publishedRecords, recordsHash, rendererHash } from "../harness/report/records.ts";
import { withText } from "../harness/report/png_text.ts";

const args = process.argv.slice(2);
const exe = args.includes("--chromium") ? args[args.indexOf("--chromium") + 1] : "/usr/bin/chromium";
const { input, sources } = publishedRecords();
const dates = [...input.attacks.map((r) => r.date), ...input.latency.map((r) => r.date)].sort();
const command = "mbn report models/zoo/manifest.json models/zoo/results/*.jsonl results/*.json -o out/report-published.html";
// the shown date is the newest record's, so the page depends on the records only
const html = renderReport({ ...input, title: "mbn report: the committed records", command, generated: `${dates.at(-1) ?? "-"} (newest record)` });
mkdirSync("out", { recursive: true });
const htmlPath = join("out", "report-published.html");
writeFileSync(htmlPath, html);

const browser = await chromium.launch({
  executablePath: exe, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--font-render-hinting=none"],
});
let png: Uint8Array;
let version: string;
try {
  version = browser.version();
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 1 });
  await page.goto(`file://${resolve(htmlPath)}`);
  // down to the bottom of the second chart (design space + accuracy vs ε)
  const bottom = await page.evaluate(() => {
    const svgs = Array.from(document.querySelectorAll("svg"));
    const last = svgs[Math.min(1, svgs.length - 1)] ?? document.body;
    return Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 16);
  });
  png = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1000, height: bottom } });
} finally {
  await browser.close();
}
const meta = { records_sha256: recordsHash(input), renderer_sha256: rendererHash(), sources, records: { attack: input.attacks.length, latency: input.latency.length, zoo: input.zoo.length, noisy: input.noisy.length }, chromium: version, command: "npx tsx scripts/screenshot.ts", date: new Date().toISOString() };
writeFileSync("docs/report.png", withText(png, { "mbn-records-sha256": meta.records_sha256, "mbn-renderer-sha256": meta.renderer_sha256 }));
writeFileSync("docs/report.png.json", JSON.stringify(meta, null, 2) + "\n");
console.log(`wrote docs/report.png (${meta.records.attack} attack, ${meta.records.latency} latency, ${meta.records.zoo} zoo records; sha256 ${meta.records_sha256.slice(0, 12)}) and docs/report.png.json`);
