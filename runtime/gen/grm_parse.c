/* grm_parse.c — last \boxed{…} (or [[…]]) → n integer scores (see grm_parse.h). */
#include "grm_parse.h"

#include <string.h>

static const char *const g_reason_names[VKG_GRM_REASON_COUNT] = {
    "valid", "no_box", "count_mismatch", "not_a_number", "truncated",
};

const char *vkg_grm_reason_name(enum vkg_grm_reason r)
{
    return (unsigned)r < VKG_GRM_REASON_COUNT ? g_reason_names[r] : "unknown";
}

enum vkg_grm_reason vkg_grm_reason_from_name(const char *name)
{
    for (int r = 0; r < VKG_GRM_REASON_COUNT; r++)
        if (!strcmp(name, g_reason_names[r])) return (enum vkg_grm_reason)r;
    return VKG_GRM_REASON_COUNT;
}

/* Start of the last "boxed{" preceded by a backslash, or NULL. */
static const char *last_box(const char *t, size_t len)
{
    for (size_t i = len >= 6 ? len - 6 + 1 : 0; i-- > 1;)
        if (t[i] == 'b' && t[i - 1] == '\\' && !memcmp(t + i, "boxed{", 6)) return t + i;
    return NULL;
}

/* Content of the box at `box` ("boxed{..."): [*a, *b) up to the matching '}'. */
static bool box_content(const char *box, const char *end, const char **a, const char **b)
{
    int depth = 1;
    *a = box + 6;
    for (const char *c = *a; c < end; c++) {
        if (*c == '{') depth++;
        else if (*c == '}' && --depth == 0) {
            *b = c;
            return true;
        }
    }
    return false;
}

/* Content of the last "[[ ... ]]" pair. */
static bool last_double_brackets(const char *t, size_t len, const char **a, const char **b)
{
    for (size_t e = len >= 2 ? len - 1 : 0; e-- > 0;) {
        if (t[e] != ']' || t[e + 1] != ']') continue;
        for (size_t s = e; s-- > 0;)
            if (t[s] == '[' && t[s + 1] == '[' && s + 2 <= e) {
                *a = t + s + 2;
                *b = t + e;
                return true;
            }
        return false;
    }
    return false;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* One item [a, b): optional sign, digits, optional "." + zeros. */
static bool parse_item(const char *a, const char *b, int64_t *v)
{
    while (a < b && is_space(*a)) a++;
    while (b > a && is_space(b[-1])) b--;
    bool neg = a < b && *a == '-';
    if (a < b && (*a == '-' || *a == '+')) a++;
    int64_t x = 0;
    const char *d0 = a;
    for (; a < b && *a >= '0' && *a <= '9'; a++)
        x = x > 1000000 ? x : x * 10 + (*a - '0'); /* saturate: clamping only needs "large" */
    if (a == d0) return false;
    if (a < b && *a == '.') {
        const char *z0 = ++a;
        while (a < b && *a == '0') a++;
        if (a == z0) return false;
    }
    if (a != b) return false;
    *v = neg ? -x : x;
    return true;
}

/* Split [a, b) on commas into out->scores; returns the reason. */
static enum vkg_grm_reason parse_list(const char *a, const char *b, uint32_t n, struct vkg_grm_scores *out)
{
    const char *c = a;
    while (c < b && is_space(*c)) c++;
    if (c == b) return VKG_GRM_COUNT_MISMATCH; /* empty box: 0 values */
    uint32_t count = 0;
    bool numbers = true;
    for (const char *item = a;;) {
        const char *comma = memchr(item, ',', (size_t)(b - item));
        const char *stop = comma ? comma : b;
        int64_t v;
        if (!parse_item(item, stop, &v)) numbers = false;
        else if (count < n) {
            out->clamped |= v < 1 || v > 10;
            out->scores[count] = (int32_t)(v < 1 ? 1 : v > 10 ? 10 : v);
        }
        count++;
        if (!comma) break;
        item = comma + 1;
    }
    if (!numbers) return VKG_GRM_NOT_A_NUMBER;
    return count == n ? VKG_GRM_VALID : VKG_GRM_COUNT_MISMATCH;
}

enum vkg_grm_reason vkg_grm_parse_scores(const char *text, size_t len, uint32_t n, bool truncated,
                                         struct vkg_grm_scores *out)
{
    memset(out, 0, sizeof *out);
    const char *a, *b, *box = last_box(text, len);
    enum vkg_grm_reason r;
    if (n == 0 || n > VKG_GRM_MAX_RESPONSES) r = VKG_GRM_COUNT_MISMATCH;
    else if (box) r = box_content(box, text + len, &a, &b) ? parse_list(a, b, n, out) : VKG_GRM_NO_BOX;
    else if (last_double_brackets(text, len, &a, &b)) {
        out->fallback = true;
        r = parse_list(a, b, n, out);
    } else r = VKG_GRM_NO_BOX;
    if (r != VKG_GRM_VALID && truncated) r = VKG_GRM_TRUNCATED;
    if (r != VKG_GRM_VALID) {
        memset(out->scores, 0, sizeof out->scores);
        out->clamped = false;
    }
    out->reason = r;
    return r;
}
