"""judge_lib.py — torch helpers shared by the training and evaluation scripts.

Tokenizer building, turning items into token ids, saving a model directory the
way vkgrm and transformers both read it (per-expert MoE tensors, F16), and a
small batched sampler (temperature only: no top-k/top-p) with the template
prefix computed once per batch.
"""
import json
import os
import random

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

import grm_format as gf

THREADS = 2
VOCAB = 2048  # the trained tokenizer has ~1830 ids
# digits one by one, newlines alone, the letters of a lowercase word that ends
# at a double quote one by one (the reversal task's strings), and capitalised
# words alone (names: the same token wherever they stand); everything else is
# left whole, so BPE learns the template's phrases as a few tokens
SPLIT_REGEX = r'\p{N}|\n|[a-z](?=[a-z]*")|\p{Lu}\p{Ll}*'


def setup_torch():
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)


# ---- tokenizer -------------------------------------------------------------

def tokenizer_corpus(items, seed):
    """Texts the tokenizer is trained on: rendered judge and meta inputs + targets."""
    rng = random.Random(seed)
    for it in items:
        perm = list(range(len(it.responses)))
        rng.shuffle(perm)
        shown = [it.responses[i] for i in perm]
        target = it.judgment(perm, rng)
        yield gf.chat(gf.judge_prompt(it.query, shown), target)
        yield gf.chat(gf.meta_prompt(it.query, shown), target)
        yield "Analysis: " + it.truth


def train_tokenizer(texts):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, special_tokens=gf.SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    for i, s in enumerate(gf.SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, s
    return tok


def tokenizer_config():
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": gf.BOS, "eos_token": gf.EOS, "pad_token": gf.PAD,
        "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False, "model_max_length": 1024,
        "chat_template": gf.CHAT_TEMPLATE,
    }


def save_tokenizer(tok, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    write_json(os.path.join(out_dir, "tokenizer_config.json"), tokenizer_config())


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


class Codec:
    """Token ids of the pieces the scripts put together."""

    def __init__(self, tok):
        self.tok = tok
        self.eos = tok.token_to_id(gf.EOS)
        self.pad = tok.token_to_id(gf.PAD)
        # BOS <｜User｜> and the template up to the query: the same for every prompt
        self.prefix = self.ids(gf.BOS + gf.USER + gf.template_prefix(gf.DEFAULT_TEMPLATE))

    def ids(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def judge_prompt(self, query, shown):
        ids = self.ids(gf.chat(gf.judge_prompt(query, shown), add_generation_prompt=True))
        assert ids[:len(self.prefix)] == self.prefix, "prompt does not start with the template prefix"
        return ids

    def meta_input(self, query, shown, judgment):
        return self.ids(gf.chat(gf.meta_prompt(query, shown), judgment))

    def decode(self, ids):
        return self.tok.decode(ids, skip_special_tokens=False)


def shuffle_perm(rng, n):
    p = list(range(n))
    rng.shuffle(p)
    return p


# ---- saving ----------------------------------------------------------------

def f16_state(model, moe_layers_prefix="model.layers"):
    """State dict in F16 with transformers 5's fused experts split into the
    per-expert tensors of the published DeepSeek checkpoints (vkgrm reads those)."""
    out = {}
    for name, t in model.state_dict().items():
        t = t.detach().to(torch.float32)
        if name.endswith("mlp.experts.gate_up_proj"):
            base = name[: -len("gate_up_proj")]
            inter = t.shape[1] // 2
            for e in range(t.shape[0]):
                out[f"{base}{e}.gate_proj.weight"] = t[e, :inter]
                out[f"{base}{e}.up_proj.weight"] = t[e, inter:]
        elif name.endswith("mlp.experts.down_proj"):
            base = name[: -len("down_proj")]
            for e in range(t.shape[0]):
                out[f"{base}{e}.down_proj.weight"] = t[e]
        else:
            out[name] = t
    return {k: v.to(torch.float16).contiguous() for k, v in out.items()}


def save_model_dir(model, config_dict, gen_config, tok, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    save_file(f16_state(model), os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"), config_dict)
    if gen_config is not None:
        write_json(os.path.join(out_dir, "generation_config.json"), gen_config)
    save_tokenizer(tok, out_dir)


def load_tokenizer(model_dir):
    return Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))


# ---- sampling --------------------------------------------------------------

@torch.no_grad()
def generate(model, codec, prompts, temperature, max_new, generator=None):
    """Continue equal-length prompts (all starting with codec.prefix) together.
    temperature 0 = greedy. Returns the generated ids per prompt (without eos)
    and whether each stopped at eos."""
    from transformers import DynamicCache
    assert len({len(p) for p in prompts}) == 1, "prompts must have equal length"
    B, P = len(prompts), len(codec.prefix)
    cache = DynamicCache(config=model.config)
    model.model(input_ids=torch.tensor([codec.prefix]), cache=cache, use_cache=True)
    cache.batch_repeat_interleave(B)
    x = torch.tensor([p[P:] for p in prompts])
    h = model.model(input_ids=x, cache=cache, use_cache=True).last_hidden_state[:, -1]
    out, done = [[] for _ in range(B)], [False] * B
    for _ in range(max_new):
        logits = model.lm_head(h).float()
        if temperature == 0:
            nxt = logits.argmax(-1)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)[:, 0]
        for b in range(B):
            if not done[b]:
                t = int(nxt[b])
                if t == codec.eos:
                    done[b] = True
                else:
                    out[b].append(t)
        if all(done):
            break
        h = model.model(input_ids=nxt[:, None], cache=cache, use_cache=True).last_hidden_state[:, -1]
    return out, done


@torch.no_grad()
def generate_batched(model, codec, prompts, temps, max_new, generator=None):
    """Continue prompts of any lengths (all starting with codec.prefix) together.
    The prefix is computed once; the rest of each prompt is left-padded after it
    and masked out, with positions that continue each row's own tokens, so every
    row computes what it would alone. temps[b] == 0 is greedy. Returns the
    generated ids per prompt (without eos)."""
    from transformers import DynamicCache
    B, P = len(prompts), len(codec.prefix)
    rest = [p[P:] for p in prompts]
    S = max(map(len, rest))
    ids = torch.tensor([[codec.pad] * (S - len(r)) + r for r in rest])
    keep = torch.tensor([[0] * (S - len(r)) + [1] * len(r) for r in rest])
    pos = torch.tensor([[P] * (S - len(r)) + list(range(P, P + len(r))) for r in rest])
    cache = DynamicCache(config=model.config)
    model.model(input_ids=torch.tensor([codec.prefix]), cache=cache, use_cache=True)
    cache.batch_repeat_interleave(B)
    mask = torch.cat([torch.ones(B, P, dtype=torch.long), keep], dim=1)
    h = model.model(input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache,
                    use_cache=True).last_hidden_state[:, -1]
    nxt_pos = torch.tensor([[P + len(r)] for r in rest])
    t = torch.tensor(temps, dtype=torch.float32)[:, None]
    greedy = (t == 0)[:, 0]
    out, done = [[] for _ in range(B)], [False] * B
    for _ in range(max_new):
        logits = model.lm_head(h).float()
        nxt = logits.argmax(-1)
        if not bool(greedy.all()):
            probs = torch.softmax(logits / torch.where(t == 0, torch.ones_like(t), t), dim=-1)
            drawn = torch.multinomial(probs, 1, generator=generator)[:, 0]
            nxt = torch.where(greedy, nxt, drawn)
        for b in range(B):
            if not done[b]:
                tok = int(nxt[b])
                if tok == codec.eos:
                    done[b] = True
                else:
                    out[b].append(tok)
        if all(done):
            break
        mask = torch.cat([mask, torch.ones(B, 1, dtype=torch.long)], dim=1)
        h = model.model(input_ids=nxt[:, None], attention_mask=mask, position_ids=nxt_pos, cache=cache,
                        use_cache=True).last_hidden_state[:, -1]
        nxt_pos = nxt_pos + 1
    return out
