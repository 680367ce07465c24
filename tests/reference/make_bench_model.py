#!/usr/bin/env python3
"""Writes a random-weight model of a size preset for `vkgrm-bench --model`
(no tokenizer: the bench feeds token ids). Presets:

  moe-100m   Qwen3-MoE, 8 layers, hidden 512, 16 experts (top-2, width 512),
             vocab 32000 tied: ~117 M parameters, BF16 (~235 MB)
  dense-100m Llama, 12 layers, hidden 768, FFN 2048, vocab 32000 tied: ~110 M

usage: make_bench_model.py PRESET OUT_DIR"""
import json
import os
import sys

import numpy as np

PRESETS = {
    "moe-100m": dict(architectures=["Qwen3MoeForCausalLM"], model_type="qwen3_moe", vocab_size=32000,
                     hidden_size=512, intermediate_size=1536, moe_intermediate_size=512, num_hidden_layers=8,
                     num_attention_heads=8, num_key_value_heads=4, head_dim=64, num_experts=16,
                     num_experts_per_tok=2, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
                     rms_norm_eps=1e-6, rope_theta=1e6, max_position_embeddings=4096, tie_word_embeddings=True,
                     torch_dtype="bfloat16", bos_token_id=1, eos_token_id=2),
    "dense-100m": dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=32000, hidden_size=768,
                       intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                       num_key_value_heads=4, head_dim=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                       max_position_embeddings=4096, tie_word_embeddings=True, torch_dtype="bfloat16",
                       bos_token_id=1, eos_token_id=2),
}


def tensors(c, rng):
    H, L, D = c["hidden_size"], c["num_hidden_layers"], c["head_dim"]
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    r = lambda *s: rng.standard_normal(s, dtype=np.float32) * np.float32(s[-1] ** -0.5)
    yield "model.embed_tokens.weight", r(c["vocab_size"], H)
    yield "model.norm.weight", np.ones(H, np.float32)
    for l in range(L):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", np.ones(H, np.float32)
        yield p + "post_attention_layernorm.weight", np.ones(H, np.float32)
        yield p + "self_attn.q_proj.weight", r(nh * D, H)
        yield p + "self_attn.k_proj.weight", r(nkv * D, H)
        yield p + "self_attn.v_proj.weight", r(nkv * D, H)
        yield p + "self_attn.o_proj.weight", r(H, nh * D)
        if c["model_type"] == "qwen3_moe":
            yield p + "self_attn.q_norm.weight", np.ones(D, np.float32)
            yield p + "self_attn.k_norm.weight", np.ones(D, np.float32)
            yield p + "mlp.gate.weight", r(c["num_experts"], H)
            F = c["moe_intermediate_size"]
            for e in range(c["num_experts"]):
                yield p + f"mlp.experts.{e}.gate_proj.weight", r(F, H)
                yield p + f"mlp.experts.{e}.up_proj.weight", r(F, H)
                yield p + f"mlp.experts.{e}.down_proj.weight", r(H, F)
        else:
            F = c["intermediate_size"]
            yield p + "mlp.gate_proj.weight", r(F, H)
            yield p + "mlp.up_proj.weight", r(F, H)
            yield p + "mlp.down_proj.weight", r(H, F)


def main():
    preset, out = sys.argv[1], sys.argv[2]
    c = PRESETS[preset]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.safetensors")
    if os.path.exists(path):
        print(f"{out}: exists")
        return
    rng = np.random.default_rng(5)
    header, blobs, off, n_params = {}, [], 0, 0
    for name, a in tensors(c, rng):
        u = a.view(np.uint32).astype(np.uint64)
        b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16).tobytes()  # BF16, round to nearest even
        header[name] = {"dtype": "BF16", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
        n_params += a.size
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)
    json.dump(c, open(os.path.join(out, "config.json"), "w"), indent=1)
    print(f"{out}: {preset}, {n_params / 1e6:.1f} M parameters")


if __name__ == "__main__":
    main()
