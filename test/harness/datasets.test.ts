// Dataset readers: the bundled Fashion-MNIST split, IDX, CIFAR-10 binary batches (a small synthetic
// file in the real format) and NumPy pairs; bad files give clear errors.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError, loadDataset } from "../../harness/data/datasets.ts";
import { readNpy, writeNpy } from "../../harness/data/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "mbn-data-"));

describe("datasets", () => {
  it("bundled Fashion-MNIST test split: 10 000 images 1×28×28 in [0, 1]", () => {
    const d = loadDataset("fashion-mnist");
    expect(d.n).toBe(10000);
    expect(d.shape).toEqual([1, 28, 28]);
    expect(Math.max(...d.x.subarray(0, 784))).toBeLessThanOrEqual(1);
    expect(Array.from(d.y.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });
  it("CIFAR-10 binary batch (synthetic, real format: label byte + 3072 pixel bytes, CHW)", () => {
    const n = 3, rec = new Uint8Array(n * 3073);
    for (let i = 0; i < n; i++) {
      rec[i * 3073] = i + 4;
      rec[i * 3073 + 1] = 255; // R channel, pixel (0,0)
      rec[i * 3073 + 1 + 1024] = 51; // G channel, pixel (0,0)
    }
    const cdir = mkdtempSync(join(dir, "cifar-"));
    writeFileSync(join(cdir, "test_batch.bin"), rec);
    const d = loadDataset(`cifar10:${cdir}`);
    expect(d.shape).toEqual([3, 32, 32]);
    expect(Array.from(d.y)).toEqual([4, 5, 6]);
    expect(d.x[0]).toBe(1);
    expect(d.x[1024]).toBeCloseTo(0.2, 6);
    writeFileSync(join(cdir, "test_batch.bin"), rec.subarray(0, 3000));
    expect(() => loadDataset(`cifar10:${cdir}`)).toThrow(/not a whole number of CIFAR-10 records/);
  });
  it("IDX files (gzip or raw) and npy pairs", () => {
    const img = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 128, 0, 1, 2, 3, 4]);
    const lab = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]);
    writeFileSync(join(dir, "i.gz"), gzipSync(img));
    writeFileSync(join(dir, "l"), lab);
    const d = loadDataset(`idx:${join(dir, "i.gz")},${join(dir, "l")}`);
    expect(d.n).toBe(2);
    expect(Array.from(d.y)).toEqual([7, 3]);
    expect(d.x[1]).toBe(1);
    writeFileSync(join(dir, "x.npy"), writeNpy({ shape: [2, 1, 2, 2], data: d.x }));
    writeFileSync(join(dir, "y.npy"), writeNpy({ shape: [2], data: Float32Array.from(d.y) }));
    const e = loadDataset(`npy:${join(dir, "x.npy")},${join(dir, "y.npy")}`);
    expect(Array.from(e.x)).toEqual(Array.from(d.x));
    expect(readNpy(writeNpy({ shape: [3], data: new Float32Array([1, 2, 3]) })).shape).toEqual([3]);
  });
  it("clear errors", () => {
    expect(() => loadDataset("mnist")).toThrow(DataError);
    expect(() => loadDataset(`idx:${join(dir, "nope")},${join(dir, "l")}`)).toThrow(/no such file/);
    writeFileSync(join(dir, "bad.npy"), "junk");
    expect(() => readNpy(new Uint8Array([1, 2, 3]), "bad.npy")).toThrow(/not a NumPy \.npy file/);
  });
});
