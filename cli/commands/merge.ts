// CLI: `mbn merge <records.json…> [-o merged.json]` — the shard records of one `mbn attack --shard i/n`
// run into the record of the whole run; refuses duplicates, missing shards and shards of other runs.
import { mergeShards, type ShardRecord } from "../../harness/attacks/parallel.ts";
import { checkWritable, readInput, writeOutput } from "../io.ts";
import { firstLine, UsageError } from "../options.ts";

export function mergeCommand(files: string[], o: { output?: string }): void {
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
  const merged = mergeShards(shards);
  // the merged record names its own command; the shards' commands stay listed
  const commands = shards.map((s) => (s.record as { command?: unknown }).command).filter((c) => typeof c === "string");
  Object.assign(merged, { command: `mbn ${process.argv.slice(2).join(" ")}`, ...(commands.length ? { shard_commands: commands } : {}) });
  const text = JSON.stringify(merged) + "\n";
  if (o.output) writeOutput(o.output, text);
  else process.stdout.write(text);
}
