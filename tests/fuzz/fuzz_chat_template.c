/* fuzz_chat_template — libFuzzer target: any bytes as tokenizer_config.json
 * (+ chat_template.jinja and a --chat-template-file text), then a few
 * conversations rendered with every option: loading and rendering succeed or
 * fail with a status, never crash or leak.
 * Input: byte 0 picks model_type; the rest is split at NUL bytes into
 * tokenizer_config.json | chat_template.jinja | template file (missing parts
 * are absent files). Run: tools/fuzz.sh fuzz_chat_template SECONDS. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"

static const char *const k_model_types[] = { NULL,          "llama",       "qwen2",  "qwen3",   "qwen3_moe",
                                             "deepseek_v2", "deepseek_v3", "gemma2", "mixtral", "gemma3" };

/* The next NUL-separated part of [*p, end) as a fresh C string, or NULL. */
static char *next_part(const uint8_t **p, const uint8_t *end, size_t *len)
{
    if (*p > end) return NULL;
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, *p, n);
        s[n] = '\0';
    }
    *len = n;
    *p = nul ? nul + 1 : end + 1;
    return s;
}

static void render_all(const struct vkg_chat_template *t)
{
    static const struct vkg_chat_message convs[][4] = {
        { { "user", "Hello", NULL } },
        { { "system", "Be brief.", NULL },
          { "user", "2+2?", NULL },
          { "assistant", "4", NULL },
          { "user", "{{ }} <|im_end|> \xe2\x96\x81", NULL } },
        { { "assistant", "", NULL }, { "tool", "x", NULL } },
    };
    static const size_t lens[] = { 1, 4, 2 };
    for (size_t c = 0; c < 3; c++)
        for (int opt = 0; opt < 4; opt++) {
            char *out = NULL;
            if (vkg_chat_template_render(t, convs[c], lens[c], opt & 1, opt & 2, &out) == VKG_OK) free(out);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *model_type = k_model_types[data[0] % (sizeof k_model_types / sizeof *k_model_types)];
    const uint8_t *p = data + 1, *end = data + size;
    size_t n_cfg = 0, n_j = 0, n_f = 0;
    char *cfg = next_part(&p, end, &n_cfg), *jinja = next_part(&p, end, &n_j), *file = next_part(&p, end, &n_f);
    struct vkg_chat_template t;
    if (vkg_chat_template_parse(cfg, n_cfg, jinja, model_type, "tokenizer_config.json", &t) == VKG_OK) {
        render_all(&t);
        if (file && vkg_chat_template_parse_file(file, "template.txt", &t) == VKG_OK) render_all(&t);
        vkg_chat_template_free(&t);
    }
    free(cfg);
    free(jinja);
    free(file);
    return 0;
}
