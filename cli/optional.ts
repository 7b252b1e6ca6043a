// CLI: the optional packages (package.json peerDependencies, all optional) — which command loads which,
// and the one line for a run that needs one that is not installed. `npm i mbn` installs none of them:
// compile, run and inspect need none; bench and demo load onnxruntime-web/-node (peer runners), attack
// and demo load the WebAssembly backend of the bundled TensorFlow.js (harness/replica/tf.ts).
export const OPTIONAL_PACKAGES: Record<string, { version: string; usedBy: string }> = {
  "onnxruntime-web": { version: "^1.30.0", usedBy: "bench, demo" },
  "onnxruntime-node": { version: "^1.30.0", usedBy: "bench, demo" },
  "@tensorflow/tfjs-backend-wasm": { version: "4.22.0", usedBy: "attack, demo" },
};

/** The package a bare specifier names: "@scope/name" or "name" (a subpath such as name/dist/x dropped). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * For an error thrown because an optional package is not installed (ESM import: ERR_MODULE_NOT_FOUND,
 * `Cannot find package 'x' imported from …`; require.resolve: MODULE_NOT_FOUND, `Cannot find module 'x'`),
 * the line `<command> needs the optional package x (npm i x)`; undefined for any other error.
 */
export function optionalMissing(e: unknown, command?: string): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code !== "ERR_MODULE_NOT_FOUND" && err?.code !== "MODULE_NOT_FOUND") return undefined;
  const m = /Cannot find (?:package|module) '([^']+)'/.exec(String(err.message));
  if (!m || m[1].startsWith(".") || m[1].startsWith("/")) return undefined;
  const name = packageOf(m[1]);
  if (!(name in OPTIONAL_PACKAGES)) return undefined;
  const spec = OPTIONAL_PACKAGES[name].version.startsWith("^") ? name : `${name}@${OPTIONAL_PACKAGES[name].version}`;
  return `${command ? `${command} needs` : "this command needs"} the optional package ${name} (npm i ${spec})`;
}
