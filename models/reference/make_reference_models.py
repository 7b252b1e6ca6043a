"""Reference models of issue 12, exported the way users export them (torch.onnx.export, opset 13,
dynamic batch axis), with random but FIXED weights (seeded) and randomised BatchNorm statistics.

    /usr/bin/python3 models/reference/make_reference_models.py      # PyTorch 1.13 from Debian

Writes, for each model NAME, into test/fixtures/reference/:
    NAME.onnx         the exported graph (weights kept as float initializers with the binarisation ops
                      on them, as ReActNet/XNOR/ABC-Net code exports them: do_constant_folding=False)
    NAME.input.npy    the input batch as uint8 u: the samples are x = u / 256 (uniform on [0, 1) in steps of
                      1/256, exact in float32; uint8 keeps the 224x224 batch at 150 KB a sample)
    NAME.output.npy   PyTorch's outputs on x, float32 (8 samples; 4 for bireal18)

Models (small but real; the widths are reduced so the committed files stay small, see WIDTHS below):
  reactnet_a    ReActNet-A-style (MobileNetV1 backbone): float stem, blocks of RSign (Sign(x - shift)),
                binary 3x3 conv with per-output-channel alpha*sign(w), BatchNorm, residual add (AvgPool
                shortcut when strided), RPReLU (shift, PReLU, shift), RSign, binary 1x1 conv(s) - the
                downsampling block concatenates two 1x1 binary branches along channels -, GAP, float fc.
  bireal18      Bi-Real-Net-18 at 224x224: float 7x7 stem + BN + MaxPool, 16 blocks Sign -> binary 3x3
                -> BN with a real-valued shortcut around every conv (AvgPool + float 1x1 + BN when it
                downsamples), GAP, float fc (1000 classes). Width 1/4 of the paper (16-32-64-128).
  mobilenet_v1  MobileNetV1 (width 1/4, 64x64 input, 13 depthwise-separable blocks): depthwise 3x3 float
                convs, the first pointwise conv float, the other 12 multi-bit: weights = sum of M binary
                bases (ABC-Net: alpha_m * sign(w - mean + u_m std), M = 2 or 3, alphas by least squares)
                behind a k-bit DoReFa activation round(clip(x, 0, 1) * (2^k - 1)) / (2^k - 1), k = 2 or 3.
  densenet_bin  BinaryDenseNet/MeliusNet-style: float stem, 3 dense blocks whose layers Concat their input
                with a binary 3x3 branch (BN -> Sign -> binary conv), transitions BN -> Sign -> binary 1x1
                conv -> AvgPool 2x2, BN -> ReLU -> GAP -> float fc.
The fifth, a FINN CNV-style QONNX network, is written node by node in make_qonnx_cnv.py (no qonnx tooling).
"""
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "reference")


def randomize_bn(model, gen):
    """Trained-looking BatchNorm statistics (some negative gammas: decreasing quantizer staircases)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            sgn = torch.where(torch.rand(c, generator=gen) < 0.15, -1.0, 1.0)
            m.weight.data.copy_((torch.rand(c, generator=gen) + 0.5) * sgn)
            m.bias.data.copy_((torch.rand(c, generator=gen) - 0.5) * 0.6)


# ----------------------------------------------------------------------------- binary building blocks

class LearnableBias(nn.Module):
    """ReActNet's per-channel shift (move): x + b."""

    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(1, c, 1, 1) * 0.2)

    def forward(self, x):
        return x + self.bias.expand_as(x)


class RSign(nn.Module):
    """ReActNet RSign: sign(x - shift) (torch.sign exports as ONNX Sign; the shift is a learnable
    per-channel bias, written as an Add of the move as in ReActNet's code)."""

    def __init__(self, c):
        super().__init__()
        self.move = LearnableBias(c)

    def forward(self, x):
        return torch.sign(self.move(x))


class RPReLU(nn.Module):
    """ReActNet RPReLU: shift, PReLU (per channel), shift."""

    def __init__(self, c):
        super().__init__()
        self.move1, self.prelu, self.move2 = LearnableBias(c), nn.PReLU(c), LearnableBias(c)
        self.prelu.weight.data.uniform_(0.05, 0.4)

    def forward(self, x):
        return self.move2(self.prelu(self.move1(x)))


class HardBinaryConv(nn.Module):
    """XNOR-Net / Bi-Real / ReActNet binary conv: weights alpha * sign(w), alpha = mean|w| per output
    channel, computed in the forward pass from the float parameter (so the ONNX holds the float
    initializer and the Abs/ReduceMean/Sign/Mul ops on it)."""

    def __init__(self, cin, cout, k=3, stride=1, padding=1):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k) * 0.1)

    def forward(self, x):
        w = self.weight
        alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
        return F.conv2d(x, alpha * torch.sign(w), stride=self.stride, padding=self.padding)


# ----------------------------------------------------------------------------- 1. ReActNet-A

class ReActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.sign1 = RSign(cin)
        self.conv3 = HardBinaryConv(cin, cin, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pool = nn.AvgPool2d(2, 2) if stride == 2 else None
        self.act1 = RPReLU(cin)
        self.sign2 = RSign(cin)
        self.down = cout == 2 * cin
        if self.down:
            self.pw1, self.pw2 = HardBinaryConv(cin, cin, 1, 1, 0), HardBinaryConv(cin, cin, 1, 1, 0)
            self.bn2_1, self.bn2_2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cin)
        else:
            assert cin == cout
            self.pw = HardBinaryConv(cin, cout, 1, 1, 0)
            self.bn2 = nn.BatchNorm2d(cout)
        self.act2 = RPReLU(cout)

    def forward(self, x):
        out1 = self.bn1(self.conv3(self.sign1(x)))
        if self.pool is not None:
            x = self.pool(x)
        out1 = self.act1(x + out1)
        s = self.sign2(out1)
        if self.down:
            out2 = torch.cat([self.bn2_1(self.pw1(s)) + out1, self.bn2_2(self.pw2(s)) + out1], dim=1)
        else:
            out2 = self.bn2(self.pw(s)) + out1
        return self.act2(out2)


class ReActNetA(nn.Module):
    """ReActNet-A layout (MobileNetV1 backbone) at reduced width and depth: stem 3->16 (stride 2),
    blocks 16->32 (s2), 32->32, 32->64 (s2), 64->64, 64->128 (s2), GAP, fc 10."""

    CFG = [(16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2)]

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.blocks = nn.Sequential(*[ReActBlock(i, o, s) for i, o, s in self.CFG])
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = self.blocks(self.bn(self.stem(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ----------------------------------------------------------------------------- 2. Bi-Real-Net-18

class BiRealBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = HardBinaryConv(cin, cout, 3, stride, 1)
        self.bn = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        res = x if self.downsample is None else self.downsample(x)
        return self.bn(self.conv(torch.sign(x))) + res


class BiRealNet18(nn.Module):
    """Bi-Real-Net-18: 4 stages x 4 blocks (one binary 3x3 conv each, 16 in all) with a real-valued
    shortcut around every conv. `width` = channels of the first stage (paper: 64)."""

    def __init__(self, width=16, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, c = [], width
        for stage in range(4):
            co = width * 2 ** stage
            for i in range(4):
                blocks.append(BiRealBlock(c, co, 2 if (i == 0 and stage > 0) else 1))
                c = co
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.maxpool(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ----------------------------------------------------------------------------- 3. MobileNetV1, multi-bit pointwise

def sign_ge_const(w):
    """Binary base of a weight, +1 where w >= 0 else -1 (ABC-Net / the mbn training recipe)."""
    return (w >= 0).to(w.dtype) * 2 - 1


class ABCConv1x1(nn.Module):
    """Pointwise conv with weights = sum_m alpha_m * sign(w - mean(w) + u_m std(w)), u_m evenly in
    [-1, 1]; the alphas are fitted once by least squares and stored (a buffer: a constant in ONNX)."""

    def __init__(self, cin, cout, m):
        super().__init__()
        self.m = m
        self.weight = nn.Parameter(torch.randn(cout, cin, 1, 1) * 0.2)
        self.register_buffer("u", torch.linspace(-1, 1, m))
        with torch.no_grad():  # least squares by the normal equations, exact sums (math.fsum): reproducible
            b = [x.flatten().double().tolist() for x in self.bases(self.weight)]
            w = self.weight.flatten().double().tolist()
            gram = [[math.fsum(p * q for p, q in zip(bi, bj)) for bj in b] for bi in b]
            rhs = [math.fsum(p * q for p, q in zip(bi, w)) for bi in b]
            alpha = np.linalg.solve(np.array(gram), np.array(rhs))
            self.register_buffer("alpha", torch.tensor(alpha, dtype=torch.float32))

    def bases(self, w):
        mean = w.mean()
        std = torch.sqrt(((w - mean) ** 2).mean())
        return [sign_ge_const(w - mean + self.u[i] * std) for i in range(self.m)]

    def forward(self, x):
        bs = self.bases(self.weight)
        w = self.alpha[0] * bs[0]
        for i in range(1, self.m):
            w = w + self.alpha[i] * bs[i]
        return F.conv2d(x, w)


class DoReFaAct(nn.Module):
    """k-bit DoReFa activation: round(clip(x, 0, 1) * (2^k - 1)) / (2^k - 1)."""

    def __init__(self, k):
        super().__init__()
        self.n = float(2 ** k - 1)

    def forward(self, x):
        return torch.round(torch.clamp(x, 0, 1) * self.n) / self.n


class MobileNetV1(nn.Module):
    # (cout, stride) of the 13 depthwise-separable blocks, at width 1 (32 in the stem)
    CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, width=0.25, classes=10):
        super().__init__()
        c = int(32 * width)
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        layers = []
        for i, (co, s) in enumerate(self.CFG):
            co = int(co * width)
            layers += [nn.Conv2d(c, c, 3, s, 1, groups=c, bias=False), nn.BatchNorm2d(c)]
            if i == 0:  # float pointwise layer
                layers += [nn.ReLU(), nn.Conv2d(c, co, 1, bias=False)]
            else:  # multi-bit: k-bit DoReFa activations, M binary weight bases
                k, m = (2, 3) if i % 2 else (3, 2)
                layers += [DoReFaAct(k), ABCConv1x1(c, co, m)]
            layers += [nn.BatchNorm2d(co), nn.ReLU()]
            c = co
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.features(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ----------------------------------------------------------------------------- 4. Binary DenseNet / MeliusNet-style

class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = HardBinaryConv(cin, growth, 3, 1, 1)

    def forward(self, x):
        return torch.cat([x, self.conv(torch.sign(self.bn(x)))], dim=1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = HardBinaryConv(cin, cout, 1, 1, 0)
        self.pool = nn.AvgPool2d(2, 2)

    def forward(self, x):
        return self.pool(self.conv(torch.sign(self.bn(x))))


class BinaryDenseNet(nn.Module):
    """Stem 3->32 (3x3, float), 3 dense blocks of 4 layers (growth 16), transitions halving the
    channels and the map, BN -> ReLU -> GAP -> fc 10."""

    def __init__(self, growth=16, layers=4, classes=10):
        super().__init__()
        c = 32
        mods = [nn.Conv2d(3, c, 3, 1, 1, bias=False)]
        for b in range(3):
            for _ in range(layers):
                mods.append(DenseLayer(c, growth))
                c += growth
            if b < 2:
                mods.append(Transition(c, c // 2))
                c //= 2
        mods += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*mods)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


# ----------------------------------------------------------------------------- export

MODELS = [
    # name, constructor, input shape (C, H, W), seed, samples
    ("reactnet_a", lambda: ReActNetA(), (3, 32, 32), 11, 8),
    ("bireal18", lambda: BiRealNet18(width=16, classes=1000), (3, 224, 224), 12, 4),
    ("mobilenet_v1", lambda: MobileNetV1(width=0.25, classes=10), (3, 64, 64), 13, 8),
    ("densenet_bin", lambda: BinaryDenseNet(), (3, 32, 32), 14, 8),
]


def build(name, ctor, shape, seed, n):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1000)
    model = ctor()
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, torch.rand(1, *shape, generator=gen), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=False)
    onnx.checker.check_model(onnx.load(path))
    u = torch.randint(0, 256, (n, *shape), generator=gen, dtype=torch.uint8)
    x = u.to(torch.float32) / 256
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(OUT, name + ".input.npy"), u.numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), y.numpy().astype(np.float32))
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {name}: {params} parameters, {os.path.getsize(path)} bytes ONNX, outputs {tuple(y.shape)}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)  # deterministic float32 summation order
    for spec in MODELS:
        build(*spec)
