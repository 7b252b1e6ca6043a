// Compiler, import stage: old ONNX op forms → the forms of opset 11, so that every later stage reads
// one meaning per op. A model at opset v < 11 is rewritten node by node: for each ONNX version change
// of the node's op between the version in force at v and the version in force at 11, the table UPGRADES
// holds exactly one entry — a rule that rewrites the old form (attributes → inputs, legacy broadcasting
// → an explicit Unsqueeze, defaults made explicit) or refuses a form mbn cannot give the old meaning to,
// or `same(why)`: the change does not alter the result of any model valid at the old version (new
// types, negative axes allowed, a new optional output). The graph is then recorded at opset 11; models
// at 11–21 keep their opset and are only checked. No stage below ever sees an older form:
//  * every node's attributes must be ones its op defines at the model's opset (VERSIONS), and after
//    the rules ones it defines at opset 11 — an attribute a rule forgot is a refusal, never ignored;
//  * an op must exist at the model's opset (GreaterOrEqual in an opset-11 model is refused);
//  * below opset 11, a default-domain op this table does not know is refused here, so an op added to
//    the reference interpreter later cannot be read at an old opset with its new meaning;
//  * the reference interpreter refuses graphs recorded below opset 11 (reference/ops.ts).
// Versions and attribute lists: onnx/defs (ONNX's operator schemas; 1–17 checked against onnx 1.12's
// schema registry, 18–21 from the ONNX changelog).
import { fail } from "../errors.ts";
import type { Attr, Node } from "../ir/graph.ts";
import { tensor, type Tensor } from "../ir/tensor.ts";

/** Every graph leaves the importer at this opset or above. */
export const TARGET_OPSET = 11;
export const OLDEST_OPSET = 1;
export const NEWEST_OPSET = 21;

/** Each op mbn implements in the default domain: every ONNX version up to 21 → the attributes it defines. */
export const VERSIONS: Record<string, Record<number, string>> = {
  Identity: { 1: "", 13: "", 14: "", 16: "", 19: "", 21: "" },
  Dropout: { 1: "consumed_inputs is_test ratio", 6: "is_test ratio", 7: "ratio", 10: "ratio", 12: "seed", 13: "seed" },
  Constant: {
    1: "value", 9: "value", 11: "sparse_value value",
    12: "sparse_value value value_float value_floats value_int value_ints value_string value_strings",
    13: "sparse_value value value_float value_floats value_int value_ints value_string value_strings",
    19: "sparse_value value value_float value_floats value_int value_ints value_string value_strings",
    21: "sparse_value value value_float value_floats value_int value_ints value_string value_strings",
  },
  Add: { 1: "axis broadcast consumed_inputs", 6: "axis broadcast", 7: "", 13: "", 14: "" },
  Sub: { 1: "axis broadcast consumed_inputs", 6: "axis broadcast", 7: "", 13: "", 14: "" },
  Mul: { 1: "axis broadcast consumed_inputs", 6: "axis broadcast", 7: "", 13: "", 14: "" },
  Div: { 1: "axis broadcast consumed_inputs", 6: "axis broadcast", 7: "", 13: "", 14: "" },
  Pow: { 1: "axis broadcast", 7: "", 12: "", 13: "", 15: "" },
  Max: { 1: "consumed_inputs", 6: "", 8: "", 12: "", 13: "" },
  Min: { 1: "consumed_inputs", 6: "", 8: "", 12: "", 13: "" },
  Sum: { 1: "consumed_inputs", 6: "", 8: "", 13: "" },
  Neg: { 1: "consumed_inputs", 6: "", 13: "" },
  Abs: { 1: "consumed_inputs", 6: "", 13: "" },
  Sign: { 9: "", 13: "" },
  Sqrt: { 1: "consumed_inputs", 6: "", 13: "" },
  Exp: { 1: "consumed_inputs", 6: "", 13: "" },
  Log: { 1: "consumed_inputs", 6: "", 13: "" },
  Reciprocal: { 1: "consumed_inputs", 6: "", 13: "" },
  Floor: { 1: "consumed_inputs", 6: "", 13: "" },
  Ceil: { 1: "consumed_inputs", 6: "", 13: "" },
  Round: { 11: "" },
  Tanh: { 1: "consumed_inputs", 6: "", 13: "" },
  Sigmoid: { 1: "consumed_inputs", 6: "", 13: "" },
  Relu: { 1: "consumed_inputs", 6: "", 13: "", 14: "" },
  LeakyRelu: { 1: "alpha consumed_inputs", 6: "alpha", 16: "alpha" },
  HardSigmoid: { 1: "alpha beta consumed_inputs", 6: "alpha beta" },
  Elu: { 1: "alpha consumed_inputs", 6: "alpha" },
  Selu: { 1: "alpha consumed_inputs gamma", 6: "alpha gamma" },
  Celu: { 12: "alpha" },
  Softplus: { 1: "" },
  Softsign: { 1: "" },
  HardSwish: { 14: "" },
  ThresholdedRelu: { 10: "alpha" },
  PRelu: { 1: "consumed_inputs", 6: "", 7: "", 9: "", 16: "" },
  Clip: { 1: "consumed_inputs max min", 6: "max min", 11: "", 12: "", 13: "" },
  Not: { 1: "" },
  And: { 1: "axis broadcast", 7: "" },
  Or: { 1: "axis broadcast", 7: "" },
  Equal: { 1: "axis broadcast", 7: "", 11: "", 13: "", 19: "" },
  Greater: { 1: "axis broadcast", 7: "", 9: "", 13: "" },
  GreaterOrEqual: { 12: "", 16: "" },
  Less: { 1: "axis broadcast", 7: "", 9: "", 13: "" },
  LessOrEqual: { 12: "", 16: "" },
  Where: { 9: "", 16: "" },
  Cast: { 1: "to", 6: "to", 9: "to", 13: "to", 19: "saturate to", 21: "saturate to" },
  Shape: { 1: "", 13: "", 15: "end start", 19: "end start", 21: "end start" },
  Size: { 1: "", 13: "", 19: "", 21: "" },
  ConstantOfShape: { 9: "value", 20: "value", 21: "value" },
  Gather: { 1: "axis", 11: "axis", 13: "axis" },
  Unsqueeze: { 1: "axes", 11: "axes", 13: "", 21: "" },
  Squeeze: { 1: "axes", 11: "axes", 13: "", 21: "" },
  Flatten: { 1: "axis", 9: "axis", 11: "axis", 13: "axis", 21: "axis" },
  Reshape: { 1: "consumed_inputs shape", 5: "", 13: "", 14: "allowzero", 19: "allowzero", 21: "allowzero" },
  Transpose: { 1: "perm", 13: "perm", 21: "perm" },
  Concat: { 1: "axis", 4: "axis", 11: "axis", 13: "axis" },
  Expand: { 8: "", 13: "" },
  Range: { 11: "" },
  Slice: { 1: "axes ends starts", 10: "", 11: "", 13: "" },
  Pad: { 2: "mode pads value", 11: "mode", 13: "mode", 18: "mode", 19: "mode", 21: "mode" },
  ReduceMean: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  ReduceMax: { 1: "axes keepdims", 11: "axes keepdims", 12: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes", 20: "keepdims noop_with_empty_axes" },
  ReduceMin: { 1: "axes keepdims", 11: "axes keepdims", 12: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes", 20: "keepdims noop_with_empty_axes" },
  ReduceSum: { 1: "axes keepdims", 11: "axes keepdims", 13: "keepdims noop_with_empty_axes" },
  ReduceProd: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  ReduceSumSquare: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  ReduceL1: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  ReduceL2: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  ReduceLogSum: { 1: "axes keepdims", 11: "axes keepdims", 13: "axes keepdims", 18: "keepdims noop_with_empty_axes" },
  Softmax: { 1: "axis", 11: "axis", 13: "axis" },
  LogSoftmax: { 1: "axis", 11: "axis", 13: "axis" },
  Conv: { 1: "auto_pad dilations group kernel_shape pads strides", 11: "auto_pad dilations group kernel_shape pads strides" },
  ConvTranspose: {
    1: "auto_pad dilations group kernel_shape output_padding output_shape pads strides",
    11: "auto_pad dilations group kernel_shape output_padding output_shape pads strides",
  },
  BatchNormalization: {
    1: "consumed_inputs epsilon is_test momentum spatial", 6: "epsilon is_test momentum spatial", 7: "epsilon momentum spatial",
    9: "epsilon momentum", 14: "epsilon momentum training_mode", 15: "epsilon momentum training_mode",
  },
  Gemm: {
    1: "alpha beta broadcast transA transB", 6: "alpha beta broadcast transA transB", 7: "alpha beta transA transB",
    9: "alpha beta transA transB", 11: "alpha beta transA transB", 13: "alpha beta transA transB",
  },
  MatMul: { 1: "", 9: "", 13: "" },
  MaxPool: {
    1: "auto_pad kernel_shape pads strides", 8: "auto_pad kernel_shape pads storage_order strides",
    10: "auto_pad ceil_mode dilations kernel_shape pads storage_order strides", 11: "auto_pad ceil_mode dilations kernel_shape pads storage_order strides",
    12: "auto_pad ceil_mode dilations kernel_shape pads storage_order strides",
  },
  AveragePool: {
    1: "auto_pad kernel_shape pads strides", 7: "auto_pad count_include_pad kernel_shape pads strides",
    10: "auto_pad ceil_mode count_include_pad kernel_shape pads strides", 11: "auto_pad ceil_mode count_include_pad kernel_shape pads strides",
    19: "auto_pad ceil_mode count_include_pad dilations kernel_shape pads strides",
  },
  GlobalAveragePool: { 1: "" },
  GlobalMaxPool: { 1: "" },
  LRN: { 1: "alpha beta bias size", 13: "alpha beta bias size" },
  Mean: { 1: "consumed_inputs", 6: "", 8: "", 13: "" },
  Mod: { 10: "fmod", 13: "fmod" },
  Xor: { 1: "axis broadcast", 7: "" },
  Sin: { 7: "" }, Cos: { 7: "" }, Tan: { 7: "" }, Asin: { 7: "" }, Acos: { 7: "" }, Atan: { 7: "" },
  Sinh: { 9: "" }, Cosh: { 9: "" }, Asinh: { 9: "" }, Acosh: { 9: "" }, Atanh: { 9: "" },
  Erf: { 9: "", 13: "" },
  Shrink: { 9: "bias lambd" },
  Hardmax: { 1: "axis", 11: "axis", 13: "axis" },
  TopK: { 1: "axis k", 10: "axis", 11: "axis largest sorted" },
  MeanVarianceNormalization: { 1: "across_channels normalize_variance", 9: "axes", 13: "axes" },
  InstanceNormalization: { 1: "consumed_inputs epsilon", 6: "epsilon" },
  LayerNormalization: { 17: "axis epsilon stash_type" },
  Gelu: { 20: "approximate" },
  ArgMax: { 1: "axis keepdims", 11: "axis keepdims", 12: "axis keepdims select_last_index", 13: "axis keepdims select_last_index" },
  ArgMin: { 1: "axis keepdims", 11: "axis keepdims", 12: "axis keepdims select_last_index", 13: "axis keepdims select_last_index" },
  DepthToSpace: { 1: "blocksize", 11: "blocksize mode", 13: "blocksize mode" },
  SpaceToDepth: { 1: "blocksize", 13: "blocksize" },
  Tile: { 1: "", 6: "", 13: "" },
  Split: { 1: "axis split", 2: "axis split", 11: "axis split", 13: "axis", 18: "axis num_outputs" },
  Upsample: { 7: "mode scales", 9: "mode" }, // deprecated at 10 (CANONICAL turns it into Resize)
  GridSample: { 16: "align_corners mode padding_mode", 20: "align_corners mode padding_mode" },
  RNN: {
    1: "activation_alpha activation_beta activations clip direction hidden_size output_sequence",
    7: "activation_alpha activation_beta activations clip direction hidden_size",
    14: "activation_alpha activation_beta activations clip direction hidden_size layout",
  },
  GRU: {
    1: "activation_alpha activation_beta activations clip direction hidden_size output_sequence",
    3: "activation_alpha activation_beta activations clip direction hidden_size linear_before_reset output_sequence",
    7: "activation_alpha activation_beta activations clip direction hidden_size linear_before_reset",
    14: "activation_alpha activation_beta activations clip direction hidden_size layout linear_before_reset",
  },
  LSTM: {
    1: "activation_alpha activation_beta activations clip direction hidden_size input_forget output_sequence",
    7: "activation_alpha activation_beta activations clip direction hidden_size input_forget",
    14: "activation_alpha activation_beta activations clip direction hidden_size input_forget layout",
  },
  Resize: {
    10: "mode",
    11: "coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value mode nearest_mode",
    13: "coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value mode nearest_mode",
    18: "antialias axes coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value keep_aspect_ratio_policy mode nearest_mode",
    19: "antialias axes coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value keep_aspect_ratio_policy mode nearest_mode",
  },
  QuantizeLinear: { 10: "", 13: "axis", 19: "axis saturate", 21: "axis block_size output_dtype saturate" },
  DequantizeLinear: { 10: "", 13: "axis", 19: "axis", 21: "axis block_size" },
};

/** What a rule may do besides rewriting its node. */
export interface UpgradeCtx {
  opset: number; // the model's
  from: number; // the op version in force at the model's opset
  /** Refuse the node with one line. */
  refuse(why: string): never;
  /** A new initializer (name made unique from `base`); returns its name. */
  constant(base: string, t: Tensor): string;
  /** A new node inserted before the one being upgraded (already in its opset-11 form); returns its output name. */
  insert(op: string, inputs: string[], attrs: Record<string, Attr>, base: string): string;
  /** The rank of a tensor produced before this node, if the graph says (declared shapes, constants, producers). */
  rankOf(name: string): number | undefined;
  /** The constant (initializer) of that name, if it is one. */
  constOf(name: string): Tensor | undefined;
}

/** One ONNX version change: `apply` rewrites the form before it into the form at it (same node, edited); none = `same`. */
export interface Change {
  why: string;
  apply?: (n: Node, cx: UpgradeCtx) => void;
}

const same = (why: string): Change => ({ why });
// RNN/GRU/LSTM-1's output_sequence: 0 (the default) leaves Y unproduced; 7 drops the attribute and produces Y whenever it is named
const outputSequence: Change = {
  why: "output_sequence removed (Y is produced when it is named)",
  apply: (n, cx) => {
    if (n.attrs.output_sequence !== undefined && n.attrs.output_sequence !== 0 && n.attrs.output_sequence !== 1) return cx.refuse("output_sequence is not 0 or 1");
    if (!n.attrs.output_sequence && n.outputs[0]) return cx.refuse(`${n.op}-1 with output_sequence=0 names output Y, which it does not produce`);
    delete n.attrs.output_sequence;
  },
};
const FLT_MAX = 3.4028234663852886e38; // numeric_limits<float>::max()

const dropConsumed: Change = {
  why: "consumed_inputs (a legacy in-place hint with no effect on values) removed",
  apply: (n) => void delete n.attrs.consumed_inputs,
};

/**
 * Before opset 7, Add/Sub/Mul/Div/Pow and the logical/comparison ops broadcast only with broadcast=1,
 * and then B (the second input) to A's shape: B a scalar / one element, or equal to a contiguous run of
 * A's dimensions starting at `axis` (suffix when axis is not set). Without `axis`, or when the run ends
 * at A's last axis, that is NumPy's alignment of trailing dimensions; otherwise B gets trailing 1s
 * (Unsqueeze) so that NumPy broadcasting lines it up at `axis`. broadcast=0 means equal shapes, where
 * NumPy broadcasting gives the same result.
 */
const legacyBroadcast: Change = {
  why: "broadcast/axis attributes replaced by NumPy broadcasting",
  apply: (n, cx) => {
    const on = n.attrs.broadcast, axis = n.attrs.axis;
    delete n.attrs.broadcast;
    delete n.attrs.axis;
    if (on !== undefined && typeof on !== "number") return cx.refuse("attribute 'broadcast' is not an integer");
    if (!on || axis === undefined) return;
    if (typeof axis !== "number") return cx.refuse("attribute 'axis' is not an integer");
    const [a, b] = n.inputs;
    const ra = cx.rankOf(a), rb = cx.rankOf(b);
    if (ra === undefined || rb === undefined) {
      return cx.refuse(`legacy broadcasting (broadcast=1, axis=${axis}) needs the ranks of '${a}' and '${b}', which the model does not state: re-export at opset 7 or later`);
    }
    const at = axis < 0 ? axis + ra : axis;
    const trailing = ra - at - rb;
    if (at < 0 || trailing < 0) return cx.refuse(`legacy broadcasting of a rank-${rb} input at axis ${axis} of a rank-${ra} input does not fit`);
    if (trailing === 0) return;
    n.inputs[1] = cx.insert("Unsqueeze", [b], { axes: Array.from({ length: trailing }, (_, i) => rb + i) }, `${b}_at_axis${at}`);
  },
};

/** Clip-6's min/max attributes (defaults: numeric_limits<float>::lowest() and max()) become the inputs of Clip-11. */
const clipInputs: Change = {
  why: "min/max attributes became inputs",
  apply: (n, cx) => {
    const bound = (k: "min" | "max", dflt: number) => {
      const v = n.attrs[k];
      if (v !== undefined && typeof v !== "number") return cx.refuse(`attribute '${k}' is not a number`);
      delete n.attrs[k];
      return cx.constant(`${n.name}_${k}`, tensor("float", [], [v ?? dflt]));
    };
    n.inputs = [n.inputs[0], bound("min", -FLT_MAX), bound("max", FLT_MAX)];
  },
};

/** Before opset 7, Dropout and BatchNormalization run in training mode unless is_test is non-zero (default 0). */
const isTest = (what: string): Change => ({
  why: "is_test removed (the runtime decides the mode; mbn runs inference)",
  apply: (n, cx) => {
    const t = n.attrs.is_test;
    delete n.attrs.is_test;
    if (typeof t !== "number" || t === 0) {
      cx.refuse(`${n.op}-${cx.from} with is_test=${t ?? "0 (the default)"} is training mode (${what}); mbn compiles inference graphs (is_test=1)`);
    }
  },
});

const TYPE_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
};

const intInput = (n: Node, cx: UpgradeCtx, k: string): string | undefined => {
  const v = n.attrs[k];
  delete n.attrs[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) return cx.refuse(`attribute '${k}' is not a list of integers`);
  return cx.constant(`${n.name}_${k}`, tensor("int", [v.length], v as number[]));
};

/** For ONNX version changes of op X between 1 and 11: the version that introduced the change → what it changed. */
export const UPGRADES: Record<string, Record<number, Change>> = {
  Dropout: {
    6: dropConsumed,
    7: isTest("random dropout"),
    10: same("the mask output became bool; mbn never computes the mask"),
  },
  Constant: { 9: same("more value types"), 11: same("sparse_value added") },
  Add: { 6: dropConsumed, 7: legacyBroadcast },
  Sub: { 6: dropConsumed, 7: legacyBroadcast },
  Mul: { 6: dropConsumed, 7: legacyBroadcast },
  Div: { 6: dropConsumed, 7: legacyBroadcast },
  Pow: { 7: legacyBroadcast },
  Max: { 6: dropConsumed, 8: same("NumPy broadcasting; before it, inputs had equal shapes") },
  Min: { 6: dropConsumed, 8: same("NumPy broadcasting; before it, inputs had equal shapes") },
  Sum: { 6: dropConsumed, 8: same("NumPy broadcasting; before it, inputs had equal shapes") },
  Neg: { 6: dropConsumed },
  Abs: { 6: dropConsumed },
  Sqrt: { 6: dropConsumed },
  Exp: { 6: dropConsumed },
  Log: { 6: dropConsumed },
  Reciprocal: { 6: dropConsumed },
  Floor: { 6: dropConsumed },
  Ceil: { 6: dropConsumed },
  Tanh: { 6: dropConsumed },
  Sigmoid: { 6: dropConsumed },
  Relu: { 6: dropConsumed },
  LeakyRelu: { 6: dropConsumed },
  HardSigmoid: { 6: dropConsumed },
  Elu: { 6: dropConsumed },
  Selu: { 6: dropConsumed },
  PRelu: {
    6: dropConsumed,
    7: {
      // PRelu-6: a slope of one element is shared, a slope [C] is per channel (axis 1, as the
      // exporters of that time wrote it); from 7 on the slope broadcasts NumPy-style from the right,
      // so a [C] slope of an [N, C, spatial…] input gets trailing 1s.
      why: "the slope broadcasts unidirectionally (before: one element, or one per channel)",
      apply: (n, cx) => {
        const [x, s] = n.inputs;
        const rx = cx.rankOf(x), rs = cx.rankOf(s);
        if (rx === undefined || rs === undefined) return cx.refuse(`PRelu-6 needs the ranks of '${x}' and '${s}', which the model does not state: re-export at opset 7 or later`);
        if (rs > 1) return cx.refuse(`PRelu-6 slope of rank ${rs}: the old rule defined one element or one per channel; re-export at opset 7 or later`);
        if (rs === 1 && rx > 2) n.inputs[1] = cx.insert("Unsqueeze", [s], { axes: Array.from({ length: rx - 2 }, (_, i) => 1 + i) }, `${s}_per_channel`);
      },
    },
    9: same("integer types added"),
  },
  Clip: { 6: dropConsumed, 11: clipInputs },
  And: { 7: legacyBroadcast },
  Or: { 7: legacyBroadcast },
  Equal: { 7: legacyBroadcast, 11: same("float types added") },
  Greater: { 7: legacyBroadcast, 9: same("integer types added") },
  Less: { 7: legacyBroadcast, 9: same("integer types added") },
  Cast: {
    6: {
      why: "'to' became an integer (TensorProto.DataType) instead of the type's name",
      apply: (n, cx) => {
        const to = n.attrs.to;
        if (typeof to === "number") return; // already the enum value
        const t = typeof to === "string" ? TYPE_NAMES[to.toUpperCase()] : undefined;
        if (t === undefined) return cx.refuse(`Cast-1 to '${String(to)}' is not a TensorProto data type name`);
        n.attrs.to = t;
      },
    },
    9: same("string types added"),
  },
  Gather: { 11: same("negative indices allowed") },
  Mean: { 6: dropConsumed, 8: same("NumPy broadcasting; before it, inputs had equal shapes") },
  Xor: { 7: legacyBroadcast },
  Hardmax: { 11: same("negative axis allowed") },
  TopK: {
    10: {
      why: "k became the second input",
      apply: (n, cx) => {
        const k = n.attrs.k;
        delete n.attrs.k;
        if (typeof k !== "number") return cx.refuse("TopK-1 without an integer 'k'");
        n.inputs = [n.inputs[0], cx.constant(`${n.name}_k`, tensor("int", [1], [k]))];
      },
    },
    11: same("negative axis, largest and sorted added (defaults: the old behaviour)"),
  },
  ArgMax: { 11: same("negative axis allowed") },
  MeanVarianceNormalization: {
    9: { why: "across_channels/normalize_variance became axes", apply: (_n, cx) => cx.refuse("MeanVarianceNormalization-1 (across_channels/normalize_variance) is not supported; re-export at opset 9 or later") },
  },
  InstanceNormalization: { 6: dropConsumed },
  ArgMin: { 11: same("negative axis allowed") },
  ConvTranspose: { 11: same("pads may be omitted with auto_pad; the old forms mean the same") },
  DepthToSpace: { 11: same("mode added; its default DCR is the old behaviour") },
  Tile: {
    6: {
      why: "Tile-1's (tiles, axis) inputs became one repeats input",
      apply: (_n, cx) => cx.refuse("Tile-1 (tiles and axis inputs) is not supported; re-export at opset 6 or later"),
    },
  },
  Split: {
    2: {
      why: "the split sizes may no longer be a second input",
      apply: (n, cx) => void (n.inputs.length > 1 && n.inputs[1] ? cx.refuse("Split-1 with split sizes as an input is not supported; re-export at opset 2 or later") : (n.inputs = [n.inputs[0]])),
    },
    11: same("negative axis allowed"),
  },
  Resize: {
    11: {
      // Resize-10 (like Upsample) maps output o to input o / scale, rounded down for nearest
      // (onnxruntime's reading of the opset-10 text); 11 makes the mapping an attribute and adds roi
      why: "roi input and coordinate_transformation_mode added",
      apply: (n, cx) => {
        // onnxruntime reads Resize-10's nearest downsampling as ceil(o / scale) ("SIMPLE"), the text
        // says nothing: a scale below 1 has no agreed meaning, so it is refused
        const sc = cx.constOf(n.inputs[1]);
        if (!sc) return cx.refuse("Resize-10 needs constant scales");
        if ((n.attrs.mode ?? "nearest") === "nearest" && Array.from(sc.data).some((v) => v < 1)) return cx.refuse("Resize-10 downsampling (a scale below 1) has no agreed nearest rule; re-export at opset 11 or later");
        n.inputs = [n.inputs[0], "", n.inputs[1]];
        n.attrs.coordinate_transformation_mode = "asymmetric";
        if ((n.attrs.mode ?? "nearest") === "nearest") n.attrs.nearest_mode = "floor";
      },
    },
  },
  RNN: { 7: outputSequence },
  GRU: { 3: same("linear_before_reset added; its default 0 is the old behaviour"), 7: outputSequence },
  LSTM: { 7: outputSequence },
  Upsample: {
    9: {
      why: "the scales attribute became the second input",
      apply: (n, cx) => {
        const sc = n.attrs.scales;
        if (!Array.isArray(sc) || !sc.every((v) => typeof v === "number")) return cx.refuse("Upsample-7 without a 'scales' attribute");
        delete n.attrs.scales;
        n.inputs = [n.inputs[0], cx.constant(`${n.name}_scales`, tensor("float", [sc.length], sc as number[]))];
      },
    },
  },
  Unsqueeze: { 11: same("negative axes allowed") },
  Squeeze: { 11: same("negative axes allowed") },
  Flatten: { 9: same("more types"), 11: same("negative axis allowed") },
  Reshape: {
    5: {
      why: "the shape attribute became the second input",
      apply: (n, cx) => {
        delete n.attrs.consumed_inputs;
        const s = intInput(n, cx, "shape");
        if (!s) return cx.refuse("Reshape-1 without a 'shape' attribute");
        n.inputs = [n.inputs[0], s];
      },
    },
  },
  Concat: {
    4: {
      why: "axis became required; Concat-1's default was 1",
      apply: (n) => void (n.attrs.axis ??= 1),
    },
    11: same("negative axis allowed"),
  },
  Pad: {
    11: {
      why: "pads and value attributes became inputs",
      apply: (n, cx) => {
        const pads = intInput(n, cx, "pads");
        if (!pads) return cx.refuse("Pad-2 without 'pads'");
        const v = n.attrs.value;
        delete n.attrs.value;
        if (v !== undefined && typeof v !== "number") return cx.refuse("attribute 'value' is not a number");
        n.inputs = [n.inputs[0], pads, cx.constant(`${n.name}_value`, tensor("float", [], [v ?? 0]))];
      },
    },
  },
  Slice: {
    10: {
      why: "starts/ends/axes attributes became inputs (and steps, default 1, was added)",
      apply: (n, cx) => {
        const starts = intInput(n, cx, "starts"), ends = intInput(n, cx, "ends"), axes = intInput(n, cx, "axes");
        if (!starts || !ends) return cx.refuse("Slice-1 without 'starts' and 'ends'");
        n.inputs = axes ? [n.inputs[0], starts, ends, axes] : [n.inputs[0], starts, ends];
      },
    },
    11: same("negative axes allowed"),
  },
  ReduceMean: { 11: same("negative axes allowed") },
  ReduceMax: { 11: same("negative axes allowed") },
  ReduceMin: { 11: same("negative axes allowed") },
  ReduceSum: { 11: same("negative axes allowed") },
  ReduceProd: { 11: same("negative axes allowed") },
  ReduceSumSquare: { 11: same("negative axes allowed") },
  ReduceL1: { 11: same("negative axes allowed") },
  ReduceL2: { 11: same("negative axes allowed") },
  ReduceLogSum: { 11: same("negative axes allowed") },
  // the 2-D coercion [Π d<axis, Π d≥axis] stays until opset 13; the graph records 11, which keeps it
  Softmax: { 11: same("negative axis allowed") },
  LogSoftmax: { 11: same("negative axis allowed") },
  Conv: { 11: same("the SAME_* padding rule reworded (output = ceil(input / stride)), unchanged") },
  BatchNormalization: {
    6: dropConsumed,
    7: isTest("normalising by the batch's own statistics"),
    9: {
      why: "spatial removed (always per channel)",
      apply: (n, cx) => {
        const s = n.attrs.spatial;
        delete n.attrs.spatial;
        if (s !== undefined && s !== 1) cx.refuse(`spatial=${String(s)} (statistics per activation instead of per channel) is not supported`);
      },
    },
  },
  Gemm: {
    6: same("C's in-place hint dropped, types"),
    7: {
      why: "broadcast removed: C broadcasts unidirectionally to (M, N) (broadcast=0 required C of shape (M, N), which broadcasts the same)",
      apply: (n) => void delete n.attrs.broadcast,
    },
    9: same("integer types added"),
    11: same("C became optional"),
  },
  MatMul: { 9: same("integer types added") },
  MaxPool: {
    8: same("storage_order and the Indices output added (mbn never computes Indices)"),
    10: same("ceil_mode and dilations added (defaults: floor, 1)"),
    11: same("the SAME_* padding rule reworded, unchanged"),
  },
  AveragePool: {
    7: same("count_include_pad added; its default 0 is AveragePool-1's rule (divide by the elements excluding pads)"),
    10: same("ceil_mode added (default floor)"),
    11: same("the SAME_* padding rule reworded, unchanged"),
  },
};

/**
 * Defaults made explicit at every opset, where a later stage would otherwise have to know them: Clip's
 * omitted min/max are numeric_limits<float>::lowest()/max() (Clip-6 and Clip-11+ alike; onnxruntime
 * clamps ±inf to ±FLT_MAX), not ±inf.
 */
export const CANONICAL: Record<string, (n: Node, cx: UpgradeCtx) => void> = {
  // Upsample-7/9 (y index o reads x at o / scale, output floor(d·scale)) is Resize-10's form, which
  // onnxruntime runs as asymmetric coordinates, nearest rounded down; scales below 1 have no agreed meaning
  Upsample: (n, cx) => {
    if (cx.opset >= 10) return cx.refuse(`Upsample is deprecated from opset 10 (this model is at ${cx.opset}); use Resize`);
    const mode = n.attrs.mode ?? "nearest", sc = cx.constOf(n.inputs[1]);
    if (mode !== "nearest" && mode !== "linear") return cx.refuse(`Upsample mode '${String(mode)}' is not nearest or linear`);
    if (!sc) return cx.refuse("Upsample needs constant scales");
    if (Array.from(sc.data).some((v) => v < 1)) return cx.refuse("Upsample scales below 1 (downsampling) have no agreed meaning");
    n.op = "Resize";
    n.inputs = [n.inputs[0], "", n.inputs[1]];
    n.attrs = { mode, coordinate_transformation_mode: "asymmetric", ...(mode === "nearest" ? { nearest_mode: "floor" } : {}) };
  },
  Clip: (n, cx) => {
    const bound = (i: number, v: number) => (n.inputs[i] ? n.inputs[i] : cx.constant(`${n.name}_${i === 1 ? "min" : "max"}`, tensor("float", [], [v])));
    n.inputs = [n.inputs[0], bound(1, -FLT_MAX), bound(2, FLT_MAX)];
  },
};

const attrSet = (op: string, v: number) => new Set(VERSIONS[op][v].split(" ").filter(Boolean));

/** The version of `op` in force at `opset` (undefined: the op does not exist yet). */
export function versionAt(op: string, opset: number): number | undefined {
  let best: number | undefined;
  for (const k of Object.keys(VERSIONS[op] ?? {})) {
    const v = Number(k);
    if (v <= opset && (best === undefined || v > best)) best = v;
  }
  return best;
}

/** Rank of a node's output from its opset-11 form and its inputs' ranks (undefined: not known statically). */
export function outputRank(n: Node, rank: (name: string) => number | undefined, consts: Map<string, Tensor>): number | undefined {
  const r0 = () => (n.inputs[0] ? rank(n.inputs[0]) : undefined);
  const ints = (k: string) => (Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : undefined);
  switch (n.op) {
    case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Max": case "Min": case "Sum": case "And": case "Or":
    case "Equal": case "Greater": case "Less": case "GreaterOrEqual": case "LessOrEqual": case "Where": {
      const rs = n.inputs.filter(Boolean).map(rank);
      return rs.some((r) => r === undefined) ? undefined : Math.max(...(rs as number[]));
    }
    case "Flatten": case "Gemm": return 2;
    case "Shape": case "Range": return 1;
    case "Size": return 0;
    case "MatMul": {
      const ra = r0(), rb = n.inputs[1] ? rank(n.inputs[1]) : undefined;
      if (ra === undefined || rb === undefined) return undefined;
      return rb === 1 ? ra - 1 : ra === 1 ? rb - 1 : Math.max(ra, rb);
    }
    case "Reshape": return n.inputs[1] && consts.has(n.inputs[1]) ? consts.get(n.inputs[1])!.data.length : undefined;
    case "Squeeze": { const r = r0(), ax = ints("axes"); return r === undefined || !ax ? undefined : r - new Set(ax).size; }
    case "Unsqueeze": { const r = r0(), ax = ints("axes"); return r === undefined || !ax ? undefined : r + ax.length; }
    case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceSum": case "ReduceProd": case "ReduceSumSquare":
    case "ReduceL1": case "ReduceL2": case "ReduceLogSum": {
      const r = r0();
      if (r === undefined) return undefined;
      if (n.attrs.keepdims !== 0) return r;
      const ax = ints("axes");
      return ax ? r - new Set(ax.map((a) => (a < 0 ? a + r : a))).size : 0;
    }
    case "Gather": {
      const r = r0(), ri = n.inputs[1] ? rank(n.inputs[1]) : undefined;
      return r === undefined || ri === undefined ? undefined : r - 1 + ri;
    }
    case "Constant": {
      const v = n.attrs.value ?? n.attrs.value_float ?? n.attrs.value_int ?? n.attrs.value_floats ?? n.attrs.value_ints;
      return v === undefined ? undefined : Array.isArray(v) ? 1 : typeof v === "number" ? 0 : typeof v === "object" ? (v as Tensor).shape.length : undefined;
    }
    case "ConstantOfShape": { // output rank = the length of the shape vector
      const t = n.inputs[0] ? consts.get(n.inputs[0]) : undefined;
      return t ? t.data.length : undefined;
    }
    case "Expand": {
      const t = n.inputs[1] ? consts.get(n.inputs[1]) : undefined, r = r0();
      return t && r !== undefined ? Math.max(r, t.data.length) : undefined;
    }
    case "Identity": case "Dropout": case "Neg": case "Abs": case "Sign": case "Sqrt": case "Exp": case "Log": case "Reciprocal":
    case "Floor": case "Ceil": case "Round": case "Tanh": case "Sigmoid": case "Relu": case "LeakyRelu": case "HardSigmoid":
    case "Elu": case "Selu": case "Softplus": case "Softsign": case "ThresholdedRelu": case "PRelu":
    case "Clip": case "Not": case "Cast": case "Transpose": case "Concat": case "Slice": case "Softmax": case "LogSoftmax":
    case "Conv": case "BatchNormalization": case "MaxPool": case "AveragePool": case "GlobalAveragePool": case "GlobalMaxPool":
    case "QuantizeLinear": case "DequantizeLinear": case "Quant": case "IntQuant": case "BipolarQuant": case "MultiThreshold": case "Trunc":
      return r0();
    default:
      return undefined;
  }
}

export interface UpgradeInput {
  file: string;
  opset: number;
  nodes: Node[]; // topologically sorted
  consts: Map<string, Tensor>; // initializers; rules add to it
  declaredRanks: Map<string, number>; // graph inputs, outputs and value_info with a stated shape
  reserved: string[]; // every other name new tensors must not take (graph inputs and outputs)
  isDefaultDomain: (n: Node) => boolean;
}

/**
 * Check every node against its op's definition at the model's opset and, below TARGET_OPSET, rewrite
 * it to its opset-11 form. Returns the new node list (topologically sorted) and the opset to record.
 */
export function upgradeGraph(u: UpgradeInput): { nodes: Node[]; opset: number } {
  const { file, opset, consts } = u;
  const names = new Set<string>([...consts.keys(), ...u.declaredRanks.keys(), ...u.reserved]);
  for (const n of u.nodes) {
    names.add(n.name);
    n.inputs.forEach((i) => i && names.add(i));
    n.outputs.forEach((o) => o && names.add(o));
  }
  const fresh = (base: string) => {
    let s = base, k = 1;
    while (names.has(s)) s = `${base}_${k++}`;
    names.add(s);
    return s;
  };
  const producer = new Map<string, Node>();
  const rankMemo = new Map<string, number | undefined>();
  const rankOf = (name: string): number | undefined => {
    if (rankMemo.has(name)) return rankMemo.get(name);
    const c = consts.get(name);
    let r: number | undefined = c ? c.shape.length : undefined;
    const p = producer.get(name);
    if (r === undefined && p && p.outputs[0] === name) r = outputRank(p, rankOf, consts);
    if (r === undefined) r = u.declaredRanks.get(name);
    rankMemo.set(name, r);
    return r;
  };

  const out: Node[] = [];
  for (const node of u.nodes) {
    const where = { file, node: node.name, op: node.op };
    if (!u.isDefaultDomain(node)) {
      out.push(node);
      node.outputs.forEach((o) => o && producer.set(o, node));
      continue;
    }
    const versions = VERSIONS[node.op];
    if (!versions) {
      // below 11 an op this table does not know would be read with its opset-11+ meaning: refuse it here
      if (opset < TARGET_OPSET) fail(`operator '${node.op}' is not supported by mbn`, where);
      out.push(node);
      node.outputs.forEach((o) => o && producer.set(o, node));
      continue;
    }
    const from = versionAt(node.op, opset);
    if (from === undefined) {
      const first = Math.min(...Object.keys(versions).map(Number));
      fail(`operator '${node.op}' does not exist in ONNX opset ${opset} (it was added in opset ${first})`, where);
    }
    const checkAttrs = (m: Node, v: number, when: string) => {
      const ok = attrSet(m.op, v);
      for (const k of Object.keys(m.attrs)) {
        if (!ok.has(k)) fail(`attribute '${k}' is not defined for ${node.op}-${v}${when}`, where);
      }
    };
    checkAttrs(node, from, ` (the version in ONNX opset ${opset})`);
    const n: Node = { ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } };
    const cx: UpgradeCtx = {
      opset,
      from,
      refuse: (why) => fail(why, where),
      constant: (base, t) => {
        const name = fresh(base);
        consts.set(name, t);
        rankMemo.set(name, t.shape.length);
        return name;
      },
      insert: (op, inputs, attrs, base) => {
        const o = fresh(base);
        const aux: Node = { name: fresh(`${n.name}/${op}`), op, domain: "", inputs, outputs: [o], attrs };
        out.push(aux);
        producer.set(o, aux);
        return o;
      },
      rankOf,
      constOf: (name) => consts.get(name),
    };
    if (opset < TARGET_OPSET) {
      const to = versionAt(node.op, TARGET_OPSET)!;
      for (const v of Object.keys(versions).map(Number).sort((a, b) => a - b)) {
        if (v <= from || v > to) continue;
        const change = UPGRADES[node.op]?.[v];
        if (!change) fail(`internal compiler error: no upgrade entry for ${node.op}-${v}`, where);
        change.apply?.(n, cx);
      }
      // whatever the rules left must be a form opset 11 defines (an attribute nobody handled is refused)
      checkAttrs(n, to, ` (opset ${TARGET_OPSET}, to which this opset-${opset} model is upgraded)`);
    }
    CANONICAL[n.op]?.(n, cx);
    out.push(n);
    n.outputs.forEach((o) => o && producer.set(o, n));
  }
  return { nodes: out, opset: Math.max(opset, TARGET_OPSET) };
}
