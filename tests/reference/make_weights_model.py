#!/usr/bin/env python3
"""Writes test models for the weight streaming tests, as real safetensors
(written with the `safetensors` package where it can; BF16 via raw bytes):

  OUT/weights_small/model.safetensors   F32/F16/BF16, 1-D and 2-D, odd shapes
  OUT/weights_1gib/model-0000N-of-00003.safetensors + index.json
                                         1 GiB of F16, one tensor of 300 MiB
                                         (beyond a 128 MiB binding range)
Deterministic (fixed seeds); skips a model whose files already exist."""
import json
import os
import sys

import numpy as np
from safetensors.numpy import save_file


def bf16_bytes(a):
    """float32 array -> bfloat16 raw bytes (round to nearest even), like torch."""
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return r


def write_raw(path, tensors):
    """tensors: list of (name, dtype string, shape, bytes). Writes a safetensors file by hand."""
    header, off = {}, 0
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for _, _, _, data in tensors:
            f.write(data)
    os.replace(path + ".tmp", path)


def small(out):
    d = os.path.join(out, "weights_small")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "model.safetensors")
    if os.path.exists(p):
        return
    rng = np.random.default_rng(7)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    t = [
        ("model.a.weight", "F32", (96, 64), f32(96, 64).tobytes()),
        ("model.b.weight", "F16", (33, 64), f32(33, 64).astype(np.float16).tobytes()),
        ("model.c.weight", "BF16", (64, 100), bf16_bytes(f32(64, 100)).tobytes()),
        ("model.norm.weight", "F16", (64,), f32(64).astype(np.float16).tobytes()),
        ("model.bias", "BF16", (33,), bf16_bytes(f32(33)).tobytes()),
        ("model.embed.weight", "BF16", (7001, 64), bf16_bytes(f32(7001, 64)).tobytes()),
        ("model.odd.weight", "F16", (5, 7), f32(5, 7).astype(np.float16).tobytes()),
    ]
    write_raw(p, t)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}, f)


def big(out):
    d = os.path.join(out, "weights_1gib")
    os.makedirs(d, exist_ok=True)
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        return
    rng = np.random.default_rng(11)
    # 1 GiB of F16: shard 1 = one 300 MiB tensor; shards 2-3 = 724 MiB in 64 MiB..96 MiB tensors
    shards = [[("model.embed_tokens.weight", (153600, 1024))],
              [(f"model.layers.{i}.mlp.weight", (49152, 1024)) for i in range(4)],
              [(f"model.layers.{i}.mlp.weight", (49152, 1024)) for i in range(4, 7)] +
              [("model.layers.7.mlp.weight", (26624, 1024))]]
    weight_map, total = {}, 0
    for k, tensors in enumerate(shards):
        name = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        arrs = {}
        for tname, shape in tensors:
            n = shape[0] * shape[1]
            # random halves with bit 14 cleared: exponent <= 15, so every value is finite
            a = (np.frombuffer(rng.bytes(2 * n), dtype=np.uint16) & 0xBFFF).reshape(shape)
            arrs[tname] = a.view(np.float16)
            weight_map[tname] = name
            total += a.nbytes
        save_file(arrs, os.path.join(d, name))
        del arrs
    assert total == 1 << 30, total
    with open(idx, "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}, f)


if __name__ == "__main__":
    out = sys.argv[1]
    small(out)
    big(out)
    print(f"models in {out}")
