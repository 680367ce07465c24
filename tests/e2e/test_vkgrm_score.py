#!/usr/bin/env python3
"""e2e: vkgrm-score's invariances on tiny random models (make_score_models.py).

A record's judgments depend only on (run seed, record id): the same run twice
gives the same bytes; a record scored alone gives the line it gets among the
others; --shard I/N then --merge gives the one run; --resume after kill -9 gives
the uninterrupted file; two judges (--device 0,0) give the one-judge file;
--revote with every sample gives the original votes, and with fewer samples the
votes recomputed here from the sample scores; --print-prompts needs no weights
and shows the permutations the scored samples used. Also: a bad input line is
an error record and does not stop the run, SIGINT leaves only complete lines,
flag errors exit 2 before any file is read, --json-errors.

    test_vkgrm_score.py VKGRM_SCORE MODELS_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN, MODELS = sys.argv[1], sys.argv[2]
JUDGE, META = os.path.join(MODELS, "judge"), os.path.join(MODELS, "metarm")
FAILS = []

RECORDS = [
    {"id": "q1", "query": "What is 2 + 2?", "responses": ["4", "5"], "label": 0, "subset": "math"},
    {"id": "rb1", "prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon.", "subset": "alpacaeval-easy"},
    "this line is not JSON",
    {"id": 7, "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                           {"role": "user", "content": "Sort 3 1 2."}],
     "responses": ["1 2 3", "3 2 1", "2 1 3"], "label": 0, "subset": "sort"},
    {"id": "one", "query": "Say yes.", "responses": ["yes"]},
    {"id": "q2", "query": "Reverse 'abc'.", "responses": ["cba", "abc", "bca", "acb"], "label": 0, "subset": "rev"},
    {"id": "rb2", "prompt": "Is the sky blue?", "chosen": "Yes, on a clear day.", "rejected": "No.",
     "subset": "mt-bench-easy"},
]
COMMON = ["-k", "3", "-n", "12", "-s", "5", "--temp", "1.0"]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def write_input(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


def score(args, **kw):
    p = subprocess.run([BIN] + args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
    return p


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f.read().splitlines()]


def no_index(d):
    return {k: v for k, v in d.items() if k != "index"}


def no_throughput(path):
    s = json.load(open(path))
    s.pop("throughput", None)
    return s


def main():
    tmp = tempfile.mkdtemp(prefix="vkgrm-score-e2e-")
    inp = os.path.join(tmp, "in.jsonl")
    write_input(inp, RECORDS)
    a, b = os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")

    # 1. one run, twice: same bytes; bad line = error record; the MetaRM fields
    p = score(["-m", JUDGE, "-i", inp, "-o", a, "--keep-text", "--summary", os.path.join(tmp, "a.json"),
               "--report", os.path.join(tmp, "a.md"), "--meta-rm", META] + COMMON)
    check(p.returncode == 0, f"scoring exits 0 ({p.returncode})")
    check("line 3" in p.stderr, "the bad line is reported with its line number")
    out = lines(a)
    check([r["index"] for r in out] == list(range(len(RECORDS))), "one line per record, in input order")
    check(out[2]["status"] == "error" and out[2]["line"] == 3, "the bad line is an error record")
    check(out[3]["id"] == "7" and out[3]["n"] == 3, "a numeric id is written as Python writes it")
    check(all(len(r["samples"]) == 3 and "meta_best" in r for r in out if r["status"] != "error"),
          "k samples and the MetaRM vote per record")
    check(all(r["samples"][0]["perm"] == [0] for r in out if r.get("n") == 1), "n = 1: the identity order")
    summ = json.load(open(os.path.join(tmp, "a.json")))
    check(summ["records"] == 7 and summ["errors"] == 1 and summ["samples"] == 18, "summary counts")
    check(os.path.getsize(os.path.join(tmp, "a.md")) > 0 and "<svg" in open(os.path.join(tmp, "a.md")).read(),
          "the report has the plot")
    p = score(["-m", JUDGE, "-i", inp, "-o", b, "--keep-text", "--meta-rm", META, "--profile", "--mem-stats"] + COMMON)
    check(p.returncode == 0 and open(a).read() == open(b).read(),
          "same seed, same input: the same bytes (with --profile and --mem-stats)")
    # --mem-stats: one line per output line, in order, with figures that hold together
    mem = [x.split() for x in p.stderr.splitlines() if x.startswith("mem: ")]
    check([int(m[2]) for m in mem] == list(range(len(RECORDS))), "--mem-stats: one mem line per record, in order")
    check(all(len(m) == 15 and m[13] == "pipelines" and 0 < int(m[14]) and 0 <= int(m[12]) <= int(m[4])
              for m in mem), "--mem-stats: rss, device, heap, big_anon <= rss, pipelines > 0")
    # --profile: the judge's and the MetaRM's kernels, rows adding up to the total line
    prof = p.stderr.splitlines()
    head = [i for i, x in enumerate(prof) if x.startswith("profile, device 0 (")]
    rows = [x.split() for x in prof[head[0] + 1:] if x.startswith("  ")] if head else []
    total = float(prof[head[0]].split("): ")[1].split(" s ")[0]) if head else -1
    names = {r[0] for r in rows}
    check(len(head) == 1 and {"embed_f32", "kv_append"} & names and any(n.startswith("rmsnorm") for n in names),
          f"--profile: a table with the forward's kernels ({sorted(names)[:6]}...)")
    check(rows and abs(sum(float(r[3]) for r in rows) - total) <= 0.001 * len(rows) + 1e-3,
          "--profile: the rows add up to the total")

    # 2. a record alone = the same record among the others
    alone = os.path.join(tmp, "alone.jsonl")
    for i in (0, 5):
        write_input(alone, [RECORDS[i]])
        o = os.path.join(tmp, f"alone{i}.out")
        p = score(["-m", JUDGE, "-i", alone, "-o", o, "--keep-text", "--meta-rm", META] + COMMON)
        check(p.returncode == 0 and no_index(lines(o)[0]) == no_index(out[i]), f"record {i} alone = among others")

    # 3. --shard 0/2 + 1/2, then --merge = the one run
    shards = []
    for i in range(2):
        o = os.path.join(tmp, f"shard{i}.jsonl")
        p = score(["-m", JUDGE, "-i", inp, "-o", o, "--keep-text", "--meta-rm", META, "--shard", f"{i}/2"] + COMMON)
        check(p.returncode == 0 and [r["index"] % 2 for r in lines(o)] == [i] * len(lines(o)),
              f"shard {i}/2 takes index = {i} mod 2")
        shards.append(o)
    merged = os.path.join(tmp, "merged.jsonl")
    p = score(["--merge", shards[1], shards[0], "-o", merged, "--summary", os.path.join(tmp, "merged.json")])
    check(p.returncode == 0 and open(merged).read() == open(a).read(), "--merge of the shards = the one run")
    check(p.returncode == 0 and no_throughput(os.path.join(tmp, "merged.json")) == no_throughput(os.path.join(tmp, "a.json")),
          "--merge's summary = the one run's")

    # 4. two judges on one device listed twice = one judge
    two = os.path.join(tmp, "two.jsonl")
    p = score(["-m", JUDGE, "-i", inp, "-o", two, "--keep-text", "--meta-rm", META, "--device", "0,0"] + COMMON)
    check(p.returncode == 0 and open(two).read() == open(a).read(), "--device 0,0 = one device")

    # 5. --resume after kill -9 (and after a cut last line) = the uninterrupted file
    big = os.path.join(tmp, "big.jsonl")
    write_input(big, [dict(r, id=f"{r['id']}-{i}") if isinstance(r, dict) else r for i in range(2) for r in RECORDS])
    # one record's judgments at a time (-np 3 = k), so the lines come one by one and the kill (and
    # the SIGINT of 8.) lands mid-run even on a fast host (with every judgment in flight they all
    # end within one poll)
    one = ["-np", "3"]
    full = os.path.join(tmp, "full.jsonl")
    p = score(["-m", JUDGE, "-i", big, "-o", full, "--keep-text"] + one + COMMON)
    check(p.returncode == 0, "the long run")
    res = os.path.join(tmp, "res.jsonl")
    proc = subprocess.Popen([BIN, "-m", JUDGE, "-i", big, "-o", res, "--keep-text"] + one + COMMON,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 300 and proc.poll() is None:
        if os.path.exists(res) and open(res).read().count("\n") >= 4:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    had = open(res).read().count("\n")
    check(0 < had < len(lines(full)), f"killed with {had} lines written")
    with open(res, "a") as f:
        f.write('{"index": 99, "id": "cut')  # what a kill in the middle of a write leaves
    p = score(["-m", JUDGE, "-i", big, "-o", res, "--keep-text", "--resume"] + one + COMMON)
    check(p.returncode == 0 and open(res).read() == open(full).read(), "--resume after kill -9 = the uninterrupted run")
    p = score(["-m", JUDGE, "-i", big, "-o", res, "--keep-text", "--resume", "-k", "2"] + COMMON[2:])
    check(p.returncode != 0 and "-k" in p.stderr, "--resume refuses an output written with another -k")

    # 6. --revote: all samples = the original votes; fewer = recomputed here
    rv = os.path.join(tmp, "rv.jsonl")
    p = score(["--revote", a, "-o", rv])
    check(p.returncode == 0 and open(rv).read() == open(a).read(), "--revote with every sample = the original lines")
    p = score(["--revote", a, "-o", rv, "-k", "2"])
    ok = p.returncode == 0
    for r0, r in zip(out, lines(rv) if ok else []):
        if r0["status"] == "error":
            continue
        valid = [s["scores"] for s in r0["samples"][:2] if s["scores"] is not None]
        sums = [sum(s[i] for s in valid) for i in range(r0["n"])] if valid else None
        ok &= r["k"] == 2 and r["valid"] == len(valid) and r["rewards"] == sums
    check(ok, "--revote -k 2 sums the first two samples' scores")

    # 7. --print-prompts: no weights needed; the permutations of the scored samples
    nw = os.path.join(tmp, "noweights")
    os.makedirs(nw)
    for f in os.listdir(JUDGE):
        if not f.endswith(".safetensors"):
            shutil.copy(os.path.join(JUDGE, f), nw)
    pp = os.path.join(tmp, "prompts.jsonl")
    p = score(["-m", nw, "-i", inp, "-o", pp] + COMMON)
    check(p.returncode != 0, "scoring without weights fails")
    p = score(["-m", nw, "-i", inp, "-o", pp, "--print-prompts"] + COMMON)
    got = lines(pp) if p.returncode == 0 else []
    check(len(got) == 3 * 6, "--print-prompts: k prompts per good record, without weights")
    ok = bool(got)
    for g in got:
        r = next(x for x in out if x["id"] == g["id"])
        ok &= g["perm"] == r["samples"][g["sample"]]["perm"]
        ok &= g["prompt"].startswith("<|im_start|>user\nYou are a skilled little expert") and \
            g["prompt"].endswith("<|im_end|>\n<|im_start|>assistant\n")
    check(ok, "--print-prompts shows the chat-wrapped prompt and the permutation each sample used")
    q2 = [g for g in got if g["id"] == "q2"][0]
    src = RECORDS[5]["responses"]
    pos = [q2["prompt"].index(f"[The Begin of Response {i + 1}]\n{src[q2['perm'][i]]}\n[The End of Response {i + 1}]")
           for i in range(4)]
    check(pos == sorted(pos), "response p of the prompt is responses[perm[p]]")

    # 8. SIGINT: only complete lines, exit 130
    si = os.path.join(tmp, "sigint.jsonl")
    proc = subprocess.Popen([BIN, "-m", JUDGE, "-i", big, "-o", si] + one + COMMON, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while time.time() - t0 < 300 and proc.poll() is None:
        if os.path.exists(si) and open(si).read().count("\n") >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate()[1]
    text = open(si).read()
    check(proc.returncode == 130 and text.endswith("\n") and all(json.loads(x) for x in text.splitlines()),
          f"SIGINT: exit 130 ({proc.returncode}), only complete lines ({text.count(chr(10))})")

    # 9. flags: exit 2 before any file is read; --json-errors
    for args in (["--shard", "2/2"], ["--meta-k", "2"], ["--resume"], ["-k", "0"], ["--top-p", "0"],
                 ["--weights", "q7"], ["--print-prompts", "--resume", "-o", a]):
        p = score(["-m", "/nonexistent", "-i", "/nonexistent"] + args)
        check(p.returncode == 2 and "nonexistent" not in p.stderr, f"flags {args}: exit 2 before reading files")
    p = score(["-m", "/nonexistent", "-i", inp, "--json-errors"])
    try:
        e = json.loads(p.stderr.strip().splitlines()[-1])
        ok = p.returncode == 1 and "nonexistent" in e["message"]
    except (ValueError, IndexError, KeyError):
        ok = False
    check(ok, "--json-errors: the error as one JSON object")

    shutil.rmtree(tmp)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
