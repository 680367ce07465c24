/* tokenizer_decode.c — the way back (decoders: ByteLevel, Replace,
 * ByteFallback, Fuse, Strip, Sequence) and the post-processor
 * (ByteLevel, TemplateProcessing, Sequence), as in HF tokenizers. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenizer_internal.h"

/* ---- parsing ------------------------------------------------------------ */

/* Strip's start/stop: absent (Replace has none) or out of range reads as 0;
 * casting cJSON's NaN for a missing item to int is undefined (found by fuzzing). */
static int json_small_int(const cJSON *v)
{
    double x = cJSON_IsNumber(v) ? v->valuedouble : 0.0;
    return x >= 0 && x <= 1e6 ? (int)x : 0;
}

static enum vkg_status dec_parse_one(const cJSON *j, struct tk_dec **out)
{
    const cJSON *type = vkg_json_get(j, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "(no type)";
    const cJSON *content = vkg_json_get(j, "content");
    struct tk_dec d = { 0 };
    enum vkg_status st = VKG_OK;
    if (!strcmp(t, "Sequence")) {
        const cJSON *it, *arr = vkg_json_get(j, "decoders");
        cJSON_ArrayForEach(it, arr) if ((st = dec_parse_one(it, out))) return st;
        return VKG_OK;
    }
    if (!strcmp(t, "ByteLevel")) d.type = TK_DEC_BYTELEVEL;
    else if (!strcmp(t, "ByteFallback")) d.type = TK_DEC_BYTEFALLBACK;
    else if (!strcmp(t, "Fuse")) d.type = TK_DEC_FUSE;
    else if (!strcmp(t, "Metaspace")) {
        const cJSON *r = vkg_json_get(j, "replacement");
        d.type = TK_DEC_METASPACE;
        d.meta_prepend = tk_prepend_scheme(j);
        if (!(d.meta_char = strdup(cJSON_IsString(r) ? r->valuestring : "\xE2\x96\x81")) || !d.meta_char[0])
            st = vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: Metaspace decoder replacement");
    } else if (!strcmp(t, "Replace") || !strcmp(t, "Strip")) {
        d.type = t[0] == 'R' ? TK_DEC_REPLACE : TK_DEC_STRIP;
        if (!cJSON_IsString(content) || !(d.content = strdup(content->valuestring)))
            return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: decoder %s without content", t);
        if (d.type == TK_DEC_REPLACE) st = tk_pattern_parse(vkg_json_get(j, "pattern"), &d.pat, "decoder Replace");
        d.start = json_small_int(vkg_json_get(j, "start"));
        d.stop = json_small_int(vkg_json_get(j, "stop"));
    } else {
        return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: decoder type '%s'", t);
    }
    arrput(*out, d);
    return st;
}

enum vkg_status tk_dec_parse(const cJSON *j, struct tk_dec **out)
{
    return !j || cJSON_IsNull(j) ? VKG_OK : dec_parse_one(j, out);
}

void tk_decs_free(struct tk_dec *decs)
{
    for (ptrdiff_t i = 0; i < arrlen(decs); i++) {
        tk_pattern_free(&decs[i].pat);
        free(decs[i].content);
        free(decs[i].meta_char);
    }
    arrfree(decs);
}

/* TemplateProcessing "single": [{"SpecialToken": {"id": "<bos>"}}, {"Sequence": {"id": "A"}}] */
static enum vkg_status template_parse(struct vkg_tokenizer *tok, const cJSON *j)
{
    const cJSON *single = vkg_json_get(j, "single"), *it;
    const cJSON *specials = vkg_json_get(j, "special_tokens");
    if (tok->has_post_template)
        return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: two TemplateProcessing post-processors");
    tok->has_post_template = 1;
    cJSON_ArrayForEach(it, single)
    {
        struct tk_post_item item = { 0 };
        const cJSON *sp = vkg_json_get(it, "SpecialToken");
        if (vkg_json_get(it, "Sequence")) {
            item.is_sequence = 1;
        } else if (sp) {
            const cJSON *name = vkg_json_get(sp, "id"), *id;
            const cJSON *ent = cJSON_IsString(name) ? vkg_json_get(specials, name->valuestring) : NULL;
            if (!ent)
                return vkg_error(VKG_ERR_TOKENIZER,
                                 "tokenizer.json: TemplateProcessing special "
                                 "token '%s' not in special_tokens",
                                 cJSON_IsString(name) ? name->valuestring : "?");
            cJSON_ArrayForEach(id, vkg_json_get(ent, "ids")) arrput(item.ids, (int32_t)id->valuedouble);
        } else {
            return vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: TemplateProcessing item");
        }
        arrput(tok->post, item);
    }
    return VKG_OK;
}

enum vkg_status tk_post_parse(struct vkg_tokenizer *tok, const cJSON *j)
{
    const cJSON *type = vkg_json_get(j, "type"), *it;
    const char *t = cJSON_IsString(type) ? type->valuestring : "(no type)";
    enum vkg_status st;
    if (!j || cJSON_IsNull(j) || !strcmp(t, "ByteLevel")) /* ByteLevel only trims offsets */
        return VKG_OK;
    if (!strcmp(t, "Sequence")) {
        cJSON_ArrayForEach(it, vkg_json_get(j, "processors")) if ((st = tk_post_parse(tok, it))) return st;
        return VKG_OK;
    }
    if (!strcmp(t, "TemplateProcessing")) return template_parse(tok, j);
    return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: post_processor type '%s'", t);
}

void tk_post_free(struct vkg_tokenizer *tok)
{
    for (ptrdiff_t i = 0; i < arrlen(tok->post); i++) arrfree(tok->post[i].ids);
    arrfree(tok->post);
}

/* ---- decoders ----------------------------------------------------------- */

static void pieces_free(struct tk_str *p)
{
    for (ptrdiff_t i = 0; i < arrlen(p); i++) tk_str_free(&p[i]);
    arrfree(p);
}

/* ByteLevel: chars back to bytes (a token holding any char outside the map,
 * like DeepSeek's "<｜User｜>", contributes its raw UTF-8), all tokens joined,
 * then invalid UTF-8 replaced by U+FFFD (Rust from_utf8_lossy) unless raw. */
static enum vkg_status dec_bytelevel(struct tk_str *in, struct tk_str **out, int raw)
{
    struct tk_str bytes = { 0 }, res = { 0 };
    enum vkg_status st = VKG_OK;
    for (ptrdiff_t i = 0; !st && i < arrlen(in); i++) {
        size_t mark = bytes.n;
        for (size_t k = 0; !st && k < in[i].n;) {
            int32_t cp;
            k += tk_utf8_next(in[i].p + k, in[i].n - k, &cp);
            int b = tk_utf8_to_byte(cp);
            if (b < 0) {
                bytes.n = mark;
                st = tk_str_append(&bytes, in[i].p, in[i].n);
                break;
            }
            st = tk_str_putc(&bytes, (char)b);
        }
    }
    if (!st && raw) {
        res = bytes;
        bytes = (struct tk_str){ 0 };
    } else if (!st) {
        st = tk_utf8_sanitize(bytes.p, bytes.n, &res);
    }
    tk_str_free(&bytes);
    arrput(*out, res);
    return st;
}

static int byte_token(const struct tk_str *t, uint8_t *b)
{
    static const char hex[] = "0123456789ABCDEFabcdef";
    if (t->n != 6 || memcmp(t->p, "<0x", 3) || t->p[5] != '>' || !t->p[3] || !t->p[4] || !strchr(hex, t->p[3]) ||
        !strchr(hex, t->p[4]))
        return 0;
    char h[3] = { t->p[3], t->p[4], 0 };
    *b = (uint8_t)strtoul(h, NULL, 16);
    return 1;
}

/* Pending <0xNN> bytes become one string if valid UTF-8 (or raw), else one
 * U+FFFD per byte (HF ByteFallback). */
static enum vkg_status flush_bytes(struct tk_str *bytes, struct tk_str **out, int raw)
{
    enum vkg_status st = VKG_OK;
    if (!bytes->n) return VKG_OK;
    if (raw || tk_utf8_valid_prefix(bytes->p, bytes->n) == bytes->n) {
        struct tk_str s = { 0 };
        st = tk_str_append(&s, bytes->p, bytes->n);
        arrput(*out, s);
    } else {
        for (size_t i = 0; !st && i < bytes->n; i++) {
            struct tk_str s = { 0 };
            st = tk_str_append(&s, "\xEF\xBF\xBD", 3);
            arrput(*out, s);
        }
    }
    bytes->n = 0;
    return st;
}

static enum vkg_status dec_bytefallback(struct tk_str *in, struct tk_str **out, int raw)
{
    struct tk_str bytes = { 0 };
    enum vkg_status st = VKG_OK;
    for (ptrdiff_t i = 0; !st && i < arrlen(in); i++) {
        uint8_t b;
        if (byte_token(&in[i], &b)) {
            st = tk_str_putc(&bytes, (char)b);
            continue;
        }
        if (!(st = flush_bytes(&bytes, out, raw))) {
            struct tk_str s = { 0 };
            st = tk_str_append(&s, in[i].p, in[i].n);
            arrput(*out, s);
        }
    }
    if (!st) st = flush_bytes(&bytes, out, raw);
    tk_str_free(&bytes);
    return st;
}

/* Strip: up to start leading and stop trailing copies of one char. */
static enum vkg_status dec_strip(const struct tk_dec *d, const struct tk_str *t, struct tk_str *o)
{
    size_t cl = strlen(d->content), a = 0, b = t->n;
    for (int i = 0; i < d->start && cl && b - a >= cl && !memcmp(t->p + a, d->content, cl); i++) a += cl;
    for (int i = 0; i < d->stop && cl && b - a >= cl && !memcmp(t->p + b - cl, d->content, cl); i++) b -= cl;
    return tk_str_append(o, t->p + a, b - a);
}

/* Metaspace: the replacement char reads as a space, except in the first
 * token where HF drops every one of them (unless prepend_scheme "never"). */
static enum vkg_status dec_metaspace(const struct tk_dec *d, const struct tk_str *t, int first, struct tk_str *o)
{
    size_t rl = strlen(d->meta_char);
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; !st && i < t->n;) {
        if (t->n - i >= rl && !memcmp(t->p + i, d->meta_char, rl)) {
            if (!first || d->meta_prepend == TK_PREPEND_NEVER) st = tk_str_putc(o, ' ');
            i += rl;
        } else {
            st = tk_str_putc(o, t->p[i++]);
        }
    }
    return st;
}

static enum vkg_status dec_step(const struct tk_dec *d, struct tk_str *in, struct tk_str **out, int raw)
{
    enum vkg_status st = VKG_OK;
    if (d->type == TK_DEC_BYTELEVEL) return dec_bytelevel(in, out, raw);
    if (d->type == TK_DEC_BYTEFALLBACK) return dec_bytefallback(in, out, raw);
    if (d->type == TK_DEC_FUSE) {
        struct tk_str s = { 0 };
        for (ptrdiff_t i = 0; !st && i < arrlen(in); i++) st = tk_str_append(&s, in[i].p, in[i].n);
        arrput(*out, s);
        return st;
    }
    for (ptrdiff_t i = 0; !st && i < arrlen(in); i++) { /* per-token steps */
        struct tk_str s = { 0 };
        if (d->type == TK_DEC_REPLACE)
            st = tk_pattern_replace((struct tk_pattern *)&d->pat, d->content, in[i].p, in[i].n, &s);
        else if (d->type == TK_DEC_METASPACE) st = dec_metaspace(d, &in[i], i == 0, &s);
        else st = dec_strip(d, &in[i], &s);
        arrput(*out, s);
    }
    return st;
}

enum vkg_status tk_decode_pieces(const struct vkg_tokenizer *tok, struct tk_str *pieces, ptrdiff_t n, int raw,
                                 struct tk_str *out)
{
    struct tk_str *cur = NULL;
    enum vkg_status st = VKG_OK;
    for (ptrdiff_t i = 0; !st && i < n; i++) {
        struct tk_str s = { 0 };
        st = tk_str_append(&s, pieces[i].p, pieces[i].n);
        arrput(cur, s);
    }
    for (ptrdiff_t k = 0; !st && k < arrlen(tok->decs); k++) {
        struct tk_str *next = NULL;
        st = dec_step(&tok->decs[k], cur, &next, raw);
        pieces_free(cur);
        cur = next;
    }
    /* No decoder: HF joins tokens with spaces; after a chain: plain concat. */
    for (ptrdiff_t i = 0; !st && i < arrlen(cur); i++) {
        if (i > 0 && !arrlen(tok->decs)) st = tk_str_putc(out, ' ');
        if (!st) st = tk_str_append(out, cur[i].p, cur[i].n);
    }
    pieces_free(cur);
    return st;
}
