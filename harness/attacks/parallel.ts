// Harness: run an attack evaluation split over N worker threads (one shard each, contiguous slices
// in dataset order) and merge the shard records — the same result as one process with the same seed
// per shard. Workers load TypeScript through tsx's ESM loader (worker_boot.mjs).
import { Worker } from "node:worker_threads";
import type { AttackParams } from "./types.ts";
import { mergeRecords, type AttackRecord } from "./evaluate.ts";

export async function evaluateParallel(o: {
  file: string; data: string; offset: number; n: number; attack: string; params: AttackParams; batch: number; workers: number; onProgress?: (k: number) => void;
}): Promise<{ record: AttackRecord; xadv: Float32Array }> {
  const k = Math.max(1, Math.min(o.workers, o.n));
  const size = Math.ceil(o.n / k);
  const jobs = Array.from({ length: k }, (_, i) => ({ offset: o.offset + i * size, n: Math.max(0, Math.min(size, o.n - i * size)), shard: `${i}/${k}` })).filter((j) => j.n > 0);
  const parts = await Promise.all(jobs.map((j) => new Promise<{ record: AttackRecord; xadv: Float32Array }>((resolve, reject) => {
    const w = new Worker(new URL("./worker_boot.mjs", import.meta.url), {
      workerData: { file: o.file, data: o.data, offset: j.offset, n: j.n, attack: o.attack, params: o.params, batch: o.batch, shard: j.shard },
    });
    w.on("message", (m) => (m.progress !== undefined ? o.onProgress?.(m.progress) : resolve({ record: m.record, xadv: new Float32Array(m.xadv.buffer ?? m.xadv) })));
    w.on("error", reject);
    w.on("exit", (code) => code !== 0 && reject(new Error(`attack worker ${j.shard} exited with code ${code}`)));
  })));
  const record = mergeRecords(parts.map((p) => p.record));
  const total = parts.reduce((s, p) => s + p.xadv.length, 0);
  const xadv = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    xadv.set(p.xadv, at);
    at += p.xadv.length;
  }
  return { record, xadv };
}
