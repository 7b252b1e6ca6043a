// Fuzzing: mutations of real ONNX files — byte flips, truncations, splices, and structural ones
// (absurd dimensions, cycles, missing initializers, huge attribute values, foreign opsets) — and the
// verdict for one case: compiled, or a one-line CompileError that is not an internal error.
import onnxProto from "onnx-proto";
import { compile, CompileError } from "../../compiler/index.ts";

const { onnx } = onnxProto as unknown as { onnx: any };

export { rng } from "../../harness/rng.ts";

const pick = <T>(r: () => number, a: T[]): T => a[Math.floor(r() * a.length)];

function structural(bytes: Uint8Array, r: () => number): [string, Uint8Array] {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  const kind = pick(r, ["dims", "cycle", "drop-init", "attr", "opset", "rename-input", "dup-output", "op"]);
  switch (kind) {
    case "dims": {
      const t = pick(r, g.initializer) as any;
      if (t) t.dims = t.dims.map(() => pick(r, [0, 1, 7, 1e6, 2 ** 31 - 1, -3]));
      break;
    }
    case "cycle": {
      if (g.node.length > 2) {
        const i = Math.floor(r() * (g.node.length - 1)), j = i + 1 + Math.floor(r() * (g.node.length - i - 1));
        g.node[i].input[0] = g.node[j].output[0];
      }
      break;
    }
    case "drop-init": g.initializer.splice(Math.floor(r() * g.initializer.length), 1); break;
    case "attr": {
      const n = pick(r, g.node.filter((x: any) => x.attribute?.length)) as any;
      if (n) {
        const a = pick(r, n.attribute) as any;
        if (a.ints?.length) a.ints = a.ints.map(() => pick(r, [0, -1, 1e9, 2 ** 40]));
        else a.i = pick(r, [0, -5, 1e12]);
        a.f = pick(r, [NaN, Infinity, -1e30]);
      }
      break;
    }
    case "opset": m.opsetImport[0].version = pick(r, [1, 9, 10, 22, 99]); break;
    case "rename-input": if (g.node.length) g.node[Math.floor(r() * g.node.length)].input[0] = "ghost"; break;
    case "dup-output": if (g.node.length > 1) g.node[1].output[0] = g.node[0].output[0]; break;
    case "op": if (g.node.length) g.node[Math.floor(r() * g.node.length)].opType = pick(r, ["Conv", "Gemm", "Loop", "NoSuchOp", "Reshape", "Gather"]); break;
  }
  return [`struct:${kind}`, onnx.ModelProto.encode(m).finish()];
}

export function mutate(bytes: Uint8Array, other: Uint8Array, r: () => number): [string, Uint8Array] {
  const kind = pick(r, ["flip", "flip", "truncate", "splice", "struct", "struct", "struct"]);
  if (kind === "struct") {
    try {
      return structural(bytes, r);
    } catch {
      return ["struct:undecodable", bytes];
    }
  }
  const b = bytes.slice();
  if (kind === "flip") {
    const k = 1 + Math.floor(r() * 8);
    for (let i = 0; i < k; i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    return ["flip", b];
  }
  if (kind === "truncate") return ["truncate", b.subarray(0, Math.floor(r() * b.length))];
  const at = Math.floor(r() * b.length), from = Math.floor(r() * other.length), len = Math.floor(r() * 4096);
  const out = new Uint8Array(b.length + Math.min(len, other.length - from));
  out.set(b.subarray(0, at));
  out.set(other.subarray(from, from + len), at);
  out.set(b.subarray(at), at + Math.min(len, other.length - from));
  return ["splice", out];
}

export interface Verdict { ok: boolean; outcome: "compiled" | "error"; line?: string; problem?: string; ms: number }

export function runCase(bytes: Uint8Array, file: string, limitMs: number): Verdict {
  const t0 = performance.now();
  let v: Verdict;
  try {
    compile(bytes, { file });
    v = { ok: true, outcome: "compiled", ms: 0 };
  } catch (e) {
    if (!(e instanceof CompileError)) v = { ok: false, outcome: "error", problem: `uncaught ${(e as Error)?.name}: ${(e as Error)?.message}`, ms: 0 };
    else {
      const line = e.line();
      const bad = /\n/.test(line) ? "multi-line message" : /internal compiler error/.test(line) ? "internal compiler error" : undefined;
      v = { ok: !bad, outcome: "error", line, problem: bad, ms: 0 };
    }
  }
  v.ms = performance.now() - t0;
  if (v.ms > limitMs) {
    v.ok = false;
    v.problem = `took ${v.ms.toFixed(0)} ms (limit ${limitMs})`;
  }
  return v;
}
