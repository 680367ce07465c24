#!/usr/bin/env python3
"""Self-check of the C dequantizers (tests/reference/ref_ggml_quants.c, through
ref_weight_row) against the gguf package's numpy dequantizers (gguf.quants, an
independent implementation of ggml's block formats), on the same random bytes.

Usage: ggml_quants_reference.py PATH/TO/ref_dequant

Blocks are random bytes (every quant value, 5th/6th bit and packed 6-bit
scale/min pattern occurs) with the f16 scale fields replaced by random finite
values of both signs (no NaN/inf, so results compare bit for bit). Results must
be bit-identical: both follow ggml's f32 operation order. vkgrm's Q8_0 and Q4
are checked against ggml's Q8_0 and Q4_0, the layouts they claim to share."""
import subprocess
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

# vkgrm dtype name -> (ggml type, block values, block bytes, byte offsets of f16 fields)
TYPES = {
    "Q8_0": (T.Q8_0, 32, 34, [0]),
    "Q4": (T.Q4_0, 32, 18, [0]),
    "Q4_1": (T.Q4_1, 32, 20, [0, 2]),
    "Q5_0": (T.Q5_0, 32, 22, [0]),
    "Q5_1": (T.Q5_1, 32, 24, [0, 2]),
    "Q4_K": (T.Q4_K, 256, 144, [0, 2]),
    "Q5_K": (T.Q5_K, 256, 176, [0, 2]),
    "Q6_K": (T.Q6_K, 256, 210, [208]),
}


def random_blocks(rng, n_blocks, bb, f16_offs):
    raw = rng.integers(0, 256, size=(n_blocks, bb), dtype=np.uint8)
    for off in f16_offs:
        # magnitudes over 2^-14 .. 2^4 (normal f16), subnormal now and then, both signs
        v = rng.choice([-1.0, 1.0], n_blocks) * np.exp2(rng.uniform(-14, 4, n_blocks))
        v[rng.random(n_blocks) < 0.05] *= 2.0**-8  # some subnormal scales
        raw[:, off : off + 2] = v.astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    return raw


def main():
    exe = sys.argv[1]
    rng = np.random.default_rng(20261203)
    failed = 0
    for name, (qt, bs, bb, f16_offs) in TYPES.items():
        assert quants.GGML_QUANT_SIZES[qt] == (bs, bb), (name, quants.GGML_QUANT_SIZES[qt])
        n_blocks = 512
        raw = random_blocks(rng, n_blocks, bb, f16_offs)
        want = quants.dequantize(raw.reshape(-1), qt).astype(np.float32).reshape(-1)
        out = subprocess.run([exe, name, str(n_blocks * bs)], input=raw.tobytes(), capture_output=True, check=True)
        got = np.frombuffer(out.stdout, dtype=np.float32)
        assert got.size == want.size, (name, got.size, want.size)
        assert np.all(np.isfinite(want)), name
        diff = np.nonzero(got.view(np.uint32) != want.view(np.uint32))[0]
        distinct = np.unique(want).size
        if diff.size or distinct < n_blocks * 8:
            i = diff[0] if diff.size else 0
            print(f"{name}: {diff.size} of {want.size} values differ (first at {i}: C {got[i]!r} gguf {want[i]!r}); "
                  f"{distinct} distinct values")
            failed += 1
        else:
            print(f"{name}: {want.size} values bit-identical to gguf.quants ({distinct} distinct)")
    # The check itself can fail: one flipped quant bit must show.
    raw = random_blocks(rng, 4, 210, [208])
    bad = raw.copy()
    bad[0, 5] ^= 1
    out = subprocess.run([exe, "Q6_K", "1024"], input=bad.tobytes(), capture_output=True, check=True)
    if np.array_equal(np.frombuffer(out.stdout, np.float32), quants.dequantize(raw.reshape(-1), T.Q6_K).reshape(-1)):
        print("a flipped bit went unnoticed")
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
