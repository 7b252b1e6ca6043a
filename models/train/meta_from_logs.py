"""Rebuild a zoo model's meta.json from what the training program itself wrote, for a model whose meta.json
was not written (or was rewritten) by hand rather than by train.py:
    python3 models/train/meta_from_logs.py models/zoo/<name> [--prior <meta.json written by train.py>] [--check]

Sources, in this order of trust: the training logs in the folder (log_stage1.txt … log_stageN.txt, then
log.txt: train.py writes them line by line), and optionally a meta.json that train.py wrote for the first
stages (--prior <file> or --prior <git revision>:models/zoo/<name>/meta.json). A prior stage is used only where its
epochs, images and accuracy agree with that stage's log. Everything else train.py would record but that
neither source holds is written as "unknown (not recorded)"; nothing is estimated. Per-stage figures from a
log alone have the log's precision (train seconds in whole seconds). The fields and their order are
train.py's; `provenance` says what was rebuilt from where and what the logs contradict (e.g. a stage that
exported to another folder). --check prints the rebuilt record and exits 1 when it differs from meta.json.

Logs written since the validation split (train.py --val) carry a "validation:" line: the record then holds
what train.py writes with it (per stage val and val_acc, kept_epoch under --keep best-val, the soup's kept
member; val, val_acc, test_acc and selected_on for the model). Older logs have none, and none is added."""
import argparse
import json
import os
import re
import subprocess
import sys

UNKNOWN = "unknown (not recorded)"
HEADER = re.compile(r"^train (\S+) depth=(\d+)(?: augment=(\w+))? at=(\w+) eps=([\d.]+)(?: at_mix=([\d.]+))? epochs=(\d+) n=(\d+) seed=(\d+)$")
EXPORT = re.compile(r"^exported (\S+): test_acc \(export mode\) ([\d.]+), (\d+)s$")
ROBUST = re.compile(r"^epoch (\d+) robust check: PGD-10 accuracy on \d+ (?:training|validation) images ([\d.]+)$")
VAL_SPLIT = re.compile(r"^validation: the last (\d+) training images \(held out; keep=(\S+)\)$")
VAL_EXPORT = re.compile(r"^validation: val_acc \(export mode\) ([\d.]+) on \d+ images$")
KEPT_EPOCH = re.compile(r"^kept epoch (\d+) \(best val_acc [\d.]+\)$")
KEPT_MEMBER = re.compile(r"^kept (\S+) \(best val_acc [\d.]+\)$")
LEGACY_SELECTED = "test split (legacy: test_acc logged every epoch; stages chosen on it)"


def parse_log(path):
    st = dict(log=os.path.basename(path), init=None, averaged=None, robust=[], val=None, keep=None, val_acc=None, kept_epoch=None, kept=None)
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("command: "):
            st["command"] = line[len("command: "):]
        elif line.startswith("init from "):
            st["init"] = line[len("init from "):].split(": ")[0]
        elif line.startswith("averaged "):
            st["averaged"] = re.search(r"\((.*)\); BatchNorm", line).group(1).split(", ")
        elif (m := HEADER.match(line)):
            st.update(kind=m[1], depth=int(m[2]), augment=m[3], at=m[4], eps=float(m[5]), at_mix=None if m[6] is None else float(m[6]),
                      epochs=int(m[7]), n=int(m[8]), seed=int(m[9]))
        elif line.startswith("validation: none (--val 0"):
            st["val"] = 0
        elif (m := VAL_SPLIT.match(line)):
            st.update(val=int(m[1]), keep=m[2])
        elif (m := VAL_EXPORT.match(line)):
            st["val_acc"] = float(m[1])
        elif (m := KEPT_EPOCH.match(line)):
            st["kept_epoch"] = int(m[1])
        elif (m := KEPT_MEMBER.match(line)):
            st["kept"] = m[1]
        elif (m := ROBUST.match(line)):
            st["robust"].append((float(m[2]), int(m[1])))
        elif (m := EXPORT.match(line)):
            st.update(exported=m[1], torch_acc=float(m[2]), seconds=int(m[3]))
    missing = [k for k in ("kind", "epochs", "n", "exported") if k not in st]
    if missing:
        sys.exit(f"meta_from_logs: {path}: no {', '.join(missing)} line (not a complete train.py log)")
    return st


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--prior", help="a meta.json train.py wrote for this model's first stages: a file or <git revision>:<path>")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    folder = a.folder.rstrip("/")
    k = 1
    logs = []
    while os.path.exists(os.path.join(folder, f"log_stage{k}.txt")):
        logs.append(os.path.join(folder, f"log_stage{k}.txt"))
        k += 1
    logs.append(os.path.join(folder, "log.txt"))
    parsed = [parse_log(p) for p in logs]
    prior = None
    if a.prior and os.path.exists(a.prior):
        prior = json.load(open(a.prior))
    elif a.prior:  # <git revision>:<path>, e.g. 3e4a0fd:models/zoo/<name>/meta.json
        prior = json.loads(subprocess.run(["git", "show", a.prior], check=True, capture_output=True, text=True).stdout)
    prior_stages = (prior.get("stages") or [dict(epochs=prior["epochs"], train_images=prior["train_subset"], command=prior["command"],
                                                  torch_acc=prior["torch_acc"], train_seconds=prior["train_seconds"])]) if prior else []
    stages, notes = [], []
    for i, st in enumerate(parsed):
        p = prior_stages[i] if i < len(prior_stages) else None
        if p and (p["epochs"], p["train_images"], p["torch_acc"]) != (st["epochs"], st["n"], st["torch_acc"]):
            notes.append(f"stage {i + 1}: --prior disagrees with {st['log']} (epochs, images, accuracy); the log is used")
            p = None
        if p:
            stage = dict(p)
            notes.append(f"stage {i + 1}: train.py's own record (--prior), checked against {st['log']}")
        else:
            cmd = st.get("command", UNKNOWN)
            lr = re.search(r"--lr (\S+)", cmd) if cmd != UNKNOWN else None
            stage = dict(epochs=st["epochs"], train_images=st["n"], lr=float(lr[1]) if lr else UNKNOWN, command=cmd, torch_acc=st["torch_acc"],
                         train_seconds=st["seconds"])
            notes.append(f"stage {i + 1}: from {st['log']} (train seconds in whole seconds; lr and the command line are not logged)")
        if st["val"] is not None and not p:  # train.py's fields for a stage run with the validation split
            stage.update(val=st["val"], val_acc=st["val_acc"]) if st["val"] else stage.update(val=0)
        if st["at"] != "none" and st["robust"]:
            stage["kept_epoch"] = max(st["robust"], key=lambda r: (r[0], -r[1]))[1]
        elif st["keep"] == "best-val" and st["epochs"]:  # the best epoch; the last unless a "kept epoch" line says otherwise
            stage["kept_epoch"] = st["kept_epoch"] if st["kept_epoch"] is not None else st["epochs"]
        if st["averaged"]:
            stage["averaged"] = st["averaged"]
            if st["kept"]:
                stage["kept"] = st["kept"]
            made_here = {os.path.join(folder, "state_dict.pt")}
            for m in st["averaged"]:
                if m not in made_here:
                    notes.append(f"stage {i + 1}: averaged {m}: which weights it held is not logged (the copies are made outside train.py)")
        out = os.path.dirname(st["exported"])
        if os.path.abspath(out) != os.path.abspath(folder):
            notes.append(f"stage {i + 1}: {st['log']} says it exported to {st['exported']}, not to this folder: the files were copied here; "
                         f"the command that ran is not recorded")
            if p:
                stage["command"] = UNKNOWN
        stages.append(stage)
    last, first = parsed[-1], parsed[0]
    threads = prior.get("threads") if prior and len(prior_stages) == len(stages) else UNKNOWN
    meta = dict(kind=last["kind"], depth=last["depth"], dataset=prior["dataset"] if prior else UNKNOWN, epochs=sum(s["epochs"] for s in stages),
                adversarial_training=last["at"], eps=last["eps"] if last["at"] != "none" else 0,
                at_mix=(last["at_mix"] if last["at_mix"] is not None else UNKNOWN) if last["at"] != "none" else 0, seed=last["seed"],
                train_subset=last["n"], torch_acc=last["torch_acc"],
                train_seconds=round(sum(s["train_seconds"] for s in stages if isinstance(s["train_seconds"], (int, float))), 1), threads=threads,
                command=" && ".join(s["command"] for s in stages))
    if last["val"] is not None:  # the split every choice was made on, as train.py records it
        vals = {s.get("val", 0) for s in stages}
        if vals == {last["val"]} and last["val"]:
            meta.update(val=last["val"], val_acc=last["val_acc"], test_acc=last["torch_acc"], selected_on=f"validation (last {last['val']} training images)")
            if len(stages) == 1 and "kept_epoch" in stages[0]:
                meta["kept_epoch"] = stages[0]["kept_epoch"]
        else:
            meta.update(val=0, test_acc=last["torch_acc"], selected_on=LEGACY_SELECTED)
    if len(stages) > 1:
        meta["stages"] = stages
    meta["provenance"] = dict(written_by=f"python3 models/train/meta_from_logs.py {folder}" + (f" --prior {a.prior}" if a.prior else ""),
                              logs=[os.path.basename(p) for p in logs], notes=notes)
    text = json.dumps(meta, indent=2)
    path = os.path.join(folder, "meta.json")
    if a.check:
        same = os.path.exists(path) and json.load(open(path)) == meta
        print(text)
        sys.exit(0 if same else 1)
    open(path, "w").write(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
