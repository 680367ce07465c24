/* gguf_tokenizer.c — tokenizer.ggml.* metadata -> the tokenizer.json and
 * tokenizer_config.json trees it stands for, loaded by the tokenizer.json
 * pipeline (tokenizer.c), and tokenizer.chat_template -> the chat template.
 *
 * tokenizer.ggml.model "gpt2" (byte-level BPE): vocab = tokens (id = index),
 * merges = tokenizer.ggml.merges ("a b"), token_type 3 (control) and 2
 * (unknown) become special added tokens and 4 (user-defined) non-special
 * added tokens — llama.cpp splits the text at all of these first, the
 * control/unknown ones only when special tokens are parsed, as HF does with
 * added tokens. tokenizer.ggml.pre names the pre-tokenizer, and llama.cpp
 * (llama-vocab.cpp, llm_tokenizer_bpe) keeps a list of regexes per name, each
 * splitting the pieces of the previous one and keeping what it did not
 * match: that is a Sequence of Split(regex, Isolated), then ByteLevel without
 * its own regex. add_bos_token / add_eos_token become a TemplateProcessing
 * post-processor, as llama.cpp adds them in tokenize(add_special=true).
 *
 * tokenizer.ggml.model "llama" (SentencePiece BPE with scores, Llama-2/Gemma): see
 * spm_json; token type 6 (byte) tokens stay in the vocabulary for byte fallback. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"
#include "gguf_model.h"
#include "tokenizer_internal.h"

#define GPT2_RE "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define LLAMA3_RE                                                                                           \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| " \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN2_RE                                                                                       \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| " \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* tokenizer.ggml.pre -> llama.cpp's regex list (llama-vocab.cpp, 2025). */
enum { PRE_NFC = 1, PRE_IGNORE_MERGES = 2, PRE_ADD_BOS = 4 };
static const struct pre_row {
    const char *names; /* '|'-separated values of tokenizer.ggml.pre */
    const char *re[6];
    int flags; /* PRE_IGNORE_MERGES, PRE_ADD_BOS: llama.cpp's settings for the type;
                  PRE_NFC: the HF tokenizer normalizes to NFC (Qwen2Tokenizer), which
                  llama.cpp skips; we follow HF */
} PRE[] = {
    { "default", { "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_RE, "\\p{N}+", "[0-9][0-9][0-9]" } },
    { "gpt-2|phi-2|mpt|olmo|jais|trillion|roberta-bpe|jina-v2-code", { GPT2_RE } },
    { "llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|dbrx|smaug-bpe|midm-2.0|lfm2",
      { LLAMA3_RE },
      PRE_IGNORE_MERGES | PRE_ADD_BOS },
    { "glm4|chatglm-bpe", { LLAMA3_RE } },
    { "qwen2|deepseek-r1-qwen|stablelm2|megrez|hunyuan", { QWEN2_RE }, PRE_NFC },
    { "smollm|starcoder|refact|command-r|codeshell|exaone|minerva-7b", { "\\p{N}", GPT2_RE } },
    { "deepseek-v3",
      { "\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
        "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+" } },
    { "deepseek-coder", { "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}" } },
    { "falcon", { "[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]" } },
    { "poro-chat|bloom|gpt3-finnish", { " ?[^(\\s|.,!?…。，、।۔،)]+" } },
    { "viking", { " ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}" } },
};

static bool name_in(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, "|");
        if (k == n && strncmp(p, name, n) == 0) return true;
        p += k + (p[k] == '|');
    }
    return false;
}

static cJSON *pre_tokenizer(const struct pre_row *row)
{
    cJSON *seq = cJSON_CreateObject(), *list = cJSON_CreateArray();
    cJSON_AddStringToObject(seq, "type", "Sequence");
    cJSON_AddItemToObject(seq, "pretokenizers", list);
    for (int i = 0; i < 6 && row->re[i]; i++) {
        const char *re = row->re[i];
        cJSON *sp = cJSON_CreateObject(), *pat = cJSON_CreateObject();
        cJSON_AddStringToObject(sp, "type", "Split");
        cJSON_AddStringToObject(pat, "Regex", re);
        cJSON_AddItemToObject(sp, "pattern", pat);
        cJSON_AddStringToObject(sp, "behavior", "Isolated");
        cJSON_AddBoolToObject(sp, "invert", false);
        cJSON_AddItemToArray(list, sp);
    }
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", false);
    cJSON_AddBoolToObject(bl, "use_regex", false);
    cJSON_AddItemToArray(list, bl);
    return seq;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

struct tok_meta {
    bool spm;                  /* tokenizer.ggml.model "llama" (SentencePiece) */
    const struct pre_row *pre; /* gpt2 models: the pre-tokenizer row */
    const struct vkg_gguf *g;
    const char *file;
    const struct vkg_gguf_kv *tokens, *types, *merges;
    int64_t bos, eos, unk, pad;
    bool add_bos, add_eos;
};

static int64_t meta_id(const struct vkg_gguf *g, const char *key)
{
    int64_t v;
    return vkg_gguf_get_i64(g, key, &v) == VKG_OK ? v : -1;
}

static enum vkg_status read_meta(const struct vkg_gguf *g, const struct pre_row *pre, bool spm, struct tok_meta *m)
{
    memset(m, 0, sizeof *m);
    m->pre = pre;
    m->spm = spm;
    m->g = g;
    m->file = base_name(vkg_gguf_path(g));
    m->tokens = vkg_gguf_find_kv(g, "tokenizer.ggml.tokens");
    m->types = vkg_gguf_find_kv(g, "tokenizer.ggml.token_type");
    m->merges = vkg_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (!m->tokens || m->tokens->type != VKG_GGUF_ARRAY || m->tokens->arr_type != VKG_GGUF_STRING)
        return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.tokens is missing or not an array of strings", m->file);
    uint64_t n = m->tokens->arr_n;
    if (n > INT32_MAX) return vkg_error(VKG_ERR_TOKENIZER, "%s: %llu tokens", m->file, (unsigned long long)n);
    if (m->types && (m->types->type != VKG_GGUF_ARRAY || m->types->arr_n != n || m->types->arr_type == VKG_GGUF_STRING))
        return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.token_type is not an array of %llu integers", m->file,
                         (unsigned long long)n);
    if (m->merges && (m->merges->type != VKG_GGUF_ARRAY || m->merges->arr_type != VKG_GGUF_STRING))
        return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.merges is not an array of strings", m->file);
    m->bos = meta_id(g, "tokenizer.ggml.bos_token_id");
    m->eos = meta_id(g, "tokenizer.ggml.eos_token_id");
    m->unk = meta_id(g, "tokenizer.ggml.unknown_token_id");
    m->pad = meta_id(g, "tokenizer.ggml.padding_token_id");
    int64_t ids[4] = { m->bos, m->eos, m->unk, m->pad };
    static const char *const names[4] = { "bos", "eos", "unknown", "padding" };
    for (int i = 0; i < 4; i++)
        if (ids[i] >= (int64_t)n)
            return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.%s_token_id %lld is not below the %llu tokens",
                             m->file, names[i], (long long)ids[i], (unsigned long long)n);
    m->add_bos = m->spm || (m->pre && (m->pre->flags & PRE_ADD_BOS)); /* llama.cpp's default for the type */
    vkg_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &m->add_bos);
    vkg_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &m->add_eos);
    if ((m->add_bos && m->bos < 0) || (m->add_eos && m->eos < 0))
        return vkg_error(VKG_ERR_TOKENIZER, "%s: add_%s_token is set but there is no %s token id", m->file,
                         m->add_bos && m->bos < 0 ? "bos" : "eos", m->add_bos && m->bos < 0 ? "bos" : "eos");
    return VKG_OK;
}

static const char *tok_str(const struct tok_meta *m, int64_t id) { return m->tokens->strs[id]; }

/* A token string usable as a C string (no NUL inside). */
static enum vkg_status check_token(const struct tok_meta *m, uint64_t i)
{
    if (strlen(m->tokens->strs[i]) != m->tokens->str_lens[i])
        return vkg_error(VKG_ERR_TOKENIZER, "%s: token %llu holds a NUL byte", m->file, (unsigned long long)i);
    return VKG_OK;
}

static cJSON *added_token(const struct tok_meta *m, uint64_t id, bool special)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", (double)id);
    cJSON_AddStringToObject(a, "content", tok_str(m, (int64_t)id));
    cJSON_AddBoolToObject(a, "single_word", false);
    cJSON_AddBoolToObject(a, "lstrip", false);
    cJSON_AddBoolToObject(a, "rstrip", false);
    cJSON_AddBoolToObject(a, "normalized", false);
    cJSON_AddBoolToObject(a, "special", special);
    return a;
}

static enum vkg_status bpe_model(const struct tok_meta *m, cJSON *j)
{
    cJSON *model = cJSON_AddObjectToObject(j, "model"), *vocab = cJSON_CreateObject(), *merges = cJSON_CreateArray();
    cJSON *added = cJSON_AddArrayToObject(j, "added_tokens");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON_AddItemToObject(model, "merges", merges);
    for (uint64_t i = 0; i < m->tokens->arr_n; i++) {
        if (check_token(m, i) != VKG_OK) return VKG_ERR_TOKENIZER;
        cJSON_AddItemToObject(vocab, tok_str(m, (int64_t)i), cJSON_CreateNumber((double)i));
        int64_t t = m->types ? vkg_gguf_arr_i64(m->types, i) : 1;
        if (t == 2 || t == 3 || t == 4) cJSON_AddItemToArray(added, added_token(m, i, t != 4));
    }
    for (uint64_t i = 0; m->merges && i < m->merges->arr_n; i++) {
        if (strlen(m->merges->strs[i]) != m->merges->str_lens[i] ||
            !strchr(m->merges->strs[i] + (m->merges->strs[i][0] != 0), ' '))
            return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.merges entry %llu '%.64s' is not 'a b'", m->file,
                             (unsigned long long)i, m->merges->strs[i]);
        /* llama.cpp splits at the first space after the first byte */
        const char *s = m->merges->strs[i], *sp = strchr(s + 1, ' ');
        cJSON *pair = cJSON_CreateArray();
        char *a = strndup(s, (size_t)(sp - s));
        cJSON_AddItemToArray(pair, cJSON_CreateString(a ? a : ""));
        cJSON_AddItemToArray(pair, cJSON_CreateString(sp + 1));
        free(a);
        cJSON_AddItemToArray(merges, pair);
    }
    return VKG_OK;
}

/* [bos] $A [eos] when add_bos / add_eos (llama.cpp's tokenize(add_special)). */
static void post_processor(const struct tok_meta *m, cJSON *j)
{
    if (!m->add_bos && !m->add_eos) return;
    cJSON *post = cJSON_AddObjectToObject(j, "post_processor"), *single = cJSON_CreateArray();
    cJSON *specials = cJSON_CreateObject();
    cJSON_AddStringToObject(post, "type", "TemplateProcessing");
    cJSON_AddItemToObject(post, "single", single);
    cJSON_AddItemToObject(post, "special_tokens", specials);
    for (int k = 0; k < 3; k++) {
        cJSON *item = cJSON_CreateObject();
        if (k == 1) {
            cJSON *seq = cJSON_AddObjectToObject(item, "Sequence");
            cJSON_AddStringToObject(seq, "id", "A");
            cJSON_AddNumberToObject(seq, "type_id", 0);
            cJSON_AddItemToArray(single, item);
            continue;
        }
        int64_t id = k == 0 ? m->bos : m->eos;
        if (!(k == 0 ? m->add_bos : m->add_eos)) {
            cJSON_Delete(item);
            continue;
        }
        cJSON *st = cJSON_AddObjectToObject(item, "SpecialToken");
        cJSON_AddStringToObject(st, "id", tok_str(m, id));
        cJSON_AddNumberToObject(st, "type_id", 0);
        cJSON_AddItemToArray(single, item);
        cJSON *ent = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *toks = cJSON_CreateArray();
        cJSON_AddStringToObject(ent, "id", tok_str(m, id));
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
        cJSON_AddItemToArray(toks, cJSON_CreateString(tok_str(m, id)));
        cJSON_AddItemToObject(ent, "ids", ids);
        cJSON_AddItemToObject(ent, "tokens", toks);
        if (!cJSON_GetObjectItemCaseSensitive(specials, tok_str(m, id)))
            cJSON_AddItemToObject(specials, tok_str(m, id), ent);
        else cJSON_Delete(ent);
    }
}

static enum vkg_status find_pre(const struct vkg_gguf *g, const char *file, const struct pre_row **out)
{
    const char *pre = "default";
    enum vkg_status s = vkg_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    if (s != VKG_OK && s != VKG_ERR_NOT_FOUND) return s;
    for (size_t i = 0; i < sizeof PRE / sizeof PRE[0]; i++)
        if (name_in(PRE[i].names, pre)) {
            *out = &PRE[i];
            return VKG_OK;
        }
    return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tokenizer.ggml.pre '%.64s' is not a pre-tokenizer vkgrm knows", file,
                     pre);
}

static enum vkg_status gpt2_json(const struct tok_meta *m, cJSON *j)
{
    cJSON_AddItemToObject(j, "pre_tokenizer", pre_tokenizer(m->pre));
    if (m->pre->flags & PRE_NFC) {
        cJSON *n = cJSON_AddObjectToObject(j, "normalizer");
        cJSON_AddStringToObject(n, "type", "NFC");
    }
    cJSON *dec = cJSON_AddObjectToObject(j, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    post_processor(m, j);
    enum vkg_status s = bpe_model(m, j);
    if (s == VKG_OK && (m->pre->flags & PRE_IGNORE_MERGES))
        cJSON_AddBoolToObject(cJSON_GetObjectItem(j, "model"), "ignore_merges", true);
    return s;
}

/* ---- SentencePiece ("llama"): scores -> BPE merges ------------------------- */

struct spm_merge {
    float score; /* of the merged token */
    int32_t t, a, b;
};

static int cmp_spm(const void *x, const void *y)
{
    const struct spm_merge *p = x, *q = y;
    if (p->score != q->score) return p->score > q->score ? -1 : 1; /* best score first */
    if (p->t != q->t) return p->t < q->t ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

/* llama.cpp's SentencePiece tokenizer merges, among adjacent symbols whose
 * concatenation is a token, the one with the best score (leftmost on ties),
 * from UTF-8 characters up; what is no token falls back to <0xNN> bytes. As
 * BPE (what transformers' GGUF converter does): every split of every token t
 * into two tokens a + b is a merge, ranked by t's score. */
static enum vkg_status spm_merges(const struct tok_meta *m, const struct vkg_gguf_kv *scores, cJSON *merges)
{
    struct {
        char *key;
        int32_t value;
    } *ids = NULL;
    sh_new_arena(ids);
    uint64_t n = m->tokens->arr_n;
    for (uint64_t i = 0; i < n; i++) shput(ids, m->tokens->strs[i], (int32_t)i); /* the last id wins, as in llama.cpp */
    struct spm_merge *list = NULL;
    char buf[1024];
    for (uint64_t t = 0; t < n; t++) {
        const char *str = m->tokens->strs[t];
        size_t len = m->tokens->str_lens[t];
        if (len >= sizeof buf || shget(ids, str) != (int32_t)t) continue;
        float sc = scores ? (float)vkg_gguf_arr_f64(scores, t) : 0.0f;
        for (size_t k = utf8_len((unsigned char)str[0]); k < len; k += utf8_len((unsigned char)str[k])) {
            memcpy(buf, str, k);
            buf[k] = '\0';
            ptrdiff_t ia = shgeti(ids, buf), ib = shgeti(ids, str + k);
            if (ia >= 0 && ib >= 0) {
                struct spm_merge mg = { sc, (int32_t)t, ids[ia].value, ids[ib].value };
                arrput(list, mg);
            }
        }
    }
    if (arrlen(list)) qsort(list, (size_t)arrlen(list), sizeof *list, cmp_spm);
    for (ptrdiff_t i = 0; i < arrlen(list); i++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(tok_str(m, list[i].a)));
        cJSON_AddItemToArray(pair, cJSON_CreateString(tok_str(m, list[i].b)));
        cJSON_AddItemToArray(merges, pair);
    }
    arrfree(list);
    shfree(ids);
    return VKG_OK;
}

static cJSON *replace_item(const char *from, const char *to)
{
    cJSON *r = cJSON_CreateObject(), *pat = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "Replace");
    cJSON_AddStringToObject(pat, "String", from);
    cJSON_AddItemToObject(r, "pattern", pat);
    cJSON_AddStringToObject(r, "content", to);
    return r;
}

/* llama.cpp's SPM session as a tokenizer.json: spaces escaped to U+2581 and,
 * with add_space_prefix (default true), one prepended to every stretch of
 * text (llama.cpp adds it at the start and after each special token; the
 * normalizer runs on each stretch between added tokens); decode reverses it. */
static enum vkg_status spm_json(const struct tok_meta *m, cJSON *j)
{
    const struct vkg_gguf_kv *scores = vkg_gguf_find_kv(m->g, "tokenizer.ggml.scores");
    if (scores && (scores->type != VKG_GGUF_ARRAY || scores->arr_n != m->tokens->arr_n ||
                   (scores->arr_type != VKG_GGUF_FLOAT32 && scores->arr_type != VKG_GGUF_FLOAT64)))
        return vkg_error(VKG_ERR_TOKENIZER, "%s: tokenizer.ggml.scores is not an array of %llu floats", m->file,
                         (unsigned long long)m->tokens->arr_n);
    bool prefix = true;
    vkg_gguf_get_bool(m->g, "tokenizer.ggml.add_space_prefix", &prefix);
    cJSON *norm = cJSON_AddObjectToObject(j, "normalizer"), *list = cJSON_CreateArray();
    cJSON_AddStringToObject(norm, "type", "Sequence");
    cJSON_AddItemToObject(norm, "normalizers", list);
    if (prefix) {
        cJSON *pre = cJSON_CreateObject();
        cJSON_AddStringToObject(pre, "type", "Prepend");
        cJSON_AddStringToObject(pre, "prepend", "\u2581");
        cJSON_AddItemToArray(list, pre);
    }
    cJSON_AddItemToArray(list, replace_item(" ", "\u2581"));
    cJSON *dec = cJSON_AddObjectToObject(j, "decoder"), *dl = cJSON_CreateArray(), *bf = cJSON_CreateObject(),
          *fu = cJSON_CreateObject();
    cJSON_AddStringToObject(dec, "type", "Sequence");
    cJSON_AddItemToObject(dec, "decoders", dl);
    cJSON_AddItemToArray(dl, replace_item("\u2581", " "));
    cJSON_AddStringToObject(bf, "type", "ByteFallback");
    cJSON_AddItemToArray(dl, bf);
    cJSON_AddStringToObject(fu, "type", "Fuse");
    cJSON_AddItemToArray(dl, fu);
    if (prefix) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "type", "Strip");
        cJSON_AddStringToObject(st, "content", " ");
        cJSON_AddNumberToObject(st, "start", 1);
        cJSON_AddNumberToObject(st, "stop", 0);
        cJSON_AddItemToArray(dl, st);
    }
    post_processor(m, j);
    enum vkg_status s = bpe_model(m, j);
    if (s != VKG_OK) return s;
    cJSON *model = cJSON_GetObjectItem(j, "model");
    cJSON_AddBoolToObject(model, "byte_fallback", true);
    cJSON_AddBoolToObject(model, "fuse_unk", true);
    int64_t unk = m->unk >= 0 ? m->unk : 0; /* llama.cpp's SPM default */
    if (unk < (int64_t)m->tokens->arr_n) cJSON_AddStringToObject(model, "unk_token", tok_str(m, unk));
    return spm_merges(m, scores, cJSON_GetObjectItem(model, "merges"));
}

/* tokenizer_config.json: bos/eos strings, add_bos_token, chat_template. */
static cJSON *config_tree(const struct tok_meta *m)
{
    cJSON *cfg = cJSON_CreateObject();
    if (m->bos >= 0) cJSON_AddStringToObject(cfg, "bos_token", tok_str(m, m->bos));
    if (m->eos >= 0) cJSON_AddStringToObject(cfg, "eos_token", tok_str(m, m->eos));
    cJSON_AddBoolToObject(cfg, "add_bos_token", m->add_bos);
    const char *tmpl = NULL;
    if (vkg_gguf_get_str(m->g, "tokenizer.chat_template", &tmpl) == VKG_OK)
        cJSON_AddStringToObject(cfg, "chat_template", tmpl);
    return cfg;
}

static enum vkg_status tokenizer_trees(const struct vkg_gguf *g, struct tok_meta *m, cJSON **j, cJSON **cfg)
{
    *j = *cfg = NULL;
    const char *model = NULL;
    const char *f = base_name(vkg_gguf_path(g));
    enum vkg_status s = vkg_gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (s == VKG_ERR_NOT_FOUND) /* like a directory without tokenizer.json */
        return vkg_error(VKG_ERR_NOT_FOUND, "%s: no tokenizer.ggml.model in the metadata", f);
    if (s != VKG_OK) return s;
    if (strcmp(model, "none") == 0 || strcmp(model, "no_vocab") == 0) /* llama.cpp's LLAMA_VOCAB_TYPE_NONE */
        return vkg_error(VKG_ERR_NOT_FOUND, "%s: tokenizer.ggml.model '%s': the file has no vocabulary", f, model);
    if (strcmp(model, "llama") == 0) {
        if ((s = read_meta(g, NULL, true, m)) != VKG_OK) return s;
        *j = cJSON_CreateObject();
        s = spm_json(m, *j);
        if (s == VKG_OK) *cfg = config_tree(m);
        return s;
    }
    if (strcmp(model, "gpt2") != 0)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.32s' is not supported (gpt2 and llama are)",
                         f, model);
    const struct pre_row *pre = NULL;
    if ((s = find_pre(g, f, &pre)) != VKG_OK || (s = read_meta(g, pre, false, m)) != VKG_OK) return s;
    *j = cJSON_CreateObject();
    s = gpt2_json(m, *j);
    if (s == VKG_OK) *cfg = config_tree(m);
    return s;
}

enum vkg_status vkg_gguf_tokenizer_load(const char *path, struct vkg_tokenizer **out)
{
    *out = NULL;
    struct vkg_gguf *g;
    struct tok_meta m;
    cJSON *j = NULL, *cfg = NULL;
    enum vkg_status s = vkg_gguf_open(path, &g);
    if (s == VKG_OK) s = tokenizer_trees(g, &m, &j, &cfg);
    if (s == VKG_OK) {
        char name[512];
        snprintf(name, sizeof name, "%s (tokenizer.ggml)", base_name(path));
        s = tk_tokenizer_from_json(j, cfg, name, out);
    }
    cJSON_Delete(j);
    cJSON_Delete(cfg);
    vkg_gguf_close(g);
    return s;
}

enum vkg_status vkg_gguf_chat_template_load(const char *path, const char *model_type, struct vkg_chat_template *out)
{
    memset(out, 0, sizeof *out);
    struct vkg_gguf *g;
    enum vkg_status s = vkg_gguf_open(path, &g);
    if (s != VKG_OK) return s;
    struct tok_meta m;
    cJSON *cfg = NULL;
    char *text = NULL, name[512];
    const struct pre_row *pre = NULL;
    find_pre(g, "", &pre); /* bos/eos strings do not depend on it; NULL: llama.cpp's BPE default */
    if (read_meta(g, pre, false, &m) == VKG_OK) cfg = config_tree(&m);
    else { /* no usable vocabulary: the template alone */ cfg = cJSON_CreateObject();
        const char *tmpl = NULL;
        if (vkg_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == VKG_OK)
            cJSON_AddStringToObject(cfg, "chat_template", tmpl);
    }
    snprintf(name, sizeof name, "%s (tokenizer.chat_template)", base_name(path));
    if (!cfg || !(text = cJSON_PrintUnformatted(cfg))) s = vkg_error(VKG_ERR_NOMEM, "%s", name);
    else s = vkg_chat_template_parse(text, strlen(text), NULL, model_type, name, out);
    free(text);
    cJSON_Delete(cfg);
    vkg_gguf_close(g);
    return s;
}
