#!/usr/bin/env bash
# Where a bundle's time goes, by wasm function and by code address, from Linux perf's cpu-clock
# samples (works in VMs without hardware counters). V8 writes a jitdump of its TurboFan code
# (`--perf-prof`); `perf inject --jit` maps the samples onto it. Wasm functions are named by index:
# runtime/build/mbn-<target>.funcs.json gives the names (pruned bundles keep every index).
#   bash scripts/perf_profile.sh model.onnx [seconds=8] [outdir=/tmp/mbn-perf] [function index to annotate]
# Writes <outdir>/report.txt (samples per function) and, with an index, <outdir>/annotate-<i>.txt
# (samples per instruction) and prints the function's samples per 256-byte block of code.
set -euo pipefail
model=$1; secs=${2:-8}; out=${3:-/tmp/mbn-perf}; fn=${4:-}
command -v perf >/dev/null || { echo "mbn: perf_profile: Linux perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out" && mkdir -p "$out"
node "$root/bin/mbn.mjs" compile "$model" -o "$out/bundle.wasm" >/dev/null
(cd "$out" && perf record -q -e cpu-clock -F 20000 -k mono -o perf.data \
  node --perf-prof --no-liftoff --no-wasm-tier-up --no-wasm-lazy-compilation \
  "$root/scripts/perf_profile_run.mjs" bundle.wasm "$((secs * 1000))" > runs.txt)
(cd "$out" && perf inject --jit -i perf.data -o perf.jit.data 2>/dev/null)
names=$(node -e 'const f=require(process.argv[1]).functions;f.forEach((x,i)=>console.log("wasm-function["+i+"] "+x.name))' "$root/runtime/build/mbn-simd.funcs.json")
perf report -i "$out/perf.jit.data" --stdio --sort sym 2>/dev/null > "$out/perf-report.txt"
echo "# bash scripts/perf_profile.sh $* — $(date -u +%FT%TZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ×$(nproc), $(node --version); $(cat "$out/runs.txt")" > "$out/report.txt"
grep -v '^#' "$out/perf-report.txt" | grep -v '^$' | sed -n 1,15p |
  while read -r pct kind sym; do
    w=$(echo "$sym" | grep -o 'wasm-function\[[0-9]*\]' || true)
    echo "$pct $sym ${w:+$(echo "$names" | grep -F "$w " | cut -d' ' -f2)}"
  done >> "$out/report.txt"
cat "$out/report.txt"
if [ -n "$fn" ]; then
  perf annotate -i "$out/perf.jit.data" --stdio -s "JS:wasm-function[$fn]-$fn-turbofan" 2>/dev/null > "$out/annotate-$fn.txt"
  python3 - "$out/annotate-$fn.txt" "$fn" <<'PY' | tee -a "$out/report.txt"
import re, sys, collections
blocks = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+)\s*:\s*([0-9a-f]+):', line)
    if m: blocks[int(m.group(2), 16) // 256] += float(m.group(1))
print("samples of wasm-function[%s] per 256-byte block" % sys.argv[2] + " of its code (% of the function; blocks ≥ 0.5 %):")
for b in sorted(blocks):
    if blocks[b] >= 0.5: print("  +0x%05x %6.2f" % (b * 256, blocks[b]))
PY
fi
