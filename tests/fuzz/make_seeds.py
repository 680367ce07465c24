#!/usr/bin/env python3
"""Writes the committed seed corpora tests/fuzz/corpus/<target>/ from files
already in the repository (run it again after changing those; the fuzz runs
in tools/fuzz.sh copy the seeds and never write into this folder).

    fuzz_safetensors     the small malformed/valid files of tests/data/malformed
    fuzz_hf_config       tests/data/configs/*: config.json NUL generation_config.json,
                         and a few edge cases (repeated keys, trailing data, NaN)
    fuzz_chat_template   model_type byte + tokenizer_config.json NUL jinja NUL template file
    fuzz_tokenizer       every 8th string of tests/data/tokenizer_corpus.jsonl
    fuzz_gguf            the single files of tests/data/malformed_gguf (+ valid/), and a
                         tiny llama GGUF with a byte-level tokenizer and chat template
                         and a tiny SentencePiece-tokenizer GGUF, written here by gguf-py
                         (so the model layer and both tokenizer builders are reached)
Targets of other folders' owners (fuzz_grm_*) keep their own seeds here too."""
import glob
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(HERE, "corpus")


def fresh(target):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors_seeds():
    d = fresh("fuzz_safetensors")
    files = sorted(glob.glob(os.path.join(ROOT, "tests/data/malformed/*.safetensors")))
    files += [os.path.join(ROOT, "tests/data/malformed/valid", f) for f in ("single.safetensors",
                                                                            "leading_whitespace.safetensors")]
    for f in files:
        write(d, os.path.basename(f), open(f, "rb").read())


def gguf_seeds():
    import numpy as np
    import gguf
    d = fresh("fuzz_gguf")
    src = os.path.join(ROOT, "tests/data/malformed_gguf")
    for f in sorted(glob.glob(os.path.join(src, "*.gguf")) + glob.glob(os.path.join(src, "valid", "*.gguf"))):
        write(d, os.path.basename(f), open(f, "rb").read())
    path = os.path.join(d, "tiny_llama_tokenizer.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_feed_forward_length(8)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_context_length(64)
    toks = ["<unk>"] + [bytes([b]).decode("latin-1") for b in range(1, 256)] + ["ab", "<|im_start|>", "<|im_end|>"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(toks)
    w.add_token_types([1] * 257 + [3, 3])
    w.add_token_merges(["a b"])
    w.add_bos_token_id(257)
    w.add_eos_token_id(258)
    w.add_add_bos_token(True)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                        "{% endfor %}")
    rng = np.random.default_rng(3)
    spm = gguf.GGUFWriter(os.path.join(d, "tiny_spm_tokenizer.gguf"), "gemma2")
    spm.add_tokenizer_model("llama")
    spm.add_token_list(["<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "<0x41>"])
    spm.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, 0.0])
    spm.add_token_types([2, 3, 3, 1, 1, 1, 1, 1, 1, 6])
    spm.add_bos_token_id(1)
    spm.add_eos_token_id(2)
    spm.write_header_to_file()
    spm.write_kv_data_to_file()
    spm.write_tensors_to_file()
    spm.close()
    w.add_tensor("token_embd.weight", rng.standard_normal((len(toks), 8)).astype(np.float32))
    w.add_tensor("output_norm.weight", np.ones(8, np.float32))
    w.add_tensor("blk.0.attn_q.weight", rng.standard_normal((8, 8)).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def hf_config_seeds():
    d = fresh("fuzz_hf_config")
    for cdir in sorted(glob.glob(os.path.join(ROOT, "tests/data/configs/*/"))):
        name = os.path.basename(os.path.normpath(cdir))
        data = open(os.path.join(cdir, "config.json"), "rb").read()
        g = os.path.join(cdir, "generation_config.json")
        if os.path.exists(g):
            data += b"\0" + open(g, "rb").read()
        write(d, name, data)
    base = b'{"architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64, ' \
           b'"intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4'
    write(d, "edge_repeated_keys", base + b', "hidden_size": 32, "hidden_size": 64}\0{"top_k": 5, "top_k": 7}')
    write(d, "edge_trailing", base + b'} {}\0{"do_sample": true} x')
    write(d, "edge_nan", base + b', "rms_norm_eps": NaN}\0{"temperature": -Infinity}')
    write(d, "edge_escapes", base + b', "model_type": "ll\\u0061ma\\ud83d\\ude00"}\0{"eos_token_id": [1, 2, 3]}')


TEMPLATES = {
    "qwen3": "{%- if enable_thinking is defined %}{% endif %}<|im_start|>{{ message.role }}\n{{ message.content }}"
             "<|im_end|>\n{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    "llama3": "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] }}<|eot_id|>"
              "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
    "gemma": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
             "{% endif %}<start_of_turn>user\n{{ message['content'] }}<end_of_turn>\n",
    "deepseek3": "<\uff5cUser\uff5c>{{ message['content'] }}<\uff5cAssistant\uff5c>",
    "chatml_system": "<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>\n",
}
TEMPLATE_FILE = ("[prefix]\n{bos}\n[user]\nUser: {content}\n\n\n[assistant]\nAssistant: {content}{eos}\n"
                 "[generation]\nAssistant:\n")


def chat_template_seeds():
    d = fresh("fuzz_chat_template")
    for i, f in enumerate(sorted(glob.glob(os.path.join(ROOT, "tests/reference/chat_templates/*/tokenizer_config.json")))):
        name = os.path.basename(os.path.dirname(f))
        write(d, f"config_{name}", bytes([i]) + open(f, "rb").read() + b"\0\0" + TEMPLATE_FILE.encode())
    for i, (name, jinja) in enumerate(sorted(TEMPLATES.items())):
        cfg = json.dumps({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": jinja}).encode()
        write(d, f"template_{name}", bytes([i]) + cfg + b"\0" + jinja.encode() + b"\0" + TEMPLATE_FILE.encode())
    write(d, "list_templates", b"\x03" + json.dumps({"chat_template": [{"name": "default", "template":
                                                     TEMPLATES["qwen3"]}, {"name": "tool_use", "template": "x"}]}).encode())
    write(d, "no_config", b"\x02")


def tokenizer_seeds():
    d = fresh("fuzz_tokenizer")
    lines = open(os.path.join(ROOT, "tests/data/tokenizer_corpus.jsonl"), encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines[::8]):
        item = json.loads(line)  # {"text": ...} or {"hex": raw bytes}
        data = bytes.fromhex(item["hex"]) if "hex" in item else item["text"].encode("utf-8", "surrogatepass")
        write(d, f"text_{i:03d}", data)


if __name__ == "__main__":
    safetensors_seeds()
    gguf_seeds()
    hf_config_seeds()
    chat_template_seeds()
    tokenizer_seeds()
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        size = sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")
