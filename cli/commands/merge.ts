// CLI: `mbn merge <records.json…> [-o merged.json]` — the shard records of one `mbn attack --shard i/n`
// run into the record of the whole run; refuses duplicates, missing shards and shards of other runs.
// Shards measured by different bundles (the runtime was rebuilt between the sessions of one long run)
// merge when today's bundle of their model reproduces each one's fingerprint on its images; the merged
// record then names today's bundle and lists the shards' in `shard_bundles`.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { compile } from "../../compiler/index.ts";
import { fingerprint } from "../../harness/attacks/fingerprint.ts";
import { mergeShards, type ShardRecord, type TodaysBundle } from "../../harness/attacks/parallel.ts";
import { loadDataset, take, type Dataset } from "../../harness/data/datasets.ts";
import { loadBundle } from "../../runtime/host/loader.ts";
import { checkWritable, readInput, writeOutput } from "../io.ts";
import { firstLine, UsageError } from "../options.ts";

/** Today's bundle of the shards' model, checking fingerprints on the shards' own images. */
async function todaysBundle(shards: { record: ShardRecord; source: string }[]): Promise<TodaysBundle> {
  const r0 = shards[0].record, file = r0.model;
  const bundles = [...new Set(shards.map((s) => String(s.record.bundle_sha256).slice(0, 12) + "…"))].join(", ");
  if (typeof file !== "string" || !existsSync(file))
    throw new UsageError(`${shards[0].source}: the shards were measured by different bundles (${bundles}); merging them needs today's bundle of their model, but ${file} is not there`);
  const wasm = compile(readFileSync(file), { file }).wasm;
  const bundle = await loadBundle(wasm);
  const sets = new Map<string, Dataset>();
  return {
    sha256: createHash("sha256").update(wasm).digest("hex"),
    sameFunction: (r) => {
      if (!sets.has(r.dataset)) sets.set(r.dataset, loadDataset(r.dataset));
      const data = take(sets.get(r.dataset)!, r.n, r.offset);
      const f = fingerprint(bundle, data.x, r.n, r.offset, r.eps);
      return JSON.stringify(f) === JSON.stringify({ clean: r.fingerprint!.clean, ball: r.fingerprint!.ball });
    },
  };
}

export function mergeCommand(files: string[], o: { output?: string }): void | Promise<void> {
  checkWritable(o.output);
  const shards = files.map((f) => {
    const bytes = readInput(f);
    if (bytes[0] === 0x93 && new TextDecoder().decode(bytes.subarray(1, 6)) === "NUMPY") throw new UsageError(`${f}: a NumPy .npy file, not a JSON attack record`);
    const text = new TextDecoder().decode(bytes);
    let record: ShardRecord;
    try {
      record = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${f}: not a JSON attack record (${firstLine(e)})`);
    }
    return { record, source: f };
  });
  const finish = (today?: TodaysBundle) => {
    const merged = mergeShards(shards, today);
    // the merged record names its own command; the shards' commands stay listed
    const commands = shards.map((s) => (s.record as { command?: unknown }).command).filter((c) => typeof c === "string");
    Object.assign(merged, { command: `mbn ${process.argv.slice(2).join(" ")}`, ...(commands.length ? { shard_commands: commands } : {}) });
    const text = JSON.stringify(merged) + "\n";
    if (o.output) writeOutput(o.output, text);
    else process.stdout.write(text);
  };
  // one bundle (the usual case), or records that are not shards (mergeShards says what is wrong): a plain merge, no compile
  const records = shards.map((s) => s.record as Partial<ShardRecord> | null);
  if (records.some((r) => typeof r !== "object" || r === null || typeof r.model !== "string") || new Set(records.map((r) => r!.bundle_sha256)).size <= 1) return finish();
  return todaysBundle(shards).then(finish);
}
