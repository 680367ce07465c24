#!/usr/bin/env python3
"""pair.py — time two builds of vkgrm-bench side by side, so that a shared, noisy host's swings
fall on both alike (README, "vkgrm-bench": timing in pairs).

usage: tools/bench/pair.py [--rounds N] [--cores C0,C1] [--threads T] [--json]
                           BENCH_A BENCH_B -- BENCH_ARGS...

BENCH_ARGS go to both binaries and must hold --ops (kernel cases, e.g. --ops --filter
matmul_lane_q4_k) or -m/--model (model rows, e.g. -m DIR --prefill 64 --steps 2); --json is
added. Each round starts A and B at the same time, each pinned to one core (taskset -c) with
LP_NUM_THREADS=T (1: lavapipe runs each on its own core), and the two cores swap every round, so
a core that another tenant slows charges both builds. Each build keeps its best figure per case
over the rounds: the lowest time of an --ops case, the highest tokens/s of a model row (noise
only ever slows a run). Prints one Markdown table: A's and B's best, and B's speed over A's
(> 1: B is faster); run the same binary as A and B for the control (expect 1.00 +- a few %).
--json prints the same as one JSON object instead.

Exit status: 0; 1 a bench run failed (its exit status and stderr are printed); 2 a usage error.
Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import time


def usage(msg):
    sys.stderr.write(f"pair.py: {msg}\n")
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    sys.exit(2)


def parse(argv):
    opts = {"rounds": 6, "cores": None, "threads": 1, "json": False}
    if "--" not in argv:
        usage("BENCH_ARGS must follow --")
    cut = argv.index("--")
    head, bench_args = argv[:cut], argv[cut + 1:]
    pos = []
    i = 0
    while i < len(head):
        a = head[i]
        if a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        if a in ("--rounds", "--cores", "--threads"):
            if i + 1 >= len(head):
                usage(f"{a} needs a value")
            v = head[i + 1]
            i += 2
            try:
                if a == "--rounds":
                    opts["rounds"] = int(v)
                    if opts["rounds"] < 1:
                        raise ValueError
                elif a == "--threads":
                    opts["threads"] = int(v)
                    if opts["threads"] < 1:
                        raise ValueError
                else:
                    c = [int(x) for x in v.split(",")]
                    if len(c) != 2 or min(c) < 0:
                        raise ValueError
                    opts["cores"] = c
            except ValueError:
                usage(f"bad value for {a}: {v!r}")
            continue
        if a == "--json":
            opts["json"] = True
            i += 1
            continue
        if a.startswith("-"):
            usage(f"unknown option {a}")
        pos.append(a)
        i += 1
    if len(pos) != 2:
        usage("give two vkgrm-bench binaries, A and B")
    for b in pos:
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            usage(f"not an executable: {b}")
    has_ops = "--ops" in bench_args
    has_model = any(a in ("-m", "--model") for a in bench_args)
    if has_ops == has_model:
        usage("BENCH_ARGS need exactly one of --ops and -m/--model")
    if opts["cores"] is None:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            usage("this process may run on one CPU only: name the cores with --cores C0,C1")
        opts["cores"] = cpus[:2]
    return opts, pos, bench_args, "ops" if has_ops else "model"


def rows_of(doc, mode):
    """{case: figure} of one vkgrm-bench --json run."""
    out = {}
    if mode == "ops":
        for r in doc["ops"]:
            out[f"{r['op']} | {r['shape']}"] = float(r["time_us"])
    else:
        for r in doc["rows"]:
            out[f"{r['mode']} | {r['batch']}"] = float(r["tokens_per_s"])
    return out


def main():
    opts, (bench_a, bench_b), bench_args, mode = parse(sys.argv[1:])
    if shutil.which("taskset") is None:
        sys.stderr.write("pair.py: taskset (util-linux) is not installed\n")
        sys.exit(1)
    env = dict(os.environ, LP_NUM_THREADS=str(opts["threads"]))
    best = {"A": {}, "B": {}}
    order = []  # cases in first-seen order
    load0 = os.getloadavg()
    t_start = time.time()
    for rnd in range(opts["rounds"]):
        c0, c1 = opts["cores"] if rnd % 2 == 0 else opts["cores"][::-1]
        procs = {}
        for name, binary, core in (("A", bench_a, c0), ("B", bench_b, c1)):
            cmd = ["taskset", "-c", str(core), binary, *bench_args, "--json"]
            procs[name] = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, p in procs.items():
            out, err = p.communicate()
            if p.returncode != 0:
                sys.stderr.write(f"pair.py: round {rnd + 1}: build {name} exited {p.returncode}\n{err}")
                for q in procs.values():
                    if q.poll() is None:
                        q.kill()
                sys.exit(1)
            try:
                got = rows_of(json.loads(out), mode)
            except (ValueError, KeyError, TypeError) as e:
                sys.stderr.write(f"pair.py: round {rnd + 1}: build {name}: unreadable --json output ({e})\n")
                sys.exit(1)
            for k, v in got.items():
                if k not in order:
                    order.append(k)
                cur = best[name].get(k)
                if cur is None or (v < cur if mode == "ops" else v > cur):
                    best[name][k] = v
    load1 = os.getloadavg()
    result = {
        "mode": mode,
        "figure": "time_us (lowest)" if mode == "ops" else "tokens_per_s (highest)",
        "rounds": opts["rounds"],
        "cores": opts["cores"],
        "threads": opts["threads"],
        "load_before": round(load0[0], 2),
        "load_after": round(load1[0], 2),
        "seconds": round(time.time() - t_start, 1),
        "a": bench_a,
        "b": bench_b,
        "cases": [],
    }
    for k in order:
        a, b = best["A"].get(k), best["B"].get(k)
        speed = None
        if a is not None and b is not None and a > 0 and b > 0:
            speed = a / b if mode == "ops" else b / a
        result["cases"].append({"case": k, "a": a, "b": b, "b_speed_over_a": speed})
    if opts["json"]:
        print(json.dumps(result))
        return
    unit = "time (us), best" if mode == "ops" else "tokens/s, best"
    print(f"A: {bench_a}\nB: {bench_b}\n{opts['rounds']} rounds, cores {opts['cores'][0]},{opts['cores'][1]} "
          f"swapped each round, LP_NUM_THREADS={opts['threads']}, load {result['load_before']} -> "
          f"{result['load_after']}, {result['seconds']} s\n")
    case_head = "op | shape" if mode == "ops" else "mode | batch"
    print(f"| {case_head} | A {unit} | B {unit} | B's speed / A's |")
    print("|---|---|---:|---:|---:|")

    def f(v):
        return "–" if v is None else f"{v:.1f}" if mode == "ops" else f"{v:.2f}"

    for c in result["cases"]:
        s = "–" if c["b_speed_over_a"] is None else f"{c['b_speed_over_a']:.3f}"
        print(f"| {c['case']} | {f(c['a'])} | {f(c['b'])} | {s} |")


if __name__ == "__main__":
    main()
