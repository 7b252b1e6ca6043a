// Renders an HTML report to PNG with Debian Chromium (playwright-core) for the README:
//   npx tsx scripts/screenshot.ts out/report.html docs/report.png
import { resolve } from "node:path";
import { chromium } from "playwright-core";

const [src = "out/report.html", dst = "docs/report.png"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
await page.goto(`file://${resolve(src)}`);
await page.screenshot({ path: dst, fullPage: false });
await browser.close();
console.log(`wrote ${dst}`);
