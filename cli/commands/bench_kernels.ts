// CLI: `mbn bench-kernels [--json]` (npm run bench:kernels) — prints G binary-MAC/s per kernel and build.
import { benchKernels } from "../../runtime/bench/kernels.ts";

export function benchKernelsCommand(o: { json?: boolean; seconds: number }): void {
  const rows = benchKernels(o.seconds, (r) =>
    console.error(`${r.name.padEnd(7)} ${r.build.padEnd(6)} ${r.shape.padEnd(28)} ${r.gbmac_per_s.toFixed(1).padStart(7)} G binary-MAC/s`),
  );
  if (o.json) console.log(JSON.stringify({ kernels: rows }));
}
