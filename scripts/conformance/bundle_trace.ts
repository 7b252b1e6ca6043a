// Conformance: the bundle's own quantized tensors, read back from its linear memory. The bundle runs
// one sample step by step (Bundle.trace); after the step that writes a packed-bit value (a quantizer's
// output feeding a binary layer), the value's planes are unpacked (compiler/pack/bits.ts convention:
// [plane][pixel][word], channels-last) and each pixel's plane bits are mapped back to the quantizer's
// level (QuantSpec.lut, levels) — giving the ONNX tensor the bundle computed, in ONNX order. The tie
// adjudicator (f64_oracle.ts) checks each such tensor against bounds computed from the bundle's own
// inputs to that layer, so a tie decided one way upstream does not widen every bound downstream.
import type { CompileResult } from "../../compiler/pipeline.ts";
import type { QuantSpec } from "../../compiler/ir/plan.ts";
import { stepWrites } from "../../compiler/ir/plan.ts";
import { unpackBits, wordsFor } from "../../compiler/pack/bits.ts";
import type { Bundle } from "../../runtime/host/loader.ts";

/** ONNX tensor name → its values in ONNX order (one sample), for every packed-bit value the bundle writes. */
export function quantizedTensors(res: CompileResult, bundle: Bundle, x: Float32Array): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  bundle.trace(x, (i, memory) => {
    const s = res.plan.steps[i];
    for (const id of stepWrites(s)) {
      const v = res.plan.values[id];
      if (v.kind !== "bits") continue;
      const q: QuantSpec | undefined = s.op === "BitQuantize" ? s.quant : "epi" in s ? s.epi.quant : undefined;
      const at = res.addresses.get(id);
      if (!q || at === undefined) throw new Error(`trace: step ${i} (${s.op} ${s.node}) writes bits '${v.name}' without a quantizer or an address`);
      const c = v.shape[1], pix = v.shape.slice(2).reduce((p, d) => p * d, 1), P = v.planes;
      const bits = P ? unpackBits(new Uint8Array(memory, at, P * pix * wordsFor(c) * 8), P, pix, c) : new Uint8Array(0);
      const level = new Map<number, number>(Array.from(q.lut, (mask, k) => [mask, q.levels[k]]));
      const y = new Float64Array(c * pix);
      for (let p = 0; p < pix; p++)
        for (let ch = 0; ch < c; ch++) {
          let mask = 0;
          for (let k = 0; k < P; k++) mask |= bits[(k * pix + p) * c + ch] << k;
          const lv = level.get(mask);
          if (lv === undefined) throw new Error(`trace: '${v.name}' pixel ${p} channel ${ch} holds plane bits ${mask}, which no level has`);
          y[ch * pix + p] = lv; // channels-last → ONNX order
        }
      out.set(v.name, y);
    }
  });
  return out;
}
