#!/usr/bin/env python3
"""e2e (issue 12 §3): vkgrm against llama.cpp itself on the same GGUF file.

llama.cpp's CPU backend (llama-cpp-python built from its PyPI sdist by
tests/fixtures/build_llama_cpp.sh; driven by tests/reference/llamacpp_oracle.py
in that venv) computes the per-position logits of a prompt on each file;
`vkgrm-generate -m FILE.gguf --prompt-ids ... --dump-logits` computes the same.
For each architecture NAME of tests/fixtures/make_gguf_models.py:
  - every file gguf-py wrote (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1;
    deepseek2's mla.gguf, the layout current llama.cpp reads) and, for the
    256-wide llama, qwen2 (a tied head) and qwen3moe (wide_f32.gguf), the files llama.cpp's own
    quantizer makes of it (q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k: Q4_K, Q5_K
    and Q6_K matrices, with llama.cpp's per-tensor type choices; q8_0, q4_0);
  - per file: max-abs difference over all positions and the whole vocabulary
    <= TOL[type] x max|logit| (llama.cpp's own number), and the same top-1 at
    >= 99 % of the positions;
  - vkgrm's 8 greedy tokens are llama.cpp's greedy choices under teacher forcing
    (llama.cpp's logits on prompt + vkgrm's tokens), except at a near-tie: a
    choice whose llama.cpp logit is within TOL[type] x max|logit| of the best.
The quantized files are compared on the same quantized weights (llama.cpp
quantizes the activations of a quantized mat-vec to 8 bits; vkgrm does so for
every block type's matrices and experts on CPU drivers (XQ8), with the same
rule, and keeps float activations on other drivers). A routed model's file is
held to 90 % of positions within the tolerance (float x tips its router here
and there), except a file of those types that vkgrm ran with XQ8, which gets
the plain max-abs check. Every file of llama.cpp's
quantizer also runs with VKGRM_DISABLE_TILED_BLOCKS=1 (its matrices, experts
too, in the file's row order, where CPU drivers store rows of 256k values in
8-row tiles of blocks): the logits must be the same bits; so must the wide F32
files' with --weights q4 and q8_0 (quantized on load, into tiles or not).
Gemma-2's files run a second time with VKGRM_GELU_F16=1 (ggml's table GELU),
held to GELU_TOL.
The numbers are printed for the README.

A real file: --gguf FILE --prompt TEXT --kind TYPE --tol T [--exact 1]
(SmolLM2-135M-Instruct's original Q4_1 file; Qwen2.5-Coder-1.5B-Instruct
Q4_K_M, slow): the prompt is tokenized by llama.cpp (and vkgrm-tokenize must
give the same ids), then the same checks with tolerance T (a deep model adds
up llama.cpp's 8-bit activation rounding: its own distance from the exact math
is printed with --exact 1, which dequantizes the file to F32 with gguf-py and
runs the numpy reference, asserting vkgrm within 1e-3 of that; for a K-quant
file that run has VKGRM_DISABLE_XQ8=1, float activations), and the same bits
with VKGRM_DISABLE_TILED_BLOCKS=1.

usage: test_llamacpp_oracle.py VKGRM_GENERATE ORACLE_PYTHON MODELS_DIR NAME [NAME ...]
       test_llamacpp_oracle.py VKGRM_GENERATE ORACLE_PYTHON --gguf FILE --prompt TEXT --kind TYPE --tol T [--exact 1]"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "reference", "llamacpp_oracle.py")
GREEDY = 8
PROMPT = 64
# tolerances (x max|logit|), from what this implementation measured against
# llama.cpp 0.3.36's CPU backend (README, "Fidelity against llama.cpp")
TOL = {"f32": 1e-3, "f16": 1e-2, "bf16": 2e-2, "q8_0": 3e-2, "q4_0": 3e-2, "q4_1": 3e-2, "q5_0": 3e-2,
       "q5_1": 3e-2, "q4_k_s": 3e-2, "q4_k_m": 3e-2, "q5_k_s": 3e-2, "q5_k_m": 3e-2, "q6_k": 3e-2}
# DeepSeek-V2 where vkgrm and llama.cpp run the same MLA form on the same numbers (mla_forms)
MLA_TOL = 1e-4
# Gemma-2 with VKGRM_GELU_F16=1 (ggml's table GELU, as llama.cpp): F32 (8.5e-6 measured, 1.6e-4 without),
# Q8_0 / Q4_0 / Q5_0 as the other architectures' XQ8 files (2-3e-7 measured, 1.4e-2 without); Q4_1 / Q5_1
# (one position tipped, 6.5e-3) and F16 / BF16 (llama.cpp rounds x to their type) keep TOL
GELU_TOL = dict(TOL, f32=1e-4, q8_0=1e-4, q4_0=1e-4, q5_0=1e-4)
KQUANTS = ("q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k")
# the 32-value types whose matrices and experts take x in 8 bits on CPU drivers (Q8_0 / Q8_1, as llama.cpp;
# Q8_0 weights since the forty-first session, their kernels reading Q8_0's values as floats)
XQ8_32 = ("q8_0", "q4_0", "q4_1", "q5_0", "q5_1")


def vkgrm(exe, model, ids, work, env=None, args=()):
    dump = os.path.join(work, "vkgrm.bin")
    cmd = [exe, "-m", model, "--prompt-ids", ",".join(map(str, ids)), "-n", str(GREEDY), "--json",
           "--dump-logits", dump, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if r.returncode != 0:
        raise SystemExit(f"FAIL {' '.join(cmd)}\n{r.stderr}")
    toks = json.loads(r.stdout.splitlines()[0])["tokens"]
    return np.fromfile(dump, dtype=np.float32), toks


def xq8_active(exe, model, ids, work, got):
    """Whether vkgrm ran got with XQ8 (its K-quant kernels on 8-bit x: CPU drivers): the same run
    with VKGRM_DISABLE_XQ8=1 differs from it."""
    fx = vkgrm(exe, model, ids, work, {"VKGRM_DISABLE_XQ8": "1"})[0].astype(np.float64).reshape(got.shape)
    return not np.array_equal(fx, got)


def oracle(py, *args):
    r = subprocess.run([py, ORACLE, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL llama.cpp oracle {' '.join(args)}\n{r.stdout}{r.stderr}")
    return r.stdout


def lc_logits(py, model, ids, work):
    out = os.path.join(work, "lc.npy")
    oracle(py, "logits", model, "--ids", ",".join(map(str, ids)), "--out", out)
    return np.load(out).astype(np.float64)


def exact_logits(src, ids):
    """The numpy reference (tests/reference/ref_forward.py), in this process: exact math on the
    same weights, from an HF directory (the dequantized twins make_gguf_models.py wrote) or a
    GGUF file dequantized to F32 in memory by gguf-py (tests/fixtures/gguf_to_hf.py; written
    out, even SmolLM2's F32 copy is 540 MB, which a nearly full CI disk refused)."""
    for sub in ("fixtures", "reference"):
        if os.path.join(HERE, "..", sub) not in sys.path:
            sys.path.insert(0, os.path.join(HERE, "..", sub))
    import ref_forward
    if os.path.isdir(src):
        return ref_forward.RefModel(src).logits(ids).astype(np.float64)
    import gguf
    import gguf_to_hf
    cfg, weights = gguf_to_hf.weights_only_model(gguf.GGUFReader(src), "f32")
    return ref_forward.RefModel(None, cfg, weights).logits(ids).astype(np.float64)


def same_tiled(name, tag, exe, model, ids, work, args=(), got=None):
    """The block-type matrices (experts too) in 8-row tiles of 256-value units (CPU drivers) or in the
    file's row order: the same arithmetic at other addresses, so the same bits."""
    got, toks = got or vkgrm(exe, model, ids, work, args=args)
    rm = vkgrm(exe, model, ids, work, {"VKGRM_DISABLE_TILED_BLOCKS": "1"}, args)
    assert np.array_equal(rm[0].view(np.uint32), got.view(np.uint32)) and rm[1] == toks, (
        f"{name}: {tag}: logits with VKGRM_DISABLE_TILED_BLOCKS=1 differ from the default's "
        f"(max-abs {np.abs(rm[0].astype(np.float64) - got).max():.3e})")
    print(f"{name}: {tag}: the same bits with the block-type matrices in the file's row order")


def compare(name, tag, kind, exe, py, model, ids, work, moe=False, exact=None, tol=None, tiles=False, env=None,
            lc_model=None):
    """vkgrm (with env) on model against llama.cpp on lc_model (model itself unless given)."""
    got, toks = vkgrm(exe, model, ids, work, env)
    if tiles:
        same_tiled(name, tag, exe, model, ids, work, got=(got, toks))
    # llama.cpp on the prompt and vkgrm's greedy tokens (but the last): rows
    # 0..n-1 are the prompt's logits, rows n-1.. the greedy steps' (teacher forcing)
    lc = lc_logits(py, lc_model or model, ids + toks[:-1], work)
    n = len(ids)
    ref = lc[:n]
    got = got.astype(np.float64).reshape(ref.shape)
    m = np.abs(ref).max()
    per = np.abs(got - ref).max(1) / m  # per position, x max|logit|
    err = per.max()
    tol = tol or TOL[kind]
    # top-1: vkgrm's choice is llama.cpp's, or within tol of llama.cpp's best by
    # llama.cpp's own logits (a near-tie that llama.cpp's rounding decides)
    mine = got.argmax(1)
    top = (mine == ref.argmax(1)).mean()
    near = ((ref.max(1) - ref[np.arange(n), mine]) / m <= tol).mean()
    steps = lc[n - 1:]
    best = steps.argmax(1)
    gap = (steps.max(1) - steps[np.arange(len(toks)), toks]) / m
    ties = [(j, toks[j], int(best[j]), f"{gap[j]:.1e}") for j in range(len(toks)) if toks[j] != best[j]]
    within = (per <= tol).mean()
    print(f"{name}: {tag}: max-abs {err:.2e} x max|logit| ({m:.2f}; median {np.median(per):.1e}, within "
          f"{tol:.0e} at {within:.0%}), top-1 agree {top:.0%} of {n} ({near:.0%} counting near-ties), "
          f"greedy {'same as llama.cpp' if not ties else f'differs at (step, vkgrm, llama.cpp, gap) {ties}'}")
    # positions where llama.cpp itself is off the exact math (its 8-bit
    # activations tipping a MoE router to another expert; the massive first-token
    # activations of Qwen2.5): there vkgrm must be on the exact math instead
    off = np.zeros(n, bool)
    if exact is not None:
        # the same weights dequantized (gguf-py), exact math: how far each side is from it
        lx = np.abs(ref - exact).max(1) / m
        # on CPU drivers vkgrm multiplies K-quant, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 matrices and experts by
        # 8-bit activations as llama.cpp does (XQ8, README "x in 8 bits"): the exact-math check runs it
        # with float activations
        fx = got
        if kind in KQUANTS + XQ8_32:
            fx = vkgrm(exe, model, ids, work, {"VKGRM_DISABLE_XQ8": "1"})[0].astype(np.float64).reshape(ref.shape)
            gx = np.abs(got - exact).max(1) / m
            print(f"    with 8-bit activations (XQ8, the default on CPU drivers) vkgrm is {gx.max():.1e} from the "
                  f"numpy reference (median {np.median(gx):.1e}); the check below runs it with float activations")
        vx = np.abs(fx - exact).max(1) / m
        off = lx >= tol / 2
        print(f"    vs the numpy reference on the dequantized weights: vkgrm {vx.max():.1e}, llama.cpp {lx.max():.1e} "
              f"(median {np.median(lx):.1e}); llama.cpp >= {tol / 2:.0e} from it at positions {[int(t) for t in np.nonzero(off)[0]]}")
        assert vx.max() <= 1e-3, f"{name}: {tag}: vkgrm {vx.max():.2e} x max|logit| from the numpy reference"
        bad = [(t, f"{per[t]:.1e}") for t in range(n) if per[t] > tol and not off[t]]
        assert not bad, f"{name}: {tag}: beyond {tol} x max|logit| of llama.cpp where llama.cpp is on the exact math: {bad}"
        near = ((ref.max(1) - ref[np.arange(n), mine]) / m <= tol)[~off].mean()
    elif moe and kind not in ("f32", "f16", "bf16") and not (kind in KQUANTS + XQ8_32 and
                                                             xq8_active(exe, model, ids, work, got)):
        # a routed model on quantized weights, no reference at hand: 90 % of positions (vkgrm's float
        # x against llama.cpp's 8-bit activations tips the router here and there). With XQ8 on a
        # K-quant, Q8_0 ... Q5_1 file every matrix and expert rounds x as llama.cpp does: the plain
        # check below
        assert within >= 0.9, f"{name}: {tag}: within {tol} x max|logit| of llama.cpp at {within:.1%} of positions"
    else:
        assert err <= tol, f"{name}: {tag}: logits {err:.3e} x max|logit| from llama.cpp's (tolerance {tol})"
    assert near >= 0.99, f"{name}: {tag}: top-1 agrees with llama.cpp at {near:.1%} of positions"
    assert all(gap[j] <= tol for j, *_ in ties), f"{name}: {tag}: a greedy choice is not llama.cpp's: {ties}"


def real_file(exe, py, path, prompt, kind, tol, exact):
    if not os.path.exists(path):
        raise SystemExit(f"FAIL: {path} is missing (tests/fixtures/fetch_models.sh or fetch_qwen_judge.sh)")
    ids = json.loads(oracle(py, "tokenize", path, prompt))
    tok = os.path.join(os.path.dirname(exe), "..", "vkgrm-tokenize", "vkgrm-tokenize")
    r = subprocess.run([tok, "-m", path, "--json", prompt], capture_output=True, text=True, check=True)
    mine = json.loads(r.stdout)
    print(f"{os.path.basename(path)}: prompt of {len(ids)} tokens (llama.cpp's tokenizer), vkgrm-tokenize "
          f"{'the same' if mine == ids else mine}")
    assert mine == ids, "vkgrm-tokenize and llama.cpp tokenize the prompt differently"
    with tempfile.TemporaryDirectory() as work:
        # the file dequantized to F32 by gguf-py, then the numpy forward
        ref = exact_logits(path, ids) if exact else None
        compare(os.path.basename(path), kind, kind, exe, py, path, ids, work, exact=ref, tol=tol, tiles=True)
    print("llama.cpp oracle OK:", path)


def mla_forms(name, exe, py, d, ids, work):
    """DeepSeek-V2's MLA: on CPU drivers vkgrm caches the latent and multiplies by kv_b_proj in its
    absorbed form (q . W_UK^T, then W_UV), where llama.cpp runs a legacy attn_kv_b file un-absorbed
    (kv_b_proj times the latent, quantized to 8 bits for a block-type kv_b): the ~1e-2 of the
    quantized files above. Here:
      - the Q8_0, Q4_0 and Q5_0 legacy files with VKGRM_MLA_LATENT=0 (vkgrm un-absorbed too, XQ8 on) are
        held to MLA_TOL (Q4_1 / Q5_1: up to 1.2e-2 at some positions, medians 1.2e-7, as their Qwen3-MoE
        files; not explained);
      - mla_q4_0.gguf (the current layout, attn_v_b in Q4_0), whose pair vkgrm's loader dequantizes
        into an F32 kv_b_proj, gives the same bits as mla_q4_0_ref.gguf (the legacy twin whose F32
        attn_kv_b make_gguf_models.py computed from the same pair with gguf-py), in both forms;
      - llama.cpp on mla_q4_0.gguf (absorbed, 8-bit x for attn_v_b, where vkgrm's F32 kv_b_proj takes
        float x) is held to twice the block types' TOL (measured 4.7e-2)."""
    off = {"VKGRM_MLA_LATENT": "0"}
    for q in ("q8_0", "q4_0", "q5_0"):
        compare(name, f"{q}.gguf un-absorbed (VKGRM_MLA_LATENT=0)", q, exe, py, os.path.join(d, f"{q}.gguf"), ids,
                work, tol=MLA_TOL, env=off)
    mla, ref = os.path.join(d, "mla_q4_0.gguf"), os.path.join(d, "mla_q4_0_ref.gguf")
    for env in (None, off):
        a, b = vkgrm(exe, mla, ids, work, env), vkgrm(exe, ref, ids, work, env)
        assert np.array_equal(a[0].view(np.uint32), b[0].view(np.uint32)) and a[1] == b[1], (
            f"{name}: mla_q4_0.gguf and its legacy twin give different logits "
            f"(max-abs {np.abs(a[0].astype(np.float64) - b[0]).max():.3e}, env {env})")
    print(f"{name}: mla_q4_0.gguf: the same bits as its legacy twin with an F32 attn_kv_b (latent and un-absorbed)")
    compare(name, "mla_q4_0.gguf (llama.cpp absorbed, 8-bit x for attn_v_b)", "q4_0", exe, py, mla, ids, work,
            tol=TOL["q4_0"] * 2)


def main():
    exe, py = sys.argv[1], sys.argv[2]
    if not os.access(py, os.X_OK):
        raise SystemExit(f"FAIL: no llama.cpp oracle at {py}: run tests/fixtures/build_llama_cpp.sh (.ci/do test does)")
    if sys.argv[3] == "--gguf":
        opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        return real_file(exe, py, opts["--gguf"], opts["--prompt"], opts["--kind"], float(opts["--tol"]),
                         opts.get("--exact") == "1")
    root, names = sys.argv[3], sys.argv[4:]
    rng = np.random.default_rng(7)
    for name in names:
        d = os.path.join(root, name)
        moe = name in ("qwen3moe", "deepseek2")
        ids = [int(x) for x in rng.integers(3, 320, size=PROMPT)]
        with tempfile.TemporaryDirectory() as work:
            files = [("f32", "f32"), ("f16", "f16"), ("bf16", "bf16")]
            files += [(q, q) for q in ("q8_0", "q4_0", "q4_1", "q5_0", "q5_1")]
            if name == "deepseek2":  # the current converter's split attn_k_b/attn_v_b layout too
                files.append(("mla", "f32"))
            # DeepSeek-V2 in vkgrm's absorbed MLA form (the default where attn_lane runs; the _heads test
            # sets VKGRM_MLA_LATENT=0) against llama.cpp's un-absorbed graph of these legacy files, which
            # quantizes the latent to 8 bits for a block-type attn_kv_b: a different formula, measured
            # up to 3.3e-2 at one position of the Q8_0 file (median 1.2e-2), held to twice TOL as
            # mla_forms holds llama.cpp's absorbed run; the same files un-absorbed are held to MLA_TOL
            absorbed = name == "deepseek2" and os.environ.get("VKGRM_MLA_LATENT") != "0"
            for f, kind in files:
                hf = os.path.join(d, f"hf_{kind}")
                exact = exact_logits(hf, ids) if moe and kind.startswith("q") else None
                compare(name, f + ".gguf", kind, exe, py, os.path.join(d, f + ".gguf"), ids, work, moe, exact,
                        tol=TOL[kind] * 2 if absorbed and kind.startswith("q") else None)
            if name == "deepseek2":
                mla_forms(name, exe, py, d, ids, work)
            if name == "gemma2":  # ggml's table GELU on request: llama.cpp's numbers
                for f, kind in files:
                    compare(name, f"{f}.gguf with VKGRM_GELU_F16=1", kind, exe, py, os.path.join(d, f + ".gguf"), ids,
                            work, tol=GELU_TOL[kind], env={"VKGRM_GELU_F16": "1"})
            wide = os.path.join(d, "wide_f32.gguf")
            if os.path.exists(wide):
                compare(name, "wide_f32.gguf", "f32", exe, py, wide, ids, work, moe)
                for q in ("q4", "q8_0"):  # quantized on load: in tiles (CPU drivers) or in row order
                    same_tiled(name, f"wide_f32.gguf --weights {q}", exe, wide, ids, work, ["--weights", q])
                for q in KQUANTS + ("q8_0", "q4_0"):
                    out = os.path.join(work, f"wide_{q}.gguf")
                    oracle(py, "quantize", wide, out, q)
                    compare(name, f"wide_{q}.gguf (llama.cpp's quantizer)", q, exe, py, out, ids, work, moe,
                            tiles=True)
    print("llama.cpp oracle OK:", " ".join(names))


if __name__ == "__main__":
    main()
