#!/usr/bin/env python3
"""Checks of the SmolLM2-135M-Instruct HF directory made by gguf_to_hf.py
(tests/fixtures/fetch_models.sh caches it in ~/.cache/vkgrm-tests/models/):

    test_gguf_to_hf.py --model DIR --gguf FILE.gguf

1. config: transformers.AutoConfig reads it; values equal the GGUF metadata.
2. tokenizer: transformers.AutoTokenizer (no torch) loads it; every id maps to
   the GGUF token string; known SmolLM2 ids; encode/decode round trips; the
   chat template renders SmolLM2's default system prompt.
3. weights: names/shapes/dtypes are HF Llama's; values equal gguf's own
   dequantize (q_proj/k_proj after re-applying llama.cpp's rope permutation)
   rounded to the stored dtype (F16 matrices), exactly.
4. a compact numpy float32 Llama forward (RMSNorm, rotate-half RoPE, GQA
   attention with a KV cache, SwiGLU, tied lm_head) greedily answers
   "What is the capital of France?" with text containing "Paris"; the same
   forward with q/k left in GGUF row order must fit that answer much worse,
   which shows the un-permutation is what makes the model work.
Missing files fail (run tests/fixtures/fetch_models.sh), they do not skip.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# one BLAS thread: ctest runs tests side by side, and OpenBLAS threads that spin
# on a busy machine make the small decode mat-vecs ~10x slower
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from gguf_to_hf import permute  # noqa: E402

FAILS = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        FAILS.append(msg)


PROMPT = "What is the capital of France?"
EXPECTED_CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                 "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                 "<|im_start|>assistant\n")
# ids of the original SmolLM2 tokenizer (digits split one by one, GPT-2 byte level)
KNOWN_IDS = {
    "The capital of France is": [504, 3575, 282, 4649, 314],
    "Hello world! 123": [19556, 905, 17, 216, 33, 34, 35],
    "  multiple   spaces": [216, 2701, 256, 5600],
}
ROUND_TRIP = [
    "Hello, world!", "The year 2024 had 366 days.", "  leading and trailing  ",
    "Café déjà vu — naïve façade", "日本語のテキスト", "emoji 🙂👍🏽 mix", "tabs\tand\nnew\r\nlines",
    "def f(x):\n    return x ** 2  # square", "<|im_start|>user\nhi<|im_end|>",
]


# ---- 1. config -------------------------------------------------------------
def check_config(model_dir, reader):
    from transformers import AutoConfig
    cfg = AutoConfig.from_pretrained(model_dir)
    g = lambda k: reader.fields[k].contents()
    check(cfg.model_type == "llama", f"config model_type {cfg.model_type}")
    want = {"hidden_size": g("llama.embedding_length"), "intermediate_size": g("llama.feed_forward_length"),
            "num_hidden_layers": g("llama.block_count"), "num_attention_heads": g("llama.attention.head_count"),
            "num_key_value_heads": g("llama.attention.head_count_kv"),
            "max_position_embeddings": g("llama.context_length"), "vocab_size": g("llama.vocab_size"),
            "bos_token_id": g("tokenizer.ggml.bos_token_id"), "eos_token_id": g("tokenizer.ggml.eos_token_id")}
    for k, v in want.items():
        check(getattr(cfg, k) == v, f"config {k} = {getattr(cfg, k)} (GGUF {v})")
    check(abs(cfg.rms_norm_eps - g("llama.attention.layer_norm_rms_epsilon")) < 1e-10,
          f"config rms_norm_eps {cfg.rms_norm_eps}")
    rp = getattr(cfg, "rope_parameters", None) or {"rope_theta": cfg.rope_theta}
    check(rp["rope_theta"] == g("llama.rope.freq_base"), f"config rope_theta {rp['rope_theta']}")
    check(cfg.tie_word_embeddings is True, "config tie_word_embeddings (no output.weight in the GGUF)")
    return cfg


# ---- 2. tokenizer ----------------------------------------------------------
def check_tokenizer(model_dir, reader):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    gtoks = reader.fields["tokenizer.ggml.tokens"].contents()
    check(len(tok) == len(gtoks), f"tokenizer size {len(tok)} (GGUF {len(gtoks)})")
    same = tok.convert_ids_to_tokens(list(range(len(gtoks)))) == list(gtoks)
    check(same, "every token id maps to the GGUF token string")
    for text, ids in KNOWN_IDS.items():
        got = tok.encode(text, add_special_tokens=False)
        check(got == ids, f"encode {text!r} -> {got}")
    # AutoTokenizer must run tokenizer.json as written (the digit split included)
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    for text in ("Café ١٢٣ ½ Ⅻ", "x 12345 y"):
        got, want = tok.encode(text, add_special_tokens=False), raw.encode(text, add_special_tokens=False).ids
        check(got == want and tok.tokenize(" ١٢")[:1] == ["Ġ"], f"encode {text!r} as tokenizers does: {got}")
    for text in ROUND_TRIP:
        ids = tok.encode(text, add_special_tokens=False)
        check(tok.decode(ids) == text, f"round trip {text!r} ({len(ids)} ids)")
    check(tok.encode("<|im_end|>", add_special_tokens=False) == [2], "<|im_end|> is one special token")
    check((tok.bos_token, tok.eos_token, tok.pad_token, tok.unk_token)
          == ("<|im_start|>", "<|im_end|>", "<|im_end|>", "<|endoftext|>"),
          f"bos/eos/pad/unk {tok.bos_token} {tok.eos_token} {tok.pad_token} {tok.unk_token}")
    chat = tok.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                   add_generation_prompt=True)
    check(chat == EXPECTED_CHAT, f"chat template renders {chat!r}")
    sys_chat = tok.apply_chat_template([{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi"}], tokenize=False)
    check(sys_chat == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
          "chat template with an explicit system message")
    return tok, tok.encode(chat, add_special_tokens=False)


# ---- 3. weights ------------------------------------------------------------
def check_weights(W, cfg, reader):
    from gguf.quants import dequantize
    L, H, KV = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads
    D, I, V = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    hd = D // H
    shapes = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes.update({p + "self_attn.q_proj.weight": (H * hd, D), p + "self_attn.k_proj.weight": (KV * hd, D),
                       p + "self_attn.v_proj.weight": (KV * hd, D), p + "self_attn.o_proj.weight": (D, H * hd),
                       p + "mlp.gate_proj.weight": (I, D), p + "mlp.up_proj.weight": (I, D),
                       p + "mlp.down_proj.weight": (D, I), p + "input_layernorm.weight": (D,),
                       p + "post_attention_layernorm.weight": (D,)})
    check(set(W) == set(shapes), f"tensor names are HF Llama's ({len(W)} tensors)")
    check(all(W[k].shape == s for k, s in shapes.items() if k in W), "tensor shapes")
    check(all(W[k].dtype == (np.float16 if len(s) == 2 else np.float32) for k, s in shapes.items() if k in W),
          "dtypes: matrices F16, norms F32")
    gt = {t.name: t for t in reader.tensors}
    rng = np.random.default_rng(5)
    pairs = [("token_embd.weight", "model.embed_tokens.weight", None),
             ("output_norm.weight", "model.norm.weight", None)]
    for i in (0, 13, L - 1):
        pairs += [(f"blk.{i}.attn_q.weight", f"model.layers.{i}.self_attn.q_proj.weight", H),
                  (f"blk.{i}.attn_k.weight", f"model.layers.{i}.self_attn.k_proj.weight", KV),
                  (f"blk.{i}.attn_v.weight", f"model.layers.{i}.self_attn.v_proj.weight", None),
                  (f"blk.{i}.ffn_down.weight", f"model.layers.{i}.mlp.down_proj.weight", None),
                  (f"blk.{i}.attn_norm.weight", f"model.layers.{i}.input_layernorm.weight", None)]
    for gname, hname, nh in pairs:
        t = gt[gname]
        ref = dequantize(t.data, t.tensor_type).reshape(tuple(int(d) for d in reversed(t.shape)))
        hf = W[hname].astype(np.float32)
        back = permute(hf, nh) if nh else hf  # re-apply llama.cpp's permutation
        # the stored value is the dequantized one rounded to the stored dtype, exactly
        exact = np.array_equal(back, ref.astype(W[hname].dtype).astype(np.float32))
        idx = tuple(rng.integers(0, n, 64) for n in ref.shape)
        close = bool(np.all(np.abs(back[idx] - ref[idx]) <= np.abs(ref[idx]) * 2.0 ** -11 + 2.0 ** -24))
        where = ",".join(str(int(j[0])) for j in idx)
        check(exact and close, f"{hname} == dequantize({gname}){' re-permuted' if nh else ''}; "
              f"e.g. [{where}] {back[idx][0]:.6g} vs {ref[idx][0]:.6g}")
        if nh:  # without the inverse permutation the stored rows would not match
            check(not np.allclose(hf, ref, atol=1e-3), f"{hname} differs from the GGUF row order")


# ---- 4. numpy Llama forward ----------------------------------------------
class Llama:
    def __init__(self, W, cfg, gguf_qk_order=False):
        self.L, self.H, self.KV = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads
        self.hd = cfg.hidden_size // self.H
        self.eps = float(cfg.rms_norm_eps)
        self.scale = float(self.hd) ** -0.5  # a Python float: a NumPy float64 would promote to f64
        rp = getattr(cfg, "rope_parameters", None) or {"rope_theta": cfg.rope_theta}
        self.inv_freq = 1.0 / (rp["rope_theta"] ** (np.arange(0, self.hd, 2, dtype=np.float64) / self.hd))
        f = lambda k: W[k].astype(np.float32)
        self.emb = f("model.embed_tokens.weight")
        self.norm = f("model.norm.weight")
        self.layers = []
        for i in range(self.L):
            p = f"model.layers.{i}."
            q, k = f(p + "self_attn.q_proj.weight"), f(p + "self_attn.k_proj.weight")
            if gguf_qk_order:  # the negative control: q/k rows as llama.cpp stores them
                q, k = permute(q, self.H), permute(k, self.KV)
            self.layers.append({
                "in": f(p + "input_layernorm.weight"), "post": f(p + "post_attention_layernorm.weight"),
                "qkv": np.ascontiguousarray(np.concatenate([q, k, f(p + "self_attn.v_proj.weight")]).T),
                "o": np.ascontiguousarray(f(p + "self_attn.o_proj.weight").T),
                "gu": np.ascontiguousarray(np.concatenate([f(p + "mlp.gate_proj.weight"),
                                                           f(p + "mlp.up_proj.weight")]).T),
                "down": np.ascontiguousarray(f(p + "mlp.down_proj.weight").T)})
        self.reset()

    def reset(self):
        self.kc = [np.zeros((self.KV, 0, self.hd), np.float32) for _ in range(self.L)]
        self.vc = [np.zeros((self.KV, 0, self.hd), np.float32) for _ in range(self.L)]
        self.pos = 0

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos):  # x (heads, T, hd), HF rotate-half
        ang = np.outer(pos, self.inv_freq)
        cos = np.cos(np.concatenate([ang, ang], -1)).astype(np.float32)
        sin = np.sin(np.concatenate([ang, ang], -1)).astype(np.float32)
        h = self.hd // 2
        rot = np.concatenate([-x[..., h:], x[..., :h]], -1)
        return x * cos + rot * sin

    def __call__(self, ids, all_logits=False):
        """Logits of the last position (every position with all_logits) after
        feeding ids, which are appended to the KV cache."""
        T, H, KV, hd = len(ids), self.H, self.KV, self.hd
        pos = np.arange(self.pos, self.pos + T)
        x = self.emb[ids]
        for i, ly in enumerate(self.layers):
            qkv = self.rms(x, ly["in"]) @ ly["qkv"]
            q = qkv[:, :H * hd].reshape(T, H, hd).transpose(1, 0, 2)
            k = qkv[:, H * hd:(H + KV) * hd].reshape(T, KV, hd).transpose(1, 0, 2)
            v = qkv[:, (H + KV) * hd:].reshape(T, KV, hd).transpose(1, 0, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            self.kc[i] = K = np.concatenate([self.kc[i], k], 1)
            self.vc[i] = Vv = np.concatenate([self.vc[i], v], 1)
            g = H // KV  # GQA: query head h reads KV head h // g
            qg = q.reshape(KV, g * T, hd)
            s = (qg @ K.transpose(0, 2, 1)).reshape(KV, g, T, -1) * self.scale
            mask = pos[:, None] < np.arange(K.shape[1])[None, :]
            s = np.where(mask, -np.inf, s)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            o = (s.reshape(KV, g * T, -1) @ Vv).reshape(H, T, hd).transpose(1, 0, 2).reshape(T, H * hd)
            x = x + o @ ly["o"]
            gu = self.rms(x, ly["post"]) @ ly["gu"]
            gate, up = gu[:, :gu.shape[1] // 2], gu[:, gu.shape[1] // 2:]
            x = x + (gate / (1.0 + np.exp(-gate)) * up) @ ly["down"]
        assert x.dtype == np.float32
        self.pos += T
        return self.rms(x if all_logits else x[-1], self.norm) @ self.emb.T

    def greedy(self, ids, n, stop=None):
        self.reset()
        logits, out = self(ids), []
        for _ in range(n):
            t = int(np.argmax(logits))
            out.append(t)
            if t == stop:
                break
            logits = self([t])
        return out

    def nll(self, ids, cont):
        """Mean negative log-likelihood of cont after ids (one teacher-forced pass)."""
        self.reset()
        logits = self(list(ids) + list(cont[:-1]), all_logits=True)[len(ids) - 1:].astype(np.float64)
        m = logits.max(-1)
        lse = m + np.log(np.exp(logits - m[:, None]).sum(-1))
        return float(np.mean(lse - logits[np.arange(len(cont)), cont]))


def check_forward(W, cfg, tok, chat_ids, n_new):
    t0 = time.time()
    m = Llama(W, cfg)
    t1 = time.time()
    out = m.greedy(chat_ids, n_new, stop=cfg.eos_token_id)
    t2 = time.time()
    text = tok.decode(out, skip_special_tokens=True)
    print(f"greedy ({len(chat_ids)} prompt + {len(out)} tokens; load {t1 - t0:.1f} s, "
          f"generate {t2 - t1:.1f} s): {text!r}")
    print(f"  ids {out}")
    check("Paris" in text, "the greedy answer names Paris")
    good = m.nll(chat_ids, out)
    del m
    bad = Llama(W, cfg, gguf_qk_order=True).nll(chat_ids, out)
    print(f"  mean NLL of that answer: {good:.3f} (HF q/k order), {bad:.3f} (GGUF q/k order)")
    check(bad > good + 1.0, "q/k left in GGUF row order fits the answer much worse")
    # a plain-text completion (no template), always n_new tokens: a longer decode to compare against
    m = Llama(W, cfg)
    raw = tok.encode("The capital of France is", add_special_tokens=False)
    out = m.greedy(raw, n_new)
    print(f"plain completion of 'The capital of France is' ({n_new} tokens): {tok.decode(out)!r}")
    print(f"  ids {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--tokens", type=int, default=24)
    a = ap.parse_args()
    for p in (os.path.join(a.model, f) for f in ("config.json", "model.safetensors", "tokenizer.json",
                                                 "tokenizer_config.json", "generation_config.json")):
        if not os.path.isfile(p):
            print(f"FAIL missing {p}: run tests/fixtures/fetch_models.sh")
            return 1
    if not os.path.isfile(a.gguf):
        print(f"FAIL missing {a.gguf}: run tests/fixtures/fetch_models.sh")
        return 1
    t0 = time.time()
    import gguf
    from safetensors.numpy import load_file
    reader = gguf.GGUFReader(a.gguf)
    cfg = check_config(a.model, reader)
    t1 = time.time()
    tok, chat_ids = check_tokenizer(a.model, reader)
    t2 = time.time()
    W = load_file(os.path.join(a.model, "model.safetensors"))
    check_weights(W, cfg, reader)
    print(f"time: config {t1 - t0:.1f} s, tokenizer {t2 - t1:.1f} s, weights {time.time() - t2:.1f} s")
    gen = json.load(open(os.path.join(a.model, "generation_config.json")))
    check(gen.get("eos_token_id") == cfg.eos_token_id, "generation_config eos")
    check_forward(W, cfg, tok, chat_ids, a.tokens)
    print(f"{len(FAILS)} failure(s), {time.time() - t0:.1f} s")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
