#!/usr/bin/env bash
# Publish validation-recipe models: copy each finished model from models/zoo_val/<name> (where
# `bash models/train/zoo.sh` trains it, stage by stage) into the zoo, models/zoo/<name>, replacing the
# legacy model of that name (it stays in git history). Copied: model.onnx, meta.json, test_data/ and the
# training logs (log_stage<k>.txt, log.txt); the stage checkpoints stay in models/zoo_val. A model is
# finished when every stage the recipe lists (zoo.sh --print: its `cp … stage<k>.pt` lines) has its
# stage<k>.pt: zoo.sh copies one only after that stage's train.py has exported. Refuses an unfinished
# model in one mbn: line, copying nothing.
#   bash scripts/zoo_swap.sh <name>…        e.g. bash scripts/zoo_swap.sh fmnist_resnet20_mbn3x1
# Then (docs/robustness.md, "Publishing the retrained zoo"): npx tsx models/zoo/build_manifest.ts --attacks,
# the n = 1000 records (scripts/attack_records.sh), and the README tables.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "mbn: zoo_swap.sh: name the models to publish (folders of models/zoo_val)" >&2; exit 1; }
for name in "$@"; do
  src=models/zoo_val/$name
  [ -f "$src/meta.json" ] && [ -f "$src/model.onnx" ] || { echo "mbn: zoo_swap.sh: $src has no exported model (meta.json, model.onnx)" >&2; exit 1; }
  # the recipe's stages: its `cp … stage<k>.pt` lines
  want=$(bash models/train/zoo.sh --print "$name" | grep -c "^cp .*/stage[0-9]*\.pt$" || true)
  [ "$want" != 0 ] || { echo "mbn: zoo_swap.sh: zoo.sh has no validation recipe for $name" >&2; exit 1; }
  for ((k = 1; k <= want; k++)); do
    [ -f "$src/stage$k.pt" ] || { echo "mbn: zoo_swap.sh: $name is not finished: $src/stage$k.pt missing (recipe: $want stages; resume with bash models/train/zoo.sh $name)" >&2; exit 1; }
  done
  have=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(len(m.get("stages", [m])))' "$src/meta.json")
  echo "$name: recipe $want stage(s), meta.json $have stage(s)"
done
for name in "$@"; do
  src=models/zoo_val/$name dst=models/zoo/$name
  rm -rf "$dst/model.onnx" "$dst/meta.json" "$dst/test_data" "$dst"/log*.txt "$dst/pgd_reference.json"
  mkdir -p "$dst"
  cp -r "$src/model.onnx" "$src/meta.json" "$src/test_data" "$dst/"
  cp "$src"/log*.txt "$dst/"
  echo "$src → $dst"
done
