// Compiler: the one error type every stage throws for bad input. Its message is one line naming the
// file, the node, the op and what is wrong; the CLI prints exactly that line and exits non-zero.
export interface ErrorWhere {
  file?: string;
  node?: string;
  op?: string;
}

export class CompileError extends Error {
  constructor(readonly reason: string, readonly where: ErrorWhere = {}) {
    super(reason);
    this.name = "CompileError";
  }
  /** `file: node 'n' (Op): reason` — the one line shown to users. */
  line(file = this.where.file): string {
    const parts: string[] = [];
    if (file) parts.push(file);
    if (this.where.node !== undefined || this.where.op) {
      parts.push(`node '${this.where.node ?? "?"}'${this.where.op ? ` (${this.where.op})` : ""}`);
    }
    return [...parts, this.reason].join(": ").replace(/\s*\n\s*/g, " ");
  }
}

export function fail(reason: string, where: ErrorWhere = {}): never {
  throw new CompileError(reason, where);
}
