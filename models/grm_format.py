"""grm_format.py — the DeepSeek-GRM prompt, chat and score formats, in one place.

Everything the toy judges see or write goes through these functions, so the
training data, the torch evaluation and vkgrm-score render the same bytes:

  grm_default_template.txt  the DeepSeek-GRM default (pairwise/listwise) template,
                            byte-identical to vkgrm's C string vkg_grm_default_template
                            (template syntax: "{{" / "}}" are literal braces)
  grm_meta_template.txt     the MetaRM user turn as vkgrm's vkg_grm_meta_render writes it

Templates are parsed like the C parser does (parse_template) and filled in ONE
pass, so a query or response that itself contains "{context}", "{responses}" or
braces is inserted verbatim. No str.format().

The chat format is the DeepSeek-V3 one that vkgrm's "deepseek3" renderer
writes (loaders/chat_template.c): BOS, the system texts joined by "\n\n",
<｜User｜>{user}, <｜Assistant｜>{assistant}<｜end▁of▁sentence｜>, generation
prompt <｜Assistant｜>.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
PAD = "<｜▁pad▁｜>"
SPECIAL_TOKENS = [BOS, EOS, USER, ASSISTANT, PAD]  # ids 0..4 in that order

PLACEHOLDERS = ("{context}", "{responses}")


def parse_template(text, name="template"):
    """Split a template into pieces the way vkgrm's C parser does
    (runtime/gen/grm_prompt.c vkg_grm_template_parse): a leading BOM and CRLF are
    normalised, ONE final newline is dropped, "{{" and "}}" are literal braces,
    "{context}" and "{responses}" are the placeholders (each exactly once here).
    Returns [("text", s) | ("context", None) | ("responses", None)]."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    pieces, lit, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i + 1:i + 2] == c:
            lit.append(c)
            i += 2
        elif c == "}":
            raise ValueError(f"{name}: single '}}'")
        elif c == "{":
            j = text.index("}", i)
            kind = text[i + 1:j]
            if kind not in ("context", "responses"):
                raise ValueError(f"{name}: unknown placeholder {{{kind}}}")
            if lit:
                pieces.append(("text", "".join(lit)))
                lit = []
            pieces.append((kind, None))
            i = j + 1
        else:
            lit.append(c)
            i += 1
    if lit:
        pieces.append(("text", "".join(lit)))
    for k in ("context", "responses"):
        if sum(p[0] == k for p in pieces) != 1:
            raise ValueError(f"{name}: placeholder {{{k}}} must occur exactly once")
    return pieces


def load_template(name):
    """Read a template file as exact bytes (UTF-8, no newline translation) and parse it."""
    with open(os.path.join(HERE, name), "r", encoding="utf-8", newline="") as f:
        return parse_template(f.read(), name)


# grm_default_template.txt is the C string vkg_grm_default_template byte for byte
# (template source: "\\boxed{{x, x}}" renders as "\\boxed{x, x}");
# grm_meta_template.txt is g_meta_head + {context} + g_meta_mid + {responses} of
# runtime/gen/grm_prompt.c (vkg_grm_meta_render).
DEFAULT_TEMPLATE = load_template("grm_default_template.txt")
META_TEMPLATE = load_template("grm_meta_template.txt")


def response_blocks(responses):
    """The responses in the shown order, numbered from 1."""
    return "".join(f"[The Begin of Response {i}]\n{r}\n[The End of Response {i}]\n"
                   for i, r in enumerate(responses, 1))


def fill(pieces, context, responses):
    """Render parsed template pieces (query and responses inserted verbatim)."""
    out = []
    for kind, text in pieces:
        out.append(text if kind == "text" else context if kind == "context" else response_blocks(responses))
    return "".join(out)


def template_prefix(pieces):
    """The rendered text before {context}: the same for every prompt."""
    out = []
    for kind, text in pieces:
        if kind != "text":
            break
        out.append(text)
    return "".join(out)


def judge_prompt(query, shown):
    """The user turn vkgrm-score writes for a single-turn query."""
    return fill(DEFAULT_TEMPLATE, query, shown)


def meta_prompt(query, shown):
    """The user turn of the MetaRM input."""
    return fill(META_TEMPLATE, query, shown)


def chat(user, assistant=None, add_generation_prompt=False):
    """DeepSeek-V3 chat rendering of [user] or [user, assistant]."""
    text = BOS + USER + user
    if assistant is not None:
        text += ASSISTANT + assistant + EOS
    elif add_generation_prompt:
        text += ASSISTANT
    return text


# The chat_template of tokenizer_config.json (written for these models; it
# renders what chat() renders and what vkgrm's deepseek3 family renders).
CHAT_TEMPLATE = (
    "{%- set ns = namespace(first=true) -%}"
    "{{- bos_token -}}"
    "{%- for message in messages if message['role'] == 'system' -%}"
    "{%- if not ns.first -%}{{- '\\n\\n' -}}{%- endif -%}"
    "{{- message['content'] -}}{%- set ns.first = false -%}"
    "{%- endfor -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}{{- '<｜User｜>' + message['content'] -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- '<｜Assistant｜>' + message['content'] + eos_token -}}"
    "{%- elif message['role'] != 'system' -%}"
    "{{- raise_exception('only system, user and assistant messages are supported') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<｜Assistant｜>' -}}{%- endif -%}"
)

_BOXED = re.compile(r"\\{1,2}boxed\{([^{}]*)\}")


def parse_scores(text, n):
    """Scores of the last \\boxed{...} in text: n integers clamped to 1..10, else None."""
    m = list(_BOXED.finditer(text))
    if not m:
        return None
    parts = [p.strip() for p in m[-1].group(1).split(",")]
    out = []
    for p in parts:
        if not re.fullmatch(r"[+-]?\d+(\.0+)?", p):
            return None
        out.append(min(10, max(1, int(float(p)))))
    return out if len(out) == n else None


def judgment_correct(scores, perm, label):
    """True when the scores (shown order; perm[j] = original index of shown j)
    put the original response `label` strictly above every other one."""
    if scores is None:
        return False
    orig = [0] * len(perm)
    for j, i in enumerate(perm):
        orig[i] = scores[j]
    return all(orig[label] > s for i, s in enumerate(orig) if i != label)
