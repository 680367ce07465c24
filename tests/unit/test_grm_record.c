/* test_grm_record — the GRM JSONL input reader (loaders/grm_record.c): both
 * record forms, every class of bad line, duplicate keys, ids written as
 * Python's json.dumps writes numbers (expected strings made by Python:
 * tests/data/grm/number_ids.json), CRLF, BOM, blank lines, huge lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "grm_record.h"

static void parse(const char *line, struct vkg_grm_record *r)
{
    assert_int_equal(vkg_grm_record_parse(line, strlen(line), 3, 7, r), VKG_OK);
}

/* A line must be refused with a reason containing `needle`. */
static void expect_bad(const char *line, const char *needle)
{
    struct vkg_grm_record r;
    assert_int_equal(vkg_grm_record_parse(line, strlen(line), 0, 1, &r), VKG_OK);
    if (!r.error) fail_msg("accepted: %s", line);
    if (!strstr(r.error, needle)) fail_msg("'%s': reason '%s' lacks '%s'", line, r.error, needle);
    assert_null(strchr(r.error, '\n'));
    assert_int_equal(r.n_responses, 0);
    assert_null(r.responses);
    assert_null(r.messages);
    vkg_grm_record_free(&r);
}

static void test_native(void **state)
{
    struct vkg_grm_record r;
    parse("{\"id\": \"a1\", \"query\": \"Q?\", \"responses\": [\"x\", \"y\", \"z\"], \"label\": 2, \"subset\": \"s\"}",
          &r);
    assert_null(r.error);
    assert_int_equal(r.index, 3);
    assert_int_equal(r.line, 7);
    assert_string_equal(r.id, "a1");
    assert_int_equal(r.n_messages, 1);
    assert_string_equal(r.messages[0].role, "user");
    assert_string_equal(r.messages[0].content, "Q?");
    assert_int_equal(r.n_responses, 3);
    assert_string_equal(r.responses[2], "z");
    assert_int_equal(r.label, 2);
    assert_string_equal(r.subset, "s");
    vkg_grm_record_free(&r);

    parse("{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U1\"},"
          " {\"role\": \"assistant\", \"content\": \"A1\"}, {\"role\": \"user\", \"content\": \"U2\"}],"
          " \"responses\": [\"r\"], \"label\": null, \"subset\": null, \"id\": null}",
          &r);
    assert_null(r.error);
    assert_string_equal(r.id, "3"); /* absent/null id: the record index */
    assert_int_equal(r.n_messages, 4);
    assert_string_equal(r.messages[0].role, "system");
    assert_string_equal(r.messages[2].role, "assistant");
    assert_string_equal(r.messages[3].content, "U2");
    assert_null(r.messages[3].reasoning);
    assert_int_equal(r.label, -1);
    assert_null(r.subset);
    vkg_grm_record_free(&r);
}

static void test_rewardbench(void **state)
{
    struct vkg_grm_record r;
    parse("{\"id\": 17, \"prompt\": \"P\", \"chosen\": \"good\", \"rejected\": \"bad\", \"subset\": \"hep-go\","
          " \"chosen_model\": \"m1\", \"label\": 1}",
          &r);
    assert_null(r.error);
    assert_string_equal(r.id, "17");
    assert_int_equal(r.n_responses, 2);
    assert_string_equal(r.responses[0], "good");
    assert_string_equal(r.responses[1], "bad");
    assert_int_equal(r.label, 0); /* RewardBench: chosen is best, whatever "label" says */
    assert_string_equal(r.subset, "hep-go");
    assert_string_equal(r.messages[0].content, "P");
    vkg_grm_record_free(&r);
    /* prompt as a list of messages, and query as a synonym */
    parse("{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}], \"chosen\": \"a\", \"rejected\": \"b\"}", &r);
    assert_null(r.error);
    assert_int_equal(r.n_messages, 1);
    vkg_grm_record_free(&r);
}

static void test_duplicate_keys_last_wins(void **state)
{
    struct vkg_grm_record r;
    parse("{\"id\": \"first\", \"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": 5, \"label\": 1,"
          " \"id\": \"second\", \"subset\": 3, \"subset\": \"ok\"}",
          &r);
    assert_null(r.error);
    assert_string_equal(r.id, "second");
    assert_int_equal(r.label, 1);
    assert_string_equal(r.subset, "ok");
    vkg_grm_record_free(&r);
    parse("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": -0}", &r);
    assert_int_equal(r.label, 0); /* json.loads("-0") == 0 */
    vkg_grm_record_free(&r);
    /* inside messages too, and a key spelled with an escape is the same key */
    parse("{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\", \"role\": \"user\"}], \"responses\": [\"a\"],"
          " \"\\u0069d\": 12.50}",
          &r);
    assert_null(r.error);
    assert_string_equal(r.messages[0].role, "user");
    assert_string_equal(r.id, "12.5");
    vkg_grm_record_free(&r);
    assert_null(r.id); /* freed and zeroed */
}

static void test_number_ids_like_python(void **state)
{
    FILE *f = fopen(VKG_SOURCE_DIR "/tests/data/grm/number_ids.json", "rb");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *cases = cJSON_Parse(buf);
    assert_non_null(cases);
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *raw = cJSON_GetArrayItem(c, 0)->valuestring, *want = cJSON_GetArrayItem(c, 1)->valuestring;
        char line[256];
        snprintf(line, sizeof line, "{\"id\": %s, \"query\": \"q\", \"responses\": [\"a\"]}", raw);
        struct vkg_grm_record r;
        parse(line, &r);
        if (r.error || strcmp(r.id, want))
            fail_msg("id %s: got '%s' (%s), Python writes '%s'", raw, r.id ? r.id : "(null)", r.error ? r.error : "",
                     want);
        vkg_grm_record_free(&r);
        count++;
    }
    assert_true(count >= 30);
    cJSON_Delete(cases);
}

static void test_bad_lines(void **state)
{
    expect_bad("not json", "not JSON");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\"]", "not JSON");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\"]} {}", "data after the JSON value at column 36");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\"]} x", "data after");
    expect_bad("[1, 2]", "not a JSON object");
    expect_bad("\"text\"", "not a JSON object");
    expect_bad("{\"responses\": [\"a\"]}", "missing the conversation");
    expect_bad("{\"query\": \"q\"}", "missing \"responses\"");
    expect_bad("{\"query\": \"q\", \"responses\": []}", "at least 1 response");
    expect_bad("{\"query\": \"q\", \"responses\": \"a\"}", "\"responses\" must be a list of strings, not a string");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", 5]}", "\"responses\"[1] must be a string, not a number");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", null]}", "not null");
    expect_bad("{\"query\": 5, \"responses\": [\"a\"]}", "\"query\" must be a string or a list of messages");
    expect_bad("{\"query\": \"q\", \"prompt\": \"p\", \"responses\": [\"a\"]}", "both \"query\" and \"prompt\"");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\"], \"chosen\": \"c\"}", "use one form");
    expect_bad("{\"prompt\": \"q\", \"chosen\": \"c\"}", "missing \"rejected\"");
    expect_bad("{\"prompt\": \"q\", \"chosen\": \"c\", \"rejected\": 1}", "\"rejected\" must be a string");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": 2}", "\"label\" 2 is out of range for 2");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": -1}", "out of range");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": 1.0}",
               "must be an integer index, not 1.0");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": \"0\"}", "not a string");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": true}", "not a boolean");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\", \"b\"], \"label\": 99999999999999999999}", "out of range");
    expect_bad("{\"messages\": [], \"responses\": [\"a\"]}", "empty list of messages");
    expect_bad(
        "{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"a\"}],"
        " \"responses\": [\"a\"]}",
        "the last message must be from the user, not the assistant");
    expect_bad("{\"messages\": [{\"role\": \"critic\", \"content\": \"u\"}], \"responses\": [\"a\"]}",
               "unknown role \"critic\"");
    expect_bad("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}], \"responses\": [\"a\"]}",
               "\"content\" must be a string, not an array");
    expect_bad("{\"messages\": [{\"role\": \"user\"}], \"responses\": [\"a\"]}",
               "\"content\" must be a string, not missing");
    expect_bad("{\"messages\": [\"hi\"], \"responses\": [\"a\"]}", "must be an object");
    expect_bad("{\"query\": \"q\", \"responses\": [\"a\"], \"subset\": 3}", "\"subset\" must be a string");
    expect_bad("{\"id\": [1], \"query\": \"q\", \"responses\": [\"a\"]}", "\"id\" must be a string or a number");
    expect_bad("{\"query\": \"a\\u0000b\", \"responses\": [\"a\"]}", "\\u0000");
    expect_bad("{\"query\": \"a\tb\", \"responses\": [\"a\"]}", "raw control character inside a string");
    expect_bad("{\"query\": \"q\",\x01 \"responses\": [\"a\"]}", "control character outside a string");
    expect_bad("{\"query\": \"\xff\", \"responses\": [\"a\"]}", "invalid UTF-8");
    expect_bad("{\"query\": \"\xed\xa0\x80\", \"responses\": [\"a\"]}", "invalid UTF-8"); /* a surrogate */
    expect_bad("{\"query\": \"\xc0\xaf\", \"responses\": [\"a\"]}", "invalid UTF-8");     /* overlong */
    expect_bad("\xef\xbb\xbf{\"query\": \"q\", \"responses\": [\"a\"]}", "byte order mark");
    /* an escaped backslash before u0000 is text, not a NUL */
    struct vkg_grm_record r;
    parse("{\"query\": \"a\\\\u0000b\", \"responses\": [\"a\"]}", &r);
    assert_null(r.error);
    assert_string_equal(r.messages[0].content, "a\\u0000b");
    vkg_grm_record_free(&r);
    /* a raw NUL byte */
    const char nul[] = "{\"query\": \"a\0b\", \"responses\": [\"a\"]}";
    assert_int_equal(vkg_grm_record_parse(nul, sizeof nul - 1, 0, 1, &r), VKG_OK);
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "NUL byte at column 13"));
    vkg_grm_record_free(&r);
}

static void test_bad_line_keeps_id(void **state)
{
    struct vkg_grm_record r;
    parse("{\"id\": \"keep-me\", \"query\": \"q\", \"responses\": []}", &r);
    assert_non_null(r.error);
    assert_string_equal(r.id, "keep-me");
    assert_int_equal(r.index, 3);
    assert_int_equal(r.line, 7);
    assert_int_equal(r.label, -1);
    vkg_grm_record_free(&r);
    parse("{\"query\": \"q\", \"responses\": []}", &r); /* no id: the index, as for a good line */
    assert_string_equal(r.id, "3");
    vkg_grm_record_free(&r);
    parse("garbage", &r); /* unreadable: no id */
    assert_null(r.id);
    vkg_grm_record_free(&r);
    parse("{\"id\": {}, \"query\": \"q\", \"responses\": [\"a\"]}", &r);
    assert_null(r.id);
    vkg_grm_record_free(&r);
}

static void test_response_cap(void **state)
{
    char line[2048] = "{\"query\": \"q\", \"responses\": [";
    for (int i = 0; i < VKG_GRM_MAX_RESPONSES; i++) strcat(line, i ? ", \"r\"" : "\"r\"");
    strcat(line, "]}");
    struct vkg_grm_record r;
    parse(line, &r);
    assert_null(r.error);
    assert_int_equal(r.n_responses, 64);
    vkg_grm_record_free(&r);
    line[strlen(line) - 2] = '\0';
    strcat(line, ", \"one too many\"]}");
    expect_bad(line, "65 responses, more than the maximum of 64");
}

static void test_huge_line(void **state)
{
    size_t big = 3u << 20; /* a 3 MiB response */
    char *line = malloc(big + 100);
    assert_non_null(line);
    int head = sprintf(line, "{\"query\": \"q\", \"responses\": [\"");
    memset(line + head, 'x', big);
    strcpy(line + head + big, "\", \"y\"]}");
    struct vkg_grm_record r;
    parse(line, &r);
    assert_null(r.error);
    assert_int_equal(strlen(r.responses[0]), big);
    vkg_grm_record_free(&r);
    free(line);
}

/* The stream reader: numbering, blank lines, CRLF, BOM, a last line without "\n". */
static void test_reader_stream(void **state)
{
    static const char text[] = "\xef\xbb\xbf{\"id\": \"a\", \"query\": \"q\", \"responses\": [\"r\"]}\r\n"
                               "\r\n"
                               "   \t \n"
                               "{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"d\", \"subset\": \"s\"}\n"
                               "oops\n"
                               "\n"
                               "{\"query\": \"last\", \"responses\": [\"r1\", \"r2\"], \"label\": 1}";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "rb");
    assert_non_null(f);
    struct vkg_grm_reader *rd;
    assert_int_equal(vkg_grm_reader_open_file(f, "mem", &rd), VKG_OK);
    struct {
        const char *id;
        uint64_t line;
        bool bad;
        int n;
    } want[] = { { "a", 1, false, 1 }, { "1", 4, false, 2 }, { NULL, 5, true, 0 }, { "3", 7, false, 2 } };
    struct vkg_grm_record r;
    bool eof;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(vkg_grm_reader_next(rd, &r, &eof), VKG_OK);
        assert_false(eof);
        assert_int_equal(r.index, i);
        assert_int_equal(r.line, want[i].line);
        assert_int_equal(r.error != NULL, want[i].bad);
        if (want[i].id) assert_string_equal(r.id, want[i].id);
        else assert_null(r.id);
        assert_int_equal(r.n_responses, want[i].n);
        vkg_grm_record_free(&r);
    }
    assert_int_equal(vkg_grm_reader_next(rd, &r, &eof), VKG_OK);
    assert_true(eof);
    vkg_grm_reader_close(rd);
    fclose(f);
}

static void test_lines_and_files(void **state)
{
    char path[] = "/tmp/vkgrm-grm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs("{\"query\": \"q\", \"responses\": [\"r\"]}\nhalf", f);
    fclose(f);
    struct vkg_grm_lines l;
    assert_int_equal(vkg_grm_lines_open(path, &l), VKG_OK);
    const char *line;
    size_t len;
    bool eof;
    assert_int_equal(vkg_grm_lines_next(&l, &line, &len, &eof), VKG_OK);
    assert_true(l.complete);
    assert_int_equal(vkg_grm_lines_next(&l, &line, &len, &eof), VKG_OK);
    assert_false(eof);
    assert_false(l.complete); /* cut by the end of the file (a killed writer) */
    assert_int_equal(len, 4);
    assert_string_equal(line, "half");
    assert_int_equal(vkg_grm_lines_next(&l, &line, &len, &eof), VKG_OK);
    assert_true(eof);
    vkg_grm_lines_close(&l);
    struct vkg_grm_reader *rd;
    assert_int_equal(vkg_grm_reader_open(path, &rd), VKG_OK);
    vkg_grm_reader_close(rd);
    unlink(path);
    assert_int_equal(vkg_grm_reader_open(path, &rd), VKG_ERR_NOT_FOUND);
    assert_non_null(strstr(vkg_error_detail(), path));
    assert_true(vkg_grm_line_blank(" \t\r", 3));
    assert_false(vkg_grm_line_blank(" x", 2));
}

static void test_json_helpers(void **state)
{
    const char *t = "{\"a\": [1, {\"b\": \"}\"}], \"b\": 1.50, \"c\": \"x\\\"y\", \"b\": -0, \"d\": {}}";
    const char *v;
    size_t n;
    assert_true(vkg_grm_json_raw_member(t, strlen(t), "b", &v, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(v, "-0", 2);
    assert_true(vkg_grm_json_raw_member(t, strlen(t), "c", &v, &n));
    assert_int_equal(n, 6);
    assert_true(vkg_grm_json_raw_member(t, strlen(t), "d", &v, &n));
    assert_memory_equal(v, "{}", 2);
    assert_false(vkg_grm_json_raw_member(t, strlen(t), "e", &v, &n));
    assert_false(vkg_grm_json_raw_member("[1]", 3, "a", &v, &n));
    assert_true(vkg_grm_utf8_valid("h\xc3\xa9 \xf0\x9f\x99\x82", 8));
    assert_false(vkg_grm_utf8_valid("\xf0\x9f\x99", 3));     /* cut */
    assert_false(vkg_grm_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    char *s = vkg_grm_float_repr(0.1 + 0.2);
    assert_string_equal(s, "0.30000000000000004");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native),
        cmocka_unit_test(test_rewardbench),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_number_ids_like_python),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_bad_line_keeps_id),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_reader_stream),
        cmocka_unit_test(test_lines_and_files),
        cmocka_unit_test(test_json_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
