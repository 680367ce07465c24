#!/usr/bin/env bash
# llama.cpp's own benchmark tools for the peer harness (issue 13; called by
# tools/bench/compare.sh; idempotent, instant when cached): llama-bench and
# llama-batched-bench built from the llama.cpp sources that the
# llama-cpp-python sdist on PyPI carries (vendor/llama.cpp; the same sdist,
# sha256-pinned, as the test oracle in tests/fixtures/build_llama_cpp.sh) into
#   <cache>/llama-cpp-tools-<version>/cpu/bin/      (CPU backend, -march=native)
#   <cache>/llama-cpp-tools-<version>/vulkan/bin/   (Vulkan backend; with --vulkan)
# <cache> is $VKGRM_TEST_CACHE or ~/.cache/vkgrm-tests.
# Usage: build_llama_tools.sh cpu|vulkan   (prints the bin directory on stdout)
# The Vulkan build needs the Debian packages glslc and spirv-headers (installed
# here when missing, as root) and compiles ggml-vulkan's ~1,500 shader variants:
# roughly 30 minutes on 2 cores, once. The CPU build takes ~10 minutes.
set -euo pipefail
PY=python3
VERSION=0.3.36
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
CACHE=${VKGRM_TEST_CACHE:-$HOME/.cache/vkgrm-tests}
KIND=${1:-cpu}
case "$KIND" in
  cpu) BACKEND_ARGS="-DGGML_VULKAN=OFF" ;;
  vulkan) BACKEND_ARGS="-DGGML_VULKAN=ON" ;;
  *) echo "usage: $0 cpu|vulkan" >&2; exit 2 ;;
esac
ROOT=$CACHE/llama-cpp-tools-$VERSION
DEST=$ROOT/$KIND
ARGS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
-DLLAMA_BUILD_COMMON=ON $BACKEND_ARGS"
cpu=$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)
stamp="$VERSION $SDIST_SHA256 $cpu $ARGS"
if [ -f "$DEST/.stamp" ] && [ "$(cat "$DEST/.stamp")" = "$stamp" ] &&
   [ -x "$DEST/bin/llama-bench" ] && [ -x "$DEST/bin/llama-batched-bench" ]; then
  echo "build_llama_tools: llama.cpp tools ($KIND) cached in $DEST" >&2
  echo "$DEST/bin"
  exit 0
fi
if [ "$KIND" = vulkan ] && ! { command -v glslc >/dev/null && [ -d /usr/include/spirv ]; }; then
  echo "build_llama_tools: installing glslc and spirv-headers" >&2
  apt-get install -y -q glslc spirv-headers >&2
fi
mkdir -p "$ROOT"
src=$ROOT/src
if [ ! -f "$src/.extracted" ]; then
  rm -rf "$src"
  tmp=$(mktemp -d "$ROOT/.dl.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "build_llama_tools: fetching llama-cpp-python $VERSION (sdist)" >&2
  python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$tmp" >&2
  sdist=$tmp/llama_cpp_python-$VERSION.tar.gz
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  if [ "$got" != "$SDIST_SHA256" ]; then
    echo "build_llama_tools: $(basename "$sdist") sha256 $got, expected $SDIST_SHA256" >&2
    exit 1
  fi
  tar -xzf "$sdist" -C "$tmp"
  mv "$tmp/llama_cpp_python-$VERSION/vendor/llama.cpp" "$src"
  touch "$src/.extracted"
fi
# Debian 12's Vulkan headers (1.3.239) predate VK_EXT_layer_settings, which
# ggml-vulkan uses unguarded for its validation switch: guard it (the only source
# change; without the extension it creates the instance without layer settings)
"$PY" - "$src/ggml/src/ggml-vulkan/ggml-vulkan.cpp" <<'PYEOF'
import sys
p = sys.argv[1]
s = open(p).read()
start = "    std::vector<vk::LayerSettingEXT> settings = {"
end = "&layer_setting_info);\n"
if "#if defined(VK_EXT_layer_settings) // vkgrm" not in s:
    i = s.index(start)
    j = s.index(end, i) + len(end)
    s = (s[:i] + "#if defined(VK_EXT_layer_settings) // vkgrm\n" + s[i:j] + "#else\n"
         "    vk::InstanceCreateInfo instance_create_info(vk::InstanceCreateFlags{}, &app_info, layers, extensions);\n"
         "#endif\n" + s[j:])
    open(p, "w").write(s)
PYEOF
rm -rf "$DEST/bin" "$DEST/.stamp" # the build directory is kept: an interrupted build resumes
echo "build_llama_tools: building llama-bench and llama-batched-bench ($KIND) into $DEST" >&2
# shellcheck disable=SC2086
cmake -S "$src" -B "$DEST/build" -G Ninja $ARGS >&2
cmake --build "$DEST/build" -j "${JOBS:-$(nproc)}" --target llama-bench llama-batched-bench >&2
mkdir -p "$DEST/bin"
cp "$DEST/build/bin/llama-bench" "$DEST/build/bin/llama-batched-bench" "$DEST/bin/"
rm -rf "$DEST/build"
echo "$stamp" > "$DEST/.stamp"
echo "$DEST/bin"
