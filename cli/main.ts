// CLI entry (`npx mbn …`): one command per subcommand file; options parsed by commander.
// Environment variables are read only here (none are needed today).
import { Command } from "commander";
import { guard } from "./common.ts";
import { compileCommand } from "./commands/compile.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { runCommand } from "./commands/run.ts";
import { benchKernelsCommand } from "./commands/bench_kernels.ts";
import { demoCommand } from "./commands/demo.ts";

const program = new Command("mbn")
  .description("Compile multi-bit neural networks (ONNX) into one zero-import WebAssembly bundle; run, inspect, benchmark and attack them.")
  .version("0.1.0");

program.command("compile <model.onnx>").description("compile an ONNX model into a .wasm bundle")
  .option("-o, --output <bundle.wasm>", "output file (default: <model>.wasm)")
  .option("--target <target>", "simd | scalar", "simd")
  .option("--report <r.json>", "write the compile report as JSON")
  .option("--dump-after <pass>", "print the plan IR after a pass (lower, fuse) instead of the report")
  .action((file, o) => guard(() => compileCommand(file, o)));

program.command("run <model>").description("run a bundle (or an ONNX model, compiled on the fly) on NumPy input")
  .requiredOption("--input <x.npy>", "float32 input, batch = first axis")
  .requiredOption("--output <y.npy>", "where to write the float32 outputs")
  .option("--target <target>", "simd | scalar (when compiling an .onnx)", "simd")
  .action((file, o) => guard(() => runCommand(file, o)));

program.command("inspect <model>").description("per-layer op, shapes, planes, MACs, BOPs, bytes; totals")
  .option("--json", "machine-readable output")
  .option("--target <target>", "simd | scalar (when compiling an .onnx)", "simd")
  .action((file, o) => guard(() => inspectCommand(file, o)));

program.command("bench-kernels").description("benchmark the runtime kernels (G binary-MAC/s)")
  .option("--json", "print one JSON object on the last line")
  .option("--seconds <s>", "time per measurement", "0.5")
  .action((o) => guard(() => benchKernelsCommand(o)));

program.command("demo").description("the main job (npm start): compile the default zoo model, accuracy, latency vs peers")
  .option("--model <name>", "zoo model", "fmnist_resnet20_mbn3x1")
  .option("--n <n>", "test images to evaluate", "10000")
  .action((o) => guard(() => demoCommand(o)));

await program.parseAsync(process.argv);
