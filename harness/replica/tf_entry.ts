// Harness replica: the one entry through which mbn uses TensorFlow.js — tfjs-core (ESM build, with
// every gradient registered) and the WebAssembly backend. Bundled by runtime/build.mjs with esbuild
// into harness/replica/build/tf.mjs, because tfjs-core's ESM files use directory imports that Node's
// ESM loader refuses, and its CommonJS bundle registers no gradients.
export * from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
export { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
