// Attack-record fingerprints (harness/attacks/fingerprint.ts): the per-image hashes of what a bundle
// computes on the evaluated images and on one point of each image's ε-ball. They must tell two bundles
// apart when any output bit differs, agree across shards of one run, and probe inside the ball.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { ballPoint, fingerprint, joinFingerprints } from "../../harness/attacks/fingerprint.ts";
import { loadDataset, take } from "../../harness/data/datasets.ts";
import { loadBundle } from "../../runtime/host/loader.ts";

const MODEL = new URL("../../models/zoo/fmnist_resnet20_mbn3x1/model.onnx", import.meta.url).pathname;

describe("attack-record fingerprints", () => {
  it("the same bundle gives the same fingerprint, shards join into the whole run's, and a changed logit bit changes it", async () => {
    const bundle = await loadBundle(compile(readFileSync(MODEL), { file: MODEL }).wasm);
    const data = take(loadDataset("fashion-mnist"), 12, 40), per = bundle.inputLength;
    const whole = fingerprint(bundle, data.x, 12, 40, 0.05);
    expect(fingerprint(bundle, data.x, 12, 40, 0.05)).toEqual(whole);
    const parts = [fingerprint(bundle, data.x.subarray(0, 5 * per), 5, 40, 0.05), fingerprint(bundle, data.x.subarray(5 * per), 7, 45, 0.05)];
    expect(joinFingerprints(parts)).toEqual(whole);
    expect(joinFingerprints([parts[0], undefined])).toBeUndefined();
    // a bundle whose outputs differ in the last bit of one logit of one image: that image's hash moves
    const off = { ...bundle, run: (x: Float32Array) => {
      const y = bundle.run(x);
      const u = new Uint32Array(y.buffer, y.byteOffset, y.length);
      if (x.length === 12 * per) u[3 * bundle.outputLength + 2] ^= 1; // image 3, logit 2
      return y;
    } };
    const moved = fingerprint(off, data.x, 12, 40, 0.05);
    expect(moved.clean.filter((h, i) => h !== whole.clean[i])).toHaveLength(1);
    expect(moved.clean[3]).not.toBe(whole.clean[3]);
    expect(moved.ball.filter((h, i) => h !== whole.ball[i])).toHaveLength(1);
    // another ε probes other points
    expect(fingerprint(bundle, data.x, 12, 40, 0.1).ball).not.toEqual(whole.ball);
  });

  it("the ball point lies in the ε-ball and in [0, 1], depends on the image's index, and moves most pixels", () => {
    const x = Float32Array.from({ length: 784 }, (_, i) => (i % 7) / 6);
    const p = ballPoint(x, 17, 0.05), q = ballPoint(x, 18, 0.05);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(p[i] - x[i])).toBeLessThanOrEqual(0.05 + 1e-7);
      expect(p[i] >= 0 && p[i] <= 1).toBe(true);
    }
    expect(Array.from(p)).not.toEqual(Array.from(q));
    expect(p.filter((v, i) => Math.abs(v - x[i]) > 0.04).length).toBeGreaterThan(600);
  });
});
