// Reference interpreter: the definition of every ONNX op mbn accepts, as a table op → function.
// Float results are float32 (rounded after every op, as ONNX runtimes do); integer results exact.
// Used for constant folding, quantizer probing and shape inference; never on a hot path.
// Each op's evaluation lives in its op module (compiler/ops/*); the table is derived by ops/registry.ts,
// and the helpers they share are in ./kit.ts.
export { OPS } from "../ops/registry.ts";
export { MIN_GRAPH_OPSET, req, roundHalfEven, type OpFn } from "./kit.ts";
