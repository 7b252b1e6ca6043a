#!/usr/bin/env bash
# The n = 1000 attack records of README's robustness table: PGD-20, Square-1000 and the AutoAttack
# ensemble on the first 1,000 Fashion-MNIST test images, --workers 2, one record per run in
# results/<attack>-1000-<model>-eps<ε>.json. Resumable.
#   [SHARDS=k] bash scripts/attack_records.sh <eps> <model>…     e.g. bash scripts/attack_records.sh 0.05 mbn3x1 fxp2
# (model = the zoo folder's suffix: models/zoo/fmnist_resnet20_<model>/model.onnx, or models/zoo/fmnist_<model>
# where that exists, e.g. resnet56_fp32 for the study's float ResNet-56)
# A record that exists is kept (file times mean nothing in a fresh clone); test/models/records.test.ts
# checks each record's fingerprint against today's bundle, so a record of an older model fails there.
# WORKERS=w (default 2) sets --workers (the record's command says which).
# ATTACKS="pgd:pgd20 square:square1000" (default: those two and autoattack:autoattack) picks the attacks.
# SHARDS=k splits each run into k `--shard i/k` runs (records in results/shards/, kept and skipped like
# whole records, so a run that takes hours resumes shard by shard in a later session) and merges them
# with `mbn merge` once all k exist.
set -eu
cd "$(dirname "$0")/.."
eps=$1; shift
shards=${SHARDS:-1}
workers=${WORKERS:-2}
attacks=${ATTACKS:-pgd:pgd20 square:square1000 autoattack:autoattack}
have() { [ -f "$1" ] && grep -q '"fingerprint"' "$1"; }
for m in "$@"; do
  model=models/zoo/fmnist_resnet20_$m/model.onnx
  [ -d "models/zoo/fmnist_$m" ] && model=models/zoo/fmnist_$m/model.onnx
  [ -f "$model" ] || { echo "mbn: attack_records.sh: no zoo model $m (neither models/zoo/fmnist_resnet20_$m nor models/zoo/fmnist_$m)" >&2; exit 1; }
  for a in $attacks; do
    out=results/${a##*:}-1000-$m-eps$eps.json
    have "$out" && continue
    run=(node bin/mbn.mjs attack "$model" --attack "${a%%:*}" --eps "$eps" --n 1000 --workers "$workers")
    if [ "$shards" = 1 ]; then
      echo "$(date -u +%T) $out"
      "${run[@]}" -o "$out"
      continue
    fi
    mkdir -p results/shards
    parts=()
    for ((i = 0; i < shards; i++)); do
      part=results/shards/$(basename "$out" .json).shard$i-of$shards.json
      parts+=("$part")
      have "$part" && continue
      echo "$(date -u +%T) $part"
      "${run[@]}" --shard "$i/$shards" -o "$part"
    done
    node bin/mbn.mjs merge "${parts[@]}" -o "$out"
  done
done
