#!/usr/bin/env python3
"""e2e: tools/bench/pair.py runs two builds at once, one core each, and keeps each build's best.

    test_pair.py PAIR_PY VKGRM_BENCH

With two fake vkgrm-bench binaries that print set figures round by round (and log the core and
LP_NUM_THREADS they ran with):
  * --ops: each build's lowest time per case over the rounds and B's speed over A's, against
    figures worked out here from the fakes' lists; the cores swap every round and
    LP_NUM_THREADS=1 reaches the bench;
  * -m: each build's highest tokens/s per row;
  * a bench run that fails makes pair.py exit 1 with that build's message; usage errors exit 2.
Then the real vkgrm-bench against itself (the control of README's "timing in pairs"): every case
of a small filter reported for both, with a positive time.
"""
import json
import os
import subprocess
import sys
import tempfile

PAIR, BENCH = sys.argv[1], sys.argv[2]

FAKE = r'''#!PYTHON
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
me = os.path.basename(__file__)
cnt = os.path.join(here, me + ".count")
n = int(open(cnt).read()) if os.path.exists(cnt) else 0
open(cnt, "w").write(str(n + 1))
with open(os.path.join(here, me + ".log"), "a") as f:
    f.write(json.dumps({"round": n, "cpus": sorted(os.sched_getaffinity(0)),
                        "lp": os.environ.get("LP_NUM_THREADS"), "argv": sys.argv[1:]}) + "\n")
FIG = FIGURES
if "FAIL" in me and n == 1:
    sys.stderr.write("fake: device lost\n")
    sys.exit(3)
if "--ops" in sys.argv:
    ops = [{"op": "k1", "shape": "4x4 F16", "time_us": FIG["k1"][n]},
           {"op": "k2", "shape": "8x8 Q4_K", "time_us": FIG["k2"][n]}]
    print(json.dumps({"device": "fake", "ops": ops}))
else:
    rows = [{"mode": "prefill", "batch": 1, "tokens_per_s": FIG["p"][n]},
            {"mode": "decode", "batch": 8, "tokens_per_s": FIG["d8"][n]}]
    print(json.dumps({"model": "fake", "rows": rows}))
'''


def fake(d, name, figures):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(FAKE.replace("PYTHON", sys.executable).replace("FIGURES", repr(figures)))
    os.chmod(path, 0o755)
    return path


def pair(*args):
    return subprocess.run([sys.executable, PAIR, *args], capture_output=True, text=True, timeout=600)


def log(path):
    return [json.loads(line) for line in open(path + ".log")]


def check_best(p, cases, fa, fb, best, speed):
    """pair.py's --json cases, in this order, each build's best of the fakes' lists and B's speed over A's."""
    got = {c["case"]: c for c in json.loads(p.stdout)["cases"]}
    assert list(got) == list(cases.values()), got
    for key, case in cases.items():
        ea, eb = best(fa[key]), best(fb[key])
        c = got[case]
        assert c["a"] == ea and c["b"] == eb, (c, ea, eb)
        assert abs(c["b_speed_over_a"] - speed(ea, eb)) < 1e-12, (c, speed(ea, eb))


cpus = sorted(os.sched_getaffinity(0))
cores = cpus[:2] if len(cpus) >= 2 else [cpus[0], cpus[0]]
cores_arg = f"{cores[0]},{cores[1]}"

with tempfile.TemporaryDirectory() as d:
    fa = {"k1": [100.0, 80.0, 120.0, 90.0], "k2": [50.0, 55.0, 45.0, 60.0]}
    fb = {"k1": [70.0, 95.0, 75.0, 72.0], "k2": [50.0, 40.0, 65.0, 41.0]}
    a, b = fake(d, "bench_a", fa), fake(d, "bench_b", fb)
    p = pair("--rounds", "4", "--cores", cores_arg, "--json", a, b, "--", "--ops", "--filter", "k")
    assert p.returncode == 0, p.stdout + p.stderr
    check_best(p, {"k1": "k1 | 4x4 F16", "k2": "k2 | 8x8 Q4_K"}, fa, fb, min, lambda ea, eb: ea / eb)
    la, lb = log(a), log(b)
    assert [e["round"] for e in la] == [0, 1, 2, 3] and [e["round"] for e in lb] == [0, 1, 2, 3]
    for e in la + lb:
        assert e["lp"] == "1", e
        assert e["argv"] == ["--ops", "--filter", "k", "--json"], e
    for i in range(4):  # A on core 0 then 1 then 0 ..., B on the other
        ca, cb = (cores[0], cores[1]) if i % 2 == 0 else (cores[1], cores[0])
        assert la[i]["cpus"] == [ca] and lb[i]["cpus"] == [cb], (i, la[i], lb[i])
    # the Markdown form carries the same figures (fresh fakes: their first round)
    d2 = os.path.join(d, "md")
    os.mkdir(d2)
    a2, b2 = fake(d2, "bench_a", fa), fake(d2, "bench_b", fb)
    p = pair("--rounds", "1", "--cores", cores_arg, a2, b2, "--", "--ops")
    assert p.returncode == 0, p.stderr
    assert "| k1 | 4x4 F16 | 100.0 | 70.0 | 1.429 |" in p.stdout, p.stdout
    assert "| k2 | 8x8 Q4_K | 50.0 | 50.0 | 1.000 |" in p.stdout, p.stdout
    print("ops mode: best per build, speed ratio, cores swapped")

    # model rows: the highest tokens/s
    d3 = os.path.join(d, "m")
    os.mkdir(d3)
    ma = {"p": [10.0, 12.0, 9.0], "d8": [5.0, 4.0, 6.0]}
    mb = {"p": [13.0, 11.0, 14.0], "d8": [3.0, 3.5, 2.0]}
    a3, b3 = fake(d3, "bench_a", ma), fake(d3, "bench_b", mb)
    p = pair("--rounds", "3", "--cores", cores_arg, "--json", a3, b3, "--", "-m", "DIR", "--steps", "2")
    assert p.returncode == 0, p.stdout + p.stderr
    check_best(p, {"p": "prefill | 1", "d8": "decode | 8"}, ma, mb, max, lambda ea, eb: eb / ea)
    print("model mode: highest tokens/s per build")

    # a failing run: exit 1 with the build's message
    d4 = os.path.join(d, "f")
    os.mkdir(d4)
    a4, b4 = fake(d4, "bench_a", fa), fake(d4, "bench_FAIL", fb)
    p = pair("--rounds", "3", "--cores", cores_arg, a4, b4, "--", "--ops")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "round 2: build B exited 3" in p.stderr and "device lost" in p.stderr, p.stderr
    # usage errors
    for args in ([a, b, "--ops"], [a, "--", "--ops"], [a, b, "--", "--ops", "-m", "X"], [a, b, "--", "--filter", "x"],
                 ["--rounds", "0", a, b, "--", "--ops"], ["--cores", "1", a, b, "--", "--ops"],
                 [a, os.path.join(d, "missing"), "--", "--ops"]):
        p = pair(*args)
        assert p.returncode == 2 and "pair.py:" in p.stderr, (args, p.returncode, p.stderr)
    print("failures and usage errors")

# the real bench against itself: every case reported for both builds
p = pair("--rounds", "2", "--cores", cores_arg, "--json", BENCH, BENCH, "--", "--ops", "--filter", "argmax_partial_lane",
         "--min-time", "0.02")
assert p.returncode == 0, p.stdout + p.stderr
r = json.loads(p.stdout)
assert len(r["cases"]) >= 2, r
for c in r["cases"]:
    assert c["case"].startswith("argmax_partial_lane | "), c
    assert c["a"] > 0 and c["b"] > 0 and c["b_speed_over_a"] > 0, c
print("vkgrm-bench against itself:", [(c["case"], round(c["b_speed_over_a"], 3)) for c in r["cases"]])
