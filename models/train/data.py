"""Datasets for the recipe: Fashion-MNIST / MNIST IDX files (gzip or raw) and CIFAR-10 binary
batches (data_batch_1..5.bin, test_batch.bin). Pixels scaled to [0, 1], NCHW float32."""
import gzip
import os
import struct

import numpy as np
import torch


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {np.prod(dims)} values, found {arr.size}")
    return arr.reshape(dims)


def fashion_mnist(root, split):
    pre = "train" if split == "train" else "t10k"
    find = lambda stem: next(os.path.join(root, f) for f in (stem + ".gz", stem) if os.path.exists(os.path.join(root, f)))
    x = read_idx(find(f"{pre}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = read_idx(find(f"{pre}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x[:, None]), torch.from_numpy(y)


def cifar10(root, split):
    files = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    xs, ys = [], []
    for f in files:
        raw = np.fromfile(os.path.join(root, f), np.uint8)
        if raw.size % 3073:
            raise ValueError(f"{f}: size {raw.size} is not a multiple of 3073 (label + 3x32x32)")
        raw = raw.reshape(-1, 3073)
        ys.append(raw[:, 0].astype(np.int64))
        xs.append(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def load(name, root, split):
    if name == "fashion-mnist":
        return fashion_mnist(root, split)
    if name == "cifar10":
        return cifar10(root, split)
    raise ValueError(f"unknown dataset {name!r}")


def split_validation(x, y, n_val):
    """The recipe's validation split: the LAST n_val training images are held out (never trained on, never
    augmented, never used for normalisation or BatchNorm statistics) and every choice of epoch, stage or soup
    member is made on them; the test split is evaluated once, at export. n_val = 0 is the legacy recipe (all
    training images trained on; an empty validation set). Returns (x_train, y_train, x_val, y_val)."""
    if not 0 <= n_val < len(x):
        raise ValueError(f"validation split of {n_val} images: must be in [0, {len(x)})")
    cut = len(x) - n_val
    return x[:cut], y[:cut], x[cut:], y[cut:]
