"""make_data.py — the synthetic judging task of the toy judges, deterministic.

Six small task families with a checkable truth (the record's "subset"), kept small
so that a tiny model can learn to judge them (learnt format only, so far: see README):

  add      a + b, a in 1..9 (a quarter: 10..19), b in 1..9
  convert  n (2..99) units -> a metric sub-unit (x10, x100, x1000: append zeros)
  reverse  a random 3-4 letter string backwards
  sort     3 distinct single digits in ascending order
  lookup   "Ages: Anna 34, Ben 27, Carl 51. How old is Ben?" (the fact is in the query)
  capital  the capital of a country (a fixed table of 12)

Each item has one correct response and 1-2 wrong ones (n = 2: 80 %, n = 3: 20 %),
all distinct and plausible (off by one, a digit pair swapped, one zero too many or
too few, two letters swapped, the unreversed string, the wrong person's age, the
country's best-known other city ...). Responses are stored in a fixed random order;
`label` is the index of the correct one. An item also writes the judge's target
for any shown order (judgment()): a "Specific Criteria:" line (varied phrasing and
weights), an "Analysis:" line that works the answer out and names each response
right or wrong, and "Scores: \\boxed{...}" (correct 8-10, wrong 1-4, near misses
higher). Targets are always correct: there is no label noise.

Written files (python3 models/make_data.py):
  examples/heldout.jsonl  600 records (100 per subset), seed 7001
  examples/demo.jsonl      36 records (6 per subset), seed 7002, disjoint from heldout
Training items come from stream(seed) in the training scripts; they skip every
key (query; for capital: query + response set) of these two files.
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SUBSETS = ["add", "convert", "reverse", "sort", "lookup", "capital"]
HELDOUT_SEED, HELDOUT_N = 7001, 600
DEMO_SEED, DEMO_N = 7002, 36

CAPITALS = [  # country, capital, a well-known other city of that country
    ("France", "Paris", "Lyon"), ("Germany", "Berlin", "Munich"), ("Italy", "Rome", "Milan"),
    ("Spain", "Madrid", "Barcelona"), ("Japan", "Tokyo", "Osaka"), ("China", "Beijing", "Shanghai"),
    ("Canada", "Ottawa", "Toronto"), ("Australia", "Canberra", "Sydney"), ("Brazil", "Brasilia", "Rio"),
    ("Egypt", "Cairo", "Alexandria"), ("Turkey", "Ankara", "Istanbul"), ("India", "Delhi", "Mumbai"),
]

NAMES = ["Anna", "Ben", "Carl", "Dora", "Emil", "Fay", "Gus", "Hana", "Ivan", "Jill", "Kurt", "Lena",
         "Max", "Nina", "Omar", "Pia", "Raj", "Sara", "Tom", "Vera"]

UNITS = [  # from, to, factor
    ("km", "meters", 1000), ("meters", "centimeters", 100), ("cm", "millimeters", 10),
    ("kg", "grams", 1000), ("liters", "milliliters", 1000), ("dollars", "cents", 100),
]

CRITERIA = {
    "add": ["The exact value of the sum (weight {w}%) and a clear final answer (weight {r}%).",
            "Correctness of the computed number (weight {w}%) and clarity of the answer (weight {r}%)."],
    "convert": ["The correct conversion factor and value (weight {w}%) and the right unit (weight {r}%).",
                "Correctness of the converted amount (weight {w}%) and clarity (weight {r}%)."],
    "reverse": ["Every character present and in reversed order (weight {w}%) and a clear answer (weight {r}%).",
                "Correctness of the reversed string (weight {w}%) and clarity (weight {r}%)."],
    "sort": ["All numbers present and in ascending order (weight {w}%) and a clear answer (weight {r}%).",
             "Correctness of the sorted order (weight {w}%) and completeness of the list (weight {r}%)."],
    "lookup": ["Agreement with the facts given in the query (weight {w}%) and a direct answer (weight {r}%).",
               "Correctness of the looked-up value (weight {w}%) and clarity (weight {r}%)."],
    "capital": ["Factual accuracy of the named city (weight {w}%) and a direct answer (weight {r}%).",
                "Correctness of the capital (weight {w}%) and clarity (weight {r}%)."],
}


class Item:
    """One judging problem: query, responses (fixed order), label, and what the
    judge writes about it (truth: the worked answer; given[i]: the value response
    i states; near[i]: a wrong response that is a near miss)."""

    def __init__(self, subset, kind, query, responses, label, truth, given, near):
        self.subset, self.kind, self.query = subset, kind, query
        self.responses, self.label = responses, label
        self.truth, self.given, self.near = truth, given, near

    def record(self, rid):
        return {"id": rid, "query": self.query, "responses": self.responses,
                "label": self.label, "subset": self.subset}

    def key(self):
        """What must not repeat between training and held-out data."""
        if self.subset == "capital":
            return (self.query, tuple(sorted(self.responses)))
        return self.query

    def judgment(self, perm, rng):
        """The target for shown order perm (perm[j] = original index of shown j)."""
        w = rng.choice([100, 90, 80, 70])
        crit = rng.choice(CRITERIA[self.kind]).format(w=w, r=100 - w)
        if w == 100:
            crit = crit.split(" (weight 100%)")[0] + " (weight 100%)."
        parts, scores = [f"Analysis: {self.truth}"], []
        for j, i in enumerate(perm, 1):
            ok = i == self.label
            parts.append(f"Response {j} gives {self.given[i]}, which is {'correct' if ok else 'wrong'}.")
            if ok:
                s = rng.choices([8, 9, 10], [3, 4, 3])[0]
            elif self.near[i]:
                s = rng.choices([2, 3, 4], [3, 4, 3])[0]
            else:
                s = rng.choices([1, 2, 3], [4, 4, 2])[0]
            scores.append(s)
        return (f"Specific Criteria: {crit}\n" + " ".join(parts) + "\n"
                + "Scores: \\boxed{" + ", ".join(map(str, scores)) + "}")


def n_responses(rng):
    return rng.choices([2, 3], [8, 2])[0]


def pick_wrong(rng, correct, candidates, n_wrong):
    """n_wrong distinct (value, near) from candidates [(value, near)], none equal to correct."""
    seen, out = {correct}, []
    pool = list(candidates)
    rng.shuffle(pool)
    for v, near in pool:
        if v is not None and v not in seen:
            seen.add(v)
            out.append((v, near))
        if len(out) == n_wrong:
            return out
    return None


def assemble(rng, subset, query, correct, wrong, truth, surface):
    """Put correct + wrong values in a random fixed order, render each response."""
    vals = [(correct, False)] + wrong
    order = list(range(len(vals)))
    rng.shuffle(order)
    vals = [vals[k] for k in order]
    label = order.index(0)
    responses = [surface(v) for v, _ in vals]
    if len(set(responses)) != len(responses):
        return None
    return Item(subset, subset, query, responses, label, truth,
                [str(v) for v, _ in vals], [near for _, near in vals])


def digits_swapped(v):
    s = str(v)
    if len(s) < 2 or s[0] == s[1] or s[1] == "0":
        return None
    return int(s[1] + s[0] + s[2:])


def gen_add(rng):
    a = rng.randint(10, 19) if rng.random() < 0.25 else rng.randint(1, 9)
    b = rng.randint(1, 9)
    if rng.random() < 0.5:
        a, b = b, a
    v = a + b
    cands = [(v + 1, True), (v - 1, True), (v + 2, True), (v - 2, True), (digits_swapped(v), True),
             (v + 10, False), (abs(a - b), False)]
    cands = [(c, n) for c, n in cands if c is not None and c > 0]
    wrong = pick_wrong(rng, v, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    q = rng.choice(["What is {a} + {b}?", "Compute {a} + {b}.", "Calculate {a} + {b}.",
                    "{a} + {b} = ?"]).format(a=a, b=b)
    return assemble(rng, "add", q, v, wrong, f"{a}+{b}={v}.", str)


def gen_convert(rng):
    src, dst, f = rng.choice(UNITS)
    n = rng.randint(2, 99)
    v = n * f
    cands = [(n * g, True) for g in (10, 100, 1000, 10000) if g != f and (g == f * 10 or g * 10 == f)]
    cands += [(n * g, False) for g in (10, 100, 1000) if g != f]
    cands += [((n + 1) * f, True), ((n - 1) * f, True)]
    sw = digits_swapped(n)
    if sw:
        cands.append((sw * f, True))
    wrong = pick_wrong(rng, v, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    q = rng.choice(["Convert {n} {s} to {d}.", "How many {d} are in {n} {s}?", "Express {n} {s} in {d}."]).format(
        n=n, s=src, d=dst)
    form = rng.choice(["{v}", "{v} {d}"])
    return assemble(rng, "convert", q, v, wrong, f"1 {src} = {f} {dst}, so {n} {src} = {v} {dst}.",
                    lambda x: form.format(d=dst, v=x))


def quoted(s):
    return '"' + s + '"'


def gen_reverse(rng):
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 4)))
    rev = word[::-1]
    if rev == word:
        return None
    cands = []
    for i in range(len(rev) - 1):
        cands.append((rev[:i] + rev[i + 1] + rev[i] + rev[i + 2:], True))
    cands += [(word, False), (rev[1:] + rev[0], False)]
    wrong = pick_wrong(rng, rev, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    q = rng.choice(["Reverse the string {w}.", "Write {w} backwards.", "What is {w} reversed?"]).format(
        w=quoted(word))
    it = assemble(rng, "reverse", q, rev, wrong, f"{quoted(word)} reversed is {quoted(rev)}.", quoted)
    if it:
        it.given = [quoted(g) for g in it.given]
    return it


def gen_sort(rng):
    nums = rng.sample(range(1, 10), 3)
    srt = sorted(nums)
    if nums == srt:
        return None
    fmt = lambda xs: ", ".join(map(str, xs))  # noqa: E731
    correct = fmt(srt)
    cands = [(fmt([srt[1], srt[0], srt[2]]), True), (fmt([srt[0], srt[2], srt[1]]), True),
             (fmt(srt[::-1]), False), (fmt(nums), False)]
    wrong = pick_wrong(rng, correct, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    q = rng.choice(["Sort these numbers in ascending order: {l}.", "Arrange {l} from smallest to largest.",
                    "Put {l} in increasing order."]).format(l=fmt(nums))
    return assemble(rng, "sort", q, correct, wrong, f"{fmt(nums)} in ascending order is {correct}.", str)


def gen_lookup(rng):
    names = rng.sample(NAMES, 3)
    ages = rng.sample(range(10, 100), 3)
    k = rng.randrange(3)
    who, v = names[k], ages[k]
    cands = [(ages[j], False) for j in range(3) if j != k]
    cands += [(v + 1, True), (v - 1, True), (digits_swapped(v), True)]
    wrong = pick_wrong(rng, v, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    table = ", ".join(f"{n} {a}" for n, a in zip(names, ages))
    q = rng.choice(["Ages: {t}. How old is {w}?", "Ages: {t}. What is the age of {w}?"]).format(t=table, w=who)
    form = rng.choice(["{v}", "{v} years old"])
    return assemble(rng, "lookup", q, v, wrong, f"the query says {who} is {v}.", lambda x: form.format(v=x))


def gen_capital(rng):
    country, cap, other = rng.choice(CAPITALS)
    cands = [(other, True)] + [(c[1], False) for c in rng.sample(CAPITALS, 3) if c[1] != cap]
    wrong = pick_wrong(rng, cap, cands, n_responses(rng) - 1)
    if wrong is None:
        return None
    q = rng.choice(["What is the capital of {c}?", "Which city is the capital of {c}?",
                    "Name the capital city of {c}."]).format(c=country)
    return assemble(rng, "capital", q, cap, wrong, f"the capital of {country} is {cap}.", str)


GENERATORS = {"add": gen_add, "convert": gen_convert, "reverse": gen_reverse, "sort": gen_sort,
              "lookup": gen_lookup, "capital": gen_capital}
WEIGHTS = {"add": 0.2, "convert": 0.18, "reverse": 0.18, "sort": 0.16, "lookup": 0.16, "capital": 0.12}


def make_item(rng, subset):
    while True:
        it = GENERATORS[subset](rng)
        if it is not None:
            return it


def stream(seed, exclude=()):
    """Endless training items (random subset by WEIGHTS), skipping excluded keys."""
    rng = random.Random(seed)
    names, w = list(WEIGHTS), list(WEIGHTS.values())
    exclude = set(exclude)
    while True:
        it = make_item(rng, rng.choices(names, w)[0])
        if it.key() not in exclude:
            yield it


def balanced(seed, n, exclude=()):
    """n items, subsets round-robin, unique keys."""
    rng, out, seen = random.Random(seed), [], set(exclude)
    while len(out) < n:
        it = make_item(rng, SUBSETS[len(out) % len(SUBSETS)])
        if it.key() not in seen:
            seen.add(it.key())
            out.append(it)
    return out


def heldout_items():
    return balanced(HELDOUT_SEED, HELDOUT_N)


def demo_items():
    return balanced(DEMO_SEED, DEMO_N, exclude=[it.key() for it in heldout_items()])


def eval_keys():
    """Keys that training must never produce (held-out + demo)."""
    return {it.key() for it in heldout_items()} | {it.key() for it in demo_items()}


def record_key(rec):
    if rec["subset"] == "capital":
        return (rec["query"], tuple(sorted(rec["responses"])))
    return rec["query"]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, items, prefix):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for k, it in enumerate(items):
            f.write(json.dumps(it.record(f"{prefix}-{k:04d}"), ensure_ascii=False) + "\n")


def main():
    ex = os.path.join(HERE, "examples")
    os.makedirs(ex, exist_ok=True)
    write_jsonl(os.path.join(ex, "heldout.jsonl"), heldout_items(), "heldout")
    write_jsonl(os.path.join(ex, "demo.jsonl"), demo_items(), "demo")
    # the files must be what the generator says (training excludes by generator keys)
    for name, items in (("heldout.jsonl", heldout_items()), ("demo.jsonl", demo_items())):
        recs = read_jsonl(os.path.join(ex, name))
        assert [record_key(r) for r in recs] == [it.key() for it in items], name
    print(f"wrote {ex}/heldout.jsonl ({HELDOUT_N}) and demo.jsonl ({DEMO_N})")


if __name__ == "__main__":
    main()
