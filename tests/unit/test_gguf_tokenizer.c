/* test_gguf_tokenizer.c — tokenizers built from GGUF metadata (tokenizer.ggml.*)
 * against transformers.AutoTokenizer on the same model's Hugging Face files,
 * over the whole tokenizer corpus (tests/data/tokenizer_corpus.jsonl).
 *
 * The fixture tests/fixtures/make_gguf_tokenizers.py (ctest fixture
 * gguf_tokref) writes VKG_GGUF_TOKREF: GGUFs of the Qwen3 and Llama-3
 * tokenizers made the way llama.cpp's converter makes them, the real
 * SmolLM2-135M-Instruct GGUF, and for each the ids transformers gives on the
 * original tokenizer directory, with and without special tokens; and a
 * SentencePiece GGUF of the Gemma-3 vocabulary with llama.cpp's SPM ids. A
 * missing reference or GGUF fails (no skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"
#include "tokenizer.h"

static cJSON *g_ref;

static int setup(void **state)
{
    (void)state;
    FILE *f = fopen(VKG_GGUF_TOKREF, "rb");
    if (!f) {
        fprintf(stderr, "%s: missing (run the make_gguf_tokenizers fixture)\n", VKG_GGUF_TOKREF);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) return -1;
    fclose(f);
    buf[n] = '\0';
    g_ref = cJSON_Parse(buf);
    free(buf);
    return g_ref ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(g_ref);
    return 0;
}

static size_t unhex(const char *h, char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (char)v;
    }
    return n;
}

/* Number of corpus items whose ids differ in mode `key`; prints the first. */
static size_t compare(struct vkg_tokenizer *tok, const char *name, const cJSON *items, const char *key, int flags)
{
    size_t bad = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const char *hex = cJSON_GetObjectItem(it, "hex")->valuestring;
        char *text = malloc(strlen(hex) / 2 + 1);
        size_t len = unhex(hex, text);
        int32_t *ids = NULL;
        size_t n = 0;
        enum vkg_status s = vkg_tokenizer_encode(tok, text, len, flags, &ids, &n);
        const cJSON *want = cJSON_GetObjectItem(it, key);
        int same = s == VKG_OK && n == (size_t)cJSON_GetArraySize(want);
        for (size_t i = 0; same && i < n; i++) same = ids[i] == (int32_t)cJSON_GetArrayItem(want, (int)i)->valuedouble;
        if (!same && bad++ == 0) {
            char *w = cJSON_PrintUnformatted(want);
            fprintf(stderr, "%s %s: text %.80s...: got %zu ids (status %s), want %s\n", name, key, hex, n,
                    vkg_status_name(s), w);
            free(w);
        }
        free(ids);
        free(text);
    }
    return bad;
}

static void check_family(const char *name)
{
    const cJSON *fam = cJSON_GetObjectItem(g_ref, name);
    if (!fam) fail_msg("%s: not in %s", name, VKG_GGUF_TOKREF);
    const char *path = cJSON_GetObjectItem(fam, "gguf")->valuestring;
    const cJSON *items = cJSON_GetObjectItem(fam, "items");
    struct vkg_tokenizer *tok;
    if (vkg_tokenizer_load(path, &tok) != VKG_OK) fail_msg("%s: %s", path, vkg_error_detail());
    size_t a = compare(tok, name, items, "ids_special", VKG_TOK_ADD_SPECIAL | VKG_TOK_PARSE_SPECIAL);
    size_t b = compare(tok, name, items, "ids", VKG_TOK_PARSE_SPECIAL);
    printf("%s: %d corpus items, %zu + %zu differ from the reference\n", name, cJSON_GetArraySize(items), a, b);
    vkg_tokenizer_free(tok);
    assert_true(cJSON_GetArraySize(items) > 400);
    assert_int_equal(a + b, 0);
}

static void test_smollm2(void **state)
{
    (void)state;
    check_family("smollm2");
}

static void test_qwen3(void **state)
{
    (void)state;
    check_family("qwen3");
}

/* tokenizer.ggml.model "llama" (SentencePiece scores) against llama.cpp's SPM
 * algorithm re-implemented in Python (make_gguf_tokenizers.py spm_reference),
 * on a GGUF of the Gemma-3 vocabulary; the fixture prints that reference's
 * agreement with transformers on the original tokenizer.json. */
static void test_gemma3_spm(void **state)
{
    (void)state;
    check_family("gemma3_spm");
}

static void test_llama3(void **state)
{
    (void)state;
    check_family("llama3");
}

/* tokenizer.chat_template of the SmolLM2 GGUF: the same template, family and
 * bos/eos strings as the HF directory gguf_to_hf.py made of it (its
 * tokenizer_config.json, read by the existing loader). */
static void test_chat_template(void **state)
{
    (void)state;
    const cJSON *fam = cJSON_GetObjectItem(g_ref, "smollm2");
    assert_non_null(fam);
    const char *path = cJSON_GetObjectItem(fam, "gguf")->valuestring;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    strncat(dir, "/smollm2-135m-instruct", sizeof dir - strlen(dir) - 1);
    struct vkg_chat_template a, b;
    if (vkg_chat_template_load(path, "llama", &a) != VKG_OK) fail_msg("%s", vkg_error_detail());
    if (vkg_chat_template_load(dir, "llama", &b) != VKG_OK) fail_msg("%s", vkg_error_detail());
    assert_int_equal(a.family, VKG_CHAT_CHATML);
    assert_int_equal(a.family, b.family);
    assert_non_null(a.jinja);
    assert_string_equal(a.jinja, b.jinja);
    assert_string_equal(a.bos, b.bos);
    assert_string_equal(a.eos, b.eos);
    if (a.default_system || b.default_system) assert_string_equal(a.default_system, b.default_system);
    vkg_chat_template_free(&a);
    vkg_chat_template_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smollm2),    cmocka_unit_test(test_qwen3),         cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_gemma3_spm), cmocka_unit_test(test_chat_template),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
