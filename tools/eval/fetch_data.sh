#!/usr/bin/env bash
# Real preference data for evaluating judges (called by .ci/do; idempotent, instant when cached):
#   <cache>/eval/hhh_alignment.jsonl  Anthropic HHH alignment, 221 pairs (BIG-bench sdist on PyPI)
#   <cache>/eval/judgebench.jsonl     JudgeBench, 172 pairs (judicator wheel on PyPI)
# RewardBench form, one {"id", "prompt", "chosen", "rejected", "subset"} per line;
# fetch_data.py says how each set is mapped. Downloads (sha256-pinned) stay in
# <cache>/eval/downloads. <cache> is $VKGRM_TEST_CACHE or ~/.cache/vkgrm-tests
# (as in tests/CMakeLists.txt). Python: $VKGRM_PYTHON or <repo>/.venv/bin/python
# (standard library only). The outputs are rebuilt (from the cached downloads,
# no network) when fetch_data.py changes: its sha256 is kept in <cache>/eval/.converter.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${VKGRM_TEST_CACHE:-$HOME/.cache/vkgrm-tests}/eval
PY=${VKGRM_PYTHON:-$ROOT/.venv/bin/python}
CONV=$HERE/fetch_data.py
conv_sum=$(sha256sum "$CONV" | cut -d' ' -f1)

if [ -f "$OUT/.converter" ] && [ "$(cat "$OUT/.converter")" = "$conv_sum" ] &&
   [ -f "$OUT/hhh_alignment.jsonl" ] && [ -f "$OUT/judgebench.jsonl" ]; then
  echo "fetch_data: hhh_alignment.jsonl and judgebench.jsonl cached in $OUT"
  exit 0
fi

mkdir -p "$OUT"
rm -f "$OUT/.converter"
"$PY" "$CONV" "$OUT"
echo "$conv_sum" > "$OUT/.converter.tmp" && mv "$OUT/.converter.tmp" "$OUT/.converter"
