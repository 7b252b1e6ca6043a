"""Train one zoo model and export it: python3 models/train/train.py --kind mbn3x1 --epochs 4 --out models/zoo/fmnist_resnet20_mbn3x1

Kinds: fp32, fxp<bits> (DoReFa), mbn<M>x<K> (ABC-Net). Adversarial training: --at fgsm (FGSM with
random start, Wong et al. 2020) or --at pgd (Madry PGD-k). Deterministic (seeded); logs one line per
epoch; writes model.onnx (opset 13, dynamic batch, input = pixels in [0, 1]), meta.json, log.txt and
test_data/{input,output}.npy (the first test images and PyTorch's logits on them).

Model selection (--val, default 5000): the LAST 5000 training images are held out as a validation split
(data.split_validation: never trained on, never augmented, not used for normalisation or BatchNorm
statistics); every epoch logs val_acc, every choice (--keep best-val, the adversarial early stopping below,
a soup against its members) is made on it, and the test split is evaluated ONCE, at export, and only
recorded (meta.json test_acc and selected_on). --val 0 is the legacy recipe the committed models/zoo models
were trained with (all 60k training images; test_acc logged every epoch, and stages chosen on it): every
train.py command recorded before the validation split existed ran with --val 0.

Adversarial training keeps the epoch whose PGD-10 accuracy on 1000 held-out images (validation; training
images under --val 0) is best (Wong et al.'s early stopping): FGSM-RS can overfit catastrophically at a large
eps (PGD accuracy falls to ~0 within an epoch and natural accuracy drops with it); the check is logged per epoch."""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import data  # noqa: E402
import quant  # noqa: E402
from resnet import ResNet  # noqa: E402


def attack(model, x, y, eps, steps, alpha, rand=True):
    """L-inf PGD (steps=1 with random start = FGSM-RS) on pixels in [0, 1]."""
    delta = (torch.rand_like(x) * 2 - 1) * eps if rand else torch.zeros_like(x)
    delta = (x + delta).clamp(0, 1) - x
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), y)
        (g,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + alpha * g.sign()).clamp(-eps, eps)
        delta = (x + delta).clamp(0, 1) - x
    return (x + delta).detach()


def previous_stages(a):
    """The stages already recorded in <out>/meta.json when --init continues the model in <out> or --average
    replaces it with a soup (a further stage of the same model); else []."""
    meta_path = os.path.join(a.out, "meta.json")
    continues = a.average or (a.init and os.path.abspath(os.path.dirname(a.init)) == os.path.abspath(a.out))
    if not continues or not os.path.exists(meta_path):
        return []
    prev = json.load(open(meta_path))
    if "stages" in prev:
        return prev["stages"]
    first = dict(epochs=prev["epochs"], train_images=prev["train_subset"], command=prev["command"],
                 torch_acc=prev["torch_acc"], train_seconds=prev["train_seconds"])
    if prev.get("val"):
        first.update(val=prev["val"], val_acc=prev["val_acc"])
        if "kept_epoch" in prev:
            first["kept_epoch"] = prev["kept_epoch"]
    return [first]


def augment(x, g, pad=2):
    """Random horizontal flip and random crop after zero-padding by `pad` pixels, per image (--augment)."""
    n, c, h, w = x.shape
    flip = torch.rand(n, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    xp = F.pad(x, (pad, pad, pad, pad))
    iy = torch.randint(0, 2 * pad + 1, (n, 1), generator=g) + torch.arange(h)[None, :]
    ix = torch.randint(0, 2 * pad + 1, (n, 1), generator=g) + torch.arange(w)[None, :]
    return xp[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], iy[:, None, :, None], ix[:, None, None, :]]


def robust_check(model, x, y, eps, bs=500):
    """PGD-10 accuracy (step 2.5 * eps / 10, random start) on x: the early-stopping signal for adversarial training."""
    model.eval()
    correct = 0
    for i in range(0, len(x), bs):
        xa = attack(model, x[i:i + bs], y[i:i + bs], eps, 10, 0.25 * eps)
        with torch.no_grad():
            correct += (model(xa).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


def average_weights(model, paths, xtr, log, bs=500):
    """Model soup: the mean of several state_dicts of one architecture (stages of one run, so that the
    weights share a basin), then BatchNorm running statistics recomputed over the training images
    (the mean of the members' statistics is not the statistics of the mean weights)."""
    sds = [torch.load(p) for p in paths]
    avg = {k: (sum(sd[k].float() for sd in sds) / len(sds)).to(v.dtype) if v.is_floating_point() else v for k, v in sds[0].items()}
    model.load_state_dict(avg)
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.reset_running_stats()
            mod.momentum = None  # cumulative average over all batches
    model.train()
    with torch.no_grad():
        for i in range(0, len(xtr), bs):
            model(xtr[i:i + bs])
    log(f"averaged {len(paths)} state_dicts ({', '.join(paths)}); BatchNorm statistics recomputed on {len(xtr)} training images")


def evaluate(model, x, y, bs=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "cifar10"])
    ap.add_argument("--data", default=os.environ.get("MBN_DATA_DIR"),
                    help="folder with the dataset's files: Fashion-MNIST's four IDX files (train-images-idx3-ubyte[.gz], "
                         "…; the repository bundles only the test split, models/data/fashion-mnist) or CIFAR-10's "
                         "binary batches (default: $MBN_DATA_DIR)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--val", type=int, default=5000,
                    help="hold out the LAST N training images as the validation split every choice is made on "
                         "(0 = legacy: train on all, log test_acc every epoch)")
    ap.add_argument("--keep", default="last", choices=["last", "best-val"],
                    help="checkpoint kept: the last epoch, or the epoch with the best val_acc (needs --val > 0; "
                         "adversarial training always keeps its best PGD-10 epoch)")
    ap.add_argument("--train-subset", type=int, default=0,
                    help="use only the first N training images of those not held out (0 = all)")
    ap.add_argument("--augment", action="store_true", help="random flips and 2-pixel crops of the training images")
    ap.add_argument("--at", default="none", choices=["none", "fgsm", "pgd"])
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--at-mix", type=float, default=0.0,
                    help="weight of the clean loss under adversarial training (0 = adversarial examples only; "
                         "0.5 = Goodfellow et al.'s mixed objective, which keeps more natural accuracy)")
    ap.add_argument("--pgd-steps", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", default="", help="start from this state_dict (e.g. the fp32 model's)")
    ap.add_argument("--average", nargs="+", default=[], metavar="STATE_DICT",
                    help="instead of training: average these state_dicts (a 'model soup' of stages of one run), "
                         "recalibrate BatchNorm statistics on the training images, export")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not a.data:
        ap.error("--data <folder> (or MBN_DATA_DIR) is required: the training split is not in the repository")
    if a.keep == "best-val" and not a.val:
        ap.error("--keep best-val needs a validation split (--val N > 0)")

    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(os.path.join(a.out, "test_data"), exist_ok=True)
    # Continuing a model in its own folder (--init <out>/state_dict.pt) is a further training stage:
    # the earlier stages' record is kept in meta.json and their log moves to log_stage<N>.txt.
    stages = previous_stages(a)
    # a log without its export line is a stage that did not finish (zoo.sh reruns it): it is overwritten
    if stages and os.path.exists(os.path.join(a.out, "log.txt")) and "\nexported " in open(os.path.join(a.out, "log.txt")).read():
        os.replace(os.path.join(a.out, "log.txt"), os.path.join(a.out, f"log_stage{len(stages)}.txt"))
    logf = open(os.path.join(a.out, "log.txt"), "w")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    command = " ".join(["python3", "models/train/train.py"] + sys.argv[1:])
    log(f"command: {command}")  # the log alone can rebuild this stage's record (models/train/meta_from_logs.py)
    xtr, ytr = data.load(a.dataset, a.data, "train")
    xtr, ytr, xva, yva = data.split_validation(xtr, ytr, a.val)
    # the test split is read only where it is used: every epoch under the legacy recipe, else once at export
    xte, yte = data.load(a.dataset, a.data, "test") if not a.val else (None, None)
    if a.train_subset:
        xtr, ytr = xtr[: a.train_subset], ytr[: a.train_subset]
    cin = xtr.shape[1]
    mean = tuple(xtr.mean((0, 2, 3)).tolist())
    std = tuple(xtr.std((0, 2, 3)).tolist())
    model = ResNet(a.kind, a.depth, in_ch=cin, classes=10, mean=mean, std=std)
    if a.init:
        missing = model.load_state_dict(torch.load(a.init), strict=False)
        log(f"init from {a.init}: {missing}")
    soup_kept = None
    if a.average:
        average_weights(model, a.average, xtr, log)
        a.epochs = 0
        if a.val:  # the soup is kept only if it beats every member on the validation split
            soup = {k: v.clone() for k, v in model.state_dict().items()}
            scores = [(evaluate(model, xva, yva), "soup", soup)]
            for p in a.average:
                model.load_state_dict(torch.load(p))
                scores.append((evaluate(model, xva, yva), p, None))
            log("soup vs members on validation: " + ", ".join(f"{n} val_acc {v:.4f}" for v, n, _ in scores))
            v, n, _ = max(scores, key=lambda t: t[0])  # ties keep the earlier: the soup first
            model.load_state_dict(soup if n == "soup" else torch.load(n))
            log(f"kept {n} (best val_acc {v:.4f})")
            soup_kept = n
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps_per_epoch = math.ceil(len(xtr) / a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=a.epochs * steps_per_epoch, pct_start=0.15) if a.epochs else None
    log(f"train {a.kind} depth={a.depth} augment={a.augment} at={a.at} eps={a.eps} at_mix={a.at_mix} epochs={a.epochs} n={len(xtr)} seed={a.seed}")
    if a.val:
        log(f"validation: the last {len(xva)} training images (held out; keep={a.keep})")
    else:
        log("validation: none (--val 0, the legacy recipe: test_acc logged every epoch)")
    t0 = time.time()
    g = torch.Generator().manual_seed(a.seed)
    g_aug = torch.Generator().manual_seed(a.seed + 1)
    best = None  # (PGD accuracy, epoch, state) under adversarial training
    best_val = None  # (val_acc, epoch, state) under --keep best-val
    if a.keep == "best-val" and a.init and a.epochs:
        # epoch 0 = the --init weights: a stage that improves nothing on validation keeps them
        acc = evaluate(model, xva, yva)
        log(f"epoch 0/{a.epochs} val_acc {acc:.4f} (the --init weights)")
        best_val = (acc, 0, {k: v.clone() for k, v in model.state_dict().items()})
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        tot, correct, loss_sum = 0, 0, 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * a.batch:(i + 1) * a.batch]
            x, y = xtr[idx], ytr[idx]
            if a.augment:
                x = augment(x, g_aug)
            x_clean = x
            if a.at == "fgsm":
                x = attack(model, x, y, a.eps, 1, 1.25 * a.eps)
            elif a.at == "pgd":
                x = attack(model, x, y, a.eps, a.pgd_steps, 2.5 * a.eps / a.pgd_steps)
            model.train()
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            if a.at != "none" and a.at_mix > 0:
                # Goodfellow et al.'s mixed objective: (1 − mix)·CE(adversarial) + mix·CE(clean). One
                # backward pass per forward (the gradients add up): ABC-Net's least-squares α is
                # recomputed in place by every forward, so two forwards cannot share one backward.
                ((1 - a.at_mix) * loss).backward()
                clean = F.cross_entropy(model(x_clean), y)
                (a.at_mix * clean).backward()
                loss = (1 - a.at_mix) * loss.detach() + a.at_mix * clean.detach()
            else:
                loss.backward()
            opt.step()
            sched.step()
            tot += len(y)
            correct += (out.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(y)
        if a.val:
            acc = evaluate(model, xva, yva)
            log(f"epoch {ep + 1}/{a.epochs} loss {loss_sum / tot:.4f} train_acc {correct / tot:.4f} val_acc {acc:.4f} elapsed {time.time() - t0:.0f}s")
            if a.keep == "best-val" and (best_val is None or acc > best_val[0]):
                best_val = (acc, ep + 1, {k: v.clone() for k, v in model.state_dict().items()})
        else:  # legacy recipe (--val 0)
            acc = evaluate(model, xte, yte)
            log(f"epoch {ep + 1}/{a.epochs} loss {loss_sum / tot:.4f} train_acc {correct / tot:.4f} test_acc {acc:.4f} elapsed {time.time() - t0:.0f}s")
        if a.at != "none":
            xc, yc, which = (xva[:1000], yva[:1000], "validation") if a.val else (xtr[:1000], ytr[:1000], "training")
            rob = robust_check(model, xc, yc, a.eps)
            log(f"epoch {ep + 1} robust check: PGD-10 accuracy on {len(xc)} {which} images {rob:.4f}")
            if best is None or rob > best[0]:
                best = (rob, ep + 1, {k: v.clone() for k, v in model.state_dict().items()})
    if best is not None and best[1] != a.epochs:
        model.load_state_dict(best[2])
        log(f"kept epoch {best[1]} (best PGD-10 accuracy {best[0]:.4f}); later epochs overfit")
    elif best is None and best_val is not None and best_val[1] != a.epochs:
        model.load_state_dict(best_val[2])
        log(f"kept epoch {best_val[1]} (best val_acc {best_val[0]:.4f})")
    train_seconds = time.time() - t0
    torch.save(model.state_dict(), os.path.join(a.out, "state_dict.pt"))

    model.eval()
    quant.set_export(True)
    val_acc = evaluate(model, xva, yva) if a.val else None
    if a.val:
        log(f"validation: val_acc (export mode) {val_acc:.4f} on {len(xva)} images")
    if xte is None:
        xte, yte = data.load(a.dataset, a.data, "test")  # the test split, once
    acc = evaluate(model, xte, yte)
    onnx_path = os.path.join(a.out, "model.onnx")
    torch.onnx.export(model, xte[:1], onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=False)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))
    with torch.no_grad():
        xs = xte[:16].numpy()
        np.save(os.path.join(a.out, "test_data", "input.npy"), xs)
        np.save(os.path.join(a.out, "test_data", "output.npy"), model(xte[:16]).numpy())
    stage = dict(epochs=a.epochs, train_images=len(xtr), lr=a.lr, command=command, torch_acc=acc,
                 train_seconds=round(train_seconds, 1))
    stage.update(val=a.val, val_acc=val_acc) if a.val else stage.update(val=0)
    if best is not None:
        stage["kept_epoch"] = best[1]
    elif best_val is not None:
        stage["kept_epoch"] = best_val[1]
    if a.average:
        stage["averaged"] = a.average
        if soup_kept:
            stage["kept"] = soup_kept
    stages = stages + [stage]
    meta = dict(kind=a.kind, depth=a.depth, dataset=a.dataset, epochs=sum(st["epochs"] for st in stages),
                adversarial_training=a.at, eps=a.eps if a.at != "none" else 0, at_mix=a.at_mix if a.at != "none" else 0, seed=a.seed,
                train_subset=len(xtr), torch_acc=acc,
                train_seconds=round(sum(st.get("train_seconds", 0) for st in stages), 1), threads=a.threads,
                command=" && ".join(st["command"] for st in stages))
    # the split every choice was made on: validation only if every stage held the same images out
    vals = {st.get("val", 0) for st in stages}
    if vals == {a.val} and a.val:
        meta.update(val=a.val, val_acc=val_acc, test_acc=acc, selected_on=f"validation (last {a.val} training images)")
        if len(stages) == 1 and "kept_epoch" in stage:  # a single stage has no stages list to hold it
            meta["kept_epoch"] = stage["kept_epoch"]
    else:
        meta.update(val=0, test_acc=acc, selected_on="test split (legacy: test_acc logged every epoch; stages chosen on it)")
    if len(stages) > 1:
        meta["stages"] = stages
    json.dump(meta, open(os.path.join(a.out, "meta.json"), "w"), indent=2)
    log(f"exported {onnx_path}: test_acc (export mode) {acc:.4f}, {train_seconds:.0f}s")


if __name__ == "__main__":
    main()
