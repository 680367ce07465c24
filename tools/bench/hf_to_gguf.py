#!/usr/bin/env python3
"""The GGUF of a Hugging Face model directory's weights, bit for bit, for the
peer harness (tools/bench/compare.sh): llama.cpp's tools run on the file that
holds exactly the matrices vkgrm reads from the directory.

    hf_to_gguf.py HF_DIR OUT.gguf

Matrices keep their stored type and bits (F32, F16, BF16); 1-D tensors (norms)
are written as F32, as llama.cpp's converter writes them (exact for F16/BF16).
Tensor names, the Llama q/k row permutation and the stacked MoE experts follow
convert_hf_to_gguf.py, through the same helpers as the test fixtures
(tests/fixtures/make_gguf_models.py). No vocabulary is written (tokenizer model
"none"): the benches feed token ids. Architectures: llama, qwen2, qwen3,
qwen3_moe (those whose converter leaves the values unchanged)."""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
import gguf  # noqa: E402
from make_gguf_models import GGUF_ARCH, gguf_tensors, metadata  # noqa: E402

ARCH = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "qwen3_moe": "qwen3moe"}
NP = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def read_safetensors(d):
    """{name: array} of every *.safetensors file in d; BF16 as uint16 bits."""
    out, kinds = {}, {}
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    if not files:
        raise SystemExit(f"hf_to_gguf: no .safetensors in {d}")
    for f in files:
        raw = np.memmap(os.path.join(d, f), np.uint8, mode="r")  # not read into memory
        (n,) = struct.unpack("<Q", raw[:8].tobytes())
        header = json.loads(raw[8:8 + n].tobytes())
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in NP:
                raise SystemExit(f"hf_to_gguf: {name}: dtype {info['dtype']} not handled")
            a, b = info["data_offsets"]
            out[name] = raw[8 + n + a:8 + n + b].view(NP[info["dtype"]]).reshape(info["shape"])
            kinds[name] = info["dtype"]
    return out, kinds


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    d, path = sys.argv[1], sys.argv[2]
    try:
        cfg = json.load(open(os.path.join(d, "config.json")))
    except (OSError, ValueError) as e:
        raise SystemExit(f"hf_to_gguf: {d}: no readable config.json ({e})")
    name = ARCH.get(cfg.get("model_type"))
    if name is None:
        raise SystemExit(f"hf_to_gguf: model_type {cfg.get('model_type')!r}, only {', '.join(ARCH)} handled")
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    cfg.setdefault("intermediate_size", cfg.get("moe_intermediate_size", 0))
    for k in ("bos_token_id", "eos_token_id"):
        cfg.setdefault(k, 0)
    if cfg.get("rope_scaling"):
        raise SystemExit("hf_to_gguf: rope scaling is not handled")
    t, kinds = read_safetensors(d)
    bf16 = {k for k, v in kinds.items() if v == "BF16"}
    # 1-D tensors as F32 (exact), matrices as stored (BF16 as uint16 bits)
    tensors = {}
    for k, a in t.items():
        if a.ndim == 1:
            a = (a.astype(np.uint32) << 16).view(np.float32) if k in bf16 else a.astype(np.float32)
        tensors[k] = a
    out = gguf_tensors(name, cfg, tensors)
    w = gguf.GGUFWriter(path + ".tmp", gguf.MODEL_ARCH_NAMES[GGUF_ARCH[name]])
    metadata(w, name, cfg)
    n_bytes = 0
    for g, a in out:
        # a permuted or stacked BF16 matrix is a new array of uint16: BF16 is the only uint16 kind here
        if a.dtype == np.uint16:
            w.add_tensor(g, np.ascontiguousarray(a), raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            w.add_tensor(g, np.ascontiguousarray(a))
        n_bytes += a.nbytes
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)
    print(f"hf_to_gguf: {d} -> {path}: {len(out)} tensors, {n_bytes / 2**20:.1f} MiB ({name})")


if __name__ == "__main__":
    main()
