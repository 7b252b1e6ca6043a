// Compiler: the one error type every stage throws for bad input. Its message is one line naming the
// file, the node, the op and what is wrong; the CLI prints exactly that line and exits non-zero.
export interface ErrorWhere {
  file?: string;
  node?: string;
  op?: string;
}

/** The longest error line mbn prints. */
export const MAX_LINE = 200;

export class CompileError extends Error {
  constructor(readonly reason: string, readonly where: ErrorWhere = {}) {
    super(reason);
    this.name = "CompileError";
  }
  /**
   * `file: node 'n' (Op): reason` — the one line shown to users, at most MAX_LINE characters: a long
   * file path keeps its last part, a long node name its ends, the reason what fits after them.
   */
  line(file = this.where.file): string {
    const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.ceil(n / 2) - 1)}…${s.slice(s.length - Math.floor(n / 2))}`);
    const parts: string[] = [];
    if (file) parts.push(file.length > 60 ? `…${file.slice(-59)}` : file);
    if (this.where.node !== undefined || this.where.op) {
      parts.push(`node '${cut(this.where.node ?? "?", 48)}'${this.where.op ? ` (${cut(this.where.op, 32)})` : ""}`);
    }
    const head = parts.join(": "), reason = this.reason.replace(/\s*\n\s*/g, " ");
    const room = MAX_LINE - head.length - (head ? 2 : 0);
    return [head, reason.length <= room ? reason : `${reason.slice(0, room - 1)}…`].filter(Boolean).join(": ");
  }
}

export function fail(reason: string, where: ErrorWhere = {}): never {
  throw new CompileError(reason, where);
}
