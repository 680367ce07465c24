#!/usr/bin/env python3
"""The demo's printout (.ci/do demo): one line per record of the k = 8 run, then
accuracy at k = 1 (Voting@1 of that run: the mean over its single judgments) and
k = 8, with and without the MetaRM, and judgments/s; with a greedy run beside it,
its verdict per record and its accuracy too.
    demo_table.py K8.jsonl K8.json [GREEDY.jsonl GREEDY.json]"""
import json
import sys

k8 = [json.loads(x) for x in open(sys.argv[1])]
ks = json.load(open(sys.argv[2]))
greedy, gs = None, {}
if len(sys.argv) > 4:
    greedy = {r["id"]: r for r in map(json.loads, open(sys.argv[3]))}
    gs = json.load(open(sys.argv[4]))
mark = lambda ok: "ok " if ok else "-- "
head = f"{'id':<14} {'subset':<9} {'label':>5}  "
if greedy is not None:
    head += f"{'greedy':>6}  "
print(head + f"{'vote@8 rewards':<16} {'best':>4}  {'meta':>4}")
for r in k8:
    if r["status"] == "error":
        print(f"{r['id'] or '?':<14} error: {r['error']}")
        continue
    rew = "null" if r["rewards"] is None else ",".join(map(str, r["rewards"]))
    line = f"{r['id']:<14} {r.get('subset', ''):<9} {r.get('label', '-'):>5}  "
    if greedy is not None:
        g = greedy.get(r["id"], {})
        line += f"{mark(g.get('correct'))}{str(g.get('best')):>3}  "
    print(line + f"{rew:<16} {mark(r.get('correct'))}{str(r['best']):>1}  "
          f"{mark(r.get('meta_correct'))}{str(r.get('meta_best')):>1}")
curve = ks.get("curves", {})
acc = lambda s, key="accuracy": s.get(key, {}).get("overall", float("nan"))
at = lambda name, j: dict(zip(curve.get("j", []), curve.get(name, []))).get(j, float("nan"))
print()
print(f"records {ks['records']}, samples {ks['samples']}, invalid {ks['invalid_rate']:.1%}")
line = f"accuracy  k=1 (one sampled judgment) {at('voting', 1):.1%}   k=8 voting {acc(ks):.1%}   " \
       f"k=8 MetaRM-guided {acc(ks, 'meta_accuracy'):.1%}"
if greedy is not None:
    line += f"   k=1 greedy {acc(gs):.1%}"
print(line)
if curve:
    print("Voting@j  " + "  ".join(f"@{j} {v:.1%}" for j, v in zip(curve["j"], curve["voting"])))
    if "meta" in curve:
        print("MetaRM@j  " + "  ".join(f"@{j} {v:.1%}" for j, v in zip(curve["j"], curve["meta"])))
t8 = ks.get("throughput", {})
print(f"judgments/s at k=8: {t8.get('judgments_per_s', 0):.2f} records per second "
      f"({t8.get('generated_tokens_per_s', 0):.0f} generated tokens/s)"
      + (f"; greedy k=1: {gs.get('throughput', {}).get('judgments_per_s', 0):.2f}" if greedy is not None else ""))
