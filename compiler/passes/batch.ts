// Pass: the batch axis. mbn's plan runs one sample; a model exported with a fixed batch N > 1 (no
// dynamic axes) is compiled for one sample and run N times per mbn_run. That is only sound when the
// graph treats its first axis as a batch — every sample computed alone. So the pass
//  1. builds the one-sample graph: input [1, …], and Reshape shape constants that spell the batch
//     (first entry N where the tensor's first axis is N) rewritten to 1;
//  2. checks shapes: every float tensor is [N, …] at batch N and [1, …] (same rest) for one sample;
//  3. checks values: the reference interpreter on N deterministic random samples at once equals,
//     bit for bit, N one-sample runs (a reduction, transpose or reshape across samples differs).
// A fixed batch that fails is refused with one line; never sample 0 alone. A symbolic batch axis is
// checked by rule while lowering (passes/lower.ts `mixesSamples`: reshapes, flattens, squeezes and
// softmax axes that reach the first axis), without running the model again; where it does not hold,
// the model is compiled for batch 1 and the plan notes say why.
import { CompileError, fail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { tensor, type Tensor } from "../ir/tensor.ts";
import { run } from "../reference/interpret.ts";

export interface Batched {
  graph: Graph; // the one-sample graph (the input unchanged when its batch is 1 or symbolic)
  batch: number; // samples per mbn_run
  dynamic: boolean; // the batch axis is symbolic (lowering checks that samples stay independent)
  note?: string; // a fixed batch whose samples are not independent: compiled whole, as one input
}

const seededUniform = (n: number, seed: number): number[] => {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 * 2 - 1);
};

function sameBits(a: Tensor, b: Tensor, offset: number): boolean {
  for (let i = 0; i < b.data.length; i++) {
    const x = a.data[offset + i], y = b.data[i];
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) return false;
  }
  return true;
}

export function splitBatch(g: Graph): Batched {
  const inp = g.inputs[0];
  if (inp.shape.length === 0) return { graph: g, batch: 1, dynamic: false };
  const d0 = inp.shape[0];
  if (inp.shape.slice(1).some((d) => typeof d !== "number")) return { graph: g, batch: 1, dynamic: false }; // refused by inputShape
  if (typeof d0 !== "number") return { graph: g, batch: 1, dynamic: true };
  if (d0 <= 1) return { graph: g, batch: 1, dynamic: false };
  try {
    return { graph: oneSample(g, d0), batch: d0, dynamic: false };
  } catch (e) {
    // samples that are not independent: the whole [N, …] input is the one input of the plan (every
    // step that needs [1, C, …] refuses other first axes, so nothing runs sample 0 alone)
    if (!(e instanceof CompileError)) throw e;
    return { graph: g, batch: 1, dynamic: false, note: `${e.message.replace(/; mbn runs one sample.*$/, "")}: compiled whole, mbn_run takes all ${d0} samples of [${inp.shape}] as one input` };
  }
}

/** The one-sample graph of g run at a fixed batch N, or a refusal naming why samples are not independent. */
function oneSample(g: Graph, N: number): Graph {
  const inp = g.inputs[0], file = g.file;
  const refuse = (why: string, node?: { name: string; op: string }): never =>
    fail(`fixed batch ${N}: ${why}; mbn runs one sample at a time (export with a dynamic batch axis, or batch 1)`, { file, node: node?.name, op: node?.op });
  const shape = [N, ...(inp.shape.slice(1) as number[])];
  const per = shape.slice(1).reduce((p, d) => p * d, 1);
  const xN = tensor("float", shape, seededUniform(N * per, 20261201));
  const envN = run(g, new Map([[inp.name, xN]]));
  const outName = g.outputs[0].name;
  const yN = envN.get(outName) ?? g.consts.get(outName);
  if (!yN || yN.shape[0] !== N) return refuse(`the output [${yN?.shape ?? "?"}] does not keep the batch as its first axis`);

  // one-sample graph: batch-spelling Reshape constants rewritten
  const consts = new Map(g.consts);
  const nodes = g.nodes.map((n) => {
    if (n.op !== "Reshape") return n;
    const s = consts.get(n.inputs[1]), x = envN.get(n.inputs[0]);
    if (!s || !x || s.data[0] !== N || x.shape[0] !== N) return n;
    const name = `${n.inputs[1]}/one_sample`;
    consts.set(name, tensor("int", s.shape, [1, ...Array.from(s.data).slice(1)]));
    return { ...n, inputs: [n.inputs[0], name, ...n.inputs.slice(2)] };
  });
  const g1: Graph = { ...g, consts, nodes, inputs: [{ ...inp, shape: [1, ...shape.slice(1)] }, ...g.inputs.slice(1)] };

  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  for (let b = 0; b < N; b++) {
    const x1 = tensor("float", [1, ...shape.slice(1)], xN.data.subarray(b * per, (b + 1) * per));
    let env1: Map<string, Tensor>;
    try {
      env1 = run(g1, new Map([[inp.name, x1]]));
    } catch (e) {
      if (e instanceof CompileError) return refuse(`one sample alone does not run (${e.message})`);
      throw e;
    }
    if (b === 0)
      for (const [name, t1] of env1) {
        const tN = envN.get(name);
        if (!tN || t1.dtype !== "float" || name === inp.name) continue;
        if (t1.shape[0] !== 1 || tN.shape.join() !== [N, ...t1.shape.slice(1)].join())
          refuse(`'${name}' is [${tN.shape}] for ${N} samples but [${t1.shape}] for one (its first axis is not the batch)`, producer.get(name));
      }
    const y1 = env1.get(outName)!;
    if (!sameBits(yN, y1, b * y1.data.length)) refuse(`sample ${b} computed alone differs from the same sample among ${N} (the graph mixes samples)`);
  }
  return g1;
}
