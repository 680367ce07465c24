#!/usr/bin/env python3
"""Real preference data for judging, in RewardBench form (called by fetch_data.sh).

Writes one JSON object per line, {"id", "prompt", "chosen", "rejected", "subset"}:
  <out>/hhh_alignment.jsonl  Anthropic HHH alignment, 221 human-labelled pairs, from the
                             BIG-bench sdist on PyPI (bigbench 1.0.0, Apache-2.0):
                             bigbench/benchmark_tasks/hhh_alignment/<category>/task.json.
                             Each example is {"input", "target_scores": {response: 1|0}}
                             with exactly two responses; prompt = input (verbatim; some
                             inputs hold earlier turns as "\\n\\nAssistant: ...\\n\\nHuman: ..."),
                             chosen = the response scored 1, rejected = the one scored 0,
                             subset = "hhh-<category>" (harmless 58, helpful 59, honest 61,
                             other 43). RewardBench's prior set "anthropic_hhh" is these
                             221 pairs, prompt as one user turn, chosen/rejected the same way.
  <out>/judgebench.jsonl     JudgeBench pairs (MIT), 172, from the judicator 0.2.4 wheel:
                             judicator/fixtures/data/{qa,code}/position.jsonl. judicator
                             already resolved JudgeBench's label ("A>B": winner response_A,
                             "B>A": winner response_B; ties and identical pairs dropped) into
                             winner_response/loser_response, so prompt = question,
                             chosen = winner_response, rejected = loser_response;
                             subset "judgebench-mmlu-pro" (100, qa) and
                             "judgebench-livecodebench" (72, code).
ids are "<subset>-<n>", n the 0-based position of the example in its source file.

Downloads are pinned by sha256 and cached in <out>/downloads: the judicator wheel as is;
of the 358 MB BIG-bench sdist only the four hhh_alignment task.json files (each pinned
too): the sdist is streamed, its sha256 checked over every byte, and never stored.
Every file is written to a temporary name in its directory and renamed into place.

When the registry refuses the BIG-bench sdist (HTTP 403/404/410: it stopped serving that
version, as on 2026-12-04) and the task.json files are not cached, judgebench.jsonl is still
written, hhh_alignment.jsonl is not, and <out>/hhh_alignment.unavailable holds the reason;
the eval_data_hhh test then reports itself skipped. Any other download failure is an error.

usage: fetch_data.py OUT_DIR        (standard library only)"""
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

BIGBENCH_URL = ("https://files.pythonhosted.org/packages/95/f8/"
                "c019b3579df548a04cac12342cfcb878e50ddf6cfcd7fddba8cfc721c157/bigbench-1.0.0.tar.gz")
BIGBENCH_SHA256 = "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2"
HHH_DIR = "bigbench-1.0.0/bigbench/benchmark_tasks/hhh_alignment"
HHH_SHA256 = {  # the members as they are in that sdist
    "harmless": "4720acbc916cc18413e48c6bb55c19af73400436a6304c7e110b8bb40f8952a1",
    "helpful": "1bd2a58d9bb17b26af4806e8302374cea60671dc387fbfc2c5aa5c23e0901628",
    "honest": "69ba96e5bff121327ad1366e3772b7b45c50e96e7f995b2cef62c350380f1b14",
    "other": "4d6b041d79e5bf2705a9f81994efb95274179faaba9270f6dc83bd0cd17c227e",
}
JUDICATOR_WHEEL = "judicator-0.2.4-py3-none-any.whl"
JUDICATOR_URL = ("https://files.pythonhosted.org/packages/38/d5/"
                 "28314645f73117475a9ecf2ea902a1b4e43cfa62ec4fbab181cfc99b43c5/" + JUDICATOR_WHEEL)
JUDICATOR_SHA256 = "a2a944268459bfd16a846b5ce895af16f1924679f9a178424d4d988802e3cc87"
JUDGEBENCH_FILES = [("judgebench-mmlu-pro", "judicator/fixtures/data/qa/position.jsonl"),
                    ("judgebench-livecodebench", "judicator/fixtures/data/code/position.jsonl")]
FIELDS = ("id", "prompt", "chosen", "rejected", "subset")


def fail(msg):
    raise SystemExit(f"fetch_data: {msg}")


def umask_mode(mode):
    """mode as the umask lets it be (mkstemp/mkdtemp make private 0600/0700 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class HashingReader:
    """A file object that hashes and counts every byte read through it."""

    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def read(self, n=-1):
        b = self.f.read(n)
        self.h.update(b)
        self.n += len(b)
        return b

    def drain(self):
        while self.read(1 << 20):
            pass
        return self.h.hexdigest()


class Refused(Exception):
    """The registry answered that the file is not served (HTTP 403, 404 or 410): asking again
    does not help, so it is not retried."""


def open_url(url, tries=3):
    for i in range(tries):
        try:
            return urllib.request.urlopen(url, timeout=60)
        except urllib.error.HTTPError as e:
            if e.code in (403, 404, 410):
                raise Refused(f"{url}: HTTP {e.code} {e.reason}") from None
            if i == tries - 1:
                fail(f"cannot download {url}: {e}")
        except OSError as e:
            if i == tries - 1:
                fail(f"cannot download {url}: {e}")
        time.sleep(2 * (i + 1))


def download(url, sha256, dest):
    """dest = the file at url, checked against sha256 (a cached dest is checked too)."""
    if os.path.exists(dest) and sha256_file(dest) == sha256:
        return dest
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".dl.")
    try:
        try:
            r = open_url(url)
        except Refused as e:
            fail(f"cannot download {e}")
        with os.fdopen(fd, "wb") as out, r:
            shutil.copyfileobj(r, out, 1 << 20)
        got = sha256_file(tmp)
        if got != sha256:
            fail(f"{url}: sha256 {got}, expected {sha256}")
        os.chmod(tmp, umask_mode(0o666))
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def hhh_cached(hhh):
    return all(os.path.isfile(f"{hhh}/{c}/task.json") and sha256_file(f"{hhh}/{c}/task.json") == s
               for c, s in HHH_SHA256.items())


def fetch_hhh(downloads):
    """The four hhh_alignment task.json files, streamed out of the BIG-bench sdist."""
    hhh = os.path.join(downloads, "bigbench-1.0.0-hhh_alignment")
    if hhh_cached(hhh):
        return hhh
    tmp = tempfile.mkdtemp(dir=downloads, prefix=".hhh.")
    try:
        want = {f"{HHH_DIR}/{c}/task.json": c for c in HHH_SHA256}
        with open_url(BIGBENCH_URL) as r:
            src = HashingReader(r)
            with tarfile.open(fileobj=src, mode="r|gz") as tf:
                for m in tf:
                    if m.name in want and m.isfile():
                        cat = want.pop(m.name)
                        os.makedirs(f"{tmp}/{cat}")
                        with tf.extractfile(m) as f, open(f"{tmp}/{cat}/task.json", "wb") as o:
                            shutil.copyfileobj(f, o)
                        if not want:  # all four found: the rest is only hashed
                            break
            got = src.drain()
        if got != BIGBENCH_SHA256:
            fail(f"{BIGBENCH_URL}: sha256 {got}, expected {BIGBENCH_SHA256}")
        if not hhh_cached(tmp):
            fail(f"{BIGBENCH_URL}: the hhh_alignment task.json files are missing or differ from the pinned sha256")
        os.chmod(tmp, umask_mode(0o777))
        shutil.rmtree(hhh, ignore_errors=True)
        os.replace(tmp, hhh)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return hhh


def hhh_records(hhh):
    out = []
    for cat in HHH_SHA256:
        path = f"{hhh}/{cat}/task.json"
        for i, ex in enumerate(json.load(open(path, encoding="utf-8"))["examples"]):
            ts = ex["target_scores"]
            chosen = [r for r, s in ts.items() if s == 1]
            rejected = [r for r, s in ts.items() if s == 0]
            if len(ts) != 2 or len(chosen) != 1 or len(rejected) != 1:
                fail(f"{path}: example {i} has target_scores {list(ts.values())}, want one 1 and one 0")
            sub = f"hhh-{cat}"
            out.append(dict(id=f"{sub}-{i:03d}", prompt=ex["input"], chosen=chosen[0], rejected=rejected[0],
                            subset=sub))
    return out


def judgebench_records(wheel):
    out = []
    with zipfile.ZipFile(wheel) as z:
        for sub, member in JUDGEBENCH_FILES:
            lines = [ln for ln in z.read(member).decode("utf-8").splitlines() if ln.strip()]
            for i, line in enumerate(lines):
                r = json.loads(line)
                if r.get("source_dataset") != "JudgeBench":
                    fail(f"{wheel}:{member}: line {i + 1} is from {r.get('source_dataset')!r}, not JudgeBench")
                out.append(dict(id=f"{sub}-{i:03d}", prompt=r["question"], chosen=r["winner_response"],
                                rejected=r["loser_response"], subset=sub))
    return out


def write_jsonl(path, records):
    for r in records:
        bad = [k for k in FIELDS if not isinstance(r[k], str) or not r[k].strip()]
        if bad or r["chosen"] == r["rejected"]:
            fail(f"{path}: record {r['id']}: empty {bad} or chosen == rejected")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".out.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n")
        os.chmod(tmp, umask_mode(0o666))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    if len(sys.argv) != 2:
        fail("usage: fetch_data.py OUT_DIR")
    out = sys.argv[1]
    downloads = os.path.join(out, "downloads")
    os.makedirs(downloads, exist_ok=True)
    t0 = time.time()
    unavailable = os.path.join(out, "hhh_alignment.unavailable")
    try:
        hhh = fetch_hhh(downloads)
    except Refused as e:
        # The registry stopped serving the BIG-bench sdist (seen 2026-12-04: "This package
        # version is not available"). JudgeBench is still written; the HHH set is marked
        # unavailable with the reason, which tests/e2e/test_eval_data.py reports as a skip.
        hhh = None
        for stale in ("hhh_alignment.jsonl",):
            if os.path.exists(os.path.join(out, stale)):
                os.unlink(os.path.join(out, stale))
        with open(unavailable, "w", encoding="utf-8") as f:
            f.write(f"{e}\n")
        print(f"fetch_data: WARNING: HHH alignment not written, the registry refused its source: {e}",
              file=sys.stderr)
    wheel = download(JUDICATOR_URL, JUDICATOR_SHA256, os.path.join(downloads, JUDICATOR_WHEEL))
    t1 = time.time()
    sets = [("judgebench.jsonl", judgebench_records(wheel))]
    if hhh is not None:
        sets.insert(0, ("hhh_alignment.jsonl", hhh_records(hhh)))
    for name, recs in sets:
        write_jsonl(os.path.join(out, name), recs)
        print(f"fetch_data: {len(recs)} pairs in {os.path.join(out, name)}")
    if hhh is not None and os.path.exists(unavailable):
        os.unlink(unavailable)
    print(f"fetch_data: downloads {t1 - t0:.1f} s, conversion {time.time() - t1:.2f} s")


if __name__ == "__main__":
    main()
