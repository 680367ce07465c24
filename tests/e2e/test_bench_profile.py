#!/usr/bin/env python3
"""e2e: `vkgrm-bench -m DIR --profile --json` — the per-kernel profile of each row
is consistent with the run it profiles and with the model's config.json:

  * every row (prefill, decode at batch 1/8/32) carries a kernel table whose
    shares add up to 1;
  * the timed kernels account for most of the row's wall time and never for
    more (timestamps sit inside the timed forward passes);
  * one attention dispatch per layer and pass (num_hidden_layers of config.json),
    or, where the batch's sequences share a long prompt (cascade), one
    attn_prefix plus one attention over each token's own positions per layer;
    and at least one matrix kernel per layer.

    test_bench_profile.py VKGRM_BENCH MODEL_DIR
"""
import json
import os
import subprocess
import sys

BIN, MODEL = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(MODEL, "config.json")))
layers = cfg["num_hidden_layers"]
STEPS, PREFILL = 3, 96
p = subprocess.run([BIN, "-m", MODEL, "--prefill", str(PREFILL), "--steps", str(STEPS), "--profile", "--json"],
                   capture_output=True, text=True, timeout=1200)
print(p.stderr[-2000:])
assert p.returncode == 0, f"exit {p.returncode}"
out = json.loads(p.stdout)
rows, profs = out["rows"], out["profile"]
assert len(rows) == len(profs) == 4, (len(rows), len(profs))
fails = []
for r, pr in zip(rows, profs):
    assert (r["mode"], r["batch"]) == (pr["mode"], pr["batch"])
    ks = pr["kernels"]
    passes = 1 if r["mode"] == "prefill" else STEPS
    wall_ms = r["tokens"] / r["tokens_per_s"] * 1e3 / passes  # per forward pass
    timed_ms = sum(k["ms"] for k in ks)
    share = sum(k["share"] for k in ks)
    by = {k["kernel"]: k for k in ks}
    prefix = sum(k["calls"] for k in ks if k["kernel"].startswith("attn_prefix"))
    attn = sum(k["calls"] for k in ks if k["kernel"].startswith("attn") and k["kernel"] != "attn_combine") - prefix
    mats = sum(k["calls"] for k in ks if k["kernel"].startswith(("matvec", "matmul")))
    what = f"{r['mode']} b{r['batch']}: wall {wall_ms:.2f} ms, timed {timed_ms:.2f} ms, attn calls {attn} " \
           f"(+{prefix} cascade prefix), " \
           f"matrix calls {mats}, top {ks[0]['kernel'] if ks else None}"
    print(what)
    if abs(share - 1) > 1e-3: fails.append(f"{what}: shares add to {share}")
    if not (0.3 * wall_ms <= timed_ms <= 1.02 * wall_ms): fails.append(f"{what}: timed not within the wall time")
    if attn != layers: fails.append(f"{what}: {attn} attention dispatches per pass, {layers} layers")
    if prefix not in (0, layers): fails.append(f"{what}: {prefix} cascade prefix passes, {layers} layers")
    if mats < layers: fails.append(f"{what}: fewer matrix kernels than layers")
for f in fails:
    print("FAIL", f)
sys.exit(1 if fails else 0)
