"""train_metarm.py — train the toy MetaRM (models/grm-metarm-tiny) on the judge's own judgments.

    /work/venvs/train/bin/python models/train_metarm.py [--judge models/grm-judge-tiny]
        [--out models/grm-metarm-tiny] [--samples FILE]

DeepSeek-GRM §3.3 / App. G: a scalar meta RM reads the query, the responses (in
the order one judgment saw them) and that judgment, and says whether the
judgment is right. Deterministically (seed 4321, 2 torch threads):
 1. samples K_SAMPLES judgments per training item from the trained judge (torch,
    temperature 0.5, no top-k/top-p, a random shown order per sample; items from
    make_data.stream, never a held-out query) and labels each: 1 when its scores,
    mapped back to the original order, put the correct response strictly highest;
    0 otherwise (ties and unparseable judgments included);
 2. pre-trains a LlamaForCausalLM trunk on the "Analysis:" drills of train_judge.py
    (the same worked answers the judgments contain), so that the classifier can
    check a judgment's arithmetic;
 3. trains LlamaForSequenceClassification (num_labels 1, that trunk + a score head)
    with BCE on the last token of: chat([meta prompt], [judgment]) — the meta
    template (grm_meta_template.txt) as the user turn, the judgment as the assistant
    turn, no generation prompt, so the sequence ends with <｜end▁of▁sentence｜>;
    the drill loss continues on the trunk at a small weight;
 4. writes config.json, model.safetensors (F16), tokenizer files (the judge's).
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
from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification  # noqa: E402

import eval_judges as ev  # noqa: E402
import grm_format as gf  # noqa: E402
import judge_lib as jl  # noqa: E402
import make_data as md  # noqa: E402
import train_judge as tj  # noqa: E402

SEED = 4321
N_ITEMS = 48  # cut from 600 x 8 to fit the deadline; raise with a working judge
K_SAMPLES = 4
VAL_FRAC = 0.25
DRILL_STEPS, DRILL_BATCH = 60, 64
EPOCHS, BATCH, LR, WARMUP = 2, 32, 1e-3, 20
AUX_DRILL_BATCH, AUX_WEIGHT = 16, 0.2

CONFIG = {
    "architectures": ["LlamaForSequenceClassification"], "model_type": "llama",
    "vocab_size": jl.VOCAB, "hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "hidden_act": "silu",
    "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None, "max_position_embeddings": 1024,
    "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False, "initializer_range": 0.02,
    "num_labels": 1, "id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0},
    "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 4, "torch_dtype": "float16",
}
GENERATION_CONFIG = {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 4}


def sample_judgments(judge_dir, path_cache):
    """Step 1: (meta input ids, label, item subset) for K_SAMPLES judgments of N_ITEMS items."""
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
                         "judgment": s["text"], "valid": s["scores"] is not None,
                         "label": int(gf.judgment_correct(s["scores"], s["perm"], rec["label"]))})
    if path_cache:
        with open(path_cache, "w") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return rows


def make_config():
    return LlamaConfig(**{k: v for k, v in CONFIG.items() if k not in ("architectures", "model_type")},
                       attn_implementation="eager")


def drill_loss(trunk, lm_head, items, codec):
    ids, mask = tj.drill_batch(items, codec)
    h = trunk(input_ids=ids).last_hidden_state
    sel = mask[:, 1:]
    return F.cross_entropy(lm_head(h[:, :-1][sel]), ids[:, 1:][sel])


def pretrain_trunk(codec):
    """Step 2: a LlamaForCausalLM on the drills; returns its state dict."""
    cfg = make_config()
    lm = LlamaForCausalLM(cfg).float()
    opt = torch.optim.AdamW(lm.parameters(), lr=2.5e-3, betas=(0.9, 0.98), weight_decay=0.01)
    stream = md.stream(SEED + 2, md.eval_keys())
    t0, ema = time.time(), None
    for step in range(DRILL_STEPS):
        for g in opt.param_groups:
            g["lr"] = 2.5e-3 * min(1.0, (step + 1) / 20) * (1 - 0.9 * step / DRILL_STEPS)
        loss = drill_loss(lm.model, lm.lm_head, [next(stream) for _ in range(DRILL_BATCH)], codec)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
        if step % 25 == 0 or step == DRILL_STEPS - 1:
            print(f"drill step {step} loss {ema:.3f} {time.time() - t0:.0f}s", flush=True)
    return lm


def batches(rows, codec, rng, shuffle):
    idx = list(range(len(rows)))
    if shuffle:
        rng.shuffle(idx)
    for b in range(0, len(idx), BATCH):
        chunk = [rows[i] for i in idx[b:b + BATCH]]
        seqs = [codec.meta_input(r["query"], r["shown"], r["judgment"]) for r in chunk]
        L = max(map(len, seqs))
        ids = torch.tensor([s + [codec.pad] * (L - len(s)) for s in seqs])
        last = torch.tensor([len(s) - 1 for s in seqs])
        yield ids, last, torch.tensor([float(r["label"]) for r in chunk])


def scores_of(model, ids, last):
    """The score at each sequence's last token (right padding, causal: pads never seen)."""
    h = model.model(input_ids=ids).last_hidden_state
    return model.score(h[torch.arange(ids.shape[0]), last])[:, 0]


@torch.no_grad()
def evaluate(model, rows, codec):
    model.eval()
    ys, ps = [], []
    for ids, last, y in batches(rows, codec, None, False):
        ps += scores_of(model, ids, last).tolist()
        ys += y.tolist()
    model.train()
    pos = [p for p, y in zip(ps, ys) if y == 1]
    neg = [p for p, y in zip(ps, ys) if y == 0]
    auc = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg) / max(1, len(pos) * len(neg))
    acc = sum((p > 0) == (y == 1) for p, y in zip(ps, ys)) / len(ys)
    return auc, acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--judge", default=os.path.join(HERE, "grm-judge-tiny"))
    ap.add_argument("--out", default=os.path.join(HERE, "grm-metarm-tiny"))
    ap.add_argument("--samples", default=None, help="cache file for the sampled judgments (JSONL)")
    args = ap.parse_args()
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

    lm = pretrain_trunk(codec)
    model = LlamaForSequenceClassification(make_config()).float()  # config says float16 (the saved dtype)
    missing, unexpected = model.load_state_dict(lm.state_dict(), strict=False)
    assert missing == ["score.weight"] and unexpected == ["lm_head.weight"], (missing, unexpected)
    with torch.no_grad():
        model.score.weight.zero_()
    lm_head = lm.lm_head  # kept only for the auxiliary drill loss
    params = list(model.parameters()) + list(lm_head.parameters())
    opt = torch.optim.AdamW(params, lr=LR, betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(SEED + 3)
    drills = md.stream(SEED + 4, md.eval_keys())
    steps = EPOCHS * ((len(train) + BATCH - 1) // BATCH)
    step = 0
    model.train()
    for ep in range(EPOCHS):
        ema = None
        for ids, last, y in batches(train, codec, rng, True):
            for g in opt.param_groups:
                g["lr"] = LR * min(1.0, (step + 1) / WARMUP) * (1 - 0.9 * step / steps)
            loss = F.binary_cross_entropy_with_logits(scores_of(model, ids, last), y)
            aux = drill_loss(model.model, lm_head, [next(drills) for _ in range(AUX_DRILL_BATCH)], codec)
            (loss + AUX_WEIGHT * aux).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
            step += 1
        auc, acc = evaluate(model, val, codec)
        print(f"epoch {ep}: bce {ema:.3f}  val AUC {auc:.3f}  val acc {acc:.3f}  {time.time() - t0:.0f}s",
              flush=True)

    jl.save_model_dir(model, dict(CONFIG), GENERATION_CONFIG, tok, args.out)
    print(f"wrote {args.out} after {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
