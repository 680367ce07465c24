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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
