/* test_gguf.c — the GGUF reader against the committed corpus.
 *
 * tests/data/malformed_gguf/ is written by tests/fixtures/make_malformed_gguf.py:
 * every malformed item has exactly one defect (hand-built bytes), and valid/
 * holds files written by gguf-py's GGUFWriter with valid/manifest.json
 * listing what gguf-py's own reader sees in them (values, tensor shapes,
 * byte counts, an FNV-1a hash of each tensor's data). So every expectation
 * here comes from outside our C code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_model.h"
#include "safetensors.h"

#define CORPUS VKG_SOURCE_DIR "/tests/data/malformed_gguf"
#define VALID CORPUS "/valid"

struct bad_item {
    const char *item; /* the file opened (a split model: its first part) */
    enum vkg_status status;
    const char *message; /* a piece of the detail naming the file and the field */
};

static const struct bad_item k_bad[] = {
    { "too_short.gguf", VKG_ERR_FORMAT, "too_short.gguf: file is 8 bytes, shorter than the 24-byte GGUF header" },
    { "bad_magic.gguf", VKG_ERR_FORMAT, "bad_magic.gguf: not a GGUF file (magic 'GGML', want 'GGUF')" },
    { "version_1.gguf", VKG_ERR_UNSUPPORTED, "version_1.gguf: GGUF version 1 is not supported (versions 2 and 3 are)" },
    { "n_kv_too_large.gguf", VKG_ERR_FORMAT,
      "n_kv_too_large.gguf: header says 1099511627776 metadata entries, more than the file can hold" },
    { "n_tensors_too_large.gguf", VKG_ERR_FORMAT,
      "n_tensors_too_large.gguf: header says 1099511627776 tensors, more than the file can hold" },
    { "key_past_end.gguf", VKG_ERR_FORMAT,
      "key_past_end.gguf: key of metadata entry 0: string of 1000 bytes at offset 32 runs past the end of the file" },
    { "key_nul.gguf", VKG_ERR_FORMAT, "key_nul.gguf: key of metadata entry 0: name holds a NUL byte" },
    { "duplicate_key.gguf", VKG_ERR_FORMAT, "duplicate_key.gguf: duplicate metadata key 'x.y'" },
    { "unknown_value_type.gguf", VKG_ERR_FORMAT, "unknown_value_type.gguf: metadata 'x.y': unknown value type 13" },
    { "nested_array.gguf", VKG_ERR_UNSUPPORTED,
      "nested_array.gguf: metadata 'x.y': arrays of arrays are not supported" },
    { "array_bad_element_type.gguf", VKG_ERR_FORMAT,
      "array_bad_element_type.gguf: metadata 'x.y': unknown array element type 99" },
    { "array_past_end.gguf", VKG_ERR_FORMAT,
      "array_past_end.gguf: metadata 'x.y': array of 1099511627776 uint32 elements runs past the end of the file" },
    { "array_string_past_end.gguf", VKG_ERR_FORMAT,
      "array_string_past_end.gguf: metadata 'x.y' element 1: string of 999 bytes at offset" },
    { "bool_not_0_or_1.gguf", VKG_ERR_FORMAT, "bool_not_0_or_1.gguf: metadata 'x.y': bool value 2 is neither 0 nor 1" },
    { "bool_array_element.gguf", VKG_ERR_FORMAT,
      "bool_array_element.gguf: metadata 'x.y': bool element 2 is 7, neither 0 nor 1" },
    { "value_past_end.gguf", VKG_ERR_FORMAT,
      "value_past_end.gguf: metadata 'x.y': uint64 value runs past the end of the file" },
    { "string_value_past_end.gguf", VKG_ERR_FORMAT,
      "string_value_past_end.gguf: metadata 'x.y': string of 4096 bytes at offset" },
    { "alignment_not_uint32.gguf", VKG_ERR_FORMAT,
      "alignment_not_uint32.gguf: general.alignment has type uint64, want uint32" },
    { "alignment_not_power_of_two.gguf", VKG_ERR_FORMAT,
      "alignment_not_power_of_two.gguf: general.alignment 48 is not a power of two" },
    { "tensor_name_too_long.gguf", VKG_ERR_FORMAT, "tensor_name_too_long.gguf: tensor 0: name of 64 bytes" },
    { "tensor_name_past_end.gguf", VKG_ERR_FORMAT,
      "tensor_name_past_end.gguf: name of tensor 0: string of 1048576 bytes at offset" },
    { "tensor_info_past_end.gguf", VKG_ERR_FORMAT,
      "tensor_info_past_end.gguf: tensor 'a.weight': info runs past the end of the file" },
    { "tensor_n_dims_zero.gguf", VKG_ERR_FORMAT, "tensor_n_dims_zero.gguf: tensor 'a.weight': n_dims 0 outside 1..4" },
    { "tensor_n_dims_5.gguf", VKG_ERR_FORMAT, "tensor_n_dims_5.gguf: tensor 'a.weight': n_dims 5 outside 1..4" },
    { "tensor_dim_above_int64.gguf", VKG_ERR_FORMAT,
      "tensor_dim_above_int64.gguf: tensor 'a.weight': dimension 0 is 9223372036854775808, above INT64_MAX" },
    { "tensor_count_overflow.gguf", VKG_ERR_OVERFLOW,
      "tensor_count_overflow.gguf: tensor 'a.weight': element count overflows" },
    { "tensor_bytes_overflow.gguf", VKG_ERR_OVERFLOW,
      "tensor_bytes_overflow.gguf: tensor 'a.weight': byte size overflows" },
    { "tensor_unknown_type.gguf", VKG_ERR_FORMAT, "tensor_unknown_type.gguf: tensor 'a.weight': unknown ggml type 4" },
    { "tensor_not_whole_blocks.gguf", VKG_ERR_FORMAT,
      "tensor_not_whole_blocks.gguf: tensor 'a.weight': ne[0] = 40 is not a multiple of the Q8_0 block size 32" },
    { "tensor_offset_unaligned.gguf", VKG_ERR_FORMAT,
      "tensor_offset_unaligned.gguf: tensor 'a.weight': offset 8 is not a multiple of the alignment 32" },
    { "tensor_offset_not_packed.gguf", VKG_ERR_FORMAT,
      "tensor_offset_not_packed.gguf: tensor 'b.weight': offset 64, expected 32" },
    { "tensor_data_past_end.gguf", VKG_ERR_FORMAT,
      "tensor_data_past_end.gguf: tensor 'b.weight': data [32, +32 bytes) runs past the end of the file (data "
      "section of 40 bytes)" },
    { "duplicate_tensor.gguf", VKG_ERR_FORMAT, "duplicate_tensor.gguf: duplicate tensor name 'a.weight'" },
    { "split_count_without_pattern.gguf", VKG_ERR_FORMAT,
      "split_count_without_pattern.gguf: split.count is 2 but the file name is not" },
    { "split_missing_part-00001-of-00002.gguf", VKG_ERR_NOT_FOUND,
      "split_missing_part-00002-of-00002.gguf: cannot open" },
    { "split_wrong_no-00001-of-00002.gguf", VKG_ERR_FORMAT,
      "split_wrong_no-00002-of-00002.gguf: split.no is 0, want 1 for part 2 of 2" },
    { "split_wrong_count-00001-of-00002.gguf", VKG_ERR_FORMAT,
      "split_wrong_count-00002-of-00002.gguf: split.count is 3, the file name says 2 parts" },
    { "split_tensor_count-00001-of-00002.gguf", VKG_ERR_FORMAT,
      "split_tensor_count-00001-of-00002.gguf: split.tensors.count says 3 tensors, the 2 parts hold 2" },
    { "split_tensor_in_two_parts-00001-of-00002.gguf", VKG_ERR_FORMAT,
      "split_tensor_in_two_parts-00002-of-00002.gguf: tensor 'a.weight' is also in part "
      "split_tensor_in_two_parts-00001-of-00002.gguf" },
};

static void test_malformed_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", CORPUS, k_bad[i].item);
        struct vkg_gguf *g = (struct vkg_gguf *)1;
        vkg_error_clear();
        enum vkg_status s = vkg_gguf_open(path, &g);
        if (s != k_bad[i].status || !strstr(vkg_error_detail(), k_bad[i].message))
            fail_msg("%s: got %s \"%s\", want %s \"%s\"", k_bad[i].item, vkg_status_name(s), vkg_error_detail(),
                     vkg_status_name(k_bad[i].status), k_bad[i].message);
        assert_null(g);
    }
}

/* Every corpus file is expected above (later split parts come with their first). */
static void test_corpus_complete(void **state)
{
    (void)state;
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    struct dirent *e;
    size_t seen = 0;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len < 5 || strcmp(n + len - 5, ".gguf") != 0) continue;
        if (len > 20 && strncmp(n + len - 20, "-0000", 5) == 0 && n[len - 15] != '1') continue; /* part 2.. */
        int found = 0;
        for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) found |= strcmp(k_bad[i].item, n) == 0;
        if (!found) fail_msg("corpus item %s has no expectation in test_gguf.c", n);
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, sizeof k_bad / sizeof k_bad[0]);
}

static cJSON *load_manifest(void)
{
    FILE *f = fopen(VALID "/manifest.json", "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *m = cJSON_Parse(buf);
    assert_non_null(m);
    return m;
}

static void check_kv(const struct vkg_gguf *g, const cJSON *want)
{
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(g, want->string);
    if (!kv) fail_msg("key %s missing", want->string);
    const cJSON *type = cJSON_GetObjectItem(want, "type"), *v = cJSON_GetObjectItem(want, "value");
    if (strcmp(type->valuestring, "array") == 0) {
        assert_int_equal(kv->type, VKG_GGUF_ARRAY);
        assert_int_equal(kv->arr_n, cJSON_GetArraySize(v));
        for (int i = 0; i < cJSON_GetArraySize(v); i++) {
            const cJSON *x = cJSON_GetArrayItem(v, i);
            if (cJSON_IsString(x)) {
                assert_int_equal(kv->arr_type, VKG_GGUF_STRING);
                assert_string_equal(kv->strs[i], x->valuestring);
            } else if (cJSON_IsBool(x)) {
                assert_int_equal(kv->arr_type, VKG_GGUF_BOOL);
                assert_int_equal(vkg_gguf_arr_i64(kv, (uint64_t)i), cJSON_IsTrue(x));
            } else {
                assert_true(vkg_gguf_arr_f64(kv, (uint64_t)i) == x->valuedouble);
            }
        }
        return;
    }
    assert_string_equal(vkg_gguf_value_type_name(kv->type), type->valuestring);
    switch (kv->type) {
    case VKG_GGUF_STRING: assert_string_equal(kv->str, v->valuestring); break;
    case VKG_GGUF_BOOL: assert_int_equal(kv->v.u, cJSON_IsTrue(v)); break;
    case VKG_GGUF_FLOAT32:
    case VKG_GGUF_FLOAT64: assert_true(kv->v.f == v->valuedouble); break;
    case VKG_GGUF_UINT64: assert_true((double)kv->v.u == v->valuedouble); break; /* 1.8e19: exact in double */
    case VKG_GGUF_INT64: assert_true((double)kv->v.i == v->valuedouble); break;
    default:
        if (kv->type == VKG_GGUF_INT8 || kv->type == VKG_GGUF_INT16 || kv->type == VKG_GGUF_INT32)
            assert_int_equal(kv->v.i, (int64_t)v->valuedouble);
        else assert_int_equal(kv->v.u, (uint64_t)v->valuedouble);
    }
}

static uint64_t fnv1a64(const uint8_t *p, uint64_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void check_valid(const char *name, uint32_t version)
{
    cJSON *m = load_manifest();
    struct vkg_gguf *g;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", VALID, name);
    if (vkg_gguf_open(path, &g) != VKG_OK) fail_msg("%s: %s", name, vkg_error_detail());
    assert_int_equal(vkg_gguf_version(g), version);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "kv")) check_kv(g, it);
    const cJSON *ts = cJSON_GetObjectItem(m, "tensors");
    assert_int_equal(vkg_gguf_tensor_count(g), cJSON_GetArraySize(ts));
    cJSON_ArrayForEach(it, ts)
    {
        const struct vkg_gguf_tensor *t = vkg_gguf_find_tensor(g, cJSON_GetObjectItem(it, "name")->valuestring);
        assert_non_null(t);
        assert_int_equal(t->type, (uint32_t)cJSON_GetObjectItem(it, "type")->valuedouble);
        const cJSON *ne = cJSON_GetObjectItem(it, "ne");
        assert_int_equal(t->n_dims, cJSON_GetArraySize(ne));
        for (int d = 0; d < t->n_dims; d++)
            assert_int_equal(t->ne[d], (uint64_t)cJSON_GetArrayItem(ne, d)->valuedouble);
        assert_int_equal(t->n_bytes, (uint64_t)cJSON_GetObjectItem(it, "n_bytes")->valuedouble);
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv1a64(t->data, t->n_bytes));
        assert_string_equal(hex, cJSON_GetObjectItem(it, "fnv1a64")->valuestring);
    }
    /* typed getters: conversions that fit, refusals that name the key */
    uint32_t u;
    int64_t i;
    double f;
    const char *str;
    bool b;
    assert_int_equal(vkg_gguf_get_u32(g, "t.u16", &u), VKG_OK);
    assert_int_equal(u, 60000);
    assert_int_equal(vkg_gguf_get_u32(g, "t.i8", &u), VKG_ERR_FORMAT);
    assert_non_null(strstr(vkg_error_detail(), "metadata 't.i8' is -100, outside 0..4294967295"));
    assert_int_equal(vkg_gguf_get_i64(g, "t.i64", &i), VKG_OK);
    assert_true(i == -9000000000000000000ll);
    assert_int_equal(vkg_gguf_get_i64(g, "t.u64", &i), VKG_ERR_FORMAT); /* 1.8e19 > INT64_MAX */
    assert_int_equal(vkg_gguf_get_f64(g, "t.f32", &f), VKG_OK);
    assert_true(f == (double)0.1f);
    assert_int_equal(vkg_gguf_get_str(g, "t.u8", &str), VKG_ERR_FORMAT);
    assert_non_null(strstr(vkg_error_detail(), "metadata 't.u8' has type uint8, want string"));
    assert_int_equal(vkg_gguf_get_bool(g, "t.bool", &b), VKG_OK);
    assert_true(b);
    assert_int_equal(vkg_gguf_get_u32(g, "no.such.key", &u), VKG_ERR_NOT_FOUND);
    assert_string_equal(vkg_gguf_type_name(12), "Q4_K");
    assert_int_equal(vkg_gguf_type_dtype(8), VKG_DTYPE_Q8_0);
    assert_int_equal(vkg_gguf_type_dtype(2), VKG_DTYPE_Q4); /* ggml's block_q4_0 */
    assert_int_equal(vkg_gguf_type_dtype(3), VKG_DTYPE_Q4_1);
    assert_int_equal(vkg_gguf_type_dtype(6), VKG_DTYPE_Q5_0);
    assert_int_equal(vkg_gguf_type_dtype(7), VKG_DTYPE_Q5_1);
    assert_int_equal(vkg_gguf_type_dtype(12), VKG_DTYPE_Q4_K);
    assert_int_equal(vkg_gguf_type_dtype(13), VKG_DTYPE_Q5_K);
    assert_int_equal(vkg_gguf_type_dtype(14), VKG_DTYPE_Q6_K);
    assert_int_equal(vkg_gguf_type_dtype(10), VKG_DTYPE_UNKNOWN); /* Q2_K: no kernel */
    assert_int_equal(vkg_gguf_type_dtype(9), VKG_DTYPE_UNKNOWN);  /* Q8_1: not a weight type */
    for (uint32_t t = 0; t < 40; t++) /* every mapped type has the block geometry ggml gives it */
        if (vkg_gguf_type_dtype(t) != VKG_DTYPE_UNKNOWN) {
            assert_int_equal(vkg_dtype_block_bytes(vkg_gguf_type_dtype(t)), vkg_gguf_type_block_bytes(t));
            assert_int_equal(vkg_dtype_block_size(vkg_gguf_type_dtype(t)), vkg_gguf_type_block_size(t));
        }
    vkg_gguf_close(g);
    cJSON_Delete(m);
}

static void test_valid_v3(void **state)
{
    (void)state;
    check_valid("all_types.gguf", 3);
}

static void test_valid_v2(void **state)
{
    (void)state;
    check_valid("v2.gguf", 2);
}

/* A valid file that is not a model: the model layer names what is missing. */
static void test_not_a_model(void **state)
{
    (void)state;
    struct vkg_safetensors *st = (struct vkg_safetensors *)1;
    assert_int_equal(vkg_safetensors_open(VALID "/all_types.gguf", &st), VKG_ERR_CONFIG);
    assert_null(st);
    assert_non_null(strstr(vkg_error_detail(), "all_types.gguf: metadata has no llama.attention.head_count"));
    struct vkg_hf_config cfg;
    assert_int_equal(vkg_hf_config_load(VALID "/all_types.gguf", &cfg), VKG_ERR_CONFIG);
    assert_non_null(strstr(vkg_error_detail(), "all_types.gguf: no 2-D token_embd.weight to take vocab_size from"));
    struct vkg_safetensors *bad = (struct vkg_safetensors *)1;
    assert_int_equal(vkg_safetensors_open(CORPUS "/bad_magic.gguf", &bad), VKG_ERR_FORMAT);
    assert_null(bad);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct vkg_gguf *g;
    assert_int_equal(vkg_gguf_open(NULL, &g), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_gguf_open("x.gguf", NULL), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_gguf_open(CORPUS "/no-such-file.gguf", &g), VKG_ERR_NOT_FOUND);
    assert_int_equal(vkg_gguf_open(CORPUS, &g), VKG_ERR_IO); /* a directory */
    assert_true(vkg_gguf_is_path("a/b.gguf"));
    assert_false(vkg_gguf_is_path("a/b.safetensors"));
    assert_false(vkg_gguf_is_path(".gguf"));
    vkg_gguf_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_corpus), cmocka_unit_test(test_corpus_complete),
        cmocka_unit_test(test_valid_v3),         cmocka_unit_test(test_valid_v2),
        cmocka_unit_test(test_not_a_model),      cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
