"""CIFAR-style ResNet (He et al. 2016, ResNet-20/32/56: depth = 6n+2) with option-B (1x1 conv + BN)
projection shortcuts, whose inner convs are quantized by the chosen quantizers; the first conv and
the classifier stay float. Input: raw pixels in [0, 1]; normalisation is inside the graph."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from quant import QConv2d, quantizers


class Block(nn.Module):
    def __init__(self, cin, cout, stride, wq, aq):
        super().__init__()
        # One activation quantizer per block input, shared by conv1 and the shortcut conv.
        self.q_in = aq()
        self.conv1 = QConv2d(cin, cout, 3, stride=stride, padding=1, bias=False, wq=wq())
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = QConv2d(cout, cout, 3, stride=1, padding=1, bias=False, wq=wq(), aq=aq())
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(QConv2d(cin, cout, 1, stride=stride, bias=False, wq=wq()), nn.BatchNorm2d(cout))

    def forward(self, x):
        xq = self.q_in(x) if self.q_in is not None else x
        out = F.relu(self.bn1(self.conv1(xq)))
        out = self.bn2(self.conv2(out))
        sc = x if self.short is None else self.short(xq)
        return F.relu(out + sc)


class ResNet(nn.Module):
    def __init__(self, kind="fp32", depth=20, in_ch=1, classes=10, mean=(0.2860,), std=(0.3530,)):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth must be 6n+2 (20, 32, 44, 56, ...)"
        n = (depth - 2) // 6
        wq, aq = quantizers(kind)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))
        self.conv1 = nn.Conv2d(in_ch, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, cout in enumerate((16, 32, 64)):
            for j in range(n):
                layers.append(Block(cin, cout, 2 if (i > 0 and j == 0) else 1, wq, aq))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)
