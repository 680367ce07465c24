#!/usr/bin/env bash
# tools/bench/gpu_pack.sh — pack what tools/bench/gpu_run.sh needs on a lent GPU machine into .gpu/
# (ignored by git; it travels with the working tree when the device call names it in `carry`).
#
# The device machine (the `device` tool, an H200 with NVIDIA's Vulkan driver) has CMake and a
# compiler but no Vulkan headers, volk, glslang, cJSON, PCRE2 or utf8proc, and cannot reach a
# package mirror, so the binaries are built here and travel with the few shared libraries they
# load, the Khronos validation layer, and the Vulkan loader's Debian packages:
#   .gpu/bin.tar.xz        vkgrm-info, -bench, -score, -generate and every gpu_test_* (stripped;
#                          the shaders are embedded SPIR-V, so nothing is compiled there)
#   .gpu/lib/              libcjson, libpcre2-8, libutf8proc (as the binaries were linked)
#   .gpu/layers/           VK_LAYER_KHRONOS_validation (.so + manifest), for VKGRM_VALIDATE=1
#   .gpu/source_dir        the absolute source path compiled into the tests (VKG_SOURCE_DIR)
#   .gl/*.deb              the Vulkan loader (libvulkan1), as the device tool's README says
# The device call then is (the README's "GPU readiness" gives it in full):
#   run(command="bash tools/bench/gpu_run.sh", carry=[".gpu", ".gl"], timeout_s=580)
#
# usage: tools/bench/gpu_pack.sh [BUILD_DIR]   (default build/, configured and built by .ci/do)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=${1:-build}
log() { printf '\033[1m[gpu_pack]\033[0m %s\n' "$*" >&2; }

[ -x "$B/tools/vkgrm-bench/vkgrm-bench" ] || { echo "gpu_pack: $B is not built (cmake --build $B)" >&2; exit 1; }
log "building $B"
cmake --build "$B" -j "${JOBS:-$(nproc)}" >/dev/null

rm -rf .gpu
mkdir -p .gpu/stage/bin .gpu/lib .gpu/layers
for t in info bench score generate; do
  cp "$B/tools/vkgrm-$t/vkgrm-$t" .gpu/stage/bin/
done
cp "$B"/tests/gpu_test_* .gpu/stage/bin/
strip --strip-debug .gpu/stage/bin/*
tar -C .gpu/stage -cJf .gpu/bin.tar.xz bin
rm -rf .gpu/stage

# the shared libraries the binaries load (besides libc/libm and the Vulkan loader volk opens)
for lib in $(ldd "$B/tools/vkgrm-score/vkgrm-score" | awk '/=> \// { print $3 }'); do
  case $(basename "$lib") in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|ld-linux*) ;;
    *) cp -L "$lib" .gpu/lib/ ;;
  esac
done

# the validation layer: its manifest points at the .so beside it
VL=$(ldconfig -p | awk '/libVkLayer_khronos_validation.so / { print $NF; exit }')
[ -n "$VL" ] || VL=/usr/lib/x86_64-linux-gnu/libVkLayer_khronos_validation.so
MAN=/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json
if [ -f "$VL" ] && [ -f "$MAN" ]; then
  cp -L "$VL" .gpu/layers/
  xz -T0 -6 .gpu/layers/libVkLayer_khronos_validation.so
  sed 's#"library_path": *"[^"]*"#"library_path": "./libVkLayer_khronos_validation.so"#' "$MAN" \
    >.gpu/layers/VkLayer_khronos_validation.json
else
  log "no validation layer here (vulkan-validationlayers): the device run skips validation"
fi

echo "$ROOT" >.gpu/source_dir
git rev-parse --short HEAD >.gpu/commit 2>/dev/null || echo unknown >.gpu/commit

# the Vulkan loader for the device machine (the device tool's README, "Headless rendering");
# GPU_PACK_NO_LOADER=1 skips it (the e2e test, which runs the pack on this machine's own loader)
if [ "${GPU_PACK_NO_LOADER:-0}" != 1 ] && ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  log "downloading the Vulkan loader packages into .gl/"
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi

log "packed: $(du -sh .gpu | cut -f1) in .gpu/, $(du -sh .gl 2>/dev/null | cut -f1) in .gl/ (a device call carries at most 64 MiB with the tree)"
