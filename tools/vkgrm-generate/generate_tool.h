/* generate_tool.h — the parts of vkgrm-generate: flags (main.c), the prompt
 * (prompt.c) and the streamed output (stream.c). */
#ifndef VKG_GENERATE_TOOL_H
#define VKG_GENERATE_TOOL_H

#include <stdint.h>

#include "generate.h"
#include "hf_config.h"
#include "tokenizer.h"

struct args {
    const char *model, *prompt, *file, *prompts, *device, *weights, *prompt_ids, *dump, *system, *stop, *tmpl,
        *tmpl_file;
    int64_t n_predict, ctx, top_k, seed, n_samples;
    double temp, top_p, min_p;
    int chat, json, no_think, mem_stats;
};

/* One prompt as token ids. */
struct prompt {
    int32_t *ids;
    uint32_t n;
};

/* Every prompt's ids: --prompt-ids, the text of -p or -f, or each line of
 * --prompts (the chat template applied with --chat). Errors are usage errors
 * of the prompt (exit 2). Free with prompts_free. */
enum vkg_status prompts_load(const struct args *a, const struct vkg_hf_config *cfg, struct vkg_tokenizer *tok,
                             struct prompt **out, size_t *n);
void prompts_free(struct prompt *p, size_t n);

/* Streamed output: one sample's text as it is generated, or one JSON line
 * per sample as soon as it finishes (--json or --n-samples > 1). */
struct stream {
    const struct vkg_tokenizer *tok;
    int jsonl;         /* JSON lines instead of text */
    int64_t prompt;    /* "prompt_index" of the lines (--prompts), -1: none */
    size_t printed;    /* text mode: bytes of the decoded text already printed */
    uint32_t finished; /* samples whose output is complete */
};

enum vkg_status stream_on_token(void *user, uint32_t i, const struct vkg_gen_sample *s);
enum vkg_status stream_on_finish(void *user, uint32_t i, const struct vkg_gen_sample *s);

#endif
