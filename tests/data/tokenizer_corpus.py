#!/usr/bin/env python3
"""Writes tests/data/tokenizer_corpus.jsonl, the tokenizer test corpus.

Every line is {"text": "..."} or, for byte strings that are not valid UTF-8,
{"hex": "..."}. The strings are written here by hand or generated, so the
corpus is reproducible and carries no third-party data. Rerun after editing:
    python3 tests/data/tokenizer_corpus.py
"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer_corpus.jsonl")

PROSE = [
    "Hello, world! It's 2024-05-17 and we've got 12345 tokens.",
    "Grüße aus Zürich — 你好，世界！ こんにちは 🚀🦀 naïve café",
    'def f(x):\n    return x ** 2  # square\n\n\tif (a&&b) { y = "s\\n"; }',
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!",
    "Rate this answer on a scale from 1 to 10, then explain why.",
    "Résumé, coöperate, façade, jalapeño, smörgåsbord, crème brûlée.",
    "Ça va? Où est la bibliothèque? Je ne sais pas.",
    "¿Dónde está el baño? ¡Qué bueno!",
    "Straße, Maß, Fußgänger, ÄÖÜ äöü ß ẞ",
    "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ελληνικά: Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "العربية: مرحبا بالعالم! كيف حالك اليوم؟",
    "עברית: שלום עולם! מה שלומך?",
    "हिन्दी: नमस्ते दुनिया! आप कैसे हैं?",
    "ไทย: สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "中文：我们今天讨论一下分词器的实现细节。机器学习很有趣！",
    "日本語：ひらがな、カタカナ、漢字を混ぜて書きます。トークナイザーのテスト。",
    "한국어: 안녕하세요, 세계! 오늘 날씨가 좋네요.",
    "Tiếng Việt: Xin chào thế giới, tôi là một mô hình ngôn ngữ.",
    "Türkçe: İstanbul'da ığdır, şçöğü ĞÜŞİÖÇ.",
    "Mixed: English, Русский, 中文, العربية, עברית, हिन्दी in one line.",
    "Numbers: 3.14159, 2.71828, 1e-9, -42, +7, 1,000,000 and 0x1F.",
    "Email me at test.user+tag@example.com or visit https://example.org/path?q=1&r=2#frag",
    "Prices: $5.99, €12,50, £3, ¥1000, ₹250, ₿0.001",
    "Math: ∀x∈ℝ, x² ≥ 0; ∑_{i=1}^{n} i = n(n+1)/2; α+β=γ; √2 ≈ 1.414",
    "Quotes: “double” ‘single’ «guillemets» „German“ 「Japanese」",
    "Dashes – and — and ‐ and ‒ … ellipsis…",
    "Arrows → ← ↑ ↓ ⇒ ⇔ and box ┌─┐│└┘",
]

CODE = [
    'import os\n\ndef main():\n    for i in range(10):\n        print(f"{i:02d}")\n\nif __name__ == "__main__":\n    main()\n',
    "#include <stdio.h>\n\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    '{"name": "vkgrm", "version": [0, 1, 0], "tags": ["llm", "vulkan"], "ok": true, "n": null}',
    '<!DOCTYPE html>\n<html lang="en">\n  <body>\n    <p class="x">Hi &amp; bye</p>\n  </body>\n</html>',
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
    "x = [1,2,3]; y = {'a': 1}; z = (lambda q: q**2)(3)  # comment",
    "    indented four\n        indented eight\n\t\ttabs\n",
    "a==b!=c<=d>=e&&f||g->h::i++j--k<<=l>>=m",
    "```python\nprint('hi')\n```",
    "$ ls -la /usr/bin | grep -E '^l' > out.txt 2>&1",
    "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
]

EMOJI = [
    "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇫🇷🇯🇵🇩🇪", "🧑🏿‍💻", "❤️‍🔥", "1️⃣#️⃣",
    "I love 🍕 and 🍣!", "🚀🚀🚀 to the moon 🌕", "emoji at end 😀", "😀emoji at start",
    "👩🏻‍🤝‍👩🏼 couple", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland", "⌚⏰☕♻️✅", "🦀🐍🐹 languages",
]

WHITESPACE = [
    "", " ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\t", "\t\t", "\r\n", "\r\n\r\n", "\r", " \n ",
    "  x", "x  ", "  x  ", " x", "x ", "a  b", "a   b", "a\tb", "a\nb", "a\n\nb", "a \n b",
    "line1\r\nline2\r\n", "trailing spaces   \n   leading", "a" + " " * 40 + "b",
    "\n" * 30, " " * 100, "\t \t \n \n", "x\u00a0y", "x\u0085y", "x\u3000y", "x\u200by",
    "\ufeffBOM at start", "x\u2028y\u2029z", "x\u2003y\u2009z", " \u00a0 \u00a0 ",
    "\u3000\u3000全角スペース", "end with newline\n", "\n\nstart with newlines",
    "mixed \t\n\r\n whitespace \u00a0\u2003 runs",
]

CONTRACTIONS = [
    "I'm you're he's she'd we've they'll it's can't won't don't",
    "I'M YOU'RE HE'S SHE'D WE'VE THEY'LL IT'S CAN'T WON'T DON'T",
    "I'm You'Re hE's sHe'D We'Ve tHeY'lL",
    "WE'VE", "I'LL", "we've", "i'll", "'s", "'S", "'ll", "'LL", "''", "'", "O'Neil's dog's",
    "rock 'n' roll", "it’s curly", "y'all'd've",
]

COMBINING = [
    "e\u0301", "cafe\u0301", "\u00e9", "n\u0303o", "A\u030a", "\u212b", "\u1e9b\u0323",
    "ko\u0308rper", "\u0915\u094d\u0937", "\u1100\u1161\u11a8", "\u0041\u0308\u0301",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo",
    "\ufb01ne \ufb02ow", "\u2460\u2461 \u00bd \u2075", "x\u0301\u0301\u0301",
]

SPECIAL = [
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "text <|im_end|> more text",
    "<|im_end|>", "<|im_end|><|im_end|>", "<|endoftext|>", "a<|endoftext|>b",
    "<think>\nreasoning\n</think>\n\nanswer", "<tool_call>x</tool_call>",
    "<|im_start", "im_end|>", "<|im_end|", "< |im_end| >",
    "<｜begin▁of▁sentence｜><｜User｜>Rate this answer.<｜Assistant｜>",
    "<｜end▁of▁sentence｜>", "x<｜User｜>y", "<|EOT|>", "<｜tool▁calls▁begin｜>",
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<bos>", "<eos>", "<pad><unk>", "<mask>", "<start_of_image>", "<unused0><unused12>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|eot_id|>", "<|reserved_special_token_0|>", "  <|eot_id|>  ", "\n<|eot_id|>\n",
    "<|eot_id|><|im_end|><end_of_turn><｜User｜>",
]

SINGLE = [
    "a", "Z", "0", "9", ".", ",", "!", "?", "'", '"', "\\", "/", "-", "_", "~", "`", "@", "#",
    "é", "ß", "ж", "λ", "א", "ع", "क", "ก", "中", "あ", "ア", "한", "€", "∑", "\u0000", "\x01",
    "\x7f", "\u00ad", "\ufffd", "\U0001F600", "\U0010FFFD", "\uE000", "ǅ", "ﬀ",
]

# Code points where regex engines or Unicode versions may disagree: \s sets
# (U+180E is \h in PCRE2 but not White_Space; U+001C..U+001F are
# str.isspace() in Python), newer letters/emoji, other number kinds.
UNICODE_EDGE = [
    "a\u180eb", "  \u180e  x", "x\u000by\u000cz", "\u001c\u001d\u001e\u001f", "a\u1680b",
    "a\u205fb", "a\u202fb", "a\u2060b", "a\u00adb", "\U0001FAE8 shaking", "\U00031350\U0002EBF0",
    "\U00011F04\U00011F05", "\U0001D7CE\U0001D7CF", "\u2167\u216b", "\u00b2\u00b3\u00b9",
    "\U0001F1E6", "\U000E0041", "x\u0300\u0316", "\u0e01\u0e34\u0e4d", "\u0627\u0644\u0651\u064e",
    "\uac00\u1161", "\u1100\u1161\u11a8\u1100", "\u0958\u0915\u093c", "\uff21\uff22\uff23",
    "\u3042\u3099", "\u304c\u309a", "e\u0301\u0327", "\u1e0b\u0323",
]

INVALID_HEX = [
    "ff", "80", "c3", "c328", "e282", "e28228", "f09f98", "f09f9880", "f09f98ff41",
    "48656c6c6f20ff20776f726c64", "c0af", "edb080", "f4908080", "fe", "e0808041",
    "41c2", "f8888080804142", "ed9fbf", "c2c2c2", "e2e2e2", "636166c3a9ff",
]


def digits():
    out = []
    for n in range(1, 13):
        out.append("".join(str((i * 7 + 3) % 10) for i in range(n)))
    out += ["Year 1999 and 20240517 and 123456789012.", "٣٤٥ ۱۲۳ ४५६ ໑໒", "１２３４５", "Ⅻ ⅓ ²³"]
    return out


def generated(rng):
    """Random mixtures of the pieces above, so that boundaries between
    scripts, spaces and punctuation fall in many different places."""
    atoms = ["the", "The", "THE", " ", "  ", "\n", "\t", ",", ".", "'s", "'LL", "123", "4567",
             "é", "e\u0301", "ж", "中文", "カタ", "ひら", "한", "🙂", "👍🏽", "<", ">", "|", "\u00a0",
             "\u3000", "\r\n", "$", "(", ")", "{", "}", "==", "->", "\u0301", "ก", "ع", "▁", "_",
             "<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<｜User｜>", "xyz", "Zürich", "naïve"]
    out = []
    for _ in range(150):
        k = rng.randint(1, 14)
        out.append("".join(rng.choice(atoms) for _ in range(k)))
    return out


def long_text():
    parts = PROSE + CODE + EMOJI + CONTRACTIONS
    s = "\n\n".join(parts)
    while len(s.encode()) < 5000:
        s += "\n" + s
    return s[:5200]


def main():
    rng = random.Random(20241128)
    texts = PROSE + CODE + EMOJI + WHITESPACE + CONTRACTIONS + COMBINING + SPECIAL + SINGLE
    texts += UNICODE_EDGE + digits() + generated(rng) + [long_text()]
    seen = set()
    with open(OUT, "w", encoding="utf-8") as f:
        for t in texts:
            if t in seen:
                continue
            seen.add(t)
            if "\x00" in t:  # C readers of the JSONL see strings up to the first NUL
                f.write(json.dumps({"hex": t.encode().hex()}) + "\n")
            else:
                f.write(json.dumps({"text": t}, ensure_ascii=True) + "\n")
        for h in INVALID_HEX:
            f.write(json.dumps({"hex": h}) + "\n")
    print(f"{OUT}: {len(seen) + len(INVALID_HEX)} strings")


if __name__ == "__main__":
    main()
