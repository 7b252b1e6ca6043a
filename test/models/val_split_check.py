"""The validation split, checked on a real (tiny) train.py run (test/models/val_split.test.ts runs this when
PyTorch imports): python3 test/models/val_split_check.py <scratch folder>

A synthetic Fashion-MNIST-shaped dataset in IDX files whose LAST training images carry the label 255 (out of
range for 10 classes): cross-entropy raises on any batch that holds one, so a run that trained on a held-out
image cannot finish. Checks: data.split_validation's split (disjoint, the last n, n = 0 = no split); a
two-stage --val run finishes, logs val_acc (0 on the poisoned images: they are what it validates on) and no
per-epoch test_acc, and records selected_on/val/test_acc; meta_from_logs rebuilds the same selection fields
from the logs; a soup is scored against its members on validation; the legacy --val 0 run trains on every image, so on this data it must fail. Prints one line
per check; exits 1 on the first that fails."""
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "models", "train"))
import data  # noqa: E402

N_TRAIN, N_VAL, N_TEST = 120, 20, 20


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


def write_idx(path, arr):
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.astype(np.uint8).tobytes())


def train(out, *args):
    cmd = [sys.executable, "models/train/train.py", "--kind", "fp32", "--depth", "8", "--batch", "50", "--epochs", "1", "--out", out, *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, MBN_DATA_DIR=DATA))


scratch = sys.argv[1]
DATA = os.path.join(scratch, "data")
os.makedirs(DATA, exist_ok=True)
rng = np.random.default_rng(0)
ytr = rng.integers(0, 10, N_TRAIN)
ytr[-N_VAL:] = 255  # the held-out images: poison for any training step
write_idx(os.path.join(DATA, "train-images-idx3-ubyte"), rng.integers(0, 256, (N_TRAIN, 28, 28)))
write_idx(os.path.join(DATA, "train-labels-idx1-ubyte"), ytr)
write_idx(os.path.join(DATA, "t10k-images-idx3-ubyte"), rng.integers(0, 256, (N_TEST, 28, 28)))
write_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte"), rng.integers(0, 10, N_TEST))

# 1. the split itself
x, y = torch.arange(N_TRAIN * 2).view(N_TRAIN, 2), torch.arange(N_TRAIN)
xt, yt, xv, yv = data.split_validation(x, y, N_VAL)
check(len(xt) == N_TRAIN - N_VAL and len(xv) == N_VAL, "split sizes: train N - n, validation n")
check(set(yt.tolist()).isdisjoint(yv.tolist()) and set(yt.tolist()) | set(yv.tolist()) == set(range(N_TRAIN)), "train and validation are disjoint and cover the split")
check(yv.tolist() == list(range(N_TRAIN - N_VAL, N_TRAIN)), "validation = the LAST n images")
check(len(data.split_validation(x, y, 0)[2]) == 0, "--val 0: no validation images")

# 2. a two-stage validation run never trains on the held-out images and reads the test split once
out = os.path.join(scratch, "model")
r1 = train(out, "--val", str(N_VAL), "--keep", "best-val")
check(r1.returncode == 0, "stage 1 with --val trains without touching a held-out image" + ("" if r1.returncode == 0 else ": " + r1.stderr[-400:]))
rebuild = lambda: json.loads(subprocess.run([sys.executable, "models/train/meta_from_logs.py", out, "--check"], cwd=ROOT, capture_output=True, text=True).stdout)
one = json.load(open(os.path.join(out, "meta.json")))
keys = ["val", "val_acc", "test_acc", "selected_on", "kept_epoch", "epochs", "train_subset", "torch_acc"]
check("kept_epoch" in one and [rebuild().get(k) for k in keys] == [one.get(k) for k in keys], "single stage: meta_from_logs's selection fields (kept_epoch too) = train.py's")
shutil.copy(os.path.join(out, "state_dict.pt"), os.path.join(scratch, "s1.pt"))
r2 = train(out, "--val", str(N_VAL), "--keep", "best-val", "--lr", "1e-3", "--init", os.path.join(out, "state_dict.pt"))
check(r2.returncode == 0, "stage 2 (continuing, --keep best-val) too" + ("" if r2.returncode == 0 else ": " + r2.stderr[-400:]))
logs = open(os.path.join(out, "log_stage1.txt")).read() + open(os.path.join(out, "log.txt")).read()
epochs = [ln for ln in logs.splitlines() if ln.startswith("epoch ") and " robust check" not in ln]
check(len(epochs) == 3 and all(" val_acc 0.0000" in ln for ln in epochs), "every epoch (and epoch 0, the --init weights) logs val_acc on the held-out (label 255) images")
check("test_acc" not in logs.replace("test_acc (export mode)", ""), "no per-epoch test_acc: the test split is read once, at export")
meta = json.load(open(os.path.join(out, "meta.json")))
check(meta.get("selected_on") == f"validation (last {N_VAL} training images)" and meta["val"] == N_VAL and meta["val_acc"] == 0.0, "meta.json: selected_on, val, val_acc")
check(meta["test_acc"] == meta["torch_acc"] and meta["train_subset"] == N_TRAIN - N_VAL, "meta.json: test_acc recorded; trained on N - n images")
check([s.get("val") for s in meta["stages"]] == [N_VAL, N_VAL] and meta["stages"][1].get("kept_epoch") in (0, 1), "meta.json stages: val per stage, kept_epoch under best-val")

# 3. meta_from_logs reads the new logs into the same fields
rebuilt = rebuild()
check([rebuilt.get(k) for k in keys] == [meta.get(k) for k in keys], "meta_from_logs: the selection fields = train.py's")
stage_keys = ["epochs", "train_images", "val", "val_acc", "kept_epoch", "torch_acc"]
check([[s.get(k) for k in stage_keys] for s in rebuilt["stages"]] == [[s.get(k) for k in stage_keys] for s in meta["stages"]], "meta_from_logs: per-stage val, val_acc, kept_epoch = train.py's")

# 4. a soup is kept only if it beats its members on validation, and says which it kept
shutil.copy(os.path.join(out, "state_dict.pt"), os.path.join(scratch, "s2.pt"))
r3 = train(out, "--val", str(N_VAL), "--average", os.path.join(scratch, "s1.pt"), os.path.join(scratch, "s2.pt"))
log3 = open(os.path.join(out, "log.txt")).read()
kept = json.load(open(os.path.join(out, "meta.json")))["stages"][-1].get("kept")
check(r3.returncode == 0 and "soup vs members on validation: soup val_acc" in log3 and kept == "soup", "--average with --val: soup and members scored on validation (ties keep the soup)")
check(rebuild()["stages"][-1].get("kept") == kept, "meta_from_logs: the soup stage's kept member = train.py's")

# 5. the legacy recipe (--val 0) trains on every image: here it must hit a poisoned label
r0 = train(os.path.join(scratch, "legacy"), "--val", "0")
check(r0.returncode != 0 and "out of bounds" in r0.stderr, "--val 0 trains on the last images too (the legacy recipe, all training images)")
print("all checks passed")
