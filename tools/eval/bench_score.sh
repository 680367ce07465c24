#!/usr/bin/env bash
# vkgrm-score throughput at k = 1, 8, 32 on the same records (README "vkgrm-score").
#   tools/eval/bench_score.sh MODEL_DIR INPUT.jsonl [RECORDS] [MAX_NEW_TOKENS] [BUILD]
# Prints one line per k: judgments/s, generated tokens/s, prefill tokens/s and the
# share of prompt tokens the shared prefixes saved (from vkgrm-score's summary).
set -euo pipefail
model=$1 input=$2 records=${3:-2} max_new=${4:-32} build=${5:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v n="$records" 'NF && c++ < n' "$input" > "$tmp/in.jsonl"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in 1 8 32; do
  VKGRM_NO_PROGRESS=1 "$build/tools/vkgrm-score/vkgrm-score" -m "$model" -i "$tmp/in.jsonl" -o "$tmp/out.jsonl" \
    -k "$k" -n "$max_new" -s 1 --summary "$tmp/s.json" 2> "$tmp/err" || { cat "$tmp/err"; exit 1; }
  saved=$(grep -o '[0-9.]*% saved' "$tmp/err" || true)
  python3 - "$tmp/s.json" "$k" "$saved" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t = s["throughput"]
print(f"k={sys.argv[2]:>2}: {s['records']} records, {s['generated_tokens']} tokens, "
      f"{t['judgments_per_s']:.3f} judgments/s, {t['generated_tokens_per_s']:.1f} gen tok/s, "
      f"{t['prefill_tokens_per_s']:.1f} prefill tok/s, prefix sharing {sys.argv[3] or 'n/a'}, wall {t['wall_s']:.1f} s")
PY
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
