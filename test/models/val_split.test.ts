// The training recipe's validation split (models/train/data.py split_validation, train.py --val, meta_from_logs):
// runs test/models/val_split_check.py — a real two-stage train.py run on a tiny synthetic dataset whose
// held-out images carry an out-of-range label, so training on one of them cannot finish — where a Python
// with PyTorch is found ($MBN_PYTHON, python3, /usr/bin/python3); npm test does not need PyTorch: without
// it the test is skipped and says why.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const candidates = [process.env.MBN_PYTHON, "python3", "/usr/bin/python3"].filter(Boolean) as string[];
const python = candidates.find((p) => spawnSync(p, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0);
if (!python) console.log(`val_split.test.ts skipped: no Python with torch and onnx among ${candidates.join(", ")} (set MBN_PYTHON)`);

describe("training recipe: the validation split", () => {
  it.skipIf(!python)("held-out images are never trained on; the test split is read once; the logs rebuild the record", () => {
    const scratch = mkdtempSync(join(tmpdir(), "mbn-val-"));
    try {
      const out = execFileSync(python!, ["test/models/val_split_check.py", scratch], { cwd: ROOT, encoding: "utf8" });
      expect(out).toMatch(/all checks passed\n$/);
    } catch (e: any) {
      throw new Error(`val_split_check.py failed:\n${e.stdout ?? ""}${e.stderr?.slice(-2000) ?? ""}`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 300_000);
});
