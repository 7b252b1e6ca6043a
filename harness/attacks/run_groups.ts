// Harness: the published sequence of an attack's runs (APGD-T and FAB-T: one run per target class and
// restart, each on the samples that no earlier run broke), computed in groups. When few samples are
// left, runs that come later in the sequence join the same replica batch (rows = sample × run, at most
// `rows` of them; each row's run depends only on its own sample and run: per-sample random streams,
// row-wise models), and the outcome is resolved in sequence order: a sample is broken by the first run
// that breaks it, keeps that run's input, and is charged the queries of the runs up to that one — what
// running them one after another gives, bit for bit, in far fewer, fuller batches (a surviving sample
// of ResNet-20 alone in a batch took ~5× the time per gradient of one in a batch of 9). rows = 0: one
// run at a time.
export interface RunRow { i: number; run: number } // sample index, run index into the sequence
export interface RowResult { adv: Float32Array; success: Uint8Array; queries: Int32Array }
export interface Outcome { best: Float32Array; done: Uint8Array; queries: Int32Array }

/** Default rows per group: the harness's default batch. */
export const GROUP_ROWS = 32;

export async function runInSequence(runs: number, per: number, out: Outcome, rows: number, exec: (rs: RunRow[]) => Promise<RowResult>): Promise<void> {
  const n = out.done.length;
  let next = 0;
  while (next < runs) {
    const todo = Array.from({ length: n }, (_, i) => i).filter((i) => !out.done[i]);
    if (!todo.length) return;
    const g = Math.min(runs - next, rows > 0 ? Math.max(1, Math.floor(rows / todo.length)) : 1);
    const rs: RunRow[] = [];
    for (let r = next; r < next + g; r++) for (const i of todo) rs.push({ i, run: r });
    next += g;
    const res = await exec(rs);
    // resolve in sequence order (rows are run-major: every sample's earlier runs come first)
    rs.forEach(({ i }, k) => {
      if (out.done[i]) return; // broken by an earlier run of this group: the sequence would not have run this one
      out.queries[i] += res.queries[k];
      if (res.success[k]) {
        out.done[i] = 1;
        out.best.set(res.adv.subarray(k * per, (k + 1) * per), i * per);
      }
    });
  }
}
