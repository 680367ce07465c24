/* tokenizer_added.c — added tokens ("<|im_end|>", "<start_of_turn>", ...):
 * loading, and splitting text around them before anything else runs.
 *
 * Like HF's AddedVocabulary there are two sets: tokens with normalized=false
 * are found in the raw text, tokens with normalized=true in the normalized
 * text. The search is leftmost-longest (HF uses Aho-Corasick with that
 * match kind); a byte trie gives the same answer. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenizer_internal.h"

static int32_t trie_node(struct tk_trie *t)
{
    arrput(t->token, -1);
    return (int32_t)arrlen(t->token) - 1;
}

static void trie_insert(struct tk_trie *t, const char *s, size_t n, int32_t index)
{
    int32_t node = 0;
    if (!t->token) trie_node(t); /* root */
    t->first[(uint8_t)s[0]] = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = (uint64_t)node << 8 | (uint8_t)s[i];
        ptrdiff_t e = hmgeti(t->edges, key);
        if (e < 0) {
            int32_t child = trie_node(t);
            hmput(t->edges, key, child);
            node = child;
        } else {
            node = t->edges[e].value;
        }
    }
    t->token[node] = index; /* a duplicate string: the later entry wins */
}

/* Longest token starting at s[0]; returns its tk_added index or -1. */
static int32_t trie_longest(const struct tk_trie *t, const char *s, size_t n, size_t *len)
{
    int32_t node = 0, best = -1;
    if (!t->token || !t->first[(uint8_t)s[0]]) return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = (uint64_t)node << 8 | (uint8_t)s[i];
        ptrdiff_t e = hmgeti(((struct tk_trie *)t)->edges, key);
        if (e < 0) break;
        node = t->edges[e].value;
        if (t->token[node] >= 0) {
            best = t->token[node];
            *len = i + 1;
        }
    }
    return best;
}

static void trie_free(struct tk_trie *t)
{
    hmfree(t->edges);
    arrfree(t->token);
    memset(t, 0, sizeof *t);
}

static uint8_t flag(const cJSON *o, const char *name) { return cJSON_IsTrue(vkg_json_get(o, name)) ? 1 : 0; }

static enum vkg_status added_one(struct vkg_tokenizer *tok, const cJSON *o)
{
    const cJSON *c = vkg_json_get(o, "content");
    const cJSON *id = vkg_json_get(o, "id");
    if (!cJSON_IsString(c) || !cJSON_IsNumber(id) || id->valuedouble < 0 || !c->valuestring[0])
        return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: malformed added_tokens entry");
    struct tk_added a = { 0 };
    a.content = strdup(c->valuestring);
    a.len = strlen(c->valuestring);
    a.id = (int32_t)id->valuedouble;
    a.special = flag(o, "special");
    a.lstrip = flag(o, "lstrip");
    a.rstrip = flag(o, "rstrip");
    a.single_word = flag(o, "single_word");
    a.normalized = flag(o, "normalized");
    if (!a.content) return vkg_error(VKG_ERR_NOMEM, "added token");
    struct tk_str m = { 0 };
    enum vkg_status st =
        a.normalized ? tk_normalize(tok->norms, a.content, a.len, &m) : tk_str_append(&m, a.content, a.len);
    if (!st) st = tk_str_cstr(&m);
    a.match = m.p; /* normalized tokens are searched in their normalized form */
    a.match_len = m.n;
    arrput(tok->added, a);
    return st;
}

enum vkg_status tk_added_load(struct vkg_tokenizer *tok, const cJSON *arr)
{
    const cJSON *it;
    enum vkg_status st;
    cJSON_ArrayForEach(it, arr) if ((st = added_one(tok, it))) return st;
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++) {
        struct tk_added *a = &tok->added[i];
        if (a->match_len)
            trie_insert(a->normalized ? &tok->trie_norm : &tok->trie_raw, a->match, a->match_len, (int32_t)i);
    }
    return VKG_OK;
}

enum vkg_status tk_added_mark_special(struct vkg_tokenizer *tok, const char *content)
{
    if (!content || !content[0]) return VKG_OK;
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++)
        if (!strcmp(tok->added[i].content, content)) {
            tok->added[i].special = 1;
            return VKG_OK;
        }
    /* A vocab token named special in the config: transformers adds it as an
     * added token, so it is matched whole and skipped on decode. */
    int32_t id = tk_bpe_lookup(&tok->bpe, content, strlen(content));
    if (id < 0) return VKG_OK;
    struct tk_added a = { 0 };
    a.content = strdup(content);
    a.match = strdup(content);
    if (!a.content || !a.match) {
        free(a.content);
        free(a.match);
        return vkg_error(VKG_ERR_NOMEM, "added token");
    }
    a.len = a.match_len = strlen(content);
    a.id = id;
    a.special = 1;
    arrput(tok->added, a);
    trie_insert(&tok->trie_raw, a.match, a.match_len, (int32_t)arrlen(tok->added) - 1);
    return VKG_OK;
}

void tk_added_free(struct vkg_tokenizer *tok)
{
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++) {
        free(tok->added[i].content);
        free(tok->added[i].match);
    }
    arrfree(tok->added);
    trie_free(&tok->trie_raw);
    trie_free(&tok->trie_norm);
}

/* Last / first char of a string is a word char (alphanumeric or '_'). */
static int ends_with_word(const char *s, size_t n)
{
    if (!n) return 0;
    size_t k = 1;
    while (k < n && ((unsigned char)s[n - k] & 0xC0) == 0x80) k++;
    int32_t cp;
    tk_utf8_next(s + n - k, k, &cp);
    return cp == '_' || tk_is_alnum(cp);
}

static int starts_with_word(const char *s, size_t n)
{
    int32_t cp;
    if (!n) return 0;
    tk_utf8_next(s, n, &cp);
    return cp == '_' || tk_is_alnum(cp);
}

/* HF find_matches: lstrip/rstrip widen the match over whitespace, which is
 * then swallowed by the token; single_word needs non-word neighbours. */
static int accept_match(const struct tk_added *a, const char *s, size_t n, size_t floor, size_t *start, size_t *stop)
{
    if (a->single_word && (ends_with_word(s, *start) || starts_with_word(s + *stop, n - *stop))) return 0;
    if (a->lstrip) {
        size_t b = *start;
        while (b > floor) {
            size_t k = 1;
            int32_t cp;
            while (k < b && ((unsigned char)s[b - k] & 0xC0) == 0x80) k++;
            tk_utf8_next(s + b - k, k, &cp);
            if (!tk_is_whitespace(cp)) break;
            b -= k;
        }
        *start = b;
    }
    while (a->rstrip && *stop < n) {
        int32_t cp;
        size_t k = tk_utf8_next(s + *stop, n - *stop, &cp);
        if (!tk_is_whitespace(cp)) break;
        *stop += k;
    }
    return 1;
}

enum vkg_status tk_added_split(struct vkg_tokenizer *tok, const struct tk_trie *trie, const char *s, size_t n,
                               int flags, tk_text_fn on_text, int32_t **ids)
{
    size_t done = 0, pos = 0;
    enum vkg_status st;
    while (pos < n) {
        size_t len = 0, start = pos, stop;
        int32_t idx = trie_longest(trie, s + pos, n - pos, &len);
        if (idx < 0) {
            pos++;
            continue;
        }
        const struct tk_added *a = &tok->added[idx];
        stop = pos + len;
        pos = stop; /* matches never overlap, even a skipped one */
        if ((a->special && !(flags & VKG_TOK_PARSE_SPECIAL)) || !accept_match(a, s, n, done, &start, &stop)) continue;
        if (start > done && (st = on_text(tok, s + done, start - done, ids, flags))) return st;
        arrput(*ids, a->id);
        done = pos = stop;
    }
    return done < n ? on_text(tok, s + done, n - done, ids, flags) : VKG_OK;
}
