// Reference library: the 2-D window geometry (explicit pads or auto_pad, ONNX rules) that the conv
// and pool op modules (compiler/ops/conv.ts, pool.ts), shape rules and lowering share.
import { attrInts, attrStr, type Node } from "../ir/graph.ts";

export interface Geom2d {
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  padT: number; padL: number; padB: number; padR: number; oh: number; ow: number;
}

/** Output geometry of a 2-D conv/pool window (explicit pads or auto_pad), ONNX rules. */
export function geom2d(n: Node, h: number, w: number, kh: number, kw: number, ceil = false): Geom2d {
  const [sh, sw] = attrInts(n, "strides", [1, 1]);
  const [dh, dw] = attrInts(n, "dilations", [1, 1]);
  let [padT, padL, padB, padR] = attrInts(n, "pads", [0, 0, 0, 0]);
  const auto = attrStr(n, "auto_pad", "NOTSET");
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    const oh = Math.ceil(h / sh), ow = Math.ceil(w / sw);
    const ph = Math.max(0, (oh - 1) * sh + ekh - h), pw = Math.max(0, (ow - 1) * sw + ekw - w);
    const lowH = auto === "SAME_UPPER" ? Math.floor(ph / 2) : Math.ceil(ph / 2);
    const lowW = auto === "SAME_UPPER" ? Math.floor(pw / 2) : Math.ceil(pw / 2);
    [padT, padB, padL, padR] = [lowH, ph - lowH, lowW, pw - lowW];
  } else if (auto === "VALID") [padT, padL, padB, padR] = [0, 0, 0, 0];
  const rnd = ceil ? Math.ceil : Math.floor;
  let oh = rnd((h + padT + padB - ekh) / sh) + 1, ow = rnd((w + padL + padR - ekw) / sw) + 1;
  // ceil_mode: a window that would start in the right/bottom padding is dropped (ONNX pooling, onnxruntime, PyTorch)
  if (ceil && (oh - 1) * sh >= h + padT) oh--;
  if (ceil && (ow - 1) * sw >= w + padL) ow--;
  if (oh < 1 || ow < 1) throw new RangeError(`window ${kh}×${kw} does not fit input ${h}×${w} with pads [${padT},${padL},${padB},${padR}]`);
  return { kh, kw, sh, sw, dh, dw, padT, padL, padB, padR, oh, ow };
}
