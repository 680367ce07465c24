#!/usr/bin/env bash
# Peer harness (issue 13): vkgrm against llama.cpp on the same weights and cores.
#
#   tools/bench/compare.sh [--models "smollm2 moe-100m"] [--prefill N (256)] [--steps N (8)]
#                          [--threads N] [--no-vulkan] [--timeout SEC] [--out DIR]
#
# For each model it runs, one after the other on an otherwise idle machine:
#   vkgrm        build/tools/vkgrm-bench/vkgrm-bench -m HF_DIR --prefill N --steps S --json
#   llama.cpp    llama-bench -m FILE.gguf -p N -n 0 -r 1         (prefill tokens/s, after its warmup run)
#                llama-batched-bench -m FILE.gguf -npp 128 -ntg S -npl 1,1,8,32 -pps -kvu
#                                                                 (aggregate decode tokens/s; the
#                                                                 first batch-1 row warms up, the
#                                                                 second is reported)
#                once with the CPU backend (--threads, default all cores) and once with the
#                Vulkan backend (-ngl 99, the same Vulkan device vkgrm uses: lavapipe here;
#                GGML_VK_VISIBLE_DEVICES, default 0, because ggml-vulkan skips CPU devices)
# and prints one Markdown table of tokens/s and ratios, with the load average before
# and after; raw outputs and the table go to --out (default /tmp/vkgrm-compare).
# The decode rows match vkgrm-bench's: a 128-token prompt prefilled once and shared by
# the batch's sequences (-pps with a unified KV cache), S steps of one token each.
#
# Models: smollm2    SmolLM2-135M-Instruct, F16 (tests/fixtures/fetch_models.sh)
#         moe-100m   the Qwen3-MoE bench preset, BF16 (tests/fixtures/make_bench_model.py)
#         qwen-judge Qwen2.5-Coder-1.5B-Instruct Q4_K_M, issue 12's judge
#                    (tests/fixtures/fetch_qwen_judge.sh; ~1 GiB from PyPI the first time)
#         or any HF directory of a llama/qwen2/qwen3/qwen3_moe model, or any FILE.gguf.
# The GGUF of each directory is written by tools/bench/hf_to_gguf.py (matrices bit for
# bit) into <cache>/bench-models/; a GGUF file is given to both as it is.
# llama.cpp's tools are built once by tools/bench/build_llama_tools.sh into <cache>
# ($VKGRM_TEST_CACHE or ~/.cache/vkgrm-tests): about 10 min (CPU) + 30 min (Vulkan)
# on 2 cores.
# Python: $VKGRM_PYTHON or <repo>/.venv/bin/python (numpy, safetensors, gguf).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${VKGRM_TEST_CACHE:-$HOME/.cache/vkgrm-tests}
PY=${VKGRM_PYTHON:-$ROOT/.venv/bin/python}
BENCH=${VKGRM_BENCH:-$ROOT/build/tools/vkgrm-bench/vkgrm-bench}
MODELS="smollm2 moe-100m"
PREFILL=256
STEPS=8
THREADS=$(nproc)
VULKAN=1
TIMEOUT=1200
OUT=/tmp/vkgrm-compare
CTX=128
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --prefill) PREFILL=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-vulkan) VULKAN=0; shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in PREFILL STEPS THREADS TIMEOUT; do
  case "${!v}" in ''|*[!0-9]*) echo "compare.sh: --${v,,} wants a positive integer, got '${!v}'" >&2; exit 2 ;; esac
  [ "${!v}" -gt 0 ] || { echo "compare.sh: --${v,,} must be > 0" >&2; exit 2; }
done
[ -x "$BENCH" ] || { echo "compare.sh: $BENCH not built (cmake --build build)" >&2; exit 1; }
[ -x "$PY" ] || { echo "compare.sh: no python at $PY (python3 -m venv .venv && .venv/bin/pip install -r tests/reference/requirements.txt, or set VKGRM_PYTHON)" >&2; exit 1; }
mkdir -p "$OUT" "$CACHE/bench-models"

for m in $MODELS; do # before any build or download: a bad name is a usage error
  case "$m" in
    smollm2|moe-100m|dense-100m|qwen-judge) ;;
    *.gguf) [ -f "$m" ] || { echo "compare.sh: $m: no such GGUF file" >&2; exit 2; } ;;
    *) [ -f "$m/config.json" ] || { echo "compare.sh: $m: not a preset (smollm2, moe-100m, dense-100m, qwen-judge), an HF directory or a .gguf file" >&2; exit 2; } ;;
  esac
done

CPU_BIN=$(bash "$HERE/build_llama_tools.sh" cpu)
VK_BIN=
[ "$VULKAN" = 1 ] && VK_BIN=$(bash "$HERE/build_llama_tools.sh" vulkan)

model_dir() { # name -> HF directory (made or fetched when missing)
  case "$1" in
    smollm2)
      bash "$ROOT/tests/fixtures/fetch_models.sh" >&2
      echo "$CACHE/models/smollm2-135m-instruct" ;;
    moe-100m|dense-100m)
      "$PY" "$ROOT/tests/fixtures/make_bench_model.py" "$1" "$CACHE/bench-models/$1" >&2
      echo "$CACHE/bench-models/$1" ;;
    *) (cd "$1" && pwd) ;;
  esac
}

# run NAME TIMEOUT CMD...: stdout to $OUT/NAME.out, stderr to .err, rc to .rc
run() {
  local name=$1 t=$2; shift 2
  echo "compare.sh: $name: $*" >&2
  local rc=0
  timeout "$t" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || rc=$?
  echo "$rc" > "$OUT/$name.rc"
  [ "$rc" = 0 ] || echo "compare.sh: $name exited $rc (see $OUT/$name.err)" >&2
}

cat /proc/loadavg > "$OUT/load.before"
: > "$OUT/models"
rm -f "$OUT/norepack"
for m in $MODELS; do
  case "$m" in
    qwen-judge|*.gguf) # a GGUF as it is, for both
      if [ "$m" = qwen-judge ]; then gguf=$(bash "$ROOT/tests/fixtures/fetch_qwen_judge.sh"); else gguf=$(cd "$(dirname "$m")" && pwd)/$(basename "$m"); fi
      src=$gguf
      tag=$(basename "$gguf" .gguf) ;;
    *)
      dir=$(model_dir "$m")
      src=$dir
      tag=$(basename "$dir")
      gguf=$CACHE/bench-models/$tag.gguf
      # the GGUF is rewritten when the directory's files or the writer change (names, sizes, times)
      sum=$(stat -c '%n %s %Y' "$dir"/*.safetensors "$dir/config.json" "$HERE/hf_to_gguf.py" | sha256sum | cut -c1-16)
      if [ ! -f "$gguf" ] || [ "$(cat "$gguf.src" 2>/dev/null)" != "$sum" ]; then
        "$PY" "$HERE/hf_to_gguf.py" "$dir" "$gguf" >&2
        echo "$sum" > "$gguf.src"
      fi ;;
  esac
  key=$m # the raw outputs' file names: a preset's name, else the directory's or file's base name
  case "$m" in smollm2|moe-100m|dense-100m|qwen-judge) ;; *) key=$tag ;; esac
  echo "$key $tag" >> "$OUT/models"
  run "$key.vkgrm" "$TIMEOUT" "$BENCH" -m "$src" --prefill "$PREFILL" --steps "$STEPS" --json
  kvmax=$((CTX + 32 * STEPS + 64))
  for be in cpu vulkan; do
    if [ "$be" = cpu ]; then bin=$CPU_BIN; ngl=0; else bin=$VK_BIN; ngl=99; fi
    [ -n "$bin" ] || continue
    # ggml-vulkan skips CPU-type devices (lavapipe) unless they are named
    export GGML_VK_VISIBLE_DEVICES=${GGML_VK_VISIBLE_DEVICES:-0}
    # the CPU backend repacks quantized weights for its fastest kernels (AMX, AVX-512 layouts); a
    # host whose CPUID advertises instructions its VM then refuses kills them (SIGILL / SIGSEGV,
    # exit 132 / 139): such a run is repeated without repacking, and the table says so
    pp_extra=() tg_extra=()
    for try in 1 2; do
      run "$key.$be.pp" "$TIMEOUT" "$bin/llama-bench" -m "$gguf" -p "$PREFILL" -n 0 -r 1 -t "$THREADS" -ngl "$ngl" \
        -o json "${pp_extra[@]}"
      run "$key.$be.tg" "$TIMEOUT" "$bin/llama-batched-bench" -m "$gguf" -c "$kvmax" -b 2048 -ub 512 -npp "$CTX" \
        -ntg "$STEPS" -npl 1,1,8,32 -pps -kvu -t "$THREADS" -ngl "$ngl" --output-format jsonl "${tg_extra[@]}"
      rcs=" $(cat "$OUT/$key.$be.pp.rc") $(cat "$OUT/$key.$be.tg.rc") "
      if [ "$be" = cpu ] && [ "$try" = 1 ] && { [[ $rcs == *" 132 "* ]] || [[ $rcs == *" 139 "* ]]; }; then
        echo "compare.sh: $key: llama.cpp's CPU kernels faulted (exit codes$rcs): again without weight repacking" >&2
        echo "$key" >> "$OUT/norepack"
        pp_extra=(--repack 0)
        tg_extra=(--no-repack)
      else
        break
      fi
    done
  done
done
cat /proc/loadavg > "$OUT/load.after"

python3 - "$OUT" "$PREFILL" "$STEPS" "$THREADS" <<'PYEOF' | tee "$OUT/table.md"
import json, os, sys
out, prefill, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def text(name):
    p = os.path.join(out, name + ".out")
    return open(p).read() if os.path.exists(p) else ""

def ok(name):
    p = os.path.join(out, name + ".rc")
    return os.path.exists(p) and open(p).read().strip() == "0"

def vkgrm(m):
    r = {}
    if ok(m + ".vkgrm"):
        for row in json.loads(text(m + ".vkgrm"))["rows"]:
            r["prefill" if row["mode"] == "prefill" else f"decode b{row['batch']}"] = row["tokens_per_s"]
    return r

def llama(m, be):
    r = {}
    if ok(f"{m}.{be}.pp"):
        for row in json.loads(text(f"{m}.{be}.pp")):
            if row.get("n_prompt") == prefill and row.get("n_gen") == 0:
                r["prefill"] = row["avg_ts"]
    # batched-bench prints one JSON line per batch (the later of the two batch-1 rows is kept);
    # lines before a crash still count
    for line in text(f"{m}.{be}.tg").splitlines():
        line = line.strip()
        if line.startswith("{") and '"speed_tg"' in line:
            row = json.loads(line)
            r[f"decode b{row['pl']}"] = row["speed_tg"]
    return r

def cell(v):
    return f"{v:.2f}" if v is not None else "failed"

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "–"

lb, la = open(os.path.join(out, "load.before")).read().split()[:3], open(os.path.join(out, "load.after")).read().split()[:3]
print(f"Tokens/s; prefill {prefill} tokens; decode = aggregate tokens/s of B sequences sharing a 128-token "
      f"prompt, {steps} steps; llama.cpp {threads} threads; load average before {' '.join(lb)}, after {' '.join(la)}.\n")
norepack = os.path.join(out, "norepack")
if os.path.exists(norepack):
    print(f"llama.cpp CPU without weight repacking (--repack 0 / --no-repack) for "
          f"{', '.join(open(norepack).read().split())}: its repacked kernels faulted on this host.\n")
print("| model | metric | llama.cpp CPU | llama.cpp Vulkan | vkgrm | vkgrm ÷ lc-Vulkan | vkgrm ÷ lc-CPU |")
print("|---|---|---:|---:|---:|---:|---:|")
for line in open(os.path.join(out, "models")):
    m, tag = line.split()
    v, c, k = vkgrm(m), llama(m, "cpu"), llama(m, "vulkan")
    has_vk = os.path.exists(os.path.join(out, f"{m}.vulkan.tg.rc"))
    for metric in ("prefill", "decode b1", "decode b8", "decode b32"):
        kv = cell(k.get(metric)) if has_vk else "not run"
        print(f"| {tag} | {metric} | {cell(c.get(metric))} | {kv} | {cell(v.get(metric))} | "
              f"{ratio(v.get(metric), k.get(metric))} | {ratio(v.get(metric), c.get(metric))} |")
PYEOF
