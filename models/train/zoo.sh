#!/usr/bin/env bash
# Train and export the whole Fashion-MNIST zoo, one command per model (run from the repo root).
#   MBN_DATA_DIR=<folder with Fashion-MNIST's IDX files> bash models/train/zoo.sh [name|all]
#   bash models/train/zoo.sh --print [name|all]   prints the commands instead of running them
#     (models/zoo/build_manifest.ts records that output as each model's rebuild commands)
# Budget used for the committed zoo (2 CPU cores, no GPU): a 30k-image training subset for 3 epochs,
# then (where listed) a second stage of 3 epochs on all 60k images at lr 1e-3 from the first stage's
# weights — train.py records each stage in meta.json; adversarially trained models are fine-tuned
# from their natural twins with FGSM-RS (eps = 0.1).
# Raise --epochs / drop --train-subset for better accuracy when you have the compute.
set -euo pipefail
PRINT=0
if [[ ${1:-} == --print ]]; then PRINT=1; shift; fi
PY=${PY:-python3}
T="$PY models/train/train.py --threads ${THREADS:-2}"
Z=models/zoo
ONLY=${1:-all}
# x: run (or print) one command line
x() { if [[ $PRINT == 1 ]]; then echo "$*"; else "$@"; fi; }
want() { [[ $ONLY == all || $ONLY == "$1" ]]; }
run() { local name=$1; shift; if want "$name"; then x $T "$@" --out $Z/$name; fi; }
run fmnist_resnet20_mbn3x1    --kind mbn3x1 --epochs 3 --train-subset 30000
# the default model gets a second stage: 3 epochs on all 60k images at lr 1e-3, from stage 1
run fmnist_resnet20_mbn3x1    --kind mbn3x1 --epochs 3 --lr 1e-3 --init $Z/fmnist_resnet20_mbn3x1/state_dict.pt
run fmnist_resnet20_fp32      --kind fp32   --epochs 3 --train-subset 30000
run fmnist_resnet20_fp32      --kind fp32   --epochs 3 --lr 1e-3 --init $Z/fmnist_resnet20_fp32/state_dict.pt
run fmnist_resnet20_fp32      --kind fp32   --epochs 3 --lr 5e-4 --init $Z/fmnist_resnet20_fp32/state_dict.pt
run fmnist_resnet20_fp32      --kind fp32   --epochs 2 --lr 2.5e-4 --init $Z/fmnist_resnet20_fp32/state_dict.pt
# fp32 ends in a "model soup": stage 4's weights, a stage with augmentation (flips, 2-px crops) from
# them, and one more augmentation stage from that (the soup's third member, trained in its own folder
# stage6/ so that its log and meta.json are kept) are averaged and BatchNorm is recalibrated on the
# training images. (The committed soup's third member was trained into /tmp: its log and figures were
# not kept; see fmnist_resnet20_fp32/meta.json.)
if want fmnist_resnet20_fp32; then
  F=$Z/fmnist_resnet20_fp32
  x cp $F/state_dict.pt $F/stage4.pt
  run fmnist_resnet20_fp32    --kind fp32   --augment --epochs 3 --lr 5e-4 --init $F/state_dict.pt
  x cp $F/state_dict.pt $F/stage5.pt
  x $T --kind fp32 --augment --epochs 3 --lr 5e-4 --init $F/stage5.pt --out $F/stage6
  x mv $F/stage6/state_dict.pt $F/stage6.pt
  run fmnist_resnet20_fp32    --kind fp32   --average $F/stage4.pt $F/stage5.pt $F/stage6.pt
fi
run fmnist_resnet20_fxp2      --kind fxp2   --epochs 3 --train-subset 30000
run fmnist_resnet20_fxp2      --kind fxp2   --epochs 3 --lr 1e-3 --init $Z/fmnist_resnet20_fxp2/state_dict.pt
run fmnist_resnet20_fxp2      --kind fxp2   --epochs 3 --lr 5e-4 --init $Z/fmnist_resnet20_fxp2/state_dict.pt
run fmnist_resnet20_mbn3x3    --kind mbn3x3 --epochs 3 --train-subset 30000
run fmnist_resnet20_mbn3x3    --kind mbn3x3 --epochs 3 --lr 1e-3 --init $Z/fmnist_resnet20_mbn3x3/state_dict.pt
run fmnist_resnet20_mbn1x1    --kind mbn1x1 --epochs 3 --train-subset 30000
run fmnist_resnet20_mbn1x1    --kind mbn1x1 --epochs 3 --lr 1e-3 --init $Z/fmnist_resnet20_mbn1x1/state_dict.pt
# fp32_at: fine-tuned from the fp32 after its augmentation stage (stage5.pt, so the fp32 recipe runs
# first) with FGSM-RS (eps 0.1) and Goodfellow et al.'s mixed clean/adversarial objective, then one
# more epoch at a lower lr. (The committed fp32_at's meta.json records --init models/zoo/fmnist_resnet20_fp32/state_dict.pt:
# that file's contents at the time are not recorded; its commit, 1479e12, says they were the augmentation
# stage's weights, which is what stage5.pt holds here. The checkpoints are not committed, so this is not checkable.)
run fmnist_resnet20_fp32_at   --kind fp32   --epochs 2 --at fgsm --eps 0.1 --at-mix 0.5 --lr 1e-3 --init $Z/fmnist_resnet20_fp32/stage5.pt
run fmnist_resnet20_fp32_at   --kind fp32   --epochs 1 --at fgsm --eps 0.1 --at-mix 0.5 --lr 2.5e-4 --init $Z/fmnist_resnet20_fp32_at/state_dict.pt
# mbn3x3_at: fine-tuned from the final mbn3x3 (so the mbn3x3 recipe runs first) with FGSM-RS (eps 0.1)
# and the mixed objective (adversarial examples only, --at-mix 0, lost natural accuracy: 82.7% after
# one such epoch, 75.8% after a second)
run fmnist_resnet20_mbn3x3_at --kind mbn3x3 --epochs 1 --train-subset 20000 --at fgsm --eps 0.1 --at-mix 0.5 --lr 1e-3 --init $Z/fmnist_resnet20_mbn3x3/state_dict.pt
