// The model zoo: every model in models/zoo/manifest.json compiles, its bundle reproduces PyTorch's
// own outputs on the shipped test_data, with onnxruntime-node and onnxruntime-web on the same
// model.onnx as further oracles (same tolerance and tie rule as the compiler tests), and the
// recorded full-test-set accuracy of the bundle is within 0.1pp of PyTorch's on the same weights.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { readNpy } from "../../harness/data/npy.ts";
import { agreement, ortOracles, summary } from "../helpers/oracle.ts";

const ZOO = new URL("../../models/zoo/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(ZOO + "manifest.json", "utf8"));

describe("model zoo", () => {
  it("manifest lists the required models with the documented fields", () => {
    for (const m of manifest.models)
      for (const k of ["name", "file", "dataset", "arch", "weight_bases", "act_bases", "fixed_point_bits", "adversarial_training", "epochs", "natural_acc", "train_seconds", "bops", "ops"])
        expect(m, `${m.name}.${k}`).toHaveProperty(k);
  });
  for (const m of manifest.models)
    it(`${m.name}: bundle = PyTorch on test_data; recorded accuracy within 0.1pp of PyTorch`, async () => {
      const file = ZOO + m.file;
      expect(existsSync(file)).toBe(true);
      const onnx = readFileSync(file);
      const res = compile(onnx, { file });
      const bundle = await loadBundle(res.wasm);
      const x = readNpy(readFileSync(ZOO + `${m.name}/test_data/input.npy`));
      const want = readNpy(readFileSync(ZOO + `${m.name}/test_data/output.npy`));
      const ort = await ortOracles(onnx, x.data, x.shape.slice(1));
      const a = agreement(res, x.data, bundle.run(x.data), { pytorch: want.data, ...ort }, x.shape[0]);
      console.log(summary(m.name, a));
      expect(a.unexplained).toEqual([]);
      expect(a.excused.length).toBeLessThanOrEqual(a.cap);
      expect(a.maxRel).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(m.natural_acc - m.torch_acc)).toBeLessThanOrEqual(0.001);
      if (m.weight_bases) expect(res.report.layers.filter((l) => l.op === "BitConv").every((l) => l.planes === `${m.weight_bases}×${m.act_bases}`)).toBe(true);
    });
});
