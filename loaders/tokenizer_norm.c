/* tokenizer_norm.c — normalizers: NFC/NFD/NFKC/NFKD (utf8proc), Lowercase,
 * Replace, Prepend, Strip, Sequence. They run on each stretch of text left
 * between added tokens, before pre-tokenization. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "json.h"
#include "tokenizer_internal.h"

static enum vkg_status norm_parse_one(const cJSON *j, struct tk_norm **out)
{
    const cJSON *type = vkg_json_get(j, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "(no type)";
    struct tk_norm nm = { 0 };
    enum vkg_status st = VKG_OK;
    static const char *simple[] = { "NFC", "NFD", "NFKC", "NFKD", "Lowercase" };
    if (!strcmp(t, "Sequence")) {
        const cJSON *it, *arr = vkg_json_get(j, "normalizers");
        cJSON_ArrayForEach(it, arr) if ((st = norm_parse_one(it, out))) return st;
        return VKG_OK;
    }
    for (int i = 0; i < 5; i++)
        if (!strcmp(t, simple[i])) {
            nm.type = (enum tk_norm_type)i; /* same order as enum tk_norm_type */
            arrput(*out, nm);
            return VKG_OK;
        }
    const cJSON *content = vkg_json_get(j, !strcmp(t, "Prepend") ? "prepend" : "content");
    if (!strcmp(t, "Replace") || !strcmp(t, "Prepend")) {
        nm.type = t[0] == 'R' ? TK_NORM_REPLACE : TK_NORM_PREPEND;
        if (!cJSON_IsString(content))
            return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: normalizer %s without string", t);
        if (!(nm.content = strdup(content->valuestring))) return vkg_error(VKG_ERR_NOMEM, "normalizer %s", t);
        if (nm.type == TK_NORM_REPLACE)
            st = tk_pattern_parse(vkg_json_get(j, "pattern"), &nm.pat, "normalizer Replace");
    } else if (!strcmp(t, "Strip")) {
        nm.type = TK_NORM_STRIP;
        nm.strip_left = cJSON_IsTrue(vkg_json_get(j, "strip_left"));
        nm.strip_right = cJSON_IsTrue(vkg_json_get(j, "strip_right"));
    } else {
        return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: normalizer type '%s'", t);
    }
    arrput(*out, nm);
    return st;
}

enum vkg_status tk_norm_parse(const cJSON *j, struct tk_norm **out)
{
    if (!j || cJSON_IsNull(j)) return VKG_OK;
    return norm_parse_one(j, out);
}

void tk_norms_free(struct tk_norm *norms)
{
    for (ptrdiff_t i = 0; i < arrlen(norms); i++) {
        tk_pattern_free(&norms[i].pat);
        free(norms[i].content);
    }
    arrfree(norms);
}

static enum vkg_status map_segment(enum tk_norm_type t, const char *s, size_t n, struct tk_str *out)
{
    static const int opts[] = {
        [TK_NORM_NFC] = UTF8PROC_STABLE | UTF8PROC_COMPOSE,
        [TK_NORM_NFD] = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE,
        [TK_NORM_NFKC] = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT,
        [TK_NORM_NFKD] = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT,
    };
    utf8proc_uint8_t *res = NULL;
    utf8proc_ssize_t k =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &res, (utf8proc_option_t)opts[t]);
    if (k < 0) return vkg_error(VKG_ERR_TOKENIZER, "normalizer: %s", utf8proc_errmsg(k));
    enum vkg_status st = tk_str_append(out, res, (size_t)k);
    free(res);
    return st;
}

/* Unicode normalization form, run only where it can change something: an
 * ASCII char never combines with what precedes it, so the text splits
 * before each one; ASCII stretches are copied, and each non-ASCII run goes
 * to utf8proc together with the ASCII char before it (e + U+0301 -> é).
 * Mostly-ASCII text (code, English) then costs a copy. */
static enum vkg_status unicode_form(enum tk_norm_type t, const char *s, size_t n, struct tk_str *out)
{
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; !st && i < n;) {
        size_t j = i, k;
        while (j < n && (unsigned char)s[j] < 0x80) j++;
        if (j == n) return tk_str_append(out, s + i, n - i);
        size_t start = j > i ? j - 1 : i; /* the ASCII char that may take marks */
        for (k = j; k < n && (unsigned char)s[k] >= 0x80; k++)
            ;
        if (!(st = tk_str_append(out, s + i, start - i))) st = map_segment(t, s + start, k - start, out);
        i = k;
    }
    return st;
}

static enum vkg_status lowercase(const char *s, size_t n, struct tk_str *out)
{
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; !st && i < n;) {
        int32_t cp;
        char buf[4];
        i += tk_utf8_next(s + i, n - i, &cp);
        st = tk_str_append(out, buf, tk_utf8_encode(utf8proc_tolower(cp), buf));
    }
    return st;
}

enum vkg_status tk_pattern_replace(struct tk_pattern *pat, const char *content, const char *s, size_t n,
                                   struct tk_str *out)
{
    size_t pos = 0, ms, me, clen = strlen(content);
    int rc = 0;
    enum vkg_status st = VKG_OK;
    while (!st && pos < n && (rc = tk_pattern_find(pat, s, n, pos, &ms, &me)) > 0) {
        if (me == ms) { /* empty match: copy one char and move on */
            int32_t cp;
            me = ms + tk_utf8_next(s + ms, n - ms, &cp);
            st = tk_str_append(out, s + pos, me - pos);
            pos = me;
            continue;
        }
        if (!(st = tk_str_append(out, s + pos, ms - pos))) st = tk_str_append(out, content, clen);
        pos = me;
    }
    if (!st && rc < 0) return (enum vkg_status)rc;
    return st ? st : tk_str_append(out, s + pos, n - pos);
}

static enum vkg_status strip(struct tk_norm *nm, const char *s, size_t n, struct tk_str *out)
{
    size_t a = 0, b = n;
    int32_t cp;
    while (nm->strip_left && a < b) {
        size_t k = tk_utf8_next(s + a, b - a, &cp);
        if (!tk_is_whitespace(cp)) break;
        a += k;
    }
    while (nm->strip_right && b > a) {
        size_t k = 1;
        while (k < b - a && ((unsigned char)s[b - k] & 0xC0) == 0x80) k++;
        tk_utf8_next(s + b - k, k, &cp);
        if (!tk_is_whitespace(cp)) break;
        b -= k;
    }
    return tk_str_append(out, s + a, b - a);
}

static enum vkg_status norm_one(struct tk_norm *nm, const char *s, size_t n, struct tk_str *out)
{
    switch (nm->type) {
    case TK_NORM_NFC:
    case TK_NORM_NFD:
    case TK_NORM_NFKC:
    case TK_NORM_NFKD: return n ? unicode_form(nm->type, s, n, out) : VKG_OK;
    case TK_NORM_LOWERCASE: return lowercase(s, n, out);
    case TK_NORM_REPLACE: return tk_pattern_replace(&nm->pat, nm->content, s, n, out);
    case TK_NORM_PREPEND: { /* HF prepends only to non-empty text */
        enum vkg_status st = n ? tk_str_append(out, nm->content, strlen(nm->content)) : VKG_OK;
        return st ? st : tk_str_append(out, s, n);
    }
    case TK_NORM_STRIP: return strip(nm, s, n, out);
    }
    return VKG_ERR_TOKENIZER;
}

enum vkg_status tk_normalize(const struct tk_norm *norms, const char *s, size_t n, struct tk_str *out)
{
    struct tk_str a = { 0 }, b = { 0 };
    enum vkg_status st = tk_str_append(&a, s, n);
    for (ptrdiff_t i = 0; !st && i < arrlen(norms); i++) {
        b.n = 0;
        st = norm_one((struct tk_norm *)&norms[i], a.p, a.n, &b);
        struct tk_str t = a;
        a = b;
        b = t;
    }
    if (!st) st = tk_str_append(out, a.p, a.n);
    tk_str_free(&a);
    tk_str_free(&b);
    return st;
}
