#!/usr/bin/env node
// The `mbn` command: registers the TypeScript loader (tsx) and runs the CLI (cli/main.ts, which
// turns every failure into one `mbn: …` line). Should the CLI itself fail to load, that is one line too.
import { register } from "tsx/esm/api";
register();
try {
  await import("../cli/main.ts");
} catch (e) {
  process.stderr.write(`mbn: internal error: cannot load the CLI: ${String(e?.message ?? e).split("\n")[0]}${process.env.MBN_DEBUG === "1" ? "" : " (MBN_DEBUG=1 shows the stack trace)"}\n`);
  if (process.env.MBN_DEBUG === "1" && e?.stack) process.stderr.write(e.stack + "\n");
  process.exit(1);
}
