#!/usr/bin/env python3
"""Self-checks of the numpy reference (ref_forward.py) and of the tiny models
(make_tiny_models.py). Every check can fail; the script exits 1 if one does.

    test_ref_forward.py TINY_MODELS_DIR      (written by make_tiny_models.py)

  hf_configs       every directory loads with transformers.AutoConfig; the class, the
                   per-layer sliding windows, head_dim, RoPE type/theta/factor, tying and
                   num_labels that transformers derives agree with what the reference reads
  tokenizers       AutoTokenizer loads one directory per tokenizer family and encodes the
                   prompt to the manifest's ids; the other directories hold the same files
  tensors          every tensor of every model.safetensors is F32, read by the reference,
                   and none it needs is missing; MoE experts per expert (published names)
  manifest         stored reference logits reproduce; the CLI (--ids --greedy --out --json)
                   reproduces the manifest's greedy prefix; idle experts exist
  causality        logits at position i do not change when later tokens change
  second_impl      Llama/Qwen2/Qwen3 (+ a classifier): a token-at-a-time KV-cache forward
                   written separately here (complex-number RoPE, the `safetensors` reader)
                   gives the same logits as the reference's whole-prompt forward
  attention_scales the scale / softcap / window per layer for Gemma-2, DeepSeek-V2 and Qwen3
                   against hand-worked values
  transformers     only where torch is installed (not in CI): transformers' modeling code in
                   float64 gives the same logits and generate() the same greedy tokens
  rope_tables      inv_freq / attention_factor for default, linear, dynamic, llama3, yarn
                   against numbers worked out by hand (and ROPE_INIT_FUNCTIONS if torch exists)
  deepseek_rope    transformers 5's interleaved complex rotation and DeepSeek's
                   de-interleave + rotate_half give the same q.k (and rotate_half alone does not)
  sliding_window   query i sees exactly keys i-window+1 .. i
  moe_routing      ties -> lower index; Mixtral renormalised top-k == softmax over top-k
                   logits; group-limited greedy on a hand example
  seq_cls          the pooled position is the rightmost non-pad token
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_forward as rf  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL", msg, flush=True)


def close(a, b, rtol=1e-9):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and float(np.max(np.abs(a - b))) <= rtol * scale


_LOADED = {}


def load(d):
    """RefModel of a directory; the weights are read once and shared (the model is a fresh copy)."""
    import copy
    if d not in _LOADED:
        _LOADED[d] = rf.RefModel(d)
    m = copy.copy(_LOADED[d])
    m.cfg, m.stats = dict(m.cfg), rf.RouterStats()
    return m


def model_dirs(root):
    with open(os.path.join(root, "manifest.json")) as f:
        man = json.load(f)["models"]
    return man, {n: os.path.join(root, n) for n in man}


# ---------------------------------------------------------------- transformers' view

def check_hf_configs(man, dirs):
    from transformers import AutoConfig
    for name, d in dirs.items():
        c = AutoConfig.from_pretrained(d)
        m = load(d)
        arch = m.arch
        check(type(c).__name__ == arch.replace("ForCausalLM", "Config").replace("ForSequenceClassification", "Config"),
              f"{name}: AutoConfig class {type(c).__name__} for {arch}")
        n = c.num_hidden_layers
        types = getattr(c, "layer_types", None)
        win = getattr(c, "sliding_window", None)
        if types is None:  # Llama/DeepSeek: none; Mixtral/Qwen3-MoE: the same window everywhere
            hf_win = [win if m.fam in ("mixtral", "qwen3_moe") else None] * n
        else:
            hf_win = [win if t == "sliding_attention" else None for t in types]
        check(hf_win == m.window, f"{name}: windows transformers {hf_win} reference {m.window}")
        hd = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        check(hd == m.head_dim, f"{name}: head_dim transformers {hd} reference {m.head_dim}")
        rp = c.rope_parameters
        check(rp["rope_type"] == m.rope["rope_type"] and float(rp["rope_theta"]) == float(m.rope["rope_theta"])
              and rp.get("factor") == m.rope.get("factor"), f"{name}: rope {rp} vs {m.rope}")
        check(bool(c.tie_word_embeddings) == bool(m.tied), f"{name}: tie_word_embeddings")
        if m.seq_cls:
            check(c.num_labels == m.W["score.weight"].shape[0], f"{name}: num_labels {c.num_labels}")
        check(c.vocab_size == m.W["model.embed_tokens.weight"].shape[0], f"{name}: vocab_size")
        if m.fam == "gemma2":
            check(any(w is not None and w < len(man[name]["prompts"]["text"]["ids"]) for w in m.window),
                  f"{name}: the sliding window is not shorter than the prompt")


def check_tokenizers(man, dirs):
    from transformers import AutoTokenizer
    seen = {}
    for name, d in dirs.items():
        fam = man[name]["tokenizer"]
        with open(os.path.join(d, "tokenizer.json"), "rb") as f:
            blob = f.read()
        if fam in seen:
            check(blob == seen[fam], f"{name}: tokenizer.json differs from the other {fam} directories")
            continue
        seen[fam] = blob
        tok = AutoTokenizer.from_pretrained(d)
        ids = tok(man[name]["prompt"])["input_ids"]
        check(ids == man[name]["prompts"]["text"]["ids"], f"{name}: AutoTokenizer ids {ids[:6]}... differ")
        check(man[name]["vocab_size"] >= len(tok), f"{name}: vocab_size {man[name]['vocab_size']} < {len(tok)}")


# ---------------------------------------------------------------- files and manifest

class Recorder(dict):
    def __init__(self, *a):
        super().__init__(*a)
        self.used = set()

    def __getitem__(self, k):
        self.used.add(k)
        return super().__getitem__(k)

    def get(self, k, d=None):
        if k in self:
            self.used.add(k)
        return super().get(k, d)


def check_tensors(man, dirs):
    for name, d in dirs.items():
        with open(os.path.join(d, "model.safetensors"), "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        header.pop("__metadata__", None)
        check(all(t["dtype"] == "F32" for t in header.values()), f"{name}: not all tensors F32")
        check(not any("gate_up_proj" in k or k.endswith("experts.down_proj") for k in header),
              f"{name}: fused expert tensors (published checkpoints store one per expert)")
        m = load(d)
        m.W = Recorder(m.W)
        m.logits(man[name]["prompts"]["random"]["ids"])
        unused = sorted(set(header) - m.W.used)
        moe_unused = [k for k in unused if ".experts." in k]
        # an expert that no token chose is never read; everything else must be
        check(sorted(set(unused) - set(moe_unused)) == [], f"{name}: tensors never read: {unused[:5]}")
        if m.fam == "mixtral":
            check(any(".block_sparse_moe.experts.0.w1.weight" in k for k in header), f"{name}: Mixtral w1 names")
        if m.fam == "deepseek_v2" and m.cfg["topk_method"] == "group_limited_greedy":
            a = m.logits(man[name]["prompts"]["text"]["ids"])
            m.cfg = dict(m.cfg, topk_method="greedy")
            check(not close(a, m.logits(man[name]["prompts"]["text"]["ids"]), 1e-6),
                  f"{name}: the group limit changes no expert choice of the prompt")
        if m.fam == "deepseek_v2":
            want = ["kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj", "shared_experts"]
            want += ["q_proj"] if m.cfg["q_lora_rank"] is None else ["q_a_proj", "q_a_layernorm", "q_b_proj"]
            for w in want:
                check(any(f".{w}." in k for k in header), f"{name}: no tensor named *.{w}.*")


def check_manifest(root, man, dirs):
    for name, d in dirs.items():
        e = man[name]
        m = load(d)
        stored = np.load(os.path.join(root, "ref", name + ".logits.npy"))
        check(close(m.logits(e["prompts"]["text"]["ids"]), stored, 1e-6), f"{name}: stored logits do not reproduce")
        for key in ("text", "random"):
            p = e["prompts"][key]
            check(p["ids"] and len(p["ids"]) >= 8, f"{name}: prompt {key} shorter than 8 tokens")
            if not m.seq_cls:
                check(len(p["greedy"]) == 32 and len(set(p["greedy"])) >= 6, f"{name}: greedy {key} degenerate")
        counts = e["prompts"]["text"]["router"]["tokens_per_expert"]
        if m.fam in ("mixtral", "qwen3_moe", "deepseek_v2"):
            check(counts and all(0 in c for c in counts.values()), f"{name}: every expert got a token: {counts}")
    # the command line on one MoE model: a 4-token greedy prefix and the logits file
    name = "deepseek_v2_qlora"
    p = man[name]["prompts"]["text"]
    with tempfile.TemporaryDirectory() as t:
        out, js = os.path.join(t, "l.npy"), os.path.join(t, "r.json")
        subprocess.run([sys.executable, os.path.join(HERE, "ref_forward.py"), dirs[name], "--ids",
                        ",".join(map(str, p["ids"])), "--greedy", "4", "--out", out, "--json", js], check=True)
        r = json.load(open(js))
        check(r["greedy"] == p["greedy"][:4], f"CLI greedy {r['greedy']} vs manifest {p['greedy'][:4]}")
        check(close(np.load(out), np.load(os.path.join(root, "ref", name + ".logits.npy")), 1e-6), "CLI logits")
        check(r["shape"] == [len(p["ids"]), man[name]["vocab_size"]], f"CLI shape {r['shape']}")


def check_causality(man, dirs):
    for name, d in dirs.items():
        m = load(d)
        ids = list(man[name]["prompts"]["random"]["ids"])
        a = m.logits(ids)
        ids2 = ids[:-5] + [t + 7 for t in ids[-5:]]
        b = m.logits(ids2)
        check(close(a[:-5], b[:-5], 1e-12), f"{name}: logits before position {len(ids) - 5} changed")
        check(not close(a[-5:], b[-5:], 1e-6), f"{name}: changed tokens did not change their logits")


# ---------------------------------------------------------------- a second implementation

def second_llama(model_dir, ids):
    """Llama / Qwen2 / Qwen3 (+ their classifiers) one token at a time with a KV cache.
    Independent of ref_forward: the safetensors package reads the file, RoPE multiplies
    complex numbers z = x[:d/2] + i x[d/2:] by e^(i pos w), frequencies from scalar loops."""
    from safetensors.numpy import load_file
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg["num_key_value_heads"]
    d = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    qk_norm = cfg["model_type"] == "qwen3"
    sc = cfg.get("rope_scaling") or {}
    kind = sc.get("rope_type", sc.get("type", "default"))
    w = []
    for i in range(d // 2):
        f = cfg["rope_theta"] ** (-2.0 * i / d)
        if kind == "linear":
            f /= sc["factor"]
        elif kind == "llama3":
            lam = 2 * math.pi / f
            old, lo, hi, fac = (sc["original_max_position_embeddings"], sc["low_freq_factor"],
                                sc["high_freq_factor"], sc["factor"])
            if lam > old / lo:
                f /= fac
            elif lam >= old / hi:
                s = (old / lam - lo) / (hi - lo)
                f = (1 - s) * f / fac + s * f
        w.append(f)
    w = np.array(w)

    def norm(x, g):
        return g * x / math.sqrt(float(np.dot(x, x)) / x.size + eps)

    def lin(x, n):
        y = W[n + ".weight"] @ x
        return y + W[n + ".bias"] if n + ".bias" in W else y

    def rot(x, pos):
        z = (x[: d // 2] + 1j * x[d // 2:]) * np.exp(1j * pos * w)
        return np.concatenate([z.real, z.imag])

    K = [[] for _ in range(cfg["num_hidden_layers"])]
    V = [[] for _ in range(cfg["num_hidden_layers"])]
    rows = []
    for pos, tok in enumerate(ids):
        x = W["model.embed_tokens.weight"][tok].copy()
        for L in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{L}."
            h = norm(x, W[p + "input_layernorm.weight"])
            q = lin(h, p + "self_attn.q_proj").reshape(nh, d)
            k = lin(h, p + "self_attn.k_proj").reshape(nkv, d)
            v = lin(h, p + "self_attn.v_proj").reshape(nkv, d)
            if qk_norm:
                q = np.array([norm(r, W[p + "self_attn.q_norm.weight"]) for r in q])
                k = np.array([norm(r, W[p + "self_attn.k_norm.weight"]) for r in k])
            K[L].append(np.array([rot(r, pos) for r in k]))
            V[L].append(v)
            o = []
            for hh in range(nh):
                g = hh * nkv // nh
                qs = rot(q[hh], pos)
                s = np.array([float(np.dot(qs, kk[g])) / math.sqrt(d) for kk in K[L]])
                s = np.exp(s - s.max())
                o.append(sum(a * vv[g] for a, vv in zip(s / s.sum(), V[L])))
            x = x + lin(np.concatenate(o), p + "self_attn.o_proj")
            h = norm(x, W[p + "post_attention_layernorm.weight"])
            gt = lin(h, p + "mlp.gate_proj")
            x = x + lin(gt / (1 + np.exp(-gt)) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        h = norm(x, W["model.norm.weight"])
        if "score.weight" in W:
            rows.append(W["score.weight"] @ h)
        else:
            rows.append((W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]) @ h)
    return np.array(rows)


def check_second_impl(man, dirs):
    for name in ("llama", "llama_cls", "qwen2", "qwen3"):
        ids = man[name]["prompts"]["random"]["ids"][:12]
        a = load(dirs[name]).logits(ids)
        b = second_llama(dirs[name], ids)
        check(close(a, b, 1e-9), f"{name}: second implementation differs by "
              f"{float(np.max(np.abs(a - b))) if a.shape == b.shape else a.shape}")


# ---------------------------------------------------------------- unit checks

def check_rope_tables():
    def inv(p, dim, max_pos=4096, seq=None):
        return rf.rope_inv_freq(dict(p, rope_theta=p.get("rope_theta", 10000.0)), dim, max_pos, seq)

    f, af = inv({"rope_type": "default"}, 8)
    check(close(f, [1, 0.1, 0.01, 0.001], 1e-15) and af == 1.0, f"default rope {f}")
    f, _ = inv({"rope_type": "linear", "factor": 2.0}, 4)
    check(close(f, [0.5, 0.005], 1e-15), f"linear rope {f}")
    f, _ = inv({"rope_type": "dynamic", "factor": 2.0}, 4, 4096, 100)  # not longer than max: unchanged
    check(close(f, [1, 0.01], 1e-15), f"dynamic rope below max_position_embeddings {f}")
    # dynamic past the maximum: base 10000 * (2*8192/4096 - 1)^(4/2) = 90000
    f, _ = inv({"rope_type": "dynamic", "factor": 2.0}, 4, 4096, 8192)
    check(close(f, [1, 1 / 300.0], 1e-12), f"dynamic rope past max_position_embeddings {f}")
    # llama3, old context 64, low 1 / high 4: wavelengths 2pi, 20pi, 200pi, 2000pi;
    # 2pi < 16 kept; 20pi = 62.83 in [16, 64]: s = (64/62.83 - 1)/3 = 0.0061972,
    # (1 - s) * 0.1/8 + s * 0.1 = 0.01304225; 200pi, 2000pi > 64: divided by 8
    f, _ = inv({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 64}, 8)
    check(close(f, [1.0, 0.01304225, 0.00125, 0.000125], 1e-6), f"llama3 rope {f}")
    # yarn dim 8, factor 4, original 64, beta 32/1: correction dims -0.497 -> 0 and 1.008 -> 2;
    # ramp [0, .5, 1, 1]: [1, 0.1 * (0.5 + 0.5/4), 0.01/4, 0.001/4]
    p = {"rope_type": "yarn", "factor": 4, "original_max_position_embeddings": 64, "beta_fast": 32,
         "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8}
    f, af = inv(p, 8, 256)
    check(close(f, [1.0, 0.0625, 0.0025, 0.00025], 1e-15), f"yarn inv_freq {f}")
    # attention_factor (0.1 ln4 + 1)/(0.08 ln4 + 1) = 1.138629/1.110904
    check(abs(af - 1.0249575) < 1e-6, f"yarn attention_factor {af}")
    f, af = inv(dict(p, mscale=None, mscale_all_dim=None), 8, 256)
    check(abs(af - 1.1386294) < 1e-6, f"yarn attention_factor without mscale {af}")
    try:
        import torch  # noqa: F401
        from transformers import AutoConfig  # noqa: F401
        from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: F401
        print("note: torch present; the hand values above are the check", flush=True)
    except ImportError:
        print("note: no torch, ROPE_INIT_FUNCTIONS not callable; hand-worked values only", flush=True)


def check_deepseek_rope():
    rng = np.random.default_rng(3)
    T, d = 6, 8
    q, k = rng.standard_normal((T, 1, d)), rng.standard_normal((T, 1, d))
    inv, af = rf.rope_inv_freq({"rope_type": "yarn", "rope_theta": 10000, "factor": 4,
                                "original_max_position_embeddings": 64, "mscale": 1.0, "mscale_all_dim": 0.8}, d, 256)
    cos, sin = rf.rope_tables(inv, af, T)
    hf = rf.rope_interleaved(q, cos, sin)[:, 0] @ rf.rope_interleaved(k, cos, sin)[:, 0].T

    def deepseek(x):  # modeling_deepseek.py apply_rotary_pos_emb: view(d/2, 2).transpose -> rotate_half
        x = x.reshape(T, 1, d // 2, 2).transpose(0, 1, 3, 2).reshape(T, 1, d)
        return rf.rope_half(x, cos, sin)[:, 0]

    check(close(hf, deepseek(q) @ deepseek(k).T, 1e-12), "DeepSeek interleaved rope != de-interleave + rotate_half")
    plain = rf.rope_half(q, cos, sin)[:, 0] @ rf.rope_half(k, cos, sin)[:, 0].T
    check(not close(hf, plain, 1e-6), "interleaved and half rotation agree: the check cannot tell them apart")
    check(abs(cos[0, 0] - af) < 1e-15, "attention_factor is not applied to cos/sin")


def check_sliding_window():
    rng = np.random.default_rng(5)
    T, win = 10, 4
    q, k, v = (rng.standard_normal((T, 2, 4)) for _ in range(3))
    base = rf.attention(q, k, v, 0.5, win)
    for i in range(T):
        for j in range(T):
            k2, v2 = k.copy(), v.copy()
            k2[j] += 1.0
            v2[j] += 1.0
            changed = not np.allclose(rf.attention(q, k2, v2, 0.5, win)[i], base[i], atol=0, rtol=1e-14)
            check(changed == (i - win < j <= i), f"window {win}: query {i} key {j} seen={changed}")


def check_moe_routing():
    s = np.array([[0.3, 0.1, 0.3, 0.3]])
    check(rf.topk_lowest_index(s, 2).tolist() == [[0, 2]], "tie: lower expert index first")
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((5, 8))
    p = rf.softmax(logits)
    idx = rf.topk_lowest_index(p, 2)
    w = np.take_along_axis(p, idx, -1)
    w /= w.sum(-1, keepdims=True)
    check(close(w, rf.softmax(np.take_along_axis(logits, idx, -1)), 1e-14), "Mixtral: renormalised != softmax(top-k)")
    # group-limited: 8 experts in 4 groups of 2, topk_group 2 -> groups by their best score
    cfg = {"n_routed_experts": 8, "num_experts_per_tok": 3, "topk_method": "group_limited_greedy",
           "n_group": 4, "topk_group": 2, "routed_scaling_factor": 2.0, "n_shared_experts": 0}
    m = rf.RefModel.__new__(rf.RefModel)
    m.cfg, m.act, m.stats = cfg, rf.silu, rf.RouterStats()
    # router weight picks logits directly from a one-hot "hidden state"
    want = np.log(np.array([0.05, 0.22, 0.20, 0.19, 0.01, 0.01, 0.11, 0.21]))
    H = 8
    Wt = {"model.layers.0.mlp.gate.weight": np.diag(want)}
    for e in range(8):  # expert e outputs e * unit vector 0 (linear act-free check via weights)
        Wt[f"model.layers.0.mlp.experts.{e}.gate_proj.weight"] = np.zeros((1, H))
        Wt[f"model.layers.0.mlp.experts.{e}.up_proj.weight"] = np.zeros((1, H))
        Wt[f"model.layers.0.mlp.experts.{e}.down_proj.weight"] = np.zeros((H, 1))
    m.W = Wt
    x = np.ones((1, H))
    m._deepseek_moe(x, 0)
    # scores softmax(want * 1) = the probabilities above (they sum to 1); group bests:
    # g0 .22, g1 .20, g2 .01, g3 .21 -> groups 0 and 3 -> top-3 of experts 0, 1, 6, 7:
    # 1, 7, 6 (plain greedy would take 1, 7, 2)
    chosen = [i for i, c in enumerate(m.stats.counts[0]) if c]
    check(chosen == [1, 6, 7], f"group-limited greedy chose {chosen}, want [1, 6, 7]")


def check_seq_cls():
    m = rf.RefModel.__new__(rf.RefModel)
    m.cfg = {"pad_token_id": 0}
    check(m.last_token([5, 6, 7, 0, 0]) == 2, "right padding")
    check(m.last_token([0, 0, 5, 6]) == 3, "left padding")
    check(m.last_token([5, 0, 6, 0]) == 2, "pad in the middle: rightmost non-pad")
    check(m.last_token([0, 0]) == 0, "all pad: position 0 (argmax of zeros)")
    m.cfg = {}
    check(m.last_token([0, 0, 3]) == 2, "no pad_token_id: last position")


def check_attention_scales(man, dirs):
    """The softmax scale / softcap / window each layer's attention gets, against hand values:
    Gemma-2 query_pre_attn_scalar 24 -> 24^-0.5, softcap 10, window 4 on layers 0 and 2;
    DeepSeek-V2 (16 + 8)^-0.5 * (0.1 * mscale_all_dim * ln 4 + 1)^2 (yarn_apply_mscale);
    Qwen3 head_dim 32 (not hidden/heads = 16) -> 32^-0.5."""
    want = {"gemma2": [(24 ** -0.5, 10.0, 4), (24 ** -0.5, 10.0, None)] * 2,
            "deepseek_v2": [(24 ** -0.5 * (0.1 * 0.707 * math.log(4) + 1) ** 2, None, None)] * 3,
            "deepseek_v2_qlora": [(24 ** -0.5 * (0.1 * 0.8 * math.log(4) + 1) ** 2, None, None)] * 3,
            "qwen3": [(32 ** -0.5, None, None)] * 3}
    seen = []
    orig = rf.attention

    def spy(q, k, v, scale, window=None, softcap=None):
        seen.append((scale, softcap, window))
        return orig(q, k, v, scale, window, softcap)

    rf.attention = spy
    try:
        for name, w in want.items():
            seen.clear()
            load(dirs[name]).logits(man[name]["prompts"]["text"]["ids"][:9])
            ok = len(seen) == len(w) and all(abs(a[0] - b[0]) < 1e-12 and a[1:] == b[1:] for a, b in zip(seen, w))
            check(ok, f"{name}: attention (scale, softcap, window) {seen} want {w}")
    finally:
        rf.attention = orig


def check_transformers(man, dirs):
    """Only where torch is installed (not in CI): transformers' own modeling code, eager attention,
    float64, on every tiny model: per-position logits of both prompts and the 32-token greedy
    continuation of generate() must equal the reference's."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
    except ImportError:
        print("note: no torch; transformers' forward not compared", flush=True)
        return
    torch.set_grad_enabled(False)
    for name, d in dirs.items():
        m = load(d)
        cls = AutoModelForSequenceClassification if m.seq_cls else AutoModelForCausalLM
        hf = cls.from_pretrained(d, dtype=torch.float64, attn_implementation="eager",
                                  experts_implementation="eager").eval()
        for key, p in man[name]["prompts"].items():
            ids = torch.tensor([p["ids"]])
            if m.seq_cls:
                h = hf.model(input_ids=ids).last_hidden_state
                got = hf.score(h)[0].numpy()
                pooled = hf(input_ids=torch.tensor([p["padded_ids"]])).logits[0].numpy()
                check(close(pooled, p["pooled"], 1e-6), f"{name}/{key}: transformers pooled {pooled} vs {p['pooled']}")
            else:
                got = hf(input_ids=ids).logits[0].numpy()
                gen = hf.generate(ids, max_new_tokens=32, do_sample=False, min_new_tokens=32,
                                  pad_token_id=0)[0, len(p["ids"]):].tolist()
                check(gen == p["greedy"], f"{name}/{key}: transformers greedy {gen[:8]}... vs {p['greedy'][:8]}...")
            ref = m.logits(p["ids"])
            err = float(np.max(np.abs(got - ref))) / max(1.0, float(np.max(np.abs(ref))))
            print(f"     {name}/{key}: transformers vs reference max rel err {err:.2e}", flush=True)
            # transformers builds RoPE cos/sin in float32 even for a float64 model: ~5e-7
            check(err < 1e-5, f"{name}/{key}: transformers vs reference {err:.2e}")


def check_seq_cls_models(man, dirs):
    for name in ("llama_cls", "qwen2_cls", "gemma2_cls"):
        p = man[name]["prompts"]["text"]
        m = load(dirs[name])
        a = m.logits(p["padded_ids"])
        check(m.last_token(p["padded_ids"]) == len(p["ids"]) - 1, f"{name}: last token")
        check(close(a[len(p["ids"]) - 1], p["pooled"], 1e-9), f"{name}: pooled row with padding")
        check(a.shape[1] == m.cfg["num_labels"], f"{name}: {a.shape[1]} labels")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    man, dirs = model_dirs(root)
    for fn, args in ((check_rope_tables, ()), (check_deepseek_rope, ()), (check_sliding_window, ()),
                     (check_moe_routing, ()), (check_seq_cls, ()), (check_hf_configs, (man, dirs)),
                     (check_tokenizers, (man, dirs)), (check_tensors, (man, dirs)),
                     (check_manifest, (root, man, dirs)), (check_causality, (man, dirs)),
                     (check_second_impl, (man, dirs)), (check_attention_scales, (man, dirs)),
                     (check_transformers, (man, dirs)),
                     (check_seq_cls_models, (man, dirs))):
        n, t0 = len(FAILS), time.time()
        fn(*args)
        print(f"{'ok  ' if len(FAILS) == n else 'FAIL'} {fn.__name__[6:]} ({time.time() - t0:.1f} s)", flush=True)
    if FAILS:
        print(f"{len(FAILS)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
