// Pass: static memory plan. Values live from the step that writes them to the last step that
// reads them; buffers are placed first-fit in one arena and reused once dead (a step's output never
// overlaps its own inputs). Input and output are pinned ABI buffers outside the arena. Every buffer
// gets 16 spare bytes because kernels may over-read up to 16 bytes past a buffer end.
import type { Plan, ValueId } from "../ir/plan.ts";
import { stepReads, stepWrites, valueBytes } from "../ir/plan.ts";

export interface MemoryPlan {
  offset: Map<ValueId, number>; // arena offset of every non-pinned value the steps touch
  arenaBytes: number;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

export function planMemory(plan: Plan): MemoryPlan {
  const last = new Map<ValueId, number>();
  plan.steps.forEach((s, i) => stepReads(s).forEach((v) => last.set(v, i)));
  const live: { v: ValueId; at: number; size: number }[] = [];
  const offset = new Map<ValueId, number>();
  let arenaBytes = 0;
  plan.steps.forEach((s, i) => {
    const writes = stepWrites(s); // the output, and an epilogue's float copy (each placed apart from the other)
    for (const w of writes) {
      const out = plan.values[w];
      if (out.pinned || offset.has(w)) continue;
      const size = align(valueBytes(out) + 16);
      live.sort((a, b) => a.at - b.at);
      let at = 0;
      for (const b of live) {
        if (at + size <= b.at) break;
        at = Math.max(at, b.at + b.size);
      }
      live.push({ v: w, at, size });
      offset.set(w, at);
      arenaBytes = Math.max(arenaBytes, at + size);
    }
    // free what this step read for the last time (after placing its outputs)
    for (let k = live.length - 1; k >= 0; k--) {
      const v = live[k].v;
      if ((last.get(v) ?? -1) <= i && !writes.includes(v)) live.splice(k, 1);
    }
    for (const w of writes)
      if ((last.get(w) ?? -1) < i) {
        const k = live.findIndex((b) => b.v === w);
        if (k >= 0) live.splice(k, 1);
      }
  });
  return { offset, arenaBytes };
}
