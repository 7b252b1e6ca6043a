// Harness: worker-thread entry — registers the TypeScript loader (tsx), then runs worker.ts.
import { register } from "tsx/esm/api";
register();
await import("./worker.ts");
