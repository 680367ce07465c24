/* generate.h — batched generation: many prompts, k samples each, in one
 * batch. A prompt is prefilled once; its k samples fork its KV pages (shared,
 * not copied) and decode together, each with its own sampler stream and stop
 * conditions (eos ids, stop strings, max tokens).
 *
 * Sample j of a request draws from vkg_sampler_row(&sampler, j, step): the
 * same seed gives the same tokens whether the samples run together or one by
 * one. */
#ifndef VKG_GENERATE_H
#define VKG_GENERATE_H

#include <signal.h>
#include <stdint.h>

#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

enum vkg_finish { VKG_FINISH_LENGTH, VKG_FINISH_EOS, VKG_FINISH_STOP, VKG_FINISH_INTERRUPTED };

struct vkg_gen_request {
    const int32_t *prompt; /* [n_prompt] token ids */
    uint32_t n_prompt;
    uint32_t n_samples;    /* k >= 1 */
    uint32_t first_sample; /* stream id of sample 0 (j-th sample uses first_sample + j) */
    uint32_t max_tokens;   /* new tokens per sample; 0 = prompt only */
    struct vkg_sampler sampler;
};

struct vkg_gen_sample {
    int32_t *tokens; /* [n] generated ids (malloc'ed), the stop token excluded */
    uint32_t n;
    enum vkg_finish finish;
};

struct vkg_gen_opts {
    const int32_t *eos; /* ids that end a sample */
    uint32_t n_eos;
    const char *const *stop; /* stop strings (need tok), matched on the decoded text */
    uint32_t n_stop;
    const struct vkg_tokenizer *tok;
    uint32_t max_batch_tokens; /* prefill chunk (default 512) */
    /* called after every decode step with tokens generated so far / planned */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    void *user;
    /* host [n_prompt][out_dim] logits of request 0's prompt (prefill), or NULL */
    float *prompt_logits;
    /* Streaming (each optional; i indexes out[]): on_token after a token is
     * appended to sample i (s->tokens[s->n - 1]; not for the eos token that
     * ends it), on_finish once when sample i stops (eos, stop, length or
     * interrupted) with its result complete. Samples of a request with
     * max_tokens 0 get neither. A status other than VKG_OK stops generation
     * and vkg_generate returns it. */
    enum vkg_status (*on_token)(void *user, uint32_t i, const struct vkg_gen_sample *s);
    enum vkg_status (*on_finish)(void *user, uint32_t i, const struct vkg_gen_sample *s);
    void *stream_user;
    /* When *interrupt is nonzero (a SIGINT handler sets it), generation stops
     * before its next decode step: every live sample finishes with
     * VKG_FINISH_INTERRUPTED (on_finish is called for it) and vkg_generate
     * returns VKG_OK with what was generated so far. NULL: never. */
    volatile sig_atomic_t *interrupt;
};

/* out[r * ... ]: results of request r are out + offset, offset = sum of the
 * n_samples before it. Free with vkg_gen_results_free.
 * A drawn token outside [0, out_dim) means the logits of that row were not
 * finite (the sampling kernels write -1 for a NaN row): generation stops with
 * VKG_ERR_FORMAT naming the sample and the step, never accepting it. */
enum vkg_status vkg_generate(struct vkg_model *m, const struct vkg_gen_request *req, uint32_t n_req,
                             const struct vkg_gen_opts *opts, struct vkg_gen_sample *out);
void vkg_gen_results_free(struct vkg_gen_sample *s, uint32_t n);

/* The ids that end a sample: config.json's eos, generation_config.json's
 * (gc may be NULL) and the tokenizer's eos (tok may be NULL), merged without
 * duplicates into out[VKG_GEN_MAX_EOS]; returns how many. */
#define VKG_GEN_MAX_EOS 24
uint32_t vkg_gen_eos_ids(const struct vkg_hf_config *cfg, const struct vkg_generation_config *gc,
                         const struct vkg_tokenizer *tok, int32_t *out);

#endif
