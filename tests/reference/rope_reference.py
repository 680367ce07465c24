"""rope_reference.py — RoPE inverse-frequency tables from transformers'
ROPE_INIT_FUNCTIONS (modeling_rope_utils.py), written to rope_reference.json
for tests/gpu/test_norm_rope.c (runtime/rope.c must reproduce them).

Run:  .venv/bin/python tests/reference/rope_reference.py > tests/reference/rope_reference.json

The project's Python environment has no torch (DESIGN: no torch), so the real
transformers functions run on a minimal float32 numpy stand-in for the few
torch calls they make (arange, .to, .float, clamp, where, ** and arithmetic):
numpy 2 keeps Python scalars "weak" like torch does, so every step stays
float32 as in torch. "default" is not in ROPE_INIT_FUNCTIONS (each model
computes it); it is the linear function with factor 1 (division by 1.0 is
exact), the same formula as e.g. LlamaRotaryEmbedding.compute_default_rope_parameters.
"""
import json
import sys
import types

import numpy as np

import transformers.modeling_rope_utils as mru
from transformers import DeepseekV3Config, LlamaConfig


class T(np.ndarray):
    """float/int tensor with the torch methods the rope functions call."""

    def to(self, device=None, dtype=None):
        return self if dtype is None else self.astype(dtype).view(T)

    def float(self):
        return self.astype(np.float32).view(T)


def _arange(*args, dtype=None, device=None):
    a = np.arange(*args)
    return a.astype(dtype if dtype is not None else np.int64).view(T)


torch = types.SimpleNamespace(
    arange=_arange, float=np.float32, float32=np.float32, int64=np.int64,
    clamp=lambda x, lo, hi: np.clip(x, lo, hi).astype(x.dtype).view(T),
    where=lambda c, a, b: np.where(c, a, b).astype(np.float32).view(T),
    Tensor=T, device=object)
mru.torch = torch


def llama(rope_parameters, head_dim=64, **kw):
    return LlamaConfig(hidden_size=head_dim * 4, num_attention_heads=4, head_dim=head_dim,
                       rope_parameters=rope_parameters, **kw)


CASES = [
    # name, rope type for rope.c, config
    ("default_llama2", "default", llama({"rope_type": "linear", "rope_theta": 10000.0, "factor": 1.0}, 128)),
    ("default_qwen3_partial", "default",
     llama({"rope_type": "linear", "rope_theta": 1000000.0, "factor": 1.0, "partial_rotary_factor": 0.5}, 128)),
    ("linear_x4", "linear", llama({"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}, 64)),
    ("dynamic_initial", "dynamic", llama({"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}, 64,
                                         max_position_embeddings=4096)),
    ("dynamic_grown", "dynamic", llama({"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}, 64,
                                       max_position_embeddings=4096)),
    ("llama3_1", "llama3", llama({"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                  "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 8192}, 128,
                                 max_position_embeddings=131072)),
    ("llama3_2_small", "llama3", llama({"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 8192}, 64,
                                       max_position_embeddings=131072)),
    ("yarn_qwen", "yarn", llama({"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0,
                                 "original_max_position_embeddings": 32768}, 128,
                                max_position_embeddings=131072)),
    ("yarn_no_truncate", "yarn", llama({"rope_type": "yarn", "rope_theta": 10000.0, "factor": 16.0,
                                        "original_max_position_embeddings": 2048, "beta_fast": 24.0,
                                        "beta_slow": 2.0, "truncate": False}, 64,
                                       max_position_embeddings=32768)),
    ("yarn_attention_factor", "yarn", llama({"rope_type": "yarn", "rope_theta": 10000.0, "factor": 8.0,
                                             "original_max_position_embeddings": 4096,
                                             "attention_factor": 0.8}, 64, max_position_embeddings=32768)),
    ("yarn_deepseek_v3", "yarn", DeepseekV3Config(
        hidden_size=512, num_attention_heads=4, qk_rope_head_dim=64, qk_nope_head_dim=128, v_head_dim=128,
        max_position_embeddings=163840,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 40.0, "mscale": 1.0,
                         "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096,
                         "beta_fast": 32.0, "beta_slow": 1.0})),
    ("yarn_deepseek_mscale", "yarn", DeepseekV3Config(
        hidden_size=512, num_attention_heads=4, qk_rope_head_dim=64, qk_nope_head_dim=128, v_head_dim=128,
        max_position_embeddings=163840,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 40.0, "mscale": 0.707,
                         "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096})),
]


def main():
    out = []
    for name, kind, cfg in CASES:
        fn = mru.ROPE_INIT_FUNCTIONS["linear" if kind == "default" else kind]
        seq_len = 10000 if name == "dynamic_grown" else None  # past max_position_embeddings: base grows
        inv_freq, attn = fn(cfg, None, seq_len=seq_len)
        p = cfg.rope_parameters
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        out.append({
            "name": name, "type": kind, "dim": int(head_dim * p.get("partial_rotary_factor", 1.0)),
            "theta": p["rope_theta"], "factor": p.get("factor", 1.0),
            "low_freq_factor": p.get("low_freq_factor", 0), "high_freq_factor": p.get("high_freq_factor", 0),
            "original_max_position_embeddings": p.get("original_max_position_embeddings", 0),
            "beta_fast": p.get("beta_fast") or 0, "beta_slow": p.get("beta_slow") or 0,
            "mscale": p.get("mscale") or 0, "mscale_all_dim": p.get("mscale_all_dim") or 0,
            "max_position_embeddings": cfg.max_position_embeddings, "seq_len": seq_len or 0,
            "attention_factor_in": p.get("attention_factor") or 0, "truncate": p.get("truncate", True),
            "attention_factor": float(attn),
            # float32 values written as exact decimal (repr of the double they widen to)
            "inv_freq": [float(v) for v in np.asarray(inv_freq, dtype=np.float32)],
        })
    json.dump({"transformers": __import__("transformers").__version__, "cases": out}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
