/* json.c — a strict JSON reader with Python json semantics (see json.h).
 *
 * One recursive-descent pass checks the grammar and builds the cJSON tree
 * (cJSON is only the container: its own parser is laxer — it accepts "01",
 * "+1", ".5", raw control characters, any byte as whitespace, trailing
 * data — and it cannot read numbers longer than 63 characters). */
#include "json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

struct jp {
    const unsigned char *s;
    size_t n, i;
    const char *name;
    int flags, depth;
};

/* Error at byte `at`: the reason, then line and column (1-based, in bytes). */
static enum vkg_status jp_fail(const struct jp *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum vkg_status jp_fail(const struct jp *p, size_t at, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    size_t line = 1, col = 1;
    for (size_t k = 0; k < at && k < p->n; k++) {
        if (p->s[k] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return vkg_error(VKG_ERR_FORMAT, "%s is not valid JSON: %s at line %zu column %zu (byte %zu)", p->name, reason,
                     line, col, at);
}

static enum vkg_status jp_nomem(const struct jp *p)
{
    return vkg_error(VKG_ERR_NOMEM, "%s: out of memory while reading JSON", p->name);
}

/* Offset of the first byte that is not part of valid UTF-8 (as Python's
 * strict decoder sees it: no overlong forms, no surrogates, <= U+10FFFF). */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        if (i + k >= n) return i; /* truncated sequence */
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return i;
        i += k + 1;
    }
    return n;
}

static void skip_ws(struct jp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static bool has(const struct jp *p, const char *lit)
{
    size_t k = strlen(lit);
    return p->n - p->i >= k && memcmp(p->s + p->i, lit, k) == 0;
}

static enum vkg_status parse_value(struct jp *p, cJSON **out);

/* ---- strings ---------------------------------------------------------- */

static int hex4(const unsigned char *h)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int c = h[k], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* \uXXXX at p->i (after the backslash-u): one code point, pairs joined. */
static enum vkg_status unicode_escape(struct jp *p, size_t esc, unsigned *cp)
{
    int v = p->n - p->i >= 4 ? hex4(p->s + p->i) : -1;
    if (v < 0) return jp_fail(p, esc, "invalid \\uXXXX escape");
    p->i += 4;
    if (v >= 0xDC00 && v <= 0xDFFF)
        return jp_fail(p, esc, "lone UTF-16 surrogate \\u%04X (not supported)", (unsigned)v);
    if (v >= 0xD800 && v <= 0xDBFF) {
        int w = has(p, "\\u") && p->n - p->i >= 6 ? hex4(p->s + p->i + 2) : -1;
        if (w < 0xDC00 || w > 0xDFFF)
            return jp_fail(p, esc, "lone UTF-16 surrogate \\u%04X (not supported)", (unsigned)v);
        p->i += 6;
        v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
    }
    if (v == 0) return jp_fail(p, esc, "\\u0000 inside a string (not supported)");
    *cp = (unsigned)v;
    return VKG_OK;
}

/* The string at p->i (the opening quote) into a malloc'ed C string. */
static enum vkg_status parse_string(struct jp *p, char **out)
{
    size_t start = p->i++, end = p->i;
    for (;; end++) { /* find the closing quote; reject raw control characters */
        if (end >= p->n) return jp_fail(p, start, "unterminated string");
        if (p->s[end] == '"') break;
        if (p->s[end] < 0x20) return jp_fail(p, end, "invalid control character 0x%02x inside a string", p->s[end]);
        if (p->s[end] == '\\') end++;
    }
    char *o = malloc(end - p->i + 1);
    if (!o) return jp_nomem(p);
    size_t k = 0;
    enum vkg_status s = VKG_OK;
    while (s == VKG_OK && p->i < end) {
        unsigned char c = p->s[p->i++];
        if (c != '\\') {
            o[k++] = (char)c;
            continue;
        }
        size_t esc = p->i - 1;
        unsigned char e = p->s[p->i++];
        unsigned cp = 0;
        switch (e) {
        case '"':
        case '\\':
        case '/': o[k++] = (char)e; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u':
            if ((s = unicode_escape(p, esc, &cp)) == VKG_OK) k += put_utf8(o + k, cp);
            break;
        default: s = jp_fail(p, esc, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
        }
    }
    if (s == VKG_OK && p->i != end) s = jp_fail(p, start, "unterminated string"); /* \u ran past */
    if (s != VKG_OK) {
        free(o);
        return s;
    }
    o[k] = '\0';
    p->i = end + 1;
    *out = o;
    return VKG_OK;
}

/* ---- numbers and literals ------------------------------------------------ */

static bool digit(const struct jp *p, size_t i) { return i < p->n && p->s[i] >= '0' && p->s[i] <= '9'; }

static enum vkg_status parse_number(struct jp *p, cJSON **out)
{
    size_t start = p->i, i = p->i;
    if (p->s[i] == '-') i++;
    if (p->n - i >= 8 && memcmp(p->s + i, "Infinity", 8) == 0)
        return jp_fail(p, start, "-Infinity is not a number JSON allows (not supported)");
    if (!digit(p, i)) return jp_fail(p, start, "expected a value");
    if (p->s[i] == '0') i++;
    else
        while (digit(p, i)) i++;
    if (i < p->n && p->s[i] == '.') {
        if (!digit(p, ++i)) return jp_fail(p, i, "expected a digit after '.'");
        while (digit(p, i)) i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (!digit(p, i)) return jp_fail(p, i, "expected a digit in the exponent");
        while (digit(p, i)) i++;
    }
    char small[64], *buf = i - start < sizeof small ? small : malloc(i - start + 1);
    if (!buf) return jp_nomem(p);
    memcpy(buf, p->s + start, i - start);
    buf[i - start] = '\0';
    double v = strtod(buf, NULL); /* the grammar above is a subset of strtod's; overflow gives inf like Python */
    if (buf != small) free(buf);
    p->i = i;
    return (*out = cJSON_CreateNumber(v)) ? VKG_OK : jp_nomem(p);
}

static enum vkg_status parse_literal(struct jp *p, cJSON **out)
{
    static const struct {
        const char *text;
        int kind;
    } lits[] = {
        { "true", cJSON_True },
        { "false", cJSON_False },
        { "null", cJSON_NULL },
    };
    for (size_t k = 0; k < 3; k++)
        if (has(p, lits[k].text)) {
            p->i += strlen(lits[k].text);
            *out = lits[k].kind == cJSON_NULL ? cJSON_CreateNull() : cJSON_CreateBool(lits[k].kind == cJSON_True);
            return *out ? VKG_OK : jp_nomem(p);
        }
    if (has(p, "NaN") || has(p, "Infinity"))
        return jp_fail(p, p->i, "%s is not a number JSON allows (not supported)", has(p, "NaN") ? "NaN" : "Infinity");
    return jp_fail(p, p->i, "expected a value");
}

/* ---- repeated keys: the last value wins, at the first one's place -------- */

struct member {
    cJSON *node;
    size_t idx;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->node->string, y->node->string);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* True when two members of obj (n of them) share a key. */
static enum vkg_status has_repeats(const struct jp *p, cJSON *obj, size_t n, bool *rep)
{
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    cJSON **t = calloc(cap, sizeof *t);
    if (!t) return jp_nomem(p);
    *rep = false;
    for (cJSON *c = obj->child; c && !*rep; c = c->next) {
        size_t i = (size_t)hash_key(c->string) & (cap - 1);
        while (t[i] && !(*rep = strcmp(t[i]->string, c->string) == 0)) i = (i + 1) & (cap - 1);
        t[i] = c;
    }
    free(t);
    return VKG_OK;
}

static enum vkg_status merge_repeats(const struct jp *p, cJSON *obj, size_t n)
{
    bool rep = false;
    enum vkg_status s = has_repeats(p, obj, n, &rep);
    if (s != VKG_OK || !rep) return s;
    struct member *m = malloc(n * sizeof *m);
    if (!m) return jp_nomem(p);
    size_t k = 0;
    for (cJSON *c = obj->child; c; c = c->next, k++) m[k] = (struct member){ c, k };
    qsort(m, n, sizeof *m, cmp_member);
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && strcmp(m[a].node->string, m[b].node->string) == 0; b++) {}
        if (b - a < 2) continue;
        cJSON *last = cJSON_DetachItemViaPointer(obj, m[b - 1].node);
        for (size_t j = a + 1; j + 1 < b; j++) cJSON_Delete(cJSON_DetachItemViaPointer(obj, m[j].node));
        cJSON_ReplaceItemViaPointer(obj, m[a].node, last); /* frees the first */
    }
    free(m);
    return VKG_OK;
}

/* ---- arrays and objects ------------------------------------------------- */

static enum vkg_status parse_members(struct jp *p, cJSON *c, bool object, size_t *n)
{
    char close = object ? '}' : ']';
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return VKG_OK;
    }
    for (;;) {
        char *key = NULL;
        cJSON *v = NULL;
        enum vkg_status s = VKG_OK;
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"') return jp_fail(p, p->i, "expected a member name in double quotes");
            if ((s = parse_string(p, &key)) != VKG_OK) return s;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                s = jp_fail(p, p->i, "expected ':' after a member name");
            } else {
                p->i++;
                skip_ws(p);
            }
        }
        if (s == VKG_OK) s = parse_value(p, &v);
        if (s != VKG_OK) {
            free(key);
            return s;
        }
        v->string = key; /* owned by v from here: cJSON_Delete frees it */
        cJSON_AddItemToArray(c, v);
        (*n)++;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            skip_ws(p);
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return VKG_OK;
        }
        return jp_fail(p, p->i, "expected ',' or '%c' after %s", close,
                       object ? "an object member" : "an array element");
    }
}

static enum vkg_status parse_container(struct jp *p, bool object, cJSON **out)
{
    if (++p->depth > VKG_JSON_MAX_DEPTH) return jp_fail(p, p->i, "nesting deeper than %d", VKG_JSON_MAX_DEPTH);
    p->i++;
    cJSON *c = object ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!c) return jp_nomem(p);
    size_t n = 0;
    enum vkg_status s = parse_members(p, c, object, &n);
    if (s == VKG_OK && object && n > 1 && !(p->flags & VKG_JSON_KEEP_DUPLICATES)) s = merge_repeats(p, c, n);
    p->depth--;
    if (s != VKG_OK) {
        cJSON_Delete(c);
        return s;
    }
    *out = c;
    return VKG_OK;
}

static enum vkg_status parse_value(struct jp *p, cJSON **out)
{
    *out = NULL;
    if (p->i >= p->n) return jp_fail(p, p->i, "expected a value");
    unsigned char c = p->s[p->i];
    if (c == '{' || c == '[') return parse_container(p, c == '{', out);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
    if (c != '"') return parse_literal(p, out);
    char *str;
    enum vkg_status s = parse_string(p, &str);
    if (s != VKG_OK) return s;
    if (!(*out = cJSON_CreateNull())) {
        free(str);
        return jp_nomem(p);
    }
    (*out)->type = cJSON_String;
    (*out)->valuestring = str; /* freed by cJSON_Delete (default hooks) */
    return VKG_OK;
}

/* ---- entry points ------------------------------------------------------- */

enum vkg_status vkg_json_parse(const char *text, size_t len, const char *name, int flags, cJSON **out)
{
    *out = NULL;
    struct jp p = { (const unsigned char *)text, len, 0, name ? name : "JSON", flags, 0 };
    if (!text && len) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_json_parse: NULL text");
    size_t bad = utf8_invalid_at(p.s, len);
    if (bad != len) return jp_fail(&p, bad, "byte 0x%02x is not valid UTF-8", p.s[bad]);
    if (has(&p, "\xEF\xBB\xBF")) return jp_fail(&p, 0, "the text starts with a UTF-8 byte-order mark");
    skip_ws(&p);
    cJSON *root = NULL;
    enum vkg_status s = parse_value(&p, &root);
    if (s != VKG_OK) return s;
    skip_ws(&p);
    if (p.i != len) {
        cJSON_Delete(root);
        return jp_fail(&p, p.i, "extra data after the JSON value (%zu bytes)", len - p.i);
    }
    *out = root;
    return VKG_OK;
}

enum vkg_status vkg_json_load(const char *path, uint64_t max_bytes, int flags, cJSON **out)
{
    *out = NULL;
    char *text;
    size_t len;
    enum vkg_status s = vkg_file_read(path, max_bytes, &text, &len);
    if (s != VKG_OK) return s;
    s = vkg_json_parse(text, len, path, flags, out);
    free(text);
    return s;
}

const cJSON *vkg_json_get(const cJSON *obj, const char *key)
{
    const cJSON *hit = NULL;
    if (!cJSON_IsObject(obj) || !key) return NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) hit = c;
    return hit;
}
