// The "mbn/loader" entry: loads and runs an mbn bundle with the bare WebAssembly API. No imports at
// all (no Node built-ins, no packages), so a bundler can ship it to a browser as it is.
export { loadBundle, packInputs, unpackOutputs, BundleError, SUPPORTED_FORMAT, type Bundle, type Manifest } from "./runtime/host/loader.ts";
