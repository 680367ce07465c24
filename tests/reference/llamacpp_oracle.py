#!/usr/bin/env python3
"""llama.cpp itself as the oracle (issue 12 §3): its CPU backend through the
llama-cpp-python package (built from the PyPI sdist by
tests/fixtures/build_llama_cpp.sh into the test cache; run this file with that
venv's python). Only llama.cpp's public C API is used, through the package's
ctypes bindings (llama_cpp.llama_cpp), so nothing of vkgrm is involved.

  llamacpp_oracle.py logits MODEL.gguf --ids 1,2,3 --out X.npy
      per-position logits of the prompt ([n_ids, n_vocab] float32, every
      position an output, as Llama(logits_all=True)), one llama_decode of the
      whole prompt; K/V cache in F32 and flash attention off, so the cache
      adds no rounding of its own; ggml's plain CPU kernels (no AMX or
      repacked weights).
  llamacpp_oracle.py quantize SRC.gguf DST.gguf TYPE
      llama.cpp's own quantizer (llama_model_quantize, as llama-quantize):
      TYPE one of q8_0 q4_0 q4_1 q5_0 q5_1 q4_k_s q4_k_m q5_k_s q5_k_m q6_k.
  llamacpp_oracle.py tokenize MODEL.gguf TEXT
      llama.cpp's tokenizer (llama_tokenize, special tokens added and parsed):
      the ids as a JSON array.
  llamacpp_oracle.py generate MODEL.gguf --prompt-file F -n N [--last-logits X.npy]
      F's text tokenized by llama.cpp (as tokenize), then up to N greedy tokens
      (stopping at an end-of-generation token): JSON {prompt_ids, tokens, text}
      on stdout; --last-logits keeps the logits of every generated step.
  llamacpp_oracle.py version
      prints the llama-cpp-python version.
"""
import argparse
import ctypes
import json
import sys

import numpy as np

import llama_cpp
import llama_cpp.llama_cpp as L

FTYPES = {"q8_0": L.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": L.LLAMA_FTYPE_MOSTLY_Q4_0, "q4_1": L.LLAMA_FTYPE_MOSTLY_Q4_1,
          "q5_0": L.LLAMA_FTYPE_MOSTLY_Q5_0, "q5_1": L.LLAMA_FTYPE_MOSTLY_Q5_1,
          "q4_k_s": L.LLAMA_FTYPE_MOSTLY_Q4_K_S, "q4_k_m": L.LLAMA_FTYPE_MOSTLY_Q4_K_M,
          "q5_k_s": L.LLAMA_FTYPE_MOSTLY_Q5_K_S, "q5_k_m": L.LLAMA_FTYPE_MOSTLY_Q5_K_M,
          "q6_k": L.LLAMA_FTYPE_MOSTLY_Q6_K}
GGML_TYPE_F32 = 0

_quiet = None


def quiet():
    """llama.cpp logs every tensor at load; keep errors only."""
    global _quiet

    @L.llama_log_callback
    def cb(level, text, user):
        if level not in (3, 4):  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR
            return
        sys.stderr.write(text.decode("utf-8", "replace"))

    _quiet = cb  # keep the callback alive
    L.llama_log_set(cb, ctypes.c_void_p())


def decode(ctx, batch, toks, pos0, all_logits):
    """One llama_decode of toks at positions pos0.. (sequence 0); logits of
    every position, or of the last only."""
    batch.n_tokens = len(toks)
    for i, t in enumerate(toks):
        batch.token[i], batch.pos[i], batch.n_seq_id[i] = t, pos0 + i, 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 1 if (all_logits or i == len(toks) - 1) else 0
    rc = L.llama_decode(ctx, batch)
    if rc != 0:
        raise SystemExit(f"llama_decode returned {rc}")


def logits(args):
    ids = [int(x) for x in args.ids.split(",")]
    n = len(ids)
    model, ctx = load(args.model, max(256, n), max(n, 1), args.threads)
    nv = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    batch = L.llama_batch_init(max(n, 1), 0, 1)
    decode(ctx, batch, ids, 0, True)
    out = np.empty((n, nv), dtype=np.float32)
    for i in range(n):
        out[i] = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(nv,))
    np.save(args.out, out)
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)


def load(path, n_ctx, n_batch, threads):
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    # ggml's plain CPU kernels: no extra buffer types (the AMX and repacked-
    # weight paths). This machine's CPUID advertises AMX, but its first tile
    # instruction faults here (the sandbox does not enable the AMX state).
    mp.use_extra_bufts = False
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        raise SystemExit(f"llama.cpp could not load {path}")
    cp = L.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = cp.n_ubatch = n_batch
    cp.n_seq_max = 1
    cp.n_threads = cp.n_threads_batch = threads
    cp.type_k = cp.type_v = GGML_TYPE_F32
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        raise SystemExit(f"llama.cpp could not make a context for {path}")
    return model, ctx


def token_ids(vocab, text):
    data = text.encode()
    cap = len(data) + 16
    buf = (L.llama_token * cap)()
    n = L.llama_tokenize(vocab, data, len(data), buf, cap, True, True)
    if n < 0:
        raise SystemExit(f"llama_tokenize needs {-n} tokens")
    return list(buf[:n])


def generate(args):
    text = open(args.prompt_file, encoding="utf-8").read()
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.vocab_only = True
    vm = L.llama_model_load_from_file(args.model.encode(), mp)
    ids = token_ids(L.llama_model_get_vocab(vm), text)
    L.llama_model_free(vm)
    model, ctx = load(args.model, len(ids) + args.n + 8, len(ids), args.threads)
    vocab = L.llama_model_get_vocab(model)
    nv = L.llama_vocab_n_tokens(vocab)
    batch = L.llama_batch_init(len(ids), 0, 1)
    toks, rows, pos, feed = [], [], 0, ids
    while len(toks) < args.n:
        decode(ctx, batch, feed, pos, False)
        pos += len(feed)
        row = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(nv,)).copy()
        rows.append(row)
        t = int(np.argmax(row))
        toks.append(t)
        if L.llama_vocab_is_eog(vocab, t):
            break
        feed = [t]
    if args.last_logits:
        np.save(args.last_logits, np.stack(rows))
    out = b""
    buf = ctypes.create_string_buffer(256)
    for t in toks:
        n = L.llama_token_to_piece(vocab, t, buf, len(buf), 0, True)
        out += buf.raw[:max(n, 0)]
    print(json.dumps({"prompt_ids": ids, "tokens": toks, "text": out.decode("utf-8", "replace")}))


def tokenize(args):
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.vocab_only = True
    model = L.llama_model_load_from_file(args.model.encode(), mp)
    if not model:
        raise SystemExit(f"llama.cpp could not load {args.model}")
    print(json.dumps(token_ids(L.llama_model_get_vocab(model), args.text)))
    L.llama_model_free(model)


def quantize(args):
    L.llama_backend_init()
    p = L.llama_model_quantize_default_params()
    p.ftype = FTYPES[args.type]
    p.nthread = args.threads
    rc = L.llama_model_quantize(args.src.encode(), args.dst.encode(), ctypes.byref(p))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize {args.src} -> {args.type} returned {rc}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("logits")
    a.add_argument("model")
    a.add_argument("--ids", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--threads", type=int, default=2)
    q = sub.add_parser("quantize")
    q.add_argument("src")
    q.add_argument("dst")
    q.add_argument("type", choices=sorted(FTYPES))
    q.add_argument("--threads", type=int, default=2)
    t = sub.add_parser("tokenize")
    t.add_argument("model")
    t.add_argument("text")
    g = sub.add_parser("generate")
    g.add_argument("model")
    g.add_argument("--prompt-file", required=True)
    g.add_argument("-n", type=int, required=True)
    g.add_argument("--last-logits")
    g.add_argument("--threads", type=int, default=2)
    sub.add_parser("version")
    args = ap.parse_args()
    quiet()
    if args.cmd == "logits":
        logits(args)
    elif args.cmd == "generate":
        generate(args)
    elif args.cmd == "tokenize":
        tokenize(args)
    elif args.cmd == "quantize":
        quantize(args)
    else:
        print(llama_cpp.__version__)


if __name__ == "__main__":
    main()
