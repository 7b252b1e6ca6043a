#!/usr/bin/env node
// The `mbn` command. In a source checkout (cli/main.ts present) it registers the TypeScript loader (tsx)
// and runs the sources; in the installed package (no sources, no tsx) it runs the built JavaScript
// (dist/cli/main.js, built by `npm pack` through scripts/build_package.mjs). cli/main.ts turns every
// failure into one `mbn: …` line; should the CLI itself fail to load, that is one line too.
import { existsSync } from "node:fs";
try {
  const source = new URL("../cli/main.ts", import.meta.url);
  if (existsSync(source)) {
    const { register } = await import("tsx/esm/api");
    register();
    await import(source.href);
  } else {
    await import("../dist/cli/main.js");
  }
} catch (e) {
  process.stderr.write(`mbn: internal error: cannot load the CLI: ${String(e?.message ?? e).split("\n")[0]}${process.env.MBN_DEBUG === "1" ? "" : " (MBN_DEBUG=1 shows the stack trace)"}\n`);
  if (process.env.MBN_DEBUG === "1" && e?.stack) process.stderr.write(e.stack + "\n");
  process.exit(1);
}
