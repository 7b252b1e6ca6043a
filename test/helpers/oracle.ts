// Test helpers: deterministic inputs and the comparison of bundle outputs with oracles.
//
// The rule (README "Exactness"): a sample passes when it is within tolerance of ANY oracle —
// max|Δ| ≤ tol·max|oracle output| and the same argmax (onnxruntime-node and onnxruntime-web are two
// correct float32 implementations with different summation orders; a stored PyTorch/NumPy output is
// a third). A sample beyond every oracle is excused as a threshold tie only with evidence: a named
// quantizer input (tensor, element, relative distance ≤ TIE_DISTANCE to a threshold, among the
// TIE_CANDIDATES closest) such that flipping that ONE decision in the float32 reference run
// (compiler/reference/interpret.ts on the folded graph) accounts for the whole difference: of the
// reference run and the run with that element moved across its threshold, one matches the bundle
// and the other matches an oracle, both within tolerance. At most ceil(n/16) samples may be excused;
// maxRel is taken over every sample that is not excused (an unexplained one included).
import type { CompileResult } from "../../compiler/pipeline.ts";
import type { QuantSpec } from "../../compiler/ir/plan.ts";
import { tensor, type Tensor } from "../../compiler/ir/tensor.ts";
import { run } from "../../compiler/reference/interpret.ts";

export function uniformInputs(n: number, per: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * per }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
}

export const argmax = (a: ArrayLike<number>) => {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
};

/**
 * A quantizer input may be called a tie only this close to a threshold, relative to its tensor's
 * max |x| (~10 float32 ulps: summation order moves a conv output by a few; the ties seen on the
 * fixtures and zoo models lie at 2e-9…2e-7).
 */
export const TIE_DISTANCE = 1e-6;
/** How many of a sample's closest quantizer inputs are tried as the one flipped decision. */
export const TIE_CANDIDATES = 8;
/** Samples that may be excused as ties: one in 16. */
export const tieCap = (n: number) => Math.ceil(n / 16);

/** max|a − b| / max|b| (b is the side whose scale counts). */
export const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, m = 1e-30;
  for (let j = 0; j < b.length; j++) {
    d = Math.max(d, Math.abs(a[j] - b[j]));
    m = Math.max(m, Math.abs(b[j]));
  }
  return d / m;
};

/** The distinct quantizers of a compiled plan (input quantizers, epilogue quantizers, standalone BitQuantize). */
export function planQuantizers(res: CompileResult): QuantSpec[] {
  const out: QuantSpec[] = [];
  for (const s of res.plan.steps) {
    if (s.op === "BitQuantize") out.push(s.quant);
    if ("epi" in s && s.epi.quant) out.push(s.epi.quant);
    if (s.op === "BitConv") out.push(s.act);
  }
  return [...new Set(out)];
}

const f32 = new Float32Array(1), i32 = new Int32Array(f32.buffer);
/** The largest float32 below t (t a float32). */
function below(t: number): number {
  if (t === 0) return -1.401298464324817e-45;
  f32[0] = t;
  i32[0] += t > 0 ? -1 : 1;
  return f32[0];
}

interface Candidate { source: string; index: number; channel: number; level: number; dist: number; moved: number; value: number; thr: number }

/** The `k` quantizer inputs closest (relative to their tensor's max |x|) to one of their thresholds in `env`. */
function closestInputs(quants: QuantSpec[], env: Map<string, Tensor>, k: number): Candidate[] {
  const best: Candidate[] = [];
  const seen = new Set<string>();
  for (const q of quants) {
    const t = env.get(q.source);
    if (!t || t.dtype !== "float") continue;
    const L = q.levels.length, C = q.flip.length, x = t.data;
    if (L < 2 || q.thr.length !== C * (L - 1) || x.length % C) continue;
    // activations are in ONNX order: channel of element i is floor(i / inner) % C
    const inner = t.shape.length > 1 && t.shape[1] === C ? t.shape.slice(2).reduce((p, d) => p * d, 1) : C === 1 ? 1 : NaN;
    if (!Number.isFinite(inner)) continue;
    let scale = 1e-30;
    for (const v of x) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / inner) % C, v = q.flip[c] ? -x[i] : x[i];
      for (let j = 0; j < L - 1; j++) {
        const th = q.thr[c * (L - 1) + j];
        if (!Number.isFinite(th)) continue;
        const dist = Math.abs(v - th) / scale;
        if (best.length === k && dist >= best[k - 1].dist) continue;
        const key = `${q.source}:${i}`;
        // across the threshold: to t itself from below, to the float32 just below t from above
        const vm = v >= th ? below(th) : th;
        const cand: Candidate = { source: q.source, index: i, channel: c, level: j + 1, dist, moved: q.flip[c] ? -vm : vm, value: x[i], thr: th };
        if (seen.has(key)) {
          const at = best.findIndex((b) => `${b.source}:${b.index}` === key);
          if (at >= 0 && best[at].dist <= dist) continue;
          if (at >= 0) best.splice(at, 1);
        }
        seen.add(key);
        let p = best.length;
        while (p > 0 && best[p - 1].dist > dist) p--;
        best.splice(p, 0, cand);
        if (best.length > k) best.pop();
      }
    }
  }
  return best;
}

export interface TieEvidence {
  source: string; // the quantizer input tensor (ONNX name)
  sample: number; // within the compared unit (a unit is one sample, or one run of a fixed batch)
  index: number; // element, ONNX (NCHW) order
  channel: number;
  level: number; // the threshold crossed: level ≥ `level` ⇔ (flip ? −x : x) ≥ thr
  value: number; // x in the reference run
  thr: number; // the threshold (compared with −x where the channel is flipped)
  distance: number; // |x − thr| / max|x of that tensor|
  matches: string; // which side matched what
}

/**
 * Search one compared unit (one sample, or the samples of one fixed-batch run) for a single
 * threshold decision in the float32 reference run that accounts for the bundle-vs-oracle
 * difference. Returns the evidence, or a description of why none was found.
 */
export function explainTie(res: CompileResult, x: Float32Array, got: Float32Array, oracles: [string, Float32Array][], tol = 1e-4): { evidence?: TieEvidence; why: string } {
  const g = res.graph, inName = g.inputs[0].name, outName = g.outputs[0].name;
  const rest = res.plan.inputShape.slice(1), per = rest.reduce((p, d) => p * d, 1), m = Math.round(x.length / per);
  const close = (a: Float32Array, b: Float32Array) => relDiff(a, b) <= tol && argmax(a) === argmax(b);
  try {
    // the reference run, one sample at a time (the folded graph is a one-sample graph)
    const envs = Array.from({ length: m }, (_, j) => run(g, new Map([[inName, tensor("float", [1, ...rest], x.subarray(j * per, (j + 1) * per))]])));
    const k = got.length / m, ref = new Float32Array(got.length);
    envs.forEach((env, j) => ref.set(env.get(outName)!.data as Float32Array, j * k));
    const gotRef = close(got, ref);
    const refOracle = oracles.map(([, o]) => close(ref, o));
    const quants = planQuantizers(res);
    const cands = envs.flatMap((env, j) => closestInputs(quants, env, TIE_CANDIDATES).map((c) => ({ ...c, sample: j })))
      .sort((a, b) => a.dist - b.dist).slice(0, TIE_CANDIDATES);
    const producer = new Map<string, number>();
    g.nodes.forEach((nd, i) => nd.outputs.forEach((o) => o && producer.set(o, i)));
    for (const c of cands) {
      if (c.dist > TIE_DISTANCE) break;
      // re-run from the node after the one that produced the quantizer input, that element moved
      const env = envs[c.sample], t = env.get(c.source)!;
      const data = Float32Array.from(t.data);
      data[c.index] = c.moved;
      const env2 = new Map(env);
      env2.set(c.source, { ...t, data });
      const from = (producer.get(c.source) ?? -1) + 1;
      const flipped = Float32Array.from(ref);
      flipped.set(run(g, env2, g.nodes.slice(from)).get(outName)!.data as Float32Array, c.sample * k);
      const gotFlip = close(got, flipped);
      for (let o = 0; o < oracles.length; o++) {
        const [name, want] = oracles[o];
        const matches = gotRef && close(flipped, want) ? `bundle = reference, ${name} = reference with this decision flipped`
          : gotFlip && refOracle[o] ? `bundle = reference with this decision flipped, ${name} = reference` : "";
        if (matches) return { evidence: { source: c.source, sample: c.sample, index: c.index, channel: c.channel, level: c.level, value: c.value, thr: c.thr, distance: c.dist, matches }, why: "" };
      }
    }
    const near = cands.length ? `closest quantizer input ${cands[0].source}[${cands[0].index}] at ${cands[0].dist.toExponential(2)}` : "no quantizer input";
    const tried = cands.filter((c) => c.dist <= TIE_DISTANCE).length;
    return { why: `${near}; ${tried} candidate flip(s) within ${TIE_DISTANCE} tried, none accounts for the difference; bundle-vs-reference ${relDiff(got, ref).toExponential(2)}, reference-vs-oracles ${oracles.map(([nm, o]) => `${nm} ${relDiff(ref, o).toExponential(2)}`).join(", ")}` };
  } catch (e) {
    return { why: `the reference run failed: ${(e as Error).message}` };
  }
}

export interface Agreement {
  n: number;
  maxRel: number; // max over every non-excused sample of min over oracles of max|Δ| / max|oracle output|
  maxRelExcused: number; // the same over the excused samples (reported, not bounded)
  perOracle: Record<string, number>; // max over all samples of max|Δ| / max|that oracle's output|
  argmaxAgree: number; // samples with the argmax of some oracle
  within: number; // samples within tolerance of some oracle
  ties: number; // = excused.length
  excused: { sample: number; evidence: string }[];
  cap: number; // ceil(n/16)
  unexplained: string[]; // empty ⇔ the bundle agrees
}

export type Oracles = Float32Array | Float32Array[] | Record<string, Float32Array>;

function named(want: Oracles): [string, Float32Array][] {
  if (want instanceof Float32Array) return [["oracle", want]];
  if (Array.isArray(want)) return want.map((w, i) => [`oracle ${i}`, w]);
  return Object.entries(want);
}

/**
 * Compare n samples of bundle output `got` (inputs `x`) with one or more oracles' outputs (see the
 * rule at the top of this file). `unexplained` lists every failure: a sample beyond every oracle
 * without tie evidence, or beyond the cap of excused samples.
 */
export function agreement(res: CompileResult, x: Float32Array, got: Float32Array, want: Oracles, n: number, tol = 1e-4): Agreement {
  const oracles = named(want);
  const k = got.length / n, per = x.length / n, cap = tieCap(n);
  for (const [name, o] of oracles) if (o.length !== got.length) throw new Error(`${name} has ${o.length} outputs, the bundle ${got.length}`);
  const perOracle: Record<string, number> = Object.fromEntries(oracles.map(([nm]) => [nm, 0]));
  const a: Agreement = { n, maxRel: 0, maxRelExcused: 0, perOracle, argmaxAgree: 0, within: 0, ties: 0, excused: [], cap, unexplained: [] };
  const beyond: { i: number; rel: number; text: string }[] = [];
  for (let i = 0; i < n; i++) {
    const g = got.subarray(i * k, (i + 1) * k);
    let rel = Infinity, ok = false, am = false;
    for (const [nm, o] of oracles) {
      const w = o.subarray(i * k, (i + 1) * k), r = relDiff(g, w), same = argmax(g) === argmax(w);
      perOracle[nm] = Math.max(perOracle[nm], r);
      rel = Math.min(rel, r);
      am ||= same;
      ok ||= r <= tol && same;
    }
    if (am) a.argmaxAgree++;
    if (ok) {
      a.within++;
      a.maxRel = Math.max(a.maxRel, rel);
    } else {
      const oa = oracles.map(([nm, o]) => `${nm} ${relDiff(g, o.subarray(i * k, (i + 1) * k)).toExponential(2)}/argmax ${argmax(o.subarray(i * k, (i + 1) * k))}`);
      beyond.push({ i, rel, text: `sample ${i}: bundle argmax ${argmax(g)}; rel to ${oa.join(", ")}` });
    }
  }
  // more samples beyond every oracle than may be excused: fail without searching (no excuse can help)
  const search = beyond.length <= cap;
  for (const b of beyond) {
    const ex = search ? explainTie(res, x.subarray(b.i * per, (b.i + 1) * per), got.subarray(b.i * k, (b.i + 1) * k), oracles.map(([nm, o]) => [nm, o.subarray(b.i * k, (b.i + 1) * k)]), tol) : undefined;
    if (ex?.evidence) {
      const e = ex.evidence;
      a.excused.push({ sample: b.i, evidence: `sample ${b.i}: tie at ${e.source}[${e.index}]${e.sample ? ` of sample ${e.sample} in the run` : ""} (channel ${e.channel}, x ${e.value.toPrecision(9)} vs threshold ${e.level} ${e.thr.toPrecision(9)}, distance ${e.distance.toExponential(2)}): ${e.matches}` });
      a.maxRelExcused = Math.max(a.maxRelExcused, b.rel);
    } else {
      a.maxRel = Math.max(a.maxRel, b.rel);
      a.unexplained.push(`${b.text}; ${ex ? ex.why : `${beyond.length} samples beyond every oracle exceed the cap of ${cap} excused (ties not searched)`}`);
    }
  }
  a.ties = a.excused.length;
  return a;
}

/** One line for logs. */
export function summary(name: string, a: Agreement): string {
  const po = Object.entries(a.perOracle).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", ");
  return `${name}: n=${a.n} maxRel ${a.maxRel.toExponential(2)} (per oracle: ${po}), excused ${a.excused.length}/${a.cap}${a.excused.length ? ` [${a.excused.map((e) => e.evidence).join("; ")}]` : ""}, unexplained ${a.unexplained.length}`;
}

/**
 * Outputs of onnxruntime-node and onnxruntime-web (wasm backend, one thread — a second float32
 * implementation with its own summation order) on the same ONNX file, for n samples of `x`.
 */
export async function ortOracles(onnx: Uint8Array, x: Float32Array, sampleShape: number[]): Promise<Record<string, Float32Array>> {
  const n = x.length / sampleShape.reduce((p, d) => p * d, 1), shape = [n, ...sampleShape];
  const ortn = await import("onnxruntime-node");
  const sn = await ortn.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const on = (await sn.run({ [sn.inputNames[0]]: new ortn.Tensor("float32", x, shape) }))[sn.outputNames[0]].data as Float32Array;
  const ortw = await import("onnxruntime-web");
  ortw.env.wasm.numThreads = 1;
  ortw.env.logLevel = "error";
  const sw = await ortw.InferenceSession.create(onnx, { executionProviders: ["wasm"] });
  const ow = (await sw.run({ [sw.inputNames[0]]: new ortw.Tensor("float32", x, shape) }))[sw.outputNames[0]].data as Float32Array;
  await sn.release();
  await sw.release();
  return { "ort-node": Float32Array.from(on), "ort-web": Float32Array.from(ow) };
}
