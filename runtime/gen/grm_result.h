/* grm_result.h — one judged record: its samples, votes, output JSON line, and
 * reading such lines back (--revote, --merge, --resume).
 *
 * Life of a result in the scorer:
 *   vkg_grm_result_init(&res, &rec, k, seed);         // perms of the k samples
 *   for each sample j: prompt with res.samples[j].perm, generate, then
 *       vkg_grm_result_set_judgment(&res, j, text, len, tokens, truncated, keep_text);
 *   (MetaRM) for each valid sample j: vkg_grm_result_set_meta(&res, j, score);
 *   vkg_grm_result_vote(&res, with_meta, meta_k);     // meta_k 0 = ceil(k/2)
 *   vkg_grm_result_json(&res, keep_text, &line);      // write line + "\n"
 *   vkg_grm_result_free(&res);
 * A bad input line becomes an error result: vkg_grm_result_init on a record
 * with rec->error set gives one (status "error"); write it the same way.
 *
 * Output line (keys in this order; absent where marked):
 *   {"index": record index, "id": string, "n": responses, "k": samples,
 *    "seed": run seed, "valid": valid samples,
 *    "rewards": [sum per response, original order] | null (no valid sample),
 *    "best": index | null, "tie": bool, "status": "ok" | "no_judgement",
 *    "label": index, "correct": bool                  (only when labelled),
 *    "meta_k": kept, "meta_rewards": [...] | null, "meta_best": index | null,
 *    "meta_tie": bool, "meta_correct": bool          (only with MetaRM; meta_correct only when labelled),
 *    "subset": string                                 (only when the input had one),
 *    "samples": [{"perm": [original index shown at position 1, 2, ...],
 *                 "scores": [original order] | null, "reason": null | "no_box" |
 *                 "count_mismatch" | "not_a_number" | "truncated",
 *                 "tokens": generated tokens, "truncated": bool,
 *                 "meta": number | null (with MetaRM; null = invalid sample, -inf),
 *                 "text": judgment (only with keep_text)}, ...]}
 * Error line: {"index", "id": string | null, "line": input line, "status": "error", "error": reason}.
 * Integers are written exactly (seed and index as 64-bit). */
#ifndef VKG_GRM_RESULT_H
#define VKG_GRM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grm_record.h"
#include "grm_vote.h"
#include "status.h"

struct vkg_grm_result {
    uint64_t index;                 /* record index in the input */
    char *id;                       /* NULL only for an error line whose id could not be read */
    uint64_t line;                  /* input line (written for error lines) */
    char *error;                    /* error line: why; NULL for a judged record */
    uint32_t n, k;                  /* responses, samples */
    uint64_t seed;                  /* run seed (the record's randomness: vkg_grm_result_sample_seed) */
    int32_t label;                  /* -1 when the input had none */
    char *subset;                   /* NULL when absent */
    struct vkg_grm_sample *samples; /* [k] */
    struct vkg_grm_vote vote;       /* plain vote over all k samples */
    bool has_meta;                  /* MetaRM scores present, meta_vote valid */
    uint32_t meta_k;
    struct vkg_grm_vote meta_vote;
};

/* Start the result of record rec with k ≥ 1 samples and run seed `seed`:
 * copies id, label, subset, n; computes every sample's permutation. For a
 * record with rec->error, an error result (no samples). */
enum vkg_status vkg_grm_result_init(struct vkg_grm_result *r, const struct vkg_grm_record *rec, uint32_t k,
                                    uint64_t seed);
/* vkg_grm_sample_seed(seed, vkg_grm_record_key(id)). */
uint64_t vkg_grm_result_sample_seed(const struct vkg_grm_result *r);
/* Parse sample j's judgment (text[0..len)) and store its scores in original
 * order; keep a copy of the text when keep_text (invalid UTF-8 and NUL bytes
 * replaced by U+FFFD, so the output line is valid JSON text). */
enum vkg_status vkg_grm_result_set_judgment(struct vkg_grm_result *r, uint32_t j, const char *text, size_t len,
                                            uint32_t tokens, bool truncated, bool keep_text);
/* MetaRM score of sample j (ignored in the vote when the sample is invalid). */
void vkg_grm_result_set_meta(struct vkg_grm_result *r, uint32_t j, double score);
/* Plain vote, and the MetaRM vote when with_meta (meta_k 0 = ceil(k/2), clamped to k). */
enum vkg_status vkg_grm_result_vote(struct vkg_grm_result *r, bool with_meta, uint32_t meta_k);
/* "ok", "no_judgement" or "error". */
const char *vkg_grm_result_status(const struct vkg_grm_result *r);
/* The output line, without "\n" (malloc'd). "text" per sample when keep_text
 * and the sample has one. */
enum vkg_status vkg_grm_result_json(const struct vkg_grm_result *r, bool keep_text, char **line);

/* Read one output line back (judged or error form). The votes are recomputed
 * from the samples; a line whose stored valid/rewards/best disagree with its
 * samples is refused. VKG_ERR_FORMAT naming the field on a bad line. */
enum vkg_status vkg_grm_result_parse(const char *line, size_t len, struct vkg_grm_result *r);
/* Re-vote a read-back result with its first k_new samples (1 ≤ k_new ≤ k):
 * samples that have text are parsed again (so a parser change applies),
 * the others keep their stored scores; then vote as vkg_grm_result_vote
 * (with_meta needs MetaRM scores in the result). */
enum vkg_status vkg_grm_result_revote(struct vkg_grm_result *r, uint32_t k_new, bool with_meta, uint32_t meta_k);
void vkg_grm_result_free(struct vkg_grm_result *r);

#endif
