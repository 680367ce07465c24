/* grm_summary.h — the summary of a GRM scoring run (or of merged shard
 * outputs): counts, invalid samples, accuracy overall / per subset / per
 * RewardBench section, Voting@j and MetaRM@j curves, throughput; written as
 * JSON (--summary), a Markdown report with an SVG plot (--report) and one
 * stderr paragraph.
 *
 *   struct vkg_grm_summary s;
 *   vkg_grm_summary_init(&s);
 *   for each result: VKG_TRY(vkg_grm_summary_add(&s, &res));   // streaming, order-free
 *   s.throughput = (struct vkg_grm_throughput){.set = true, ...};  // by the caller
 *   vkg_grm_summary_json(&s, &json); vkg_grm_summary_markdown(&s, &md); vkg_grm_summary_text(&s, &txt);
 *   vkg_grm_summary_free(&s);
 *
 * Accuracy counts judged records that have a label: correct when the vote's
 * best is the label. A record without a valid sample ("no_judgement") counts
 * as wrong; bad input lines (error records) are not judged and count only as
 * errors. Fractions are in 0..1.
 *
 * RewardBench sections follow the official leaderboard code exactly:
 * allenai/reward-bench, rewardbench/utils.py calculate_scores_per_section()
 * with rewardbench/constants.py EXAMPLE_COUNTS and SUBSET_MAPPING (HEAD of
 * the repository, after commit 6552e93 "Mirror change from leaderboard",
 * which set xstest-should-refuse 154 / xstest-should-respond 250):
 *   section = Σ acc(subset) · EXAMPLE_COUNTS[subset] / Σ EXAMPLE_COUNTS[subset]
 * over the section's subsets present in the data, where acc(subset) is the
 * plain accuracy of that subset. math-prm has EXAMPLE_COUNTS 984 (it has 447
 * prompts, "upweighting to be equal to code": 6 × 164), so in Reasoning PRM
 * Math weighs as much as the six HumanEvalPack subsets together. Unlike the
 * Python code, a section with no subset present is left out (not reported as
 * 0). "rewardbench" = the mean of the four sections, reported only when all
 * four are present (the leaderboard's score without Prior Sets, as the
 * DeepSeek-GRM paper reports "RB"). */
#ifndef VKG_GRM_SUMMARY_H
#define VKG_GRM_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grm_result.h"
#include "status.h"

/* Chat, Chat Hard, Safety, Reasoning. */
#define VKG_GRM_RB_SECTIONS 4

/* Section name i ("Chat", "Chat Hard", "Safety", "Reasoning"). */
const char *vkg_grm_rb_section_name(int i);
/* Section of a RewardBench subset name and its EXAMPLE_COUNTS weight; -1 when
 * the name is not a RewardBench subset. */
int vkg_grm_rb_subset(const char *name, double *weight);
/* Sections from per-subset accuracies (calculate_scores_per_section);
 * present[i] false when no subset of section i is among names. */
void vkg_grm_rb_sections(const char *const *names, const double *acc, size_t n, double sections[VKG_GRM_RB_SECTIONS],
                         bool present[VKG_GRM_RB_SECTIONS]);

struct vkg_grm_subset_stat {
    char *name;
    uint64_t labelled, correct, meta_labelled, meta_correct;
};

/* One point of the accuracy-vs-k curves: sums over labelled records that
 * have at least j samples. */
struct vkg_grm_curve_sum {
    uint32_t j;
    uint64_t records, meta_records;
    double voting, meta; /* sums of per-record Voting@j / MetaRM@j */
};

/* Filled by the caller (the summary only formats them). */
struct vkg_grm_throughput {
    bool set;
    double judgments_per_s;      /* judged records per second of scoring */
    double gen_tokens_per_s;     /* generated tokens per second */
    double prefill_tokens_per_s; /* prompt tokens prefilled per second */
    double load_s;               /* model load time */
    double wall_s;               /* scoring wall time (0 = unknown) */
};

struct vkg_grm_summary {
    uint64_t records;      /* result lines, error lines included */
    uint64_t errors;       /* bad input lines */
    uint64_t judged;       /* records - errors */
    uint64_t no_judgement; /* judged records without a valid sample */
    uint64_t ties;         /* judged records whose vote was a tie */
    uint64_t samples, invalid, invalid_by_reason[VKG_GRM_REASON_COUNT];
    uint64_t tokens; /* generated tokens of all samples */
    uint32_t k_min, k_max, n_min, n_max;
    bool has_meta; /* some record carries MetaRM results */
    uint32_t meta_k_min, meta_k_max;
    uint64_t labelled, correct, meta_labelled, meta_correct;
    struct vkg_grm_subset_stat *subsets; /* unordered; outputs sort by name */
    size_t n_subsets;
    struct vkg_grm_curve_sum *curve; /* ascending j */
    size_t n_curve;
    struct vkg_grm_throughput throughput;
};

void vkg_grm_summary_init(struct vkg_grm_summary *s);
/* Count one result (judged or error). VKG_ERR_NOMEM only. */
enum vkg_status vkg_grm_summary_add(struct vkg_grm_summary *s, const struct vkg_grm_result *r);
void vkg_grm_summary_free(struct vkg_grm_summary *s);

/* Accuracy view (plain or MetaRM-guided). */
struct vkg_grm_accuracy {
    uint64_t labelled; /* 0: no accuracy (no labels) */
    double overall;
    double sections[VKG_GRM_RB_SECTIONS];
    bool has_section[VKG_GRM_RB_SECTIONS];
    bool has_rewardbench; /* all four sections present */
    double rewardbench;   /* their mean */
};
void vkg_grm_summary_accuracy(const struct vkg_grm_summary *s, bool meta, struct vkg_grm_accuracy *out);

/* The summary as a JSON document, ending in "\n":
 *   {"records", "judged", "errors", "no_judgement", "ties", "k", "k_min" (when k varies),
 *    "n_min", "n_max", "samples", "invalid_samples", "invalid_rate",
 *    "invalid_reasons": {"no_box", "count_mismatch", "not_a_number", "truncated"},
 *    "generated_tokens", "mean_tokens",
 *    "accuracy": {"labelled", "overall", "subsets": {name: acc}, "counts": {name: labelled},
 *                 "sections": {"Chat", ...} (RewardBench data only), "rewardbench" (all four)},
 *    "meta_k", "meta_accuracy": {...} (MetaRM only),
 *    "curves": {"j": [...], "records": [...], "voting": [...], "meta": [...] (MetaRM only)},
 *    "throughput": {"judgments_per_s", "generated_tokens_per_s", "prefill_tokens_per_s",
 *                   "load_s", "wall_s"} (when set)}
 * accuracy/curves are absent when no record has a label. */
enum vkg_status vkg_grm_summary_json(const struct vkg_grm_summary *s, char **out);

#endif
