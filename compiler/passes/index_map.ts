// Lowering helper: pure data-movement ops as index maps. Transpose of any rank, DepthToSpace,
// SpaceToDepth, Slice, Split, Tile, Expand, Gather with constant indices, Pad in any mode, nearest
// Resize: each output element is one input element or a constant, so the op is the table
// idx[i] (or −1 for the constant) that the runtime's gather_f32 kernel applies.
// The table is not derived by hand per op: the reference interpreter runs the node itself on an
// index tensor x[j] = j (held exactly as integers), and on x[j] = j + 1: an output that moves with the
// input is that index; one that does not is the constant. A third run on a permutation of the
// indices must give perm[idx[i]], which rules out any op that computes with the values (a linear
// resize, a mean) however its results happen to fall.
import { evalNode } from "../reference/interpret.ts";
import { fail, type ErrorWhere as Where } from "../errors.ts";
import type { Graph, Node } from "../ir/graph.ts";
import { sizeOf, type Tensor } from "../ir/tensor.ts";

export interface IndexMap {
  idx: Int32Array;
  fill: number;
  outShape: number[];
}

const MAX_ELEMENTS = 1 << 26; // the table costs 4 bytes per output element in the bundle

/** Ops lowered by an index map (OpDef.indexMap; their first input is the data; every other input must be constant). */
export { INDEX_MAP_OPS } from "../ops/registry.ts";

function runOn(g: Graph, n: Node, data: Tensor, out: number): Tensor {
  const env = new Map<string, Tensor>([[n.inputs[0], data]]);
  return evalNode(g, n, env)[out];
}

const ints = (shape: number[], v: (j: number) => number): Tensor => {
  const data = new Float64Array(sizeOf(shape));
  for (let j = 0; j < data.length; j++) data[j] = v(j);
  return { dtype: "int", shape, data };
};

/**
 * The index map of output `out` of node n reading a tensor of shape inShape, or a reason it is
 * not one. The constant (Pad's value) must be a single value across the output.
 */
export function indexMapOf(g: Graph, n: Node, inShape: number[], out: number, where: Where): IndexMap {
  for (const i of n.inputs.slice(1)) if (i && !g.consts.has(i)) fail(`input '${i}' must be constant (only the data input may be an activation)`, where);
  const N = sizeOf(inShape);
  if (N >= MAX_ELEMENTS) fail(`input of ${N} elements is too large for an index map`, where);
  const a = runOn(g, n, ints(inShape, (j) => j), out);
  const b = runOn(g, n, ints(inShape, (j) => j + 1), out);
  // a permutation of the indices: j ↦ (j·p + 13) mod N with p a prime that does not divide N
  const p = [7919, 7927, 7933].find((q) => N % q !== 0)!;
  const perm = Array.from({ length: N }, (_, j) => (j * p + 13) % N);
  const c = runOn(g, n, ints(inShape, (j) => perm[j]), out);
  if (a.data.length >= MAX_ELEMENTS) fail(`output of ${a.data.length} elements is too large for an index map`, where);
  const idx = new Int32Array(a.data.length);
  let fill: number | undefined;
  for (let i = 0; i < idx.length; i++) {
    const va = a.data[i], vb = b.data[i];
    if (vb - va === 1 && Number.isInteger(va) && va >= 0 && va < N && c.data[i] === perm[va]) idx[i] = va;
    else if (va === vb && (c.data[i] === va || (Number.isNaN(va) && Number.isNaN(c.data[i])))) {
      if (fill !== undefined && !Object.is(fill, va) && fill !== va) fail(`${n.op} fills with more than one constant (${fill}, ${va})`, where);
      fill = va;
      idx[i] = -1;
    } else fail(`${n.op} computes with its input's values here; it is not a pure data movement`, where);
  }
  return { idx, fill: Math.fround(fill ?? 0), outShape: a.shape };
}

/** Whether the map, computed at batch 1, repeats block by block at batch 2 (the batch axis is left alone). */
export function keepsBatch(g: Graph, n: Node, inShape: number[], out: number, one: IndexMap, where: Where): boolean {
  if (inShape[0] !== 1) return false;
  try {
    const two = indexMapOf(g, n, [2, ...inShape.slice(1)], out, where);
    const M = one.idx.length, N = sizeOf(inShape);
    if (two.idx.length !== 2 * M || two.outShape[0] !== 2) return false;
    for (let i = 0; i < 2 * M; i++) {
      const j = one.idx[i % M];
      if (two.idx[i] !== (j < 0 ? -1 : j + Math.floor(i / M) * N)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The map of NumPy broadcasting from shape `from` to shape `to` (Expand of an activation). */
export function broadcastMap(from: number[], to: number[]): Int32Array {
  const r = to.length, f = [...new Array(r - from.length).fill(1), ...from];
  const stride = f.map((_, i) => sizeOf(f.slice(i + 1)));
  const idx = new Int32Array(sizeOf(to));
  const at = new Array(r).fill(0);
  for (let i = 0; i < idx.length; i++) {
    let j = 0;
    for (let a = 0; a < r; a++) if (f[a] !== 1) j += at[a] * stride[a];
    idx[i] = j;
    for (let a = r - 1; a >= 0; a--) {
      if (++at[a] < to[a]) break;
      at[a] = 0;
    }
  }
  return idx;
}
