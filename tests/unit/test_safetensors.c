/* test_safetensors.c — the safetensors loader against the committed corpus.
 *
 * tests/data/malformed/ is written by tests/fixtures/make_malformed.py: every
 * malformed item has exactly one defect and was checked against the
 * reference reader (python safetensors); valid/ items were written by the
 * python library and valid/manifest.json lists what it wrote (numpy bytes as
 * hex). So every expectation here comes from outside our C code. */
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

#include "dtype.h"
#include "safetensors.h"

#define CORPUS VKG_SOURCE_DIR "/tests/data/malformed"
#define VALID CORPUS "/valid"

/* One malformed item: the status open() returns, or VKG_OK when open()
 * succeeds and vkg_safetensors_check() must fail with check_status; and a
 * piece of the message that names the file and the field, so one defect
 * cannot pass for another. */
struct bad_item {
    const char *item;
    enum vkg_status open_status;
    enum vkg_status check_status;
    const char *message;
};

static const struct bad_item k_bad[] = {
    { "too_short.safetensors", VKG_ERR_FORMAT, 0,
      "too_short.safetensors: file is 5 bytes, shorter than the 8-byte header length" },
    { "header_too_large.safetensors", VKG_ERR_FORMAT, 0,
      "header_too_large.safetensors: header length 100000001 > maximum 100000000" },
    { "header_past_eof.safetensors", VKG_ERR_FORMAT, 0,
      "header_past_eof.safetensors: header length 1000 runs past the end of the file (70 bytes)" },
    { "header_not_utf8.safetensors", VKG_ERR_FORMAT, 0,
      "header_not_utf8.safetensors: header is not valid UTF-8 (byte 3" },
    { "header_not_json.safetensors", VKG_ERR_FORMAT, 0, "header_not_json.safetensors: header is not valid JSON" },
    { "header_not_object.safetensors", VKG_ERR_FORMAT, 0,
      "header_not_object.safetensors: header is not a JSON object" },
    { "header_trailing_bytes.safetensors", VKG_ERR_FORMAT, 0,
      "header_trailing_bytes.safetensors: header is not valid JSON: extra data after the JSON value (1 bytes)" },
    { "header_control_char.safetensors", VKG_ERR_FORMAT, 0,
      "header_control_char.safetensors: header has control character 0x01 inside a string at byte 3" },
    { "offsets_float_syntax.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_float_syntax.safetensors: header: number '8.0' at byte 50 is not a plain unsigned integer" },
    { "duplicate_name.safetensors", VKG_ERR_FORMAT, 0, "duplicate_name.safetensors: duplicate tensor name 'a'" },
    { "duplicate_field.safetensors", VKG_ERR_FORMAT, 0,
      "duplicate_field.safetensors: tensor 'a': duplicate field \"dtype\"" },
    { "unknown_dtype.safetensors", VKG_ERR_UNSUPPORTED, 0,
      "unknown_dtype.safetensors: tensor 'a': unknown dtype 'F7'" },
    { "dtype_not_string.safetensors", VKG_ERR_FORMAT, 0,
      "dtype_not_string.safetensors: tensor 'a': dtype is not a string" },
    { "entry_not_object.safetensors", VKG_ERR_FORMAT, 0,
      "entry_not_object.safetensors: tensor 'a': entry is not an object" },
    { "missing_data_offsets.safetensors", VKG_ERR_FORMAT, 0,
      "missing_data_offsets.safetensors: tensor 'a': missing field \"data_offsets\"" },
    { "shape_not_list.safetensors", VKG_ERR_FORMAT, 0, "shape_not_list.safetensors: tensor 'a': shape is not a list" },
    { "shape_negative.safetensors", VKG_ERR_FORMAT, 0,
      "shape_negative.safetensors: tensor 'a': shape[1] is not a non-negative integer" },
    { "shape_fraction.safetensors", VKG_ERR_FORMAT, 0,
      "shape_fraction.safetensors: tensor 'a': shape[0] is not a non-negative integer" },
    { "shape_overflow.safetensors", VKG_ERR_OVERFLOW, 0,
      "shape_overflow.safetensors: tensor 'a': element count of shape overflows" },
    { "bytes_overflow.safetensors", VKG_ERR_OVERFLOW, 0,
      "bytes_overflow.safetensors: tensor 'a': byte size of shape [2147483648, 2147483648] x F32 overflows" },
    { "rank_too_large.safetensors", VKG_ERR_UNSUPPORTED, 0,
      "rank_too_large.safetensors: tensor 'a': rank 9 > maximum 8" },
    { "f4_odd_count.safetensors", VKG_ERR_FORMAT, 0,
      "f4_odd_count.safetensors: tensor 'a': 3 elements of F4 do not fill whole bytes" },
    { "size_mismatch.safetensors", VKG_ERR_FORMAT, 0,
      "size_mismatch.safetensors: tensor 'a': shape [2, 3] x F32 = 24 bytes but data_offsets [0, 20] span 20" },
    { "offsets_not_pair.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_not_pair.safetensors: tensor 'a': data_offsets is not a list of 2" },
    { "offsets_reversed.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_reversed.safetensors: tensor 'a': data_offsets begin 8 > end 4" },
    { "offsets_hole.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_hole.safetensors: tensor 'b': data_offsets begin 8 leaves a hole after byte 4 (end of 'a')" },
    { "offsets_start_hole.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_start_hole.safetensors: tensor 'a': data_offsets begin 4 leaves a hole after byte 0 (start of buffer)" },
    { "offsets_overlap.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_overlap.safetensors: tensor 'b': data_offsets begin 4 overlaps tensor 'a' (ends at 8)" },
    { "offsets_past_end.safetensors", VKG_ERR_FORMAT, 0,
      "offsets_past_end.safetensors: tensor 'model.layers.7.self_attn.q_proj.weight': data_offsets end 4096 > buffer size 2048" },
    { "trailing_buffer_bytes.safetensors", VKG_ERR_FORMAT, 0,
      "trailing_buffer_bytes.safetensors: byte buffer is 8 bytes but tensors cover only 4" },
    { "metadata_not_object.safetensors", VKG_ERR_FORMAT, 0,
      "metadata_not_object.safetensors: __metadata__ is not an object of strings" },
    { "metadata_not_strings.safetensors", VKG_ERR_FORMAT, 0,
      "metadata_not_strings.safetensors: __metadata__ value of 'step' is not a string" },
    { "unsupported_dtype.safetensors", VKG_OK, VKG_ERR_UNSUPPORTED,
      "unsupported_dtype.safetensors: tensor 'model.layers.0.mlp.up_proj.weight': dtype F8_E4M3 is unsupported" },
    { "index_not_json", VKG_ERR_FORMAT, 0, "model.safetensors.index.json: index is not valid JSON" },
    { "index_no_weight_map", VKG_ERR_FORMAT, 0, "model.safetensors.index.json: no \"weight_map\" object" },
    { "index_entry_not_string", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: weight_map entry of tensor 'b' is not a string" },
    { "index_missing_shard", VKG_ERR_NOT_FOUND, 0,
      "model.safetensors.index.json: weight_map names shard 'model-00002-of-00002.safetensors', which does not exist" },
    { "index_tensor_absent", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: tensor 'c' is mapped to shard 'model-00002-of-00002.safetensors', which has no such tensor" },
    { "index_tensor_unlisted", VKG_ERR_FORMAT, 0,
      "model-00002-of-00002.safetensors: tensor 'c' is not listed in model.safetensors.index.json weight_map" },
    { "index_wrong_shard", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: tensor 'b' is mapped to shard 'model-00001-of-00002.safetensors' but stored in 'model-00002-of-00002.safetensors'" },
    { "index_two_shards", VKG_ERR_FORMAT, 0,
      "model-00002-of-00002.safetensors: tensor 'a' is also in shard model-00001-of-00002.safetensors" },
    { "index_path_escape", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: weight_map shard '../model-00002-of-00002.safetensors' (tensor 'b') is not a relative path" },
    { "index_bad_shard", VKG_ERR_FORMAT, 0,
      "model-00002-of-00002.safetensors: file is 3 bytes, shorter than the 8-byte header length" },
    { "index_duplicate_entry", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: tensor 'a' is mapped to shard 'model-00002-of-00002.safetensors', which has no such tensor" },
    { "index_total_size_bad", VKG_ERR_FORMAT, 0,
      "model.safetensors.index.json: metadata.total_size is not a non-negative integer" },
    { "no_weights", VKG_ERR_NOT_FOUND, 0,
      "no_weights: directory has neither model.safetensors nor model.safetensors.index.json" },
};

static void test_malformed_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        const struct bad_item *b = &k_bad[i];
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS, b->item);
        struct vkg_safetensors *st = (void *)1;
        vkg_error_clear();
        enum vkg_status s = vkg_safetensors_open(path, &st);
        if (s == VKG_OK && b->open_status == VKG_OK) {
            s = vkg_safetensors_check(st);
            vkg_safetensors_close(st);
            if (s != b->check_status) fail_msg("%s: check gave %s", b->item, vkg_status_name(s));
        } else if (s != b->open_status) {
            vkg_safetensors_close(s == VKG_OK ? st : NULL);
            fail_msg("%s: open gave %s (%s), want %s", b->item, vkg_status_name(s), vkg_error_detail(),
                     vkg_status_name(b->open_status));
        } else {
            assert_null(st);
        }
        if (!strstr(vkg_error_detail(), b->message))
            fail_msg("%s: message\n  '%s'\ndoes not contain\n  '%s'", b->item, vkg_error_detail(), b->message);
    }
}

/* Every item in the corpus directory has an expectation above (and vice versa):
 * a new corpus file cannot go untested. */
static void test_corpus_complete(void **state)
{
    (void)state;
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "valid") == 0 || strcmp(e->d_name, "README.md") == 0) continue;
        bool found = false;
        for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) found |= strcmp(k_bad[i].item, e->d_name) == 0;
        if (!found) fail_msg("corpus item %s has no expectation in k_bad", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, sizeof k_bad / sizeof k_bad[0]);
    assert_true(n >= 25);
}

/* ---- valid models, compared with valid/manifest.json ---- */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static cJSON *load_manifest(void)
{
    char *text = read_all(VALID "/manifest.json");
    assert_non_null(text);
    cJSON *m = cJSON_Parse(text);
    free(text);
    assert_non_null(m);
    return m;
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static void check_bytes(const char *name, const void *data, uint64_t n, const char *hex)
{
    if (strlen(hex) != 2 * n)
        fail_msg("%s: %llu bytes, manifest has %zu", name, (unsigned long long)n, strlen(hex) / 2);
    const uint8_t *p = data;
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1])))
            fail_msg("%s: byte %llu differs from what python wrote", name, (unsigned long long)i);
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void check_tensor(const struct vkg_safetensors *st, const cJSON *want)
{
    const char *name = cJSON_GetObjectItem(want, "name")->valuestring;
    const struct vkg_tensor_view *t = vkg_safetensors_find(st, name);
    if (!t) fail_msg("tensor %s not found", name);
    assert_string_equal(t->name, name);
    assert_string_equal(vkg_dtype_name(t->dtype), cJSON_GetObjectItem(want, "dtype")->valuestring);
    const cJSON *shape = cJSON_GetObjectItem(want, "shape");
    assert_int_equal(t->n_dims, cJSON_GetArraySize(shape));
    for (int i = 0; i < t->n_dims; i++)
        assert_int_equal(t->shape[i], (uint64_t)cJSON_GetArrayItem(shape, i)->valuedouble);
    assert_string_equal(base(t->file), cJSON_GetObjectItem(want, "file")->valuestring);
    check_bytes(name, t->data, t->n_bytes, cJSON_GetObjectItem(want, "hex")->valuestring);
    assert_int_equal(vkg_tensor_view_check(t), VKG_OK);
}

/* Views come file by file in on-disk order: each starts where the previous ended. */
static void check_order(const struct vkg_safetensors *st)
{
    for (size_t i = 1; i < vkg_safetensors_count(st); i++) {
        const struct vkg_tensor_view *a = vkg_safetensors_get(st, i - 1), *b = vkg_safetensors_get(st, i);
        if (a->file == b->file) assert_ptr_equal((const uint8_t *)a->data + a->n_bytes, b->data);
        else assert_true(strcmp(a->file, b->file) < 0);
    }
    assert_null(vkg_safetensors_get(st, vkg_safetensors_count(st)));
}

static void check_valid_item(const char *item, const cJSON *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", VALID, item);
    struct vkg_safetensors *st = NULL;
    enum vkg_status s = vkg_safetensors_open(path, &st);
    if (s != VKG_OK) fail_msg("%s: %s", item, vkg_error_detail());
    const cJSON *tensors = cJSON_GetObjectItem(want, "tensors"), *t, *kv;
    assert_int_equal(vkg_safetensors_count(st), cJSON_GetArraySize(tensors));
    uint64_t total = 0;
    cJSON_ArrayForEach(t, tensors)
    {
        check_tensor(st, t);
        total += strlen(cJSON_GetObjectItem(t, "hex")->valuestring) / 2;
    }
    assert_int_equal(vkg_safetensors_total_bytes(st), total);
    cJSON_ArrayForEach(kv, cJSON_GetObjectItem(want, "metadata"))
    {
        const char *v = vkg_safetensors_metadata(st, kv->string);
        assert_non_null(v);
        assert_string_equal(v, kv->valuestring);
    }
    assert_null(vkg_safetensors_metadata(st, "no_such_key"));
    assert_null(vkg_safetensors_find(st, "no.such.tensor"));
    check_order(st);
    assert_int_equal(vkg_safetensors_check(st), VKG_OK);
    vkg_safetensors_close(st);
}

static void test_valid_models(void **state)
{
    (void)state;
    cJSON *m = load_manifest(), *item;
    int n = 0;
    cJSON_ArrayForEach(item, m)
    {
        check_valid_item(item->string, item);
        n++;
    }
    assert_int_equal(n, 4);
    cJSON_Delete(m);
}

static void test_sharded_details(void **state)
{
    (void)state;
    struct vkg_safetensors *st = NULL;
    /* The index path itself opens the same model as its directory. */
    assert_int_equal(vkg_safetensors_open(VALID "/sharded/model.safetensors.index.json", &st), VKG_OK);
    assert_int_equal(vkg_safetensors_file_count(st), 2);
    assert_string_equal(base(vkg_safetensors_file_path(st, 0)), "model-00001-of-00002.safetensors");
    assert_string_equal(base(vkg_safetensors_file_path(st, 1)), "model-00002-of-00002.safetensors");
    assert_null(vkg_safetensors_file_path(st, 2));
    uint64_t ts = 0;
    assert_true(vkg_safetensors_index_total_size(st, &ts));
    assert_int_equal(ts, vkg_safetensors_total_bytes(st)); /* this writer counts the same way */
    vkg_safetensors_close(st);
    assert_int_equal(vkg_safetensors_open(VALID "/single.safetensors", &st), VKG_OK);
    assert_false(vkg_safetensors_index_total_size(st, &ts));
    const struct vkg_tensor_view *s = vkg_safetensors_find(st, "scalar");
    assert_non_null(s);
    assert_int_equal(s->n_dims, 0);
    assert_int_equal(vkg_tensor_view_numel(s), 1);
    float v;
    memcpy(&v, s->data, 4);
    assert_true(v == 3.5f);
    const struct vkg_tensor_view *e = vkg_safetensors_find(st, "empty");
    assert_int_equal(vkg_tensor_view_numel(e), 0);
    assert_int_equal(e->n_bytes, 0);
    vkg_safetensors_close(st);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct vkg_safetensors *st = (void *)1;
    assert_int_equal(vkg_safetensors_open(NULL, &st), VKG_ERR_INVALID_ARG);
    assert_null(st);
    assert_int_equal(vkg_safetensors_open("x", NULL), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_safetensors_open(CORPUS "/does_not_exist.safetensors", &st), VKG_ERR_NOT_FOUND);
    assert_non_null(strstr(vkg_error_detail(), "does_not_exist.safetensors"));
    vkg_safetensors_close(NULL);
    assert_int_equal(vkg_safetensors_count(NULL), 0);
    assert_null(vkg_safetensors_find(NULL, "a"));
}

/* ---- dtypes and conversions ---- */

static void test_dtype_table(void **state)
{
    (void)state;
    static const char *const st_names[] = {
        "BOOL",    "F4",          "F6_E2M3",     "F6_E3M2", "U8",  "I8",  "F8_E5M2", "F8_E4M3",
        "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16",     "U16", "F16", "BF16",    "I32",
        "U32",     "F32",         "C64",         "F64",     "I64", "U64",
    };
    for (size_t i = 0; i < sizeof st_names / sizeof st_names[0]; i++) {
        enum vkg_dtype dt = vkg_dtype_from_safetensors(st_names[i]);
        if (dt == VKG_DTYPE_UNKNOWN) fail_msg("%s not known", st_names[i]);
        assert_string_equal(vkg_dtype_name(dt), st_names[i]);
    }
    assert_int_equal(vkg_dtype_from_safetensors("Q8_0"), VKG_DTYPE_UNKNOWN);
    assert_int_equal(vkg_dtype_from_safetensors("bf16"), VKG_DTYPE_UNKNOWN);
    assert_int_equal(vkg_dtype_from_safetensors(NULL), VKG_DTYPE_UNKNOWN);
    assert_string_equal(vkg_dtype_name(VKG_DTYPE_UNKNOWN), "UNKNOWN");
    assert_int_equal(vkg_dtype_block_size(VKG_DTYPE_Q8_0), 32);
    assert_int_equal(vkg_dtype_block_bytes(VKG_DTYPE_Q8_0), 34);
    assert_int_equal(vkg_dtype_block_size(VKG_DTYPE_Q4), 32);
    assert_int_equal(vkg_dtype_block_bytes(VKG_DTYPE_Q4), 18);
    assert_int_equal(vkg_dtype_block_bytes(VKG_DTYPE_BF16), 2);
    uint64_t n = 0;
    assert_int_equal(vkg_dtype_bytes(VKG_DTYPE_Q4, 64, &n), VKG_OK);
    assert_int_equal(n, 36);
    assert_int_equal(vkg_dtype_bytes(VKG_DTYPE_F6_E2M3, 8, &n), VKG_OK);
    assert_int_equal(n, 6);
    assert_int_equal(vkg_dtype_bytes(VKG_DTYPE_Q8_0, 33, &n), VKG_ERR_FORMAT);
    assert_int_equal(vkg_dtype_bytes(VKG_DTYPE_F4, 3, &n), VKG_ERR_FORMAT);
    assert_int_equal(vkg_dtype_bytes(VKG_DTYPE_F64, UINT64_MAX / 4, &n), VKG_ERR_OVERFLOW);
    assert_true(vkg_dtype_is_loadable(VKG_DTYPE_BF16));
    assert_false(vkg_dtype_is_loadable(VKG_DTYPE_F8_E4M3));
}

static const void *tensor_data(const struct vkg_safetensors *st, const char *name, uint64_t n, enum vkg_dtype dt)
{
    const struct vkg_tensor_view *t = vkg_safetensors_find(st, name);
    if (!t) fail_msg("convert.safetensors: no %s", name);
    assert_int_equal(t->dtype, dt);
    assert_int_equal(vkg_tensor_view_numel(t), n);
    return t->data;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Halves (and bfloats) are compared bit for bit; NaN only as "some NaN". */
static bool same_half(uint16_t a, uint16_t b, bool bf16)
{
    uint16_t exp = bf16 ? 0x7f80 : 0x7c00, man = bf16 ? 0x7f : 0x3ff;
    bool na = (a & exp) == exp && (a & man), nb = (b & exp) == exp && (b & man);
    return na || nb ? na && nb : a == b;
}

static void test_conversions(void **state)
{
    (void)state;
    struct vkg_safetensors *st = NULL;
    assert_int_equal(vkg_safetensors_open(VALID "/convert.safetensors", &st), VKG_OK);
    uint64_t n = vkg_tensor_view_numel(vkg_safetensors_find(st, "f32_src"));
    assert_true(n > 10000);
    const uint8_t *src = tensor_data(st, "f32_src", n, VKG_DTYPE_F32);
    const uint8_t *h = tensor_data(st, "f16_of_f32", n, VKG_DTYPE_F16);
    const uint8_t *b = tensor_data(st, "bf16_of_f32", n, VKG_DTYPE_BF16);
    for (uint64_t i = 0; i < n; i++) { /* memcpy: views may be unaligned */
        float f;
        uint16_t want_h, want_b;
        memcpy(&f, src + 4 * i, 4);
        memcpy(&want_h, h + 2 * i, 2);
        memcpy(&want_b, b + 2 * i, 2);
        uint16_t got_h = vkg_f32_to_f16(f), got_b = vkg_f32_to_bf16(f);
        if (!same_half(got_h, want_h, false))
            fail_msg("f32_to_f16(%a = 0x%08x) = 0x%04x, numpy 0x%04x", f, f32_bits(f), got_h, want_h);
        if (!same_half(got_b, want_b, true)) fail_msg("f32_to_bf16(%a) = 0x%04x, gguf-py 0x%04x", f, got_b, want_b);
        if (!isnan(f)) assert_int_equal(f32_bits(vkg_bf16_to_f32(want_b)), (uint32_t)want_b << 16);
    }
    const uint8_t *all = tensor_data(st, "f32_of_f16_all", 65536, VKG_DTYPE_F32);
    for (uint32_t i = 0; i < 65536; i++) {
        float want, got = vkg_f16_to_f32((uint16_t)i);
        memcpy(&want, all + 4 * i, 4);
        if (isnan(want) ? !isnan(got) : f32_bits(got) != f32_bits(want))
            fail_msg("f16_to_f32(0x%04x) = %a, numpy %a", i, got, want);
    }
    vkg_safetensors_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_table),     cmocka_unit_test(test_malformed_corpus),
        cmocka_unit_test(test_corpus_complete), cmocka_unit_test(test_valid_models),
        cmocka_unit_test(test_sharded_details), cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
