// Harness: worker-thread entry — in a source checkout registers tsx and runs worker.ts; in the package runs worker.js.
import { existsSync } from "node:fs";
if (existsSync(new URL("./worker.ts", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./worker.ts");
} else {
  await import("./worker.js");
}
