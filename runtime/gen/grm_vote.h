/* grm_vote.h — voting over k sampled judgments (notes/grm.md §b.1, §b.3).
 *
 * Plain vote: each valid sample's scores, already un-permuted to the original
 * response order, are summed; best = argmax of the sums. When several
 * responses share the top sum, `tie` is set and best is drawn among them by
 * the seeded tie-break of grm_rng.h (a function of the record's sample seed
 * and of the SET of samples voted, so the same set always breaks the same
 * way, whatever order or run it comes from). No valid sample → best = -1
 * ("no_judgement"). Invalid samples are dropped, never imputed.
 *
 * MetaRM-guided vote: of the samples considered, keep the top `keep` by meta
 * score (higher first; equal scores: lower sample index first; an invalid
 * sample or a NaN score counts as -inf), then vote over the kept ones exactly
 * as above. Default keep for k samples: ceil(k/2) (the paper's k_meta = k/2).
 *
 * Voting@j / MetaRM@j (accuracy curves): for a record with label L, the mean
 * over subsets of j of its k samples of [vote(subset).best == L]. All C(k, j)
 * subsets when C(k, j) ≤ VKG_GRM_CURVE_SUBSETS, else VKG_GRM_CURVE_SUBSETS
 * seeded random subsets (grm_rng.h, domain SUBSET). Each subset is voted
 * exactly like the full vote, so Voting@k is the plain accuracy. MetaRM@j
 * keeps ceil(j/2) of the subset when meta_k is the default ceil(k/2) (the
 * paper's k_meta = k/2), else ceil(j · meta_k / k); both give meta_k at
 * j = k, so MetaRM@k is the meta-guided accuracy. */
#ifndef VKG_GRM_VOTE_H
#define VKG_GRM_VOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "grm_parse.h"
#include "grm_record.h"
#include "status.h"

/* Most subsets averaged per curve point (exact enumeration up to this many). */
#define VKG_GRM_CURVE_SUBSETS 512
/* Most points of a curve: j = 1, 2, 4, ..., 2^31 and k. */
#define VKG_GRM_CURVE_MAX_POINTS 34

/* One sampled judgment of a record. */
struct vkg_grm_sample {
    uint32_t perm[VKG_GRM_MAX_RESPONSES];  /* [n] shown position → original response index */
    int32_t scores[VKG_GRM_MAX_RESPONSES]; /* [n] ORIGINAL order, 1..10; valid samples only */
    enum vkg_grm_reason reason;            /* VKG_GRM_VALID or why the sample is dropped */
    uint32_t tokens;                       /* generated tokens */
    bool truncated;                        /* stopped at the token limit */
    bool has_meta;                         /* meta holds a MetaRM score */
    double meta;                           /* MetaRM score (valid samples; -inf otherwise) */
    char *text;                            /* the judgment text, owned; NULL when not kept */
};

struct vkg_grm_vote {
    int32_t best;                           /* original index of the best response; -1: none valid */
    bool tie;                               /* the top sum was shared; best came from the tie-break */
    uint32_t used;                          /* valid samples summed */
    int64_t rewards[VKG_GRM_MAX_RESPONSES]; /* [n] sums of the valid samples' scores */
};

/* Store a parse result (scores in shown order) into s, un-permuting by s->perm. */
void vkg_grm_sample_set_scores(struct vkg_grm_sample *s, const struct vkg_grm_scores *parsed, uint32_t n);

/* Vote over samples[which[0..m)] (which ascending; NULL = all of 0..m). */
void vkg_grm_vote(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m, uint32_t n,
                  uint64_t sample_seed, struct vkg_grm_vote *out);
/* ceil(k/2), at least 1. */
uint32_t vkg_grm_meta_k_default(uint32_t k);
/* The top `keep` of samples[which[0..m)] by meta score (see above), written to
 * kept[] in ascending sample order; returns their number (min(keep, m)). */
uint32_t vkg_grm_meta_select(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m, uint32_t keep,
                             uint32_t *kept);
/* meta_select then vote over the kept samples. VKG_ERR_NOMEM only. */
enum vkg_status vkg_grm_meta_vote(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m,
                                  uint32_t keep, uint32_t n, uint64_t sample_seed, struct vkg_grm_vote *out);

/* The curve's j values for k samples: 1, 2, 4, ... below k, then k. Returns the count. */
uint32_t vkg_grm_curve_js(uint32_t k, uint32_t js[VKG_GRM_CURVE_MAX_POINTS]);
/* Samples kept by MetaRM@j: ceil(j/2) for the default meta_k, else
 * ceil(j · meta_k / k); at least 1. */
uint32_t vkg_grm_curve_meta_keep(uint32_t j, uint32_t k, uint32_t meta_k);
/* Voting@j (and MetaRM@j when meta != NULL) of one record with label `label`:
 * the fraction of subsets whose vote is correct. */
enum vkg_status vkg_grm_curve_point(const struct vkg_grm_sample *samples, uint32_t k, uint32_t n, uint64_t sample_seed,
                                    int32_t label, uint32_t j, uint32_t meta_k, double *voting, double *meta);

#endif
