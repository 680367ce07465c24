/* grm_record.c — GRM JSONL input: line reader, record parser, JSON helpers
 * (see grm_record.h for the format). */
#include "grm_record.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small JSON helpers ------------------------------------------------------ */

const struct cJSON *vkg_grm_json_get(const struct cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj)) return NULL;
    const cJSON *found = NULL, *it;
    cJSON_ArrayForEach(it, obj) if (it->string && !strcmp(it->string, key)) found = it;
    return found;
}

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "an unknown value";
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

/* s[i] == '"': index after the closing quote. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\') i++;
    return i < n ? i + 1 : n;
}

/* Index after the JSON value starting at s[i] (the text is known to be valid). */
static size_t skip_value(const char *s, size_t i, size_t n)
{
    if (i >= n) return n;
    if (s[i] == '"') return skip_string(s, i, n);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, n);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
           s[i] != '\n')
        i++;
    return i;
}

/* Does the key token s[a..b) (with its quotes) decode to key? */
static bool key_equals(const char *s, size_t a, size_t b, const char *key)
{
    if (b < a + 2) return false;
    if (!memchr(s + a, '\\', b - a)) {
        size_t kl = strlen(key);
        return b - a - 2 == kl && !memcmp(s + a + 1, key, kl);
    }
    cJSON *j = cJSON_ParseWithLength(s + a, b - a);
    bool eq = cJSON_IsString(j) && !strcmp(j->valuestring, key);
    cJSON_Delete(j);
    return eq;
}

bool vkg_grm_json_raw_member(const char *text, size_t len, const char *key, const char **val, size_t *val_len)
{
    size_t i = skip_ws(text, 0, len);
    bool found = false;
    if (i >= len || text[i] != '{') return false;
    i = skip_ws(text, i + 1, len);
    while (i < len && text[i] == '"') {
        size_t ka = i, kb = skip_string(text, i, len);
        i = skip_ws(text, kb, len);
        if (i >= len || text[i] != ':') return found;
        size_t va = skip_ws(text, i + 1, len), vb = skip_value(text, va, len);
        if (key_equals(text, ka, kb, key)) {
            *val = text + va;
            *val_len = vb - va;
            found = true;
        }
        i = skip_ws(text, vb, len);
        if (i >= len || text[i] != ',') break;
        i = skip_ws(text, i + 1, len);
    }
    return found;
}

/* ---- Python's repr() of a float ---------------------------------------------- */

/* Shortest digits that read back as x: digits into d (no dot, no trailing
 * zeros), returns decpt (x = 0.d1d2... × 10^decpt). x finite and > 0. */
static int shortest_digits(double x, char *d, size_t cap)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        if (strtod(buf, NULL) == x || p == 17) break;
    }
    /* buf = "d.ddde±XX" */
    char *e = strchr(buf, 'e');
    int exp10 = atoi(e + 1);
    size_t nd = 0;
    for (char *c = buf; c < e && nd + 1 < cap; c++)
        if (*c >= '0' && *c <= '9') d[nd++] = *c;
    while (nd > 1 && d[nd - 1] == '0') nd--;
    d[nd] = '\0';
    return exp10 + 1;
}

char *vkg_grm_float_repr(double x)
{
    char out[64], d[32];
    size_t o = 0;
    if (isnan(x)) return strdup("NaN");
    if (isinf(x)) return strdup(x < 0 ? "-Infinity" : "Infinity");
    if (signbit(x)) out[o++] = '-';
    x = fabs(x);
    if (x == 0) {
        memcpy(out + o, "0.0", 4);
        return strdup(out);
    }
    int decpt = shortest_digits(x, d, sizeof d), nd = (int)strlen(d);
    if (decpt > -4 && decpt <= 16) { /* fixed notation, always with a fraction */
        if (decpt <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -decpt; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = d[i];
        } else {
            for (int i = 0; i < decpt; i++) out[o++] = i < nd ? d[i] : '0';
            out[o++] = '.';
            if (decpt >= nd) out[o++] = '0';
            for (int i = decpt; i < nd; i++) out[o++] = d[i];
        }
        out[o] = '\0';
    } else { /* exponent notation: d[.ddd]e±XX */
        int e = decpt - 1;
        snprintf(out + o, sizeof out - o, "%c%s%se%c%02d", d[0], nd > 1 ? "." : "", d + 1, e < 0 ? '-' : '+',
                 e < 0 ? -e : e);
    }
    return strdup(out);
}

char *vkg_grm_json_number_repr(const char *raw, size_t len)
{
    bool integer = true;
    for (size_t i = 0; i < len; i++)
        if (raw[i] == '.' || raw[i] == 'e' || raw[i] == 'E') integer = false;
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, raw, len);
    s[len] = '\0';
    if (integer) { /* Python ints are exact; JSON forbids leading zeros, so only "-0" changes */
        if (!strcmp(s, "-0")) strcpy(s, "0");
        return s;
    }
    double x = strtod(s, NULL);
    free(s);
    return vkg_grm_float_repr(x);
}

/* ---- UTF-8 and the checks cJSON does not make --------------------------------- */

bool vkg_grm_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else return false;
        if (i + n >= len) /* not enough bytes */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

/* What strict JSON (Python's json.loads) refuses but cJSON accepts: raw
 * control characters inside strings or between tokens, and "\u0000" (which a
 * C string cannot hold). NULL when the line is clean. */
static const char *strictness_problem(const char *s, size_t n, size_t *at)
{
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        *at = i;
        if (!in_str) {
            if (c == '"') in_str = true;
            else if (c < 0x20 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
                return "control character outside a string";
            continue;
        }
        if (c == '"') in_str = false;
        else if (c < 0x20) return "raw control character inside a string (write it as an escape)";
        else if (c == '\\') {
            if (i + 5 < n && !memcmp(s + i + 1, "u0000", 5)) return "\\u0000 (NUL) inside a string";
            i++;
        }
    }
    return NULL;
}

/* ---- record parsing ------------------------------------------------------------ */

/* Set r->error (printf-style) and return VKG_ERR_FORMAT, or VKG_ERR_NOMEM. */
static enum vkg_status bad(struct vkg_grm_record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum vkg_status bad(struct vkg_grm_record *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = malloc((size_t)n + 1);
    if (!r->error) return VKG_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(r->error, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (char *c = r->error; *c; c++) /* one line */
        if ((unsigned char)*c < 0x20) *c = ' ';
    return VKG_ERR_FORMAT;
}

/* A user string shortened for a message (at most 40 bytes, cut on a UTF-8 boundary). */
static void shorten(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), lim = cap - 4 < 40 ? cap - 4 : 40;
    if (n <= lim) {
        memcpy(out, s, n + 1);
        return;
    }
    while (lim > 0 && ((unsigned char)s[lim] & 0xc0) == 0x80) lim--;
    memcpy(out, s, lim);
    memcpy(out + lim, "...", 4);
}

static enum vkg_status dup_string(const char *s, char **out)
{
    *out = strdup(s);
    return *out ? VKG_OK : VKG_ERR_NOMEM;
}

static bool absent(const cJSON *v) { return !v || cJSON_IsNull(v); }

static enum vkg_status read_id(const cJSON *root, const char *line, size_t len, struct vkg_grm_record *r)
{
    const cJSON *v = vkg_grm_json_get(root, "id");
    if (absent(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->index);
        return dup_string(buf, &r->id);
    }
    if (cJSON_IsString(v)) return dup_string(v->valuestring, &r->id);
    if (cJSON_IsNumber(v)) {
        const char *raw;
        size_t rl;
        if (!vkg_grm_json_raw_member(line, len, "id", &raw, &rl)) return bad(r, "\"id\": cannot locate the number");
        r->id = vkg_grm_json_number_repr(raw, rl);
        return r->id ? VKG_OK : VKG_ERR_NOMEM;
    }
    return bad(r, "\"id\" must be a string or a number, not %s", json_type(v));
}

static const char *known_role(const char *role)
{
    static const char *const roles[] = { "system", "user", "assistant" };
    for (size_t i = 0; i < 3; i++)
        if (!strcmp(role, roles[i])) return roles[i];
    return NULL;
}

static enum vkg_status add_message(struct vkg_grm_record *r, const char *role, const char *content)
{
    struct vkg_chat_message *m = &r->messages[r->n_messages];
    m->role = role;
    m->reasoning = NULL;
    m->content = strdup(content);
    if (!m->content) return VKG_ERR_NOMEM;
    r->n_messages++;
    return VKG_OK;
}

static enum vkg_status read_messages(const cJSON *arr, const char *key, struct vkg_grm_record *r)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return bad(r, "\"%s\" is an empty list of messages", key);
    if (!(r->messages = calloc(n, sizeof *r->messages))) return VKG_ERR_NOMEM;
    const cJSON *m;
    size_t i = 0;
    cJSON_ArrayForEach(m, arr)
    {
        if (!cJSON_IsObject(m))
            return bad(r, "\"%s\"[%zu] must be an object with \"role\" and \"content\", not %s", key, i, json_type(m));
        const cJSON *role = vkg_grm_json_get(m, "role"), *content = vkg_grm_json_get(m, "content");
        if (!cJSON_IsString(role))
            return bad(r, "\"%s\"[%zu]: \"role\" must be a string, not %s", key, i, role ? json_type(role) : "missing");
        const char *known = known_role(role->valuestring);
        if (!known) {
            char s[48];
            shorten(role->valuestring, s, sizeof s);
            return bad(r, "\"%s\"[%zu]: unknown role \"%s\" (system, user or assistant)", key, i, s);
        }
        if (!cJSON_IsString(content))
            return bad(r, "\"%s\"[%zu]: \"content\" must be a string, not %s", key, i,
                       content ? json_type(content) : "missing");
        enum vkg_status st = add_message(r, known, content->valuestring);
        if (st != VKG_OK) return st;
        i++;
    }
    if (strcmp(r->messages[n - 1].role, "user"))
        return bad(r, "\"%s\": the last message must be from the user, not the %s", key, r->messages[n - 1].role);
    return VKG_OK;
}

static enum vkg_status read_conversation(const cJSON *root, struct vkg_grm_record *r)
{
    static const char *const keys[] = { "query", "prompt", "messages" };
    const cJSON *v = NULL;
    const char *key = NULL;
    for (size_t i = 0; i < 3; i++) {
        const cJSON *c = vkg_grm_json_get(root, keys[i]);
        if (absent(c)) continue;
        if (v) return bad(r, "both \"%s\" and \"%s\": give the conversation once", key, keys[i]);
        v = c;
        key = keys[i];
    }
    if (!v) return bad(r, "missing the conversation: \"query\", \"prompt\" or \"messages\"");
    if (cJSON_IsString(v)) {
        if (!(r->messages = calloc(1, sizeof *r->messages))) return VKG_ERR_NOMEM;
        return add_message(r, known_role("user"), v->valuestring);
    }
    if (cJSON_IsArray(v)) return read_messages(v, key, r);
    return bad(r, "\"%s\" must be a string or a list of messages, not %s", key, json_type(v));
}

static enum vkg_status read_responses(const cJSON *root, struct vkg_grm_record *r, bool *rewardbench)
{
    const cJSON *resp = vkg_grm_json_get(root, "responses");
    const cJSON *chosen = vkg_grm_json_get(root, "chosen"), *rejected = vkg_grm_json_get(root, "rejected");
    *rewardbench = absent(resp) && (!absent(chosen) || !absent(rejected));
    if (!absent(resp) && (!absent(chosen) || !absent(rejected)))
        return bad(r, "both \"responses\" and \"chosen\"/\"rejected\": use one form");
    if (*rewardbench) {
        const cJSON *pair[2] = { chosen, rejected };
        const char *names[2] = { "chosen", "rejected" };
        if (!(r->responses = calloc(2, sizeof *r->responses))) return VKG_ERR_NOMEM;
        for (size_t i = 0; i < 2; i++) {
            if (absent(pair[i]))
                return bad(r, "missing \"%s\" (RewardBench form needs \"chosen\" and \"rejected\")", names[i]);
            if (!cJSON_IsString(pair[i]))
                return bad(r, "\"%s\" must be a string, not %s", names[i], json_type(pair[i]));
            if (dup_string(pair[i]->valuestring, &r->responses[i]) != VKG_OK) return VKG_ERR_NOMEM;
            r->n_responses++;
        }
        return VKG_OK;
    }
    if (absent(resp)) return bad(r, "missing \"responses\" (or \"chosen\" and \"rejected\")");
    if (!cJSON_IsArray(resp)) return bad(r, "\"responses\" must be a list of strings, not %s", json_type(resp));
    size_t n = (size_t)cJSON_GetArraySize(resp);
    if (n == 0) return bad(r, "\"responses\" is empty (at least 1 response is needed)");
    if (n > VKG_GRM_MAX_RESPONSES)
        return bad(r, "%zu responses, more than the maximum of %d", n, VKG_GRM_MAX_RESPONSES);
    if (!(r->responses = calloc(n, sizeof *r->responses))) return VKG_ERR_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, resp)
    {
        if (!cJSON_IsString(it))
            return bad(r, "\"responses\"[%zu] must be a string, not %s", r->n_responses, json_type(it));
        if (dup_string(it->valuestring, &r->responses[r->n_responses]) != VKG_OK) return VKG_ERR_NOMEM;
        r->n_responses++;
    }
    return VKG_OK;
}

static enum vkg_status read_label(const cJSON *root, const char *line, size_t len, struct vkg_grm_record *r)
{
    const cJSON *v = vkg_grm_json_get(root, "label");
    const char *raw;
    size_t rl;
    if (absent(v)) return VKG_OK;
    if (!cJSON_IsNumber(v) || !vkg_grm_json_raw_member(line, len, "label", &raw, &rl))
        return bad(r, "\"label\" must be an integer index, not %s", json_type(v));
    size_t i = raw[0] == '-' ? 1 : 0;
    uint64_t x = 0;
    bool overflow = false;
    for (; i < rl; i++) {
        if (raw[i] < '0' || raw[i] > '9')
            return bad(r, "\"label\" must be an integer index, not %.*s", (int)(rl > 40 ? 40 : rl), raw);
        overflow |= x > 1000000;
        x = x * 10 + (uint64_t)(raw[i] - '0');
    }
    if ((raw[0] == '-' && x != 0) || overflow || x >= r->n_responses) /* "-0" is 0, as in Python */
        return bad(r, "\"label\" %.*s is out of range for %zu responses", (int)(rl > 40 ? 40 : rl), raw,
                   r->n_responses);
    r->label = (int32_t)x;
    return VKG_OK;
}

static enum vkg_status read_subset(const cJSON *root, struct vkg_grm_record *r)
{
    const cJSON *v = vkg_grm_json_get(root, "subset");
    if (absent(v)) return VKG_OK;
    if (!cJSON_IsString(v)) return bad(r, "\"subset\" must be a string, not %s", json_type(v));
    return dup_string(v->valuestring, &r->subset);
}

static enum vkg_status read_fields(const cJSON *root, const char *line, size_t len, struct vkg_grm_record *r)
{
    enum vkg_status st;
    bool rewardbench = false;
    if ((st = read_id(root, line, len, r)) != VKG_OK) return st;
    if ((st = read_conversation(root, r)) != VKG_OK) return st;
    if ((st = read_responses(root, r, &rewardbench)) != VKG_OK) return st;
    if (rewardbench) r->label = 0;
    else if ((st = read_label(root, line, len, r)) != VKG_OK) return st;
    return read_subset(root, r);
}

/* Syntax checks of the raw line; VKG_ERR_FORMAT with r->error when bad. */
static enum vkg_status check_line(const char *line, size_t len, cJSON **root, struct vkg_grm_record *r)
{
    if (len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
        return bad(r, "UTF-8 byte order mark (allowed only at the start of the file)");
    const char *nul = memchr(line, '\0', len);
    if (nul) return bad(r, "NUL byte at column %zu", (size_t)(nul - line) + 1);
    if (!vkg_grm_utf8_valid(line, len)) return bad(r, "invalid UTF-8");
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!*root) {
        size_t col = end && end >= line && end <= line + len ? (size_t)(end - line) + 1 : 1;
        return bad(r, "not JSON (syntax error near column %zu)", col);
    }
    size_t rest = skip_ws(line, (size_t)(end - line), len);
    if (rest < len) return bad(r, "data after the JSON value at column %zu", rest + 1);
    size_t at = 0;
    const char *why = strictness_problem(line, len, &at);
    if (why) return bad(r, "%s at column %zu", why, at + 1);
    if (!cJSON_IsObject(*root)) return bad(r, "not a JSON object (%s)", json_type(*root));
    return VKG_OK;
}

static void free_content(struct vkg_grm_record *r)
{
    for (size_t i = 0; i < r->n_messages; i++) free((char *)r->messages[i].content);
    free(r->messages);
    for (size_t i = 0; i < r->n_responses; i++) free(r->responses[i]);
    free(r->responses);
    free(r->subset);
    r->messages = NULL;
    r->responses = NULL;
    r->subset = NULL;
    r->n_messages = r->n_responses = 0;
    r->label = -1;
}

void vkg_grm_record_free(struct vkg_grm_record *r)
{
    free_content(r);
    free(r->id);
    free(r->error);
    memset(r, 0, sizeof *r);
    r->label = -1;
}

enum vkg_status vkg_grm_record_parse(const char *line, size_t len, uint64_t index, uint64_t line_no,
                                     struct vkg_grm_record *out)
{
    memset(out, 0, sizeof *out);
    out->index = index;
    out->line = line_no;
    out->label = -1;
    cJSON *root = NULL;
    enum vkg_status st = check_line(line, len, &root, out);
    if (st == VKG_OK) st = read_fields(root, line, len, out);
    cJSON_Delete(root);
    if (st == VKG_OK) return VKG_OK;
    if (st == VKG_ERR_FORMAT) { /* a bad line: keep index, line, id and the reason */
        free_content(out);
        return VKG_OK;
    }
    vkg_grm_record_free(out);
    return vkg_error(st, "record at line %llu: out of memory", (unsigned long long)line_no);
}

/* ---- line reader -------------------------------------------------------------- */

enum vkg_status vkg_grm_lines_open_file(FILE *f, const char *name, struct vkg_grm_lines *l)
{
    memset(l, 0, sizeof *l);
    l->f = f;
    l->name = strdup(name);
    return l->name ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "%s: out of memory", name);
}

enum vkg_status vkg_grm_lines_open(const char *path, struct vkg_grm_lines *l)
{
    if (!strcmp(path, "-")) return vkg_grm_lines_open_file(stdin, "<stdin>", l);
    FILE *f = fopen(path, "rb");
    if (!f) return vkg_error(errno == ENOENT ? VKG_ERR_NOT_FOUND : VKG_ERR_IO, "%s: %s", path, strerror(errno));
    enum vkg_status st = vkg_grm_lines_open_file(f, path, l);
    if (st != VKG_OK) {
        fclose(f);
        return st;
    }
    l->owned = true;
    return VKG_OK;
}

enum vkg_status vkg_grm_lines_next(struct vkg_grm_lines *l, const char **line, size_t *len, bool *eof)
{
    errno = 0;
    ssize_t n = getline(&l->buf, &l->cap, l->f);
    if (n < 0) {
        if (ferror(l->f))
            return vkg_error(VKG_ERR_IO, "%s: read error after line %llu: %s", l->name, (unsigned long long)l->line_no,
                             strerror(errno ? errno : EIO));
        if (errno == ENOMEM)
            return vkg_error(VKG_ERR_NOMEM, "%s: line %llu: out of memory", l->name,
                             (unsigned long long)l->line_no + 1);
        *eof = true;
        return VKG_OK;
    }
    *eof = false;
    l->line_no++;
    size_t m = (size_t)n;
    char *s = l->buf;
    l->complete = m > 0 && s[m - 1] == '\n';
    if (l->complete) m--;
    if (m > 0 && s[m - 1] == '\r') m--;
    if (l->line_no == 1 && m >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
        s += 3;
        m -= 3;
    }
    s[m] = '\0';
    *line = s;
    *len = m;
    return VKG_OK;
}

void vkg_grm_lines_close(struct vkg_grm_lines *l)
{
    if (l->owned && l->f) fclose(l->f);
    free(l->buf);
    free(l->name);
    memset(l, 0, sizeof *l);
}

bool vkg_grm_line_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return false;
    return true;
}

/* ---- record reader -------------------------------------------------------------- */

struct vkg_grm_reader {
    struct vkg_grm_lines lines;
    uint64_t next_index;
};

static enum vkg_status reader_new(struct vkg_grm_reader **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "GRM reader: out of memory");
}

enum vkg_status vkg_grm_reader_open(const char *path, struct vkg_grm_reader **out)
{
    enum vkg_status st = reader_new(out);
    if (st == VKG_OK && (st = vkg_grm_lines_open(path, &(*out)->lines)) != VKG_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

enum vkg_status vkg_grm_reader_open_file(FILE *f, const char *name, struct vkg_grm_reader **out)
{
    enum vkg_status st = reader_new(out);
    if (st == VKG_OK && (st = vkg_grm_lines_open_file(f, name, &(*out)->lines)) != VKG_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

enum vkg_status vkg_grm_reader_next(struct vkg_grm_reader *r, struct vkg_grm_record *rec, bool *eof)
{
    memset(rec, 0, sizeof *rec);
    rec->label = -1;
    for (;;) {
        const char *line;
        size_t len;
        enum vkg_status st = vkg_grm_lines_next(&r->lines, &line, &len, eof);
        if (st != VKG_OK || *eof) return st;
        if (vkg_grm_line_blank(line, len)) continue;
        return vkg_grm_record_parse(line, len, r->next_index++, r->lines.line_no, rec);
    }
}

void vkg_grm_reader_close(struct vkg_grm_reader *r)
{
    if (!r) return;
    vkg_grm_lines_close(&r->lines);
    free(r);
}
