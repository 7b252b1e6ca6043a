"""FINN CNV-style QONNX network (issue 12's fifth reference model), written node by node with onnx.helper
(no qonnx/brevitas tooling offline), in the shape Brevitas/FINN export CNV-w1a1:

    input in [0, 1) -> Mul 2, Sub 1 (CNV's 2x - 1) -> Quant 8-bit signed narrow (scale 1/127)
    6 x [Conv 3x3 no padding with BipolarQuant weights (scale 1) -> BatchNormalization -> BipolarQuant]
        with MaxPool 2x2 after the 2nd and 4th conv
    Flatten -> 2 x [MatMul with BipolarQuant weights -> BatchNormalization (2-D) -> BipolarQuant]
    -> MatMul with BipolarQuant weights -> TensorNorm (Mul, Add: one scale and bias)

Width reduced from CNV's 64-64-128-128-256-256 / 512-512 to 16-16-32-32-64-64 / 64-64 (3x32x32 input, 10
classes). Domain qonnx.custom_op.general; onnxruntime cannot run it, so the reference output is computed
here from the op definitions in float32 (PyTorch functional ops), as test/fixtures/make_fixtures.py does
for qonnx_mbn.

    /usr/bin/python3 models/reference/make_qonnx_cnv.py
writes test/fixtures/reference/qonnx_cnv.{onnx,input.npy (uint8: x = u / 256),output.npy}
"""
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "reference")
DOM = "qonnx.custom_op.general"
CONV = [3, 16, 16, 32, 32, 64, 64]
FC = [64, 64, 64, 10]
EPS = 1e-5


def t(name, arr, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)


def main():
    rng = np.random.default_rng(21)
    nodes, inits = [], []
    f32 = np.float32

    def bn_params(c, tag):
        g = (rng.uniform(0.5, 1.5, c) * np.where(rng.uniform(size=c) < 0.15, -1, 1)).astype(f32)
        b = rng.uniform(-0.3, 0.3, c).astype(f32)
        mu = rng.normal(0, 2, c).astype(f32)
        var = rng.uniform(4, 16, c).astype(f32)
        inits.extend([t(f"{tag}_g", g), t(f"{tag}_b", b), t(f"{tag}_mu", mu), t(f"{tag}_var", var)])
        return g, b, mu, var

    inits += [t("two", 2.0), t("one", 1.0), t("in_scale", 1 / 127), t("zero", 0.0), t("bits8", 8.0), t("unit", 1.0)]
    nodes += [helper.make_node("Mul", ["input", "two"], ["x2"]), helper.make_node("Sub", ["x2", "one"], ["xs"]),
              helper.make_node("Quant", ["xs", "in_scale", "zero", "bits8"], ["q0"], domain=DOM, signed=1, narrow=1,
                               rounding_mode="ROUND")]
    params = {}
    cur = "q0"
    for i in range(6):
        cin, cout = CONV[i], CONV[i + 1]
        w = rng.normal(0, 1, (cout, cin, 3, 3)).astype(f32)
        inits.append(t(f"w{i}", w))
        params[f"w{i}"] = w
        params[f"bn{i}"] = bn_params(cout, f"bn{i}")
        nodes += [helper.make_node("BipolarQuant", [f"w{i}", "unit"], [f"w{i}q"], domain=DOM),
                  helper.make_node("Conv", [cur, f"w{i}q"], [f"c{i}"], kernel_shape=[3, 3], pads=[0, 0, 0, 0]),
                  helper.make_node("BatchNormalization", [f"c{i}", f"bn{i}_g", f"bn{i}_b", f"bn{i}_mu", f"bn{i}_var"], [f"n{i}"], epsilon=EPS),
                  helper.make_node("BipolarQuant", [f"n{i}", "unit"], [f"a{i}"], domain=DOM)]
        cur = f"a{i}"
        if i in (1, 3):
            nodes.append(helper.make_node("MaxPool", [cur], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2]))
            cur = f"p{i}"
    nodes.append(helper.make_node("Flatten", [cur], ["flat"], axis=1))
    cur = "flat"
    for j in range(3):
        fin, fout = FC[j], FC[j + 1]
        w = rng.normal(0, 1, (fin, fout)).astype(f32)
        inits.append(t(f"fw{j}", w))
        params[f"fw{j}"] = w
        nodes += [helper.make_node("BipolarQuant", [f"fw{j}", "unit"], [f"fw{j}q"], domain=DOM),
                  helper.make_node("MatMul", [cur, f"fw{j}q"], [f"m{j}"])]
        cur = f"m{j}"
        if j < 2:
            params[f"fbn{j}"] = bn_params(fout, f"fbn{j}")
            nodes += [helper.make_node("BatchNormalization", [cur, f"fbn{j}_g", f"fbn{j}_b", f"fbn{j}_mu", f"fbn{j}_var"], [f"fn{j}"], epsilon=EPS),
                      helper.make_node("BipolarQuant", [f"fn{j}", "unit"], [f"fa{j}"], domain=DOM)]
            cur = f"fa{j}"
    inits += [t("tn_scale", 0.11), t("tn_bias", -0.4)]
    nodes += [helper.make_node("Mul", [cur, "tn_scale"], ["tn"]), helper.make_node("Add", ["tn", "tn_bias"], ["logits"])]
    for k, n in enumerate(nodes):  # names as an exporter writes them
        n.name = f"{n.op_type}_{k}"
    graph = helper.make_graph(nodes, "qonnx_cnv", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(DOM, 1)])
    path = os.path.join(OUT, "qonnx_cnv.onnx")
    onnx.save(model, path)

    # reference, float32, from the op definitions
    u = rng.integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)
    x = torch.from_numpy(u.astype(f32) / f32(256))
    x = x * 2 - 1
    s = torch.tensor(1 / 127, dtype=torch.float32)
    x = torch.clamp(torch.round(x / s), -127, 127) * s  # torch.round: half to even, as QONNX ROUND

    def bipolar(v):
        return torch.where(v >= 0, torch.ones_like(v), -torch.ones_like(v))

    def bn(v, p, axes):
        g, b, mu, var = (torch.from_numpy(a).reshape(axes) for a in p)
        return (v - mu) / torch.sqrt(var + f32(EPS)) * g + b

    for i in range(6):
        x = F.conv2d(x, bipolar(torch.from_numpy(params[f"w{i}"])))
        x = bipolar(bn(x, params[f"bn{i}"], (1, -1, 1, 1)))
        if i in (1, 3):
            x = F.max_pool2d(x, 2)
    x = x.flatten(1)
    for j in range(3):
        x = x @ bipolar(torch.from_numpy(params[f"fw{j}"]))
        if j < 2:
            x = bipolar(bn(x, params[f"fbn{j}"], (1, -1)))
    y = x * f32(0.11) + f32(-0.4)
    np.save(os.path.join(OUT, "qonnx_cnv.input.npy"), u)
    np.save(os.path.join(OUT, "qonnx_cnv.output.npy"), y.numpy().astype(f32))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
