/* test_json — loaders/json.c against Python's json module on the corpus in
 * tests/data/json/ (expected.json is written by tests/reference/json_reference.py;
 * it is read here with cJSON's own parser, independent of the code under test). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>

#include "file.h"
#include "json.h"

#define CORPUS VKG_SOURCE_DIR "/tests/data/json"

/* Python accepts these; json.h says why we do not. */
static const char *const differ[] = {
    "differ_nan.json",
    "differ_infinity.json",
    "differ_neg_infinity.json",
    "differ_u0000.json",
    "differ_lone_high_surrogate.json",
    "differ_lone_low_surrogate.json",
};

static int is_differ(const char *name)
{
    for (size_t i = 0; i < sizeof differ / sizeof *differ; i++)
        if (!strcmp(differ[i], name)) return 1;
    return 0;
}

static int num_equal(const cJSON *want, const cJSON *got)
{
    const cJSON *nf = cJSON_GetObjectItemCaseSensitive(want, "__nonfinite__");
    if (cJSON_IsObject(want) && cJSON_IsString(nf) && cJSON_IsNumber(got)) {
        double g = got->valuedouble;
        if (!strcmp(nf->valuestring, "inf")) return isinf(g) && g > 0;
        if (!strcmp(nf->valuestring, "-inf")) return isinf(g) && g < 0;
        return 0;
    }
    return cJSON_IsNumber(want) && cJSON_IsNumber(got) && want->valuedouble == got->valuedouble;
}

/* Same value; object members in the same order with the same keys. */
static int tree_equal(const cJSON *want, const cJSON *got, char *where, size_t cap)
{
    if (num_equal(want, got)) return 1;
    if ((want->type & 0xFF) != (got->type & 0xFF)) {
        snprintf(where, cap, "type %d vs %d (key %s)", want->type & 0xFF, got->type & 0xFF,
                 got->string ? got->string : "-");
        return 0;
    }
    if (cJSON_IsString(want) && strcmp(want->valuestring, got->valuestring)) {
        snprintf(where, cap, "string '%s' vs '%s'", want->valuestring, got->valuestring);
        return 0;
    }
    if (cJSON_IsNumber(want)) {
        snprintf(where, cap, "number %.17g vs %.17g", want->valuedouble, got->valuedouble);
        return 0;
    }
    const cJSON *a = want->child, *b = got->child;
    for (; a && b; a = a->next, b = b->next) {
        if (cJSON_IsObject(want) && strcmp(a->string, b->string)) {
            snprintf(where, cap, "member '%s' vs '%s'", a->string, b->string);
            return 0;
        }
        if (!tree_equal(a, b, where, cap)) return 0;
    }
    if (a || b) snprintf(where, cap, "member count differs (key %s)", want->string ? want->string : "-");
    return !a && !b;
}

static cJSON *load_expected(void)
{
    char *text;
    size_t len;
    assert_int_equal(vkg_file_read(CORPUS "/expected.json", 1 << 24, &text, &len), VKG_OK);
    cJSON *e = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(e);
    return e;
}

static void test_corpus_matches_python(void **state)
{
    cJSON *exp = load_expected();
    int n = 0, failures = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, exp)
    {
        char path[512], where[512] = "";
        snprintf(path, sizeof path, CORPUS "/%s", c->string);
        char *text;
        size_t len;
        assert_int_equal(vkg_file_read(path, 1 << 20, &text, &len), VKG_OK);
        cJSON *got = NULL;
        enum vkg_status s = vkg_json_parse(text, len, c->string, 0, &got);
        int py_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "python_ok"));
        int ok;
        if (is_differ(c->string)) /* Python accepts, we refuse with a message */
            ok = py_ok && s == VKG_ERR_FORMAT && strstr(vkg_error_detail(), "not supported");
        else if (!py_ok) ok = s == VKG_ERR_FORMAT && !strncmp(vkg_error_detail(), c->string, strlen(c->string));
        else ok = s == VKG_OK && tree_equal(cJSON_GetObjectItemCaseSensitive(c, "value"), got, where, sizeof where);
        if (!ok) {
            failures++;
            fprintf(stderr, "FAIL %s: python %s, ours %s (%s) %s\n", c->string, py_ok ? "accepts" : "refuses",
                    vkg_status_name(s), s ? vkg_error_detail() : "", where);
        }
        cJSON_Delete(got);
        free(text);
        n++;
    }
    /* every corpus file has an expectation */
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) files += strstr(e->d_name, ".json") && strcmp(e->d_name, "expected.json");
    closedir(d);
    fprintf(stderr, "json corpus: %d cases, %d failures\n", n, failures);
    assert_int_equal(files, n);
    assert_true(n >= 60);
    assert_int_equal(failures, 0);
    cJSON_Delete(exp);
}

static void test_messages(void **state)
{
    cJSON *j = NULL;
    const char *t = "{\n  \"a\": 1,\n  \"b\" 2\n}";
    assert_int_equal(vkg_json_parse(t, strlen(t), "dir/config.json", 0, &j), VKG_ERR_FORMAT);
    assert_null(j);
    assert_string_equal(
        vkg_error_detail(),
        "dir/config.json is not valid JSON: expected ':' after a member name at line 3 column 7 (byte 18)");
    t = "{\"a\": 1} }";
    assert_int_equal(vkg_json_parse(t, strlen(t), "x.json", 0, &j), VKG_ERR_FORMAT);
    assert_string_equal(
        vkg_error_detail(),
        "x.json is not valid JSON: extra data after the JSON value (1 bytes) at line 1 column 10 (byte 9)");
    /* NUL bytes inside the given length are data, not an end */
    assert_int_equal(vkg_json_parse("{}\0{}", 5, "nul.json", 0, &j), VKG_ERR_FORMAT);
    assert_int_equal(vkg_json_parse("\"a\0b\"", 5, "nul.json", 0, &j), VKG_ERR_FORMAT);
    assert_non_null(strstr(vkg_error_detail(), "control character 0x00"));
}

static void test_duplicates(void **state)
{
    const char *t = "{\"a\": 1, \"b\": 2, \"a\": {\"c\": 3}}";
    cJSON *j = NULL;
    /* kept: both members are there; vkg_json_get sees the last */
    assert_int_equal(vkg_json_parse(t, strlen(t), "t", VKG_JSON_KEEP_DUPLICATES, &j), VKG_OK);
    assert_int_equal(cJSON_GetArraySize(j), 3);
    assert_true(cJSON_IsObject(vkg_json_get(j, "a")));
    assert_null(vkg_json_get(j, "A")); /* case-sensitive, unlike cJSON_GetObjectItem */
    cJSON_Delete(j);
    /* merged: one member, the last value, at the first position */
    assert_int_equal(vkg_json_parse(t, strlen(t), "t", 0, &j), VKG_OK);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    assert_string_equal(j->child->string, "a");
    assert_true(cJSON_IsObject(j->child));
    assert_string_equal(j->child->next->string, "b");
    assert_ptr_equal(j->child->next->next, NULL);
    assert_ptr_equal(j->child->prev, j->child->next); /* cJSON keeps the tail in child->prev */
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_matches_python),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
