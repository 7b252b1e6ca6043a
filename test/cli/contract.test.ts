// The CLI never lies and never crashes: every bad invocation is exit code 1 with exactly one
// `mbn: …` line on stderr (nothing on stdout, no stack frame); good invocations do what they say.
// Table-driven over `node bin/mbn.mjs …` (spawned like test/compiler/errors.test.ts), run
// concurrently; only the small xnornet fixture is compiled and attacked (a few samples).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";
import { mergeShards } from "../../harness/attacks/parallel.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/mbn.mjs");
const M = join(ROOT, "test/fixtures/xnornet_nonsquare.onnx"); // input [1, 3, 20, 28], 10 classes
const dir = mkdtempSync(join(tmpdir(), "mbn-contract-"));
const f = (name: string) => join(dir, name);
const BUNDLE = f("m.wasm");

interface Result { status: number | null; stdout: string; stderr: string }
function mbn(args: string[], o: { closeStdout?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...o.env } });
    let stdout = "", stderr = "";
    if (o.closeStdout) p.stdout.destroy(); // the reader goes away before the first write: EPIPE
    else p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** A .npy of any dtype (little-endian bytes given). */
function npy(descr: string, shape: number[], body: ArrayBufferView): Uint8Array {
  const f32 = writeNpy({ shape, data: new Float32Array(0) });
  const header = new TextDecoder().decode(f32.subarray(10)).replace("'<f4'", `'${descr}'`);
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + head.length + body.byteLength);
  out.set(f32.subarray(0, 8));
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 10 + head.length);
  return out;
}

const N = 4, PER = 3 * 20 * 28;
const pixels = Uint8Array.from({ length: N * PER }, (_, i) => (i * 97 + 13) % 256);

/** An attack shard record as `mbn attack --shard i/k -o` writes it (pgd, 2 samples per shard). */
function shard(i: number, over: Record<string, unknown> = {}) {
  const s = [
    { robust: [1, 0], success: [0, 1], natural: 1, mean_queries: 3, ra: 1, gradient: { mean_l1: 1, median_l1: 1, zero_fraction: 0, masking_suspected: false } },
    { robust: [0, 0], success: [1, 0], natural: 0.5, mean_queries: 2, ra: 0.5, gradient: { mean_l1: 5, median_l1: 4, zero_fraction: 0.5, masking_suspected: false } },
  ][i];
  return {
    model: "m.onnx", dataset: "npy", n: 2, offset: 2 * i, attack: "pgd", norm: "Linf", eps: 0.1, steps: 20, step_size: 0.0125, restarts: 1,
    random_start: true, queries: 0, mean_queries: s.mean_queries, seed: 0, natural_acc: s.natural, adversarial_acc: s.robust.reduce((a, b) => a + b, 0) / 2,
    per_sample_success: s.success, per_sample_robust: s.robust, replica_agreement: s.ra, gradient: s.gradient, seconds: 1,
    bundle_sha256: "ab".repeat(32), machine: "host", date: "2026-01-01T00:00:00.000Z", shard: `${i}/2`, run_n: 4, ...over,
  };
}

beforeAll(() => {
  const x = Float32Array.from(pixels, (v) => v / 255);
  writeFileSync(f("x.npy"), writeNpy({ shape: [N, 3, 20, 28], data: x }));
  writeFileSync(f("x8.npy"), npy("|u1", [N, 3, 20, 28], pixels));
  writeFileSync(f("x64.npy"), npy("<f8", [N, 3, 20, 28], Float64Array.from(x)));
  writeFileSync(f("xi64.npy"), npy("<i8", [N, 3, 20, 28], BigInt64Array.from(pixels, (v) => BigInt(v))));
  writeFileSync(f("nhwc.npy"), writeNpy({ shape: [N, 20, 28, 3], data: x }));
  writeFileSync(f("labels.npy"), writeNpy({ shape: [N], data: Float32Array.from([0, 1, 2, 3]) }));
  writeFileSync(f("s0.json"), JSON.stringify(shard(0)));
  writeFileSync(f("s1.json"), JSON.stringify(shard(1)));
  writeFileSync(f("s1_seed1.json"), JSON.stringify(shard(1, { seed: 1 })));
  writeFileSync(f("s1_of3.json"), JSON.stringify(shard(1, { shard: "1/3" })));
  writeFileSync(f("s1_n6.json"), JSON.stringify(shard(1, { run_n: 6 })));
  const { shard: _, run_n: __, ...whole } = shard(0);
  writeFileSync(f("whole.json"), JSON.stringify(whole));
  writeFileSync(f("null.json"), "null");
  writeFileSync(f("bad.json"), '{"model": ');
  writeFileSync(f("plain.wasm"), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])); // a valid module without the manifest
  writeFileSync(f("torn.wasm"), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 0x7f]));
  const r = spawnSync(process.execPath, [BIN, "compile", M, "-o", BUNDLE, "--target", "simd"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compiling the fixture failed: ${r.stderr}`);
});

const NONE = "/nonexistent-mbn-dir";
// [argv, stderr line (after "mbn: "), a name]: every one must fail with exit code 1 and that one line
const BAD: [string[], RegExp][] = [
  [[], /^missing command \(compile, run, .*\)/],
  [["frobnicate"], /^unknown command 'frobnicate'/],
  [["attack", M, "--n", "0"], /^--n 0: must be an integer ≥ 1$/],
  [["attack", M, "--n", "-5"], /^--n -5: must be an integer ≥ 1$/],
  [["attack", M, "--n", "2.5"], /^--n 2\.5: must be an integer ≥ 1$/],
  [["attack", M, "--n", "ten"], /^--n ten: must be an integer ≥ 1$/],
  [["attack", M, "--n"], /^attack: option '--n <n>' argument missing$/],
  [["attack", M, "--steps", "0"], /^--steps 0: must be an integer ≥ 1$/],
  [["attack", M, "--eps", "-0.1"], /^--eps -0\.1: must be a number in \[0, 1\]$/],
  [["attack", M, "--eps", "1.5"], /^--eps 1\.5: must be a number in \[0, 1\]$/],
  [["attack", M, "--step-size", "0"], /^--step-size 0: must be a number > 0$/],
  [["attack", M, "--restarts", "0"], /^--restarts 0: must be an integer ≥ 1$/],
  [["attack", M, "--queries", "0"], /^--queries 0: must be an integer ≥ 1$/],
  [["attack", M, "--batch", "0"], /^--batch 0: must be an integer ≥ 1$/],
  [["attack", M, "--workers", "0"], /^--workers 0: must be an integer in 1…256$/],
  [["attack", M, "--seed", "-1"], /^--seed -1: must be an integer in 0…4294967295$/],
  [["attack", M, "--shard", "2/2"], /^--shard 2\/2: expected i\/n with 0 ≤ i < n/],
  [["attack", M, "--shard", "half"], /^--shard half: expected i\/n/],
  [["attack", M, "--attack", "cw"], /^--attack cw: unknown attack \(fgsm, pgd, square, apgd-ce, apgd-t, fab-t, autoattack\)$/],
  [["attack", M, "--bogus"], /^attack: unknown option '--bogus'$/],
  [["attack"], /^attack: missing required argument 'model\.onnx'$/],
  [["attack", f("missing.onnx")], /missing\.onnx: cannot read \(ENOENT\)$/],
  [["attack", M, "-o", `${NONE}/r.json`], /^\/nonexistent-mbn-dir\/r\.json: cannot write \(ENOENT: directory \/nonexistent-mbn-dir does not exist\)$/],
  [["attack", BUNDLE, "--data", `npy:${f("x.npy")},${f("labels.npy")}`], /m\.wasm: attacks need the ONNX model/],
  [["attack", M, "--data", `npy:${f("x8.npy")},${f("labels.npy")}`], /input values span \[0, 255\], but attacks need pixels in \[0, 1\]/],
  [["attack", M, "--data", `npy:${f("x.npy")},${f("labels.npy")}`, "--n", "3", "--shard", "0/4"], /^--shard 0\/4: 4 shards of 3 sample\(s\) would leave some empty/],
  [["attack", M, "--data", "mnist"], /^unknown dataset 'mnist'/],
  [["bench", M, "--runs", "0"], /^--runs 0: must be an integer ≥ 1$/],
  [["bench", M, "--warmup", "-1"], /^--warmup -1: must be an integer ≥ 0$/],
  [["bench", M, "--threads", "0"], /^--threads 0: must be an integer ≥ 1$/],
  [["bench", M, "--port", "65536"], /^--port 65536: must be an integer in 0…65535$/],
  [["bench", M, "--port", "80.5"], /^--port 80\.5: must be an integer in 0…65535$/],
  [["bench", M, "--peers", "tvm"], /^--peers: unknown peer 'tvm' \(ort-web, ort-node, wasm3\)$/],
  [["bench", BUNDLE], /peers need the ONNX file/],
  [["bench", M, "-o", `${NONE}/b.json`], /b\.json: cannot write \(ENOENT/],
  [["bench", M, "--twin", f("missing.onnx")], /^--twin .*missing\.onnx: cannot read it \(ENOENT\)$/],
  [["bench", M, "--twin", join(ROOT, "test/fixtures/resnet20_cifar_fp32.onnx")], /^--twin .*resnet20_cifar_fp32\.onnx: onnxruntime-node cannot run it on a 1×3×20×28 input/],
  [["bench-kernels", "--seconds", "0"], /^--seconds 0: must be a number in \(0, 3600\]$/],
  [["demo", "--n", "0"], /^--n 0: must be an integer ≥ 1$/],
  [["demo", "--attack-n", "1.5"], /^--attack-n 1\.5: must be an integer ≥ 1$/],
  [["compile", M, "-o", `${NONE}/x.wasm`], /^\/nonexistent-mbn-dir\/x\.wasm: cannot write \(ENOENT: directory \/nonexistent-mbn-dir does not exist\)$/],
  [["compile", M, "-o", dir], /: cannot write \(EISDIR: is a directory\)$/],
  [["compile", M, "-o", f("c.wasm"), "--report", `${NONE}/r.json`], /r\.json: cannot write \(ENOENT/],
  [["compile", f("missing.onnx")], /missing\.onnx: cannot read \(ENOENT\)$/],
  [["compile", M, "--dump-after", "parse"], /^--dump-after parse: unknown pass \(lower, fuse\)$/],
  [["compile", M, "--target", "gpu", "-o", f("g.wasm")], /^unknown target 'gpu' \(simd, scalar, c\)$/],
  [["compile", M, "--frobnicate"], /^compile: unknown option '--frobnicate'$/],
  [["run", BUNDLE, "--input", f("x.npy")], /^run: required option '--output <y\.npy>' not specified$/],
  [["run", BUNDLE, "--input", f("x.npy"), "--output", `${NONE}/y.npy`], /y\.npy: cannot write \(ENOENT: directory \/nonexistent-mbn-dir does not exist\)$/],
  [["run", BUNDLE, "--input", f("missing.npy"), "--output", f("y.npy")], /missing\.npy: cannot read \(ENOENT\)$/],
  [["run", BUNDLE, "--input", f("x8.npy"), "--output", f("y.npy")], /x8\.npy: dtype uint8, not float32: pass --scale 255 .*, or --as-is to take the values unchanged$/],
  [["run", BUNDLE, "--input", f("x64.npy"), "--output", f("y.npy")], /x64\.npy: dtype float64, not float32: pass --scale s .* or --as-is/],
  [["run", BUNDLE, "--input", f("xi64.npy"), "--output", f("y.npy")], /xi64\.npy: dtype int64, not float32/],
  [["run", BUNDLE, "--input", f("x8.npy"), "--output", f("y.npy"), "--scale", "0"], /^--scale 0: must be a number > 0$/],
  [["run", BUNDLE, "--input", f("x8.npy"), "--output", f("y.npy"), "--scale", "255", "--as-is"], /^--scale and --as-is exclude each other/],
  [["run", BUNDLE, "--input", f("nhwc.npy"), "--output", f("y.npy")], /nhwc\.npy: samples of shape \[20,28,3\], but the model takes \[3,20,28\]/],
  [["run", BUNDLE, "--input", f("s0.json"), "--output", f("y.npy")], /s0\.json: not a NumPy \.npy file$/],
  [["run", BUNDLE, "--input", f("x.npy"), "--output", f("y.npy"), "--target", "c"], /^--target c is for mbn compile only/],
  [["run", BUNDLE, "--input", f("x.npy"), "--output", f("y.npy"), "--target", "scalar"], /m\.wasm is a simd bundle; --target scalar applies only when compiling an \.onnx model$/],
  [["merge", f("s0.json"), f("s0.json"), f("s1.json")], /s0\.json: shard 0\/2 given twice/],
  [["merge", f("s0.json")], /^missing shard 1\/2: a run split 2 ways needs all 2 shard records$/],
  [["merge", f("s0.json"), f("s1_seed1.json")], /s1_seed1\.json: not the same run as .*s0\.json \(seed 1 vs 0\)$/],
  [["merge", f("s0.json"), f("s1_of3.json")], /s1_of3\.json: shard 1\/3 of a run split 3 ways, but .*s0\.json is shard 0\/2/],
  [["merge", f("s0.json"), f("s1_n6.json")], /s1_n6\.json: not the same run as .*\(run_n 6 vs 4\)$/],
  [["merge", f("whole.json")], /whole\.json: not a shard record/],
  // a non-record beside a shard of some bundle: refused as such, not an internal error
  [["merge", f("null.json"), f("s0.json")], /null\.json: not an attack record \(not a JSON object\)$/],
  [["merge", f("s0.json"), f("x.npy")], /x\.npy: a NumPy \.npy file, not a JSON attack record$/],
  [["merge", f("bad.json")], /bad\.json: not a JSON attack record \(/],
  [["merge", f("missing.json")], /missing\.json: cannot read \(ENOENT\)$/],
  [["merge", f("s0.json"), f("s1.json"), "-o", `${NONE}/m.json`], /m\.json: cannot write \(ENOENT/],
  [["merge"], /^merge: missing required argument 'records'$/],
  [["inspect", M, "extra"], /^inspect: too many arguments\. Expected 1 argument but got 2$/],
  [["inspect", f("plain.wasm")], /plain\.wasm: not an mbn bundle \(no mbn\.manifest section\)$/],
  [["inspect", f("torn.wasm")], /torn\.wasm: not an mbn bundle/],
  [["inspect", BUNDLE, "--target", "c"], /^--target c is for mbn compile only/],
  [["report", f("bad.json"), "-o", f("r.html")], /bad\.json: not a JSON result \(/],
  [["report", f("s0.json"), "-o", `${NONE}/r.html`], /r\.html: cannot write \(ENOENT/],
];

describe.concurrent("bad invocations: exit code 1, one `mbn:` line on stderr, nothing on stdout", () => {
  for (const [args, want] of BAD) {
    it(`mbn ${args.map((a) => a.replace(dir, "$TMP").replace(ROOT, "")).join(" ")}`, async () => {
      const r = await mbn(args);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^mbn: /);
      expect(lines[0].slice(5)).toMatch(want);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe("");
      expect(r.status).toBe(1);
    });
  }
});

describe.concurrent("good invocations", () => {
  it("--help and --version exit 0 on stdout", async () => {
    const [h, v, ah] = await Promise.all([mbn(["--help"]), mbn(["--version"]), mbn(["attack", "--help"])]);
    expect([h.status, v.status, ah.status]).toEqual([0, 0, 0]);
    expect(h.stdout).toMatch(/^Usage: mbn /);
    expect(v.stdout.trim()).toBe("0.1.0");
    expect(ah.stdout).toMatch(/--n <n> +evaluate the first n samples \(default: 1000\)/);
  });
  it("stdout closed by its reader (mbn inspect … | head): quiet exit 0", async () => {
    for (const args of [["inspect", BUNDLE], ["inspect", BUNDLE, "--json"], ["merge", f("s0.json"), f("s1.json")]]) {
      const r = await mbn(args, { closeStdout: true });
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.status).toBe(0);
    }
  });
  it("inspect: a bundle shows the .onnx table's columns its manifest holds, says what it lacks; sizes in KiB", async () => {
    const [b, o] = await Promise.all([mbn(["inspect", BUNDLE]), mbn(["inspect", M, "--target", "simd"])]);
    expect(b.status, b.stderr).toBe(0);
    expect(o.status, o.stderr).toBe(0);
    const table = (s: string) => s.split("\n").filter((l) => /^\d+ /.test(l)).map((l) => l.split(/\s{2,}/).slice(0, 7).join("|"));
    expect(table(b.stdout).length).toBeGreaterThan(5);
    expect(table(b.stdout)).toEqual(table(o.stdout)); // #, op, node, out, M×K, MACs, BOPs
    expect(b.stdout).toMatch(/^# +op +node +out +M×K +MACs +BOPs$/m);
    expect(o.stdout).toMatch(/^# +op +node +out +M×K +MACs +BOPs +popcnts +bytes +detail$/m);
    expect(b.stdout).toMatch(/^not in the bundle: per-layer popcounts, weight bytes and detail, and the compiler's notes/m);
    const totals = (s: string) => s.split("\n").find((l) => l.startsWith("totals:"));
    expect(totals(b.stdout)).toBe(totals(o.stdout));
    for (const s of [b.stdout, o.stdout]) {
      expect(s).toMatch(/ KiB/);
      expect(s).not.toMatch(/\d(kB|KB|B stored|kB;)/);
    }
  });
  it("bench --twin: native onnxruntime-node on the float twin in the same rounds, paired ratio and twin / floor in the record", async () => {
    const r = await mbn(["bench", M, "--peers", "", "--twin", M, "--runs", "2", "--warmup", "0", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(rec.latency.map((s: { runner: string }) => s.runner)).toEqual(["mbn bundle", "onnxruntime-node, float twin", "popcount floor"]);
    expect(rec.ratios["onnxruntime-node, float twin"]).toBeGreaterThan(0);
    expect(rec.popcount_floor.peers_over_floor["onnxruntime-node, float twin"]).toBeGreaterThan(0);
    expect(rec.twin).toBe(M);
  });
  it("run: float32 as given; uint8 only with --scale 255 (= the float32 file of x/255); float64 with --as-is", async () => {
    writeFileSync(f("x8f.npy"), writeNpy({ shape: [N, 3, 20, 28], data: Float32Array.from(pixels, (v) => Math.fround(v) / 255) }));
    const runs = await Promise.all([
      mbn(["run", BUNDLE, "--input", f("x.npy"), "--output", f("y.npy")]),
      mbn(["run", BUNDLE, "--input", f("x8.npy"), "--output", f("y8.npy"), "--scale", "255"]),
      mbn(["run", BUNDLE, "--input", f("x8f.npy"), "--output", f("y8f.npy")]),
      mbn(["run", BUNDLE, "--input", f("x64.npy"), "--output", f("y64.npy"), "--as-is"]),
    ]);
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    expect(runs[0].stderr.trim()).toMatch(/^ran 4 sample\(s\) → /);
    const y = (n: string) => readNpy(readFileSync(f(n)));
    expect(y("y.npy").shape).toEqual([N, 10]);
    expect(Array.from(y("y8.npy").data)).toEqual(Array.from(y("y8f.npy").data));
    expect(Array.from(y("y64.npy").data)).toEqual(Array.from(y("y.npy").data));
  });
  it("merge: every shard once, accuracies recounted, queries and gradient statistics weighted by what they count", async () => {
    const r = await mbn(["merge", f("s1.json"), f("s0.json"), "-o", f("merged.json")]);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(f("merged.json"), "utf8"));
    expect(m.n).toBe(4);
    expect(m.offset).toBe(0);
    expect(m.shard).toBeUndefined();
    expect(m.run_n).toBeUndefined();
    expect(m.per_sample_robust).toEqual([1, 0, 0, 0]);
    expect(m.natural_acc).toBe(0.75);
    expect(m.adversarial_acc).toBe(0.25);
    expect(m.mean_queries).toBeCloseTo(8 / 3, 12); // (3·2 + 2·1) queries over 3 attacked samples
    expect(m.replica_agreement).toBe(0.75);
    // gradients: 6 in shard 0 (3 queries × 2 attacked), 2 in shard 1 (2 × 1)
    expect(m.gradient.mean_l1).toBeCloseTo((6 * 1 + 2 * 5) / 8, 12);
    expect(m.gradient.zero_fraction).toBeCloseTo((2 * 0.5) / 8, 12);
    expect(m.gradient.median_l1).toBe(1);
    expect(m.gradient.median_of_shard_medians).toBe(true);
    expect(m.gradient.masking_suspected).toBe(false);
    expect(m.seconds).toBe(2);
  });
  it("mergeShards: the same records in any order give the same merge; a shard of no attacked samples adds no gradient weight", () => {
    const a = mergeShards([{ record: shard(0) as never, source: "a" }, { record: shard(1) as never, source: "b" }]);
    const b = mergeShards([{ record: shard(1) as never, source: "b" }, { record: shard(0) as never, source: "a" }]);
    expect({ ...a, date: 0 }).toEqual({ ...b, date: 0 });
    const none = shard(1, { natural_acc: 0, per_sample_success: [0, 0], mean_queries: 0, gradient: undefined });
    expect(mergeShards([{ record: shard(0) as never, source: "a" }, { record: none as never, source: "b" }]).gradient!.mean_l1).toBe(1);
  });
  it("attack --shard i/2 twice, then merge: the same samples as one run (fgsm, 4 samples of the small fixture)", async () => {
    const data = ["--data", `npy:${f("x.npy")},${f("labels.npy")}`, "--attack", "fgsm", "--eps", "0.05", "--n", "4"];
    const [whole, a, b] = await Promise.all([
      mbn(["attack", M, ...data, "-o", f("aw.json")]),
      mbn(["attack", M, ...data, "--shard", "0/2", "-o", f("a0.json")]),
      mbn(["attack", M, ...data, "--shard", "1/2", "-o", f("a1.json"), "--json"]),
    ]);
    for (const r of [whole, a, b]) expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ shard: "1/2", run_n: 4, n: 2, offset: 2 });
    const m = await mbn(["merge", f("a0.json"), f("a1.json")]);
    expect(m.status, m.stderr).toBe(0);
    const merged = JSON.parse(m.stdout), one = JSON.parse(readFileSync(f("aw.json"), "utf8"));
    for (const k of ["n", "offset", "natural_acc", "adversarial_acc", "per_sample_robust", "per_sample_success", "mean_queries", "bundle_sha256"]) expect(merged[k], k).toEqual(one[k]);
  });
});
