#!/usr/bin/env bash
# tools/format.sh [--check] [PATH...] — clang-format (style: .clang-format at
# the top) over the C sources (*.c, *.h) of the formatted folders, in place.
#
#   tools/format.sh                 # rewrite the files
#   tools/format.sh --check         # CI: list what differs, exit 1 if anything does
#   tools/format.sh runtime/gen     # only these folders or files
#
# The formatted folders are DIRS below: every folder with C sources.
# Generated code (build/) and shaders (GLSL) are not formatted; a push_<family>.h header is C and GLSL at once and
# is formatted as C. Needs clang-format (Debian: apt-get install clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
DIRS=(runtime loaders tools tests)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; -*) echo "tools/format.sh: unknown option '$1'" >&2; exit 2 ;; esac
[ $# -gt 0 ] && DIRS=("$@")
command -v "${CLANG_FORMAT:-clang-format}" >/dev/null ||
    { echo "tools/format.sh: needs clang-format (Debian: apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(find "${DIRS[@]}" -type f \( -name '*.c' -o -name '*.h' \) | sort)
[ ${#files[@]} -gt 0 ] || { echo "tools/format.sh: no C sources in ${DIRS[*]}" >&2; exit 2; }
if [ $check = 1 ]; then
    "${CLANG_FORMAT:-clang-format}" --dry-run -Werror "${files[@]}"
    echo "tools/format.sh: ${#files[@]} files formatted"
else
    "${CLANG_FORMAT:-clang-format}" -i "${files[@]}"
fi
