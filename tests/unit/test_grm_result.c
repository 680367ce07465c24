/* test_grm_result — a judged record's output line, reading it back and
 * re-voting (runtime/gen/grm_result.c).
 *
 * The exact line of the paper's Table 17 example is written out by hand; the
 * result files tests/data/grm/results_{rb,mixed}.jsonl hold votes computed by
 * the Python reference (tests/reference/grm_reference.py: ties broken by its
 * own implementation of the grm_rng.h rule), which the reader recomputes and
 * must agree with, and the expected re-votes with 4 samples and meta_k 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "grm_result.h"
#include "grm_rng.h"

#define DATA VKG_SOURCE_DIR "/tests/data/grm"

static void record(const char *line, uint64_t index, uint64_t line_no, struct vkg_grm_record *rec)
{
    assert_int_equal(vkg_grm_record_parse(line, strlen(line), index, line_no, rec), VKG_OK);
}

/* Table 17 as a result: perms [0,1], [1,0], [1,0]. */
static void table17(struct vkg_grm_result *r, bool keep_text)
{
    struct vkg_grm_record rec;
    record("{\"id\": \"t17\", \"query\": \"Q\", \"responses\": [\"A\", \"B\"], \"label\": 1, \"subset\": \"chat\"}", 0,
           1, &rec);
    assert_int_equal(vkg_grm_result_init(r, &rec, 3, UINT64_MAX), VKG_OK);
    vkg_grm_record_free(&rec);
    static const char *texts[3] = { "Scores: \\boxed{8, 8}", "**Scores: \\boxed{9, 5}**",
                                    "### Output: \\boxed{10, 7}" };
    static const uint32_t tokens[3] = { 250, 300, 280 };
    static const double meta[3] = { -15.7781, 1.3126, 1.6739 };
    for (uint32_t j = 0; j < 3; j++) {
        r->samples[j].perm[0] = j ? 1 : 0;
        r->samples[j].perm[1] = j ? 0 : 1;
        assert_int_equal(vkg_grm_result_set_judgment(r, j, texts[j], strlen(texts[j]), tokens[j], j == 2, keep_text),
                         VKG_OK);
        vkg_grm_result_set_meta(r, j, meta[j]);
    }
    assert_int_equal(vkg_grm_result_vote(r, true, 0), VKG_OK);
}

static const char g_t17_line[] =
    "{\"index\":0,\"id\":\"t17\",\"n\":2,\"k\":3,\"seed\":18446744073709551615,\"valid\":3,\"rewards\":[20,27],"
    "\"best\":1,\"tie\":false,\"status\":\"ok\",\"label\":1,\"correct\":true,\"meta_k\":2,\"meta_rewards\":[12,19],"
    "\"meta_best\":1,\"meta_tie\":false,\"meta_correct\":true,\"subset\":\"chat\",\"samples\":["
    "{\"perm\":[0,1],\"scores\":[8,8],\"reason\":null,\"tokens\":250,\"truncated\":false,\"meta\":-15.7781},"
    "{\"perm\":[1,0],\"scores\":[5,9],\"reason\":null,\"tokens\":300,\"truncated\":false,\"meta\":1.3126},"
    "{\"perm\":[1,0],\"scores\":[7,10],\"reason\":null,\"tokens\":280,\"truncated\":true,\"meta\":1.6739}]}";

static void test_line_exact(void **state)
{
    struct vkg_grm_result r;
    table17(&r, false);
    assert_string_equal(vkg_grm_result_status(&r), "ok");
    char *line;
    assert_int_equal(vkg_grm_result_json(&r, false, &line), VKG_OK);
    assert_string_equal(line, g_t17_line);
    free(line);
    vkg_grm_result_free(&r);
}

static void test_round_trip_with_text(void **state)
{
    struct vkg_grm_result r, back;
    table17(&r, true);
    char *line, *again;
    assert_int_equal(vkg_grm_result_json(&r, true, &line), VKG_OK);
    assert_non_null(strstr(line, "\"text\":\"### Output: \\\\boxed{10, 7}\"}"));
    assert_int_equal(vkg_grm_result_parse(line, strlen(line), &back), VKG_OK);
    assert_true(back.seed == UINT64_MAX);
    assert_int_equal(back.k, 3);
    assert_int_equal(back.meta_k, 2);
    assert_true(back.has_meta);
    assert_string_equal(back.samples[2].text, "### Output: \\boxed{10, 7}");
    assert_true(back.samples[2].truncated);
    assert_int_equal(vkg_grm_result_json(&back, true, &again), VKG_OK);
    assert_string_equal(again, line);
    free(again);
    /* without text the line equals the text-free one */
    assert_int_equal(vkg_grm_result_json(&back, false, &again), VKG_OK);
    assert_string_equal(again, g_t17_line);
    free(again);
    /* re-vote with the first 2 samples: [8+5, 8+9] = [13, 17]; MetaRM keeps 1 (sample 1, 1.3126) */
    assert_int_equal(vkg_grm_result_revote(&back, 2, true, 0), VKG_OK);
    assert_int_equal(back.vote.rewards[0], 13);
    assert_int_equal(back.vote.rewards[1], 17);
    assert_int_equal(back.meta_k, 1);
    assert_int_equal(back.meta_vote.rewards[0], 5);
    assert_int_equal(back.meta_vote.rewards[1], 9);
    assert_int_equal(vkg_grm_result_revote(&back, 3, false, 0), VKG_ERR_INVALID_ARG); /* only 2 left */
    free(line);
    vkg_grm_result_free(&back);
    vkg_grm_result_free(&r);
}

static void test_error_line(void **state)
{
    struct vkg_grm_record rec;
    record("garbage", 4, 9, &rec);
    struct vkg_grm_result r, back;
    assert_int_equal(vkg_grm_result_init(&r, &rec, 8, 1), VKG_OK);
    vkg_grm_record_free(&rec);
    assert_string_equal(vkg_grm_result_status(&r), "error");
    char *line;
    assert_int_equal(vkg_grm_result_json(&r, true, &line), VKG_OK);
    assert_string_equal(line, "{\"index\":4,\"id\":null,\"line\":9,\"status\":\"error\","
                              "\"error\":\"not JSON (syntax error near column 1)\"}");
    assert_int_equal(vkg_grm_result_parse(line, strlen(line), &back), VKG_OK);
    assert_int_equal(back.index, 4);
    assert_int_equal(back.line, 9);
    assert_null(back.id);
    assert_string_equal(back.error, r.error);
    free(line);
    vkg_grm_result_free(&back);
    vkg_grm_result_free(&r);
    record("{\"id\": \"x\", \"query\": \"q\", \"responses\": []}", 5, 10, &rec);
    assert_int_equal(vkg_grm_result_init(&r, &rec, 8, 1), VKG_OK);
    assert_int_equal(vkg_grm_result_json(&r, false, &line), VKG_OK);
    assert_string_equal(line, "{\"index\":5,\"id\":\"x\",\"line\":10,\"status\":\"error\","
                              "\"error\":\"\\\"responses\\\" is empty (at least 1 response is needed)\"}");
    free(line);
    vkg_grm_result_free(&r);
    vkg_grm_record_free(&rec);
}

static void test_no_judgement(void **state)
{
    struct vkg_grm_record rec;
    record("{\"id\": \"nj\", \"query\": \"q\", \"responses\": [\"a\", \"b\"]}", 2, 3, &rec);
    struct vkg_grm_result r;
    assert_int_equal(vkg_grm_result_init(&r, &rec, 2, 42), VKG_OK);
    vkg_grm_record_free(&rec);
    /* the permutations are those of grm_rng.h for (seed 42, id "nj") */
    uint32_t perm[2];
    vkg_grm_permutation(vkg_grm_sample_seed(42, vkg_grm_record_key("nj")), 1, 2, 2, perm);
    assert_memory_equal(perm, r.samples[1].perm, sizeof perm);
    assert_int_equal(vkg_grm_result_set_judgment(&r, 0, "no idea", 7, 5, false, false), VKG_OK);
    assert_int_equal(vkg_grm_result_set_judgment(&r, 1, "\\boxed{1", 8, 1024, true, false), VKG_OK);
    assert_int_equal(vkg_grm_result_set_judgment(&r, 2, "x", 1, 1, false, false), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_grm_result_vote(&r, false, 0), VKG_OK);
    assert_string_equal(vkg_grm_result_status(&r), "no_judgement");
    char *line;
    assert_int_equal(vkg_grm_result_json(&r, false, &line), VKG_OK);
    char want[512];
    snprintf(want, sizeof want,
             "{\"index\":2,\"id\":\"nj\",\"n\":2,\"k\":2,\"seed\":42,\"valid\":0,\"rewards\":null,\"best\":null,"
             "\"tie\":false,\"status\":\"no_judgement\",\"samples\":["
             "{\"perm\":[%u,%u],\"scores\":null,\"reason\":\"no_box\",\"tokens\":5,\"truncated\":false},"
             "{\"perm\":[%u,%u],\"scores\":null,\"reason\":\"truncated\",\"tokens\":1024,\"truncated\":true}]}",
             r.samples[0].perm[0], r.samples[0].perm[1], r.samples[1].perm[0], r.samples[1].perm[1]);
    assert_string_equal(line, want);
    struct vkg_grm_result back;
    assert_int_equal(vkg_grm_result_parse(line, strlen(line), &back), VKG_OK);
    assert_int_equal(back.vote.best, -1);
    assert_int_equal(back.label, -1);
    assert_false(back.has_meta);
    vkg_grm_result_free(&back);
    free(line);
    vkg_grm_result_free(&r);
}

/* Replace the first occurrence of `from` in g_t17_line by `to`; the result must be refused. */
static void expect_refused(const char *from, const char *to, const char *needle)
{
    char line[2048];
    const char *at = strstr(g_t17_line, from);
    assert_non_null(at);
    snprintf(line, sizeof line, "%.*s%s%s", (int)(at - g_t17_line), g_t17_line, to, at + strlen(from));
    struct vkg_grm_result r;
    vkg_error_clear();
    assert_int_equal(vkg_grm_result_parse(line, strlen(line), &r), VKG_ERR_FORMAT);
    if (!strstr(vkg_error_detail(), needle)) fail_msg("'%s' → '%s' lacks '%s'", to, vkg_error_detail(), needle);
    assert_null(r.samples);
}

static void test_reader_refuses(void **state)
{
    struct vkg_grm_result r;
    assert_int_equal(vkg_grm_result_parse(g_t17_line, strlen(g_t17_line), &r), VKG_OK);
    vkg_grm_result_free(&r);
    expect_refused("\"best\":1", "\"best\":0", "\"best\" disagrees");
    expect_refused("\"rewards\":[20,27]", "\"rewards\":[20,28]", "\"rewards\" disagrees");
    expect_refused("\"meta_best\":1", "\"meta_best\":0", "\"meta_best\" disagrees");
    expect_refused("\"valid\":3", "\"valid\":2", "\"valid\" disagrees");
    expect_refused("\"status\":\"ok\"", "\"status\":\"no_judgement\"", "\"status\" disagrees");
    expect_refused("\"perm\":[1,0]", "\"perm\":[1,1]", "not a permutation");
    expect_refused("\"perm\":[1,0]", "\"perm\":[1,0,2]", "\"perm\" must be a list of n integers");
    expect_refused("\"scores\":[5,9]", "\"scores\":[5,11]", "\"scores\" holds a value out of range");
    expect_refused("\"reason\":null,\"tokens\":300", "\"reason\":\"bogus\",\"tokens\":300", "\"reason\"");
    expect_refused("\"reason\":null,\"tokens\":300", "\"reason\":\"no_box\",\"tokens\":300", "\"scores\" must be null");
    expect_refused("\"k\":3", "\"k\":4", "\"samples\" must be a list of k samples");
    expect_refused("\"n\":2", "\"n\":0", "\"n\" out of range");
    expect_refused("\"seed\":18446744073709551615", "\"seed\":18446744073709551616", "\"seed\" must be");
    expect_refused("\"seed\":18446744073709551615", "\"seed\":-1", "\"seed\" must be");
    expect_refused("\"label\":1", "\"label\":2", "\"label\" out of range");
    expect_refused("\"meta_k\":2", "\"meta_k\":4", "\"meta_k\" out of range");
    expect_refused("\"meta\":1.3126", "\"meta\":\"x\"", "\"meta\" must be a number or null");
    expect_refused("\"truncated\":false", "\"truncated\":0", "\"truncated\"");
    expect_refused("\"tokens\":250", "\"tokens\":2.5", "\"tokens\"");
    expect_refused("\"id\":\"t17\"", "\"id\":17", "\"id\" must be a string");
    expect_refused("{\"index\":0", "[{\"index\":0", "not a JSON object");
}

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

/* Every Python-written line reads back (votes and tie-breaks agree), writes
 * back as the same JSON value, and re-votes as Python expects. */
static void check_file(const char *path, const cJSON *expected)
{
    struct vkg_grm_lines l;
    assert_int_equal(vkg_grm_lines_open(path, &l), VKG_OK);
    const cJSON *revote = cJSON_GetObjectItem(expected, "revote");
    int at = 0, judged = 0, with_text = 0;
    for (;;) {
        const char *line;
        size_t len;
        bool eof;
        assert_int_equal(vkg_grm_lines_next(&l, &line, &len, &eof), VKG_OK);
        if (eof) break;
        struct vkg_grm_result r;
        if (vkg_grm_result_parse(line, len, &r) != VKG_OK)
            fail_msg("%s:%llu: %s", path, (unsigned long long)l.line_no, vkg_error_detail());
        char *out;
        assert_int_equal(vkg_grm_result_json(&r, true, &out), VKG_OK);
        cJSON *a = cJSON_Parse(out), *b = cJSON_ParseWithLength(line, len);
        if (!cJSON_Compare(a, b, true))
            fail_msg("%s:%llu: written back as\n%s", path, (unsigned long long)l.line_no, out);
        cJSON_Delete(a);
        cJSON_Delete(b);
        free(out);
        if (!r.error) {
            const cJSON *want = cJSON_GetArrayItem(revote, at++);
            assert_int_equal(cJSON_GetArrayItem(want, 0)->valueint, (int)r.index);
            with_text += r.samples[0].text != NULL;
            assert_int_equal(vkg_grm_result_revote(&r, r.k < 4 ? r.k : 4, r.has_meta, 2), VKG_OK);
            const cJSON *best = cJSON_GetArrayItem(want, 1), *meta = cJSON_GetArrayItem(want, 3);
            if (r.vote.best != (cJSON_IsNull(best) ? -1 : best->valueint) ||
                r.vote.tie != cJSON_IsTrue(cJSON_GetArrayItem(want, 2)) ||
                (r.has_meta && r.meta_vote.best != (cJSON_IsNull(meta) ? -1 : meta->valueint)))
                fail_msg("%s:%llu: re-vote best %d meta %d", path, (unsigned long long)l.line_no, r.vote.best,
                         r.meta_vote.best);
            judged++;
        }
        vkg_grm_result_free(&r);
    }
    vkg_grm_lines_close(&l);
    assert_int_equal(at, cJSON_GetArraySize(revote));
    assert_true(judged >= 60);
    assert_true(with_text >= 20); /* re-parsing texts is exercised */
}

static void test_python_results(void **state)
{
    cJSON *expected = load_json(DATA "/summary_expected.json");
    check_file(DATA "/results_rb.jsonl", cJSON_GetObjectItem(expected, "rb"));
    check_file(DATA "/results_mixed.jsonl", cJSON_GetObjectItem(expected, "mixed"));
    cJSON_Delete(expected);
}

static void test_revote_reparses_text(void **state)
{
    struct vkg_grm_result r;
    table17(&r, true);
    /* a parser-visible change of the stored text changes the re-vote */
    free(r.samples[0].text);
    r.samples[0].text = strdup("\\boxed{1, 10}");
    assert_int_equal(vkg_grm_result_revote(&r, 3, false, 0), VKG_OK);
    assert_int_equal(r.vote.rewards[0], 13);
    assert_int_equal(r.vote.rewards[1], 29);
    assert_false(r.has_meta);
    assert_int_equal(vkg_grm_result_revote(&r, 0, false, 0), VKG_ERR_INVALID_ARG);
    vkg_grm_result_free(&r);
    /* with_meta on a result without MetaRM scores */
    struct vkg_grm_result nm;
    assert_int_equal(vkg_grm_result_parse(g_t17_line, strlen(g_t17_line), &nm), VKG_OK);
    nm.has_meta = false;
    assert_int_equal(vkg_grm_result_revote(&nm, 1, true, 0), VKG_ERR_INVALID_ARG);
    vkg_grm_result_free(&nm);
}

/* Kept text is valid UTF-8 even when the model stopped inside a character. */
static void test_text_made_valid_utf8(void **state)
{
    struct vkg_grm_record rec;
    record("{\"id\": \"u\", \"query\": \"q\", \"responses\": [\"a\", \"b\"]}", 0, 1, &rec);
    struct vkg_grm_result r;
    assert_int_equal(vkg_grm_result_init(&r, &rec, 1, 3), VKG_OK);
    vkg_grm_record_free(&rec);
    static const char text[] = "\xe6\x97\xa5 \\boxed{8, 9}\0x \xff\xe6\x97"; /* 日, NUL, bad byte, cut 日 */
    assert_int_equal(vkg_grm_result_set_judgment(&r, 0, text, sizeof text - 1, 9, true, true), VKG_OK);
    assert_int_equal(r.samples[0].reason, VKG_GRM_VALID);
    assert_string_equal(r.samples[0].text,
                        "\xe6\x97\xa5 \\boxed{8, 9}\xef\xbf\xbdx \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(vkg_grm_result_vote(&r, false, 0), VKG_OK);
    char *line;
    assert_int_equal(vkg_grm_result_json(&r, true, &line), VKG_OK);
    assert_true(vkg_grm_utf8_valid(line, strlen(line)));
    free(line);
    vkg_grm_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_exact),           cmocka_unit_test(test_round_trip_with_text),
        cmocka_unit_test(test_error_line),           cmocka_unit_test(test_no_judgement),
        cmocka_unit_test(test_reader_refuses),       cmocka_unit_test(test_python_results),
        cmocka_unit_test(test_revote_reparses_text), cmocka_unit_test(test_text_made_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
