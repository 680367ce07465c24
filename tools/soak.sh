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
#     for the first few dozen prompts): the least-squares slope of host RSS
#     over the rest, in KiB per prompt, must stay below SOAK_MAX_SLOPE_KIB
#     (default 1.0, i.e. < 1 MiB per 1,000 prompts), and device memory
#     allocated must not change. Host RSS leaves out the resident part of the
#     large anonymous mappings (big_anon_kib, tools/common/memstat.h): on a
#     CPU driver those are the device memory blocks, whose pages become
#     resident as the KV pool is first touched further in (reported apart:
#     a high-water mark of device memory use, not a host leak).
# MODEL_DIR defaults to build/soak-model, a 2-layer Llama with a 360-token
# tokenizer written by tests/fixtures/make_soak_model.py (made here when
# missing): the tiny models of the tests have 128k+ vocabularies, whose output
# head and sampling dominate a step on lavapipe. Output: build/soak/ (SOAK_OUT).
#
# SOAK_TOOL=score soaks vkgrm-score instead: PROMPTS made-up records (a query
# and 2-4 responses of varied length) scored with -k SAMPLES judgments of
# -n TOKENS (default 8) each, --mem-stats after every output line, the same
# checks (one output line per record, none an error line; no "vkgrm:
# validation" line; exit 0). MODEL_DIR defaults to build/score-models/judge,
# the 512-token-vocab ChatML llama of tests/fixtures/make_score_models.py
# (random weights: the judgments are noise, which does not matter here).
# SOAK_RECORDS=FILE takes the records from a JSONL file instead (cycled to
# RECORDS, ids made unique), e.g. models/examples/heldout.jsonl for the bundled
# judge, whose judgments parse, so voting runs too; SOAK_META=DIR adds
# --meta-rm DIR (MetaRM-guided voting).
# SOAK_TEMPLATE=FILE passes --template FILE; SOAK_TEMPLATE=short writes a
# three-line judge template (prompts of ~100-300 tokens instead of the default
# template's ~1,000: a run 5-10x shorter on lavapipe). Output: build/soak-score/.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=${SOAK_TOOL:-generate}
case $TOOL in
  generate) MODEL=${1:-build/soak-model} TOKENS=${4:-16}
            BIN=${VKGRM_GENERATE:-build/tools/vkgrm-generate/vkgrm-generate} OUT=${SOAK_OUT:-build/soak} ;;
  score)    MODEL=${1:-build/score-models/judge} TOKENS=${4:-8}
            BIN=${VKGRM_SCORE:-build/tools/vkgrm-score/vkgrm-score} OUT=${SOAK_OUT:-build/soak-score} ;;
  *) echo "tools/soak.sh: SOAK_TOOL must be generate or score" >&2; exit 2 ;;
esac
N=${2:-1000}
K=${3:-8}
PY=${VKGRM_PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "tools/soak.sh: build first ($BIN missing)" >&2; exit 2; }
if [ ! -f "$MODEL/config.json" ] && [ "$MODEL" = build/soak-model ]; then
  "$PY" tests/fixtures/make_soak_model.py "$MODEL"
fi
if [ ! -f "$MODEL/config.json" ] && [ "$MODEL" = build/score-models/judge ]; then
  "$PY" tests/fixtures/make_score_models.py build/score-models
fi
[ -f "$MODEL/config.json" ] || { echo "tools/soak.sh: no model at $MODEL" >&2; exit 2; }

# deterministic, varied prompts (lengths 1..~60 words); for score, records
# {id, query, responses (2-4)} made of the same words
"$PY" - "$N" "$TOOL" "${SOAK_RECORDS:-}" > "$OUT/prompts.jsonl" <<'EOF'
import json, random, sys
r = random.Random(1234)
if sys.argv[3]:  # SOAK_RECORDS: cycled, ids made unique
    recs = [json.loads(x) for x in open(sys.argv[3]) if x.strip()]
    for i in range(int(sys.argv[1])):
        rec = dict(recs[i % len(recs)])
        rec["id"] = f"{rec.get('id', 'rec')}-soak{i}"
        print(json.dumps(rec))
    sys.exit(0)
words = ("the judge reads a query and two answers then writes principles a critique and a score for each "
         "response Paris is the capital of France what is 2 + 2 explain why the sky is blue in one sentence "
         "éàü 中文 😀 code: def f(x): return x").split()
text = lambda n: " ".join(r.choice(words) for _ in range(1 + r.randrange(n)))
for i in range(int(sys.argv[1])):
    if sys.argv[2] == "score":
        print(json.dumps({"id": f"soak-{i}", "query": text(40),
                          "responses": [text(30) for _ in range(2 + r.randrange(3))]}))
    else:
        print(json.dumps({"prompt": text(60)}))
EOF

VALIDATE=${SOAK_VALIDATE:-1}
echo "soak: $TOOL, $N prompts x $K samples x $TOKENS tokens on $MODEL (VKGRM_VALIDATE=$VALIDATE)"
start=$(date +%s)
set +e
if [ "$TOOL" = score ]; then
  tmpl=()
  if [ "${SOAK_TEMPLATE:-}" = short ]; then
    printf '%s\n' "Judge the responses to the query. Query: {context}" "Responses: {responses}" \
      "Write principles, a critique and a score from 1 to 10 for each response, boxed." > "$OUT/template.txt"
    tmpl=(--template "$OUT/template.txt")
  elif [ -n "${SOAK_TEMPLATE:-}" ]; then
    tmpl=(--template "$SOAK_TEMPLATE")
  fi
  [ -n "${SOAK_META:-}" ] && tmpl+=(--meta-rm "$SOAK_META")
  VKGRM_VALIDATE=$VALIDATE VKGRM_NO_PROGRESS=1 "$BIN" -m "$MODEL" -i "$OUT/prompts.jsonl" -k "$K" "${tmpl[@]}" \
    -n "$TOKENS" --temp 0.8 -s 7 --mem-stats > "$OUT/out.jsonl" 2> "$OUT/stderr.log"
else
  VKGRM_VALIDATE=$VALIDATE VKGRM_NO_PROGRESS=1 "$BIN" -m "$MODEL" --prompts "$OUT/prompts.jsonl" --n-samples "$K" \
    -n "$TOKENS" --temp 0.8 -s 7 --mem-stats > "$OUT/out.jsonl" 2> "$OUT/stderr.log"
fi
rc=$?
set -e
secs=$(( $(date +%s) - start ))
"$PY" - "$OUT" "$N" "$K" "$rc" "$secs" "${SOAK_MAX_SLOPE_KIB:-1.0}" "${SOAK_WARMUP:-100}" "$TOOL" <<'EOF'
import json, sys
out, n, k, rc, secs, max_slope = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
warmup = int(sys.argv[7])
score = sys.argv[8] == "score"
lines = [json.loads(x) for x in open(f"{out}/out.jsonl")]
err = open(f"{out}/stderr.log").read().splitlines()
mem = [x.split() for x in err if x.startswith("mem: ")]
other = [x for x in err if not x.startswith("mem: ")]
validation = [x for x in other if x.startswith("vkgrm: validation")]
if score:  # one line per record, none an error line; the summary on stderr is expected
    bad = [x for x in lines if "error" in x]
    print(f"soak: {len(bad)} error lines" + "".join("\n  " + json.dumps(x)[:200] for x in bad[:5]))
    expected_lines, ok_lines = n, not bad
else:
    expected_lines, ok_lines = n * k, True
rss = [int(m[4]) for m in mem]
dev = [int(m[6]) + int(m[8]) for m in mem]
heap = [int(m[10]) / 1024 for m in mem if len(m) > 10]  # malloc'ed bytes in use (glibc), KiB
# resident device memory on a CPU driver (large anonymous mappings, tools/common/memstat.h):
# it grows as the KV pool is first touched further into its block; the host's own RSS is the rest
big = [int(m[12]) for m in mem] if all(len(m) > 12 for m in mem) else [0] * len(mem)
pipes = [int(m[14]) for m in mem] if all(len(m) > 14 for m in mem) else []
host = [r - b for r, b in zip(rss, big)]
w = min(warmup, len(rss) // 2)


def slope_of(ys):  # least squares, per prompt, over the prompts after warm-up
    xs = list(range(w, w + len(ys)))
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


slope = slope_of(host[w:])
print(f"soak: exit {rc}, {secs} s, {len(lines)} JSON lines (want {expected_lines}), {len(mem)} memory reports")
print(f"soak: RSS {rss[0] / 1024:.1f} MiB after prompt 0, {rss[w] / 1024:.1f} MiB after warm-up (prompt {w}), "
      f"{rss[-1] / 1024:.1f} MiB at the end; slope after warm-up {slope_of(rss[w:]):.3f} KiB/prompt")
print(f"soak: of it resident device memory (CPU driver) {big[w] / 1024:.1f} MiB after warm-up, {big[-1] / 1024:.1f} MiB "
      f"at the end, slope {slope_of(big[w:]):.3f} KiB/prompt; host RSS without it {host[w] / 1024:.1f} -> "
      f"{host[-1] / 1024:.1f} MiB, slope {slope:.3f} KiB/prompt (the check: < {max_slope})")
if pipes:
    print(f"soak: pipelines {pipes[0]} after prompt 0, {pipes[w]} after warm-up, {pipes[-1]} at the end")
if heap:
    print(f"soak: malloc heap in use {heap[w] / 1024:.2f} MiB after warm-up, {heap[-1] / 1024:.2f} MiB at the end; "
          f"slope {slope_of(heap[w:]):.3f} KiB/prompt")
print(f"soak: device memory {dev[0] / 2**20:.1f} MiB at the start, {min(dev[w:]) / 2**20:.1f}..{max(dev[w:]) / 2**20:.1f} MiB after warm-up")
print(f"soak: validation messages: {len(validation)}; other stderr lines: {len(other)}"
      + "".join("\n  " + x for x in other[:12]))
quiet = not validation and (score or not other)  # vkgrm-score ends with its summary on stderr
ok = (rc == 0 and len(lines) == expected_lines and ok_lines and len(mem) == n and quiet and slope < max_slope
      and max(dev[w:]) == min(dev[w:]))
print("soak: " + ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
