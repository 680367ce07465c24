/* chat_template.c — C renderings of the published chat templates (see
 * chat_template.h). Each render_* function follows its Jinja template
 * statement by statement; the comments quote the Jinja where it is subtle. */
#include "chat_template.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "gguf_model.h"
#include "json.h"

/* Special markers of the templates, as in the Jinja source. DeepSeek's use
 * FULLWIDTH VERTICAL LINE (U+FF5C) and LOWER ONE EIGHTH BLOCK (U+2581). */
#define DS_USER "<\xef\xbd\x9cUser\xef\xbd\x9c>"
#define DS_ASSISTANT \
    "<\xef\xbd\x9c"  \
    "Assistant\xef\xbd\x9c>"
#define DS_EOS      \
    "<\xef\xbd\x9c" \
    "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
#define DS_OUTPUTS_BEGIN                               \
    "<\xef\xbd\x9ctool\xe2\x96\x81outputs\xe2\x96\x81" \
    "begin\xef\xbd\x9c>"
#define DS_OUTPUTS_END                                 \
    "<\xef\xbd\x9ctool\xe2\x96\x81outputs\xe2\x96\x81" \
    "end\xef\xbd\x9c>"
#define DS_OUTPUT_BEGIN                               \
    "<\xef\xbd\x9ctool\xe2\x96\x81output\xe2\x96\x81" \
    "begin\xef\xbd\x9c>"
#define DS_OUTPUT_END                                 \
    "<\xef\xbd\x9ctool\xe2\x96\x81output\xe2\x96\x81" \
    "end\xef\xbd\x9c>"

/* A template file section: "[name]" and its body. */
struct vkg_chat_file_section {
    char *name;
    char *body;
};

/* ---- growable output string ------------------------------------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

/* ---- Python string methods ------------------------------------------------ */

/* Length of the UTF-8 sequence at s[0..n) if it encodes a character for
 * which Python's str.isspace() is true, else 0. */
static size_t py_space_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return (s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20) ? 1 : 0;
    uint32_t cp;
    size_t len;
    if ((s[0] & 0xe0) == 0xc0 && n >= 2) {
        cp = (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu);
        len = 2;
    } else if ((s[0] & 0xf0) == 0xe0 && n >= 3) {
        cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
        len = 3;
    } else {
        return 0; /* 4-byte characters are never whitespace; bad bytes are kept */
    }
    bool space = cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
                 cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    return space ? len : 0;
}

/* Jinja's |trim = Python str.strip(): the span of s without leading and
 * trailing Unicode whitespace. */
static void py_strip(const char *s, const char **start, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t k;
    while (p < end && (k = py_space_len(p, (size_t)(end - p)))) p += k;
    const unsigned char *last = p; /* end of the last non-space character */
    for (const unsigned char *q = p; q < end;) {
        k = py_space_len(q, (size_t)(end - q));
        if (k) {
            q += k;
            continue;
        }
        q++;
        while (q < end && (*q & 0xc0) == 0x80) /* rest of a multi-byte character */
            q++;
        last = q;
    }
    *start = (const char *)p;
    *len = (size_t)(last - p);
}

static void sb_put_trimmed(struct sbuf *b, const char *s)
{
    const char *p;
    size_t n;
    py_strip(s, &p, &n);
    sb_putn(b, p, n);
}

/* str.lstrip('\n') / rstrip('\n') on a span. */
static void lstrip_nl(const char **p, size_t *n)
{
    while (*n && **p == '\n') {
        (*p)++;
        (*n)--;
    }
}

static void rstrip_nl(const char *p, size_t *n)
{
    while (*n && p[*n - 1] == '\n') (*n)--;
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Last occurrence of needle in s[0..n), or NULL. */
static const char *find_last(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = n; i-- > 0 && n >= m;)
        if (i + m <= n && memcmp(s + i, needle, m) == 0) return s + i;
    return NULL;
}

static bool is(const struct vkg_chat_message *m, const char *role) { return strcmp(m->role, role) == 0; }

static enum vkg_status bad_role(const char *family, const char *role)
{
    return vkg_error(VKG_ERR_TEMPLATE, "%s chat template: role '%s' is not supported", family, role);
}

/* ---- families --------------------------------------------------------- */

/* Qwen2-Instruct / SmolLM2 / generic ChatML. */
static enum vkg_status render_chatml(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                     struct sbuf *b)
{
    /* {% if loop.first and messages[0]['role'] != 'system' %} default system */
    if (o->default_system && !is(&m[0], "system")) {
        sb_puts(b, "<|im_start|>system\n");
        sb_puts(b, o->default_system);
        sb_puts(b, "<|im_end|>\n");
    }
    for (size_t i = 0; i < n; i++) {
        sb_puts(b, "<|im_start|>");
        sb_puts(b, m[i].role);
        sb_puts(b, "\n");
        sb_puts(b, m[i].content);
        sb_puts(b, "<|im_end|>\n");
    }
    if (o->add_generation_prompt) sb_puts(b, "<|im_start|>assistant\n");
    return VKG_OK;
}

/* Index of the last user message that is not a wrapped tool response
 * (ns.last_query_index); n-1 when there is none, as in the template. */
static size_t qwen3_last_query(const struct vkg_chat_message *m, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (is(&m[i], "user") &&
            !(starts_with(m[i].content, "<tool_response>") && ends_with(m[i].content, "</tool_response>")))
            return i;
    return n - 1;
}

/* One Qwen3 assistant turn: split "<think>..</think>" out of the content
 * unless reasoning is given; only turns after the last query keep it. */
static void qwen3_assistant(const struct vkg_chat_message *msg, bool after_query, bool last, struct sbuf *b)
{
    const char *c = msg->content, *r = msg->reasoning ? msg->reasoning : "";
    size_t cn = strlen(c), rn = strlen(r);
    const char *close = strstr(c, "</think>");
    if (!msg->reasoning && close) {
        /* content.split('</think>')[-1].lstrip('\n') */
        const char *tail = find_last(c, cn, "</think>") + strlen("</think>");
        /* content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') */
        r = c;
        rn = (size_t)(close - c);
        rstrip_nl(r, &rn);
        const char *open = find_last(r, rn, "<think>");
        if (open) {
            rn -= (size_t)(open + strlen("<think>") - r);
            r = open + strlen("<think>");
        }
        lstrip_nl(&r, &rn);
        cn -= (size_t)(tail - c);
        c = tail;
        lstrip_nl(&c, &cn);
    }
    sb_puts(b, "<|im_start|>assistant\n");
    if (after_query && (last || rn)) {
        lstrip_nl(&r, &rn); /* reasoning_content.strip('\n') */
        rstrip_nl(r, &rn);
        sb_puts(b, "<think>\n");
        sb_putn(b, r, rn);
        sb_puts(b, "\n</think>\n\n");
        lstrip_nl(&c, &cn);
    }
    sb_putn(b, c, cn);
    sb_puts(b, "<|im_end|>\n");
}

/* Qwen3 (the tools-free path of its template). */
static enum vkg_status render_qwen3(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                    struct sbuf *b)
{
    if (is(&m[0], "system")) {
        sb_puts(b, "<|im_start|>system\n");
        sb_puts(b, m[0].content);
        sb_puts(b, "<|im_end|>\n");
    }
    size_t last_query = qwen3_last_query(m, n);
    for (size_t i = 0; i < n; i++) {
        if (is(&m[i], "user") || (is(&m[i], "system") && i > 0)) {
            sb_puts(b, "<|im_start|>");
            sb_puts(b, m[i].role);
            sb_puts(b, "\n");
            sb_puts(b, m[i].content);
            sb_puts(b, "<|im_end|>\n");
        } else if (is(&m[i], "assistant")) {
            qwen3_assistant(&m[i], i > last_query, i == n - 1, b);
        } else if (is(&m[i], "tool")) {
            /* consecutive tool results share one user turn */
            if (i == 0 || !is(&m[i - 1], "tool")) sb_puts(b, "<|im_start|>user");
            sb_puts(b, "\n<tool_response>\n");
            sb_puts(b, m[i].content);
            sb_puts(b, "\n</tool_response>");
            if (i == n - 1 || !is(&m[i + 1], "tool")) sb_puts(b, "<|im_end|>\n");
        } else if (!is(&m[i], "system")) {
            return bad_role("qwen3", m[i].role);
        }
    }
    if (o->add_generation_prompt) {
        sb_puts(b, "<|im_start|>assistant\n");
        if (!o->enable_thinking) sb_puts(b, "<think>\n\n</think>\n\n");
    }
    return VKG_OK;
}

/* DeepSeek-V2(-Lite)-Chat: messages in order, system text bare. */
static enum vkg_status render_deepseek2(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                        struct sbuf *b)
{
    sb_puts(b, o->bos);
    for (size_t i = 0; i < n; i++) {
        if (is(&m[i], "user")) {
            sb_puts(b, "User: ");
            sb_puts(b, m[i].content);
            sb_puts(b, "\n\n");
        } else if (is(&m[i], "assistant")) {
            sb_puts(b, "Assistant: ");
            sb_puts(b, m[i].content);
            sb_puts(b, o->eos);
        } else if (is(&m[i], "system")) {
            sb_puts(b, m[i].content);
            sb_puts(b, "\n\n");
        } else {
            return bad_role("deepseek2", m[i].role);
        }
    }
    if (o->add_generation_prompt) sb_puts(b, "Assistant:");
    return VKG_OK;
}

/* DeepSeek-V3: every system text hoisted to the front; tool outputs are
 * wrapped in outputs_begin/end (is_output_first is never reset, as in the
 * template). Assistant tool calls (content null) are not representable. */
static enum vkg_status render_deepseek3(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                        struct sbuf *b)
{
    sb_puts(b, o->bos);
    bool first_sp = true, is_tool = false, output_first = true;
    for (size_t i = 0; i < n; i++)
        if (is(&m[i], "system")) {
            sb_puts(b, first_sp ? "" : "\n\n");
            sb_puts(b, m[i].content);
            first_sp = false;
        }
    for (size_t i = 0; i < n; i++) {
        if (is(&m[i], "user")) {
            is_tool = false;
            sb_puts(b, DS_USER);
            sb_puts(b, m[i].content);
        } else if (is(&m[i], "assistant")) {
            sb_puts(b, is_tool ? DS_OUTPUTS_END : DS_ASSISTANT);
            sb_puts(b, m[i].content);
            sb_puts(b, DS_EOS);
            is_tool = false;
        } else if (is(&m[i], "tool")) {
            is_tool = true;
            sb_puts(b, output_first ? DS_OUTPUTS_BEGIN DS_OUTPUT_BEGIN : "\n" DS_OUTPUT_BEGIN);
            sb_puts(b, m[i].content);
            sb_puts(b, DS_OUTPUT_END);
            output_first = false;
        } else if (!is(&m[i], "system")) {
            return bad_role("deepseek3", m[i].role);
        }
    }
    if (is_tool) sb_puts(b, DS_OUTPUTS_END);
    if (o->add_generation_prompt && !is_tool) sb_puts(b, DS_ASSISTANT);
    return VKG_OK;
}

/* Gemma-2/3 turns. */
static enum vkg_status render_gemma(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                    struct sbuf *b)
{
    sb_puts(b, o->bos);
    const char *prefix = NULL;
    if (is(&m[0], "system")) {
        if (o->no_system) return vkg_error(VKG_ERR_TEMPLATE, "gemma chat template: System role not supported");
        prefix = m[0].content;
        m++;
        n--;
    }
    for (size_t k = 0; k < n; k++) {
        /* (message['role'] == 'user') != (loop.index0 % 2 == 0) → raise */
        if (is(&m[k], "user") != (k % 2 == 0))
            return vkg_error(VKG_ERR_TEMPLATE,
                             "gemma chat template: conversation roles must "
                             "alternate user/assistant/user/assistant/... (message %zu is '%s')",
                             k + (prefix != NULL), m[k].role);
        sb_puts(b, "<start_of_turn>");
        sb_puts(b, is(&m[k], "assistant") ? "model" : m[k].role);
        sb_puts(b, "\n");
        if (k == 0 && prefix) {
            sb_puts(b, prefix);
            sb_puts(b, "\n\n");
        }
        sb_put_trimmed(b, m[k].content);
        sb_puts(b, "<end_of_turn>\n");
    }
    if (o->add_generation_prompt) sb_puts(b, "<start_of_turn>model\n");
    return VKG_OK;
}

/* Llama-3 headers; every role is written as given. */
static enum vkg_status render_llama3(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                     struct sbuf *b)
{
    for (size_t i = 0; i < n; i++) {
        if (i == 0) sb_puts(b, o->bos);
        sb_puts(b, "<|start_header_id|>");
        sb_puts(b, m[i].role);
        sb_puts(b, "<|end_header_id|>\n\n");
        sb_put_trimmed(b, m[i].content);
        sb_puts(b, "<|eot_id|>");
    }
    if (o->add_generation_prompt || o->gen_prompt_always)
        sb_puts(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    return VKG_OK;
}

/* ---- user template file ----------------------------------------------- */

static const struct vkg_chat_file_section *find_section(const struct vkg_chat_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_file_sections; i++)
        if (!strcmp(o->file_sections[i].name, name)) return &o->file_sections[i];
    return NULL;
}

/* Expand one section body; placeholders were validated at parse time. */
static void expand(const char *body, const struct vkg_chat_message *msg, const struct vkg_chat_opts *o, struct sbuf *b)
{
    for (const char *p = body; *p;) {
        const char *brace = strchr(p, '{');
        if (!brace) {
            sb_puts(b, p);
            return;
        }
        sb_putn(b, p, (size_t)(brace - p));
        if (brace[1] == '{') {
            sb_puts(b, "{");
            p = brace + 2;
            continue;
        }
        const char *close = strchr(brace, '}');
        size_t len = (size_t)(close - brace) + 1;
        if (!strncmp(brace, "{content}", len)) sb_puts(b, msg ? msg->content : "");
        else if (!strncmp(brace, "{role}", len)) sb_puts(b, msg ? msg->role : "");
        else if (!strncmp(brace, "{bos}", len)) sb_puts(b, o->bos);
        else sb_puts(b, o->eos);
        p = close + 1;
    }
}

static enum vkg_status render_file(const struct vkg_chat_message *m, size_t n, const struct vkg_chat_opts *o,
                                   struct sbuf *b)
{
    const struct vkg_chat_file_section *s = find_section(o, "prefix");
    if (s) expand(s->body, NULL, o, b);
    for (size_t i = 0; i < n; i++) {
        if (!(s = find_section(o, m[i].role)))
            return vkg_error(VKG_ERR_TEMPLATE,
                             "chat template file has no [%s] section for "
                             "message %zu",
                             m[i].role, i);
        expand(s->body, &m[i], o, b);
    }
    if (o->add_generation_prompt) {
        if (!(s = find_section(o, "generation")))
            return vkg_error(VKG_ERR_TEMPLATE, "chat template file has no [generation] section");
        expand(s->body, NULL, o, b);
    }
    return VKG_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

enum vkg_status vkg_chat_render(enum vkg_chat_family family, const struct vkg_chat_message *msgs, size_t n,
                                const struct vkg_chat_opts *opts, char **out)
{
    *out = NULL;
    if (n == 0 || !msgs || !opts) return vkg_error(VKG_ERR_INVALID_ARG, "chat template: no messages to render");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return vkg_error(VKG_ERR_INVALID_ARG, "chat message %zu has no role or content", i);
    struct vkg_chat_opts o = *opts;
    o.bos = o.bos ? o.bos : "";
    o.eos = o.eos ? o.eos : "";
    struct sbuf b = { 0 };
    enum vkg_status st;
    switch (family) {
    case VKG_CHAT_CHATML: st = render_chatml(msgs, n, &o, &b); break;
    case VKG_CHAT_QWEN3: st = render_qwen3(msgs, n, &o, &b); break;
    case VKG_CHAT_DEEPSEEK2: st = render_deepseek2(msgs, n, &o, &b); break;
    case VKG_CHAT_DEEPSEEK3: st = render_deepseek3(msgs, n, &o, &b); break;
    case VKG_CHAT_GEMMA: st = render_gemma(msgs, n, &o, &b); break;
    case VKG_CHAT_LLAMA3: st = render_llama3(msgs, n, &o, &b); break;
    case VKG_CHAT_FILE: st = render_file(msgs, n, &o, &b); break;
    default: st = vkg_error(VKG_ERR_INVALID_ARG, "chat template family %d unknown", (int)family);
    }
    if (st == VKG_OK && !b.p) sb_puts(&b, ""); /* an empty rendering is still a string */
    if (st == VKG_OK && b.oom) st = vkg_error(VKG_ERR_NOMEM, "chat template: rendering %zu messages", n);
    if (st != VKG_OK) {
        free(b.p);
        return st;
    }
    *out = b.p;
    return VKG_OK;
}

static const char *const g_family_names[VKG_CHAT_FAMILY_COUNT] = {
    "unknown", "chatml", "qwen3", "deepseek2", "deepseek3", "gemma", "llama3", "file",
};

const char *vkg_chat_family_name(enum vkg_chat_family f)
{
    return (unsigned)f < VKG_CHAT_FAMILY_COUNT ? g_family_names[f] : "unknown";
}

enum vkg_chat_family vkg_chat_family_from_name(const char *name)
{
    for (int f = VKG_CHAT_CHATML; f < VKG_CHAT_FILE; f++)
        if (name && !strcmp(name, g_family_names[f])) return (enum vkg_chat_family)f;
    return VKG_CHAT_UNKNOWN;
}

enum vkg_chat_family vkg_chat_family_for_model_type(const char *mt)
{
    static const struct {
        const char *model_type;
        enum vkg_chat_family family;
    } map[] = {
        { "qwen2", VKG_CHAT_CHATML },    { "qwen2_moe", VKG_CHAT_CHATML },      { "qwen3", VKG_CHAT_QWEN3 },
        { "qwen3_moe", VKG_CHAT_QWEN3 }, { "deepseek_v3", VKG_CHAT_DEEPSEEK3 }, { "gemma", VKG_CHAT_GEMMA },
        { "gemma2", VKG_CHAT_GEMMA },    { "gemma3", VKG_CHAT_GEMMA },          { "gemma3_text", VKG_CHAT_GEMMA },
    };
    for (size_t i = 0; mt && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(mt, map[i].model_type)) return map[i].family;
    return VKG_CHAT_UNKNOWN; /* llama, deepseek_v2, mixtral: depends on the checkpoint */
}

/* Markers in the Jinja text, most specific first (the approach of
 * llama.cpp's llm_chat_detect_template). */
enum vkg_chat_family vkg_chat_family_detect(const char *t)
{
    if (!t) return VKG_CHAT_UNKNOWN;
    if (strstr(t, "<|im_start|>"))
        return strstr(t, "enable_thinking") || strstr(t, "reasoning_content") ? VKG_CHAT_QWEN3 : VKG_CHAT_CHATML;
    if (strstr(t, "'Assistant: ' + message['content'] + eos_token")) return VKG_CHAT_DEEPSEEK2;
    if (strstr(t, DS_USER) && strstr(t, DS_ASSISTANT)) return VKG_CHAT_DEEPSEEK3;
    if (strstr(t, "<start_of_turn>")) return VKG_CHAT_GEMMA;
    if (strstr(t, "<|start_header_id|>") && strstr(t, "<|end_header_id|>")) return VKG_CHAT_LLAMA3;
    return VKG_CHAT_UNKNOWN;
}

/* ---- loading ------------------------------------------------------------ */

/* A whole template or config file (regular files only, see file.h). NUL
 * bytes would cut the text short, so they are an error. */
static enum vkg_status read_file(const char *path, char **out)
{
    size_t len;
    enum vkg_status st = vkg_file_read(path, VKG_JSON_MAX_CONFIG, out, &len);
    if (st == VKG_OK && strlen(*out) != len) {
        size_t at = strlen(*out);
        free(*out);
        *out = NULL;
        return vkg_error(VKG_ERR_TEMPLATE, "%s: NUL byte at offset %zu", path, at);
    }
    return st;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

/* bos_token / eos_token: a string, {"content": ...} (AddedToken) or null. */
static enum vkg_status token_string(const cJSON *cfg, const char *key, const char *path, char **out)
{
    const cJSON *v = vkg_json_get(cfg, key);
    if (cJSON_IsObject(v)) v = vkg_json_get(v, "content");
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
        return vkg_error(VKG_ERR_TEMPLATE, "%s: %s must be a string or an AddedToken", path, key);
    *out = dup_str(cJSON_IsString(v) ? v->valuestring : "");
    return *out ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "%s: %s", path, key);
}

/* chat_template: a string, or a list of {name, template} where "default"
 * is the one apply_chat_template uses. */
static enum vkg_status template_string(const cJSON *cfg, const char *path, char **out)
{
    const cJSON *v = vkg_json_get(cfg, "chat_template");
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return VKG_OK;
    if (cJSON_IsArray(v)) {
        const cJSON *e, *pick = NULL;
        cJSON_ArrayForEach(e, v)
        {
            const cJSON *name = vkg_json_get(e, "name");
            if (cJSON_IsString(name) && !strcmp(name->valuestring, "default")) pick = vkg_json_get(e, "template");
        }
        v = pick;
    }
    if (!cJSON_IsString(v))
        return vkg_error(VKG_ERR_TEMPLATE,
                         "%s: chat_template must be a string or a list with a "
                         "\"default\" entry",
                         path);
    *out = dup_str(v->valuestring);
    return *out ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "%s: chat_template", path);
}

/* tokenizer_config.json → bos, eos, jinja. A missing file leaves them empty. */
/* tokenizer_config.json (parsed, or NULL when absent) → bos, eos, jinja. */
static enum vkg_status config_fields(const cJSON *cfg, const char *path, struct vkg_chat_template *t)
{
    if (!cfg) {
        t->bos = dup_str("");
        t->eos = dup_str("");
        return t->bos && t->eos ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "%s", path);
    }
    enum vkg_status st = VKG_OK;
    if (!cJSON_IsObject(cfg)) st = vkg_error(VKG_ERR_TEMPLATE, "%s: top level is not an object", path);
    if (st == VKG_OK) st = token_string(cfg, "bos_token", path, &t->bos);
    if (st == VKG_OK) st = token_string(cfg, "eos_token", path, &t->eos);
    if (st == VKG_OK) st = template_string(cfg, path, &t->jinja);
    return st;
}

/* The default system text of a ChatML template: the literal after
 * "<|im_start|>system\n" up to "<|im_end|>", when it is plain text inside
 * one string literal (no quote that would end the literal). */
static char *chatml_default_system(const char *t)
{
    static const char marker[] = "<|im_start|>system";
    for (const char *p = strstr(t, marker); p; p = strstr(p + 1, marker)) {
        const char *s = p + strlen(marker);
        if (!strncmp(s, "\\n", 2)) s += 2; /* Jinja escape inside the literal */
        else if (*s == '\n') s += 1;
        else continue;
        const char *e = strstr(s, "<|im_end|>");
        if (!e || e == s || memchr(s, '\'', (size_t)(e - s)) || memchr(s, '"', (size_t)(e - s))) continue;
        char *out = malloc((size_t)(e - s) + 1), *w = out;
        if (!out) return NULL;
        for (const char *q = s; q < e; q++) { /* undo the escapes of the literal */
            char c = *q;
            if (c == '\\' && q + 1 < e) {
                c = *++q;
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
            }
            *w++ = c;
        }
        *w = '\0';
        return out;
    }
    return NULL;
}

/* Options that the template text implies for its family. */
static enum vkg_status template_quirks(const char *dir, struct vkg_chat_template *t)
{
    if (!t->jinja) return VKG_OK;
    if (t->family == VKG_CHAT_CHATML) t->default_system = chatml_default_system(t->jinja);
    t->no_system = t->family == VKG_CHAT_GEMMA && strstr(t->jinja, "System role not supported");
    t->gen_prompt_always = t->family == VKG_CHAT_LLAMA3 && !strstr(t->jinja, "add_generation_prompt");
    /* Llama-3.1+ inject a dated system header and tool blocks that the
     * llama3 family does not reproduce: refuse rather than mis-render. */
    if (t->family == VKG_CHAT_LLAMA3 && strstr(t->jinja, "Cutting Knowledge Date"))
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: the Llama-3.1+ chat template is not "
                         "supported; use --chat-template-file",
                         dir);
    return VKG_OK;
}

/* The family: a recognised template text, else model_type, else an error. */
static enum vkg_status choose_family(const char *where, const char *model_type, struct vkg_chat_template *t)
{
    t->family = vkg_chat_family_detect(t->jinja);
    if (t->family == VKG_CHAT_UNKNOWN) t->family = vkg_chat_family_for_model_type(model_type);
    if (t->family == VKG_CHAT_UNKNOWN)
        return vkg_error(VKG_ERR_TEMPLATE,
                         "%s: cannot tell the chat format (model_type '%s', "
                         "%s); choose one with --chat-template chatml|qwen3|deepseek2|"
                         "deepseek3|gemma|llama3 or give --chat-template-file",
                         where, model_type ? model_type : "?",
                         t->jinja ? "unrecognised chat_template" : "no chat_template");
    return template_quirks(where, t);
}

/* name: the config file, for its messages; where: the directory, for the family's. */
static enum vkg_status parse_config(const char *config, size_t config_len, const char *jinja, const char *model_type,
                                    const char *name, const char *where, struct vkg_chat_template *out)
{
    memset(out, 0, sizeof *out);
    cJSON *cfg = NULL;
    enum vkg_status st = config ? vkg_json_parse(config, config_len, name, 0, &cfg) : VKG_OK;
    if (st == VKG_OK) st = config_fields(cfg, name, out);
    cJSON_Delete(cfg);
    if (st == VKG_OK && jinja) { /* chat_template.jinja overrides the config's template */
        free(out->jinja);
        if (!(out->jinja = dup_str(jinja))) st = vkg_error(VKG_ERR_NOMEM, "%s: chat template", name);
    }
    if (st == VKG_OK) st = choose_family(where, model_type, out);
    if (st != VKG_OK) vkg_chat_template_free(out);
    return st;
}

enum vkg_status vkg_chat_template_parse(const char *config, size_t config_len, const char *jinja,
                                        const char *model_type, const char *name, struct vkg_chat_template *out)
{
    return parse_config(config, config_len, jinja, model_type, name, name, out);
}

enum vkg_status vkg_chat_template_load(const char *dir, const char *model_type, struct vkg_chat_template *out)
{
    memset(out, 0, sizeof *out);
    if (vkg_gguf_is_path(dir)) return vkg_gguf_chat_template_load(dir, model_type, out); /* tokenizer.chat_template */
    char path[4096], jpath[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    snprintf(jpath, sizeof jpath, "%s/chat_template.jinja", dir);
    char *config = NULL, *jinja = NULL;
    size_t config_len = 0;
    enum vkg_status st = vkg_file_read(path, VKG_JSON_MAX_CONFIG, &config, &config_len);
    if (st == VKG_ERR_NOT_FOUND) st = VKG_OK; /* no tokenizer_config.json: empty bos/eos */
    /* Newer repos keep the template in chat_template.jinja; transformers
     * lets that file override tokenizer_config.json, and so do we. */
    if (st == VKG_OK && (st = read_file(jpath, &jinja)) == VKG_ERR_NOT_FOUND) st = VKG_OK;
    if (st == VKG_OK) st = parse_config(config, config_len, jinja, model_type, path, dir, out);
    free(config);
    free(jinja);
    return st;
}

/* ---- template files ----------------------------------------------------- */

/* "[name]" alone on a line (a trailing \r is allowed for CRLF files). */
static bool header_line(const char *line, size_t len, size_t *name_len)
{
    if (len && line[len - 1] == '\r') len--;
    if (len < 3 || line[0] != '[' || line[len - 1] != ']') return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!(line[i] == '_' || line[i] == '-' || (line[i] >= 'a' && line[i] <= 'z') ||
              (line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9')))
            return false;
    *name_len = len - 2;
    return true;
}

/* Every "{...}" of a body must be a known placeholder; {content} and {role}
 * only mean something in a role section. */
static enum vkg_status check_placeholders(const struct vkg_chat_file_section *s, const char *file)
{
    bool role_section = strcmp(s->name, "prefix") && strcmp(s->name, "generation");
    for (const char *p = strchr(s->body, '{'); p; p = strchr(p, '{')) {
        if (p[1] == '{') {
            p += 2;
            continue;
        }
        const char *close = strchr(p, '}');
        size_t len = close ? (size_t)(close - p) + 1 : 0;
        bool known = close && ((len == 5 && !strncmp(p, "{bos}", 5)) || (len == 5 && !strncmp(p, "{eos}", 5)) ||
                               (role_section && len == 9 && !strncmp(p, "{content}", 9)) ||
                               (role_section && len == 6 && !strncmp(p, "{role}", 6)));
        if (!known)
            return vkg_error(VKG_ERR_TEMPLATE,
                             "%s: section [%s]: '%.*s' is not a placeholder "
                             "here (use {content} {role} {bos} {eos}, or {{ for a literal {)",
                             file, s->name, close ? (int)len : 12, p);
        p = close + 1;
    }
    return VKG_OK;
}

static enum vkg_status add_section(struct vkg_chat_template *t, const char *name, size_t name_len, const char *body,
                                   size_t body_len, const char *file)
{
    if (body_len && body[body_len - 1] == '\n') /* the newline before the next header */
        body_len -= 1 + (body_len >= 2 && body[body_len - 2] == '\r');
    for (size_t i = 0; i < t->n_sections; i++)
        if (strlen(t->sections[i].name) == name_len && !strncmp(t->sections[i].name, name, name_len))
            return vkg_error(VKG_ERR_TEMPLATE, "%s: section [%.*s] appears twice", file, (int)name_len, name);
    struct vkg_chat_file_section *s = realloc(t->sections, (t->n_sections + 1) * sizeof *s);
    if (!s) return vkg_error(VKG_ERR_NOMEM, "%s", file);
    t->sections = s;
    s = &t->sections[t->n_sections];
    s->name = malloc(name_len + 1);
    s->body = malloc(body_len + 1);
    if (!s->name || !s->body) {
        free(s->name);
        free(s->body);
        return vkg_error(VKG_ERR_NOMEM, "%s", file);
    }
    memcpy(s->name, name, name_len);
    s->name[name_len] = '\0';
    memcpy(s->body, body, body_len);
    s->body[body_len] = '\0';
    t->n_sections++;
    return check_placeholders(s, file);
}

static void free_sections(struct vkg_chat_template *t)
{
    for (size_t i = 0; i < t->n_sections; i++) {
        free(t->sections[i].name);
        free(t->sections[i].body);
    }
    free(t->sections);
    t->sections = NULL;
    t->n_sections = 0;
}

enum vkg_status vkg_chat_template_parse_file(const char *text, const char *file, struct vkg_chat_template *t)
{
    free_sections(t);
    const char *name = NULL, *body = NULL;
    size_t name_len = 0;
    enum vkg_status st = VKG_OK;
    for (const char *line = text; *line && st == VKG_OK;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line), hl;
        if (header_line(line, len, &hl)) {
            if (name) st = add_section(t, name, name_len, body, (size_t)(line - body), file);
            name = line + 1;
            name_len = hl;
            body = nl ? nl + 1 : line + len;
        }
        line = nl ? nl + 1 : line + len;
    }
    if (st == VKG_OK && name) st = add_section(t, name, name_len, body, strlen(body), file);
    if (st == VKG_OK && !t->n_sections)
        st = vkg_error(VKG_ERR_TEMPLATE,
                       "%s: no [section] headers; a chat template file needs "
                       "at least [user] and [assistant]",
                       file);
    if (st != VKG_OK) {
        free_sections(t);
        return st;
    }
    t->family = VKG_CHAT_FILE;
    return VKG_OK;
}

enum vkg_status vkg_chat_template_load_file(const char *path, struct vkg_chat_template *t)
{
    char *text;
    enum vkg_status st = read_file(path, &text);
    if (st != VKG_OK) return st;
    st = vkg_chat_template_parse_file(text, path, t);
    free(text);
    return st;
}

enum vkg_status vkg_chat_template_render(const struct vkg_chat_template *t, const struct vkg_chat_message *msgs,
                                         size_t n, bool add_generation_prompt, bool enable_thinking, char **out)
{
    struct vkg_chat_opts o = {
        .add_generation_prompt = add_generation_prompt,
        .enable_thinking = enable_thinking,
        .bos = t->bos,
        .eos = t->eos,
        .default_system = t->default_system,
        .no_system = t->no_system,
        .gen_prompt_always = t->gen_prompt_always,
        .file_sections = t->sections,
        .n_file_sections = t->n_sections,
    };
    return vkg_chat_render(t->family, msgs, n, &o, out);
}

void vkg_chat_template_free(struct vkg_chat_template *t)
{
    if (!t) return;
    free(t->bos);
    free(t->eos);
    free(t->jinja);
    free(t->default_system);
    free_sections(t);
    memset(t, 0, sizeof *t);
}
