// The committed recipe as data: the exact commands that rebuild one zoo model (models/train/zoo.sh --print),
// preceded by those of the zoo model it is fine-tuned from (an --init path inside another model's folder),
// and the split a model's choices were made on (meta.json's selected_on; a meta.json from before the
// validation split has none: the legacy recipe, selected on the test split).
// build_manifest.ts records them in each manifest entry; test/models/records.test.ts checks they still agree.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export type Recipe = "val" | "legacy";
export const LEGACY_SELECTED_ON = "test split (legacy: test_acc logged every epoch; stages chosen on it)";

/** The split a model was selected on and the zoo.sh recipe that rebuilds it, from its meta.json. */
export function selectionOf(meta: { selected_on?: string }): { selected_on: string; recipe: Recipe } {
  const selected_on = meta.selected_on ?? LEGACY_SELECTED_ON;
  return { selected_on, recipe: selected_on.startsWith("validation") ? "val" : "legacy" };
}

/** The recipe's commands for one model (zoo.sh --print [--legacy]), preceded by those of any zoo model it starts from. */
export function rebuildCommands(name: string, recipe: Recipe, seen = new Set<string>()): { needs: string[]; commands: string[] } {
  const flags = recipe === "legacy" ? ["--print", "--legacy"] : ["--print"];
  const own = execFileSync("bash", ["models/train/zoo.sh", ...flags, name], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  if (own.length === 0) throw new Error(`models/train/zoo.sh has no ${recipe} recipe for ${name}`);
  seen.add(name);
  const needs: string[] = [], commands: string[] = [];
  for (const c of own)
    for (const m of c.matchAll(/--init models\/zoo(?:_val)?\/([^/ ]+)\//g))
      if (!seen.has(m[1])) {
        const dep = rebuildCommands(m[1], recipe, seen);
        needs.push(...dep.needs, m[1]);
        commands.push(...dep.commands);
      }
  return { needs, commands: [...commands, ...own] };
}
