// CLI option values and the one error type of the user's making: every number is parsed and
// checked while commander parses the command line, before any command module is even loaded.
// Light on purpose (commander only), so that a bad invocation costs no compiler start-up.
import { Option } from "commander";

/** A mistake of the user's (bad option, unreadable file, wrong kind of file): one line, exit code 1. */
export class UsageError extends Error {}

const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory", EACCES: "permission denied", EPERM: "operation not permitted", EISDIR: "is a directory",
  ENOTDIR: "a component of the path is not a directory", EROFS: "read-only file system", ENOSPC: "no space left on device",
  EEXIST: "already exists", ENAMETOOLONG: "name too long", ELOOP: "too many symbolic links", EMFILE: "too many open files",
};

/** `path: cannot <verb> (CODE: reason)` for a file-system error (anything else: its first line). */
export function fsMessage(path: string, verb: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code) return `${path}: cannot ${verb} (${code}${FS_REASONS[code] ? `: ${FS_REASONS[code]}` : ""})`;
  return `${path}: cannot ${verb} (${firstLine(e)})`;
}

/** The first line of an error's message, without control characters (JSON errors quote raw input). */
export const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0].replace(/[\x00-\x1f\x7f-\x9f\ufffd]/g, "?").slice(0, 300);

// ---- option values: every number is checked when the command line is parsed, before any work

export interface NumberSpec {
  int?: boolean; // integers only
  min?: number;
  max?: number;
  above?: number; // strictly greater than
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function describe(s: NumberSpec): string {
  const kind = s.int ? "an integer" : "a number";
  if (s.above !== undefined) return `${kind} ${s.max !== undefined ? `in (${s.above}, ${s.max}]` : `> ${s.above}`}`;
  if (s.min !== undefined && s.max !== undefined) return `${kind} ${s.int ? `in ${s.min}…${s.max}` : `in [${s.min}, ${s.max}]`}`;
  if (s.min !== undefined) return `${kind} ≥ ${s.min}`;
  if (s.max !== undefined) return `${kind} ≤ ${s.max}`;
  return kind;
}

/** Parses `value` of option `flag` as a number meeting `spec`, or throws `--flag value: must be …`. */
export function parseNumber(flag: string, value: string, spec: NumberSpec): number {
  const shown = value === "" ? "''" : value;
  const v = value.trim();
  const x = DECIMAL.test(v) ? Number(v) : NaN;
  const ok = Number.isFinite(x) && (!spec.int || Number.isSafeInteger(x)) && (spec.min === undefined || x >= spec.min) &&
    (spec.max === undefined || x <= spec.max) && (spec.above === undefined || x > spec.above);
  if (!ok) throw new UsageError(`${flag} ${shown}: must be ${describe(spec)}`);
  return x;
}

/** A commander option whose value is parsed and checked by parseNumber (the default is a number too). */
export function numberOption(flags: string, description: string, spec: NumberSpec, def?: number): Option {
  const o = new Option(flags, description);
  const name = o.long ?? o.short ?? flags;
  o.argParser((v: string) => parseNumber(name, v, spec));
  if (def !== undefined) o.default(def);
  return o;
}

/** A commander option that takes one of `choices` (`--flag value: unknown … (a, b)` otherwise). */
export function choiceOption(flags: string, description: string, choices: string[], what: string, def?: string): Option {
  const o = new Option(flags, description);
  const name = o.long ?? flags;
  o.argParser((v: string) => {
    if (!choices.includes(v)) throw new UsageError(`${name} ${v === "" ? "''" : v}: unknown ${what} (${choices.join(", ")})`);
    return v;
  });
  if (def !== undefined) o.default(def);
  return o;
}

/** --shard i/n: 0 ≤ i < n, n ≥ 1 (checked while parsing). */
export function parseShard(v: string): string {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || !Number.isSafeInteger(Number(m[2])))
    throw new UsageError(`--shard ${v === "" ? "''" : v}: expected i/n with 0 ≤ i < n (e.g. 0/4)`);
  return `${Number(m[1])}/${Number(m[2])}`;
}

