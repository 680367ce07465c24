#!/usr/bin/env python3
"""e2e: the bundled toy judge and MetaRM (models/) through vkgrm-score, on held-out
synthetic records (models/examples/heldout.jsonl, none seen in training).

Runs vkgrm-score twice on the first N records: -k 1 (greedy) and -k K with the
MetaRM (temperature 0.5), and asserts, from the output lines themselves (not the
tool's summary): the greedy accuracy, the accuracy of the K-sample vote and of the
MetaRM-guided vote, each at least the measured value minus a margin (README,
models/README.md), and that the summary's figures agree with the lines.

    test_judge_quality.py VKGRM_SCORE MODELS_DIR N K MIN_GREEDY MIN_VOTE MIN_META [MAX_INVALID]
"""
import json
import os
import subprocess
import sys
import tempfile

BIN, MODELS = sys.argv[1], sys.argv[2]
N, K = int(sys.argv[3]), int(sys.argv[4])
MIN_GREEDY, MIN_VOTE, MIN_META = map(float, sys.argv[5:8])
MAX_INVALID = float(sys.argv[8]) if len(sys.argv) > 8 else 0.1
JUDGE, META = os.path.join(MODELS, "grm-judge-tiny"), os.path.join(MODELS, "grm-metarm-tiny")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def run(tmp, name, args):
    out, summ = os.path.join(tmp, name + ".jsonl"), os.path.join(tmp, name + ".json")
    p = subprocess.run([BIN, "-m", JUDGE, "-i", os.path.join(tmp, "in.jsonl"), "-o", out, "--summary", summ] + args,
                       capture_output=True, text=True)
    print(p.stderr.strip()[-1500:])
    if p.returncode != 0:
        FAILS.append(f"{name}: exit {p.returncode}")
        return [], {}
    return [json.loads(x) for x in open(out)], json.load(open(summ))


def main():
    tmp = tempfile.mkdtemp(prefix="vkgrm-judge-")
    recs = [json.loads(x) for x in open(os.path.join(MODELS, "examples", "heldout.jsonl")) if x.strip()][:N]
    with open(os.path.join(tmp, "in.jsonl"), "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")

    g, gs = run(tmp, "greedy", ["-k", "1"])
    if g:
        acc = sum(r["correct"] for r in g) / len(g)
        inv = sum(s["scores"] is None for r in g for s in r["samples"]) / len(g)
        check(acc >= MIN_GREEDY, f"greedy accuracy {acc:.3f} >= {MIN_GREEDY}")
        check(inv <= MAX_INVALID, f"greedy invalid rate {inv:.3f} <= {MAX_INVALID}")
        check(abs(gs["accuracy"]["overall"] - acc) < 1e-9, "summary = lines (greedy)")

    v, vs = run(tmp, "vote", ["-k", str(K), "--meta-rm", META, "-s", "1"])
    if v:
        acc = sum(r["correct"] for r in v) / len(v)
        meta = sum(r["meta_correct"] for r in v) / len(v)
        one = sum(sum(1 for s in r["samples"] if s["scores"] is not None and
                      max(range(r["n"]), key=lambda i: (s["scores"][i], -i)) == r["label"] and
                      sorted(s["scores"])[-1] != (sorted(s["scores"])[-2] if r["n"] > 1 else None))
                  for r in v) / (len(v) * K)
        inv = sum(s["scores"] is None for r in v for s in r["samples"]) / (len(v) * K)
        check(acc >= MIN_VOTE, f"Voting@{K} accuracy {acc:.3f} >= {MIN_VOTE}")
        check(meta >= MIN_META, f"MetaRM@{K} accuracy {meta:.3f} >= {MIN_META}")
        check(inv <= MAX_INVALID, f"sampled invalid rate {inv:.3f} <= {MAX_INVALID}")
        check(abs(vs["accuracy"]["overall"] - acc) < 1e-9, "summary = lines (vote)")
        check(abs(vs["meta_accuracy"]["overall"] - meta) < 1e-9, "summary = lines (MetaRM)")
        print(f"single sampled judgment right without a tie: {one:.3f}; curve {vs['curves']}")

    if FAILS:
        print(f"{len(FAILS)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
