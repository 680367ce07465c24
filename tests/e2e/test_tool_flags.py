#!/usr/bin/env python3
"""e2e: every tool checks its flags before it reads a file or opens a device,
and says the same thing the same way: a bad value, an unknown flag or a
missing value exits 2 with the flag named; --device 99 exits 2; --version
prints "vkgrm-<tool> <CMake project version>" and exits 0.

usage: test_tool_flags.py BIN_DIR TINY_LLAMA_DIR
(BIN_DIR/tools/vkgrm-*/vkgrm-*; the model is only used where a run must get
as far as the device.)"""
import os
import re
import subprocess
import sys

BIN, MODEL = sys.argv[1], sys.argv[2]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VERSION = re.search(r"project\(vkgrm VERSION ([0-9.]+)", open(os.path.join(ROOT, "CMakeLists.txt")).read()).group(1)
TOOLS = ["vkgrm-info", "vkgrm-tokenize", "vkgrm-generate", "vkgrm-bench", "vkgrm-inspect"]
NOFILE = "/nonexistent/model"  # a flag error must come before this path is looked at
failures = []


def exe(tool):
    return os.path.join(BIN, "tools", tool, tool)


def run(tool, args, timeout=120):
    env = dict(os.environ, VKGRM_NO_PROGRESS="1")
    return subprocess.run([exe(tool)] + args, capture_output=True, text=True, timeout=timeout, env=env)


def check(tool, args, rc, needle=None, absent=None):
    try:
        r = run(tool, args, timeout=60)
    except subprocess.TimeoutExpired:
        failures.append(f"{tool} {' '.join(args)}: still running after 60 s (the flag was not refused at once)")
        return subprocess.CompletedProcess(args, -1, "", "")
    msg = f"{tool} {' '.join(args)}: rc {r.returncode}"
    if r.returncode != rc:
        failures.append(f"{msg}, want {rc}\n  stderr: {r.stderr.strip()[:300]}")
    elif needle and needle not in r.stderr + r.stdout:
        failures.append(f"{msg}: output lacks {needle!r}\n  stderr: {r.stderr.strip()[:300]}")
    elif absent and absent in r.stderr:
        failures.append(f"{msg}: the message mentions {absent!r} (a file was read before the flags were checked)\n"
                        f"  stderr: {r.stderr.strip()[:300]}")
    return r


# --version, unknown flags and missing values, the same in every tool
for t in TOOLS:
    r = check(t, ["--version"], 0)
    if r.stdout.strip() != f"{t} {VERSION}":
        failures.append(f"{t} --version printed {r.stdout.strip()!r}, want '{t} {VERSION}'")
    check(t, ["--no-such-flag"], 2, "'--no-such-flag'")
    if t != "vkgrm-inspect":
        check(t, ["--device"] if t in ("vkgrm-info", "vkgrm-generate", "vkgrm-bench") else ["--model"], 2,
              "needs a value")

# numeric ranges of vkgrm-generate: refused before the model is looked at
G = ["-m", NOFILE, "-p", "hi"]
for flag, value, needle in [
        ("--temp", "-1", "out of range (T >= 0)"), ("--temp", "nan", "finite"), ("--temp", "inf", "finite"),
        ("--top-k", "-5", "out of range"), ("--top-p", "2", "out of range (0 < P <= 1)"),
        ("--top-p", "0", "out of range"), ("--min-p", "1.5", "out of range (0 <= P <= 1)"),
        ("--min-p", "-0.1", "out of range"), ("--n-samples", "0", "out of range (1 <= K"),
        ("-c", "-1", "out of range"), ("-n", "-2", "out of range (-1 <= N"),
        ("-n", "99999999999999999999", "decimal integer"), ("-s", "-3", "out of range"),
        ("--temp", "0x10", "finite decimal")]:
    check("vkgrm-generate", G + [flag, value], 2, f"option {flag}: ", absent="nonexistent")
check("vkgrm-generate", G + ["--weights", "q9"], 2, "--weights 'q9'", absent="nonexistent")
check("vkgrm-generate", G + ["--chat-template", "nope"], 2, "--chat-template 'nope'", absent="nonexistent")
check("vkgrm-generate", ["-m", NOFILE, "-p", "a", "-f", "b"], 2, "give the prompt once", absent="nonexistent")
# vkgrm-bench: --steps 0, a --filter that matches nothing
check("vkgrm-bench", ["--ops", "--steps", "0"], 2, "option --steps: 0 is out of range")
check("vkgrm-bench", ["--model", NOFILE, "--prefill", "-1"], 2, "option --prefill", absent="nonexistent")
check("vkgrm-bench", ["--ops", "--min-time", "0"], 2, "option --min-time")
check("vkgrm-bench", ["--ops", "--filter", "no_op_has_this_name"], 2, "matches no op")

# --device 99: exit 2 in every tool that takes --device, naming the devices there are
check("vkgrm-info", ["--device", "99"], 2, "devices:")
check("vkgrm-bench", ["--ops", "--filter", "copy_u32", "--device", "99"], 2, "devices:")
check("vkgrm-bench", ["--load", MODEL, "--device", "99"], 2, "devices:")
check("vkgrm-generate", ["-m", MODEL, "-p", "hi", "-n", "1", "--device", "99"], 2, "devices:")
check("vkgrm-generate", ["-m", MODEL, "-p", "hi", "-n", "1", "--device", "no-such-gpu"], 2, "devices:")

# -c beyond the model's limit, and -n -1 needing a limit that fits
check("vkgrm-generate", ["-m", MODEL, "-p", "hi", "-c", "999999"], 2, "max_position_embeddings")
check("vkgrm-generate", ["-m", MODEL, "-p", "hi " * 50, "-n", "-1", "-c", "8"], 2, "exceeds -c 8")

if failures:
    print("FAIL\n" + "\n".join(failures))
    sys.exit(1)
print(f"tool flags: {len(TOOLS)} tools, version {VERSION}: ok")
