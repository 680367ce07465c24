"""eval_judges.py — torch evaluation of the toy judge (and MetaRM) on held-out records.

    /work/venvs/train/bin/python models/eval_judges.py [--judge DIR] [--metarm DIR]
        [--data models/examples/heldout.jsonl] [--k 32] [--temp 0.5] [--out results.json]

Per record: one greedy judgment of the responses in the stored order, and k
samples at temperature T (no top-k/top-p), each of the responses in its own
random shown order (seeded by the record index), parsed (last \\boxed{}, n
integers, clamped to 1..10) and mapped back to the stored order. Invalid
samples (no box / wrong count) are left out of the vote.

Metrics (a tie at the top counts 1/t, the expectation of a random tie-break;
a record with no valid sample counts 0):
  greedy       the greedy judgment picks the labelled response
  Voting@k     sum of the valid samples' scores; k = 1, 2, 4, ..., the k samples
               of each disjoint group of the K drawn, averaged over the groups
  MetaRM@k     the same, summing only the top k/2 valid samples by meta score
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# OpenMP threads that spin while waiting for each other stall for milliseconds on a
# shared, oversubscribed machine (an elementwise add went from 0.07 ms to 20 ms here)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification  # noqa: E402

import grm_format as gf  # noqa: E402
import judge_lib as jl  # noqa: E402
import make_data as md  # noqa: E402

MAX_NEW = 96  # the longest target judgment is 72 tokens with eos


def load_judge(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model, jl.Codec(jl.load_tokenizer(path))


def load_metarm(path):
    model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model, jl.Codec(jl.load_tokenizer(path))


def judge_records(judge, codec, recs, k, temp, seed, greedy=True, chunk=4, log=None):
    """For each record: a greedy judgment of the stored order (if greedy) and k
    samples at temperature temp, each in its own random shown order (seeded by
    seed and the record's position). Records are generated `chunk` at a time in
    one batch. Returns [{"greedy": sample or None, "samples": [sample]}], a sample
    being {"perm", "text", "scores"}."""
    out, t0 = [], time.time()
    for c0 in range(0, len(recs), chunk):
        rows, temps = [], []
        for idx in range(c0, min(len(recs), c0 + chunk)):
            rec = recs[idx]
            n = len(rec["responses"])
            rng = random.Random(seed * 1000003 + idx)
            perms = ([list(range(n))] if greedy else []) + [jl.shuffle_perm(rng, n) for _ in range(k)]
            for j, p in enumerate(perms):
                rows.append((idx, p))
                temps.append(0.0 if greedy and j == 0 else temp)
        prompts = [codec.judge_prompt(recs[i]["query"], [recs[i]["responses"][x] for x in p]) for i, p in rows]
        gen = torch.Generator().manual_seed(seed * 7919 + c0)
        ids = jl.generate_batched(judge, codec, prompts, temps, MAX_NEW, gen)
        per = {}
        for (idx, p), g in zip(rows, ids):
            text = codec.decode(g)
            per.setdefault(idx, []).append({"perm": p, "text": text,
                                            "scores": gf.parse_scores(text, len(p))})
        for idx in sorted(per):
            ss = per[idx]
            out.append({"greedy": ss[0] if greedy else None, "samples": ss[1:] if greedy else ss})
        if log and (c0 // chunk) % 10 == 0:
            print(f"{min(len(recs), c0 + chunk)}/{len(recs)} records {time.time() - t0:.0f}s", flush=True)
    return out


@torch.no_grad()
def meta_scores(metarm, codec, rec, samples):
    """MetaRM score of each valid sample (None for invalid ones): last-token logit."""
    res = []
    for s in samples:
        if s["scores"] is None:
            res.append(None)
            continue
        shown = [rec["responses"][i] for i in s["perm"]]
        ids = codec.meta_input(rec["query"], shown, s["text"])
        res.append(float(metarm(input_ids=torch.tensor([ids])).logits[0, -1]))
    return res


def orig_scores(s):
    out = [0] * len(s["perm"])
    for j, i in enumerate(s["perm"]):
        out[i] = s["scores"][j]
    return out


def vote_acc(samples, label, n):
    """Expected accuracy of summation voting over the valid samples."""
    tot = [0] * n
    valid = [s for s in samples if s["scores"] is not None]
    if not valid:
        return 0.0
    for s in valid:
        for i, v in enumerate(orig_scores(s)):
            tot[i] += v
    best = max(tot)
    ties = [i for i in range(n) if tot[i] == best]
    return 1.0 / len(ties) if label in ties else 0.0


def metrics(results, ks):
    """Accuracy table from the per-record results."""
    out = {"n_records": len(results)}
    out["greedy"] = sum(vote_acc([r["greedy"]], r["label"], r["n"]) for r in results) / len(results)
    out["greedy_invalid_rate"] = sum(r["greedy"]["scores"] is None for r in results) / len(results)
    K = len(results[0]["samples"])
    if K == 0:  # --k 0: greedy only
        return out
    out["invalid_rate"] = sum(s["scores"] is None for r in results for s in r["samples"]) / (K * len(results))
    out["sample_correct_rate"] = sum(gf.judgment_correct(s["scores"], s["perm"], r["label"])
                                     for r in results for s in r["samples"]) / (K * len(results))
    for k in ks:
        if k > K:
            continue
        acc = accm = 0.0
        for r in results:
            groups = [list(range(g, g + k)) for g in range(0, K - k + 1, k)]
            for g in groups:
                ss = [r["samples"][j] for j in g]
                acc += vote_acc(ss, r["label"], r["n"]) / len(groups)
                if "meta" in r:
                    ms = [r["meta"][j] for j in g]
                    order = sorted(range(k), key=lambda j: -1e30 if ms[j] is None else -ms[j])
                    keep = [ss[j] for j in order[:max(1, k // 2)] if ms[j] is not None]
                    accm += vote_acc(keep, r["label"], r["n"]) / len(groups)
        out[f"voting@{k}"] = acc / len(results)
        if "meta" in results[0]:
            out[f"metarm@{k}"] = accm / len(results)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--judge", default=os.path.join(HERE, "grm-judge-tiny"))
    ap.add_argument("--metarm", default=None)
    ap.add_argument("--data", default=os.path.join(HERE, "examples", "heldout.jsonl"))
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--temp", type=float, default=0.5)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=16, help="records per generation batch")
    ap.add_argument("--out", default=None, help="write per-record results + metrics (JSON)")
    ap.add_argument("--results", default=None, help="reuse the samples of an earlier --out file")
    args = ap.parse_args()
    jl.setup_torch()
    t0 = time.time()
    judge, codec = load_judge(args.judge)
    recs = md.read_jsonl(args.data)
    if args.limit:
        recs = recs[:args.limit]
    if args.results:
        results = json.load(open(args.results))["results"]
    else:
        judged = judge_records(judge, codec, recs, args.k, args.temp, args.seed, chunk=args.chunk, log=True)
        results = [{"id": rec["id"], "subset": rec["subset"], "label": rec["label"], "n": len(rec["responses"]),
                    "greedy": j["greedy"], "samples": j["samples"]} for rec, j in zip(recs, judged)]
    if args.metarm:
        metarm, mcodec = load_metarm(args.metarm)
        for rec, r in zip(recs, results):
            r["meta"] = meta_scores(metarm, mcodec, rec, r["samples"])
    ks = [1, 2, 4, 8, 16, 32]
    m = metrics(results, ks)
    m["by_subset"] = {s: metrics([r for r in results if r["subset"] == s], ks)
                      for s in md.SUBSETS if any(r["subset"] == s for r in results)}
    m["seconds"] = round(time.time() - t0)
    print(json.dumps({k: v for k, v in m.items() if k != "by_subset"}, indent=1))
    for s, v in m["by_subset"].items():
        print(s, f"n={v['n_records']}", " ".join(f"{k}={v[k]:.3f}" for k in ["greedy", "voting@1", "voting@8", "voting@32",
                                                         "metarm@8"] if k in v))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"metrics": m, "results": results}, f)


if __name__ == "__main__":
    main()
