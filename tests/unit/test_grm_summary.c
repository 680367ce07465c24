/* test_grm_summary — the summary of GRM results (runtime/gen/grm_summary.c,
 * grm_report.c) against tests/reference/grm_reference.py: accuracy per
 * subset and RewardBench section as allenai/reward-bench's
 * calculate_scores_per_section computes it (every real subset name, a
 * non-RewardBench subset, unlabelled records, bad lines, records without
 * judgement), Voting@j / MetaRM@j by Python brute-force enumeration or the
 * specified seeded subsets, on random data (tests/data/grm/results_*.jsonl,
 * summary_expected.json). */
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

#include "grm_report.h"
#include "grm_summary.h"

#define DATA VKG_SOURCE_DIR "/tests/data/grm"
#define TOL 1e-12

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    assert_non_null(j);
    return j;
}

static void close_to(const char *what, double got, double want)
{
    if (!(fabs(got - want) <= TOL)) fail_msg("%s: %.17g, Python %.17g", what, got, want);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    if (!cJSON_IsNumber(v)) fail_msg("expected: no number '%s'", key);
    return v->valuedouble;
}

/* All results of a file, in file order or reversed (the summary must not care). */
static void summarise(const char *path, bool reverse, struct vkg_grm_summary *s)
{
    struct vkg_grm_result rs[128];
    size_t n = 0;
    struct vkg_grm_lines l;
    assert_int_equal(vkg_grm_lines_open(path, &l), VKG_OK);
    for (;;) {
        const char *line;
        size_t len;
        bool eof;
        assert_int_equal(vkg_grm_lines_next(&l, &line, &len, &eof), VKG_OK);
        if (eof) break;
        assert_true(n < 128);
        if (vkg_grm_result_parse(line, len, &rs[n++]) != VKG_OK)
            fail_msg("%s:%llu: %s", path, (unsigned long long)l.line_no, vkg_error_detail());
    }
    vkg_grm_lines_close(&l);
    vkg_grm_summary_init(s);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vkg_grm_summary_add(s, &rs[reverse ? n - 1 - i : i]), VKG_OK);
        vkg_grm_result_free(&rs[reverse ? n - 1 - i : i]);
    }
}

static void check_accuracy(const struct vkg_grm_summary *s, bool meta, const cJSON *want)
{
    struct vkg_grm_accuracy a;
    vkg_grm_summary_accuracy(s, meta, &a);
    assert_true(a.labelled > 0);
    close_to("overall", a.overall, num(want, "overall"));
    const cJSON *sections = cJSON_GetObjectItem(want, "sections");
    int present = 0;
    for (int i = 0; i < VKG_GRM_RB_SECTIONS; i++) {
        const cJSON *w = cJSON_GetObjectItem(sections, vkg_grm_rb_section_name(i));
        assert_int_equal(a.has_section[i], w != NULL);
        if (w) {
            close_to(vkg_grm_rb_section_name(i), a.sections[i], w->valuedouble);
            present++;
        }
    }
    assert_int_equal(present, cJSON_GetArraySize(sections));
    const cJSON *rb = cJSON_GetObjectItem(want, "rewardbench");
    assert_int_equal(a.has_rewardbench, rb != NULL);
    if (rb) close_to("rewardbench", a.rewardbench, rb->valuedouble);
    /* per subset */
    const cJSON *sub;
    int nsub = 0;
    cJSON_ArrayForEach(sub, cJSON_GetObjectItem(want, "subsets"))
    {
        const struct vkg_grm_subset_stat *st = NULL;
        for (size_t i = 0; i < s->n_subsets; i++)
            if (!strcmp(s->subsets[i].name, sub->string)) st = &s->subsets[i];
        assert_non_null(st);
        uint64_t l = meta ? st->meta_labelled : st->labelled, c = meta ? st->meta_correct : st->correct;
        close_to(sub->string, (double)c / (double)l, sub->valuedouble);
        assert_int_equal(l, (uint64_t)num(cJSON_GetObjectItem(want, "counts"), sub->string));
        nsub++;
    }
    assert_true(nsub > 0);
}

static void check_summary(const struct vkg_grm_summary *s, const cJSON *e)
{
    assert_int_equal(s->records, (uint64_t)num(e, "records"));
    assert_int_equal(s->errors, (uint64_t)num(e, "errors"));
    assert_int_equal(s->judged, (uint64_t)num(e, "judged"));
    assert_int_equal(s->no_judgement, (uint64_t)num(e, "no_judgement"));
    assert_int_equal(s->ties, (uint64_t)num(e, "ties"));
    assert_int_equal(s->samples, (uint64_t)num(e, "samples"));
    assert_int_equal(s->invalid, (uint64_t)num(e, "invalid"));
    assert_int_equal(s->tokens, (uint64_t)num(e, "tokens"));
    const cJSON *reasons = cJSON_GetObjectItem(e, "reasons");
    for (int r = 1; r < VKG_GRM_REASON_COUNT; r++)
        assert_int_equal(s->invalid_by_reason[r], (uint64_t)num(reasons, vkg_grm_reason_name((enum vkg_grm_reason)r)));
    assert_int_equal(s->labelled, (uint64_t)num(e, "labelled"));
    assert_int_equal(s->correct, (uint64_t)num(e, "correct"));
    assert_int_equal(s->meta_labelled, (uint64_t)num(e, "meta_labelled"));
    assert_int_equal(s->meta_correct, (uint64_t)num(e, "meta_correct"));
    check_accuracy(s, false, cJSON_GetObjectItem(e, "accuracy"));
    check_accuracy(s, true, cJSON_GetObjectItem(e, "meta_accuracy"));
    const cJSON *c = cJSON_GetObjectItem(e, "curves");
    assert_int_equal(s->n_curve, (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(c, "j")));
    for (size_t i = 0; i < s->n_curve; i++) {
        const struct vkg_grm_curve_sum *p = &s->curve[i];
        char what[64];
        assert_int_equal(p->j, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "j"), (int)i)->valueint);
        assert_int_equal(p->records, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "records"), (int)i)->valueint);
        snprintf(what, sizeof what, "Voting@%u", p->j);
        close_to(what, p->voting / (double)p->records,
                 cJSON_GetArrayItem(cJSON_GetObjectItem(c, "voting"), (int)i)->valuedouble);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "meta"), (int)i);
        assert_int_equal(p->meta_records > 0, !cJSON_IsNull(m));
        snprintf(what, sizeof what, "MetaRM@%u", p->j);
        if (p->meta_records) close_to(what, p->meta / (double)p->meta_records, m->valuedouble);
    }
}

static void test_rewardbench_file(void **state)
{
    cJSON *expected = load_json(DATA "/summary_expected.json");
    const cJSON *e = cJSON_GetObjectItem(expected, "rb");
    struct vkg_grm_summary s;
    summarise(DATA "/results_rb.jsonl", false, &s);
    check_summary(&s, e);
    /* all 23 subsets present: four sections and the RewardBench mean; Voting@k = plain accuracy */
    struct vkg_grm_accuracy a;
    vkg_grm_summary_accuracy(&s, false, &a);
    assert_true(a.has_rewardbench);
    assert_int_equal(s.n_curve, 4);
    close_to("Voting@8 = accuracy", s.curve[3].voting / (double)s.curve[3].records,
             (double)s.correct / (double)s.labelled);
    close_to("MetaRM@8 = meta accuracy", s.curve[3].meta / (double)s.curve[3].meta_records,
             (double)s.meta_correct / (double)s.meta_labelled);
    vkg_grm_summary_free(&s);
    summarise(DATA "/results_rb.jsonl", true, &s); /* order does not matter */
    check_summary(&s, e);
    vkg_grm_summary_free(&s);
    cJSON_Delete(expected);
}

static void test_mixed_file(void **state)
{
    cJSON *expected = load_json(DATA "/summary_expected.json");
    struct vkg_grm_summary s;
    summarise(DATA "/results_mixed.jsonl", false, &s);
    check_summary(&s, cJSON_GetObjectItem(expected, "mixed"));
    assert_int_equal(s.k_min, 1);
    assert_int_equal(s.k_max, 16);
    vkg_grm_summary_free(&s);
    cJSON_Delete(expected);
}

/* Hand-computed leaderboard weighting. */
static void test_rb_weights(void **state)
{
    double w;
    assert_int_equal(vkg_grm_rb_subset("math-prm", &w), 3);
    assert_true(w == 984);
    assert_int_equal(vkg_grm_rb_subset("xstest-should-refuse", &w), 2);
    assert_true(w == 154);
    assert_int_equal(vkg_grm_rb_subset("xstest-should-respond", &w), 2);
    assert_true(w == 250);
    assert_int_equal(vkg_grm_rb_subset("mt-bench-hard", &w), 1);
    assert_int_equal(vkg_grm_rb_subset("mt-bench-med", &w), 0);
    assert_int_equal(vkg_grm_rb_subset("anthropic_helpful", &w), -1);
    /* math right 0 %, all code 100 %: (6·164) / (984 + 6·164) = 0.5 */
    const char *names[] = { "math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust", "other" };
    double acc[] = { 0, 1, 1, 1, 1, 1, 1, 0.25 };
    double sec[VKG_GRM_RB_SECTIONS];
    bool present[VKG_GRM_RB_SECTIONS];
    vkg_grm_rb_sections(names, acc, 8, sec, present);
    assert_false(present[0] || present[1] || present[2]);
    assert_true(present[3]);
    assert_true(sec[3] == 0.5);
    /* Chat with two subsets: (1.0·100 + 0.5·28) / 128 */
    const char *chat[] = { "alpacaeval-easy", "mt-bench-easy" };
    double cacc[] = { 1.0, 0.5 };
    vkg_grm_rb_sections(chat, cacc, 2, sec, present);
    assert_true(present[0]);
    close_to("Chat", sec[0], 114.0 / 128.0);
}

static void test_outputs(void **state)
{
    struct vkg_grm_summary s;
    summarise(DATA "/results_rb.jsonl", false, &s);
    s.throughput = (struct vkg_grm_throughput){ true, 1.25, 456.5, 7890.25, 12.5, 70.0 };
    char *json;
    assert_int_equal(vkg_grm_summary_json(&s, &json), VKG_OK);
    assert_int_equal(json[strlen(json) - 1], '\n');
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct vkg_grm_accuracy a;
    vkg_grm_summary_accuracy(&s, false, &a);
    const cJSON *acc = cJSON_GetObjectItem(j, "accuracy");
    assert_true(num(acc, "overall") == a.overall); /* shortest repr reads back exactly */
    assert_true(num(cJSON_GetObjectItem(acc, "sections"), "Chat Hard") == a.sections[1]);
    assert_true(num(acc, "rewardbench") == a.rewardbench);
    assert_true(num(cJSON_GetObjectItem(acc, "counts"), "custom|subset") >= 2);
    assert_non_null(cJSON_GetObjectItem(j, "meta_accuracy"));
    assert_int_equal((int)num(j, "meta_k"), 4);
    assert_int_equal((int)num(j, "records"), 90);
    assert_true(num(j, "invalid_rate") == (double)s.invalid / (double)s.samples);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "curves"), "meta")), 4);
    assert_true(num(cJSON_GetObjectItem(j, "throughput"), "prefill_tokens_per_s") == 7890.25);
    assert_non_null(strstr(json, "\"overall\":\t0.") || strstr(json, "\"overall\": 0.") ? json : NULL);
    cJSON_Delete(j);
    free(json);

    char *md, *txt, *svg;
    assert_int_equal(vkg_grm_report_markdown(&s, &md), VKG_OK);
    assert_non_null(strstr(md, "# GRM scoring report"));
    assert_non_null(strstr(md, "## RewardBench sections"));
    assert_non_null(strstr(md, "| **RewardBench** (mean of the four) |"));
    assert_non_null(strstr(md, "| custom\\|subset |")); /* escaped table cell */
    assert_non_null(strstr(md, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(md, "| 8 | 84 |"));
    char cell[64];
    snprintf(cell, sizeof cell, "| accuracy | %.2f %% of 84 labelled |", 100.0 * a.overall);
    assert_non_null(strstr(md, cell));
    free(md);
    assert_int_equal(vkg_grm_report_svg(&s, &svg), VKG_OK);
    int polylines = 0, circles = 0;
    for (const char *p = svg; (p = strstr(p, "<polyline")); p++) polylines++;
    for (const char *p = svg; (p = strstr(p, "<circle")); p++) circles++;
    assert_int_equal(polylines, 2); /* Voting and MetaRM */
    assert_int_equal(circles, 8);   /* 4 points each */
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    assert_int_equal(vkg_grm_report_text(&s, &txt), VKG_OK);
    snprintf(cell, sizeof cell, "accuracy of 84 labelled %.1f%% (Chat ", 100.0 * a.overall);
    assert_non_null(strstr(txt, cell));
    assert_non_null(strstr(txt, "90 records (2 bad lines, 4 without judgement), 704 samples at k = 8"));
    assert_non_null(strstr(txt, "1.250 judgments/s"));
    assert_int_equal(txt[strlen(txt) - 1], '\n');
    assert_null(strchr(txt, '\n') != txt + strlen(txt) - 1 ? "one line" : NULL);
    free(txt);
    vkg_grm_summary_free(&s);
}

static void test_empty_and_unlabelled(void **state)
{
    struct vkg_grm_summary s;
    vkg_grm_summary_init(&s);
    char *json, *md, *txt;
    assert_int_equal(vkg_grm_summary_json(&s, &json), VKG_OK);
    cJSON *j = cJSON_Parse(json);
    assert_int_equal((int)num(j, "records"), 0);
    assert_null(cJSON_GetObjectItem(j, "accuracy"));
    assert_null(cJSON_GetObjectItem(j, "curves"));
    assert_null(cJSON_GetObjectItem(j, "throughput"));
    cJSON_Delete(j);
    free(json);
    assert_int_equal(vkg_grm_report_markdown(&s, &md), VKG_OK);
    assert_null(strstr(md, "<svg"));
    free(md);
    assert_int_equal(vkg_grm_report_text(&s, &txt), VKG_OK);
    assert_non_null(strstr(txt, "0 records"));
    free(txt);
    vkg_grm_summary_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewardbench_file),     cmocka_unit_test(test_mixed_file),
        cmocka_unit_test(test_rb_weights),           cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_empty_and_unlabelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
