/* schedule.h — continuous batching: many groups of k samples (one group per
 * GRM record: its k judge prompts) stream through one model. Each step runs
 * one forward pass over the next token of every running sample plus a chunk
 * of prompt tokens of newly admitted groups, samples on the GPU and retires
 * finished samples at once, so new groups are admitted as soon as the KV pool
 * has room.
 *
 * Prompt sharing. The k prompts of a group are tokenized whole (exact HF
 * tokens); the scheduler prefills their longest common token prefix once
 * (the "root"), forks it (vkg_kv_seq_fork: pages shared, not copied) into
 * one "node" per distinct prompt that prefills the rest of that prompt but
 * its last token, and forks each node into its samples. A sample's first
 * step feeds the last prompt token itself, so every sampled row of a step is
 * a sample's own token: no logits are copied. Across groups, the first
 * group's root is kept as a prefix cache: later roots fork its longest
 * common prefix (the judge template's preamble) instead of prefilling it.
 *
 * Memory. The KV pool is sized once (vkg_sched_opts.kv_tokens). Groups are
 * admitted while the pool has room for their prompt tree plus a page per
 * sample. When a running sample needs a page and none is free, the newest
 * group's samples are paused (their pages freed; their tokens kept); a paused
 * sample resumes later by forking its node again and prefilling the tokens
 * it had generated. A sample draws token t from (group seed, sample index j,
 * t) whatever happened to its batch, so pausing changes no token (up to
 * float rounding between the prefill and decode kernels).
 *
 *   struct vkg_sched *s;
 *   vkg_sched_create(model, &opts, &s);
 *   vkg_sched_add(s, &group);                 // any number, any time
 *   while (!vkg_sched_idle(s)) {
 *       vkg_sched_step(s);                    // or _begin / _end around another device's step
 *       while (vkg_sched_poll(s, &done)) { ...use done.samples...; vkg_sched_done_free(&done); }
 *   }
 *   vkg_sched_free(s);
 */
#ifndef VKG_SCHEDULE_H
#define VKG_SCHEDULE_H

#include <signal.h>
#include <stdint.h>

#include "generate.h"
#include "model.h"
#include "sampler.h"

struct vkg_sched_opts {
    const int32_t *eos; /* ids that end a sample (copied) */
    uint32_t n_eos;
    uint32_t max_running;     /* samples decoding at once (default 64) */
    uint32_t max_step_tokens; /* tokens per forward step, decode + prefill (default 512) */
    uint32_t ctx;             /* tokens per sequence: prompt + generated (default: the model's
                                    max_position_embeddings, at most 32768) */
    uint32_t kv_tokens;       /* KV pool size in tokens per layer (default: what fits one binding
                                    and 1/4 of the device heap, at most max_running * ctx) */
    int no_prefix_cache;      /* 1: no cross-group prefix cache (tests) */
    int score_only;           /* 1: no sampling; each sample ends after its prompt and returns
                                    the logits (or classifier scores) of its last prompt token */
};

struct vkg_sched_group {
    uint64_t user;                 /* caller's tag, returned with the result */
    uint32_t k;                    /* samples, >= 1 */
    const int32_t *const *prompts; /* [k] token ids (copied) */
    const uint32_t *n_prompt;      /* [k] lengths, each >= 1 */
    struct vkg_sampler sampler;    /* sample j draws stream j of sampler.seed */
    uint32_t max_tokens;           /* new tokens per sample (>= 1; ignored with score_only) */
};

/* A finished group: its samples in order j = 0..k-1. */
struct vkg_sched_done {
    uint64_t user;
    uint32_t k;
    struct vkg_gen_sample *samples; /* [k]: tokens (stop token excluded), n, finish */
    float *logits;                  /* score_only: [k][out_dim] of each prompt's last token, else NULL */
    enum vkg_status status;         /* VKG_OK, or why the group could not run (message in error) */
    char *error;                    /* NULL when status == VKG_OK */
};

struct vkg_sched_stats {
    uint64_t steps;
    uint64_t prompt_tokens;     /* tokens of all prompts of all samples (what naive prefill would run) */
    uint64_t prefill_tokens;    /* prompt tokens actually run (shared prefixes once) */
    uint64_t cached_tokens;     /* prompt tokens taken from the cross-group prefix cache */
    uint64_t decode_tokens;     /* sampled tokens */
    uint64_t recomputed_tokens; /* tokens prefilled again after a pause */
    uint64_t pauses;            /* samples paused for lack of KV pages */
    uint32_t kv_tokens;         /* pool size */
    uint32_t peak_running;
};

struct vkg_sched;

enum vkg_status vkg_sched_create(struct vkg_model *m, const struct vkg_sched_opts *opts, struct vkg_sched **out);
void vkg_sched_free(struct vkg_sched *s);
/* Queues a group (prompts copied). A group that can never run (a prompt plus
 * max_tokens beyond ctx, or more than the whole pool) is not an error here: it
 * comes back from vkg_sched_poll with status VKG_ERR_LIMIT and a message. */
enum vkg_status vkg_sched_add(struct vkg_sched *s, const struct vkg_sched_group *g);
/* Groups queued or running. */
uint32_t vkg_sched_pending(const struct vkg_sched *s);
int vkg_sched_idle(const struct vkg_sched *s);
/* One step: forks, admissions, a forward pass and the draws (submitted and
 * waited). _begin records and submits, _end waits and consumes, so that steps
 * of schedulers on different devices overlap. */
enum vkg_status vkg_sched_step(struct vkg_sched *s);
enum vkg_status vkg_sched_step_begin(struct vkg_sched *s);
enum vkg_status vkg_sched_step_end(struct vkg_sched *s);
/* Takes one finished group (in completion order); 0 when none. */
int vkg_sched_poll(struct vkg_sched *s, struct vkg_sched_done *out);
void vkg_sched_done_free(struct vkg_sched_done *d);
const struct vkg_sched_stats *vkg_sched_stats(const struct vkg_sched *s);
/* Samples currently decoding, tokens sampled so far (for progress bars). */
uint32_t vkg_sched_running(const struct vkg_sched *s);

#endif
