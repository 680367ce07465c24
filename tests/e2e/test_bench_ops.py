#!/usr/bin/env python3
"""e2e: `vkgrm-bench --ops --json` runs every bench case to the end.

bench_coverage only checks that each op *has* a case; this runs them all once
(--min-time 0.001), so a case that crashes or fails (a NULL buffer viewed, a
pipeline that does not build, an op refusing its own bench shape) fails here:

  * exit status 0 and valid JSON;
  * every op that --check-coverage counts has at least one row;
  * every row has a finite, positive time and a positive byte count, and its
    GB/s is bytes / time (the table is derived from the measured numbers).

    test_bench_ops.py VKGRM_BENCH
"""
import json
import math
import re
import subprocess
import sys

BIN = sys.argv[1]
cov = subprocess.run([BIN, "--check-coverage"], capture_output=True, text=True, timeout=60)
m = re.search(r"bench coverage: (\d+) of (\d+) ops", cov.stdout)
assert cov.returncode == 0 and m, cov.stdout + cov.stderr
n_ops = int(m.group(2))

p = subprocess.run([BIN, "--ops", "--min-time", "0.001", "--json"], capture_output=True, text=True, timeout=3000)
print(p.stderr[-3000:])
assert p.returncode == 0, f"exit {p.returncode}"
out = json.loads(p.stdout)
rows = out["ops"]
names = {r["op"] for r in rows}
assert len(names) == n_ops, f"{len(names)} ops have rows, {n_ops} ops exist"
for r in rows:
    t = r["time_us"]
    assert math.isfinite(t) and t > 0, r
    assert r["bytes"] > 0, r
    assert abs(r["gbs"] - r["bytes"] / (t * 1e-6) / 1e9) <= 1e-6 * r["gbs"], r
assert out["copy_bandwidth_gbs"] > 0
print(f"{len(rows)} cases of {n_ops} ops ran")
