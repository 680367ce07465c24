/* tokenizer_pre.c — patterns (PCRE2 / literal) and pre-tokenizers: Split,
 * ByteLevel, Sequence. Each pre-tokenizer maps a list of pieces to a finer
 * list of pieces, exactly like PreTokenizedString::split in HF tokenizers. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "json.h"
#include "tokenizer_internal.h"

/* HF's ByteLevel regex (GPT-2), used when ByteLevel.use_regex is true. */
static const char GPT2_PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Backtracking budget per match: generous for real text, but a bounded
 * error instead of a hang on adversarial input. */
#define TK_MATCH_LIMIT 100000000u
#define TK_DEPTH_LIMIT 10000000u

/* ---- pieces ------------------------------------------------------------- */

void tk_pieces_free(struct tk_pieces *p)
{
    tk_str_free(&p->buf);
    arrfree(p->spans);
}

void tk_pieces_reset(struct tk_pieces *p)
{
    p->buf.n = 0;
    arrsetlen(p->spans, 0);
}

enum vkg_status tk_pieces_add(struct tk_pieces *p, const char *s, size_t n)
{
    struct tk_span sp = { p->buf.n, n };
    enum vkg_status st = tk_str_append(&p->buf, s, n);
    if (st) return st;
    arrput(p->spans, sp);
    return VKG_OK;
}

/* ---- patterns ----------------------------------------------------------- */

/* Oniguruma's (HF's) \s is Unicode White_Space; PCRE2's UCP \s also takes
 * U+180E (via \h). Spell \s and \S out as White_Space classes so both
 * engines split "  \u180e  x" alike. \S inside a [...] class cannot be
 * spelled out and is left to PCRE2 (no known tokenizer uses it). */
#define TK_WS "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

static enum vkg_status rewrite_ws(const char *re, struct tk_str *out)
{
    int in_class = 0;
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; !st && re[i]; i++) {
        if (re[i] == '\\' && re[i + 1]) {
            char c = re[++i];
            if (c == 's') st = tk_str_append(out, in_class ? TK_WS : "[" TK_WS "]", strlen(TK_WS) + (in_class ? 0 : 2));
            else if (c == 'S' && !in_class) st = tk_str_append(out, "[^" TK_WS "]", strlen(TK_WS) + 3);
            else st = tk_str_append(out, re + i - 1, 2);
            continue;
        }
        if (re[i] == '[' && !in_class) { /* a ']' right after '[' or '[^' is literal */
            in_class = 1;
            size_t k = i + 1 + (re[i + 1] == '^');
            st = tk_str_append(out, re + i, k - i + (re[k] == ']'));
            i = k - 1 + (re[k] == ']');
            continue;
        }
        if (re[i] == ']' && in_class) in_class = 0;
        st = tk_str_putc(out, re[i]);
    }
    return st ? st : tk_str_cstr(out);
}

static enum vkg_status pattern_compile(struct tk_pattern *pat, const char *re, const char *what)
{
    int err;
    PCRE2_SIZE eoff;
    struct tk_str spelled = { 0 };
    enum vkg_status st = rewrite_ws(re, &spelled);
    if (st) return st;
    pat->re = pcre2_compile((PCRE2_SPTR)spelled.p, spelled.n, PCRE2_UTF | PCRE2_UCP, &err, &eoff, NULL);
    tk_str_free(&spelled);
    if (!pat->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return vkg_error(VKG_ERR_TOKENIZER, "%s: regex '%s' at offset %zu: %s", what, re, (size_t)eoff, (char *)msg);
    }
    pcre2_jit_compile(pat->re, PCRE2_JIT_COMPLETE); /* no JIT: the interpreter still works */
    pat->md = pcre2_match_data_create_from_pattern(pat->re, NULL);
    pat->mc = pcre2_match_context_create(NULL);
    if (!pat->md || !pat->mc) return vkg_error(VKG_ERR_NOMEM, "%s: regex match data", what);
    pcre2_set_match_limit(pat->mc, TK_MATCH_LIMIT);
    pcre2_set_depth_limit(pat->mc, TK_DEPTH_LIMIT);
    return VKG_OK;
}

enum vkg_status tk_pattern_parse(const cJSON *j, struct tk_pattern *pat, const char *what)
{
    const cJSON *s = vkg_json_get(j, "String");
    const cJSON *r = vkg_json_get(j, "Regex");
    if (cJSON_IsString(s)) {
        pat->lit = strdup(s->valuestring);
        if (!pat->lit) return vkg_error(VKG_ERR_NOMEM, "%s: pattern", what);
        pat->lit_len = strlen(pat->lit);
        return VKG_OK;
    }
    if (cJSON_IsString(r)) return pattern_compile(pat, r->valuestring, what);
    return vkg_error(VKG_ERR_TOKENIZER, "%s: pattern is neither String nor Regex", what);
}

void tk_pattern_free(struct tk_pattern *pat)
{
    free(pat->lit);
    pcre2_match_data_free(pat->md);
    pcre2_match_context_free(pat->mc);
    pcre2_code_free(pat->re);
    memset(pat, 0, sizeof *pat);
}

int tk_pattern_find(struct tk_pattern *pat, const char *s, size_t n, size_t start, size_t *ms, size_t *me)
{
    if (!pat->re) {
        if (!pat->lit_len || n - start < pat->lit_len) return 0;
        for (size_t i = start; i + pat->lit_len <= n; i++)
            if (s[i] == pat->lit[0] && !memcmp(s + i, pat->lit, pat->lit_len)) {
                *ms = i;
                *me = i + pat->lit_len;
                return 1;
            }
        return 0;
    }
    /* Text reaching here is valid UTF-8 (sanitized on entry). */
    int rc = pcre2_match(pat->re, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK, pat->md, pat->mc);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return vkg_error(VKG_ERR_TOKENIZER, "pre-tokenizer regex on %zu bytes: %s", n, (char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pat->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* ---- GPT-2 byte <-> unicode map ---------------------------------------- */

/* Bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF stand for themselves; the other 68
 * map to U+0100 + k in byte order, so that every byte is a visible char. */
static int32_t byte_cp(uint8_t b)
{
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    int k = 0;
    for (int c = 0; c < b; c++)
        if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE)) k++;
    return 0x100 + k;
}

static struct {
    char s[256][3];
    uint8_t len[256];
    int16_t back[0x144]; /* code point -> byte */
} g_bytemap;
static once_flag g_bytemap_once = ONCE_FLAG_INIT;

static void bytemap_fill(void)
{
    for (int i = 0; i < 0x144; i++) g_bytemap.back[i] = -1;
    for (int b = 0; b < 256; b++) {
        int32_t cp = byte_cp((uint8_t)b);
        char tmp[4];
        g_bytemap.len[b] = (uint8_t)tk_utf8_encode(cp, tmp);
        memcpy(g_bytemap.s[b], tmp, g_bytemap.len[b]);
        g_bytemap.back[cp] = (int16_t)b;
    }
}

static void bytemap_init(void) { call_once(&g_bytemap_once, bytemap_fill); }

const char *tk_byte_to_utf8(uint8_t b, size_t *len)
{
    bytemap_init();
    *len = g_bytemap.len[b];
    return g_bytemap.s[b];
}

int tk_utf8_to_byte(int32_t cp)
{
    bytemap_init();
    return cp >= 0 && cp < 0x144 ? g_bytemap.back[cp] : -1;
}

/* ---- parsing ------------------------------------------------------------ */

static int behavior_parse(const char *s, enum tk_behavior *b)
{
    static const char *names[] = { "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous" };
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *b = (enum tk_behavior)i;
            return 1;
        }
    return 0;
}

static enum vkg_status pre_parse_one(const cJSON *j, struct tk_pre **out)
{
    const cJSON *type = vkg_json_get(j, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "(no type)";
    struct tk_pre p = { 0 };
    enum vkg_status st = VKG_OK;
    if (!strcmp(t, "Sequence")) {
        const cJSON *it, *arr = vkg_json_get(j, "pretokenizers");
        cJSON_ArrayForEach(it, arr) if ((st = pre_parse_one(it, out))) return st;
        return VKG_OK;
    }
    if (!strcmp(t, "Split")) {
        const cJSON *b = vkg_json_get(j, "behavior");
        p.type = TK_PRE_SPLIT;
        p.invert = cJSON_IsTrue(vkg_json_get(j, "invert"));
        if (!cJSON_IsString(b) || !behavior_parse(b->valuestring, &p.behavior))
            return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: Split behavior '%s'",
                             cJSON_IsString(b) ? b->valuestring : "?");
        st = tk_pattern_parse(vkg_json_get(j, "pattern"), &p.pat, "pre_tokenizer Split");
    } else if (!strcmp(t, "ByteLevel")) {
        p.type = TK_PRE_BYTELEVEL;
        p.add_prefix_space = cJSON_IsTrue(vkg_json_get(j, "add_prefix_space"));
        const cJSON *ur = vkg_json_get(j, "use_regex");
        p.use_regex = !ur || cJSON_IsTrue(ur); /* HF default: true */
        if (p.use_regex) st = pattern_compile(&p.pat, GPT2_PATTERN, "pre_tokenizer ByteLevel");
    } else if (!strcmp(t, "Metaspace")) {
        const cJSON *r = vkg_json_get(j, "replacement");
        const cJSON *sp = vkg_json_get(j, "split");
        p.type = TK_PRE_METASPACE;
        p.meta_prepend = tk_prepend_scheme(j);
        p.meta_split = !sp || cJSON_IsTrue(sp); /* HF default: true */
        p.meta_char = strdup(cJSON_IsString(r) ? r->valuestring : "\xE2\x96\x81");
        p.pat.lit = strdup(p.meta_char ? p.meta_char : "");
        if (!p.meta_char || !p.pat.lit || !p.meta_char[0])
            st = vkg_error(VKG_ERR_TOKENIZER, "tokenizer.json: Metaspace replacement");
        else p.pat.lit_len = strlen(p.pat.lit);
    } else {
        return vkg_error(VKG_ERR_UNSUPPORTED, "tokenizer.json: pre_tokenizer type '%s'", t);
    }
    arrput(*out, p);
    return st;
}

int tk_prepend_scheme(const cJSON *j)
{
    const cJSON *ps = vkg_json_get(j, "prepend_scheme");
    if (cJSON_IsString(ps))
        return !strcmp(ps->valuestring, "first")   ? TK_PREPEND_FIRST
               : !strcmp(ps->valuestring, "never") ? TK_PREPEND_NEVER
                                                   : TK_PREPEND_ALWAYS;
    const cJSON *aps = vkg_json_get(j, "add_prefix_space"); /* older files */
    return !aps || cJSON_IsTrue(aps) ? TK_PREPEND_ALWAYS : TK_PREPEND_NEVER;
}

enum vkg_status tk_pre_parse(const cJSON *j, struct tk_pre **out)
{
    if (!j || cJSON_IsNull(j)) return VKG_OK;
    return pre_parse_one(j, out);
}

void tk_pres_free(struct tk_pre *pres)
{
    for (ptrdiff_t i = 0; i < arrlen(pres); i++) {
        tk_pattern_free(&pres[i].pat);
        free(pres[i].meta_char);
    }
    arrfree(pres);
}

/* ---- running ------------------------------------------------------------ */

struct seg {
    size_t a, b;
    int is_match;
};

/* Matches and the gaps between them, covering s (HF Pattern::find_matches). */
static enum vkg_status find_segments(struct tk_pattern *pat, const char *s, size_t n, int invert, struct seg **segs)
{
    size_t prev = 0, pos = 0, ms, me;
    int rc = 0;
    while (pos <= n && (rc = tk_pattern_find(pat, s, n, pos, &ms, &me)) > 0) {
        if (me == ms) { /* empty match: step one char so the scan moves on */
            int32_t cp;
            pos = ms < n ? ms + tk_utf8_next(s + ms, n - ms, &cp) : n + 1;
            continue;
        }
        if (prev != ms) arrput(*segs, ((struct seg){ prev, ms, invert }));
        arrput(*segs, ((struct seg){ ms, me, !invert }));
        prev = pos = me;
    }
    if (rc < 0) return (enum vkg_status)rc;
    if (prev != n) arrput(*segs, ((struct seg){ prev, n, invert }));
    return VKG_OK;
}

/* Applies a SplitDelimiterBehavior to the segments, in place. */
static void apply_behavior(enum tk_behavior b, struct seg *segs, ptrdiff_t *count)
{
    ptrdiff_t n = *count, k = 0;
    int prev_match = 0;
    if (b == TK_B_ISOLATED) return;
    if (b == TK_B_MERGED_NEXT) { /* a match joins the piece after it */
        for (ptrdiff_t i = n - 1; i >= 0; i--) {
            struct seg g = segs[i];
            if (g.is_match && !prev_match && k > 0) segs[n - k].a = g.a;
            else segs[n - 1 - k++] = g;
            prev_match = g.is_match;
        }
        memmove(segs, segs + n - k, (size_t)k * sizeof *segs);
        *count = k;
        return;
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        struct seg g = segs[i];
        if (b == TK_B_REMOVED && g.is_match) continue;
        if (b == TK_B_MERGED_PREV && g.is_match && !prev_match && k > 0) segs[k - 1].b = g.b;
        else if (b == TK_B_CONTIGUOUS && k > 0 && g.is_match == prev_match) segs[k - 1].b = g.b;
        else segs[k++] = g;
        prev_match = g.is_match;
    }
    *count = k;
}

static enum vkg_status split_piece(struct tk_pre *p, const char *s, size_t n, struct tk_pieces *out, enum tk_behavior b,
                                   int invert)
{
    struct seg *segs = NULL;
    enum vkg_status st = find_segments(&p->pat, s, n, invert, &segs);
    ptrdiff_t count = arrlen(segs);
    if (!st) apply_behavior(b, segs, &count);
    for (ptrdiff_t i = 0; !st && i < count; i++)
        if (segs[i].b > segs[i].a) /* HF drops empty splits */
            st = tk_pieces_add(out, s + segs[i].a, segs[i].b - segs[i].a);
    arrfree(segs);
    return st;
}

/* ByteLevel: optional prefix space and GPT-2 split, then every byte becomes
 * its visible stand-in char. */
static enum vkg_status bytelevel_piece(struct tk_pre *p, const char *s, size_t n, struct tk_pieces *out)
{
    struct tk_str tmp = { 0 };
    enum vkg_status st = VKG_OK;
    if (p->add_prefix_space && (n == 0 || s[0] != ' ')) {
        if ((st = tk_str_putc(&tmp, ' ')) || (st = tk_str_append(&tmp, s, n))) goto done;
        s = tmp.p;
        n = tmp.n;
    }
    struct tk_pieces parts = { 0 };
    if (p->use_regex) st = split_piece(p, s, n, &parts, TK_B_ISOLATED, 0);
    else st = tk_pieces_add(&parts, s, n);
    for (ptrdiff_t i = 0; !st && i < arrlen(parts.spans); i++) {
        struct tk_span sp = parts.spans[i];
        struct tk_span o = { out->buf.n, 0 };
        for (size_t k = 0; !st && k < sp.len; k++) {
            size_t len;
            const char *u = tk_byte_to_utf8((uint8_t)parts.buf.p[sp.off + k], &len);
            st = tk_str_append(&out->buf, u, len);
        }
        o.len = out->buf.n - o.off;
        if (!st) arrput(out->spans, o);
    }
    tk_pieces_free(&parts);
done:
    tk_str_free(&tmp);
    return st;
}

/* Metaspace: spaces become the replacement char, which is also prepended
 * (always, or only at the start of the input), then split before each one. */
static enum vkg_status metaspace_piece(struct tk_pre *p, const char *s, size_t n, int first, struct tk_pieces *out)
{
    struct tk_str tmp = { 0 };
    size_t rl = strlen(p->meta_char);
    enum vkg_status st = VKG_OK;
    int prepend = p->meta_prepend == TK_PREPEND_ALWAYS || (p->meta_prepend == TK_PREPEND_FIRST && first);
    if (prepend && !(n >= rl && !memcmp(s, p->meta_char, rl)) && !(n && s[0] == ' '))
        st = tk_str_append(&tmp, p->meta_char, rl);
    for (size_t i = 0; !st && i < n; i++)
        st = s[i] == ' ' ? tk_str_append(&tmp, p->meta_char, rl) : tk_str_putc(&tmp, s[i]);
    if (!st && p->meta_split) st = split_piece(p, tmp.p, tmp.n, out, TK_B_MERGED_NEXT, 0);
    else if (!st && tmp.n) st = tk_pieces_add(out, tmp.p, tmp.n);
    tk_str_free(&tmp);
    return st;
}

enum vkg_status tk_pretokenize(struct tk_pre *pres, const char *s, size_t n, int at_start, struct tk_pieces *out,
                               struct tk_pieces *scratch)
{
    /* Pieces ping-pong between two lists; the last step writes into out. */
    ptrdiff_t np = arrlen(pres);
    if (np == 0) return n ? tk_pieces_add(out, s, n) : VKG_OK;
    struct tk_pieces a = { 0 }, *src = &a, *dst;
    enum vkg_status st = tk_pieces_add(&a, s, n);
    for (ptrdiff_t k = 0; !st && k < np; k++) {
        dst = k == np - 1 ? out : (src == scratch ? &a : scratch);
        if (dst != out) tk_pieces_reset(dst);
        for (ptrdiff_t i = 0; !st && i < arrlen(src->spans); i++) {
            const char *ps = src->buf.p + src->spans[i].off;
            size_t pn = src->spans[i].len;
            if (pres[k].type == TK_PRE_SPLIT) st = split_piece(&pres[k], ps, pn, dst, pres[k].behavior, pres[k].invert);
            else if (pres[k].type == TK_PRE_METASPACE) st = metaspace_piece(&pres[k], ps, pn, at_start && i == 0, dst);
            else st = bytelevel_piece(&pres[k], ps, pn, dst);
        }
        src = dst;
    }
    tk_pieces_free(&a);
    return st;
}
