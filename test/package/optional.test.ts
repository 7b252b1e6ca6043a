// The optional-package line (cli/optional.ts) on the real errors Node throws where a package is not
// installed (an ESM import and a require.resolve from a folder with no node_modules), and its table
// against package.json's optional peer dependencies.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPTIONAL_PACKAGES, optionalMissing } from "../../cli/optional.ts";

const dir = mkdtempSync(join(tmpdir(), "mbn-optional-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error an ESM `import(spec)` throws in plain Node from a folder where nothing is installed
 * (its code and message, which is all optionalMissing reads). */
function importError(spec: string): unknown {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e",
    `import(${JSON.stringify(spec)}).then(() => {}, (e) => process.stdout.write(JSON.stringify({ code: e.code, message: e.message })))`], { cwd: dir, encoding: "utf8" });
  if (!r.stdout) return undefined;
  const { code, message } = JSON.parse(r.stdout);
  return Object.assign(new Error(message), { code });
}

describe("optionalMissing", () => {
  it("names the package and the command for an ESM import of a missing optional package", () => {
    const e = importError("onnxruntime-web");
    expect((e as NodeJS.ErrnoException).code).toBe("ERR_MODULE_NOT_FOUND");
    expect(optionalMissing(e, "bench")).toBe("bench needs the optional package onnxruntime-web (npm i onnxruntime-web)");
    expect(optionalMissing(importError("onnxruntime-node"), "demo")).toBe("demo needs the optional package onnxruntime-node (npm i onnxruntime-node)");
  });

  it("names the exact version where one is required (require.resolve of the tfjs wasm backend)", () => {
    let e: unknown;
    try {
      createRequire(join(dir, "x.js")).resolve("@tensorflow/tfjs-backend-wasm");
    } catch (err) {
      e = err;
    }
    expect((e as NodeJS.ErrnoException).code).toBe("MODULE_NOT_FOUND");
    expect(optionalMissing(e, "attack")).toBe("attack needs the optional package @tensorflow/tfjs-backend-wasm (npm i @tensorflow/tfjs-backend-wasm@4.22.0)");
  });

  it("says nothing for other errors: another package, a missing file, a generic error", () => {
    expect(optionalMissing(importError("not-an-mbn-dependency"), "bench")).toBeUndefined();
    expect(optionalMissing(importError("./missing-file.mjs"), "bench")).toBeUndefined();
    expect(optionalMissing(new Error("Cannot find package 'onnxruntime-web'"), "bench")).toBeUndefined();
    expect(optionalMissing(undefined)).toBeUndefined();
  });

  it("lists exactly the optional peer dependencies of package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const optionalPeers = Object.keys(pkg.peerDependenciesMeta ?? {}).filter((k) => pkg.peerDependenciesMeta[k].optional);
    expect(Object.keys(OPTIONAL_PACKAGES).sort()).toEqual(optionalPeers.sort());
    for (const [name, { version }] of Object.entries(OPTIONAL_PACKAGES)) {
      expect(pkg.peerDependencies[name], name).toBe(version);
      expect(pkg.devDependencies[name], `${name}: the repository tests with it`).toBeDefined();
    }
  });
});
