/* stream.c — vkgrm-generate's output, written as it is generated.
 *
 * Text mode (one sample, no --json): after every token the sample's tokens
 * are decoded again (special tokens skipped) and the new part of the text is
 * printed, minus a trailing U+FFFD that the next token may still complete
 * (an incomplete UTF-8 character). Decoding the whole sample, rather than
 * gluing per-token bytes, keeps what is printed identical to the final
 * decode (first-token rules of Strip/Metaspace decoders, skipped specials).
 * JSON mode: one line per sample, written and flushed when it finishes.
 * A write error on stdout (a full disk, a closed pipe) stops generation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "generate_tool.h"

static enum vkg_status put(const char *p, size_t n)
{
    if ((n && fwrite(p, 1, n, stdout) != n) || fflush(stdout) != 0)
        return vkg_error(VKG_ERR_IO, "stdout: write failed: %s", strerror(errno));
    return VKG_OK;
}

static char *decode(const struct vkg_tokenizer *tok, const struct vkg_gen_sample *s)
{
    char *text = NULL;
    if (!tok || vkg_tokenizer_decode(tok, s->tokens, s->n, VKG_TOK_SKIP_SPECIAL, &text) != VKG_OK) return NULL;
    return text;
}

/* Length of text without trailing U+FFFD (EF BF BD): those may be the start
 * of a character whose other bytes come with the next token. */
static size_t settled(const char *text)
{
    size_t n = strlen(text);
    while (n >= 3 && !memcmp(text + n - 3, "\xEF\xBF\xBD", 3)) n -= 3;
    return n;
}

static const char *finish_name(enum vkg_finish f)
{
    switch (f) {
    case VKG_FINISH_EOS: return "eos";
    case VKG_FINISH_STOP: return "stop";
    case VKG_FINISH_INTERRUPTED: return "interrupted";
    default: return "length";
    }
}

static enum vkg_status json_line(int64_t prompt, uint32_t i, const char *text, const struct vkg_gen_sample *s)
{
    cJSON *o = cJSON_CreateObject();
    if (prompt >= 0) cJSON_AddNumberToObject(o, "prompt_index", (double)prompt);
    cJSON_AddNumberToObject(o, "index", i);
    if (text) cJSON_AddStringToObject(o, "text", text);
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray((const int *)s->tokens, (int)s->n));
    cJSON_AddStringToObject(o, "finish_reason", finish_name(s->finish));
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line) return vkg_error(VKG_ERR_NOMEM, "output line of sample %u", i);
    enum vkg_status st = put(line, strlen(line));
    free(line);
    return st == VKG_OK ? put("\n", 1) : st;
}

enum vkg_status stream_on_token(void *user, uint32_t i, const struct vkg_gen_sample *s)
{
    struct stream *p = user;
    if (p->jsonl) return VKG_OK;
    char *text = decode(p->tok, s);
    enum vkg_status st = VKG_OK;
    if (text) {
        size_t n = settled(text);
        if (n > p->printed) {
            st = put(text + p->printed, n - p->printed);
            p->printed = n;
        }
    }
    free(text);
    return st;
}

enum vkg_status stream_on_finish(void *user, uint32_t i, const struct vkg_gen_sample *s)
{
    struct stream *p = user;
    char *text = decode(p->tok, s);
    enum vkg_status st;
    p->finished++;
    if (p->jsonl || (!text && !p->printed)) { /* no text to stream (no tokenizer): JSON */
        st = json_line(p->prompt, i, text, s);
    } else if (text && strlen(text) > p->printed) {
        st = put(text + p->printed, strlen(text) - p->printed);
        if (st == VKG_OK) st = put("\n", 1);
    } else {
        st = put("\n", 1);
    }
    free(text);
    return st;
}
