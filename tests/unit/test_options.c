/* test_options — the tools' option table: values, flags, positionals, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "options.h"

static void test_parse_values(void **state)
{
    const char *model = NULL;
    int64_t n = 0;
    double temp = 1.0;
    int json = 0;
    const struct vkg_option o[] = {
        { "-m", "--model", VKG_OPT_STRING, &model, "DIR", "model" },
        { "-n", "--n-predict", VKG_OPT_INT, &n, "N", "tokens" },
        { NULL, "--temp", VKG_OPT_FLOAT, &temp, "T", "temperature" },
        { NULL, "--json", VKG_OPT_FLAG, &json, NULL, "json" },
    };
    char *argv[] = { "x", "-m", "dir", "--n-predict=32", "pos1", "--temp", "0.5", "--json", "--", "-p", NULL };
    struct vkg_args pos;
    assert_int_equal(vkg_options_parse(o, 4, 10, argv, &pos, "x", "test"), 0);
    assert_string_equal(model, "dir");
    assert_int_equal(n, 32);
    assert_true(temp == 0.5);
    assert_int_equal(json, 1);
    assert_int_equal(pos.count, 2);
    assert_string_equal(pos.items[0], "pos1");
    assert_string_equal(pos.items[1], "-p");
}

static void test_usage_errors(void **state)
{
    int64_t n = 0;
    const struct vkg_option o[] = { { "-n", NULL, VKG_OPT_INT, &n, "N", "tokens" } };
    char *bad_value[] = { "x", "-n", "12abc", NULL };
    assert_int_equal(vkg_options_parse(o, 1, 3, bad_value, NULL, "x", ""), 2);
    char *missing[] = { "x", "-n", NULL };
    assert_int_equal(vkg_options_parse(o, 1, 2, missing, NULL, "x", ""), 2);
    char *unknown[] = { "x", "--nope", NULL };
    assert_int_equal(vkg_options_parse(o, 1, 2, unknown, NULL, "x", ""), 2);
    char *stray[] = { "x", "file", NULL };
    assert_int_equal(vkg_options_parse(o, 1, 2, stray, NULL, "x", ""), 2);
    char *help[] = { "x", "--help", NULL };
    assert_int_equal(vkg_options_parse(o, 1, 2, help, NULL, "x", ""), 1);
}

/* Ranges are enforced while parsing: inclusive and exclusive ends, integer
 * overflow, non-finite and non-decimal text. */
static void test_ranges(void **state)
{
    int64_t k = -7;
    double p = -7;
    const struct vkg_option o[] = {
        { NULL, "--top-k", VKG_OPT_INT, &k, "K", "top-k", VKG_RANGE_CC(0, 100) },
        { NULL, "--top-p", VKG_OPT_FLOAT, &p, "P", "top-p", VKG_RANGE_OC(0, 1) },
    };
    struct {
        const char *flag, *value;
        int rc;
    } cases[] = {
        { "--top-k", "0", 0 },
        { "--top-k", "100", 0 },
        { "--top-k", "-5", 2 },
        { "--top-k", "101", 2 },
        { "--top-k", "9223372036854775808", 2 },
        { "--top-k", "1.5", 2 },
        { "--top-k", " 5", 2 },
        { "--top-k", "0x10", 2 },
        { "--top-k", "", 2 },
        { "--top-p", "1", 0 },
        { "--top-p", "1e-3", 0 },
        { "--top-p", "0", 2 },
        { "--top-p", "2", 2 },
        { "--top-p", "-0.5", 2 },
        { "--top-p", "nan", 2 },
        { "--top-p", "NaN", 2 },
        { "--top-p", "inf", 2 },
        { "--top-p", "1e999", 2 },
        { "--top-p", "0x1p-1", 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[] = { "x", (char *)cases[i].flag, (char *)cases[i].value, NULL };
        int rc = vkg_options_parse(o, 2, 3, argv, NULL, "x", "");
        if (rc != cases[i].rc) fail_msg("%s %s: rc %d, want %d", cases[i].flag, cases[i].value, rc, cases[i].rc);
    }
    char *octal[] = { "x", "--top-k", "010", NULL }; /* decimal, not octal */
    assert_int_equal(vkg_options_parse(o, 2, 3, octal, NULL, "x", ""), 0);
    assert_int_equal(k, 10);
    char *minus[] = { "x", "--top-k=-1", NULL };
    assert_int_equal(vkg_options_parse(o, 2, 2, minus, NULL, "x", ""), 2);
    char *version[] = { "x", "--version", NULL };
    assert_int_equal(vkg_options_parse(o, 2, 2, version, NULL, "x", ""), 1);
}

static void test_device_arg(void **state)
{
    int index;
    const char *name;
    vkg_options_device("1", &index, &name);
    assert_int_equal(index, 1);
    assert_null(name);
    vkg_options_device("llvmpipe", &index, &name);
    assert_int_equal(index, -1);
    assert_string_equal(name, "llvmpipe");
    vkg_options_device("-1", &index, &name); /* not an index: a name no device has */
    assert_int_equal(index, -1);
    assert_string_equal(name, "-1");
    vkg_options_device(NULL, &index, &name);
    assert_int_equal(index, -1);
    assert_null(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_device_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
