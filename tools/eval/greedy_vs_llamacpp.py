#!/usr/bin/env python3
"""Greedy judgments of a GGUF judge, vkgrm against llama.cpp, token for token
(issue 12 §4): for the first R records of a JSONL file, the judge prompt that
vkgrm-score builds (--print-prompts: the DeepSeek-GRM template in the model's
chat template, sample 0 in the identity order, as -k 1 judges it) is tokenized
by llama.cpp and continued greedily by both llama.cpp (its CPU backend, through
tests/reference/llamacpp_oracle.py) and vkgrm-generate (the same ids). Prints,
per record, how many tokens agree before the first difference and, there, how
far apart llama.cpp's own logits put the two choices (a near-tie, in units of
that step's max|logit|), then both texts after the shared part.

  tools/eval/greedy_vs_llamacpp.py -m FILE.gguf -i RECORDS.jsonl [-r 3] [-n 256]
      [--oracle-python P] [--build build]

P defaults to the llama-cpp-python venv tests/fixtures/build_llama_cpp.sh makes.
Exits 1 when a record's first difference is not a near-tie (gap > --tie, 5e-2).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ORACLE = os.path.join(ROOT, "tests", "reference", "llamacpp_oracle.py")


def default_python():
    cache = os.environ.get("VKGRM_TEST_CACHE", os.path.expanduser("~/.cache/vkgrm-tests"))
    ver = [ln.split("=", 1)[1].strip() for ln in open(os.path.join(ROOT, "tests", "fixtures", "build_llama_cpp.sh"))
           if ln.startswith("VERSION=")][0]
    return os.path.join(cache, f"llama-cpp-python-{ver}", "venv", "bin", "python")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-i", "--input", required=True)
    ap.add_argument("-r", "--records", type=int, default=3)
    ap.add_argument("-n", "--max-new", type=int, default=256)
    ap.add_argument("--tie", type=float, default=5e-2)
    ap.add_argument("--oracle-python", default=None)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    py = a.oracle_python or default_python()
    score = os.path.join(a.build, "tools", "vkgrm-score", "vkgrm-score")
    gen = os.path.join(a.build, "tools", "vkgrm-generate", "vkgrm-generate")
    records = [ln for ln in open(a.input, encoding="utf-8") if ln.strip()][:a.records]
    worst_ok = True
    with tempfile.TemporaryDirectory() as work:
        for k, rec in enumerate(records):
            rf = os.path.join(work, "rec.jsonl")
            open(rf, "w", encoding="utf-8").write(rec)
            r = subprocess.run([score, "-m", a.model, "-i", rf, "-k", "1", "--print-prompts"], capture_output=True,
                               text=True, check=True)
            p = json.loads(r.stdout.splitlines()[0])
            pf = os.path.join(work, "prompt.txt")
            open(pf, "w", encoding="utf-8").write(p["prompt"])
            rows = os.path.join(work, "rows.npy")
            r = subprocess.run([py, ORACLE, "generate", a.model, "--prompt-file", pf, "-n", str(a.max_new),
                                "--last-logits", rows], capture_output=True, text=True, check=True)
            lc = json.loads(r.stdout)
            r = subprocess.run([gen, "-m", a.model, "--prompt-ids", ",".join(map(str, lc["prompt_ids"])), "-n",
                                str(a.max_new), "--json"], capture_output=True, text=True, check=True)
            mine = json.loads(r.stdout.splitlines()[0])["tokens"]
            theirs = lc["tokens"]
            j = next((i for i, (x, y) in enumerate(zip(mine, theirs)) if x != y), None)
            head = f"record {k} ({p['id']}): prompt {len(lc['prompt_ids'])} tokens; vkgrm {len(mine)}, llama.cpp {len(theirs)} tokens"
            if j is None:
                same = len(mine) == len(theirs)
                print(f"{head}: {'identical' if same else f'identical for the shorter {min(len(mine), len(theirs))}'}")
                worst_ok &= same or max(len(mine), len(theirs)) >= a.max_new
            else:
                row = np.load(rows)[j].astype(np.float64)
                gap = (row.max() - row[mine[j]]) / np.abs(row).max()
                tie = gap <= a.tie
                worst_ok &= bool(tie)
                print(f"{head}: identical for {j} tokens, then vkgrm {mine[j]} vs llama.cpp {theirs[j]}: "
                      f"{gap:.1e} x max|logit| apart by llama.cpp's logits ({'a near-tie' if tie else 'NOT a near-tie'})")
            txt = subprocess.run([os.path.join(a.build, "tools", "vkgrm-tokenize", "vkgrm-tokenize"), "-m", a.model,
                                  "--decode", ",".join(map(str, mine))], capture_output=True, text=True).stdout
            print("  vkgrm:     " + txt.strip().replace("\n", "\\n")[-400:])
            print("  llama.cpp: " + lc["text"].strip().replace("\n", "\\n")[-400:])
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
