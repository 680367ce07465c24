#!/usr/bin/env python3
"""e2e: vkgrm-generate (and vkgrm-tokenize) on broken input and when stopped:

  special files   a FIFO as the model directory, as model.safetensors, as
                  tokenizer.json: refused at once with a message naming it
  broken models   a bad generation_config.json: exit 1 naming it; NaN weights
                  (and rms_norm_eps < 0): exit 1 naming the sample and the
                  step, never a token id -1 with exit 0
  prompt files    -f reads the whole file; a NUL byte is an error
                  (vkgrm-tokenize -f encodes every byte, as HF does)
  streaming       one sample's text is on stdout before the run ends
  interrupts      SIGINT stops at the next step, prints each live sample
                  with "finish_reason": "interrupted", exits 130; SIGTERM the
                  same; a signal before generation exits 130 at once
  output files    --dump-logits through a symlink writes its target and
                  keeps the link

usage: test_generate_reliability.py BIN_DIR TINY_MODELS_DIR BROKEN_MODELS_DIR"""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN, TINY, BROKEN = sys.argv[1:4]
GEN = os.path.join(BIN, "tools", "vkgrm-generate", "vkgrm-generate")
TOK = os.path.join(BIN, "tools", "vkgrm-tokenize", "vkgrm-tokenize")
LLAMA = os.path.join(TINY, "llama")
ENV = dict(os.environ, VKGRM_NO_PROGRESS="1", VKGRM_VALIDATE="1")
failures = []


def fail(msg):
    print("FAIL", msg, flush=True)
    failures.append(msg)


def run(args, timeout=300, exe=GEN):
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, env=ENV)


def expect(args, rc, needles, timeout=300, exe=GEN):
    t0 = time.time()
    try:
        r = run(args, timeout, exe)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(args)}: still running after {timeout} s (blocked?)")
        return None
    what = f"{os.path.basename(exe)} {' '.join(args)[:120]}"
    if r.returncode != rc:
        fail(f"{what}: rc {r.returncode}, want {rc}\n  stdout: {r.stdout[:300]}\n  stderr: {r.stderr[:500]}")
    for n in needles:
        if n not in r.stderr:
            fail(f"{what}: stderr lacks {n!r}\n  stderr: {r.stderr[:500]}")
    print(f"ok ({time.time() - t0:.1f} s): {what}", flush=True)
    return r


def linked_model(work, name, replace):
    """The tiny llama with the files in `replace` swapped for FIFOs."""
    d = os.path.join(work, name)
    os.makedirs(d)
    for f in os.listdir(LLAMA):
        if f in replace:
            os.mkfifo(os.path.join(d, f))
        else:
            os.symlink(os.path.abspath(os.path.join(LLAMA, f)), os.path.join(d, f))
    return d


def special_files(work):
    fifo = os.path.join(work, "fifo")
    os.mkfifo(fifo)
    expect(["-m", fifo, "-p", "hi"], 1, ["is a FIFO (named pipe), not a model directory"], timeout=60)
    d = linked_model(work, "fifo_weights", {"model.safetensors"})
    expect(["-m", d, "-p", "hi", "-n", "1"], 1, ["model.safetensors: is a FIFO"], timeout=120)
    d = linked_model(work, "fifo_tokenizer", {"tokenizer.json"})
    expect(["-m", d, "-p", "hi"], 1, ["tokenizer.json: is a FIFO"], timeout=60)
    expect(["-m", d, "hi"], 1, ["tokenizer.json: is a FIFO"], timeout=60, exe=TOK)
    d = linked_model(work, "fifo_config", {"config.json"})
    expect(["-m", d, "-p", "hi"], 1, ["config.json: is a FIFO"], timeout=60)


def broken_models():
    expect(["-m", os.path.join(BROKEN, "bad_genconfig"), "-p", "hi", "-n", "2"], 1,
           ["bad_genconfig/generation_config.json is not valid JSON"], timeout=60)
    for args in (["--json"], ["--n-samples", "2", "--temp", "0.8"]):
        r = expect(["-m", os.path.join(BROKEN, "nan_weights"), "-p", "Hello", "-n", "4"] + args, 1,
                   ["sample 0, generation step 0", "not finite"])
        if r is not None and r.stdout:
            fail(f"NaN weights: something was printed as if generated: {r.stdout[:200]}")
    # rms_norm_eps < 0: the loader may refuse it (exit 1 naming the field), or
    # it reaches generation and the NaN logits are caught there
    r = expect(["-m", os.path.join(BROKEN, "negative_eps"), "-p", "Hello", "-n", "4", "--json"], 1, [])
    if r is not None and "rms_norm_eps" not in r.stderr and "not finite" not in r.stderr:
        fail(f"negative eps: the message names neither rms_norm_eps nor non-finite logits: {r.stderr[:300]}")


def prompt_files(work):
    # a chat template that fails to load: exit 2 naming it (and, in the
    # sanitizer build, no leak of the model's template loaded before it)
    expect(["-m", LLAMA, "-p", "hi", "--chat-template-file", "/nonexistent/tmpl.txt"], 2,
           ["/nonexistent/tmpl.txt"], timeout=60)
    bad = os.path.join(work, "bad_tmpl.txt")
    open(bad, "w").write("no sections here\n")
    expect(["-m", LLAMA, "-p", "hi", "--chat-template-file", bad], 2, ["bad_tmpl.txt: no [section] headers"],
           timeout=60)
    p = os.path.join(work, "nul.txt")
    open(p, "wb").write(b"Hello\x00world")
    expect(["-m", LLAMA, "-f", p, "-n", "1"], 2, ["nul.txt: NUL byte at offset 5"], timeout=60)
    # vkgrm-tokenize encodes every byte, NUL included (Python's tokenizer does the same)
    whole = run(["-m", LLAMA, "-f", p, "--json", "--no-bos"], exe=TOK)
    head = run(["-m", LLAMA, "--json", "--no-bos", "Hello"], exe=TOK)
    if whole.returncode or len(json.loads(whole.stdout)) <= len(json.loads(head.stdout)):
        fail(f"vkgrm-tokenize -f cut the text at the NUL: {whole.stdout} vs {head.stdout} {whole.stderr}")


def wait_output(proc, path, what, timeout=240):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            return False
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.2)
    fail(f"{what}: nothing after {timeout} s")
    return False


def streaming_and_sigint(work):
    """Text mode: stdout fills while generating; SIGINT -> rest of the text, exit 130.
    The logits dump goes through a symlink (written through, the link kept)."""
    out, err = os.path.join(work, "stream.out"), os.path.join(work, "stream.err")
    target, link = os.path.join(work, "logits.bin"), os.path.join(work, "logits.link")
    open(target, "wb").write(b"old")
    os.symlink(target, link)
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([GEN, "-m", LLAMA, "-p", "Hello world", "-n", "-1", "--dump-logits", link],
                             stdout=o, stderr=e, env=ENV)
        streamed = wait_output(p, out, "streaming")
        if not streamed:
            fail("text mode: no text on stdout while the sample was being generated")
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=120)
    text, errs = open(out, "rb").read(), open(err).read()
    if rc != 130 or "interrupted" not in errs:
        fail(f"SIGINT while generating: rc {rc}, want 130; stderr: {errs[:300]}")
    if not text.endswith(b"\n"):
        fail(f"SIGINT: the interrupted text was not finished with a newline: {text[-80:]!r}")
    n_prompt = len(json.loads(run(["-m", LLAMA, "--json", "Hello world"], exe=TOK).stdout))
    vocab = json.load(open(os.path.join(LLAMA, "config.json")))["vocab_size"]
    if not os.path.islink(link) or os.path.getsize(target) != n_prompt * vocab * 4:
        fail(f"--dump-logits through a symlink: link kept {os.path.islink(link)}, target {os.path.getsize(target)} "
             f"bytes, want {n_prompt * vocab * 4}")
    print(f"ok: streamed {len(text)} bytes, SIGINT -> 130, dump through the symlink", flush=True)


def json_sigterm(work):
    """--n-samples 2: SIGTERM once tokens are flowing (seen on the progress bar,
    stderr on a pty) -> one JSON line per sample, finish_reason interrupted."""
    master, slave = pty.openpty()
    env = dict(ENV)
    env.pop("VKGRM_NO_PROGRESS")
    p = subprocess.Popen([GEN, "-m", LLAMA, "-p", "Hello", "-n", "-1", "--n-samples", "2", "--temp", "0.9", "-s", "3"],
                         stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen, buf, t0 = False, b"", time.time()
    while time.time() - t0 < 240 and not seen and p.poll() is None:
        if select.select([master], [], [], 0.5)[0]:
            try:
                buf += os.read(master, 4096)
            except OSError:
                break
            seen = b"generate [" in buf
    if not seen:
        fail(f"--n-samples 2: no generation progress seen: {buf[-300:]!r}")
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=120)
    os.close(master)
    lines = [json.loads(x) for x in out.decode().splitlines()]
    if p.returncode != 130 or len(lines) != 2 or any(x["finish_reason"] != "interrupted" for x in lines) \
            or sorted(x["index"] for x in lines) != [0, 1] or any(not x["tokens"] for x in lines):
        fail(f"SIGTERM with --n-samples 2: rc {p.returncode}, lines {lines}")
    else:
        print(f"ok: SIGTERM -> 130, {[len(x['tokens']) for x in lines]} tokens per sample", flush=True)


def signal_before_generation():
    """Not generating yet (loading): the first SIGINT exits 130 at once. The
    whole run takes about a second on a fast machine, so the signal goes out
    ever earlier (the handler is installed first thing in main) until one lands
    before any token is written; a run that had started generating, or had
    already finished (rc 0: a fast host with a warm shader cache), is no verdict."""
    for delay in (0.6, 0.3, 0.15, 0.05):
        p = subprocess.Popen([GEN, "-m", LLAMA, "-p", "Hello", "-n", "4"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ENV)
        time.sleep(delay)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        if p.returncode in (0, 130) and out:
            continue  # generation had begun (or the run had even finished): try an earlier moment
        if p.returncode != 130 or time.time() - t0 > 5:
            fail(f"SIGINT while loading ({delay} s in): rc {p.returncode} after {time.time() - t0:.1f} s, "
                 f"stdout {out[:100]!r}")
        else:
            print(f"ok: SIGINT while loading ({delay} s in) -> 130 in {time.time() - t0:.2f} s", flush=True)
        return
    fail("SIGINT while loading: every run had started generating before the signal")


def main():
    work = tempfile.mkdtemp(prefix="vkgrm-reliability-")
    try:
        special_files(work)
        prompt_files(work)
        broken_models()
        signal_before_generation()
        streaming_and_sigint(work)
        json_sigterm(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} FAILURES")
        sys.exit(1)
    print("generate reliability: ok")


if __name__ == "__main__":
    main()
