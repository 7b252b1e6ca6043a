// CLI entry (`npx mbn …`): one command per subcommand file; options parsed by commander.
// Environment variables are read only here (none are needed today).
import { Command } from "commander";
import { guard } from "./common.ts";
import { compileCommand } from "./commands/compile.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { runCommand } from "./commands/run.ts";
import { benchKernelsCommand } from "./commands/bench_kernels.ts";
import { demoCommand } from "./commands/demo.ts";
import { attackCommand, mergeCommand } from "./commands/attack.ts";
import { reportCommand } from "./commands/report.ts";
import { benchCommand } from "./commands/bench.ts";

const program = new Command("mbn")
  .description("Compile multi-bit neural networks (ONNX) into one zero-import WebAssembly bundle; run, inspect, benchmark and attack them.")
  .version("0.1.0");

program.command("compile <model.onnx>").description("compile an ONNX model into a .wasm bundle")
  .option("-o, --output <bundle.wasm|dir>", "output file (default: <model>.wasm); a directory for --target c")
  .option("--target <target>", "simd | scalar | c (wasm2c sources + Makefile); default: simd where this host supports SIMD128, else scalar")
  .option("--report <r.json>", "write the compile report as JSON")
  .option("--dump-after <pass>", "print the plan IR after a pass (lower, fuse) instead of the report")
  .action((file, o) => guard(() => compileCommand(file, o)));

program.command("run <model>").description("run a bundle (or an ONNX model, compiled on the fly) on NumPy input")
  .requiredOption("--input <x.npy>", "float32 input, batch = first axis")
  .requiredOption("--output <y.npy>", "where to write the float32 outputs")
  .option("--target <target>", "simd | scalar (when compiling an .onnx); default: simd where this host supports SIMD128, else scalar")
  .action((file, o) => guard(() => runCommand(file, o)));

program.command("inspect <model>").description("per-layer op, shapes, planes, MACs, BOPs, bytes; totals")
  .option("--json", "machine-readable output")
  .option("--target <target>", "simd | scalar (when compiling an .onnx); default: simd where this host supports SIMD128, else scalar")
  .action((file, o) => guard(() => inspectCommand(file, o)));

program.command("bench <model>").description("latency of the bundle and of onnxruntime peers on the same ONNX file")
  .option("--peers <list>", "comma-separated: ort-web, ort-node (empty for none)", "ort-web,ort-node")
  .option("--threads <n>", "also measure the peers with n threads", "1")
  .option("--runs <n>", "timed runs", "100")
  .option("--warmup <n>", "warm-up runs", "10")
  .option("--target <target>", "simd | scalar (when compiling an .onnx); default: simd where this host supports SIMD128, else scalar")
  .option("-o, --output <file.json>", "write the JSON record")
  .option("--json", "print the JSON record")
  .option("--no-floor", "skip the popcount floor (a bare popcount loop as long as the model's binary layers need, timed in the same rounds)")
  .option("--serve", "serve a page that runs this benchmark in any browser on the local network")
  .option("--port <port>", "port for --serve", "8080")
  .option("--host <addr>", "address to listen on for --serve", "0.0.0.0")
  .action((file, o) => guard(() => benchCommand(file, o)));

program.command("bench-kernels").description("benchmark the runtime kernels (G binary-MAC/s)")
  .option("--json", "print one JSON object on the last line")
  .option("--seconds <s>", "time per measurement", "0.5")
  .action((o) => guard(() => benchKernelsCommand(o)));

program.command("attack <model.onnx>").description("adversarial accuracy of the compiled bundle (FGSM, PGD-k, Square)")
  .option("--data <dataset>", "fashion-mnist | idx:<images>,<labels> | cifar10:<dir> | npy:<x.npy>,<y.npy>", "fashion-mnist")
  .option("--attack <name>", "fgsm | pgd | square", "pgd")
  .option("--eps <e>", "L∞ radius in pixel units ([0, 1] inputs)", "0.1")
  .option("--steps <k>", "PGD steps", "20")
  .option("--step-size <a>", "PGD step size (default 2.5·eps/steps)")
  .option("--restarts <r>", "PGD random restarts", "1")
  .option("--no-random-start", "PGD: start from the clean input")
  .option("--queries <q>", "Square Attack query budget per sample", "1000")
  .option("--n <n>", "evaluate the first n samples", "1000")
  .option("--seed <s>", "random seed (same seed ⇒ same result)", "0")
  .option("--batch <b>", "samples per gradient batch", "32")
  .option("--workers <n>", "split the evaluation over n worker threads", "1")
  .option("--shard <i/n>", "evaluate shard i of n (merge the records with `mbn merge`)")
  .option("--save-adv <file.npy>", "write the adversarial inputs [n, C, H, W] float32")
  .option("-o, --output <record.json>", "write the JSON record to a file")
  .option("--json", "print the JSON record")
  .action((file, o) => guard(async () => void (await attackCommand(file, o))));

program.command("merge <records...>").description("merge shard records of one attack run")
  .option("-o, --output <file>", "write the merged record here (default stdout)")
  .action((files, o) => guard(() => mergeCommand(files, o)));

program.command("report <results...>").description("render JSON result records into one offline HTML report")
  .requiredOption("-o, --output <report.html>", "output file")
  .option("--title <title>", "page title")
  .action((files, o) => guard(() => reportCommand(files, o)));

program.command("demo").description("the main job (npm start): compile the default zoo model, accuracy, latency vs peers")
  .option("--model <name>", "zoo model", "fmnist_resnet20_mbn3x1")
  .option("--n <n>", "test images for natural accuracy", "10000")
  .option("--attack-n <n>", "test images for the PGD-20 evaluation", "500")
  .action((o) => guard(() => demoCommand(o)));

await program.parseAsync(process.argv);
