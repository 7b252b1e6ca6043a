"""Reference PGD (L-inf, no random start) in PyTorch on a zoo model's exported ONNX weights, for the
harness's cross-check test. Runs the PyTorch model rebuilt from state_dict.pt when present, else
fails. Writes <model dir>/pgd_reference.json.

    /usr/bin/python3 models/train/pgd_reference.py models/zoo/fmnist_resnet20_fp32 --eps 0.02 --steps 10 --n 100
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import data  # noqa: E402
import quant  # noqa: E402
from resnet import ResNet  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model_dir")
ap.add_argument("--eps", type=float, default=0.02)
ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--n", type=int, default=100)
a = ap.parse_args()
meta = json.load(open(os.path.join(a.model_dir, "meta.json")))
x, y = data.load("fashion-mnist", os.path.join(os.path.dirname(__file__), "..", "data", "fashion-mnist"), "test")
x, y = x[: a.n], y[: a.n]
state = torch.load(os.path.join(a.model_dir, "state_dict.pt"))
model = ResNet(meta["kind"], meta["depth"], in_ch=1, classes=10, mean=tuple(state["mean"].flatten().tolist()), std=tuple(state["std"].flatten().tolist()))
model.load_state_dict(state)
model.eval()
quant.set_export(False)  # straight-through estimators on, as in training
step = 2.5 * a.eps / a.steps
with torch.no_grad():
    natural = model(x).argmax(1) == y
xa = x.clone()
done = ~natural
for _ in range(a.steps):
    xa.requires_grad_(True)
    loss = F.cross_entropy(model(xa), y, reduction="sum")
    (g,) = torch.autograd.grad(loss, xa)
    with torch.no_grad():
        upd = torch.where(done[:, None, None, None], torch.zeros_like(g), step * g.sign())
        xa = torch.min(torch.max(xa + upd, x - a.eps), x + a.eps).clamp(0, 1)
        done = done | (model(xa).argmax(1) != y)
robust = (~done).float().mean().item()
out = dict(model=os.path.basename(a.model_dir), eps=a.eps, steps=a.steps, step_size=step, random_start=False, n=a.n,
           natural_acc=natural.float().mean().item(), adversarial_acc=robust)
json.dump(out, open(os.path.join(a.model_dir, "pgd_reference.json"), "w"), indent=2)
print(out)
