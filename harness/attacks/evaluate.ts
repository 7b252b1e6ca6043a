// Harness: adversarial evaluation of a deployed bundle. Natural and adversarial predictions come
// from the bundle; the replica only supplies gradients. Produces one RobustBench-like record and
// the adversarial inputs (clean input wherever no perturbation was found or needed), re-checked on
// the bundle so that their accuracy is exactly the reported adversarial accuracy.
import { createHash } from "node:crypto";
import { fingerprint, joinFingerprints, type Fingerprint } from "./fingerprint.ts";
import { cpus, hostname } from "node:os";
import type { Plan } from "../../compiler/ir/plan.ts";
import type { Bundle } from "../../runtime/host/loader.ts";
import type { Dataset } from "../data/datasets.ts";
import { Replica } from "../replica/replica.ts";
import { ATTACKS, type AttackParams } from "./index.ts";
import { argmaxRows, rng as makeRng, timedBundle, type Timing } from "./types.ts";

export interface AttackRecord {
  model: string;
  dataset: string;
  n: number;
  offset: number;
  attack: string;
  norm: "Linf";
  eps: number;
  steps: number;
  step_size: number;
  restarts: number;
  random_start: boolean;
  queries: number;
  mean_queries: number;
  seed: number;
  natural_acc: number;
  adversarial_acc: number;
  per_sample_success: number[]; // 1: attack flipped a correctly classified sample
  per_sample_robust: number[]; // 1: still correct on the saved adversarial input
  replica_agreement?: number; // clean argmax agreement replica vs bundle
  gradient?: { mean_l1: number; median_l1: number; zero_fraction: number; masking_suspected: boolean };
  seconds: number;
  /** compute seconds in the replica's passes (gradients, the clean agreement pass) and in the bundle's forward passes */
  time_split?: { replica_s: number; bundle_s: number };
  bundle_sha256: string;
  /** what that bundle computes on each evaluated image and a point of its ε-ball (fingerprint.ts) */
  fingerprint?: Fingerprint;
  machine: string;
  date: string;
  shard?: string;
}

export interface EvaluateOptions {
  model: string;
  bundle: Bundle;
  wasm: Uint8Array;
  plan: Plan;
  data: Dataset;
  offset?: number;
  attack: string;
  params: AttackParams;
  batch: number;
  shard?: string;
  onProgress?: (done: number) => void;
}

export async function evaluateAttack(o: EvaluateOptions): Promise<{ record: AttackRecord; xadv: Float32Array }> {
  const t0 = performance.now();
  const attack = ATTACKS[o.attack];
  const print = fingerprint(o.bundle, o.data.x, o.data.n, o.offset ?? 0, o.params.eps); // (not in the timing)
  if (!attack) throw new Error(`unknown attack '${o.attack}' (${Object.keys(ATTACKS).join(", ")})`);
  const { data, params } = o;
  const timing: Timing = { replica: 0, bundle: 0 };
  const bundle = timedBundle(o.bundle, timing);
  const n = data.n, per = bundle.inputLength;
  const natural = argmaxRows(bundle.run(data.x), n);
  const correct = Uint8Array.from(natural, (p, i) => (p === data.y[i] ? 1 : 0));
  const replica = attack.needsGradient ? await Replica.build(o.plan) : undefined;
  let replicaAgreement: number | undefined;
  if (replica) {
    const t0 = performance.now();
    let agree = 0;
    for (let i = 0; i < n; i += o.batch) {
      const m = Math.min(o.batch, n - i);
      const p = argmaxRows(replica.logits(data.x.subarray(i * per, (i + m) * per), m), m);
      for (let j = 0; j < m; j++) if (p[j] === natural[i + j]) agree++;
    }
    replicaAgreement = agree / Math.max(1, n);
    timing.replica += performance.now() - t0;
  }
  const l1s: number[] = [];
  const xadv = data.x.slice();
  const queries = new Int32Array(n);
  const rng = makeRng(params.seed);
  const todo = Array.from({ length: n }, (_, i) => i).filter((i) => correct[i]);
  if (params.eps > 0) {
    for (let b = 0; b < todo.length; b += o.batch) {
      const idx = todo.slice(b, b + o.batch);
      const x = new Float32Array(idx.length * per);
      idx.forEach((i, k) => x.set(data.x.subarray(i * per, (i + 1) * per), k * per));
      const y = Int32Array.from(idx, (i) => data.y[i]);
      const res = await attack.run({ bundle, replica, params, rng, onGradient: (l1) => l1s.push(...l1), timing }, x, y);
      const pred = argmaxRows(bundle.run(res.xadv), idx.length);
      idx.forEach((i, k) => {
        queries[i] = res.queries[k];
        if (pred[k] !== y[k]) xadv.set(res.xadv.subarray(k * per, (k + 1) * per), i * per);
      });
      o.onProgress?.(idx.length);
    }
  } else o.onProgress?.(todo.length);
  // the saved inputs are re-checked on the bundle: this is the reported adversarial accuracy
  const final = argmaxRows(bundle.run(xadv), n);
  const robust: number[] = Array.from(final, (p, i) => (p === data.y[i] ? 1 : 0));
  const success = Array.from(correct, (c, i) => (c && !robust[i] ? 1 : 0));
  const sortedL1 = [...l1s].sort((a, b) => a - b);
  const zero = l1s.filter((v) => v === 0).length / Math.max(1, l1s.length);
  const record: AttackRecord = {
    model: o.model, dataset: data.name, n, offset: o.offset ?? 0, attack: o.attack, norm: "Linf", eps: params.eps,
    steps: o.attack === "fgsm" ? 1 : o.attack === "pgd" ? params.steps : 0, step_size: o.attack === "pgd" ? params.stepSize : o.attack === "fgsm" ? params.eps : 0,
    restarts: o.attack === "pgd" ? params.restarts : 1, random_start: o.attack === "pgd" && params.randomStart !== false, queries: o.attack === "square" ? params.queries : 0,
    mean_queries: queries.reduce((a, b) => a + b, 0) / Math.max(1, todo.length), seed: params.seed,
    natural_acc: correct.reduce((a, b) => a + b, 0) / Math.max(1, n), adversarial_acc: robust.reduce((a, b) => a + b, 0) / Math.max(1, n),
    per_sample_success: success, per_sample_robust: robust, replica_agreement: replicaAgreement,
    gradient: l1s.length ? {
      mean_l1: l1s.reduce((a, b) => a + b, 0) / l1s.length, median_l1: sortedL1[sortedL1.length >> 1], zero_fraction: zero,
      masking_suspected: zero > 0.2 || sortedL1[sortedL1.length >> 1] < 1e-8,
    } : undefined,
    seconds: (performance.now() - t0) / 1000, time_split: { replica_s: timing.replica / 1000, bundle_s: timing.bundle / 1000 },
    bundle_sha256: createHash("sha256").update(o.wasm).digest("hex"), fingerprint: print,
    machine: `${hostname()} ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`, date: new Date().toISOString(), shard: o.shard,
  };
  return { record, xadv };
}

/** Merge shard records of one evaluation (same model, attack, eps, seed) into one. */
export function mergeRecords(rs: AttackRecord[]): AttackRecord {
  if (!rs.length) throw new Error("nothing to merge");
  const key = (r: AttackRecord) => [r.model, r.dataset, r.attack, r.eps, r.steps, r.step_size, r.restarts, r.queries, r.seed, r.bundle_sha256].join("|");
  for (const r of rs) if (key(r) !== key(rs[0])) throw new Error(`records differ in model/attack/parameters: ${key(r)} vs ${key(rs[0])}`);
  const sorted = [...rs].sort((a, b) => a.offset - b.offset);
  const n = sorted.reduce((p, r) => p + r.n, 0);
  const w = (f: (r: AttackRecord) => number) => sorted.reduce((p, r) => p + f(r) * r.n, 0) / n;
  return {
    ...sorted[0], n, offset: sorted[0].offset, shard: undefined,
    natural_acc: w((r) => r.natural_acc), adversarial_acc: w((r) => r.adversarial_acc), mean_queries: w((r) => r.mean_queries),
    per_sample_success: sorted.flatMap((r) => r.per_sample_success), per_sample_robust: sorted.flatMap((r) => r.per_sample_robust),
    fingerprint: joinFingerprints(sorted.map((r) => r.fingerprint)),
    seconds: sorted.reduce((p, r) => p + r.seconds, 0), date: new Date().toISOString(),
  };
}
