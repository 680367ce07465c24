/* prompt.c — vkgrm-generate's prompts: --prompt-ids, -p TEXT, -f FILE or the
 * lines of --prompts FILE, through the chat template with --chat, to ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chat_template.h"
#include "file.h"
#include "generate_tool.h"
#include "json.h"

#define MAX_PROMPT_BYTES (1ull << 30)

/* "1,2,3" -> ids */
static int parse_ids(const char *s, int32_t **ids, uint32_t *n)
{
    *n = 0;
    if (!(*ids = malloc((strlen(s) / 2 + 2) * sizeof **ids))) return -1;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX) return -1;
        (*ids)[(*n)++] = (int32_t)v;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    return *n ? 0 : -1;
}

/* A stream (stdin, a pipe, a terminal) read to its end; stops at the first
 * NUL byte, which is an error anyway. */
static enum vkg_status read_stream(FILE *f, const char *name, char **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        int nul = memchr(buf + n, 0, r) != NULL;
        n += r;
        if (nul) break;
        if (n == cap) {
            char *nb = cap < MAX_PROMPT_BYTES ? realloc(buf, 2 * cap + 1) : NULL;
            if (!nb) {
                free(buf);
                return vkg_error(VKG_ERR_LIMIT, "%s: more than %zu bytes", name, cap);
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) return vkg_error(VKG_ERR_NOMEM, "%s", name);
    if (ferror(f)) {
        free(buf);
        return vkg_error(VKG_ERR_IO, "%s: read error: %s", name, strerror(errno));
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return VKG_OK;
}

/* The whole of -f FILE ("-": stdin); a NUL byte is an error, not an end. */
static enum vkg_status read_prompt_file(const char *path, char **out)
{
    size_t len = 0;
    struct stat sb;
    enum vkg_status s;
    if (!strcmp(path, "-")) {
        s = read_stream(stdin, "stdin", out, &len);
        path = "stdin";
    } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
        FILE *f = fopen(path, "rb"); /* a pipe or a terminal: -f <(cmd), -f /dev/stdin */
        if (!f) return vkg_error(VKG_ERR_IO, "%s: %s", path, strerror(errno));
        s = read_stream(f, path, out, &len);
        fclose(f);
    } else {
        s = vkg_file_read(path, MAX_PROMPT_BYTES, out, &len);
    }
    if (s == VKG_OK && strlen(*out) != len) {
        size_t at = strlen(*out);
        free(*out);
        *out = NULL;
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: NUL byte at offset %zu: a prompt must be text", path, at);
    }
    return s;
}

static enum vkg_status named_template(const char *name, struct vkg_chat_template *t)
{
    t->family = vkg_chat_family_from_name(name);
    if (t->family != VKG_CHAT_UNKNOWN) return VKG_OK;
    return vkg_error(VKG_ERR_INVALID_ARG,
                     "--chat-template '%s': expected chatml, qwen3, deepseek2, deepseek3, "
                     "gemma or llama3",
                     name);
}

/* The model's chat template, or the one named by --chat-template / --chat-template-file. */
static enum vkg_status load_template(const struct args *a, const struct vkg_hf_config *cfg,
                                     const struct vkg_tokenizer *tok, struct vkg_chat_template *t)
{
    enum vkg_status s = vkg_chat_template_load(a->model, vkg_arch_name(cfg->arch), t);
    if (s == VKG_OK && a->tmpl_file) return vkg_chat_template_load_file(a->tmpl_file, t);
    if (s == VKG_OK && a->tmpl) return named_template(a->tmpl, t);
    if (s == VKG_OK || (!a->tmpl && !a->tmpl_file)) return s;
    if (s != VKG_ERR_TEMPLATE) return s;
    /* the model has no usable template: start from its bos/eos tokens */
    memset(t, 0, sizeof *t);
    const char *bos = vkg_tokenizer_token_to_piece(tok, vkg_tokenizer_bos(tok));
    const char *eos = vkg_tokenizer_token_to_piece(tok, vkg_tokenizer_eos(tok));
    t->bos = strdup(bos ? bos : "");
    t->eos = strdup(eos ? eos : "");
    if (!t->bos || !t->eos) return vkg_error(VKG_ERR_NOMEM, "chat template");
    if (a->tmpl_file) return vkg_chat_template_load_file(a->tmpl_file, t);
    return named_template(a->tmpl, t);
}

static enum vkg_status apply_template(const struct args *a, const struct vkg_hf_config *cfg,
                                      const struct vkg_tokenizer *tok, char **text)
{
    struct vkg_chat_template t;
    struct vkg_chat_message msg[2] = { { "system", a->system, NULL }, { "user", *text, NULL } };
    char *rendered = NULL;
    enum vkg_status s = load_template(a, cfg, tok, &t);
    if (s == VKG_OK)
        s = vkg_chat_template_render(&t, a->system ? msg : msg + 1, a->system ? 2 : 1, true, !a->no_think, &rendered);
    vkg_chat_template_free(&t); /* also after an error: a loaded template may be half-built */
    free(*text);
    *text = rendered;
    return s;
}

/* --prompt-ids: checked against the vocabulary of config.json. */
static enum vkg_status ids_prompt(const char *text, const struct vkg_hf_config *cfg, struct prompt *p)
{
    if (parse_ids(text, &p->ids, &p->n))
        return vkg_error(VKG_ERR_INVALID_ARG, "--prompt-ids '%s': expected comma-separated token ids", text);
    for (uint32_t i = 0; i < p->n; i++)
        if ((uint32_t)p->ids[i] >= cfg->vocab_size)
            return vkg_error(VKG_ERR_INVALID_ARG, "--prompt-ids: id %d >= vocab_size %u", p->ids[i], cfg->vocab_size);
    return VKG_OK;
}

/* One text (consumed) to ids, through the chat template with --chat. */
static enum vkg_status encode(const struct args *a, const struct vkg_hf_config *cfg, struct vkg_tokenizer *tok,
                              char *text, struct prompt *p)
{
    int flags = VKG_TOK_ADD_SPECIAL | VKG_TOK_PARSE_SPECIAL;
    enum vkg_status s = VKG_OK;
    if (a->chat) { /* the template writes bos itself, like apply_chat_template(tokenize=True) */
        s = apply_template(a, cfg, tok, &text);
        flags = VKG_TOK_PARSE_SPECIAL;
    }
    size_t nn = 0;
    if (s == VKG_OK) s = vkg_tokenizer_encode(tok, text, strlen(text), flags, &p->ids, &nn);
    free(text);
    p->n = (uint32_t)nn;
    if (s == VKG_OK && nn == 0) s = vkg_error(VKG_ERR_INVALID_ARG, "the prompt encodes to no tokens");
    return s;
}

/* --prompts FILE: one prompt per line, each a JSON string or an object with
 * a "prompt" string (JSONL); blank lines are skipped. */
static enum vkg_status prompt_lines(const struct args *a, const struct vkg_hf_config *cfg, struct vkg_tokenizer *tok,
                                    struct prompt **out, size_t *n)
{
    char *all = NULL;
    enum vkg_status s = read_prompt_file(a->prompts, &all);
    size_t cap = 0, line_no = 0;
    for (char *line = all, *next; s == VKG_OK && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        if (!line[strspn(line, " \t\r")]) continue;
        char name[64];
        snprintf(name, sizeof name, "--prompts line %zu", line_no);
        cJSON *j = NULL;
        if ((s = vkg_json_parse(line, strlen(line), name, 0, &j)) != VKG_OK) break;
        const cJSON *t = cJSON_IsObject(j) ? vkg_json_get(j, "prompt") : j;
        char *text = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
        cJSON_Delete(j);
        if (!text) {
            s = vkg_error(VKG_ERR_INVALID_ARG, "%s: want a JSON string or {\"prompt\": \"...\"}", name);
            break;
        }
        if (*n == cap) {
            struct prompt *np = realloc(*out, (cap = cap ? 2 * cap : 64) * sizeof *np);
            if (!np) {
                free(text);
                s = vkg_error(VKG_ERR_NOMEM, "prompts");
                break;
            }
            *out = np;
        }
        (*out)[*n] = (struct prompt){ 0 };
        s = encode(a, cfg, tok, text, &(*out)[(*n)++]);
    }
    free(all);
    if (s == VKG_OK && *n == 0) s = vkg_error(VKG_ERR_INVALID_ARG, "%s: no prompts", a->prompts);
    return s;
}

enum vkg_status prompts_load(const struct args *a, const struct vkg_hf_config *cfg, struct vkg_tokenizer *tok,
                             struct prompt **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    enum vkg_status s;
    if (a->prompts) {
        s = prompt_lines(a, cfg, tok, out, n);
    } else {
        if (!(*out = calloc(1, sizeof **out))) return vkg_error(VKG_ERR_NOMEM, "prompt");
        *n = 1;
        char *text = NULL;
        if (a->prompt_ids) s = ids_prompt(a->prompt_ids, cfg, *out);
        else if (a->file && (s = read_prompt_file(a->file, &text)) != VKG_OK) {
        } else if (!a->file && !(text = strdup(a->prompt))) s = vkg_error(VKG_ERR_NOMEM, "prompt");
        else s = encode(a, cfg, tok, text, *out);
    }
    if (s != VKG_OK) {
        prompts_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return s;
}

void prompts_free(struct prompt *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) free(p[i].ids);
    free(p);
}
