#!/usr/bin/env python3
"""The demo's printout (.ci/do demo): one line per record of the k = 8 run (with the
greedy verdict beside it), then accuracy at k = 1 and k = 8 with and without the MetaRM,
and judgments/s.   demo_table.py GREEDY.jsonl K8.jsonl GREEDY.json K8.json"""
import json
import sys

greedy = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
k8 = [json.loads(x) for x in open(sys.argv[2])]
gs, ks = json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
mark = lambda ok: "ok " if ok else "-- "
print(f"{'id':<14} {'subset':<9} {'label':>5}  {'greedy':>6}  {'vote@8 rewards':<16} {'best':>4}  {'meta':>4}")
for r in k8:
    if r["status"] == "error":
        print(f"{r['id'] or '?':<14} error: {r['error']}")
        continue
    g = greedy.get(r["id"], {})
    rew = "null" if r["rewards"] is None else ",".join(map(str, r["rewards"]))
    print(f"{r['id']:<14} {r.get('subset', ''):<9} {r.get('label', '-'):>5}  "
          f"{mark(g.get('correct'))}{str(g.get('best')):>3}  {rew:<16} {mark(r.get('correct'))}{str(r['best']):>1}  "
          f"{mark(r.get('meta_correct'))}{str(r.get('meta_best')):>1}")
curve = ks.get("curves", {})
acc = lambda s, key="accuracy": s.get(key, {}).get("overall", float("nan"))
print()
print(f"records {ks['records']}, samples {ks['samples']}, invalid {ks['invalid_rate']:.1%}")
print(f"accuracy  k=1 greedy {acc(gs):.1%}   k=8 voting {acc(ks):.1%}   k=8 MetaRM-guided {acc(ks, 'meta_accuracy'):.1%}")
if curve:
    print("Voting@j  " + "  ".join(f"@{j} {v:.1%}" for j, v in zip(curve["j"], curve["voting"])))
    if "meta" in curve:
        print("MetaRM@j  " + "  ".join(f"@{j} {v:.1%}" for j, v in zip(curve["j"], curve["meta"])))
t1, t8 = gs.get("throughput", {}), ks.get("throughput", {})
print(f"judgments/s: k=1 {t1.get('judgments_per_s', 0):.2f}, k=8 {t8.get('judgments_per_s', 0):.2f} "
      f"(records per second; {t8.get('generated_tokens_per_s', 0):.0f} generated tokens/s at k=8)")
