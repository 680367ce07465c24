/* test_grm_vote — voting, MetaRM filtering, curves and the seeded randomness
 * of GRM scoring (runtime/gen/grm_vote.c, grm_rng.c).
 *
 * References: the DeepSeek-GRM paper's worked examples (Table 17, Fig. 3;
 * notes/grm.md §b.1, §b.3), hand-counted ties and subsets, and the Python
 * implementation of the grm_rng.h definitions (tests/reference/grm_reference.py
 * → tests/data/grm/rng_expected.json). Votes on random data against Python's
 * brute force run in test_grm_summary / test_grm_result. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "grm_rng.h"
#include "grm_vote.h"

/* Sample j: shown order perm (n), judgment text parsed for n responses. */
static void judged(struct vkg_grm_sample *s, const uint32_t *perm, uint32_t n, const char *text)
{
    memset(s, 0, sizeof *s);
    memcpy(s->perm, perm, n * sizeof *perm);
    struct vkg_grm_scores p;
    vkg_grm_parse_scores(text, strlen(text), n, false, &p);
    vkg_grm_sample_set_scores(s, &p, n);
    s->meta = -INFINITY;
}

static void test_table17(void **state)
{
    /* result 1 in the original order, results 2 and 3 with the order reversed */
    static const uint32_t id[2] = { 0, 1 }, rev[2] = { 1, 0 };
    struct vkg_grm_sample s[3];
    judged(&s[0], id, 2, "Scores: \\boxed{8, 8}");
    judged(&s[1], rev, 2, "**Scores: \\boxed{9, 5}**");
    judged(&s[2], rev, 2, "### Output: \\boxed{10, 7}");
    assert_int_equal(s[1].scores[0], 5); /* un-permuted: response 1 got 5 */
    assert_int_equal(s[1].scores[1], 9);
    struct vkg_grm_vote v;
    vkg_grm_vote(s, NULL, 3, 2, 99, &v);
    assert_int_equal(v.rewards[0], 20); /* "Voted Result Response 1: 20; Response 2: 27" */
    assert_int_equal(v.rewards[1], 27);
    assert_int_equal(v.best, 1);
    assert_false(v.tie);
    assert_int_equal(v.used, 3);
    /* MetaRM scores of Table 17: the tied 8/8 result scores -15.7781 */
    s[0].has_meta = s[1].has_meta = s[2].has_meta = true;
    s[0].meta = -15.7781;
    s[1].meta = 1.3126;
    s[2].meta = 1.6739;
    assert_int_equal(vkg_grm_meta_k_default(3), 2);
    assert_int_equal(vkg_grm_meta_vote(s, NULL, 3, 2, 2, 99, &v), VKG_OK);
    assert_int_equal(v.rewards[0], 12);
    assert_int_equal(v.rewards[1], 19);
    assert_int_equal(v.best, 1);
    assert_int_equal(v.used, 2);
}

/* Fig. 3: 4 samples sum to 17/40 vs 25/40; keeping samples 1 and 3 gives 5/20 vs 13/20. */
static void test_fig3_metarm(void **state)
{
    static const uint32_t id[2] = { 0, 1 }, rev[2] = { 1, 0 };
    struct vkg_grm_sample s[4];
    judged(&s[0], id, 2, "\\boxed{2, 7}");
    judged(&s[1], rev, 2, "\\boxed{5, 6}"); /* response 1: 6, response 2: 5 */
    judged(&s[2], rev, 2, "\\boxed{6, 3}"); /* response 1: 3, response 2: 6 */
    judged(&s[3], id, 2, "\\boxed{6, 7}");
    double meta[4] = { 1.9, -3.2, 0.7, -0.4 };
    for (int j = 0; j < 4; j++) {
        s[j].has_meta = true;
        s[j].meta = meta[j];
    }
    struct vkg_grm_vote v;
    vkg_grm_vote(s, NULL, 4, 2, 1, &v);
    assert_int_equal(v.rewards[0], 17);
    assert_int_equal(v.rewards[1], 25);
    uint32_t kept[4];
    assert_int_equal(vkg_grm_meta_select(s, NULL, 4, vkg_grm_meta_k_default(4), kept), 2);
    assert_int_equal(kept[0], 0); /* samples 1 and 3 (1-based) */
    assert_int_equal(kept[1], 2);
    assert_int_equal(vkg_grm_meta_vote(s, NULL, 4, 2, 2, 1, &v), VKG_OK);
    assert_int_equal(v.rewards[0], 5);
    assert_int_equal(v.rewards[1], 13);
    assert_int_equal(v.best, 1);
}

/* MetaRM can overturn the plain vote: two confident bad samples, two good ones. */
static void test_meta_changes_answer(void **state)
{
    static const uint32_t id[2] = { 0, 1 };
    struct vkg_grm_sample s[4];
    judged(&s[0], id, 2, "\\boxed{10, 1}");
    judged(&s[1], id, 2, "\\boxed{10, 1}");
    judged(&s[2], id, 2, "\\boxed{4, 6}");
    judged(&s[3], id, 2, "\\boxed{4, 6}");
    double meta[4] = { -5, -6, 2, 3 };
    for (int j = 0; j < 4; j++) {
        s[j].has_meta = true;
        s[j].meta = meta[j];
    }
    struct vkg_grm_vote v;
    vkg_grm_vote(s, NULL, 4, 2, 1, &v);
    assert_int_equal(v.best, 0); /* 28 vs 14 */
    assert_int_equal(vkg_grm_meta_vote(s, NULL, 4, 2, 2, 1, &v), VKG_OK);
    assert_int_equal(v.best, 1); /* 8 vs 12 */
}

static void test_invalid_dropped(void **state)
{
    static const uint32_t id[3] = { 0, 1, 2 };
    struct vkg_grm_sample s[4];
    judged(&s[0], id, 3, "\\boxed{2, 9, 3}");
    judged(&s[1], id, 3, "no box at all");
    judged(&s[2], id, 3, "\\boxed{1, 1}");
    judged(&s[3], id, 3, "\\boxed{5, 4, 8}");
    assert_int_equal(s[1].reason, VKG_GRM_NO_BOX);
    assert_int_equal(s[2].reason, VKG_GRM_COUNT_MISMATCH);
    struct vkg_grm_vote v;
    vkg_grm_vote(s, NULL, 4, 3, 1, &v);
    assert_int_equal(v.used, 2);
    assert_int_equal(v.rewards[0], 7); /* nothing imputed for the invalid samples */
    assert_int_equal(v.rewards[1], 13);
    assert_int_equal(v.rewards[2], 11);
    assert_int_equal(v.best, 1);
    /* no valid sample: no judgement */
    vkg_grm_vote(s + 1, NULL, 2, 3, 1, &v);
    assert_int_equal(v.best, -1);
    assert_int_equal(v.used, 0);
    assert_false(v.tie);
    /* invalid samples never survive MetaRM selection ahead of valid ones, even with a score */
    s[1].has_meta = true;
    s[1].meta = 100;
    s[0].has_meta = s[3].has_meta = true;
    s[0].meta = -1;
    s[3].meta = NAN; /* a NaN ranks like an invalid sample */
    uint32_t kept[4];
    assert_int_equal(vkg_grm_meta_select(s, NULL, 4, 1, kept), 1);
    assert_int_equal(kept[0], 0);
}

static void test_n1_and_n4(void **state)
{
    static const uint32_t one[1] = { 0 }, p4[4] = { 2, 0, 3, 1 };
    struct vkg_grm_sample s[2];
    judged(&s[0], one, 1, "\\boxed{3}");
    judged(&s[1], one, 1, "\\boxed{7.0}");
    struct vkg_grm_vote v;
    vkg_grm_vote(s, NULL, 2, 1, 5, &v);
    assert_int_equal(v.best, 0);
    assert_int_equal(v.rewards[0], 10);
    assert_false(v.tie);
    /* n = 4 shown as responses 3, 1, 4, 2 */
    judged(&s[0], p4, 4, "\\boxed{3, 8, 2, 9}");
    assert_int_equal(s[0].scores[2], 3);
    assert_int_equal(s[0].scores[0], 8);
    assert_int_equal(s[0].scores[3], 2);
    assert_int_equal(s[0].scores[1], 9);
    vkg_grm_vote(s, NULL, 1, 4, 5, &v);
    assert_int_equal(v.best, 1);
}

static void test_ties_seeded(void **state)
{
    static const uint32_t id[3] = { 0, 1, 2 };
    struct vkg_grm_sample s[2];
    judged(&s[0], id, 3, "\\boxed{9, 4, 7}");
    judged(&s[1], id, 3, "\\boxed{7, 4, 9}"); /* 16, 8, 16: responses 1 and 3 tie */
    int wins[3] = { 0, 0, 0 };
    for (uint64_t seed = 0; seed < 2000; seed++) {
        struct vkg_grm_vote v, again;
        vkg_grm_vote(s, NULL, 2, 3, seed, &v);
        vkg_grm_vote(s, NULL, 2, 3, seed, &again);
        assert_true(v.tie);
        assert_int_equal(v.best, again.best); /* reproducible */
        assert_true(v.best == 0 || v.best == 2);
        wins[v.best]++;
    }
    /* a fair draw: 1000 ± 5 sigma (sigma = 22.4) */
    assert_true(wins[0] > 888 && wins[0] < 1112);
    assert_int_equal(wins[1], 0);
    /* the tie-break is the one of the sample set {0, 1}: the same with an explicit list */
    static const uint32_t both[2] = { 0, 1 };
    struct vkg_grm_vote a, b;
    vkg_grm_vote(s, NULL, 2, 3, 77, &a);
    vkg_grm_vote(s, both, 2, 3, 77, &b);
    assert_int_equal(a.best, b.best);
    /* and equals the documented rule: tied[below(stream(seed, TIE, set_hash), 2)] */
    uint64_t st = vkg_grm_stream(77, VKG_GRM_DOMAIN_TIE, vkg_grm_set_hash(both, 2));
    assert_int_equal(a.best, vkg_grm_below(&st, 2) == 0 ? 0 : 2);
    /* clamping happens before summing */
    judged(&s[0], id, 3, "\\boxed{0, 11, 5}");
    vkg_grm_vote(s, NULL, 1, 3, 1, &a);
    assert_int_equal(a.rewards[0], 1);
    assert_int_equal(a.rewards[1], 10);
}

static void test_meta_ranking_rules(void **state)
{
    struct vkg_grm_sample s[5];
    static const uint32_t id[2] = { 0, 1 };
    for (int j = 0; j < 5; j++) {
        judged(&s[j], id, 2, "\\boxed{5, 6}");
        s[j].has_meta = true;
    }
    s[0].meta = 1.0;
    s[1].meta = 3.0;
    s[2].meta = 1.0;
    s[3].meta = 3.0;
    s[4].meta = 2.0;
    uint32_t kept[5];
    /* equal scores: lower sample index first → top 3 = {1, 3, 4}; top 4 adds 0 (before 2) */
    assert_int_equal(vkg_grm_meta_select(s, NULL, 5, 3, kept), 3);
    assert_int_equal(kept[0], 1);
    assert_int_equal(kept[1], 3);
    assert_int_equal(kept[2], 4);
    assert_int_equal(vkg_grm_meta_select(s, NULL, 5, 4, kept), 4);
    assert_int_equal(kept[0], 0);
    assert_int_equal(vkg_grm_meta_select(s, NULL, 5, 9, kept), 5);
    static const uint32_t sub[3] = { 0, 2, 4 };
    assert_int_equal(vkg_grm_meta_select(s, sub, 3, 2, kept), 2);
    assert_int_equal(kept[0], 0);
    assert_int_equal(kept[1], 4);
    assert_int_equal(vkg_grm_meta_k_default(1), 1);
    assert_int_equal(vkg_grm_meta_k_default(2), 1);
    assert_int_equal(vkg_grm_meta_k_default(8), 4);
    assert_int_equal(vkg_grm_meta_k_default(32), 16);
}

static void test_curve_shape(void **state)
{
    uint32_t js[VKG_GRM_CURVE_MAX_POINTS];
    assert_int_equal(vkg_grm_curve_js(1, js), 1);
    assert_int_equal(js[0], 1);
    assert_int_equal(vkg_grm_curve_js(8, js), 4);
    assert_int_equal(js[3], 8);
    assert_int_equal(vkg_grm_curve_js(12, js), 5);
    assert_int_equal(js[3], 8);
    assert_int_equal(js[4], 12);
    assert_int_equal(vkg_grm_curve_js(32, js), 6);
    assert_int_equal(vkg_grm_curve_meta_keep(8, 32, 16), 4);
    assert_int_equal(vkg_grm_curve_meta_keep(1, 32, 16), 1);
    assert_int_equal(vkg_grm_curve_meta_keep(32, 32, 16), 16);
    /* odd k with the default meta_k = ceil(5/2) = 3: ceil(j/2) */
    assert_int_equal(vkg_grm_curve_meta_keep(2, 5, 3), 1);
    assert_int_equal(vkg_grm_curve_meta_keep(3, 5, 3), 2);
    assert_int_equal(vkg_grm_curve_meta_keep(4, 5, 3), 2);
    assert_int_equal(vkg_grm_curve_meta_keep(5, 5, 3), 3);
    /* a chosen meta_k: proportional, meta_k at j = k */
    assert_int_equal(vkg_grm_curve_meta_keep(4, 8, 1), 1);
    assert_int_equal(vkg_grm_curve_meta_keep(2, 5, 4), 2);
    assert_int_equal(vkg_grm_curve_meta_keep(4, 5, 4), 4);
    assert_int_equal(vkg_grm_curve_meta_keep(5, 5, 4), 4);
    assert_int_equal(vkg_grm_curve_meta_keep(8, 32, 8), 2);
}

/* Hand-counted curve: 3 samples, label 0. Sample 0 right (9 vs 2), sample 1
 * wrong (2 vs 9), sample 2 invalid. Voting@1: 1 of 3 singletons right.
 * Voting@2: {0,1} ties 11/11 (seeded draw), {0,2} right, {1,2} wrong. */
static void test_curve_hand_counted(void **state)
{
    static const uint32_t id[2] = { 0, 1 };
    struct vkg_grm_sample s[3];
    judged(&s[0], id, 2, "\\boxed{9, 2}");
    judged(&s[1], id, 2, "\\boxed{2, 9}");
    judged(&s[2], id, 2, "nothing");
    double v, m;
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 1, 2, &v, NULL), VKG_OK);
    assert_true(fabs(v - 1.0 / 3.0) < 1e-15);
    static const uint32_t pair[2] = { 0, 1 };
    struct vkg_grm_vote tie;
    vkg_grm_vote(s, pair, 2, 2, 11, &tie);
    assert_true(tie.tie);
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 2, 2, &v, NULL), VKG_OK);
    assert_true(fabs(v - (1.0 + (tie.best == 0)) / 3.0) < 1e-15);
    /* Voting@k is the full vote */
    struct vkg_grm_vote full;
    vkg_grm_vote(s, NULL, 3, 2, 11, &full);
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 3, 2, &v, &m), VKG_OK);
    assert_true(v == (full.best == 0 ? 1.0 : 0.0));
    /* MetaRM@1 keeps the single sample: same as Voting@1 */
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 1, 2, &v, &m), VKG_OK);
    assert_true(fabs(m - v) < 1e-15);
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 4, 2, &v, NULL), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_grm_curve_point(s, 3, 2, 11, 0, 0, 2, &v, NULL), VKG_ERR_INVALID_ARG);
}

static uint64_t u64(const cJSON *o, const char *key)
{
    return strtoull(cJSON_GetObjectItem(o, key)->valuestring, NULL, 10);
}

static void test_rng_matches_python(void **state)
{
    FILE *f = fopen(VKG_SOURCE_DIR "/tests/data/grm/rng_expected.json", "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *cases = cJSON_Parse(buf);
    assert_non_null(cases);
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *id = cJSON_GetObjectItem(c, "id")->valuestring;
        uint32_t k = (uint32_t)cJSON_GetObjectItem(c, "k")->valueint,
                 rn = (uint32_t)cJSON_GetObjectItem(c, "n")->valueint;
        uint64_t key = vkg_grm_record_key(id), ss = vkg_grm_sample_seed(u64(c, "seed"), key);
        assert_true(key == u64(c, "key"));
        assert_true(ss == u64(c, "sample_seed"));
        const cJSON *p;
        uint32_t j = 0;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "perms"))
        {
            uint32_t perm[VKG_GRM_MAX_RESPONSES];
            vkg_grm_permutation(ss, j, k, rn, perm);
            for (uint32_t i = 0; i < rn; i++)
                if ((int)perm[i] != cJSON_GetArrayItem(p, (int)i)->valueint)
                    fail_msg("id '%s' sample %u: perm[%u] = %u, Python %d", id, j, i, perm[i],
                             cJSON_GetArrayItem(p, (int)i)->valueint);
            j++;
        }
        count++;
    }
    assert_int_equal(count, 6);
    cJSON_Delete(cases);
}

/* Permutations: k = 1 is the identity; otherwise each n! order appears evenly. */
static void test_permutation_statistics(void **state)
{
    uint32_t perm[VKG_GRM_MAX_RESPONSES];
    vkg_grm_permutation(123, 0, 1, 5, perm);
    for (uint32_t i = 0; i < 5; i++) assert_int_equal(perm[i], i);
    int count[6] = { 0 };
    for (uint32_t j = 0; j < 6000; j++) {
        vkg_grm_permutation(vkg_grm_sample_seed(9, vkg_grm_record_key("r")), j, 8, 3, perm);
        count[perm[0] * 2 + (perm[1] > perm[2])]++;
    }
    for (int i = 0; i < 6; i++) /* 1000 ± 5 sigma (sigma = 28.9) */
        assert_true(count[i] > 855 && count[i] < 1145);
    /* the same (seed, id, j) gives the same order, another id another one */
    uint32_t a[8], b[8], c[8];
    vkg_grm_permutation(vkg_grm_sample_seed(1, vkg_grm_record_key("x")), 3, 8, 8, a);
    vkg_grm_permutation(vkg_grm_sample_seed(1, vkg_grm_record_key("x")), 3, 8, 8, b);
    vkg_grm_permutation(vkg_grm_sample_seed(1, vkg_grm_record_key("y")), 3, 8, 8, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table17),
        cmocka_unit_test(test_fig3_metarm),
        cmocka_unit_test(test_meta_changes_answer),
        cmocka_unit_test(test_invalid_dropped),
        cmocka_unit_test(test_n1_and_n4),
        cmocka_unit_test(test_ties_seeded),
        cmocka_unit_test(test_meta_ranking_rules),
        cmocka_unit_test(test_curve_shape),
        cmocka_unit_test(test_curve_hand_counted),
        cmocka_unit_test(test_rng_matches_python),
        cmocka_unit_test(test_permutation_statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
