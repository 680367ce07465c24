#!/usr/bin/env python3
"""tools/bench/hf_to_gguf.py (the peer harness's HF -> GGUF writer) against the
GGUF files of tests/fixtures/make_gguf_models.py, which are written from the
generator's in-memory tensors (not from the HF directory): for each
architecture it handles and each float type, the file it writes from
hf_<type>/ has the same tensors (names, GGML types, shapes, data bytes) and the
same metadata as <type>.gguf. The HF side stores BF16 as raw bits and 1-D
tensors as F32, the GGUF side writes matrices as stored: a wrong byte order,
a BF16 rounding, a missed permutation or stacking fails here.

    test_hf_to_gguf.py GGUF_MODELS_DIR TMP_DIR"""
import os
import subprocess
import sys

import numpy as np

import gguf

SRC, TMP = sys.argv[1], sys.argv[2]
TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "bench", "hf_to_gguf.py")
os.makedirs(TMP, exist_ok=True)


def fields(r):
    out = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.name":
            continue
        out[k] = [bytes(f.parts[i]) for i in f.data]
    return out


fails, n = [], 0
for arch in ("llama", "qwen2", "qwen3", "qwen3moe"):
    for dt in ("f32", "f16", "bf16"):
        out = os.path.join(TMP, f"{arch}-{dt}.gguf")
        p = subprocess.run([sys.executable, TOOL, os.path.join(SRC, arch, f"hf_{dt}"), out], capture_output=True,
                           text=True)
        print(p.stdout.strip(), p.stderr.strip()[-500:])
        if p.returncode:
            fails.append(f"{arch} {dt}: exit {p.returncode}")
            continue
        got, ref = gguf.GGUFReader(out), gguf.GGUFReader(os.path.join(SRC, arch, f"{dt}.gguf"))
        gt = {t.name: t for t in got.tensors}
        rt = {t.name: t for t in ref.tensors}
        if sorted(gt) != sorted(rt):
            fails.append(f"{arch} {dt}: tensor names differ: {sorted(set(gt) ^ set(rt))}")
            continue
        for name, r in rt.items():
            g = gt[name]
            n += 1
            if g.tensor_type != r.tensor_type or list(g.shape) != list(r.shape):
                fails.append(f"{arch} {dt} {name}: {g.tensor_type.name} {list(g.shape)}, "
                             f"expected {r.tensor_type.name} {list(r.shape)}")
            elif not np.array_equal(np.asarray(g.data).view(np.uint8), np.asarray(r.data).view(np.uint8)):
                fails.append(f"{arch} {dt} {name}: data bytes differ")
        fg, fr = fields(got), fields(ref)
        if fg != fr:
            diff = sorted(k for k in set(fg) | set(fr) if fg.get(k) != fr.get(k))
            fails.append(f"{arch} {dt}: metadata differs at {diff}")

# 1-D tensors stored as BF16 (as the bench presets store their norms): the GGUF holds
# them as F32 equal to gguf-py's own BF16 dequantization of the stored bits
import json, struct  # noqa: E401,E402
from gguf.quants import dequantize, quantize  # noqa: E402

src, d = os.path.join(SRC, "llama", "hf_f32"), os.path.join(TMP, "llama-bf16-1d")
os.makedirs(d, exist_ok=True)
raw = open(os.path.join(src, "model.safetensors"), "rb").read()
(hn,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + hn])
BF = gguf.GGMLQuantizationType.BF16
want, blobs, off, hdr = {}, [], 0, {}
for k, info in header.items():
    if k == "__metadata__":
        continue
    a, b = info["data_offsets"]
    v = np.frombuffer(raw[8 + hn + a:8 + hn + b], np.float32).reshape(info["shape"])
    bits = quantize(v, BF).view(np.uint16)
    if v.ndim == 1:
        want[k] = dequantize(bits.view(np.uint8), BF).reshape(v.shape)
    blob = bits.tobytes()
    hdr[k] = {"dtype": "BF16", "shape": info["shape"], "data_offsets": [off, off + len(blob)]}
    blobs.append(blob)
    off += len(blob)
h = json.dumps(hdr).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
with open(os.path.join(src, "config.json")) as f:
    open(os.path.join(d, "config.json"), "w").write(f.read())
out = os.path.join(TMP, "llama-bf16-1d.gguf")
p = subprocess.run([sys.executable, TOOL, d, out], capture_output=True, text=True)
print(p.stdout.strip(), p.stderr.strip()[-500:])
if p.returncode:
    fails.append(f"1-D BF16: exit {p.returncode}")
else:
    gt = {t.name: t for t in gguf.GGUFReader(out).tensors}
    nmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 64)
    for k, v in want.items():
        g = gt.get(nmap.get_name(k, try_suffixes=(".weight", ".bias")))
        n += 1
        if g is None or g.tensor_type != gguf.GGMLQuantizationType.F32:
            fails.append(f"1-D BF16 {k}: missing or not F32")
        elif not np.array_equal(np.asarray(g.data).reshape(v.shape), v):
            fails.append(f"1-D BF16 {k}: values differ from gguf-py's BF16 dequantization")
for f in fails:
    print("FAIL", f)
print(f"{n} tensors compared, {len(fails)} failures")
sys.exit(1 if fails or n == 0 else 0)
