// Microcontroller fit of every zoo model: runs `mbn mcu <model> --engine c|wasm3 --json` (firmware in
// qemu-system-arm, outputs checked against V8) for each model of models/zoo/manifest.json, writes the
// record (results/mcu-fit.json: date, machine, commit, command, tool versions, one row per model and
// engine) and prints a markdown table: flash and RAM per engine, and which SRAM classes (256 KiB,
// 512 KiB, 1 MiB) each engine fits. Figures come from the runs, never typed by hand.
//   npx tsx scripts/fit_table.ts [--board mps2-an386] [-o results/mcu-fit.json]
//   npx tsx scripts/fit_table.ts --from results/mcu-fit.json     (only print the table of a record)
// In a `git archive` export (no .git), MBN_SOURCE_COMMIT names the commit exported.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ENGINES = ["c", "wasm3"] as const;
const CLASSES: [string, number][] = [["256 KiB", 256 * 1024], ["512 KiB", 512 * 1024], ["1 MiB", 1024 * 1024]];

interface Row {
  model: string;
  engine: string;
  ok: boolean;
  error?: string;
  flash_bytes?: number;
  ram_bytes?: number;
  ram?: { static_bytes: number; heap_bytes: number; stack_bytes: number };
  instructions_per_inference?: number;
  outputs_match_v8?: boolean;
  selftest_match_v8?: boolean;
  samples?: number;
  input?: string;
  seconds: number;
}
export interface FitRecord {
  command: string;
  date: string;
  machine: string;
  commit: string;
  board: string;
  tools: Record<string, string>;
  note: string;
  rows: Row[];
}

const kib = (b?: number) => (b === undefined ? "–" : `${(b / 1024).toFixed(0)} KiB`);
const firstLineOf = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: "utf8" }).stdout ?? "").split("\n")[0].trim();

/** The markdown table of a record. */
export function fitTable(r: FitRecord): string {
  const models = [...new Set(r.rows.map((x) => x.model))];
  const get = (m: string, e: string) => r.rows.find((x) => x.model === m && x.engine === e);
  const lines = [
    `| model | C flash | C RAM | wasm3 flash | wasm3 RAM | C / wasm3 M instructions per inference | ${CLASSES.map(([c]) => `fits ${c} SRAM`).join(" | ")} |`,
    `|---|---|---|---|---|---|${CLASSES.map(() => "---").join("|")}|`,
  ];
  for (const m of models) {
    const c = get(m, "c"), w = get(m, "wasm3");
    const cell = (x?: Row) => (x?.ok ? x : undefined);
    const fits = CLASSES.map(([, n]) => ENGINES.filter((e) => { const x = cell(get(m, e)); return x && x.ram_bytes! <= n; }).map((e) => (e === "c" ? "C" : e)).join(", ") || "–");
    const mi = (x?: Row) => (x?.ok ? (x.instructions_per_inference! / 1e6).toFixed(0) : x ? "failed" : "–");
    lines.push(`| ${m.split("/").slice(-2, -1)[0] ?? m} | ${kib(cell(c)?.flash_bytes)} | ${kib(cell(c)?.ram_bytes)} | ${kib(cell(w)?.flash_bytes)} | ${kib(cell(w)?.ram_bytes)} | ${mi(c)} / ${mi(w)} | ${fits.join(" | ")} |`);
  }
  const failed = r.rows.filter((x) => !x.ok);
  lines.push("", `${r.board} in QEMU (\`-icount shift=0\`), outputs and self-test = V8 bit for bit on every row${failed.length ? ` except: ${failed.map((x) => `${x.model} (${x.engine}): ${x.error}`).join("; ")}` : ""}. ` +
    `RAM = static + heap high-water + stack high-water (C: heap 0; wasm3: its linear memory limited to the plan's memory_bytes, compiled code, 16 KiB value stack). ` +
    `\`${r.command}\`, ${r.date.slice(0, 10)}, commit ${r.commit}, ${r.machine}.`);
  return lines.join("\n");
}

const dirty = () => (spawnSync("git", ["-C", ROOT, "status", "--porcelain", "--", "compiler", "runtime", "hosts", "cli"], { encoding: "utf8" }).stdout ?? "").split("\n").filter(Boolean).length;

function run(board: string, out: string): FitRecord {
  const manifest = JSON.parse(readFileSync(join(ROOT, "models/zoo/manifest.json"), "utf8")) as { models: { file: string }[] };
  const rows: Row[] = [];
  for (const { file } of manifest.models) {
    const model = `models/zoo/${file}`;
    for (const engine of ENGINES) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, "bin/mbn.mjs"), "mcu", model, "--engine", engine, "--board", board, "--json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 24 });
      const seconds = Math.round((performance.now() - t) / 100) / 10;
      const json = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      const rec = json ? JSON.parse(json) : undefined;
      const ok = r.status === 0 && !!rec;
      const row: Row = ok
        ? { model, engine, ok, flash_bytes: rec.flash_bytes, ram_bytes: rec.ram_bytes, ram: rec.ram, instructions_per_inference: rec.instructions_per_inference,
          outputs_match_v8: rec.outputs_match_v8, selftest_match_v8: rec.selftest_match_v8, samples: rec.samples, input: rec.input, seconds }
        : { model, engine, ok, error: (r.stderr || "").trim().split("\n").pop()?.replace(/^mbn: /, "") ?? `exit ${r.status}`, seconds };
      rows.push(row);
      console.error(`${model} --engine ${engine}: ${ok ? `flash ${kib(row.flash_bytes)}, RAM ${kib(row.ram_bytes)}` : row.error} (${seconds} s)`);
    }
  }
  return {
    command: `npx tsx scripts/fit_table.ts${board !== "mps2-an386" ? ` --board ${board}` : ""}${out !== "results/mcu-fit.json" ? ` -o ${out}` : ""}`,
    date: new Date().toISOString(), machine: `${hostname()} ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`,
    commit: (process.env.MBN_SOURCE_COMMIT ?? firstLineOf("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"])) + (dirty() ? ` + uncommitted changes in ${dirty()} file(s) of compiler/, runtime/, hosts/, cli/` : ""), board,
    tools: { gcc: firstLineOf("arm-none-eabi-gcc", ["--version"]), qemu: firstLineOf("qemu-system-arm", ["--version"]), wasm2c: firstLineOf("wasm2c", ["--version"]) },
    note: "one sample per model (its test_data/input.npy); instructions counted by QEMU under -icount shift=0 (cycles and milliseconds would be estimates)",
    rows,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (f: string) => (process.argv.includes(f) ? process.argv[process.argv.indexOf(f) + 1] : undefined);
  const from = arg("--from");
  const out = arg("-o") ?? "results/mcu-fit.json";
  const rec = from ? (JSON.parse(readFileSync(from, "utf8")) as FitRecord) : run(arg("--board") ?? "mps2-an386", out);
  if (!from) writeFileSync(resolve(ROOT, out), JSON.stringify(rec, null, 2) + "\n"); // (an absolute -o stays absolute)
  console.log(fitTable(rec));
}
