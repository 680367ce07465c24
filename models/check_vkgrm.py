"""check_vkgrm.py — the trained judges read and run the same in vkgrm as in Python.

    /work/venvs/train/bin/python models/check_vkgrm.py [--build build] [--n 300] [--logits 4]

Needs a vkgrm build (cmake --build build) and the venv of requirements-train.txt.
 1. chat template: a throwaway C program linked with build/loaders/libvkgrm_loaders.a
    loads each model directory's template the way the tools do
    (vkg_chat_template_load with model_type from config.json), must detect the
    "deepseek3" family, renders [user] + generation prompt (the judge input) and
    [user, assistant] (the MetaRM input) for --n held-out records, and encodes
    them and the bare judgments with vkgrm's tokenizer. Compared byte for byte
    with transformers' apply_chat_template (tokenize=False), with grm_format.chat(),
    and id for id with transformers (apply_chat_template tokenize=True) and with
    the `tokenizers` library.
 2. judge: for --logits prompts, vkgrm-generate --prompt-ids IDS -n 80 --temp 0
    --dump-logits against torch (transformers DeepseekV2ForCausalLM in float32 on
    the same F16 weights): prompt logits max-abs / max|logit|, and the greedy tokens
    (identical, or a divergence at a near tie of the torch logits).
 3. MetaRM: vkgrm-generate --dump-logits on meta inputs vs torch's score at every
    position and at the last token.
Prints one line per check and exits 1 if any fails.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

import grm_format as gf  # noqa: E402
import judge_lib as jl  # noqa: E402
import make_data as md  # noqa: E402

HELPER_C = r"""
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "chat_template.h"
#include "hf_config.h"
#include "tokenizer.h"

static char *slurp(const char *p) {
    FILE *f = fopen(p, "rb"); if (!f) return NULL;
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1); if (fread(b, 1, n, f) != (size_t)n) { fclose(f); return NULL; }
    b[n] = 0; fclose(f); return b;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: helper MODEL_DIR CASES.json\n"); return 2; }
    struct vkg_hf_config cfg; struct vkg_chat_template t; struct vkg_tokenizer *tok;
    if (vkg_hf_config_load(argv[1], &cfg) || vkg_chat_template_load(argv[1], vkg_arch_name(cfg.arch), &t) ||
        vkg_tokenizer_load(argv[1], &tok)) { fprintf(stderr, "%s\n", vkg_error_detail()); return 1; }
    char *text = slurp(argv[2]); cJSON *cases = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsArray(cases)) { fprintf(stderr, "bad cases file\n"); return 1; }
    printf("{\"family\": \"%s\", \"out\": [\n", vkg_chat_family_name(t.family));
    int first = 1; cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        cJSON *plain = cJSON_GetObjectItem(c, "text"), *msgs = cJSON_GetObjectItem(c, "messages");
        char *r = NULL;
        if (cJSON_IsString(plain)) r = strdup(plain->valuestring);
        else {
            struct vkg_chat_message m[4]; size_t n = 0; cJSON *e;
            cJSON_ArrayForEach(e, msgs) {
                m[n].role = cJSON_GetObjectItem(e, "role")->valuestring;
                m[n].content = cJSON_GetObjectItem(e, "content")->valuestring; m[n].reasoning = NULL; n++;
            }
            if (vkg_chat_template_render(&t, m, n, cJSON_IsTrue(cJSON_GetObjectItem(c, "gen")), true, &r)) {
                fprintf(stderr, "%s\n", vkg_error_detail()); return 1;
            }
        }
        int32_t *ids; size_t nid;
        if (vkg_tokenizer_encode(tok, r, strlen(r), VKG_TOK_PARSE_SPECIAL, &ids, &nid)) {
            fprintf(stderr, "%s\n", vkg_error_detail()); return 1;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", r);
        cJSON_AddItemToObject(o, "ids", cJSON_CreateIntArray((const int *)ids, (int)nid));
        char *line = cJSON_PrintUnformatted(o);
        printf("%s%s", first ? "" : ",\n", line); first = 0;
        free(line); cJSON_Delete(o); free(ids); free(r);
    }
    printf("]}\n");
    return 0;
}
"""

FAILED = []


def report(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        FAILED.append(what)


def build_helper(build, tmp):
    src, exe = os.path.join(tmp, "helper.c"), os.path.join(tmp, "helper")
    with open(src, "w") as f:
        f.write(HELPER_C)
    libs = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson", "libpcre2-8", "libutf8proc"],
                          capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-O1", "-Wall", "-Werror", "-o", exe, src, "-I", os.path.join(ROOT, "loaders"),
                    os.path.join(build, "loaders", "libvkgrm_loaders.a")] + libs + ["-lm"], check=True)
    return exe


def run_helper(exe, model_dir, cases, tmp):
    path = os.path.join(tmp, "cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    out = subprocess.run([exe, model_dir, path], capture_output=True, check=True).stdout
    return json.loads(out.decode("utf-8"))


def check_templates(exe, model_dir, recs, tmp):
    """Step 1 for one model directory."""
    hf = AutoTokenizer.from_pretrained(model_dir)
    raw = jl.load_tokenizer(model_dir)
    cases, expect = [], []
    rng = random.Random(5)
    items = md.heldout_items()[:len(recs)]
    for k, (rec, it) in enumerate(zip(recs, items)):
        assert md.record_key(rec) == it.key()
        perm = jl.shuffle_perm(rng, len(rec["responses"]))
        shown = [rec["responses"][i] for i in perm]
        judgment = it.judgment(perm, rng)
        user = gf.judge_prompt(rec["query"], shown)
        meta = gf.meta_prompt(rec["query"], shown)
        cases.append({"messages": [{"role": "user", "content": user}], "gen": True})
        expect.append(gf.chat(user, add_generation_prompt=True))
        cases.append({"messages": [{"role": "user", "content": meta}, {"role": "assistant", "content": judgment}],
                      "gen": False})
        expect.append(gf.chat(meta, judgment))
        cases.append({"text": judgment})
        expect.append(judgment)
        if k < 5:  # a system message: hoisted before the first turn by both renderers
            cases.append({"messages": [{"role": "system", "content": "Be strict."},
                                       {"role": "user", "content": user}], "gen": True})
            expect.append(gf.BOS + "Be strict." + gf.USER + user + gf.ASSISTANT)
    res = run_helper(exe, model_dir, cases, tmp)
    name = os.path.basename(model_dir.rstrip("/"))
    report(res["family"] == "deepseek3", f"{name}: vkgrm detects the chat template as {res['family']}")
    bad_text = bad_hf = bad_ids = bad_hf_ids = 0
    for case, exp, got in zip(cases, expect, res["out"]):
        if "messages" in case:
            hf_text = hf.apply_chat_template(case["messages"], add_generation_prompt=case["gen"], tokenize=False)
            hf_ids = hf.apply_chat_template(case["messages"], add_generation_prompt=case["gen"], tokenize=True,
                                            return_dict=False)
            bad_hf += hf_text != got["text"]
            bad_hf_ids += list(hf_ids) != got["ids"]
        bad_text += exp != got["text"]
        bad_ids += raw.encode(exp, add_special_tokens=False).ids != got["ids"]
    n_chat = sum("messages" in c for c in cases)
    report(bad_hf == 0, f"{name}: vkgrm render == transformers apply_chat_template, "
                        f"{n_chat - bad_hf}/{n_chat} renderings byte-identical")
    report(bad_text == 0, f"{name}: vkgrm render == grm_format.chat(), {len(cases) - bad_text}/{len(cases)}")
    report(bad_ids == 0 and bad_hf_ids == 0,
           f"{name}: vkgrm token ids == tokenizers {len(cases) - bad_ids}/{len(cases)}, "
           f"== transformers apply_chat_template(tokenize=True) {n_chat - bad_hf_ids}/{n_chat}")


def vkgrm_generate(build, model_dir, ids, n, tmp):
    exe = os.path.join(build, "tools", "vkgrm-generate", "vkgrm-generate")
    dump = os.path.join(tmp, "logits.bin")
    cmd = [exe, "-m", model_dir, "--prompt-ids", ",".join(map(str, ids)), "-n", str(n), "--temp", "0",
           "--json", "--dump-logits", dump]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ...: {out.stderr.strip()}")
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    return (lines[0]["tokens"] if lines else []), np.fromfile(dump, dtype="<f4")


def check_judge(build, judge_dir, recs, n_prompts, tmp):
    model = AutoModelForCausalLM.from_pretrained(judge_dir, dtype=torch.float32).eval()
    codec = jl.Codec(jl.load_tokenizer(judge_dir))
    V = model.config.vocab_size
    worst = 0.0
    for rec in recs[:n_prompts]:
        ids = codec.judge_prompt(rec["query"], rec["responses"])
        toks, dump = vkgrm_generate(build, judge_dir, ids, 80, tmp)
        with torch.no_grad():
            ref = model(input_ids=torch.tensor([ids])).logits[0].numpy()
        ours = dump.reshape(len(ids), V)
        rel = float(np.abs(ours - ref).max() / np.abs(ref).max())
        worst = max(worst, rel)
        gen, _ = jl.generate(model, codec, [ids], 0, 80)
        ref_toks = gen[0] + ([codec.eos] if len(gen[0]) < 80 else [])
        same = toks == ref_toks
        why = "identical"
        if not same:
            d = next((i for i, (a, b) in enumerate(zip(toks, ref_toks)) if a != b), min(len(toks), len(ref_toks)))
            with torch.no_grad():
                lg = model(input_ids=torch.tensor([ids + ref_toks[:d]])).logits[0, -1]
            top = torch.topk(lg, 2).values
            margin = float(top[0] - top[1])
            why = f"diverge at token {d}, torch top-2 margin {margin:.4f}"
            same = margin < 1e-2 * float(lg.abs().max())
        report(rel <= 1e-2 and same, f"judge {rec['id']}: {len(ids)} prompt tokens, logits max-abs/max|logit| "
                                     f"{rel:.2e}, greedy {len(toks)} tokens {why}")
    return worst


def check_metarm(build, meta_dir, recs, n_prompts, tmp):
    model = AutoModelForSequenceClassification.from_pretrained(meta_dir, dtype=torch.float32).eval()
    codec = jl.Codec(jl.load_tokenizer(meta_dir))
    for k, rec in enumerate(recs[:n_prompts]):
        n = len(rec["responses"])
        verdict = ["correct" if i == rec["label"] else "wrong" for i in range(n)]
        judgment = ("Specific Criteria: Correctness (weight 100%).\nAnalysis: "
                    + " ".join(f"Response {i + 1} is {v}." for i, v in enumerate(verdict))
                    + "\nScores: \\boxed{" + ", ".join("9" if v == "correct" else "2" for v in verdict) + "}")
        ids = codec.meta_input(rec["query"], rec["responses"], judgment)
        _, dump = vkgrm_generate(build, meta_dir, ids, 0, tmp)
        with torch.no_grad():
            h = model.model(input_ids=torch.tensor([ids])).last_hidden_state
            per_pos = model.score(h)[0, :, 0].numpy()
            last = float(model(input_ids=torch.tensor([ids])).logits[0, 0])
        ours = dump.reshape(len(ids), -1)[:, 0]
        rel = float(np.abs(ours - per_pos).max() / max(1e-6, np.abs(per_pos).max()))
        report(rel <= 1e-2 and abs(ours[-1] - last) <= 1e-2 * max(1.0, abs(last)),
               f"metarm {rec['id']}: {len(ids)} tokens, score vkgrm {ours[-1]:.5f} torch {last:.5f}, "
               f"all positions max-abs/max|score| {rel:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--judge", default=os.path.join(HERE, "grm-judge-tiny"))
    ap.add_argument("--metarm", default=os.path.join(HERE, "grm-metarm-tiny"))
    ap.add_argument("--n", type=int, default=300, help="records for the template/tokenizer checks")
    ap.add_argument("--logits", type=int, default=4, help="prompts for the logit checks")
    args = ap.parse_args()
    jl.setup_torch()
    recs = md.read_jsonl(os.path.join(HERE, "examples", "heldout.jsonl"))
    tmp = tempfile.mkdtemp(prefix="vkgrm-check-")
    try:
        exe = build_helper(args.build, tmp)
        for d in (args.judge, args.metarm):
            if os.path.isdir(d):
                check_templates(exe, d, recs[:args.n], tmp)
        if args.logits and os.path.isdir(args.judge):
            check_judge(args.build, args.judge, recs[::max(1, len(recs) // args.logits)], args.logits, tmp)
        if args.logits and os.path.isdir(args.metarm):
            check_metarm(args.build, args.metarm, recs[1::max(1, len(recs) // args.logits)], args.logits, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all checks passed" if not FAILED else f"{len(FAILED)} check(s) failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
