// Harness: natural accuracy of a bundle on a dataset — predictions always come from the bundle.
import type { Bundle } from "../runtime/host/loader.ts";
import type { Dataset } from "./data/datasets.ts";

export function predict(bundle: Bundle, x: Float32Array): Int32Array {
  const y = bundle.run(x);
  const k = bundle.outputLength, n = y.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (y[i * k + j] > y[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

export function accuracy(bundle: Bundle, d: Dataset, onProgress?: (done: number) => void, chunk = 250): { acc: number; correct: Uint8Array } {
  const per = bundle.inputLength;
  if (d.shape[0] * d.shape[1] * d.shape[2] !== per) {
    throw new Error(`dataset samples are [${d.shape}] (${d.shape[0] * d.shape[1] * d.shape[2]} floats), the model expects ${per}`);
  }
  const correct = new Uint8Array(d.n);
  let hits = 0;
  for (let i = 0; i < d.n; i += chunk) {
    const m = Math.min(chunk, d.n - i);
    const p = predict(bundle, d.x.subarray(i * per, (i + m) * per));
    for (let j = 0; j < m; j++) if ((correct[i + j] = p[j] === d.y[i + j] ? 1 : 0)) hits++;
    onProgress?.(m);
  }
  return { acc: hits / Math.max(1, d.n), correct };
}
