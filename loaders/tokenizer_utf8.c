/* tokenizer_utf8.c — UTF-8 helpers of the tokenizer: strings, validation,
 * the "replace" error handling of Python/Rust, character classes. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

enum vkg_status tk_str_append(struct tk_str *s, const void *data, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->n + n + 1) cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) return vkg_error(VKG_ERR_NOMEM, "tokenizer: string of %zu bytes", cap);
        s->p = p;
        s->cap = cap;
    }
    if (n) memcpy(s->p + s->n, data, n);
    s->n += n;
    return VKG_OK;
}

enum vkg_status tk_str_putc(struct tk_str *s, char c) { return tk_str_append(s, &c, 1); }

enum vkg_status tk_str_cstr(struct tk_str *s)
{
    enum vkg_status st = tk_str_append(s, "", 0); /* append keeps room for one more byte */
    if (st) return st;
    s->p[s->n] = 0;
    return VKG_OK;
}

void tk_str_free(struct tk_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

/* Length of the well-formed sequence starting at s[0], or 0 with *bad set to
 * the length of the maximal invalid subpart to replace by one U+FFFD (the
 * Unicode "maximal subpart" rule that Python and Rust both follow). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0; /* no overlongs */
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F; /* <= U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < n; i++) {
        unsigned b = s[i];
        unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (b < l || b > h) break;
    }
    if (i == need) return need;
    *bad = i;
    return 0;
}

size_t tk_utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0, bad;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i, &bad);
        if (!k) break;
        i += k;
    }
    return i;
}

enum vkg_status tk_utf8_sanitize(const char *s, size_t n, struct tk_str *out)
{
    size_t i = 0;
    while (i < n) {
        size_t ok = tk_utf8_valid_prefix(s + i, n - i);
        enum vkg_status st = tk_str_append(out, s + i, ok);
        if (st) return st;
        i += ok;
        if (i < n) {
            size_t bad = 1;
            utf8_seq((const unsigned char *)s + i, n - i, &bad);
            if ((st = tk_str_append(out, "\xEF\xBF\xBD", 3))) return st;
            i += bad;
        }
    }
    return VKG_OK;
}

size_t tk_utf8_next(const char *s, size_t n, int32_t *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
    if (k <= 0) { /* callers pass valid UTF-8; stay safe anyway */
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return (size_t)k;
}

size_t tk_utf8_encode(int32_t cp, char out[4]) { return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out); }

int tk_is_whitespace(int32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int tk_is_alnum(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}
