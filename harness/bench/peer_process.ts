// Harness latency: a peer configuration in its own child process. onnxruntime-web initialises its
// wasm backend (and its thread pool) once per process, so a session with n threads next to a
// 1-thread one in the same process silently runs on the first pool; a child process per
// configuration gets its own. The parent asks for a round, the child times it itself (repeat until
// ≥ minMs, ms per run) and answers; the IPC round trip is outside the timed interval.
// Started by spawnPeer; the child side runs when this file is the entry of a forked process.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { makePeers, timeRound, type Runner } from "./latency.ts";

type Msg = { type: "init"; onnx: Uint8Array; shape: number[]; peer: string; threads: number } | { type: "warm"; n: number } | { type: "round"; minMs: number };
type Reply = { type: "ready"; name: string } | { type: "error"; message: string } | { type: "warm" } | { type: "round"; ms: number; reps: number; cpu_ms: number; wall_ms: number };

const SELF = fileURLToPath(import.meta.url);

/** A runner for `peer` ("ort-web" | "ort-node") with `threads` threads in a child process. */
export async function spawnPeer(onnx: Uint8Array, shape: number[], peer: string, threads: number): Promise<Runner> {
  const child: ChildProcess = fork(SELF, [], { execArgv: SELF.endsWith(".ts") ? ["--import", "tsx"] : [], serialization: "advanced", env: { ...process.env, MBN_PEER_CHILD: "1" }, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const ask = (m: Msg) => new Promise<Reply>((resolve, reject) => {
    const onMsg = (r: Reply) => { cleanup(); r.type === "error" ? reject(new Error(r.message)) : resolve(r); };
    const onExit = (code: number | null) => { cleanup(); reject(new Error(`peer process exited (${code})${stderr ? ": " + stderr.trim().split("\n").pop() : ""}`)); };
    const cleanup = () => { child.off("message", onMsg); child.off("exit", onExit); };
    child.on("message", onMsg);
    child.on("exit", onExit);
    child.send(m);
  });
  let ready;
  try {
    ready = await ask({ type: "init", onnx, shape, peer, threads });
  } catch (e) {
    child.kill();
    throw e;
  }
  return {
    name: (ready as { name: string }).name, threads,
    warm: async (n) => void (await ask({ type: "warm", n })),
    round: async (minMs) => {
      const r = (await ask({ type: "round", minMs })) as { ms: number; reps: number; cpu_ms: number; wall_ms: number };
      return { ms: r.ms, reps: r.reps, cpu_ms: r.cpu_ms, wall_ms: r.wall_ms };
    },
    close: () => { child.disconnect(); child.kill(); },
  };
}

if (process.env.MBN_PEER_CHILD === "1" && process.send && process.argv[1] === SELF) {
  let runner: Runner | undefined;
  process.on("message", async (m: Msg) => {
    try {
      if (m.type === "init") {
        const [r] = await makePeers(m.onnx, m.shape, [m.peer], m.threads);
        if (!r) throw new Error(`unknown peer ${m.peer}`);
        runner = r;
        process.send!({ type: "ready", name: r.name } satisfies Reply);
      } else if (m.type === "warm") {
        for (let i = 0; i < m.n; i++) await runner!.run!();
        process.send!({ type: "warm" } satisfies Reply);
      } else if (m.type === "round") {
        // the child's CPU time over the round (all its threads): > wall time when the peer's thread
        // pool really works in parallel
        const c = process.cpuUsage(), t = performance.now();
        const r = await timeRound(runner!.run!, m.minMs);
        const d = process.cpuUsage(c);
        process.send!({ type: "round", ...r, cpu_ms: (d.user + d.system) / 1000, wall_ms: performance.now() - t } satisfies Reply);
      }
    } catch (e) {
      process.send!({ type: "error", message: String((e as Error)?.message ?? e).split("\n")[0] } satisfies Reply);
    }
  });
  process.on("disconnect", () => process.exit(0));
}
