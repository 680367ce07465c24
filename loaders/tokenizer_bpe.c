/* tokenizer_bpe.c — the BPE model of HF tokenizers: vocab and merge ranks in
 * stb_ds hash maps, and the merge loop over one pre-token.
 *
 * The loop is HF's Word::merge_all: symbols in a linked list, candidate
 * pairs in a binary min-heap ordered by (rank, position); a popped pair that
 * no longer matches its neighbours is stale and skipped. That is
 * O(n log n) per pre-token, and results are cached per pre-token string. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenizer_internal.h"

#define TK_CACHE_MAX 65536   /* entries; the cache is dropped when it fills */
#define TK_CACHE_MAX_LEN 256 /* longer pieces are not cached (HF does the same) */

struct tk_sym {
    int32_t id;
    int32_t prev, next; /* -1 at the ends */
    uint32_t len;       /* bytes; 0 once merged into its left neighbour */
};
struct tk_heap_item {
    int32_t rank, pos, id;
};

int32_t tk_bpe_lookup(struct tk_bpe *bpe, const char *s, size_t n)
{
    if (memchr(s, 0, n)) /* JSON vocab strings never hold NUL; a C string key can't either */
        return -1;
    bpe->key.n = 0;
    if (tk_str_append(&bpe->key, s, n) || tk_str_cstr(&bpe->key)) return -1;
    ptrdiff_t i = shgeti(bpe->vocab, bpe->key.p);
    return i < 0 ? -1 : bpe->vocab[i].value;
}

/* ---- loading ------------------------------------------------------------ */

static enum vkg_status load_vocab(const cJSON *vocab, struct tk_bpe *bpe)
{
    const cJSON *it;
    if (!cJSON_IsObject(vocab)) return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: model.vocab is not an object");
    sh_new_arena(bpe->vocab);
    cJSON_ArrayForEach(it, vocab)
    {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > INT32_MAX)
            return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: vocab entry '%s' has a bad id", it->string);
        shput(bpe->vocab, it->string, (int32_t)it->valuedouble);
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b); /* Rust format!("<{:#04X}>") */
        ptrdiff_t i = shgeti(bpe->vocab, name);
        bpe->byte_ids[b] = i < 0 ? -1 : bpe->vocab[i].value;
    }
    return VKG_OK;
}

/* One merge rule, either "a b" or ["a", "b"]. */
static enum vkg_status add_merge(struct tk_bpe *bpe, const cJSON *m, int32_t rank)
{
    char *a = NULL, *b = NULL;
    struct tk_str both = { 0 };
    enum vkg_status st = VKG_OK;
    if (cJSON_IsString(m)) {
        char *sp = strchr(m->valuestring, ' ');
        if (!sp)
            return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: merge %d '%s' has no space", rank, m->valuestring);
        a = m->valuestring;
        b = sp + 1;
        *sp = 0; /* split in place; restored below */
    } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(cJSON_GetArrayItem(m, 0)) &&
               cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
        a = cJSON_GetArrayItem(m, 0)->valuestring;
        b = cJSON_GetArrayItem(m, 1)->valuestring;
    } else {
        return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: merge %d is malformed", rank);
    }
    ptrdiff_t ia = shgeti(bpe->vocab, a), ib = shgeti(bpe->vocab, b);
    if (!(st = tk_str_append(&both, a, strlen(a))) && !(st = tk_str_append(&both, b, strlen(b))))
        st = tk_str_cstr(&both);
    ptrdiff_t ic = st ? -1 : shgeti(bpe->vocab, both.p);
    if (!st && (ia < 0 || ib < 0 || ic < 0))
        st = vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: merge %d '%s' + '%s': token not in vocab", rank, a, b);
    if (!st) {
        uint64_t key = (uint64_t)(uint32_t)bpe->vocab[ia].value << 32 | (uint32_t)bpe->vocab[ib].value;
        struct tk_merge v = { rank, bpe->vocab[ic].value };
        hmput(bpe->merges, key, v); /* a repeated pair: the later rank wins, as in HF */
    }
    if (cJSON_IsString(m)) b[-1] = ' ';
    tk_str_free(&both);
    return st;
}

static int json_flag(const cJSON *model, const char *name) { return cJSON_IsTrue(vkg_json_get(model, name)); }

/* Options we do not implement must be absent, null or empty. */
static enum vkg_status check_unsupported(const cJSON *model)
{
    static const char *names[] = { "continuing_subword_prefix", "end_of_word_suffix", "dropout" };
    for (int i = 0; i < 3; i++) {
        const cJSON *o = vkg_json_get(model, names[i]);
        if (o && !cJSON_IsNull(o) && !(cJSON_IsString(o) && !o->valuestring[0]) &&
            !(cJSON_IsNumber(o) && o->valuedouble == 0))
            return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: BPE option '%s'", names[i]);
    }
    return VKG_OK;
}

enum vkg_status tk_bpe_load(const cJSON *model, struct tk_bpe *bpe)
{
    const cJSON *type = vkg_json_get(model, "type");
    const cJSON *merges = vkg_json_get(model, "merges"), *it;
    const cJSON *unk = vkg_json_get(model, "unk_token");
    enum vkg_status st;
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE"))
        return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: model type '%s'",
                         cJSON_IsString(type) ? type->valuestring : "(none)");
    if ((st = check_unsupported(model)) || (st = load_vocab(vkg_json_get(model, "vocab"), bpe))) return st;
    bpe->byte_fallback = json_flag(model, "byte_fallback");
    bpe->fuse_unk = json_flag(model, "fuse_unk");
    bpe->ignore_merges = json_flag(model, "ignore_merges");
    bpe->unk_id = -1;
    if (cJSON_IsString(unk)) {
        ptrdiff_t i = shgeti(bpe->vocab, unk->valuestring);
        if (i < 0) return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: unk_token '%s' not in vocab", unk->valuestring);
        bpe->unk_id = bpe->vocab[i].value;
    }
    int32_t rank = 0;
    cJSON_ArrayForEach(it, merges) if ((st = add_merge(bpe, it, rank++))) return st;
    sh_new_strdup(bpe->cache);
    return VKG_OK;
}

void tk_bpe_free(struct tk_bpe *bpe)
{
    shfree(bpe->vocab);
    hmfree(bpe->merges);
    shfree(bpe->cache);
    arrfree(bpe->cache_ids);
    arrfree(bpe->syms);
    arrfree(bpe->heap);
    tk_str_free(&bpe->key);
}

/* ---- the merge loop ----------------------------------------------------- */

static int heap_less(struct tk_heap_item a, struct tk_heap_item b)
{
    return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos;
}

static void heap_push(struct tk_heap_item **h, struct tk_heap_item x)
{
    arrput(*h, x);
    ptrdiff_t i = arrlen(*h) - 1;
    while (i > 0 && heap_less((*h)[i], (*h)[(i - 1) / 2])) {
        struct tk_heap_item t = (*h)[i];
        (*h)[i] = (*h)[(i - 1) / 2];
        (*h)[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct tk_heap_item heap_pop(struct tk_heap_item *h)
{
    struct tk_heap_item top = h[0];
    ptrdiff_t n = arrlen(h) - 1, i = 0;
    h[0] = h[n];
    arrsetlen(h, n);
    for (;;) {
        ptrdiff_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_less(h[l], h[m])) m = l;
        if (r < n && heap_less(h[r], h[m])) m = r;
        if (m == i) break;
        struct tk_heap_item t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
    return top;
}

static const struct tk_merge *merge_get(struct tk_bpe *bpe, int32_t a, int32_t b)
{
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    ptrdiff_t i = hmgeti(bpe->merges, key);
    return i < 0 ? NULL : &bpe->merges[i].value;
}

static void push_pair(struct tk_bpe *bpe, int32_t pos)
{
    struct tk_sym *s = bpe->syms;
    if (pos < 0 || s[pos].next < 0) return;
    const struct tk_merge *m = merge_get(bpe, s[pos].id, s[s[pos].next].id);
    if (m) heap_push(&bpe->heap, (struct tk_heap_item){ m->rank, pos, m->id });
}

static void merge_all(struct tk_bpe *bpe)
{
    struct tk_sym *s = bpe->syms;
    arrsetlen(bpe->heap, 0);
    for (int32_t i = 0; i + 1 < (int32_t)arrlen(s); i++) push_pair(bpe, i);
    while (arrlen(bpe->heap) > 0) {
        struct tk_heap_item top = heap_pop(bpe->heap);
        if (s[top.pos].len == 0 || s[top.pos].next < 0) continue;
        int32_t right = s[top.pos].next;
        const struct tk_merge *m = merge_get(bpe, s[top.pos].id, s[right].id);
        if (!m || m->id != top.id) /* stale: a neighbour changed since the push */
            continue;
        s[top.pos].id = top.id;
        s[top.pos].len += s[right].len;
        s[top.pos].next = s[right].next;
        s[right].len = 0;
        if (s[right].next >= 0) s[s[right].next].prev = top.pos;
        push_pair(bpe, s[top.pos].prev);
        push_pair(bpe, top.pos);
    }
}

static void sym_add(struct tk_bpe *bpe, int32_t id, uint32_t len)
{
    int32_t n = (int32_t)arrlen(bpe->syms);
    struct tk_sym s = { id, n - 1, -1, len };
    if (n > 0) bpe->syms[n - 1].next = n;
    arrput(bpe->syms, s);
}

static int has_byte_tokens(const struct tk_bpe *bpe, const char *s, size_t k)
{
    for (size_t b = 0; b < k; b++)
        if (bpe->byte_ids[(uint8_t)s[b]] < 0) return 0;
    return 1;
}

/* Initial symbols: one per char; unknown chars become <0xNN> bytes
 * (byte_fallback) or unk (fused when fuse_unk), in HF's exact order. */
static void word_symbols(struct tk_bpe *bpe, const char *w, size_t n)
{
    int32_t unk_len = -1;
    arrsetlen(bpe->syms, 0);
    for (size_t i = 0; i < n;) {
        int32_t cp;
        size_t k = tk_utf8_next(w + i, n - i, &cp);
        int32_t id = tk_bpe_lookup(bpe, w + i, k);
        if (id >= 0) {
            if (unk_len >= 0) sym_add(bpe, bpe->unk_id, (uint32_t)unk_len);
            unk_len = -1;
            sym_add(bpe, id, (uint32_t)k);
        } else if (bpe->byte_fallback && has_byte_tokens(bpe, w + i, k)) {
            for (size_t b = 0; b < k; b++) sym_add(bpe, bpe->byte_ids[(uint8_t)w[i + b]], 1);
        } else if (bpe->unk_id >= 0) {
            if (unk_len >= 0 && !bpe->fuse_unk) {
                sym_add(bpe, bpe->unk_id, (uint32_t)unk_len);
                unk_len = 0;
            }
            unk_len = (unk_len < 0 ? 0 : unk_len) + (int32_t)k;
        } /* no unk token: the char is dropped, as HF does */
        i += k;
    }
    if (unk_len >= 0) sym_add(bpe, bpe->unk_id, (uint32_t)unk_len);
}

static enum vkg_status cache_put(struct tk_bpe *bpe, const char *key, const int32_t *ids, size_t n)
{
    if (shlen(bpe->cache) >= TK_CACHE_MAX) { /* simple bound: start over */
        shfree(bpe->cache);
        sh_new_strdup(bpe->cache);
        arrsetlen(bpe->cache_ids, 0);
    }
    size_t off = arrlen(bpe->cache_ids);
    arrput(bpe->cache_ids, (int32_t)n);
    for (size_t i = 0; i < n; i++) arrput(bpe->cache_ids, ids[i]);
    shput(bpe->cache, key, off);
    return VKG_OK;
}

enum vkg_status tk_bpe_encode(struct tk_bpe *bpe, const char *s, size_t n, int32_t **ids)
{
    if (n == 0) return VKG_OK;
    if (bpe->ignore_merges) { /* Llama-3: a pre-token that is a token wins outright */
        int32_t id = tk_bpe_lookup(bpe, s, n);
        if (id >= 0) {
            arrput(*ids, id);
            return VKG_OK;
        }
    }
    int cacheable = n < TK_CACHE_MAX_LEN && !memchr(s, 0, n);
    char key[TK_CACHE_MAX_LEN];
    if (cacheable) {
        memcpy(key, s, n);
        key[n] = 0;
        ptrdiff_t i = shgeti(bpe->cache, key);
        if (i >= 0) {
            const int32_t *c = bpe->cache_ids + bpe->cache[i].value;
            for (int32_t k = 0; k < c[0]; k++) arrput(*ids, c[1 + k]);
            return VKG_OK;
        }
    }
    word_symbols(bpe, s, n);
    merge_all(bpe);
    size_t first = arrlen(*ids);
    for (ptrdiff_t i = 0; i < arrlen(bpe->syms); i = bpe->syms[i].next) {
        arrput(*ids, bpe->syms[i].id);
        if (bpe->syms[i].next < 0) break;
    }
    return cacheable ? cache_put(bpe, key, *ids + first, arrlen(*ids) - first) : VKG_OK;
}
