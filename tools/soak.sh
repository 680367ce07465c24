#!/usr/bin/env bash
# tools/soak.sh [MODEL_DIR] [PROMPTS] [SAMPLES] [TOKENS] — a long run under
# validation (not in CI): vkgrm-generate over PROMPTS prompts (default 1000)
# with --n-samples SAMPLES (8) and -n TOKENS (16), sampled (--temp 0.8), one
# model load, VKGRM_VALIDATE=1 (SOAK_VALIDATE=0 turns it off for a faster
# run), --mem-stats after every prompt. Checks that
#   - every prompt gave SAMPLES JSON lines and the run exited 0,
#   - the validation layer said nothing,
#   - host RSS and device memory are flat after warm-up (the first
#     SOAK_WARMUP prompts, default 100, at most half the run; the device
#     suballocator fills the free part of its first block with freed ranges
#     for the first few dozen prompts): the least-squares slope of RSS over the rest, in KiB per
#     prompt, must stay below SOAK_MAX_SLOPE_KIB (default 1.0, i.e. < 1 MiB
#     per 1,000 prompts), and device memory must not change.
# MODEL_DIR defaults to build/soak-model, a 2-layer Llama with a 360-token
# tokenizer written by tests/fixtures/make_soak_model.py (made here when
# missing): the tiny models of the tests have 128k+ vocabularies, whose output
# head and sampling dominate a step on lavapipe. Output: build/soak/ (SOAK_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-build/soak-model}
N=${2:-1000}
K=${3:-8}
TOKENS=${4:-16}
BIN=${VKGRM_GENERATE:-build/tools/vkgrm-generate/vkgrm-generate}
PY=${VKGRM_PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
OUT=${SOAK_OUT:-build/soak}
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "tools/soak.sh: build first ($BIN missing)" >&2; exit 2; }
if [ ! -f "$MODEL/config.json" ] && [ "$MODEL" = build/soak-model ]; then
  "$PY" tests/fixtures/make_soak_model.py "$MODEL"
fi
[ -f "$MODEL/config.json" ] || { echo "tools/soak.sh: no model at $MODEL" >&2; exit 2; }

# deterministic, varied prompts (lengths 1..~60 words)
"$PY" - "$N" > "$OUT/prompts.jsonl" <<'EOF'
import json, random, sys
r = random.Random(1234)
words = ("the judge reads a query and two answers then writes principles a critique and a score for each "
         "response Paris is the capital of France what is 2 + 2 explain why the sky is blue in one sentence "
         "éàü 中文 😀 code: def f(x): return x").split()
for i in range(int(sys.argv[1])):
    print(json.dumps({"prompt": " ".join(r.choice(words) for _ in range(1 + r.randrange(60)))}))
EOF

VALIDATE=${SOAK_VALIDATE:-1}
echo "soak: $N prompts x $K samples x $TOKENS tokens on $MODEL (VKGRM_VALIDATE=$VALIDATE)"
start=$(date +%s)
set +e
VKGRM_VALIDATE=$VALIDATE VKGRM_NO_PROGRESS=1 "$BIN" -m "$MODEL" --prompts "$OUT/prompts.jsonl" --n-samples "$K" \
  -n "$TOKENS" --temp 0.8 -s 7 --mem-stats > "$OUT/out.jsonl" 2> "$OUT/stderr.log"
rc=$?
set -e
secs=$(( $(date +%s) - start ))
"$PY" - "$OUT" "$N" "$K" "$rc" "$secs" "${SOAK_MAX_SLOPE_KIB:-1.0}" "${SOAK_WARMUP:-100}" <<'EOF'
import json, sys
out, n, k, rc, secs, max_slope = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
warmup = int(sys.argv[7])
lines = [json.loads(x) for x in open(f"{out}/out.jsonl")]
err = open(f"{out}/stderr.log").read().splitlines()
mem = [x.split() for x in err if x.startswith("mem: ")]
other = [x for x in err if not x.startswith("mem: ")]
rss = [int(m[4]) for m in mem]
dev = [int(m[6]) + int(m[8]) for m in mem]
heap = [int(m[10]) / 1024 for m in mem if len(m) > 10]  # malloc'ed bytes in use (glibc), KiB
w = min(warmup, len(rss) // 2)


def slope_of(ys):  # least squares, per prompt, over the prompts after warm-up
    xs = list(range(w, w + len(ys)))
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


slope = slope_of(rss[w:])
print(f"soak: exit {rc}, {secs} s, {len(lines)} JSON lines (want {n * k}), {len(mem)} memory reports")
print(f"soak: RSS {rss[0] / 1024:.1f} MiB after prompt 0, {rss[w] / 1024:.1f} MiB after warm-up (prompt {w}), "
      f"{rss[-1] / 1024:.1f} MiB at the end; slope after warm-up {slope:.3f} KiB/prompt")
if heap:
    print(f"soak: malloc heap in use {heap[w] / 1024:.2f} MiB after warm-up, {heap[-1] / 1024:.2f} MiB at the end; "
          f"slope {slope_of(heap[w:]):.3f} KiB/prompt")
print(f"soak: device memory {dev[0] / 2**20:.1f} MiB at the start, {min(dev[w:]) / 2**20:.1f}..{max(dev[w:]) / 2**20:.1f} MiB after warm-up")
print(f"soak: other stderr lines: {len(other)}" + "".join("\n  " + x for x in other[:10]))
ok = (rc == 0 and len(lines) == n * k and len(mem) == n and not other and slope < max_slope
      and max(dev[w:]) == min(dev[w:]))
print("soak: " + ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
