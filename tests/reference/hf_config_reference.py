#!/usr/bin/env python3
"""Expected values for loaders/hf_config.c, computed by Hugging Face transformers.

For every directory tests/data/configs/<name>/ holding a config.json, load it
with transformers.AutoConfig (the configuration classes supply the defaults of
absent keys) and derive what the modeling code does with it (per-layer sliding
window and MoE placement, attention scale, RoPE attention factor), each rule
written from models/<family>/modeling_<family>.py and modeling_rope_utils.py,
not from our C code. generation_config.json is read with GenerationConfig.

    hf_config_reference.py            rewrite tests/data/configs/expected.json
    hf_config_reference.py --check    exit 1 if the committed file is stale

Runs offline and without torch.
"""
import json
import math
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import AutoConfig, GenerationConfig  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "configs")
EXPECTED = os.path.join(ROOT, "expected.json")

ARCH = {"LlamaFor": "llama", "Qwen2For": "qwen2", "Qwen3For": "qwen3", "Qwen3MoeFor": "qwen3_moe",
        "MixtralFor": "mixtral", "DeepseekV2For": "deepseek_v2", "Gemma2For": "gemma2"}
ACT = {"silu": "silu", "swish": "silu", "gelu_pytorch_tanh": "gelu_tanh", "gelu_new": "gelu_tanh",
       "gelu_fast": "gelu_tanh", "gelu": "gelu"}


def family(arch_name):
    for prefix, fam in ARCH.items():
        if arch_name.startswith(prefix):
            return fam
    raise ValueError(arch_name)


def none0(v):
    return 0 if v is None else v


def token(v):
    return -1 if v is None else int(v)


def get_mscale(scale, mscale=1.0):  # modeling_rope_utils._compute_yarn_parameters
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def rope(cfg, fam):
    p = dict(cfg.rope_parameters)
    rtype = p.get("rope_type", p.get("type", "default"))
    partial = p.get("partial_rotary_factor", 1.0)
    # head_dim used by the rope init functions; DeepseekV2Config sets it to qk_rope_head_dim
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    out = {"type": rtype, "theta": float(p["rope_theta"]), "partial_rotary_factor": partial,
           "dim": int(head_dim * partial), "factor": 1.0, "attention_factor": 1.0,
           "original_max_position_embeddings": cfg.max_position_embeddings,
           "low_freq_factor": 1.0, "high_freq_factor": 4.0, "beta_fast": 32.0, "beta_slow": 1.0,
           "mscale": 0.0, "mscale_all_dim": 0.0, "truncate": True}
    if rtype == "default":
        return out
    out["factor"] = p.get("factor")
    if rtype in ("llama3", "yarn"):
        out["original_max_position_embeddings"] = p["original_max_position_embeddings"]
    if rtype == "llama3":
        out["low_freq_factor"] = p["low_freq_factor"]
        out["high_freq_factor"] = p["high_freq_factor"]
    if rtype == "yarn":
        factor = out["factor"]
        if factor is None:
            factor = cfg.max_position_embeddings / p["original_max_position_embeddings"]
        mscale, mscale_all = p.get("mscale"), p.get("mscale_all_dim")
        af = p.get("attention_factor")
        if af is None:
            af = get_mscale(factor, mscale) / get_mscale(factor, mscale_all) if mscale and mscale_all \
                else get_mscale(factor)
        out.update(factor=factor, attention_factor=af, beta_fast=p.get("beta_fast") or 32,
                   beta_slow=p.get("beta_slow") or 1, mscale=none0(mscale),
                   mscale_all_dim=none0(mscale_all), truncate=p.get("truncate", True))
    return out


def attention(cfg, fam, out):
    bias = getattr(cfg, "attention_bias", False)
    out["qkv_bias"] = True if fam == "qwen2" else False if fam == "mixtral" else bias
    out["o_bias"] = False if fam in ("qwen2", "mixtral") else bias
    out["mlp_bias"] = getattr(cfg, "mlp_bias", False) if fam in ("llama", "deepseek_v2") else False
    out["qk_norm"] = fam in ("qwen3", "qwen3_moe")
    act = cfg.hidden_activation if fam == "gemma2" else cfg.hidden_act
    out["act"] = ACT[act]
    n = cfg.num_hidden_layers
    if fam == "deepseek_v2":
        out["head_dim"] = cfg.qk_nope_head_dim + cfg.qk_rope_head_dim  # q.k width
        scale = out["head_dim"] ** -0.5
        p = cfg.rope_parameters  # modeling_deepseek_v2.yarn_apply_mscale
        if p.get("rope_type", "default") != "default" and p.get("mscale_all_dim", 0):
            scale *= get_mscale(out["rope"]["factor"], p["mscale_all_dim"]) ** 2
        out["attn_scale"] = scale
    else:
        out["head_dim"] = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        out["attn_scale"] = out["head_dim"] ** -0.5
    window = getattr(cfg, "sliding_window", None) if fam not in ("llama", "deepseek_v2") else None
    out["sliding_window"] = none0(window)
    if fam in ("qwen2", "qwen3", "gemma2"):  # per-layer "sliding_attention"
        out["layer_sliding"] = [int(window is not None and t == "sliding_attention") for t in cfg.layer_types]
    else:  # Qwen3-MoE and Mixtral pass the same window to every layer
        out["layer_sliding"] = [int(window is not None)] * n
    if fam == "gemma2":
        out["attn_scale"] = cfg.query_pre_attn_scalar ** -0.5
        out["query_pre_attn_scalar"] = cfg.query_pre_attn_scalar
        out["attn_logit_softcapping"] = none0(cfg.attn_logit_softcapping)
        out["final_logit_softcapping"] = none0(cfg.final_logit_softcapping)


def moe(cfg, fam, out):
    n = cfg.num_hidden_layers
    out.update(n_experts=0, n_experts_per_tok=0, moe_intermediate_size=0, n_shared_experts=0,
               shared_expert_intermediate_size=0, norm_topk_prob=False, decoder_sparse_step=1,
               moe_layer_freq=1, first_k_dense_replace=0, layer_moe=[0] * n, scoring="softmax",
               topk_method="greedy", n_group=0, topk_group=0, routed_scaling_factor=1.0,
               q_lora_rank=0, kv_lora_rank=0, qk_nope_head_dim=0, qk_rope_head_dim=0, v_head_dim=0)
    if fam == "qwen3_moe":  # Qwen3MoeDecoderLayer
        out.update(n_experts=cfg.num_experts, n_experts_per_tok=cfg.num_experts_per_tok,
                   moe_intermediate_size=cfg.moe_intermediate_size, norm_topk_prob=cfg.norm_topk_prob,
                   decoder_sparse_step=cfg.decoder_sparse_step,
                   layer_moe=[int(i not in cfg.mlp_only_layers and cfg.num_experts > 0
                                  and (i + 1) % cfg.decoder_sparse_step == 0) for i in range(n)])
    elif fam == "mixtral":  # MixtralSparseMoeBlock: softmax, top-k, renormalize
        out.update(n_experts=cfg.num_local_experts, n_experts_per_tok=cfg.num_experts_per_tok,
                   moe_intermediate_size=cfg.intermediate_size, norm_topk_prob=True, layer_moe=[1] * n)
    elif fam == "deepseek_v2":
        freq = getattr(cfg, "moe_layer_freq", 1)  # DeepSeek remote code; transformers 5 assumes 1
        out.update(n_experts=cfg.n_routed_experts, n_experts_per_tok=cfg.num_experts_per_tok,
                   moe_intermediate_size=cfg.moe_intermediate_size,
                   n_shared_experts=none0(cfg.n_shared_experts),
                   shared_expert_intermediate_size=cfg.moe_intermediate_size * none0(cfg.n_shared_experts),
                   norm_topk_prob=bool(cfg.norm_topk_prob), moe_layer_freq=freq,
                   first_k_dense_replace=cfg.first_k_dense_replace,
                   layer_moe=[int(i >= cfg.first_k_dense_replace and i % freq == 0) for i in range(n)],
                   scoring=getattr(cfg, "scoring_func", "softmax"), topk_method=cfg.topk_method,
                   n_group=none0(cfg.n_group), topk_group=none0(cfg.topk_group),
                   routed_scaling_factor=cfg.routed_scaling_factor, q_lora_rank=none0(cfg.q_lora_rank),
                   kv_lora_rank=cfg.kv_lora_rank, qk_nope_head_dim=cfg.qk_nope_head_dim,
                   qk_rope_head_dim=cfg.qk_rope_head_dim, v_head_dim=cfg.v_head_dim)


def expected_config(path):
    cfg = AutoConfig.from_pretrained(path)
    arch = cfg.architectures[0]
    fam = family(arch)
    eos = cfg.eos_token_id
    eos = [] if eos is None else eos if isinstance(eos, list) else [eos]
    out = {"arch": fam, "seq_cls": arch.endswith("ForSequenceClassification"), "architecture": arch,
           "dtype": "" if cfg.dtype is None else str(cfg.dtype).replace("torch.", ""),
           "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
           "intermediate_size": cfg.intermediate_size, "n_layers": cfg.num_hidden_layers,
           "n_heads": cfg.num_attention_heads, "n_kv_heads": cfg.num_key_value_heads,
           "max_position_embeddings": cfg.max_position_embeddings, "rms_norm_eps": cfg.rms_norm_eps,
           "tie_word_embeddings": cfg.tie_word_embeddings, "query_pre_attn_scalar": 0.0,
           "attn_logit_softcapping": 0.0, "final_logit_softcapping": 0.0,
           "num_labels": cfg.num_labels, "pad_token_id": token(cfg.pad_token_id),
           "bos_token_id": token(cfg.bos_token_id), "eos_token_ids": [int(e) for e in eos]}
    out["rope"] = rope(cfg, fam)
    attention(cfg, fam, out)
    moe(cfg, fam, out)
    return out


def expected_generation(path):
    if not os.path.exists(os.path.join(path, "generation_config.json")):
        return {"present": False}
    g = GenerationConfig.from_pretrained(path)
    eos = g.eos_token_id
    eos = [] if eos is None else eos if isinstance(eos, list) else [eos]
    pick = lambda v, d: d if v is None else v  # None = the generate() default
    return {"present": True, "bos_token_id": token(g.bos_token_id), "pad_token_id": token(g.pad_token_id),
            "eos_token_ids": eos, "do_sample": bool(g.do_sample), "temperature": pick(g.temperature, 1.0),
            "top_k": pick(g.top_k, 50), "top_p": pick(g.top_p, 1.0)}


def main():
    result = {}
    for name in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, name)
        if os.path.isfile(os.path.join(path, "config.json")):
            result[name] = {"config": expected_config(path), "generation": expected_generation(path)}
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        with open(EXPECTED, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("tests/data/configs/expected.json is stale: rerun "
                         "tests/reference/hf_config_reference.py")
        return
    with open(EXPECTED, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
