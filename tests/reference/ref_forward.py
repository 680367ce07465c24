#!/usr/bin/env python3
"""Independent numpy forward pass for the architectures vkgrm serves.

Written from the Hugging Face modeling code (transformers 5.x,
models/<family>/modeling_<family>.py, modeling_rope_utils.py, masking_utils.py
and modeling_layers.GenericForSequenceClassification), never from our C code.
Everything is computed in float64 (weights stored as F32/BF16/F16 are upcast
once), so this is a clean reference for float32 and lower-precision runtimes.

    ref_forward.py MODEL_DIR --ids 1,2,3 [--greedy N] [--out LOGITS.npy] [--json OUT.json]

  --out   per-position logits, float32 .npy, shape [n_tokens, vocab_size]
          (ForSequenceClassification: the score head at every position,
          [n_tokens, num_labels]; the pooled row is `last_token` in the JSON)
  --greedy N  greedy continuation of N tokens (argmax, lowest id on an exact
          tie; the full prompt is recomputed every step, no KV cache)
  --json  {"model", "architecture", "ids", "shape", "logits" (the .npy path or null),
          "min_logit_gap", "router": {"tokens_per_expert": {layer: [count per expert]},
          "min_topk_margin"} (prompt only), "greedy" ([] for a classifier),
          "greedy_min_gap", "greedy_router_min_margin"; classifiers also "last_token"
          and "pooled"} (stdout when --json is - or absent)

Reads config.json and *.safetensors (model.safetensors or the shards of
model.safetensors.index.json) by the tensor names published checkpoints use:
per-expert MoE tensors (model.layers.N.mlp.experts.E.gate_proj.weight,
Mixtral's block_sparse_moe.experts.E.w1/w2/w3), not transformers 5's fused
in-memory layout.

Semantics decisions (see each function):
  * RoPE: Llama/Qwen/Mixtral/Gemma-2 rotate halves (dim i pairs with
    i + d/2, rotate_half). DeepSeek-V2 (transformers 5 apply_rotary_emb)
    rotates interleaved pairs (2i, 2i+1) as complex numbers; DeepSeek's own
    code de-interleaves q_pe/k_pe first and then rotates halves, which gives
    the same q.k. cos/sin are multiplied by the rope attention_factor.
  * Sliding window (masking_utils.sliding_window_overlay): query i sees key j
    iff j <= i and j > i - window, i.e. at most `window` keys incl. itself.
  * MoE top-k: on exactly equal scores the lower expert index wins (torch.topk
    leaves this unspecified; the test models keep a margin, see router stats).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

FAMILIES = {"LlamaFor": "llama", "Qwen2For": "qwen2", "Qwen3MoeFor": "qwen3_moe", "Qwen3For": "qwen3",
            "MixtralFor": "mixtral", "DeepseekV2For": "deepseek_v2", "Gemma2For": "gemma2"}
# transformers 5 configuration defaults that matter when a key is absent
DEFAULT_EPS = {"mixtral": 1e-5}
DEFAULT_TIE = {"gemma2": True}
DEFAULT_THETA = {"mixtral": 1e6}


# ---------------------------------------------------------------- loading

def _read_safetensors(path):
    """Minimal safetensors reader (F32/F16/BF16/F64 -> float64); independent of our C loader."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = data[a:b]
        dt = t["dtype"]
        if dt == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif dt in ("F32", "F16", "F64"):
            arr = np.frombuffer(raw, dtype={"F32": "<f4", "F16": "<f2", "F64": "<f8"}[dt])
        else:
            raise ValueError(f"{path}: tensor '{name}': dtype {dt} not supported by the reference")
        out[name] = arr.astype(np.float64).reshape(t["shape"])
    return out


def load_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for fn in files:
        w.update(_read_safetensors(os.path.join(model_dir, fn)))
    return w


def family_of(arch):
    for prefix, fam in FAMILIES.items():
        if arch.startswith(prefix):
            return fam
    raise ValueError(f"unsupported architecture {arch}")


# ---------------------------------------------------------------- RoPE

def rope_params(cfg, fam):
    """config.json rope keys in either the published form (rope_theta + rope_scaling) or
    transformers 5's rope_parameters -> one dict with rope_type and rope_theta."""
    p = cfg.get("rope_parameters")
    if p is None:
        p = dict(cfg.get("rope_scaling") or {})
        p.setdefault("rope_theta", cfg.get("rope_theta", DEFAULT_THETA.get(fam, 10000.0)))
    p = dict(p)
    p["rope_type"] = p.get("rope_type", p.get("type", "default"))
    return p


def _mscale(scale, m=1.0):  # modeling_rope_utils._compute_yarn_parameters.get_mscale
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_inv_freq(p, dim, max_pos, seq_len=None):
    """(inv_freq [dim/2], attention_factor) like ROPE_INIT_FUNCTIONS[rope_type] in float64."""
    base = float(p["rope_theta"])
    dim = int(dim * p.get("partial_rotary_factor", 1.0))
    exps = np.arange(0, dim, 2, dtype=np.float64) / dim
    inv = 1.0 / base ** exps
    t = p["rope_type"]
    if t == "default":
        return inv, 1.0
    factor = p.get("factor")
    if t == "linear":
        return inv / factor, 1.0
    if t == "dynamic":  # NTK: only changes once seq_len > max_position_embeddings
        s = max(seq_len or max_pos, max_pos)
        b = base * ((factor * s / max_pos) - (factor - 1)) ** (dim / (dim - 2))
        return 1.0 / b ** exps, 1.0
    if t == "llama3":
        old = p["original_max_position_embeddings"]
        lf, hf = p["low_freq_factor"], p["high_freq_factor"]
        wavelen = 2 * math.pi / inv
        out = np.where(wavelen > old / lf, inv / factor, inv)
        smooth = (old / wavelen - lf) / (hf - lf)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < old / hf) & ~(wavelen > old / lf)
        return np.where(medium, smoothed, out), 1.0
    if t == "yarn":
        omax = p["original_max_position_embeddings"]
        if factor is None:
            factor = max_pos / omax
        af = p.get("attention_factor")
        m, mall = p.get("mscale"), p.get("mscale_all_dim")
        if af is None:
            af = _mscale(factor, m) / _mscale(factor, mall) if (m and mall) else _mscale(factor)
        bfast, bslow = p.get("beta_fast") or 32, p.get("beta_slow") or 1

        def corr(rot):
            return dim * math.log(omax / (rot * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = corr(bfast), corr(bslow)
        if p.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - lo) / (hi - lo), 0, 1)
        extra = 1 - ramp  # 1: keep the original frequency (extrapolation)
        return (inv / factor) * (1 - extra) + inv * extra, float(af)
    raise ValueError(f"rope_type {t} not supported by the reference")


def rope_tables(inv, af, n):
    ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]  # [n, dim/2]
    return np.cos(ang) * af, np.sin(ang) * af


def rope_half(x, cos, sin):
    """x [T, H, d]; rotate_half: (x1, x2) = halves; out = x*cos + (-x2, x1)*sin."""
    h = x.shape[-1] // 2
    c, s = cos[:, None, :], sin[:, None, :]
    x1, x2 = x[..., :h], x[..., h:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


def rope_interleaved(x, cos, sin):
    """x [T, H, d]; pairs (2i, 2i+1) as complex numbers times e^(i*angle) (DeepSeek-V2)."""
    c, s = cos[:, None, :], sin[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


# ---------------------------------------------------------------- building blocks

def rmsnorm(x, w, eps, plus_one=False):
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return y * ((1.0 + w) if plus_one else w)


def silu(x):
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


ACTS = {"silu": silu, "swish": silu, "gelu_pytorch_tanh": gelu_tanh, "gelu_new": gelu_tanh,
        "gelu_fast": gelu_tanh, "gelu": gelu_erf}


def linear(x, W, name):
    y = x @ W[name + ".weight"].T
    b = W.get(name + ".bias")
    return y if b is None else y + b


def attention(q, k, v, scale, window=None, softcap=None):
    """q [T, Hq, dk], k [T, Hkv, dk], v [T, Hkv, dv] -> [T, Hq*dv]. Causal; query head h reads
    kv head h // (Hq/Hkv) (repeat_kv). Eager order: q.k*scale, softcap, mask, softmax."""
    T, Hq, _ = q.shape
    rep = Hq // k.shape[1]
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    allowed = j <= i
    if window is not None:
        allowed &= j > i - window
    out = np.empty((T, Hq, v.shape[-1]))
    for h in range(Hq):
        s = (q[:, h, :] @ k[:, h // rep, :].T) * scale
        if softcap is not None:
            s = np.tanh(s / softcap) * softcap
        s = np.where(allowed, s, -np.inf)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        out[:, h, :] = s @ v[:, h // rep, :]
    return out.reshape(T, -1)


def mlp(x, W, pre, act, names=("gate_proj", "up_proj", "down_proj")):
    g, u, d = names
    return linear(act(linear(x, W, f"{pre}.{g}")) * linear(x, W, f"{pre}.{u}"), W, f"{pre}.{d}")


def topk_lowest_index(scores, k):
    """Indices of the k largest scores per row; an exact tie goes to the lower index."""
    return np.argsort(-scores, axis=-1, kind="stable")[..., :k]


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class RouterStats:
    """What the routers did: tokens per expert per MoE layer, and the smallest margin between
    the k-th and (k+1)-th expert score (and group score), so tests can avoid near-ties."""

    def __init__(self):
        self.counts = {}
        self.min_margin = math.inf

    def record(self, layer, n_experts, scores, idx, k):
        c = self.counts.setdefault(layer, [0] * n_experts)
        for e in idx.reshape(-1):
            c[int(e)] += 1
        if scores.shape[-1] > k:
            srt = -np.sort(-scores, axis=-1)
            self.min_margin = min(self.min_margin, float(np.min(srt[:, k - 1] - srt[:, k])))

    def as_json(self):
        return {"tokens_per_expert": {str(k): v for k, v in sorted(self.counts.items())},
                "min_topk_margin": None if self.min_margin == math.inf else self.min_margin}


def moe_experts(x, W, pre, act, idx, wts, names):
    """sum_k wts[t,k] * expert_{idx[t,k]}(x[t]), experts named {pre}.experts.E.{gate,up,down}.
    An expert that no token chose is never evaluated."""
    out = np.zeros_like(x)
    for e in np.unique(idx):
        t, slot = np.nonzero(idx == e)
        out[t] += wts[t, slot][:, None] * mlp(x[t], W, f"{pre}.experts.{int(e)}", act, names)
    return out


# ---------------------------------------------------------------- the model

class RefModel:
    def __init__(self, model_dir, cfg=None, weights=None):
        """From a directory, or (for generators) from a config dict and name -> array weights."""
        if cfg is None:
            with open(os.path.join(model_dir, "config.json")) as f:
                cfg = json.load(f)
        self.cfg = cfg
        self.arch = cfg["architectures"][0]
        self.fam = fam = family_of(self.arch)
        self.seq_cls = self.arch.endswith("ForSequenceClassification")
        self.W = load_weights(model_dir) if weights is None else \
            {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        self.H = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads") or self.n_heads
        self.eps = cfg.get("rms_norm_eps", DEFAULT_EPS.get(fam, 1e-6))
        if fam == "deepseek_v2":
            self.head_dim = cfg["qk_rope_head_dim"]  # DeepseekV2Config: head_dim = qk_rope_head_dim (rope width)
        else:
            self.head_dim = cfg.get("head_dim") or self.H // self.n_heads
        self.rope = rope_params(cfg, fam)
        act_key = "hidden_activation" if fam == "gemma2" else "hidden_act"
        self.act = ACTS[cfg.get(act_key) or ("gelu_pytorch_tanh" if fam == "gemma2" else "silu")]
        self.tied = cfg.get("tie_word_embeddings", DEFAULT_TIE.get(fam, False))
        self.window = self._layer_windows()
        self.stats = RouterStats()

    def _layer_windows(self):
        """Per-layer sliding window (None = full attention), as the configuration classes derive it."""
        cfg, fam, n = self.cfg, self.fam, self.n_layers
        if fam in ("llama", "deepseek_v2"):
            return [None] * n
        win = cfg.get("sliding_window", 4096 if fam != "mixtral" else None)
        if fam in ("qwen2", "qwen3", "qwen3_moe") and not cfg.get("use_sliding_window", False):
            win = None
        if fam in ("mixtral", "qwen3_moe"):  # the same window on every layer
            return [win] * n
        types = cfg.get("layer_types")
        if types is None:
            if fam == "gemma2":
                types = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]
            else:  # Qwen2/Qwen3: sliding from max_window_layers on
                mwl = cfg.get("max_window_layers", 28)
                types = ["sliding_attention" if win is not None and i >= mwl else "full_attention"
                         for i in range(n)]
        return [win if (t == "sliding_attention" and win is not None) else None for t in types]

    # ---- attention variants

    def _attn_gqa(self, x, L, cos, sin):
        """Llama / Qwen2 / Qwen3 / Qwen3-MoE / Mixtral / Gemma-2 attention."""
        W, cfg, fam, T, d = self.W, self.cfg, self.fam, x.shape[0], self.head_dim
        p = f"model.layers.{L}.self_attn"
        q = linear(x, W, p + ".q_proj").reshape(T, self.n_heads, d)
        k = linear(x, W, p + ".k_proj").reshape(T, self.n_kv, d)
        v = linear(x, W, p + ".v_proj").reshape(T, self.n_kv, d)
        if fam in ("qwen3", "qwen3_moe"):  # per-head RMSNorm before RoPE
            q = rmsnorm(q, W[p + ".q_norm.weight"], self.eps)
            k = rmsnorm(k, W[p + ".k_norm.weight"], self.eps)
        q, k = rope_half(q, cos, sin), rope_half(k, cos, sin)
        softcap = None
        if fam == "gemma2":
            scale = cfg.get("query_pre_attn_scalar", 256) ** -0.5
            softcap = cfg.get("attn_logit_softcapping", 50.0)
        else:
            scale = d ** -0.5
        o = attention(q, k, v, scale, self.window[L], softcap)
        return linear(o, W, p + ".o_proj")

    def _attn_mla(self, x, L, cos, sin):
        """DeepSeek-V2 multi-head latent attention (DeepseekV2Attention)."""
        W, cfg, T, nh = self.W, self.cfg, x.shape[0], self.n_heads
        p = f"model.layers.{L}.self_attn"
        nope, rope, vd, r = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"]
        if cfg.get("q_lora_rank") is None:
            q = linear(x, W, p + ".q_proj")
        else:  # q_a_layernorm is DeepseekV2RMSNorm(q_lora_rank): eps 1e-6, not rms_norm_eps
            q = linear(rmsnorm(linear(x, W, p + ".q_a_proj"), W[p + ".q_a_layernorm.weight"], 1e-6), W, p + ".q_b_proj")
        q = q.reshape(T, nh, nope + rope)
        q_nope, q_pe = q[..., :nope], q[..., nope:]
        ckv = linear(x, W, p + ".kv_a_proj_with_mqa")  # [T, kv_lora_rank + rope]: latent first
        latent, k_pe = ckv[:, :r], ckv[:, r:].reshape(T, 1, rope)
        latent = rmsnorm(latent, W[p + ".kv_a_layernorm.weight"], 1e-6)
        q_pe, k_pe = rope_interleaved(q_pe, cos, sin), rope_interleaved(k_pe, cos, sin)
        kv = linear(latent, W, p + ".kv_b_proj").reshape(T, nh, nope + vd)  # per head: k_nope then v
        k = np.concatenate([kv[..., :nope], np.broadcast_to(k_pe, (T, nh, rope))], axis=-1)
        v = kv[..., nope:]
        qf = np.concatenate([q_nope, q_pe], axis=-1)
        scale = (nope + rope) ** -0.5  # modeling_deepseek_v2.yarn_apply_mscale
        if self.rope["rope_type"] != "default" and self.rope.get("mscale_all_dim"):
            scale *= _mscale(self.rope["factor"], self.rope["mscale_all_dim"]) ** 2
        return linear(attention(qf, k, v, scale), W, p + ".o_proj")

    # ---- feed-forward variants

    def _ffn(self, x, L):
        W, cfg, fam, act = self.W, self.cfg, self.fam, self.act
        p = f"model.layers.{L}"
        if fam == "mixtral":  # softmax over all experts, top-k, renormalise == softmax over the top-k logits
            E, k = cfg["num_local_experts"], cfg["num_experts_per_tok"]
            probs = softmax(linear(x, W, p + ".block_sparse_moe.gate"))
            idx = topk_lowest_index(probs, k)
            wts = np.take_along_axis(probs, idx, -1)
            wts /= wts.sum(-1, keepdims=True)
            self.stats.record(L, E, probs, idx, k)
            return moe_experts(x, W, p + ".block_sparse_moe", act, idx, wts, ("w1", "w3", "w2"))
        if fam == "qwen3_moe":
            E = cfg.get("num_experts", 128)
            moe = (L not in cfg.get("mlp_only_layers", []) and E > 0
                   and (L + 1) % cfg.get("decoder_sparse_step", 1) == 0)
            if not moe:
                return mlp(x, W, p + ".mlp", act)
            k = cfg["num_experts_per_tok"]
            probs = softmax(linear(x, W, p + ".mlp.gate"))
            idx = topk_lowest_index(probs, k)
            wts = np.take_along_axis(probs, idx, -1)
            if cfg.get("norm_topk_prob", False):
                wts /= wts.sum(-1, keepdims=True)
            self.stats.record(L, E, probs, idx, k)
            return moe_experts(x, W, p + ".mlp", act, idx, wts, ("gate_proj", "up_proj", "down_proj"))
        if fam == "deepseek_v2":
            if L < cfg.get("first_k_dense_replace", 0):
                return mlp(x, W, p + ".mlp", act)
            return self._deepseek_moe(x, L)
        return mlp(x, W, p + ".mlp", act)

    def _deepseek_moe(self, x, L):
        """DeepseekV2TopkRouter + DeepseekV2Moe: softmax scores, greedy or group-limited top-k,
        weights * routed_scaling_factor, plus the always-on shared experts."""
        W, cfg, act = self.W, self.cfg, self.act
        p = f"model.layers.{L}.mlp"
        E, k = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
        if cfg.get("norm_topk_prob"):
            # transformers 5 ignores norm_topk_prob here while DeepSeek's code normalises (and then
            # skips routed_scaling_factor); the published V2 checkpoints and our tiny models use false.
            raise ValueError("DeepSeek-V2 norm_topk_prob=true: transformers 5 and DeepSeek disagree")
        scores = softmax(x @ W[p + ".gate.weight"].T)
        method = cfg.get("topk_method", "greedy")
        if method == "group_limited_greedy":
            ng, tg = cfg["n_group"], cfg["topk_group"]
            gs = scores.reshape(-1, ng, E // ng).max(-1)  # group score = best expert of the group
            gidx = topk_lowest_index(gs, tg)
            gmask = np.zeros_like(gs)
            np.put_along_axis(gmask, gidx, 1.0, -1)
            self.stats.record(f"{L}.groups", ng, gs, gidx, tg)
            self.stats.counts.pop(f"{L}.groups")
            masked = np.where(np.repeat(gmask, E // ng, axis=-1) > 0, scores, 0.0)
        elif method == "greedy":
            masked = scores
        else:
            raise ValueError(f"topk_method {method} not supported by the reference")
        idx = topk_lowest_index(masked, k)
        wts = np.take_along_axis(masked, idx, -1) * cfg.get("routed_scaling_factor", 1.0)
        self.stats.record(L, E, masked, idx, k)
        out = moe_experts(x, W, p, act, idx, wts, ("gate_proj", "up_proj", "down_proj"))
        if cfg.get("n_shared_experts"):
            out += mlp(x, W, p + ".shared_experts", act)
        return out

    # ---- whole model

    def hidden(self, ids):
        """Final-norm hidden states [T, H] for token ids (positions 0..T-1)."""
        W, fam, T = self.W, self.fam, len(ids)
        x = W["model.embed_tokens.weight"][np.asarray(ids)]
        g2 = fam == "gemma2"
        if g2:  # Gemma2TextScaledWordEmbedding: * sqrt(hidden) (cast to the weight dtype; exact for hidden 64)
            x = x * (self.H ** 0.5)
        inv, af = rope_inv_freq(self.rope, self.head_dim, self.cfg.get("max_position_embeddings", 2048), T)
        cos, sin = rope_tables(inv, af, T)
        for L in range(self.n_layers):
            p = f"model.layers.{L}"
            h = rmsnorm(x, W[p + ".input_layernorm.weight"], self.eps, g2)
            h = self._attn_mla(h, L, cos, sin) if fam == "deepseek_v2" else self._attn_gqa(h, L, cos, sin)
            if g2:
                h = rmsnorm(h, W[p + ".post_attention_layernorm.weight"], self.eps, True)
                x = x + h
                h = rmsnorm(x, W[p + ".pre_feedforward_layernorm.weight"], self.eps, True)
                x = x + rmsnorm(self._ffn(h, L), W[p + ".post_feedforward_layernorm.weight"], self.eps, True)
            else:
                x = x + h
                x = x + self._ffn(rmsnorm(x, W[p + ".post_attention_layernorm.weight"], self.eps), L)
        return rmsnorm(x, W["model.norm.weight"], self.eps, g2)

    def head(self, h):
        """Logits from hidden states: lm_head (or tied embedding) + Gemma-2 final softcap;
        ForSequenceClassification: score (no softcap, GenericForSequenceClassification)."""
        if self.seq_cls:
            return h @ self.W["score.weight"].T
        Wo = self.W["model.embed_tokens.weight"] if self.tied else self.W["lm_head.weight"]
        logits = h @ Wo.T
        cap = self.cfg.get("final_logit_softcapping", 30.0) if self.fam == "gemma2" else None
        if cap is not None:
            logits = np.tanh(logits / cap) * cap
        return logits

    def logits(self, ids):
        return self.head(self.hidden(ids))

    def last_token(self, ids):
        """GenericForSequenceClassification: the rightmost token != pad_token_id (0 if all are pad);
        without pad_token_id the last position."""
        pad = self.cfg.get("pad_token_id")
        if pad is None:
            return len(ids) - 1
        pos = [i for i, t in enumerate(ids) if t != pad]
        return pos[-1] if pos else 0

    def greedy(self, ids, n, stop_below=None):
        """n greedy tokens; the full sequence is recomputed each step. Returns (tokens, min gap
        between the best and second-best logit over the steps); stops early (fewer tokens) once
        the gap falls below stop_below."""
        ids, out, gap = list(ids), [], math.inf
        for _ in range(n):
            row = self.head(self.hidden(ids)[-1:])[0]
            t = int(np.argmax(row))
            srt = np.partition(row, -2)[-2:]
            gap = min(gap, float(srt[1] - srt[0]))
            out.append(t)
            ids.append(t)
            if stop_below is not None and gap < stop_below:
                break
        return out, gap


def min_logit_gap(logits):
    srt = np.sort(logits, axis=-1)
    return float(np.min(srt[:, -1] - srt[:, -2])) if logits.shape[-1] > 1 else None


def run(model_dir, ids, greedy=0, out=None):
    m = RefModel(model_dir)
    logits = m.logits(ids)
    res = {"model": os.path.abspath(model_dir), "architecture": m.arch, "ids": list(ids),
           "shape": list(logits.shape), "logits": None, "dtype": "float64 compute, float32 file",
           "min_logit_gap": min_logit_gap(logits)}
    if out:
        np.save(out, logits.astype(np.float32))
        res["logits"] = os.path.abspath(out)
    if m.seq_cls:
        res["last_token"] = m.last_token(ids)
        res["pooled"] = logits[res["last_token"]].tolist()
    res["router"] = m.stats.as_json()  # the prompt's routing only
    if greedy and m.seq_cls:
        res["greedy"] = []  # a classifier has no continuation
    elif greedy:
        m.stats = RouterStats()
        res["greedy"], res["greedy_min_gap"] = m.greedy(ids, greedy)
        res["greedy_router_min_margin"] = m.stats.as_json()["min_topk_margin"]
    return res, logits


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    ap.add_argument("--greedy", type=int, default=0, help="greedy continuation length")
    ap.add_argument("--out", help="write per-position logits (float32 .npy)")
    ap.add_argument("--json", help="write the summary JSON here ('-' = stdout)")
    a = ap.parse_args(argv)
    ids = [int(t) for t in a.ids.split(",") if t.strip()]
    if not ids:
        ap.error("--ids is empty")
    res, _ = run(a.model_dir, ids, a.greedy, a.out)
    text = json.dumps(res, indent=1)
    if a.json == "-" or not a.json:
        print(text)
    else:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
