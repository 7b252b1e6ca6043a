#!/usr/bin/env node
// The `mbn` command: registers the TypeScript loader (tsx) and runs the CLI.
import { register } from "tsx/esm/api";
register();
await import("../cli/main.ts");
