/* test_grm_parse — score extraction from GRM judgments (runtime/gen/grm_parse.c).
 * Expected values follow the rules of notes/grm.md §a.7/§b.4 as written in
 * grm_parse.h, worked out by hand for each case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "grm_parse.h"

/* Parse text for n responses and check the reason and, when valid, the scores. */
static void expect(const char *text, uint32_t n, bool truncated, enum vkg_grm_reason reason, const int32_t *want)
{
    struct vkg_grm_scores s;
    enum vkg_grm_reason got = vkg_grm_parse_scores(text, strlen(text), n, truncated, &s);
    if (got != reason || s.reason != reason)
        fail_msg("'%s' (n=%u%s): got %s, want %s", text, n, truncated ? ", truncated" : "", vkg_grm_reason_name(got),
                 vkg_grm_reason_name(reason));
    for (uint32_t i = 0; want && i < n; i++)
        if (s.scores[i] != want[i]) fail_msg("'%s': score %u = %d, want %d", text, i, s.scores[i], want[i]);
}

#define SCORES(...) ((const int32_t[]){ __VA_ARGS__ })

static void test_paper_outputs(void **state)
{
    /* Table 16-18 final lines (notes §a.6) */
    expect("Specific Criteria: ...\nAnalysis: ...\nScores: \\boxed{8, 9}", 2, false, VKG_GRM_VALID, SCORES(8, 9));
    expect("**Scores: \\boxed{8, 8}**", 2, false, VKG_GRM_VALID, SCORES(8, 8));
    expect("### Output: \\boxed{10, 7}\n", 2, false, VKG_GRM_VALID, SCORES(10, 7));
    /* Figure 3 fallback */
    expect("Final Scores: [[2, 4]]", 2, false, VKG_GRM_VALID, SCORES(2, 4));
}

static void test_last_box_wins(void **state)
{
    /* an example box inside a code block, then the final box */
    expect("```latex\n\\boxed{1, 1}\n```\nScores: \\boxed{6, 9}", 2, false, VKG_GRM_VALID, SCORES(6, 9));
    /* text after the last box is ignored, even numbers and brackets */
    expect("Scores: \\boxed{3, 4} (see [1] and [[9, 9]])", 2, false, VKG_GRM_VALID, SCORES(3, 4));
    /* the last box decides even when it is the bad one */
    expect("\\boxed{7, 8} then \\boxed{x, y}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{7, 8} then \\boxed{5}", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
}

static void test_escaped_boxes(void **state)
{
    expect("Scores: \\\\boxed{4, 10}", 2, false, VKG_GRM_VALID, SCORES(4, 10)); /* \\boxed (JSON-escaped) */
    expect("Scores: \\\\\\boxed{2, 3}", 2, false, VKG_GRM_VALID, SCORES(2, 3)); /* \\\boxed */
    expect("Scores: boxed{2, 3}", 2, false, VKG_GRM_NO_BOX, NULL);              /* no backslash: no box */
    expect("Scores: \\boxed 2, 3", 2, false, VKG_GRM_NO_BOX, NULL);             /* no brace */
    /* with \boxed present the [[ ]] fallback is not used */
    expect("\\boxed{} and [[5, 6]]", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
}

static void test_numbers(void **state)
{
    expect("\\boxed{ 7.0 ,\t8.00\n}", 2, false, VKG_GRM_VALID, SCORES(7, 8));
    expect("\\boxed{+3,-1}", 2, false, VKG_GRM_VALID, SCORES(3, 1));  /* clamped up */
    expect("\\boxed{0, 11}", 2, false, VKG_GRM_VALID, SCORES(1, 10)); /* clamped */
    expect("\\boxed{99999999999999999999999, 5}", 2, false, VKG_GRM_VALID, SCORES(10, 5));
    expect("\\boxed{7.5, 8}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{7., 8}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{8/10, 7/10}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{8,, 7}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{8, 7,}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{x, x}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{- 3, 4}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    struct vkg_grm_scores s;
    vkg_grm_parse_scores("\\boxed{0, 5}", 12, 2, false, &s);
    assert_true(s.clamped);
    vkg_grm_parse_scores("\\boxed{1, 10}", 13, 2, false, &s);
    assert_false(s.clamped);
    assert_false(s.fallback);
}

static void test_nested_and_empty(void **state)
{
    /* nested braces end the box at the matching brace; a braced item is not a number */
    expect("\\boxed{\\text{8}, 7}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{{8}, 7} tail}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("\\boxed{}", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
    expect("\\boxed{  \n }", 1, false, VKG_GRM_COUNT_MISMATCH, NULL);
    /* an unclosed last box is no box, and does not allow the fallback */
    expect("[[4, 5]] Scores: \\boxed{4, 5", 2, false, VKG_GRM_NO_BOX, NULL);
}

static void test_counts(void **state)
{
    expect("\\boxed{9}", 1, false, VKG_GRM_VALID, SCORES(9)); /* n = 1 */
    expect("\\boxed{9}", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
    expect("\\boxed{9, 8, 7}", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
    expect("\\boxed{3, 8, 2, 9}", 4, false, VKG_GRM_VALID, SCORES(3, 8, 2, 9)); /* n = 4 */
    expect("\\boxed{3, 8, 2}", 4, false, VKG_GRM_COUNT_MISMATCH, NULL);
    char many[400] = "\\boxed{";
    for (int i = 0; i < 64; i++) strcat(many, i ? ",5" : "5");
    strcat(many, "}");
    struct vkg_grm_scores s;
    assert_int_equal(vkg_grm_parse_scores(many, strlen(many), 64, false, &s), VKG_GRM_VALID);
    assert_int_equal(s.scores[63], 5);
    assert_int_equal(vkg_grm_parse_scores(many, strlen(many), 0, false, &s), VKG_GRM_COUNT_MISMATCH);
    assert_int_equal(vkg_grm_parse_scores(many, strlen(many), 65, false, &s), VKG_GRM_COUNT_MISMATCH);
}

static void test_fallback(void **state)
{
    expect("Final Scores: [[2, 4]] more [[7, 3]]", 2, false, VKG_GRM_VALID, SCORES(7, 3));
    expect("[[ 6 ]]", 1, false, VKG_GRM_VALID, SCORES(6));
    expect("[[2, 4, 5]]", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
    expect("[[A]]", 1, false, VKG_GRM_NOT_A_NUMBER, NULL);
    expect("[2, 4]", 2, false, VKG_GRM_NO_BOX, NULL); /* single brackets: no */
    struct vkg_grm_scores s;
    vkg_grm_parse_scores("[[2, 4]]", 8, 2, false, &s);
    assert_true(s.fallback);
}

static void test_invalid_reasons(void **state)
{
    expect("I like the first one better.", 2, false, VKG_GRM_NO_BOX, NULL);
    expect("", 2, false, VKG_GRM_NO_BOX, NULL);
    expect("\\boxed{5}", 2, false, VKG_GRM_COUNT_MISMATCH, NULL);
    expect("\\boxed{five, six}", 2, false, VKG_GRM_NOT_A_NUMBER, NULL);
    /* truncated: hit the token limit without a valid box ... */
    expect("Analysis: long... Scores: \\boxed{8, ", 2, true, VKG_GRM_TRUNCATED, NULL);
    expect("Analysis: long...", 2, true, VKG_GRM_TRUNCATED, NULL);
    expect("\\boxed{8}", 2, true, VKG_GRM_TRUNCATED, NULL);
    /* ... but a valid box is valid even when truncated */
    expect("Scores: \\boxed{8, 6} and then the model rambled on", 2, true, VKG_GRM_VALID, SCORES(8, 6));
    /* names */
    assert_string_equal(vkg_grm_reason_name(VKG_GRM_VALID), "valid");
    for (int r = 0; r < VKG_GRM_REASON_COUNT; r++)
        assert_int_equal(vkg_grm_reason_from_name(vkg_grm_reason_name((enum vkg_grm_reason)r)), r);
    assert_string_equal(vkg_grm_reason_name(VKG_GRM_NO_BOX), "no_box");
    assert_string_equal(vkg_grm_reason_name(VKG_GRM_COUNT_MISMATCH), "count_mismatch");
    assert_string_equal(vkg_grm_reason_name(VKG_GRM_NOT_A_NUMBER), "not_a_number");
    assert_string_equal(vkg_grm_reason_name(VKG_GRM_TRUNCATED), "truncated");
    assert_int_equal(vkg_grm_reason_from_name("nope"), VKG_GRM_REASON_COUNT);
}

static void test_length_bounded(void **state)
{
    /* the parser reads only len bytes: a box cut by len is unclosed */
    const char *t = "\\boxed{8, 9}";
    struct vkg_grm_scores s;
    assert_int_equal(vkg_grm_parse_scores(t, strlen(t) - 1, 2, false, &s), VKG_GRM_NO_BOX);
    assert_int_equal(vkg_grm_parse_scores(t, 5, 2, false, &s), VKG_GRM_NO_BOX);
    assert_int_equal(vkg_grm_parse_scores(t, 0, 2, false, &s), VKG_GRM_NO_BOX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_outputs),    cmocka_unit_test(test_last_box_wins),
        cmocka_unit_test(test_escaped_boxes),    cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_nested_and_empty), cmocka_unit_test(test_counts),
        cmocka_unit_test(test_fallback),         cmocka_unit_test(test_invalid_reasons),
        cmocka_unit_test(test_length_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
