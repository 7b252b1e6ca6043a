// Resize linear and cubic (ops/resize.ts: one matmul_f32 step per resized axis with a constant
// interpolation matrix) judged on the ONNX backend tests' own Resize models and expected outputs
// (Debian's libonnx-testdata; skipped where it is not installed). Those models take scales/sizes as a
// graph input, which mbn needs constant, so each test's stored scales/sizes tensor is moved into the
// graph as an initializer first; the bundle must then match the stored output (the conformance
// tolerance) and onnxruntime-node on the same rewritten model, and the replica must match the bundle.
// Also: nearest Resize still runs as an index map; what mbn does not take is one mbn: line.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { Replica } from "../../harness/replica/replica.ts";
import { loadBundle } from "../../runtime/host/loader.ts";

const { onnx } = onnxProto as unknown as { onnx: any };
const ROOT = "/usr/share/libonnx-testdata/data/node";
const RTOL = 1e-3, ATOL = 1e-5;
const num = (v: any) => Number(v);

function floats(t: any): { dims: number[]; data: Float32Array } {
  const dims = (t.dims ?? []).map(num), n = dims.reduce((p: number, d: number) => p * d, 1);
  if (t.rawData?.length) return { dims, data: new Float32Array(Uint8Array.from(t.rawData).buffer, 0, n) };
  return { dims, data: Float32Array.from(t.floatData) };
}

/** The test's model with every graph input but the first made an initializer from test_data_set_0. */
function rewritten(dir: string) {
  const m = onnx.ModelProto.decode(readFileSync(join(dir, "model.onnx")));
  const g = m.graph, set = join(dir, "test_data_set_0");
  const inputs = g.input.filter((v: any) => !(g.initializer ?? []).some((t: any) => t.name === v.name));
  inputs.slice(1).forEach((v: any, i: number) => {
    const t = onnx.TensorProto.decode(readFileSync(join(set, `input_${i + 1}.pb`)));
    t.name = v.name;
    g.initializer.push(t);
  });
  g.input = inputs.slice(0, 1);
  const x = floats(onnx.TensorProto.decode(readFileSync(join(set, "input_0.pb"))));
  const want = floats(onnx.TensorProto.decode(readFileSync(join(set, "output_0.pb"))));
  return { bytes: onnx.ModelProto.encode(m).finish() as Uint8Array, name: inputs[0].name as string, x, want };
}

const within = (got: ArrayLike<number>, want: ArrayLike<number>) => Array.from(want).every((w, i) => Math.abs(got[i] - w) <= ATOL + RTOL * Math.abs(w));

const tests = existsSync(ROOT) ? readdirSync(ROOT).filter((d) => /^test_resize_|^test_upsample_/.test(d)).sort() : [];
// read differently by onnxruntime and the ONNX reference (mbn refuses), or not supported
const REFUSED: Record<string, RegExp> = {
  test_resize_downsample_scales_cubic_align_corners: /align_corners with scale 0\.8.* read differently/,
  test_resize_downsample_scales_linear_align_corners: /align_corners with scale 0\.6.* read differently/,
  test_resize_tf_crop_and_resize: /tf_crop_and_resize' is not supported/,
};

describe.skipIf(!tests.length)("Resize on the ONNX backend tests' models (scales/sizes made constant)", () => {
  for (const t of tests)
    it(t, async () => {
      const { bytes, name, x, want } = rewritten(join(ROOT, t));
      if (REFUSED[t]) {
        expect(() => compile(bytes, { file: `${t}.onnx` })).toThrow(REFUSED[t]);
        return;
      }
      const res = compile(bytes, { file: `${t}.onnx` });
      const bundle = await loadBundle(res.wasm);
      const got = bundle.run(x.data);
      expect(got.length).toBe(want.data.length);
      expect(within(got, want.data)).toBe(true);
      const sess = await ort.InferenceSession.create(bytes);
      const out = await sess.run({ [name]: new ort.Tensor("float32", x.data, x.dims) });
      await sess.release();
      expect(within(got, out[Object.keys(out)[0]].data as Float32Array)).toBe(true);
      const replica = (await Replica.build(res.plan)).logits(x.data, 1);
      expect(Array.from(replica)).toEqual(Array.from(got));
      const interp = /linear|cubic/.test(t) && !/nearest/.test(t);
      expect(res.plan.steps.some((s) => s.op === (interp ? "MatMul" : "IndexMap"))).toBe(true);
    });
});
