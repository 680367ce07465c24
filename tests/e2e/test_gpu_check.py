#!/usr/bin/env python3
"""e2e: the prepared GPU check (tools/bench/gpu_pack.sh, tools/bench/gpu_run.sh) runs end to end
on this machine's Vulkan device in its quick mode: the pack holds every binary the run needs and
a validation layer whose manifest points beside itself; the run unpacks them, passes its gpu
tests under validation, and writes summary.md with a device section, a kernel row with a time,
the model bench's decode rows with tokens/s and the demo's accuracies.

usage: test_gpu_check.py SOURCE_DIR BUILD_DIR"""
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

src, build = sys.argv[1], sys.argv[2]
env = dict(os.environ, GPU_PACK_NO_LOADER="1", VKGRM_NO_PROGRESS="1")
subprocess.run(["bash", os.path.join(src, "tools/bench/gpu_pack.sh"), build], env=env, check=True)
gpu = os.path.join(src, ".gpu")
with tarfile.open(os.path.join(gpu, "bin.tar.xz")) as t:
    names = set(t.getnames())
for b in ["vkgrm-info", "vkgrm-bench", "vkgrm-score", "vkgrm-generate", "gpu_test_matmul", "gpu_test_attention"]:
    assert f"bin/{b}" in names, f"{b} missing from the pack: {sorted(names)}"
libs = os.listdir(os.path.join(gpu, "lib"))
for lib in ["libcjson", "libpcre2-8", "libutf8proc"]:
    assert any(n.startswith(lib) for n in libs), f"{lib} missing from .gpu/lib: {libs}"
man = json.load(open(os.path.join(gpu, "layers", "VkLayer_khronos_validation.json")))
assert man["layer"]["library_path"] == "./libVkLayer_khronos_validation.so", man["layer"]["library_path"]
assert open(os.path.join(gpu, "source_dir")).read().strip() == os.path.realpath(src) or \
    open(os.path.join(gpu, "source_dir")).read().strip() == src

with tempfile.TemporaryDirectory() as out:
    r = subprocess.run(["bash", os.path.join(src, "tools/bench/gpu_run.sh")], capture_output=True, text=True,
                       env=dict(env, GPU_QUICK="1", OUT=out))
    assert r.returncode == 0, f"gpu_run.sh failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    s = open(os.path.join(out, "summary.md")).read()
    assert "## Device (vkgrm-info)" in s and "self-check: OK" in s, s[:2000]
    for t in ["gpu_test_device", "gpu_test_norm", "gpu_test_convert"]:
        assert re.search(rf"^\| {t} \| passed \|", s, re.M), f"{t} not passed:\n{s[:3000]}"
    assert "3 passed, 0 failed." in s
    m = re.search(r"^\| matvec1_f16_lane \| [^|]+ \| ([0-9.]+) \|", s, re.M)
    assert m and float(m.group(1)) > 0, "no timed kernel row"
    rows = re.findall(r"^\| decode \| (1|8|32) \| \d+ \| ([0-9.]+) \|", s, re.M)
    assert {b for b, _ in rows} == {"1", "8", "32"} and all(float(v) > 0 for _, v in rows), rows
    assert re.search(r"^Wall time [0-9.]+ s\.", s, re.M), "no demo wall time"
    assert "Voting@" in s, "the demo's accuracy table is missing"
    for f in ["info.txt", "tests.txt", "ops.md", "model_grm-judge-tiny.md", "demo.txt", "log.txt"]:
        assert os.path.getsize(os.path.join(out, f)) > 0, f
print("gpu check quick run: OK")
