// CLI entry (`npx mbn …`): one command per subcommand file; options parsed by commander, every
// number checked while parsing (before any work). Every failure — a usage error from commander, a
// bad option value, an unreadable input or unwritable output, a compile error — is one `mbn: …`
// line on stderr and exit code 1; never a stack trace unless MBN_DEBUG=1 asks for one.
// A reader that closes stdout early (`mbn inspect m.onnx | head -1`) ends the process quietly, exit 0.
// Environment variables are read only here: MBN_DEBUG=1 adds the stack of an internal error;
// MBN_WASM3_DIR points `mbn mcu --engine wasm3` at a wasm3 checkout.
import { Command, CommanderError } from "commander";
import { choiceOption, firstLine, fsMessage, numberOption, parseShard, UsageError } from "./options.ts";
import { ATTACKS, ENSEMBLES } from "../harness/attacks/index.ts";

// command modules load the compiler, runtime and harness: imported only when their command runs
const commands = {
  compile: () => import("./commands/compile.ts"), inspect: () => import("./commands/inspect.ts"), run: () => import("./commands/run.ts"),
  bench: () => import("./commands/bench.ts"), benchKernels: () => import("./commands/bench_kernels.ts"), attack: () => import("./commands/attack.ts"), merge: () => import("./commands/merge.ts"),
  report: () => import("./commands/report.ts"), demo: () => import("./commands/demo.ts"), mcu: () => import("./commands/mcu.ts"),
};

const DEBUG = process.env.MBN_DEBUG === "1";

/** The one line for an error (without the `mbn: ` prefix). */
async function errorLine(e: unknown): Promise<string> {
  if (e instanceof UsageError) return firstLine(e);
  // the modules of these errors are loaded already wherever they were thrown
  const [{ CompileError }, { BundleError }, { DataError }, { MergeError }] = await Promise.all([
    import("../compiler/errors.ts"), import("../runtime/host/loader.ts"), import("../harness/data/datasets.ts"), import("../harness/attacks/parallel.ts"),
  ]);
  if (e instanceof CompileError) return e.line();
  if (e instanceof BundleError || e instanceof DataError || e instanceof MergeError) return firstLine(e);
  const missing = (await import("./optional.ts")).optionalMissing(e, subcommand);
  if (missing) return missing;
  const err = e as NodeJS.ErrnoException;
  if (err?.code && err.path) return fsMessage(err.path, err.syscall ?? "access", err);
  if (typeof err?.code === "string" && err.code.startsWith("E")) return firstLine(err);
  return `internal error: ${firstLine(e)}${DEBUG ? "" : " (MBN_DEBUG=1 shows the stack trace)"}`;
}

let failed = false;
async function fail(e: unknown): Promise<never> {
  if (!failed) {
    failed = true;
    let line;
    try {
      line = await errorLine(e);
    } catch {
      line = `internal error: ${firstLine(e)}`;
    }
    try {
      process.stderr.write(`mbn: ${line}\n`);
      if (DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
    } catch {
      // stderr is gone too: the exit code still says it
    }
  }
  process.exit(1);
}

// stdout closed by its reader: stop quietly (nothing else to tell anyone)
for (const s of [process.stdout, process.stderr])
  s.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" ? process.exit(0) : void fail(e)));
process.on("uncaughtException", (e) => void fail(e));
process.on("unhandledRejection", (e) => void fail(e));

const COMMANDS = ["compile", "run", "inspect", "bench", "bench-kernels", "attack", "merge", "report", "demo", "mcu"];
const subcommand = process.argv.slice(2).find((a) => COMMANDS.includes(a));

/** commander's `error: unknown option '--x'\n(Did you mean --y?)` as one `mbn:` line. */
function commanderLine(e: CommanderError): string {
  const [first, ...rest] = e.message.replace(/^error: /, "").split("\n").map((s) => s.trim()).filter(Boolean);
  const hint = rest.map((s) => s.replace(/^\((.*)\)$/, "$1").replace(/^Did you/, "did you")).join("; ");
  const where = subcommand && e.code !== "commander.unknownCommand" ? `${subcommand}: ` : "";
  return `${where}${first.replace(/ for '[^']*'\./, ".").replace(/\.$/, "")}${hint ? ` (${hint})` : ""}`;
}

const targetHelp = "simd | scalar (when compiling an .onnx); default: simd where this host supports SIMD128, else scalar";
const int = (min: number, max?: number) => ({ int: true, min, max });

const program = new Command("mbn")
  .description("Compile multi-bit neural networks (ONNX) into one zero-import WebAssembly bundle; run, inspect, benchmark and attack them.")
  .version("0.1.0")
  .exitOverride()
  .configureOutput({ outputError: () => {} }); // errors are printed by fail(), in mbn's style

program.command("compile <model.onnx>").description("compile an ONNX model into a .wasm bundle")
  .option("-o, --output <bundle.wasm|dir>", "output file (default: <model>.wasm); a directory for --target c")
  .option("--target <target>", "simd | scalar | c (wasm2c sources + Makefile); default: simd where this host supports SIMD128, else scalar")
  .option("--report <r.json>", "write the compile report as JSON")
  .addOption(choiceOption("--dump-after <pass>", "print the plan IR after a pass (lower, fuse) instead of the report", ["lower", "fuse"], "pass"))
  .action(async (file, o) => (await commands.compile()).compileCommand(file, o));

program.command("run <model>").description("run a bundle (or an ONNX model, compiled on the fly) on NumPy input")
  .requiredOption("--input <x.npy>", "input, batch = first axis; float32, or another dtype with --scale or --as-is. A model with several inputs: --input <name>=<x.npy> once per input", (v: string, acc: string[] = []) => [...acc, v])
  .requiredOption("--output <y.npy>", "where to write the float32 outputs. A model with several outputs: --output <name>=<y.npy> for each output wanted", (v: string, acc: string[] = []) => [...acc, v])
  .addOption(numberOption("--scale <s>", "divide the input values by s (e.g. 255 for uint8 pixels → [0, 1])", { above: 0 }))
  .option("--as-is", "take non-float32 input values unchanged (converted to float32)")
  .option("--target <target>", targetHelp)
  .action(async (file, o) => (await commands.run()).runCommand(file, o));

program.command("inspect <model>").description("per-layer op, shapes, planes, MACs, BOPs, bytes; totals")
  .option("--json", "machine-readable output")
  .option("--target <target>", targetHelp)
  .action(async (file, o) => (await commands.inspect()).inspectCommand(file, o));

program.command("bench <model>").description("latency of the bundle and of onnxruntime peers on the same ONNX file")
  .option("--peers <list>", "comma-separated: ort-web, ort-node, wasm3 (the interpreter, its own process; empty for none)", "ort-web,ort-node")
  .addOption(numberOption("--threads <n>", "also measure the peers with n threads", int(1), 1))
  .addOption(numberOption("--runs <n>", "timed runs", int(1), 100))
  .addOption(numberOption("--warmup <n>", "warm-up runs", int(0), 10))
  .option("--target <target>", targetHelp)
  .option("-o, --output <file.json>", "write the JSON record")
  .option("--json", "print the JSON record")
  .option("--twin <float.onnx>", "also time native onnxruntime-node on this file (the model's float twin: same architecture, float weights) in the same rounds")
  .option("--no-floor", "skip the popcount floor (a bare popcount loop as long as the model's binary layers need, timed in the same rounds)")
  .option("--serve", "serve a page that runs this benchmark in any browser on the local network")
  .addOption(numberOption("--port <port>", "port for --serve (0: any free port)", int(0, 65535), 8080))
  .option("--host <addr>", "address to listen on for --serve", "0.0.0.0")
  .action(async (file, o) => (await commands.bench()).benchCommand(file, o));

program.command("bench-kernels").description("benchmark the runtime kernels (G binary-MAC/s)")
  .option("--json", "print one JSON object on the last line")
  .addOption(numberOption("--seconds <s>", "time per measurement", { above: 0, max: 3600 }, 0.5))
  .action(async (o) => (await commands.benchKernels()).benchKernelsCommand(o));

program.command("attack <model.onnx>").description("adversarial accuracy of the compiled bundle (FGSM, PGD-k, Square, APGD-CE/-T, FAB-T, AutoAttack)")
  .option("--data <dataset>", "fashion-mnist | idx:<images>,<labels> | cifar10:<dir> | npy:<x.npy>,<y.npy> (inputs in [0, 1])", "fashion-mnist")
  .addOption(choiceOption("--attack <name>", "fgsm | pgd | square | apgd-ce | apgd-t | fab-t | autoattack", [...Object.keys(ATTACKS), ...ENSEMBLES], "attack", "pgd"))
  .addOption(numberOption("--eps <e>", "L∞ radius in pixel units ([0, 1] inputs)", { min: 0, max: 1 }, 0.1))
  .addOption(numberOption("--steps <k>", "PGD steps (default 20); APGD / FAB-T / autoattack iterations (default 100)", int(1)))
  .addOption(numberOption("--step-size <a>", "PGD step size (default 2.5·eps/steps)", { above: 0 }))
  .addOption(numberOption("--restarts <r>", "PGD / APGD / FAB-T restarts", int(1), 1))
  .addOption(numberOption("--targets <k>", "APGD-T / FAB-T target classes (default min(9, classes − 1))", int(1)))
  .option("--no-random-start", "PGD: start from the clean input")
  .addOption(numberOption("--queries <q>", "Square Attack query budget per sample (default 1000; 5000 in autoattack)", int(1)))
  .addOption(numberOption("--n <n>", "evaluate the first n samples", int(1), 1000))
  .addOption(numberOption("--seed <s>", "random seed (same seed ⇒ same result)", int(0, 2 ** 32 - 1), 0))
  .addOption(numberOption("--batch <b>", "samples per gradient batch", int(1), 32))
  .addOption(numberOption("--workers <n>", "split the evaluation over n worker threads", int(1, 256), 1))
  .option("--shard <i/n>", "evaluate shard i of n (merge the records with `mbn merge`)", parseShard)
  .option("--save-adv <file.npy>", "write the adversarial inputs [n, C, H, W] float32")
  .option("-o, --output <record.json>", "write the JSON record to a file")
  .option("--json", "print the JSON record")
  .action(async (file, o) => void (await (await commands.attack()).attackCommand(file, o)));

program.command("merge <records...>").description("merge the shard records of one attack run (every shard once, same run)")
  .option("-o, --output <file>", "write the merged record here (default stdout)")
  .action(async (files, o) => (await commands.merge()).mergeCommand(files, o));

program.command("report <results...>").description("render JSON result records into one offline HTML report")
  .requiredOption("-o, --output <report.html>", "output file")
  .option("--title <title>", "page title")
  .action(async (files, o) => (await commands.report()).reportCommand(files, o));

program.command("demo").description("the main job (npm start): compile the default zoo model, accuracy, latency vs peers")
  .option("--model <name>", "zoo model", "fmnist_resnet20_mbn3x1")
  .addOption(numberOption("--n <n>", "test images for natural accuracy", int(1), 10000))
  .addOption(numberOption("--attack-n <n>", "test images for the PGD-20 evaluation", int(1), 500))
  .action(async (o) => (await commands.demo()).demoCommand(o));

program.command("mcu <model.onnx>").description("build firmware embedding the model, run it on an emulated Cortex-M (QEMU), check it against V8")
  .addOption(choiceOption("--engine <engine>", "wasm3 (the scalar bundle in the wasm3 interpreter) | c (the C target, wasm2c)", ["wasm3", "c"], "engine").makeOptionMandatory())
  .addOption(choiceOption("--board <board>", "mps2-an386 (Cortex-M4) | mps2-an505 (Cortex-M33)", ["mps2-an386", "mps2-an505"], "board", "mps2-an386"))
  .option("--input <x.npy>", "float32 samples (default: test_data/input.npy next to the model, else xorshift32 inputs)")
  .addOption(numberOption("--samples <n>", "samples to run on the board", int(1, 16), 1))
  .addOption(numberOption("--timeout <s>", "stop QEMU after s seconds", { above: 0 }, 600))
  .option("--keep <dir>", "keep the firmware build (sources, fw.elf) in this directory")
  .option("--json", "print one JSON line")
  .action(async (file, o) => (await commands.mcu()).mcuCommand(file, { ...o, wasm3Dir: process.env.MBN_WASM3_DIR }));

try {
  if (process.argv.length <= 2) throw new UsageError(`missing command (${COMMANDS.join(", ")}); mbn --help describes them`);
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(0); // --help, --version
    await fail(new UsageError(commanderLine(e)));
  }
  await fail(e);
}
