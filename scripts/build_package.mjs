// Package build (`npm pack` runs it as `prepack`): compiles the TypeScript sources the package runs
// (tsconfig.build.json: entries index.ts and loader.ts, cli, compiler, runtime host, harness) to
// JavaScript with type declarations in dist/, then copies beside them, at the same relative paths the
// code reads them from (new URL("../…", import.meta.url)), the files needed at run time:
//   runtime/build/*.wasm        the prebuilt AssemblyScript runtime, every target of asconfig.json, with
//                               each one's function table *.funcs.json
//                               (installing needs no AssemblyScript)
//   compiler/emit/c/            the C target's host sources (mbn compile --emit-c)
//   harness/replica/build/tf.mjs  the bundled TensorFlow.js of the attack replica (its wasm binaries come
//                               from the optional package @tensorflow/tfjs-backend-wasm)
//   harness/attacks/worker_boot.mjs  the attack worker entry (mbn attack --workers)
//   hosts/                      firmware host sources (mbn mcu)
//   harness/bench/device_client.bundle.js  the device page's browser script (mbn bench --serve), prebuilt
//   models/data/fashion-mnist/  the bundled test split: default data of mbn attack and mbn demo (4.3 MB)
//   models/zoo/<default>/       the demo's default model (model.onnx, meta.json) and the zoo records its
//                               report shows (manifest.json, results/); the other zoo models stay out
// Then checks that no built file still needs the TypeScript loader: a warning names each one.
// Requires the runtime build (npm run build; npm ci runs it) to have run.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const DEMO_MODEL = "fmnist_resnet20_mbn3x1"; // cli/main.ts: `mbn demo --model` default

// every runtime target of asconfig.json (its .wasm, and the function table .funcs.json the compiler
// prunes bundles with, compiler/emit/prune.ts; the .wat stays out)
const RUNTIME = Object.values(JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8")).targets)
  .flatMap((t) => (t.textFile ? [t.outFile, t.outFile.replace(/\.wasm$/, ".funcs.json")] : [t.outFile]));
const ASSETS = [
  ...RUNTIME, "compiler/emit/c", "harness/replica/build/tf.mjs", "harness/attacks/worker_boot.mjs", "hosts",
  "models/data/fashion-mnist", `models/zoo/${DEMO_MODEL}/model.onnx`, `models/zoo/${DEMO_MODEL}/meta.json`,
  "models/zoo/manifest.json", "models/zoo/results",
];

function fail(msg) {
  process.stderr.write(`build_package: ${msg}\n`);
  process.exit(1);
}

for (const a of ASSETS) if (!existsSync(join(root, a))) fail(`${a} is missing (run \`npm run build\` first)`);

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const t = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (t.status !== 0) fail(`tsc -p tsconfig.build.json failed (exit ${t.status})`);

// (a TypeScript file among them is a development script, e.g. hosts/wasm2c/bench_native.ts: left out)
for (const a of ASSETS) cpSync(join(root, a), join(dist, a), { recursive: true, filter: (f) => !f.endsWith(".ts") });

// The device page's browser script (mbn bench --serve), bundled now by the page's own function
// (harness/bench/device_page.ts, through tsx and esbuild, both dev-only) so that the package needs
// neither: device_page reads dist/harness/bench/device_client.bundle.js where it exists.
if (existsSync(join(root, "harness/bench/device_page.ts"))) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e",
    'const m = await import("./harness/bench/device_page.ts"); if (m.deviceClientScript) process.stdout.write(await m.deviceClientScript());'],
  { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) fail(`bundling the device page script failed: ${r.stderr.trim().split("\n")[0]}`);
  if (r.stdout) writeFileSync(join(dist, "harness/bench/device_client.bundle.js"), r.stdout);
}

// Every built module must run in plain Node: no TypeScript loader, no relative import of a .ts file.
const files = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
const needsTs = files(dist).filter((f) => /\.(m?js)$/.test(f)).filter((f) => {
  const s = readFileSync(f, "utf8");
  return /(?:from|import\()\s*["']tsx(?:\/[^"']*)?["']/.test(s) || /(?:from|import\()\s*["']\.\.?\/[^"']*\.ts["']/.test(s) || /["']--import["'],\s*["']tsx["']/.test(s);
});
for (const f of needsTs) process.stderr.write(`build_package: warning: ${relative(root, f)} needs the TypeScript loader (tsx), which the package does not install\n`);

let bytes = 0;
for (const f of files(dist)) bytes += statSync(f).size;
console.log(`build_package: dist/ ${files(dist).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
