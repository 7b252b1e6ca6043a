// Pass: fuse per-channel transforms into the producing kernel's epilogue (DESIGN.md §3):
//  1. Affine (BatchNorm, bias, residual Add, Relu/Clip) after a Conv/BitConv/Gemm/Affine whose output
//     it alone reads. Composition: E1 = (s1, b1, no res, no act) then E2 = (s2, b2, r2, act2) gives
//       act2((acc·s1 + b1)·s2 + b2 + r2) = act2(acc·(s1·s2) + (b1·s2 + b2) + r2);
//     an E2 that is only an activation also fuses after an E1 with a residual.
//  2. BitQuantize after such a producer: the producer packs its output for the next binary layer.
//     Where other steps read the float value too (a residual block's output is both the next block's
//     input, quantized, and its shortcut), the producer stores the float row and packs that same row
//     (Epilogue.fout): one pass instead of a conv then a quantize step over the stored map, and the
//     packed bits are those of the same floats, so the outputs do not change (option `dual`).
//  3. The final copy to the output buffer: the producer writes there directly.
// Returns a new Plan; the input plan is not modified.
import type { Epilogue, Plan, Step, ValueId } from "../ir/plan.ts";
import { stepReads } from "../ir/plan.ts";

type WithEpi = Extract<Step, { epi: Epilogue }>;
const hasEpi = (s: Step): s is WithEpi => "epi" in s;

function compose(e1: Epilogue, e2: Epilogue): Epilogue | undefined {
  if (e1.quant || e1.act !== 0) return undefined;
  const onlyAct = !e2.scale && !e2.bias && e2.res === undefined;
  if (onlyAct) return { ...e1, act: e2.act, lo: e2.lo, hi: e2.hi };
  if (e1.res !== undefined) return undefined;
  const c = e1.c;
  const scale = e1.scale || e2.scale ? Float32Array.from({ length: c }, (_, i) => Math.fround((e1.scale?.[i] ?? 1) * (e2.scale?.[i] ?? 1))) : undefined;
  const bias = e1.bias || e2.bias
    ? Float32Array.from({ length: c }, (_, i) => Math.fround(Math.fround((e1.bias?.[i] ?? 0) * (e2.scale?.[i] ?? 1)) + (e2.bias?.[i] ?? 0)))
    : undefined;
  return { c, scale, bias, res: e2.res, act: e2.act, lo: e2.lo, hi: e2.hi };
}

export interface FuseOptions {
  dual?: boolean; // rule 2 for float values with other readers (default true; false: the plan before issue 16)
}

export function fuseEpilogues(plan: Plan, o: FuseOptions = {}): Plan {
  const dual = o.dual ?? true;
  let steps = plan.steps.map((s) => ({ ...s })) as Step[];
  for (let changed = true; changed; ) {
    changed = false;
    const readers = new Map<ValueId, number>();
    for (const s of steps) for (const r of stepReads(s)) readers.set(r, (readers.get(r) ?? 0) + 1);
    const producerAt = new Map<ValueId, number>();
    steps.forEach((s, i) => producerAt.set(s.out, i));
    for (let i = 0; i < steps.length && !changed; i++) {
      const s = steps[i];
      const pi = producerAt.get(s.in);
      if (pi === undefined) continue;
      const p = steps[pi];
      if (!hasEpi(p) || plan.values[s.in].pinned) continue;
      if (readers.get(s.in) !== 1) {
        if (dual && s.op === "BitQuantize" && !p.epi.quant && p.epi.c === s.c) {
          const f = { ...p, epi: { ...p.epi, quant: s.quant, fout: s.in }, out: s.out } as Step;
          steps = steps.filter((_, k) => k !== i).map((x, k) => (k === pi ? f : x));
          changed = true;
        }
        continue;
      }
      let fused: Step | undefined;
      if (s.op === "Affine" && s.epi.c === p.epi.c) { // (a reshape between them can regroup the channels)
        const resAt = s.epi.res !== undefined ? producerAt.get(s.epi.res) ?? -1 : -1;
        const e = resAt < pi ? compose(p.epi, s.epi) : undefined;
        if (e) fused = { ...p, epi: e, out: s.out } as Step;
      } else if (s.op === "BitQuantize" && !p.epi.quant && p.epi.c === s.c) {
        fused = { ...p, epi: { ...p.epi, quant: s.quant }, out: s.out } as Step;
      } else if (s.op === "Output" && s.c === 1 && !p.epi.quant) {
        fused = { ...p, out: s.out } as Step;
      }
      if (fused) {
        steps = steps.filter((_, k) => k !== i).map((x, k) => (k === pi ? fused! : x));
        changed = true;
      }
    }
  }
  return { ...plan, steps };
}
