#!/usr/bin/env python3
"""Writes the safetensors test corpus: tests/data/malformed/.

    .venv/bin/python tests/reference/make_malformed.py [OUT_DIR]

Valid items (OUT/valid/) are written by the real `safetensors` library and
described in OUT/valid/manifest.json (names, dtypes, shapes, bytes as hex,
computed here with numpy), so the C loader is compared with the reference
writer, not with itself. valid/convert.safetensors holds conversion vectors
for the f16/bf16 helpers: float16 rounding by numpy (astype, round to nearest
even) and bfloat16 rounding by gguf-py (ggml's reference implementation).

Malformed items (OUT/*) are hand-built, one defect each. Every single-file item
that the reference reader should reject is checked here against
safetensors.deserialize, so the corpus cannot drift from the reference; the
few that the reference accepts but vkgrm rejects (our own caps, dtypes the
weight upload cannot read) say so in EXPECT_PYTHON_ACCEPTS.

The output is committed; rerun this script after changing it.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
from safetensors import TensorSpec, deserialize, serialize

from gguf import GGMLQuantizationType
from gguf.quants import quantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "malformed")

# vkgrm rejects these although the reference reader accepts them.
EXPECT_PYTHON_ACCEPTS = {"rank_too_large.safetensors", "unsupported_dtype.safetensors"}

NP_NAMES = {"F32": "float32", "F16": "float16", "I8": "int8", "I32": "int32", "U8": "uint8",
            "F64": "float64"}


def st_bytes(tensors, metadata=None):
    """Serialize {name: (dtype_for_library, shape, raw_bytes)} with the real library."""
    keep, specs = [], {}
    for name, (dt, shape, raw) in tensors.items():
        buf = np.frombuffer(raw, dtype=np.uint8).copy() if raw else np.zeros(1, np.uint8)
        keep.append(buf)
        specs[name] = TensorSpec(dtype=dt, shape=list(shape), data_ptr=buf.ctypes.data,
                                 data_len=len(raw))
    return bytes(serialize(specs, metadata=metadata))


def arr(name_dtype, a):
    """(library dtype, shape, bytes) of a numpy array, little-endian C order."""
    a = np.array(a, order="C")  # ascontiguousarray would turn a 0-d scalar into shape [1]
    return (name_dtype, a.shape, a.astype(a.dtype.newbyteorder("<")).tobytes())


def bf16_bits(f32):
    """Round-to-nearest-even bfloat16 bit patterns, by gguf-py (ggml's reference)."""
    return quantize(np.asarray(f32, np.float32), GGMLQuantizationType.BF16).view(np.uint16)


def raw_file(header, buffer=b"", length=None, pad=True):
    """A safetensors file with a hand-written header (str or bytes)."""
    h = header.encode() if isinstance(header, str) else header
    if pad:
        h += b" " * (-len(h) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + buffer


def tensor_header(entries, metadata=None):
    d = {}
    if metadata is not None:
        d["__metadata__"] = metadata
    d.update(entries)
    return json.dumps(d, separators=(",", ":"))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_json(path, obj):
    write(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


# ---------------------------------------------------------------- valid items

def valid_tensors(rng):
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    return {
        "model.embed_tokens.weight": arr("float32", f32),
        "model.norm.weight": arr("float16", rng.standard_normal(5).astype(np.float16)),
        "lm_head.weight": ("bfloat16", (2, 3), bf16_bits(rng.standard_normal(6)).tobytes()),
        "scalar": arr("float32", np.array(3.5, np.float32)),
        "empty": arr("float32", np.zeros((0, 3), np.float32)),
    }


def describe(path, tensors_by_file):
    """Manifest entry: what the library wrote, read back by the library itself."""
    out = []
    for fname in tensors_by_file:
        with open(os.path.join(path, fname) if os.path.isdir(path) else path, "rb") as f:
            for name, t in deserialize(f.read()):
                out.append({"name": name, "dtype": t["dtype"], "shape": list(t["shape"]),
                            "file": fname, "hex": bytes(t["data"]).hex()})
    return sorted(out, key=lambda t: t["name"])


def conversion_vectors(rng):
    special = np.array([0.0, -0.0, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 65536.0, 1e9, np.inf,
                        -np.inf, np.nan, 2.0**-14, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0000001,
                        1.5 * 2.0**-24, 2.5 * 2.0**-24, 1 + 2.0**-11, 1 + 3 * 2.0**-11,
                        1 + 2.0**-8, 1 + 3 * 2.0**-8, 3.0e38, -3.4e38, 1e-40, 6.0e-8],
                       np.float32)
    logu = (2.0 ** rng.uniform(-30, 20, 6000)) * rng.choice([-1.0, 1.0], 6000)
    bits = rng.integers(0, 2**32, 4000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    src = np.concatenate([special, logu.astype(np.float32), bits])
    with np.errstate(over="ignore", invalid="ignore"):
        f16 = src.astype(np.float16)
    all_half = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return {
        "f32_src": arr("float32", src),
        "f16_of_f32": arr("float16", f16),
        "bf16_of_f32": ("bfloat16", src.shape, bf16_bits(src).tobytes()),
        "f32_of_f16_all": arr("float32", all_half.astype(np.float32)),
    }


def make_valid(rng):
    vdir = os.path.join(OUT, "valid")
    manifest = {}
    tensors = valid_tensors(rng)
    meta = {"format": "pt"}  # one key: the library orders metadata randomly
    write(os.path.join(vdir, "single.safetensors"), st_bytes(tensors, meta))
    manifest["single.safetensors"] = {"metadata": meta,
                                      "tensors": describe(os.path.join(vdir, "single.safetensors"),
                                                          ["single.safetensors"])}
    # A model directory with one file and a config.json.
    d = os.path.join(vdir, "single_dir")
    write(os.path.join(d, "model.safetensors"), st_bytes(tensors, {"format": "pt"}))
    write_json(os.path.join(d, "config.json"), {"architectures": ["Qwen3ForCausalLM"],
                                                "model_type": "qwen3"})
    manifest["single_dir"] = {"metadata": {"format": "pt"},
                              "tensors": describe(d, ["model.safetensors"])}
    manifest["sharded"] = make_sharded(os.path.join(vdir, "sharded"), rng)
    # The reference reader accepts JSON whitespace before the '{' (writers may pad).
    wmeta = {"format": "pt", "note": "hand-written"}
    h = tensor_header({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, wmeta)
    ws = raw_file("  \n" + h, np.array([1.0, -2.0], np.float32).tobytes())
    deserialize(ws)
    write(os.path.join(vdir, "leading_whitespace.safetensors"), ws)
    manifest["leading_whitespace.safetensors"] = {
        "metadata": wmeta, "tensors": describe(os.path.join(vdir, "leading_whitespace.safetensors"),
                                            ["leading_whitespace.safetensors"])}
    write(os.path.join(vdir, "convert.safetensors"), st_bytes(conversion_vectors(rng)))
    write_json(os.path.join(vdir, "manifest.json"), manifest)


def shard_index(d, shards):
    """Writes shards {file: tensors} and the HF index over them."""
    weight_map, total = {}, 0
    for fname, tensors in shards.items():
        write(os.path.join(d, fname), st_bytes(tensors, {"format": "pt"}))
        for name, (_, _, raw) in tensors.items():
            weight_map[name] = fname
            total += len(raw)
    write_json(os.path.join(d, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
    return weight_map


def make_sharded(d, rng):
    w = lambda *s: arr("float32", rng.standard_normal(s).astype(np.float32))
    shards = {
        "model-00001-of-00002.safetensors": {"model.embed_tokens.weight": w(4, 3),
                                             "model.layers.0.mlp.up_proj.weight": w(2, 3)},
        "model-00002-of-00002.safetensors": {
            "model.layers.0.mlp.down_proj.weight": ("bfloat16", (3, 2),
                                                    bf16_bits(rng.standard_normal(6)).tobytes()),
            "lm_head.weight": arr("float16", rng.standard_normal((4, 3)).astype(np.float16))},
    }
    shard_index(d, shards)
    write_json(os.path.join(d, "config.json"), {"architectures": ["LlamaForCausalLM"],
                                                "model_type": "llama"})
    return {"metadata": {"format": "pt"}, "tensors": describe(d, list(shards))}


# ------------------------------------------------------------ malformed items

def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def malformed_files():
    """name -> file bytes; each has exactly one defect."""
    f = {}
    b8 = bytes(8)
    ok = tensor_header({"a": t("F32", [2], 0, 8)})
    f["too_short.safetensors"] = b"\x10\x00\x00\x00\x00"
    f["header_too_large.safetensors"] = raw_file(ok, b8, length=100_000_001)
    f["header_past_eof.safetensors"] = raw_file(ok, b8, length=1000, pad=False)
    f["header_not_utf8.safetensors"] = raw_file(
        b'{"a\xff":' + json.dumps(t("F32", [2], 0, 8)).encode() + b"}", b8)
    f["header_not_json.safetensors"] = raw_file('{"a": {"dtype": "F32", "shape": [2]', b8)
    f["header_not_object.safetensors"] = raw_file("[1, 2]")
    f["header_trailing_bytes.safetensors"] = raw_file(ok + " x", b8)
    f["header_control_char.safetensors"] = raw_file(
        tensor_header({"a\x01": t("F32", [2], 0, 8)}).replace("\\u0001", "\x01"), b8)
    f["offsets_float_syntax.safetensors"] = raw_file(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}', b8)
    f["duplicate_name.safetensors"] = raw_file(
        '{"a":%s,"a":%s}' % (json.dumps(t("F32", [1], 0, 4)), json.dumps(t("F32", [1], 4, 8))), b8)
    f["duplicate_field.safetensors"] = raw_file(
        '{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', b8)
    f["unknown_dtype.safetensors"] = raw_file(tensor_header({"a": t("F7", [2], 0, 8)}), b8)
    f["dtype_not_string.safetensors"] = raw_file(tensor_header({"a": t(7, [2], 0, 8)}), b8)
    f["entry_not_object.safetensors"] = raw_file(tensor_header({"a": [0, 8]}), b8)
    f["missing_data_offsets.safetensors"] = raw_file(
        tensor_header({"a": {"dtype": "F32", "shape": [2]}}), b8)
    f["shape_not_list.safetensors"] = raw_file(tensor_header({"a": t("F32", "2", 0, 8)}), b8)
    f["shape_negative.safetensors"] = raw_file(tensor_header({"a": t("F32", [2, -1], 0, 8)}), b8)
    f["shape_fraction.safetensors"] = raw_file(tensor_header({"a": t("F32", [1.5], 0, 8)}), b8)
    f["shape_overflow.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [2**32, 2**32, 2], 0, 8)}), b8)
    f["bytes_overflow.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [2**31, 2**31], 0, 8)}), b8)
    f["rank_too_large.safetensors"] = raw_file(tensor_header({"a": t("F32", [1] * 9, 0, 4)}), b8[:4])
    f["f4_odd_count.safetensors"] = raw_file(tensor_header({"a": t("F4", [3], 0, 2)}), b8[:2])
    f["size_mismatch.safetensors"] = raw_file(tensor_header({"a": t("F32", [2, 3], 0, 20)}), bytes(20))
    f["offsets_not_pair.safetensors"] = raw_file(
        tensor_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}}), b8)
    f["offsets_reversed.safetensors"] = raw_file(tensor_header({"a": t("F32", [1], 8, 4)}), b8)
    f["offsets_hole.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}), bytes(12))
    f["offsets_start_hole.safetensors"] = raw_file(tensor_header({"a": t("F32", [1], 4, 8)}), b8)
    f["offsets_overlap.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [2], 0, 8), "b": t("F32", [2], 4, 12)}), bytes(12))
    f["offsets_past_end.safetensors"] = raw_file(tensor_header(
        {"model.layers.7.self_attn.q_proj.weight": t("F32", [1024], 0, 4096)}), bytes(2048))
    f["trailing_buffer_bytes.safetensors"] = raw_file(tensor_header({"a": t("F32", [1], 0, 4)}), b8)
    f["metadata_not_object.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [2], 0, 8)}, metadata="pt"), b8)
    f["metadata_not_strings.safetensors"] = raw_file(
        tensor_header({"a": t("F32", [2], 0, 8)}, metadata={"format": "pt", "step": 7}), b8)
    f["unsupported_dtype.safetensors"] = st_bytes({"model.layers.0.mlp.up_proj.weight": (
        "float8_e4m3fn", (2, 2), bytes([0x38, 0x40, 0xb8, 0x00]))})
    return f


def check_against_reference(name, data):
    try:
        deserialize(data)
        accepted, err = True, None
    except Exception as e:  # the library raises SafetensorError (and others)
        accepted, err = False, e
    want = name in EXPECT_PYTHON_ACCEPTS
    if accepted != want:
        raise SystemExit(f"{name}: the reference reader {'accepts' if accepted else 'rejects'} it"
                         f" ({err}), the corpus expects the opposite")


def sharded_base(d, rng_seed=1):
    """Two well-formed shards; the index is written by the caller."""
    rng = np.random.default_rng(rng_seed)
    w = lambda *s: arr("float32", rng.standard_normal(s).astype(np.float32))
    s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    return s1, s2, {s1: {"a": w(2)}, s2: {"b": w(3)}}


def write_index(d, weight_map, raw=None):
    p = os.path.join(d, "model.safetensors.index.json")
    if raw is not None:
        write(p, raw.encode())
    else:
        write_json(p, {"metadata": {"total_size": 20}, "weight_map": weight_map})


def write_shards(d, shards):
    for fname, tensors in shards.items():
        write(os.path.join(d, fname), st_bytes(tensors, {"format": "pt"}))


def malformed_dirs():
    """name -> function(dir) writing a model directory with one defect."""
    def index_not_json(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, None, raw='{"weight_map": {"a": "%s",' % s1)

    def index_no_weight_map(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, None, raw='{"metadata": {"total_size": 20}}')

    def index_entry_not_string(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, {"a": s1, "b": 2})

    def index_missing_shard(d):
        s1, s2, sh = sharded_base(d); write_shards(d, {s1: sh[s1]})
        write_index(d, {"a": s1, "b": s2})

    def index_tensor_absent(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, {"a": s1, "b": s2, "c": s2})

    def index_tensor_unlisted(d):
        s1, s2, sh = sharded_base(d); sh[s2]["c"] = sh[s1]["a"]; write_shards(d, sh)
        write_index(d, {"a": s1, "b": s2})

    def index_wrong_shard(d):  # 'b' lies in shard 2, the index says shard 1
        s1, s2, sh = sharded_base(d); sh[s2]["c"] = sh[s1]["a"]; write_shards(d, sh)
        write_index(d, {"a": s1, "b": s1, "c": s2})

    def index_two_shards(d):
        s1, s2, sh = sharded_base(d); sh[s2]["a"] = sh[s1]["a"]; write_shards(d, sh)
        write_index(d, {"a": s1, "b": s2})

    def index_path_escape(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, {"a": s1, "b": "../" + s2})

    def index_bad_shard(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write(os.path.join(d, s2), b"\x08\x00\x00")  # truncated below the length field
        write_index(d, {"a": s1, "b": s2})

    def index_duplicate_entry(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, None, raw='{"weight_map": {"a": "%s", "b": "%s", "a": "%s"}}' % (s1, s2, s1))

    def index_total_size_bad(d):
        s1, s2, sh = sharded_base(d); write_shards(d, sh)
        write_index(d, None, raw='{"metadata": {"total_size": "20"}, "weight_map": '
                                 '{"a": "%s", "b": "%s"}}' % (s1, s2))

    def no_weights(d):
        write_json(os.path.join(d, "config.json"), {"architectures": ["LlamaForCausalLM"],
                                                    "model_type": "llama"})

    return {fn.__name__: fn for fn in [index_not_json, index_no_weight_map, index_entry_not_string,
                                       index_missing_shard, index_tensor_absent,
                                       index_tensor_unlisted, index_wrong_shard, index_two_shards,
                                       index_path_escape, index_bad_shard, index_duplicate_entry,
                                       index_total_size_bad, no_weights]}


def main():
    os.makedirs(OUT, exist_ok=True)
    for e in os.listdir(OUT):  # start clean, but keep the hand-written README.md
        p = os.path.join(OUT, e)
        if e != "README.md":
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    rng = np.random.default_rng(20261128)
    make_valid(rng)
    for name, data in malformed_files().items():
        check_against_reference(name, data)
        write(os.path.join(OUT, name), data)
    for name, fn in malformed_dirs().items():
        d = os.path.join(OUT, name)
        os.makedirs(d)
        fn(d)
    n = len([e for e in os.listdir(OUT) if e not in ("valid", "README.md")])
    print(f"{OUT}: {n} malformed items, valid items in valid/")


if __name__ == "__main__":
    main()
