// Packaging test: `npm pack` of this repository (prepack builds dist/), the tarball installed into an
// empty project without optional packages (offline from npm's cache where it can), then used the way a
// user would: `import { compile, loadBundle } from "mbn"` in plain Node (no tsx), the installed `mbn`
// command, the type declarations through tsc, and "mbn/loader" bundled by esbuild for the browser.
// Outputs and bundles are compared bit for bit with the repository's own (TypeScript) compiler.
// Takes about 1–2 minutes (the pack builds the runtime and runs tsc).
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { OPTIONAL_PACKAGES } from "../../cli/optional.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = join(ROOT, "test/fixtures/resnet20_cifar_mbn3x1.onnx");
const MAX_INSTALLED_MB = 80;
const SAMPLES = 3;
const require = createRequire(import.meta.url);

let tmp = "";
let app = "";
let tarball = "";
let packed: string[] = [];

// plain Node: no loader hooks inherited from the test runner
const plainEnv = () => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};
function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: plainEnv(), maxBuffer: 64 << 20 });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Deterministic inputs in [0, 1) (an LCG), n samples of len floats. */
function inputs(len: number, n: number): Float32Array {
  const x = new Float32Array(len * n);
  let s = 12345;
  for (let i = 0; i < x.length; i++) x[i] = ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  return x;
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) {
    const st = lstatSync(join(dir, f));
    total += st.isDirectory() ? bytesUnder(join(dir, f)) : st.size;
  }
  return total;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "mbn-package-"));
  ok(run("npm", ["pack", "--pack-destination", tmp], ROOT), "npm pack");
  const tgz = readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
  expect(tgz).toHaveLength(1);
  tarball = join(tmp, tgz[0]);
  packed = ok(run("tar", ["tzf", tarball], tmp), "tar tzf").split("\n").filter(Boolean).map((p) => p.replace(/^package\//, ""));
  app = join(tmp, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  ok(run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--omit=optional", tarball], app), "npm install <tarball>");
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds built JavaScript, declarations and the prebuilt runtime, and no sources, tests or scratch", () => {
    for (const f of ["package.json", "bin/mbn.mjs", "dist/index.js", "dist/index.d.ts", "dist/loader.js", "dist/loader.d.ts", "dist/cli/main.js",
      "dist/runtime/build/mbn-simd.wasm", "dist/runtime/build/mbn-scalar.wasm", "dist/runtime/build/mbn-simd.funcs.json", "dist/runtime/build/mbn-scalar-ext.funcs.json", "dist/runtime/kernels.json",
      "dist/harness/bench/device_client.bundle.js", "dist/models/data/fashion-mnist/t10k-images-idx3-ubyte.gz"])
      expect(packed, f).toContain(f);
    const bad = packed.filter((p) => (p.endsWith(".ts") && !p.endsWith(".d.ts")) || p.endsWith(".wat") || p.endsWith(".tgz") ||
      /^(test|scratch|results|out|node_modules|runtime|compiler|harness|cli|models|scripts)\//.test(p) || /^dist\/models\/(train|reference)\//.test(p));
    expect(bad).toEqual([]);
    // of the zoo, only the demo's default model (and the records its report shows)
    const zooModels = new Set(packed.filter((p) => p.endsWith("/model.onnx")).map((p) => p.split("/").at(-2)));
    expect([...zooModels]).toEqual(["fmnist_resnet20_mbn3x1"]);
  });

  it(`installs without the optional packages in ≤ ${MAX_INSTALLED_MB} MB`, () => {
    const pkg = JSON.parse(readFileSync(join(app, "node_modules/mbn/package.json"), "utf8"));
    // optional peers: `npm i mbn` never installs them, with or without --omit=optional
    for (const name of Object.keys(OPTIONAL_PACKAGES)) {
      expect(pkg.peerDependencies?.[name], name).toBe(OPTIONAL_PACKAGES[name].version);
      expect(pkg.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      expect(pkg.dependencies?.[name], name).toBeUndefined();
      expect(pkg.optionalDependencies?.[name], name).toBeUndefined();
    }
    for (const name of [...Object.keys(OPTIONAL_PACKAGES), "@tensorflow/tfjs-core", "tsx", "assemblyscript", "esbuild", "typescript"])
      expect(existsSync(join(app, "node_modules", name)), `${name} installed`).toBe(false);
    const mb = bytesUnder(join(app, "node_modules")) / 1e6;
    console.log(`package: tarball ${(lstatSync(tarball).size / 1e6).toFixed(1)} MB, ${packed.length} files; node_modules of an empty project after ` +
      `\`npm install --prefer-offline --omit=optional ${tarball.split("/").at(-1)}\`: ${mb.toFixed(1)} MB (10^6 bytes, ${readdirSync(join(app, "node_modules")).length} top-level entries)`);
    expect(mb).toBeLessThanOrEqual(MAX_INSTALLED_MB);
  });

  it("compiles and runs in plain Node exactly as the repository does (both targets)", async () => {
    const onnx = readFileSync(FIXTURE);
    const targets = ["simd", "scalar"] as const;
    const mine = await Promise.all(targets.map(async (target) => {
      const res = compile(onnx, { target });
      const bundle = await loadBundle(res.wasm);
      const x = inputs(bundle.inputLength, SAMPLES);
      return { target, wasm: res.wasm, x, y: bundle.run(x) };
    }));
    for (const m of mine) writeFileSync(join(app, `in-${m.target}.f32`), new Uint8Array(m.x.buffer));
    writeFileSync(join(app, "use.mjs"), [
      'import { compile, loadBundle } from "mbn";',
      'import { readFileSync, writeFileSync } from "node:fs";',
      "const onnx = readFileSync(process.argv[2]);",
      "for (const target of process.argv.slice(3)) {",
      "  const res = compile(onnx, { target });",
      "  const bundle = await loadBundle(res.wasm);",
      "  const y = bundle.run(new Float32Array(new Uint8Array(readFileSync(`in-${target}.f32`)).buffer));",
      "  writeFileSync(`out-${target}.wasm`, res.wasm);",
      "  writeFileSync(`out-${target}.f32`, new Uint8Array(y.buffer));",
      "}",
    ].join("\n"));
    ok(run(process.execPath, ["use.mjs", FIXTURE, ...targets], app), "plain node import of mbn");
    for (const m of mine) {
      expect(Buffer.compare(readFileSync(join(app, `out-${m.target}.wasm`)), Buffer.from(m.wasm)), `${m.target} bundle bytes`).toBe(0);
      expect(Buffer.compare(readFileSync(join(app, `out-${m.target}.f32`)), Buffer.from(m.y.buffer)), `${m.target} outputs`).toBe(0);
    }
  });

  it("runs the installed `mbn` command on built JavaScript", () => {
    const mbn = join(app, "node_modules/.bin/mbn");
    const inspect = ok(run(mbn, ["inspect", FIXTURE], app), "installed mbn inspect");
    const repo = ok(run(process.execPath, [join(ROOT, "bin/mbn.mjs"), "inspect", FIXTURE], ROOT), "repository mbn inspect");
    expect(inspect).toBe(repo);
    expect(inspect).toMatch(/^totals: /m);
    // bench needs onnxruntime-web for its default peers: one mbn: line naming the package, exit 1
    const bench = run(mbn, ["bench", FIXTURE, "--runs", "5", "--warmup", "1"], app);
    expect(bench.status).toBe(1);
    expect(bench.stderr).toBe("mbn: bench needs the optional package onnxruntime-web (npm i onnxruntime-web)\n");
    // the demo's default model and data ship: it compiles and measures accuracy, then stops at the first peer
    const demo = run(mbn, ["demo", "--n", "20", "--attack-n", "10"], app);
    expect(demo.stdout).toMatch(/natural accuracy \(bundle, 20 test images\)/);
    expect(demo.stderr).toBe("mbn: demo needs the optional package onnxruntime-web (npm i onnxruntime-web)\n");
    expect(demo.status).toBe(1);
  });

  it("ships type declarations that type-check a consumer (and are not `any`)", () => {
    for (const f of ["index.d.ts", "loader.d.ts"]) expect(existsSync(join(app, "node_modules/mbn/dist", f)), f).toBe(true);
    writeFileSync(join(app, "consumer.ts"), [
      'import { compile, loadBundle, CompileError, type Bundle, type CompileReport } from "mbn";',
      'import { loadBundle as loadOnly, BundleError } from "mbn/loader";',
      'const res = compile(new Uint8Array(0), { target: "scalar" });',
      "const report: CompileReport = res.report;",
      "const bundle: Bundle = await loadOnly(res.wasm);",
      "const n: number = bundle.outputLength + report.totals.bundleBytes;",
      "// @ts-expect-error -- a number is not a string: fails to compile if the declarations were `any`",
      "const s: string = bundle.inputLength;",
      "export { n, s, loadBundle, CompileError, BundleError };",
    ].join("\n"));
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, noEmit: true, types: [], skipLibCheck: false },
      files: ["consumer.ts"],
    }));
    ok(run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "."], app), "tsc on a consumer of mbn and mbn/loader");
  });

  it('bundles "mbn/loader" for the browser with no Node built-ins, and the bundle runs', async () => {
    const esbuild = await import("esbuild");
    writeFileSync(join(app, "page.js"), 'import { loadBundle } from "mbn/loader";\nexport { loadBundle };\n');
    const out = await esbuild.build({
      absWorkingDir: app, entryPoints: ["page.js"], bundle: true, platform: "browser", format: "esm", write: false, metafile: true, logLevel: "silent",
    });
    const inputsBundled = Object.keys(out.metafile.inputs);
    expect(inputsBundled.every((p) => p === "page.js" || p.startsWith("node_modules/mbn/dist/")), inputsBundled.join(", ")).toBe(true);
    const code = out.outputFiles[0].text;
    expect(code).not.toMatch(/\brequire\(|from\s*["'](node:|fs|path|url|crypto)["']/);
    const file = join(app, "page.bundle.mjs");
    writeFileSync(file, code);
    const { loadBundle: browserLoad } = await import(file);
    const res = compile(readFileSync(FIXTURE), { target: "scalar" });
    const a = await browserLoad(res.wasm), b = await loadBundle(res.wasm);
    const x = inputs(b.inputLength, 1);
    expect(Buffer.compare(Buffer.from(a.run(x).buffer), Buffer.from(b.run(x).buffer))).toBe(0);
  });
});
