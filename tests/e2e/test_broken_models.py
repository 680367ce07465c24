#!/usr/bin/env python3
"""e2e: a model is checked whole before anything is allocated (issue 10 §1).

Every broken variant of tests/fixtures/make_broken_models.py must be refused by
both tools with exit status 1: vkgrm-inspect prints every expected message (one
problem per stderr line, each naming its file), vkgrm-generate prints the first
one. Every good tiny model must pass vkgrm-inspect (exit 0, no error line), as
stored and with --weights q8_0.

usage: test_broken_models.py VKGRM_INSPECT VKGRM_GENERATE BROKEN_DIR TINY_MODELS_DIR"""
import json
import os
import subprocess
import sys


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def check_broken(inspect, generate, d, expect):
    fails = []
    rc, out, err = run([inspect, d])
    lines = err.splitlines()
    if rc != 1:
        fails.append(f"inspect exit {rc}, want 1")
    if not lines or any(not (ln.startswith("vkgrm-inspect: error: ") or ln.startswith("vkgrm-inspect: note: "))
                        for ln in lines):
        fails.append("inspect: every stderr line must be 'vkgrm-inspect: error|note: ...'")
    for e in expect:
        hit = [ln for ln in lines if e in ln and ln.startswith("vkgrm-inspect: error: ")]
        if not hit:
            fails.append(f"inspect: no error line with {e!r}")
        elif d not in hit[0]:
            fails.append(f"inspect: the line does not name a file of {d}: {hit[0]}")
    if "status:       would NOT load" not in out:
        fails.append("inspect: no 'would NOT load' status line")
    rc, out, gerr = run([generate, "-m", d, "--prompt-ids", "1,2,3", "-n", "1"])
    if rc != 1:
        fails.append(f"generate exit {rc}, want 1")
    if expect[0] not in gerr:
        fails.append(f"generate: no {expect[0]!r} in its message")
    if out:
        fails.append("generate: wrote output")
    if fails:
        print(f"--- inspect stderr:\n{err}--- generate stderr:\n{gerr}")
    return fails


def check_good(inspect, d):
    fails = []
    for extra in ([], ["--weights", "q8_0"], ["--json"]):
        rc, out, err = run([inspect, d] + extra)
        if rc != 0 or "error" in err:
            fails.append(f"inspect {' '.join(extra)}: exit {rc}, stderr {err!r}")
        elif extra == ["--json"]:
            j = json.loads(out)
            if not j["loadable"] or j["errors"] or j["layers"] != json.load(open(os.path.join(d, "config.json")))[
                    "num_hidden_layers"]:
                fails.append(f"inspect --json: {out}")
        elif "status:       would load" not in out:
            fails.append(f"inspect {' '.join(extra)}: no 'would load' line")
    return fails


def main():
    inspect, generate, broken, tiny = sys.argv[1:5]
    manifest = json.load(open(os.path.join(broken, "manifest.json")))
    bad = 0
    for name, v in manifest.items():
        fails = check_broken(inspect, generate, os.path.join(broken, name), v["expect"])
        print(f"{name} ({v['base']}): {'refused by both tools as expected' if not fails else 'FAIL'}")
        for f in fails:
            print("   ", f)
        bad += bool(fails)
    goods = sorted(n for n in os.listdir(tiny) if os.path.exists(os.path.join(tiny, n, "config.json")))
    for name in goods:
        fails = check_good(inspect, os.path.join(tiny, name))
        print(f"{name}: {'inspect: would load' if not fails else 'FAIL'}")
        for f in fails:
            print("   ", f)
        bad += bool(fails)
    if bad:
        sys.exit(f"{bad} model(s) failed")
    print(f"broken models OK: {len(manifest)} refused, {len(goods)} good ones pass")


if __name__ == "__main__":
    main()
