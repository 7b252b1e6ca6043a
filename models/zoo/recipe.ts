// The committed recipe as data: the exact commands that rebuild one zoo model (models/train/zoo.sh --print),
// preceded by those of the zoo model it is fine-tuned from (an --init path inside another model's folder).
// build_manifest.ts records them in each manifest entry; test/models/records.test.ts checks they still agree.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The recipe's commands for one model (zoo.sh --print), preceded by those of any zoo model it starts from. */
export function rebuildCommands(name: string, seen = new Set<string>()): { needs: string[]; commands: string[] } {
  const own = execFileSync("bash", ["models/train/zoo.sh", "--print", name], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  if (own.length === 0) throw new Error(`models/train/zoo.sh has no recipe for ${name}`);
  seen.add(name);
  const needs: string[] = [], commands: string[] = [];
  for (const c of own)
    for (const m of c.matchAll(/--init models\/zoo\/([^/ ]+)\//g))
      if (!seen.has(m[1])) {
        const dep = rebuildCommands(m[1], seen);
        needs.push(...dep.needs, m[1]);
        commands.push(...dep.commands);
      }
  return { needs, commands: [...commands, ...own] };
}
