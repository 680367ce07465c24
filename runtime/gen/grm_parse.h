/* grm_parse.h — scores out of a GRM judgment (notes/grm.md §a.7, §b.4).
 *
 * Rules, in order:
 *  1. The box: the LAST occurrence of "\boxed{" (one or two backslashes
 *     before "boxed" both match, as does any longer run). Its content runs to
 *     the matching "}" counting nested braces, so "\boxed{\text{8}, 7}" has
 *     the content "\text{8}, 7". Text after the box is ignored. A last box
 *     that never closes counts as no box (it is not a value), and the fallback
 *     below is still not used, because a box was started.
 *  2. Fallback, ONLY when the text has no "boxed{" preceded by a backslash at
 *     all: the content of the last "[[" ... "]]" pair ("Final Scores: [[2, 4]]").
 *  3. The content is split on ","; every item, with surrounding whitespace
 *     (space, tab, CR, LF) removed, must be an integer: optional "+" or "-",
 *     decimal digits, optionally "." followed by zeros only ("7", " 7.0 ",
 *     "-1", "12.00"). Anything else — "7.5", "8/10", "\text{8}", an empty
 *     item as in "8,,7" or "8, 7," — makes the sample not_a_number.
 *     An empty or all-whitespace box has 0 values (count_mismatch for n ≥ 1).
 *  4. Exactly n values are required, else count_mismatch.
 *  5. Each value is clamped to 1..10 (huge values saturate first).
 *  6. A sample that hit its token limit and has no valid scores is
 *     "truncated" whatever the other reason; a truncated sample with a valid
 *     box is valid.
 * Invalid samples are dropped from the vote, never imputed. */
#ifndef VKG_GRM_PARSE_H
#define VKG_GRM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grm_record.h"

enum vkg_grm_reason {
    VKG_GRM_VALID = 0,
    VKG_GRM_NO_BOX,
    VKG_GRM_COUNT_MISMATCH,
    VKG_GRM_NOT_A_NUMBER,
    VKG_GRM_TRUNCATED,
    VKG_GRM_REASON_COUNT
};

/* "valid", "no_box", "count_mismatch", "not_a_number", "truncated". */
const char *vkg_grm_reason_name(enum vkg_grm_reason r);
/* Inverse of vkg_grm_reason_name; VKG_GRM_REASON_COUNT when unknown. */
enum vkg_grm_reason vkg_grm_reason_from_name(const char *name);

struct vkg_grm_scores {
    enum vkg_grm_reason reason;
    bool fallback;                         /* the values came from "[[...]]" */
    bool clamped;                          /* at least one value was outside 1..10 */
    int32_t scores[VKG_GRM_MAX_RESPONSES]; /* [n], in the order the judge saw the responses (valid only) */
};

/* Parse text[0..len) for n responses (1 ≤ n ≤ VKG_GRM_MAX_RESPONSES); `truncated`: the sample
 * stopped at its token limit. Returns out->reason. */
enum vkg_grm_reason vkg_grm_parse_scores(const char *text, size_t len, uint32_t n, bool truncated,
                                         struct vkg_grm_scores *out);

#endif
