// The package entry (`import { compile, loadBundle } from "mbn"`): the compiler (ONNX bytes → one
// zero-import WebAssembly bundle, Node: it reads the prebuilt runtime from the package) and the loader
// that runs a bundle. The browser-safe loader alone is the "mbn/loader" entry (loader.ts).
export { compile, defaultTarget, CompileError, type CompileApiOptions, type CompileReport, type Target } from "./compiler/index.ts";
export type { CompileResult } from "./compiler/pipeline.ts";
export { loadBundle, packInputs, unpackOutputs, BundleError, SUPPORTED_FORMAT, type Bundle, type Manifest } from "./runtime/host/loader.ts";
