"""train_metarm.py — train the toy MetaRM (models/grm-metarm-tiny) on the judge's own judgments.

    /work/venvs/train/bin/python models/train_metarm.py [--judge models/grm-judge-tiny]
        [--out models/grm-metarm-tiny] [--samples FILE]

DeepSeek-GRM §3.3 / App. G: a scalar meta RM reads the query, the responses (in
the order one judgment saw them) and that judgment, and says whether the
judgment is right. Deterministically (seed 4321, torch threads as train_judge.py):
 1. samples K_SAMPLES judgments per training item from the trained judge (torch,
    temperature 0.5, no top-k/top-p, a random shown order per sample; items from
    make_data.stream, never a held-out query) and labels each: 1 when its scores,
    mapped back to the original order, put the correct response strictly highest;
    0 otherwise (ties and unparseable judgments included);
 2. builds DeepseekV2ForSequenceClassification (num_labels 1) from the judge itself:
    the judge's trunk (it already reads these prompts and works the answers out)
    plus a zero-initialised score head. The MetaRM input is short (the meta template
    has no 320-token head) and looks like the judge's short training prompts;
 3. trains it with BCE on the last token of chat([meta prompt], [judgment]) (the
    meta template, grm_meta_template.txt, as the user turn, the judgment as the
    assistant turn, no generation prompt, so the sequence ends with
    <｜end▁of▁sentence｜>). Each batch: half the judge's own sampled judgments
    (labelled against the truth), half synthetic ones built from the true
    judgment with one of the judge's typical mistakes (a wrong worked answer, a
    mis-copied response value, a flipped verdict, scores that contradict the
    analysis; label 0) or without (label 1);
 4. writes config.json, model.safetensors (F16, per-expert tensors), tokenizer files
    (the judge's).
--samples FILE caches step 1 (JSONL) so steps 2-4 can be rerun.
"""
import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see train_judge.py

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from transformers import AutoModelForCausalLM, DeepseekV2Config, DeepseekV2ForSequenceClassification  # noqa: E402

import eval_judges as ev  # noqa: E402
import grm_format as gf  # noqa: E402
import judge_lib as jl  # noqa: E402
import make_data as md  # noqa: E402
import train_judge as tj  # noqa: E402

SEED = 4321
N_ITEMS = 48
K_SAMPLES = 8
VAL_FRAC = 0.25
STEPS, BATCH_REAL, BATCH_SYN = 120, 16, 16
LR, WARMUP = 1e-3, 20
MODES = ["gold", "gold", "bad_truth", "bad_copy", "flip", "swap_scores"]


def sample_judgments(judge_dir, path_cache):
    """Step 1: K_SAMPLES sampled judgments for each of N_ITEMS training items, labelled."""
    if path_cache and os.path.exists(path_cache):
        return md.read_jsonl(path_cache)
    judge, codec = ev.load_judge(judge_dir)
    stream = md.stream(SEED + 1, md.eval_keys())
    items = [next(stream) for _ in range(N_ITEMS)]
    recs = [it.record(f"train-{k}") for k, it in enumerate(items)]
    judged = ev.judge_records(judge, codec, recs, K_SAMPLES, 0.5, SEED, greedy=False, chunk=12, log=True)
    rows = []
    for k, (rec, j) in enumerate(zip(recs, judged)):
        for s in j["samples"]:
            shown = [rec["responses"][i] for i in s["perm"]]
            rows.append({"item": k, "subset": rec["subset"], "query": rec["query"], "shown": shown,
                         "perm": s["perm"], "label_index": rec["label"], "judgment": s["text"],
                         "valid": s["scores"] is not None,
                         "label": int(gf.judgment_correct(s["scores"], s["perm"], rec["label"]))})
    if path_cache:
        with open(path_cache, "w") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return rows


def synthetic(it, rng):
    """A true judgment, or one with a typical mistake; returns a row like the sampled ones."""
    perm = jl.shuffle_perm(rng, len(it.responses))
    mode = rng.choice(MODES)
    w = rng.choice([100, 90, 80, 70])
    crit = rng.choice(md.CRITERIA[it.kind]).format(w=w, r=100 - w)
    if w == 100:
        crit = crit.split(" (weight 100%)")[0] + " (weight 100%)."
    truth = it.truth
    stated = [it.given[i] for i in perm]
    ok = [i == it.label for i in perm]
    cj = ok.index(True)
    wj = rng.choice([j for j in range(len(perm)) if j != cj])
    if mode == "bad_truth":  # the worked answer ends in a wrong response's value
        k = truth.rfind(stated[cj])
        truth = truth[:k] + stated[wj] + truth[k + len(stated[cj]):]
        ok = [j == wj for j in range(len(perm))]
    elif mode == "bad_copy":  # two responses' values mixed up
        stated[cj], stated[wj] = stated[wj], stated[cj]
        ok = [j == wj for j in range(len(perm))]
    elif mode == "flip":  # values right, verdicts wrong
        ok = [j == wj for j in range(len(perm))]
    scores = []
    for j, i in enumerate(perm):
        if ok[j]:
            scores.append(rng.choices([8, 9, 10], [3, 4, 3])[0])
        else:
            scores.append(rng.choices([1, 2, 3, 4], [3, 3, 3, 1])[0])
    if mode == "swap_scores":
        scores[cj], scores[wj] = scores[wj], scores[cj]
    parts = [f"Analysis: {truth}"] + [f"Response {j} gives {v}, which is {'correct' if o else 'wrong'}."
                                       for j, (v, o) in enumerate(zip(stated, ok), 1)]
    text = (f"Specific Criteria: {crit}\n" + " ".join(parts) + "\n"
            + "Scores: \\boxed{" + ", ".join(map(str, scores)) + "}")
    return {"query": it.query, "shown": [it.responses[i] for i in perm], "judgment": text,
            "label": int(gf.judgment_correct(scores, perm, it.label))}


def encode(rows, codec):
    seqs = [codec.meta_input(r["query"], r["shown"], r["judgment"]) for r in rows]
    L = max(map(len, seqs))
    ids = torch.tensor([s + [codec.pad] * (L - len(s)) for s in seqs])
    last = torch.tensor([len(s) - 1 for s in seqs])
    return ids, last, torch.tensor([float(r["label"]) for r in rows])


def scores_of(model, ids, last):
    """The score at each sequence's last token (right padding, causal: pads never seen)."""
    h = model.model(input_ids=ids).last_hidden_state
    return model.score(h[torch.arange(ids.shape[0]), last])[:, 0].float()


@torch.no_grad()
def evaluate(model, rows, codec):
    """AUC over the valid validation judgments, and voting accuracy of the
    validation items with all K samples vs the top half by meta score."""
    model.eval()
    ps = []
    for b in range(0, len(rows), 32):
        ids, last, _ = encode(rows[b:b + 32], codec)
        ps += scores_of(model, ids, last).tolist()
    model.train()
    valid = [(p, r["label"]) for p, r in zip(ps, rows) if r["valid"]]
    pos = [p for p, y in valid if y == 1]
    neg = [p for p, y in valid if y == 0]
    auc = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / max(1, len(pos) * len(neg))
    by_item = {}
    for p, r in zip(ps, rows):
        by_item.setdefault(r["item"], []).append((p, r))
    vote = meta = 0.0
    for group in by_item.values():
        r0 = group[0][1]
        n = len(r0["shown"])
        samples = [{"perm": r["perm"], "scores": gf.parse_scores(r["judgment"], n) if r["valid"] else None}
                   for _, r in group]
        vote += ev.vote_acc(samples, r0["label_index"], n)
        order = sorted(range(len(group)), key=lambda j: -1e30 if samples[j]["scores"] is None else -group[j][0])
        meta += ev.vote_acc([samples[j] for j in order[:len(group) // 2] if samples[j]["scores"] is not None],
                            r0["label_index"], n)
    return auc, vote / len(by_item), meta / len(by_item)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--judge", default=os.path.join(HERE, "grm-judge-tiny"))
    ap.add_argument("--out", default=os.path.join(HERE, "grm-metarm-tiny"))
    ap.add_argument("--samples", default=None, help="cache file for the sampled judgments (JSONL)")
    ap.add_argument("--threads", type=int, default=tj.TRAIN_THREADS)
    args = ap.parse_args()
    jl.THREADS = args.threads
    jl.setup_torch()
    random.seed(SEED)
    torch.manual_seed(SEED)
    t0 = time.time()
    tok = jl.load_tokenizer(args.judge)
    codec = jl.Codec(tok)

    rows = sample_judgments(args.judge, args.samples)
    n_val_items = int(N_ITEMS * VAL_FRAC)
    val = [r for r in rows if r["item"] < n_val_items]
    train = [r for r in rows if r["item"] >= n_val_items]
    pos = sum(r["label"] for r in rows) / len(rows)
    print(f"{len(rows)} judgments ({pos:.3f} correct, {sum(not r['valid'] for r in rows)} invalid), "
          f"{len(train)} train / {len(val)} val, {time.time() - t0:.0f}s", flush=True)

    with open(os.path.join(args.judge, "config.json")) as f:
        config = json.load(f)
    config.update({"architectures": ["DeepseekV2ForSequenceClassification"], "num_labels": 1,
                   "id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}})
    config.pop("use_cache", None)
    cfg = DeepseekV2Config(**{k: v for k, v in config.items() if k not in ("architectures", "model_type")},
                           attn_implementation="sdpa", experts_implementation="grouped_mm")
    model = DeepseekV2ForSequenceClassification(cfg).float()
    judge = AutoModelForCausalLM.from_pretrained(args.judge, dtype=torch.float32)
    model.model.load_state_dict(judge.model.state_dict())  # strict: the same trunk
    del judge
    with torch.no_grad():
        model.score.weight.zero_()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(SEED + 3)
    syn_stream = md.stream(SEED + 4, md.eval_keys())
    auc, vote, meta = evaluate(model, val, codec)
    print(f"before: val AUC {auc:.3f}  val Voting@{K_SAMPLES} {vote:.3f}  MetaRM@{K_SAMPLES} {meta:.3f}", flush=True)
    model.train()
    ema = None
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LR * min(1.0, (step + 1) / WARMUP) * (1 - 0.9 * step / STEPS)
        batch = rng.sample(train, BATCH_REAL) + [synthetic(next(syn_stream), rng) for _ in range(BATCH_SYN)]
        ids, last, y = encode(batch, codec)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = F.binary_cross_entropy_with_logits(scores_of(model, ids, last), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0 or step == STEPS - 1:
            print(f"step {step} bce {ema:.3f} {time.time() - t0:.0f}s", flush=True)
        if step == STEPS - 1:
            auc, vote, meta = evaluate(model, val, codec)
            print(f"val AUC {auc:.3f}  val Voting@{K_SAMPLES} {vote:.3f}  MetaRM@{K_SAMPLES} {meta:.3f}  "
                  f"({n_val_items} items)  {time.time() - t0:.0f}s", flush=True)

    config["torch_dtype"] = "float16"
    jl.save_model_dir(model, config, {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 4}, tok, args.out)
    print(f"wrote {args.out} after {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
