/* test_weights — streaming safetensors into device buffers: every tensor of a
 * small F32/F16/BF16 model read back equal to the file converted by the C
 * reference, for each --weights choice; a sharded 1 GiB model (one 300 MiB
 * tensor) loads with peak host memory < 300 MiB and reads back byte-exact.
 * Models come from tests/fixtures/make_weights_model.py (ctest fixture). */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_dtype.h"
#include "safetensors.h"
#include "weights.h"

static const char *models_dir(void)
{
    const char *d = getenv("VKGRM_TEST_MODELS");
    if (!d) fail_msg("VKGRM_TEST_MODELS is not set (ctest sets it; the fixture writes the models)");
    return d;
}

static float file_value(const struct vkg_tensor_view *t, uint64_t i)
{
    uint16_t h;
    float f;
    if (t->dtype == VKG_DTYPE_F32) return memcpy(&f, (const char *)t->data + 4 * i, 4), f;
    memcpy(&h, (const char *)t->data + 2 * i, 2);
    return t->dtype == VKG_DTYPE_F16 ? ref_f16_to_f32(h) : ref_bf16_to_f32(h);
}

/* Reads a device tensor back and compares it with the file, through the reference conversion. */
static void check_tensor(const struct vkg_tensor_view *t, const struct vkg_weight *w)
{
    uint64_t n = vkg_tensor_view_numel(t);
    uint8_t *dev = malloc(w->n_bytes + 1);
    gpu_read(w->buf, dev, w->n_bytes);
    for (uint64_t i = 0; i < n; i++) {
        float want = file_value(t, i);
        uint16_t h;
        if (w->dtype == VKG_DTYPE_F32) {
            float got;
            memcpy(&got, dev + 4 * i, 4);
            if (got != want) fail_msg("%s as F32: element %llu got %.9g want %.9g", t->name, (unsigned long long)i, got, want);
            continue;
        }
        memcpy(&h, dev + 2 * i, 2);
        uint16_t ref = w->dtype == VKG_DTYPE_F16 ? ref_f32_to_f16(want) : ref_f32_to_bf16(want);
        if (h != ref)
            fail_msg("%s as %s: element %llu got 0x%04x want 0x%04x", t->name, vkg_dtype_name(w->dtype),
                     (unsigned long long)i, h, ref);
    }
    free(dev);
}

static void load_small_as(enum vkg_dtype target)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/weights_small", models_dir());
    struct vkg_safetensors *st;
    GPU_OK(vkg_safetensors_open(path, &st));
    struct vkg_weights_opts o = { .matrix_dtype = target };
    struct vkg_weights *w;
    GPU_OK(vkg_weights_load(g_dev, st, &o, &w));
    assert_int_equal(w->n, vkg_safetensors_count(st));
    for (size_t i = 0; i < w->n; i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(st, i);
        const struct vkg_weight *wt = vkg_weights_find(w, t->name);
        assert_non_null(wt);
        enum vkg_dtype want = t->n_dims < 2 ? VKG_DTYPE_F32 : target == VKG_DTYPE_UNKNOWN ? t->dtype : target;
        assert_int_equal(wt->dtype, want);
        check_tensor(t, wt);
    }
    vkg_weights_free(w);
    vkg_safetensors_close(st);
    gpu_assert_no_validation();
}

static void test_small_as_stored(void **s) { load_small_as(VKG_DTYPE_UNKNOWN); }
static void test_small_to_f32(void **s) { load_small_as(VKG_DTYPE_F32); }
static void test_small_to_f16(void **s) { load_small_as(VKG_DTYPE_F16); }
static void test_small_to_bf16(void **s) { load_small_as(VKG_DTYPE_BF16); }

static void test_1gib_bounded_host_memory(void **s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/weights_1gib", models_dir());
    struct vkg_safetensors *st;
    GPU_OK(vkg_safetensors_open(path, &st));
    assert_true(vkg_safetensors_total_bytes(st) == (1ull << 30));
    struct vkg_weights_opts o = { .matrix_dtype = VKG_DTYPE_UNKNOWN, .track_rss = 1 };
    struct vkg_weights *w;
    GPU_OK(vkg_weights_load(g_dev, st, &o, &w));
    printf("1 GiB model: %.2f GB/s, peak host memory over the load %.1f MiB (device memory excluded)\n",
           w->file_bytes / w->seconds / 1e9, w->peak_host_bytes / 1048576.0);
    assert_true(w->peak_host_bytes < (300ull << 20));
    /* every byte back, 16 MiB at a time, against the file */
    const uint64_t piece = 16 << 20;
    uint8_t *buf = malloc(piece);
    for (size_t i = 0; i < w->n; i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(st, i);
        const struct vkg_weight *wt = vkg_weights_find(w, t->name);
        for (uint64_t off = 0; off < t->n_bytes; off += piece) {
            uint64_t n = t->n_bytes - off < piece ? t->n_bytes - off : piece;
            GPU_OK(vkg_buffer_download(g_dev, vkg_view_sub(vkg_buffer_view(wt->buf), off, n), buf, n));
            if (memcmp(buf, (const uint8_t *)t->data + off, n) != 0)
                fail_msg("%s: bytes differ in [%llu, +%llu)", t->name, (unsigned long long)off, (unsigned long long)n);
        }
    }
    free(buf);
    vkg_weights_free(w);
    vkg_safetensors_close(st);
    gpu_assert_no_validation();
}

static void test_bad_weights_flag(void **s)
{
    enum vkg_dtype d;
    assert_int_equal(vkg_weights_parse_dtype("q8_0", &d), VKG_OK);
    assert_int_equal(d, VKG_DTYPE_Q8_0);
    assert_int_equal(vkg_weights_parse_dtype("int3", &d), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "int3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_weights_flag),
        cmocka_unit_test(test_small_as_stored),
        cmocka_unit_test(test_small_to_f32),
        cmocka_unit_test(test_small_to_f16),
        cmocka_unit_test(test_small_to_bf16),
        cmocka_unit_test(test_1gib_bounded_host_memory),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
