// Compiler: the stages, top to bottom, one line each. ONNX bytes → Graph (several inputs joined into one) → folded Graph (1-D convs
// and pools as 2-D) → one-sample Graph → shapes → Plan → fused Plan → memory plan → blob → bundle. Options are explicit; no environment reads.
import kernelList from "../runtime/kernels.json" with { type: "json" };
import { createHash } from "node:crypto";
import { CompileError } from "./errors.ts";
import { buildBundle } from "./emit/bundle.ts";
import { pruneRuntime, type FunctionTable } from "./emit/prune.ts";
import { emitBlob, FORMAT_VERSION } from "./emit/blob.ts";
import { loadOnnx } from "./onnx/load.ts";
import { splitBatch } from "./passes/batch.ts";
import { joinInputs } from "./passes/join_inputs.ts";
import { JOINED_OUTPUT, joinOutputs, outputParts } from "./passes/join_outputs.ts";
import { verifyGraph, verifyPlan } from "./passes/verify.ts";
import { expandFunctions } from "./passes/expand_functions.ts";
import { resolveSequences } from "./passes/sequences.ts";
import { foldConstants } from "./passes/fold_constants.ts";
import { lift1d } from "./passes/lift_1d.ts";
import { fuseEpilogues, type FuseOptions } from "./passes/fuse_epilogues.ts";
import { inferShapes, inputShape } from "./passes/infer_shapes.ts";
import { lower } from "./passes/lower.ts";
import { planMemory } from "./passes/plan_memory.ts";
import { printPlan } from "./ir/print.ts";
import { buildReport, type CompileReport } from "./report.ts";
import type { Plan } from "./ir/plan.ts";
import type { Graph } from "./ir/graph.ts";

export type Target = "simd" | "scalar";
export const RUNTIME_VERSION = "0.1.0";

export interface CompileOptions {
  target: Target;
  /** The prebuilt runtime module for the target and its mbn_blob_base(); `extended`: with the float fallback's extended math. */
  runtime: (extended: boolean) => Runtime;
  /** Keep every runtime function in the bundle (default: only those the plan reaches, emit/prune.ts; tests compare both). */
  wholeRuntime?: boolean;
  file?: string; // for error messages
  dumpAfter?: (pass: string, text: string) => void; // IR dumps for golden tests
  fuse?: FuseOptions; // epilogue fusion rules (tests and A/B benchmarks compare plans with and without one)
}

/** A prebuilt runtime: its bytes, mbn_blob_base(), and its function table (without one, the bundle keeps every function). */
export interface Runtime {
  bytes: Uint8Array;
  base: number;
  funcs?: FunctionTable;
}

export interface CompileResult {
  wasm: Uint8Array;
  report: CompileReport;
  plan: Plan;
  graph: Graph; // the folded one-sample ONNX-level graph the plan was lowered from
  addresses: Map<number, number>; // plan value id → its byte address in the bundle's linear memory (Bundle.trace)
}

const EXTENDED = new Set(kernelList.elementwise_extended.map((op) => kernelList.elementwise_ops.indexOf(op)));

/** Whether a float elementwise program uses an opcode only the -ext runtimes have (kernels.json). */
export function usesExtendedMath(plan: Plan): boolean {
  return plan.steps.some((s) => s.op === "Elementwise" && s.prog.code.some((v, i) => i % 5 === 0 && EXTENDED.has(v)));
}

/** A one-sample shape with the batch it runs at (first axis N for a fixed batch N > 1). */
const batchShape = (shape: number[], batch: number) => (batch > 1 ? [batch, ...shape.slice(1)] : shape);

export function compilePipeline(onnx: Uint8Array, o: CompileOptions): CompileResult {
  const t0 = performance.now();
  const file = o.file ?? "<model>";
  try {
    const loaded = resolveSequences(joinInputs(loadOnnx(onnx, file)));
    // one-sample graph and shapes; several outputs are first joined keeping their shared first axis,
    // which must be 1 per sample (a batch) for the outputs to lie end to end, else joined whole
    const front = (keepFirst: boolean) => {
      const imported = joinOutputs(loaded, keepFirst);
      const expanded = expandFunctions(imported);
      verifyGraph(expanded, "import");
      const split = splitBatch(lift1d(foldConstants(expanded)));
      verifyGraph(split.graph, "folding, 1-D lifting and batch splitting");
      return { imported, ...split, shapes: inferShapes(split.graph) };
    };
    let f = front(true);
    if (f.imported.outputNames && f.shapes.get(JOINED_OUTPUT)?.shape[0] !== 1) f = front(false);
    const { imported, graph: folded, batch, dynamic: symbolic, note, shapes } = f;
    const shape = inputShape(folded);
    const lowered = lower(folded, shapes, shape, batch);
    const outParts = outputParts(folded, shapes);
    // a symbolic batch axis holds if no step mixes samples; else the bundle claims batch 1 only
    const dynamic = symbolic && !lowered.mixesSamples.length;
    if (note) lowered.notes.push(note);
    if (symbolic && !dynamic) lowered.notes.push(`compiled for batch 1 although the batch axis is symbolic: ${lowered.mixesSamples.join("; ")}`);
    o.dumpAfter?.("lower", printPlan(lowered));
    verifyPlan(lowered, "lowering", file);
    const plan = fuseEpilogues(lowered, o.fuse);
    o.dumpAfter?.("fuse", printPlan(plan));
    verifyPlan(plan, "epilogue fusion", file);
    const mem = planMemory(plan);
    const rt = o.runtime(usesExtendedMath(plan));
    const blob = emitBlob(plan, mem, rt.base, o.target === "simd");
    const sha = createHash("sha256").update(blob.image).digest("hex");
    const report0 = buildReport(plan, file, o.target, mem.arenaBytes, blob.memEnd, 0, 0);
    const manifest = {
      format_version: FORMAT_VERSION, runtime_version: RUNTIME_VERSION, target: o.target, extended_math: usesExtendedMath(plan),
      input: { name: plan.inputName, shape: batchShape(plan.inputShape, batch) },
      // where each model input lies in the input buffer (several inputs: passes/join_inputs.ts)
      inputs: imported.inputParts ?? [{ name: plan.inputName, shape: batchShape(plan.inputShape, batch), offset: 0 }],
      output: { name: plan.outputName, shape: batchShape(plan.outputShape, batch) },
      // where each model output lies in the output buffer (several outputs: passes/join_outputs.ts)
      outputs: outParts ?? [{ name: plan.outputName, shape: batchShape(plan.outputShape, batch), offset: 0 }],
      batch, dynamic_batch: dynamic,
      blob_sha256: sha, blob_base: blob.base, blob_bytes: blob.image.length, memory_bytes: blob.memEnd,
      totals: report0.totals,
      layers: report0.layers.map((l) => ({ node: l.node, op: l.op, out: l.out, planes: l.planes, macs: l.macs, bops: l.bops })),
    };
    const runtime = rt.funcs && !o.wholeRuntime ? pruneRuntime(rt.bytes, rt.funcs, blob.needs).wasm : rt.bytes;
    const wasm = buildBundle(runtime, blob, manifest);
    const report = buildReport(plan, file, o.target, mem.arenaBytes, blob.memEnd, wasm.length, performance.now() - t0);
    return { wasm, report, plan, graph: folded, addresses: blob.addresses };
  } catch (e) {
    if (e instanceof CompileError) {
      if (!e.where.file) e.where.file = file;
      throw e;
    }
    throw new CompileError(`internal compiler error: ${(e as Error).message}`, { file });
  }
}
