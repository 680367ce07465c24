#!/usr/bin/env bash
# tools/bench/gpu_run.sh — the one prepared GPU check (issue 13, "GPU readiness"): on the machine
# the `device` tool lends, from the files tools/bench/gpu_pack.sh left in .gpu/ and .gl/, within
# one call of at most 10 minutes:
#   1. vkgrm-info and its self-check: which device, driver, subgroup size, limits;
#   2. every gpu_test_* that needs no generated model under the validation layer
#      (VKGRM_VALIDATE=1: any validation message fails the test), each with a time limit;
#   3. vkgrm-bench --ops: every kernel's time and fraction of the device's copy bandwidth;
#   4. vkgrm-bench -m on the bundled DeepSeek-V2 judge and on the moe-100m and dense-100m presets
#      (generated there with numpy), with the per-kernel profile;
#   5. the product's main job: the demo's vkgrm-score run (bundled judge + MetaRM, k = 8),
#      its accuracies and its wall time.
# Everything lands in $OUT (the device tool's folder that comes back; build/gpu-out elsewhere):
# summary.md (the tables), info.txt, tests.txt, ops.md, model_*.md, demo.txt, log.txt.
# Steps past the time budget (GPU_BUDGET_S, default 540 s) are skipped, and said so.
# Runs anywhere there is a Vulkan device (on lavapipe: GPU_QUICK=1 keeps it short).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/build/gpu-out}
BUDGET=${GPU_BUDGET_S:-540}
QUICK=${GPU_QUICK:-0}
case $BUDGET in '' | *[!0-9]*) echo "gpu_run: GPU_BUDGET_S must be a number of seconds, not '$BUDGET'" >&2; exit 2 ;; esac
case $QUICK in 0 | 1) ;; *) echo "gpu_run: GPU_QUICK must be 0 or 1, not '$QUICK'" >&2; exit 2 ;; esac
T0=$(date +%s)
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
log() { printf '[gpu_run %4ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
S="$OUT/summary.md"

[ -f .gpu/bin.tar.xz ] || { log "no .gpu/bin.tar.xz: run tools/bench/gpu_pack.sh first and carry .gpu"; exit 2; }

# -- the Vulkan loader and the packed binaries --------------------------------------------------
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    log "installing the Vulkan loader from .gl/"
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f $NV_ICD ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$NV_ICD
fi
W=$(mktemp -d /tmp/vkgrm-gpu.XXXXXX)
tar -C "$W" -xJf .gpu/bin.tar.xz
BIN=$W/bin
export LD_LIBRARY_PATH=$ROOT/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
VALIDATE=1
if [ -f .gpu/layers/libVkLayer_khronos_validation.so.xz ]; then
  mkdir -p "$W/layers"
  xz -dc .gpu/layers/libVkLayer_khronos_validation.so.xz >"$W/layers/libVkLayer_khronos_validation.so"
  cp .gpu/layers/VkLayer_khronos_validation.json "$W/layers/"
  export VK_ADD_LAYER_PATH=$W/layers VK_LAYER_PATH=$W/layers
elif ! ls /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json >/dev/null 2>&1; then
  VALIDATE=0
  log "no validation layer: the gpu tests run without it"
fi
# the tests read a few reference files under the source path they were compiled with
SRC=$(cat .gpu/source_dir 2>/dev/null || echo "$ROOT")
if [ "$SRC" != "$ROOT" ] && [ ! -e "$SRC" ]; then mkdir -p "$(dirname "$SRC")" && ln -s "$ROOT" "$SRC"; fi
export VKGRM_NO_PROGRESS=1

{
  echo "# vkgrm GPU check ($(cat .gpu/commit 2>/dev/null), $(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "Host: $(nproc) CPU cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  command -v nvidia-smi >/dev/null && echo "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
  echo
} >"$S"

# -- 1. the device ----------------------------------------------------------------------------
log "vkgrm-info"
if ! timeout 60 "$BIN/vkgrm-info" >"$OUT/info.txt" 2>&1 || ! timeout 60 "$BIN/vkgrm-info" --self-check >>"$OUT/info.txt" 2>&1; then
  log "vkgrm-info failed: no usable Vulkan device (info.txt)"
  { echo "vkgrm-info failed:"; echo '```'; tail -20 "$OUT/info.txt"; echo '```'; } >>"$S"
  exit 1
fi
{ echo '## Device (vkgrm-info)'; echo; echo '```'; head -40 "$OUT/info.txt"; echo '```'; echo; } >>"$S"

# -- 2. gpu tests under validation ------------------------------------------------------------
# gpu_test_generate, _schedule and _weights need the generated tiny models (about 1 GB with the
# npm tokenizers): the demo's vkgrm-score run below drives the same scheduler end to end.
log "gpu tests (validation $([ $VALIDATE = 1 ] && echo on || echo off))"
{ echo '## GPU tests'; echo; echo "| test | result | seconds |"; echo "|---|---|---:|"; } >>"$S"
: >"$OUT/tests.txt"
npass=0 nfail=0
for t in "$BIN"/gpu_test_*; do
  n=$(basename "$t")
  case $n in gpu_test_generate|gpu_test_schedule|gpu_test_weights) continue ;; esac
  if [ "$QUICK" = 1 ]; then case $n in gpu_test_device|gpu_test_norm|gpu_test_convert) ;; *) continue ;; esac; fi
  if [ "$(left)" -lt 300 ]; then
    echo "| $n | skipped (time budget) | |" >>"$S"
    continue
  fi
  t1=$(date +%s)
  if (cd "$ROOT" && VKGRM_VALIDATE=$VALIDATE timeout 120 "$t" >>"$OUT/tests.txt" 2>&1); then
    r=passed; npass=$((npass + 1))
  else
    r="FAILED (rc $?)"; nfail=$((nfail + 1))
  fi
  echo "| $n | $r | $(($(date +%s) - t1)) |" >>"$S"
  log "$n: $r"
done
echo >>"$S"
echo "$npass passed, $nfail failed." >>"$S"
echo >>"$S"

# -- 3. kernels -------------------------------------------------------------------------------
if [ "$(left)" -gt 200 ]; then
  log "vkgrm-bench --ops"
  OPS_ARGS=(--ops --min-time 0.05)
  [ "$QUICK" = 1 ] && OPS_ARGS+=(--filter matvec1_f16)
  timeout $(($(left) - 150)) "$BIN/vkgrm-bench" "${OPS_ARGS[@]}" >"$OUT/ops.md" 2>&1
  { echo '## Kernels (vkgrm-bench --ops --min-time 0.05)'; echo; cat "$OUT/ops.md"; echo; } >>"$S"
else
  echo "Kernel bench skipped (time budget)." >>"$S"
fi

# -- 4. models --------------------------------------------------------------------------------
bench_model() { # NAME DIR ARGS...
  local name=$1 dir=$2; shift 2
  if [ "$(left)" -lt 90 ]; then echo "Model bench $name skipped (time budget)." >>"$S"; return; fi
  log "vkgrm-bench -m $name"
  timeout $(($(left) - 60)) "$BIN/vkgrm-bench" -m "$dir" "$@" --profile >"$OUT/model_$name.md" 2>&1
  { echo "## Model: $name (vkgrm-bench -m $* --profile)"; echo; cat "$OUT/model_$name.md"; echo; } >>"$S"
}
bench_model grm-judge-tiny models/grm-judge-tiny --prefill 448 --steps 8
if [ "$QUICK" != 1 ] && command -v python3 >/dev/null && python3 -c 'import numpy' 2>/dev/null; then
  log "generating the moe-100m preset"
  if timeout 120 python3 tests/fixtures/make_bench_model.py moe-100m "$W/moe-100m" >>"$OUT/log.txt" 2>&1; then
    bench_model moe-100m "$W/moe-100m" --prefill 512 --steps 16
  fi
  log "generating the dense-100m preset"
  if timeout 120 python3 tests/fixtures/make_bench_model.py dense-100m "$W/dense-100m" >>"$OUT/log.txt" 2>&1; then
    bench_model dense-100m "$W/dense-100m" --prefill 512 --steps 16
  fi
fi

# -- 5. the main job --------------------------------------------------------------------------
if [ "$(left)" -gt 60 ]; then
  log "vkgrm-score: the demo (k = 8, MetaRM)"
  mkdir -p "$W/demo"
  DEMO=(-i models/examples/demo.jsonl -k 8 -s 1 -np 288 --meta-rm models/grm-metarm-tiny)
  [ "$QUICK" = 1 ] && DEMO=(-i models/examples/demo.jsonl -k 2 -s 1 -np 16)
  t1=$(date +%s%N)
  if timeout $(($(left) - 20)) "$BIN/vkgrm-score" "${DEMO[@]}" -o "$W/demo/k8.jsonl" --summary "$W/demo/k8.json" \
       >"$OUT/demo.txt" 2>&1; then
    t2=$(date +%s%N)
    python3 tools/eval/demo_table.py "$W/demo/k8.jsonl" "$W/demo/k8.json" >>"$OUT/demo.txt" 2>&1 || true
    { echo "## The demo (vkgrm-score ${DEMO[*]})"; echo
      awk -v a="$t1" -v b="$t2" 'BEGIN { printf "Wall time %.1f s.\n\n", (b - a) / 1e9 }'
      echo '```'; tail -25 "$OUT/demo.txt"; echo '```'; } >>"$S"
  else
    { echo "The demo FAILED:"; echo '```'; tail -20 "$OUT/demo.txt"; echo '```'; } >>"$S"
  fi
fi

log "done; summary in $S"
rm -rf "$W"
[ $nfail = 0 ]
