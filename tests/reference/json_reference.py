#!/usr/bin/env python3
"""What Python's json module makes of a small corpus, for loaders/json.c.

The corpus is defined below (name -> bytes) and written to tests/data/json/
as one file per case; each file is read the way transformers reads a config
(open(..., encoding="utf-8").read() then json.loads) and the outcome written
to tests/data/json/expected.json:
    {"name": {"python_ok": true, "value": <the value>} | {"python_ok": false, "error": "..."}}
(for the differ_* cases, which vkgrm refuses on purpose, "python_repr" instead of "value").
Numbers are written as Python dumps them; a non-finite float as
{"__nonfinite__": "inf" | "-inf"} (strict JSON has no spelling for it).

    json_reference.py            rewrite the corpus and expected.json
    json_reference.py --check    exit 1 if either is stale
"""
import json
import math
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "json")

DEEP = 200
CORPUS = {
    # ---- valid, plain
    "object": b'{"a": 1, "b": [true, false, null], "c": {"d": "e"}}',
    "empty_containers": b'{"o": {}, "a": [], "s": ""}',
    "top_scalar_number": b"42",
    "top_scalar_string": b'"hi"',
    "top_scalar_true": b"true",
    "top_scalar_null": b" null ",
    "whitespace_around": b' \t\r\n{"a" : 1 }\n\n',
    "escapes": b'{"s": "q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t"}',
    "unicode_escapes": b'{"s": "\\u00e9\\u4e2d\\ud83d\\ude00 \\u0041"}',
    "raw_utf8": '{"s": "é中😀", "ключ": 1}'.encode(),
    "numbers": b'[0, -0, -0.0, 1.5, 1.5e10, 1E-5, 1e+2, 2.5E-3, 123456789012345678901234567890, 5e-324]',
    "number_long": b"[0.0000000000000000000000000000000000000000000000000000000000000000000012345]",
    "number_overflow": b"[1e400, -1e400]",
    "deep_nesting": b"[" * DEEP + b"1" + b"]" * DEEP,
    "vocab_like": b'{"model": {"vocab": {"a": 0, "b": 1, "ab": 2, "\\u0120the": 3}, "merges": ["a b"]}}',
    # ---- repeated keys: the last value wins, at the first one's position
    "dup_simple": b'{"a": 1, "a": 2}',
    "dup_middle": b'{"a": 1, "b": 2, "a": 3, "c": 4}',
    "dup_three": b'{"x": 1, "y": 0, "x": 2, "z": 9, "x": 3}',
    "dup_types": b'{"k": {"n": 1}, "k": [1, 2], "k": "last"}',
    "dup_first_last": b'{"a": 1, "b": 2, "c": 3, "a": 4}',
    "dup_nested": b'{"o": {"p": 1, "p": 2}, "l": [{"q": 1, "q": {"r": 1, "r": 2}}]}',
    "dup_config": b'{"model_type": "llama", "hidden_size": 64, "rms_norm_eps": 1e-5, "hidden_size": 128}',
    "dup_many": b"{" + b", ".join(b'"k%d": %d' % (i % 40, i) for i in range(200)) + b"}",
    # ---- invalid (Python refuses them too)
    "bad_empty": b"",
    "bad_only_space": b" \n ",
    "bad_trailing_data": b'{"a": 1} x',
    "bad_two_values": b"{}{}",
    "bad_two_numbers": b"1 2",
    "bad_trailing_comma_obj": b'{"a": 1,}',
    "bad_trailing_comma_arr": b"[1, 2,]",
    "bad_single_quotes": b"{'a': 1}",
    "bad_comment": b'{"a": 1 /* c */}',
    "bad_line_comment": b'// c\n{"a": 1}',
    "bad_leading_zero": b"[01]",
    "bad_plus": b"[+1]",
    "bad_dot_first": b"[.5]",
    "bad_dot_last": b"[1.]",
    "bad_exp_empty": b"[1e]",
    "bad_minus_alone": b"[-]",
    "bad_hex": b"[0x10]",
    "bad_unquoted_key": b"{a: 1}",
    "bad_missing_colon": b'{"a" 1}',
    "bad_missing_comma": b'{"a": 1 "b": 2}',
    "bad_unterminated_string": b'{"a": "abc',
    "bad_unterminated_object": b'{"a": 1',
    "bad_unterminated_array": b"[1, 2",
    "bad_raw_tab": b'{"a": "x\ty"}',
    "bad_raw_newline": b'{"a": "x\ny"}',
    "bad_escape": b'{"a": "\\x41"}',
    "bad_short_unicode": b'{"a": "\\u12"}',
    "bad_utf8_ff": b'{"a": "\xff"}',
    "bad_utf8_overlong": b'{"a": "\xc0\x80"}',
    "bad_utf8_surrogate": b'{"a": "\xed\xa0\x80"}',
    "bad_utf8_truncated": b'{"a": "\xe2\x82"}',
    "bad_utf8_above_max": b'{"a": "\xf4\x90\x80\x80"}',
    "bad_bom": b'\xef\xbb\xbf{"a": 1}',
    "bad_formfeed_space": b'\x0c{"a": 1}',
    "bad_nul_outside": b'{"a": 1}\x00',
    "bad_capital_true": b"[True]",
    "bad_short_null": b"[nul]",
    "bad_too_deep": b"[" * 1200 + b"]" * 1200,
    # ---- Python accepts these; vkgrm refuses them on purpose (json.h)
    "differ_nan": b'{"rms_norm_eps": NaN}',
    "differ_infinity": b"[Infinity]",
    "differ_neg_infinity": b"[-Infinity]",
    "differ_u0000": b'{"s": "a\\u0000b"}',
    "differ_lone_high_surrogate": b'{"s": "\\ud800x"}',
    "differ_lone_low_surrogate": b'{"s": "\\udc00"}',
}


def encode(v):
    if isinstance(v, float) and not math.isfinite(v):
        if math.isnan(v):
            return {"__nonfinite__": "nan"}
        return {"__nonfinite__": "inf" if v > 0 else "-inf"}
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [encode(x) for x in v]
    return v


def outcome(name, data):
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return {"python_ok": False, "error": type(e).__name__ + ": " + str(e)[:120]}
    value = encode(value)
    if name.startswith("differ_"):  # may hold what strict JSON cannot spell (lone surrogates)
        return {"python_ok": True, "python_repr": ascii(value)}
    return {"python_ok": True, "value": value}


def main():
    check = "--check" in sys.argv
    expected = {name + ".json": outcome(name, data) for name, data in sorted(CORPUS.items())}
    text = "{\n" + ",\n".join(json.dumps(k) + ": " + json.dumps(v, ensure_ascii=True, allow_nan=False)
                             for k, v in expected.items()) + "\n}\n"  # one line per case
    stale = []
    if not check:
        os.makedirs(OUT, exist_ok=True)
    for name, data in CORPUS.items():
        path = os.path.join(OUT, name + ".json")
        if check:
            if not os.path.exists(path) or open(path, "rb").read() != data:
                stale.append(path)
        else:
            open(path, "wb").write(data)
    path = os.path.join(OUT, "expected.json")
    if check:
        if not os.path.exists(path) or open(path).read() != text:
            stale.append(path)
        listed = {n + ".json" for n in CORPUS} | {"expected.json"}
        stale += [os.path.join(OUT, f) for f in os.listdir(OUT) if f not in listed]
        if stale:
            print("stale (rerun tests/reference/json_reference.py):", *stale, sep="\n  ")
            return 1
        print(f"json corpus: {len(CORPUS)} cases current")
        return 0
    open(path, "w").write(text)
    print(f"wrote {len(CORPUS)} cases to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
