// Harness replica: typed access to the bundled TensorFlow.js (tf_entry.ts → build/tf.mjs) with the
// WebAssembly backend initialised once, and Conv2D's input gradient as a forward convolution (conv_grad.ts).
import { createRequire } from "node:module";
import type * as TF from "@tensorflow/tfjs-core";
// @ts-ignore -- generated at build time by runtime/build.mjs (npm ci runs it)
import * as bundled from "./build/tf.mjs";
import { useFastConvGradient } from "./conv_grad.ts";

export const tf = bundled as unknown as typeof TF & { setWasmPaths(p: string): void };
export type { Tensor, Tensor4D, Tensor2D } from "@tensorflow/tfjs-core";

let ready: Promise<void> | undefined;
export function tfReady(): Promise<void> {
  ready ??= (async () => {
    const req = createRequire(import.meta.url);
    const dist = req.resolve("@tensorflow/tfjs-backend-wasm").replace(/[^/\\]*$/, "");
    tf.setWasmPaths(dist.endsWith("/") ? dist : dist + "/");
    if (!(await tf.setBackend("wasm"))) throw new Error("the TensorFlow.js wasm backend did not initialise");
    await tf.ready();
    useFastConvGradient(true);
  })();
  return ready;
}
