/* grm_score.h — GRM scoring on one device: records in, judged results out.
 *
 * A scorer owns a continuous-batching scheduler (schedule.h) for the judge
 * and, with a MetaRM, a second one in score-only mode. Each record added
 * becomes one scheduler group: its k judge prompts (the template filled with
 * that sample's response order, wrapped in the judge's chat template and
 * tokenized exactly as Hugging Face does) share their common prefix. When the
 * k judgments are back they are parsed (grm_parse.h); with a MetaRM every
 * valid sample's meta prompt (its own response order, its judgment as the
 * assistant turn) is scored in one batched prefill; then the record is voted
 * (grm_vote.h) and comes back from vkg_grm_scorer_poll. Records come back in
 * completion order; the caller restores input order.
 *
 * Everything random about a record derives from (run seed, record id)
 * (grm_rng.h): sample j's permutation and its sampler stream j of
 * vkg_grm_result_sample_seed. So a record's result does not depend on the
 * other records, their order, or the device (up to float rounding between
 * kernels that batch differently).
 *
 *   struct vkg_grm_scorer *sc;
 *   vkg_grm_scorer_create(&judge, meta_or_NULL, &opts, &sc);
 *   vkg_grm_scorer_add(sc, &rec);                      // takes rec over (zeroes it)
 *   while (!vkg_grm_scorer_idle(sc)) {
 *       vkg_grm_scorer_step(sc);                       // or _begin/_end across devices
 *       while (vkg_grm_scorer_poll(sc, &res)) { write(res); vkg_grm_result_free(&res); }
 *   }
 *   vkg_grm_scorer_free(sc);
 */
#ifndef VKG_GRM_SCORE_H
#define VKG_GRM_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "chat_template.h"
#include "grm_prompt.h"
#include "grm_record.h"
#include "grm_result.h"
#include "model.h"
#include "schedule.h"
#include "tokenizer.h"

/* A loaded model with its tokenizer and chat template (all borrowed). */
struct vkg_grm_model {
    struct vkg_model *m;
    struct vkg_tokenizer *tok;
    const struct vkg_chat_template *ct;
    const int32_t *eos; /* ids that end a judgment */
    uint32_t n_eos;
};

struct vkg_grm_scorer_opts {
    uint32_t k;                          /* samples per record (>= 1) */
    uint64_t seed;                       /* run seed */
    float temperature;                   /* sampling temperature of every sample (0: greedy) */
    float top_p;                         /* 1: off */
    uint32_t max_new_tokens;             /* per sample; cut to what the context leaves */
    bool keep_text;                      /* results keep each judgment's text */
    bool enable_thinking;                /* Qwen3 chat templates' switch (true elsewhere) */
    const struct vkg_grm_template *tmpl; /* judge template (NULL: the default) */
    uint32_t meta_k;                     /* MetaRM: samples kept (0: ceil(k/2)) */
    struct vkg_sched_opts sched;         /* judge scheduler (eos filled from the judge model) */
    struct vkg_sched_opts meta_sched;    /* MetaRM scheduler (score_only set here) */
};

/* Counters of one scorer (judge and MetaRM schedulers, records). */
struct vkg_grm_scorer_stats {
    uint64_t records; /* results handed out */
    uint64_t samples; /* judgments generated */
    struct vkg_sched_stats judge, meta;
};

struct vkg_grm_scorer;

enum vkg_status vkg_grm_scorer_create(const struct vkg_grm_model *judge, const struct vkg_grm_model *meta,
                                      const struct vkg_grm_scorer_opts *opts, struct vkg_grm_scorer **out);
void vkg_grm_scorer_free(struct vkg_grm_scorer *sc);
/* Queue a record (taken over: *rec is zeroed). A bad input line (rec->error)
 * or a record whose prompts do not fit the context comes back at once as an
 * error result. Only allocation and tokenizer failures are errors here. */
enum vkg_status vkg_grm_scorer_add(struct vkg_grm_scorer *sc, struct vkg_grm_record *rec);
/* Records added and not yet polled. */
uint32_t vkg_grm_scorer_in_flight(const struct vkg_grm_scorer *sc);
/* No work queued or running (results may still wait in poll). */
bool vkg_grm_scorer_idle(const struct vkg_grm_scorer *sc);
/* One step of each scheduler with work; _begin submits, _end waits and
 * consumes, so scorers on different devices overlap. */
enum vkg_status vkg_grm_scorer_step(struct vkg_grm_scorer *sc);
enum vkg_status vkg_grm_scorer_step_begin(struct vkg_grm_scorer *sc);
enum vkg_status vkg_grm_scorer_step_end(struct vkg_grm_scorer *sc);
/* Takes one finished result (the caller frees it); false when none. */
bool vkg_grm_scorer_poll(struct vkg_grm_scorer *sc, struct vkg_grm_result *out);
void vkg_grm_scorer_stats(const struct vkg_grm_scorer *sc, struct vkg_grm_scorer_stats *out);

/* The chat-wrapped judge prompt of sample j of a record whose result was
 * initialized with vkg_grm_result_init (for --print-prompts and tests). */
enum vkg_status vkg_grm_sample_prompt(const struct vkg_chat_template *ct, bool enable_thinking,
                                      const struct vkg_grm_template *tmpl, const struct vkg_grm_record *rec,
                                      const struct vkg_grm_result *res, uint32_t j, char **out);

#endif
