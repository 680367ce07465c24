#!/usr/bin/env bash
# jit_ir.sh — instructions executed by one run of each `vkgrm-bench --ops` case, counted by
# valgrind's callgrind: an A/B measure for kernels that this project's shared, noisy VM cannot
# time to better than 20-40 % (README, "vkgrm-bench"). vkgrm-bench turns callgrind's
# instrumentation on for each case's second run only (the first builds pipelines) and dumps it
# under the case's name, so setup, random fills and the JIT compiler are not counted.
#
# usage: tools/bench/jit_ir.sh [--bench PATH] [--keep DIR] FILTER
#   FILTER   as vkgrm-bench --filter (a substring of the op name)
#   --bench  the vkgrm-bench binary (build/tools/vkgrm-bench/vkgrm-bench); it must have been
#            built with valgrind/callgrind.h present (Debian: valgrind)
#   --keep   keep callgrind's dumps in DIR (callgrind_annotate DIR/cg.N)
# Prints a Markdown table: instructions of the run, and those in JIT-compiled code (lavapipe's
# shaders and their helpers: functions in anonymous mappings), in millions.
# Counts are for the CPU valgrind presents to llvmpipe (AVX2, no AVX-512), not a timing: use
# them to compare two builds of a kernel, and confirm a change by time where it matters.
# Exit status: 0; 2 a usage error (vkgrm-bench's too, e.g. a filter matching no op); 1 a failure.
set -euo pipefail
bench=build/tools/vkgrm-bench/vkgrm-bench
keep=
while [ $# -gt 0 ]; do
    case $1 in
    --bench | --keep)
        [ $# -ge 2 ] || { echo "jit_ir.sh: $1 needs a value" >&2; exit 2; }
        if [ "$1" = --bench ]; then bench=$2; else keep=$2; fi
        shift 2 ;;
    -h | --help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "jit_ir.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: jit_ir.sh [--bench PATH] [--keep DIR] FILTER" >&2; exit 2; }
filter=$1
command -v valgrind > /dev/null || { echo "jit_ir.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[ -x "$bench" ] || { echo "jit_ir.sh: no vkgrm-bench at $bench (--bench PATH)" >&2; exit 2; }
dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"
rm -f "$dir"/cg "$dir"/cg.[0-9]*
[ -n "$keep" ] || trap 'rm -rf "$dir"' EXIT
# vkgrm-bench's own exit status comes through (2: a usage error such as a filter matching no op)
rc=0
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg" "$bench" --ops --filter "$filter" \
    --min-time 0.000001 > "$dir/table" 2> "$dir/log" || rc=$?
[ "$rc" -eq 0 ] || { grep -v '^==[0-9]*==' "$dir/log" | tail -20 >&2; exit "$rc"; }
# the case rows of vkgrm-bench's table, in the order the cases ran (and were dumped)
grep '^| ' "$dir/table" | tail -n +2 | grep -v '^|---' > "$dir/rows" || true
n=$(wc -l < "$dir/rows")
[ "$n" -gt 0 ] || { echo "jit_ir.sh: no case matches '$filter'" >&2; exit 1; }
[ -f "$dir/cg.$n" ] || { echo "jit_ir.sh: $bench wrote no per-case dumps: built without valgrind/callgrind.h?" >&2; exit 1; }
echo "| op | shape | instructions (M) | in JIT code (M) |"
echo "|---|---|---:|---:|"
i=0
# op: the row's first cell; shape: every cell up to the 4 numbers (a shape may hold '|': "q|k|v ...")
awk -F'|' '{ s = $3; for (k = 4; k <= NF - 5; k++) s = s "|" $k; print $2 "\t" s }' "$dir/rows" > "$dir/cells"
while IFS=$'\t' read -r op shape; do
    i=$((i + 1))
    f=$dir/cg.$i
    total=$(awk '/^totals:/ { print $2 }' "$f")
    jit=$(callgrind_annotate --threshold=100 "$f" 2> /dev/null |
        awk '/ \[\?\?\?\]$/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')
    awk -v op="$op" -v shape="$shape" -v t="$total" -v j="$jit" 'BEGIN {
        gsub(/^ +| +$/, "", op); gsub(/^ +| +$/, "", shape); printf "| %s | %s | %.2f | %.2f |\n", op, shape, t / 1e6, j / 1e6 }'
done < "$dir/cells"
