#!/usr/bin/env python3
"""e2e: tools/bench/jit_ir.sh counts one run of each bench case, and only that run.

    test_jit_ir.py JIT_IR_SH VKGRM_BENCH

Runs the Q6_K one-token mat-vec's cases (4096 x 4096, a 32000 x 512 head, and 4096 x 4096 on
x in 8 bits: matvec1_lane_tx_q6_k_xq8 with its quantize_x launch, row-major and in split tiles) twice:
  * those four rows, the tiled one counting fewer JIT instructions than the row-major one (its
    fields start on texels: no realigning), and the same JIT counts in both runs (the tool's point: no timing noise); the
    run's total within 3 % (it takes in the driver's thread hand-offs, whose wait loops follow
    valgrind's scheduling: a fresh CI machine once counted 27.74 M and then 27.75 M, a loaded one
    28.17 M and then 27.81 M, 1.3 %);
  * JIT instructions > 0 and <= the run's total;
  * per weight, between 0.2 and 20 JIT instructions: the kernel reads each weight once, in
    8-lane vector code. Counting anything else (the pipeline's compile, the random weight fill
    of 16 M bytes, the warm-up run) would put a case far outside that (the fill alone runs
    ~3.5 G instructions);
  * the cases' counts within 4x of each other (16.8 M and 16.4 M weights: the same work,
    where a count that took in setup would follow the setup instead).
And a filter that matches no op fails as vkgrm-bench's usage error (exit 2, its message).
"""
import shutil
import subprocess
import sys

SCRIPT, BENCH = sys.argv[1], sys.argv[2]
if shutil.which("valgrind") is None:
    print("valgrind is not installed: skipped")
    sys.exit(77)


def run(filt):
    return subprocess.run(["bash", SCRIPT, "--bench", BENCH, filt], capture_output=True, text=True, timeout=500)


def rows(p):
    assert p.returncode == 0, p.stdout + p.stderr
    out = []
    for line in p.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("matvec"):
            out.append((cells[0], cells[1], float(cells[2]), float(cells[3])))
    return out


# a first run to fill Mesa's shader cache: with it cold (a fresh machine, a changed shader), its writes run on a
# driver thread during the counted runs (a cold run once counted 19.71 M in total where a warm one counted 17.17 M)
rows(run("matvec1_lane_tx_q6_k"))
a = rows(run("matvec1_lane_tx_q6_k"))
b = rows(run("matvec1_lane_tx_q6_k"))
print("\n".join(map(str, a)))
# the two Q6_K one-token cases and the same kernel on 8-bit x (XQ8, with its quantize_x launch)
assert [r[0] for r in a] == ["matvec1_lane_tx_q6_k"] * 2 + ["matvec1_lane_tx_q6_k_xq8"] * 2, a
assert a[3][1].endswith("tiled") and a[3][3] < a[2][3], f"split Q6_K tiles count no fewer JIT instructions: {a}"
assert [r[:2] for r in a] == [r[:2] for r in b], (a, b)
assert [r[3] for r in a] == [r[3] for r in b], f"JIT counts differ between runs: {a} vs {b}"
for ra, rb in zip(a, b):
    assert abs(ra[2] - rb[2]) <= 0.03 * ra[2], f"totals differ by more than 3 %: {ra} vs {rb}"
weights = {"4096x4096": 4096 * 4096, "32000x512": 32000 * 512}
for op, shape, total, jit in a:
    assert 0 < jit <= total, (op, shape, total, jit)
    n = weights[shape.split()[0]]
    per = jit * 1e6 / n
    assert 0.2 <= per <= 20, f"{shape}: {per:.2f} JIT instructions per weight"
assert max(r[3] for r in a) < 4 * min(r[3] for r in a), a
p = run("no_such_op_zz")
assert p.returncode == 2 and "matches no op" in p.stderr, (p.returncode, p.stderr)
print("jit_ir.sh: deterministic per-case counts")
