/* test_convert — GPU dtype conversion vs the plain-C reference (ref_dtype.c).
 * Shapes: tiny, odd, not a multiple of the workgroup (256), offsets that start
 * in the middle of a 16-bit pair, and all 65536 half / bfloat16 patterns. */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_dtype.h"

static const uint64_t g_sizes[] = { 1, 2, 3, 255, 256, 257, 1000, 65537, 300001 };

/* Runs one convert on the GPU: src (n elems at element offset so) -> dst at element offset do_. */
static void gpu_convert(const void *src, size_t src_bytes, enum vkg_dtype st, uint64_t so, void *dst, size_t dst_bytes,
                        enum vkg_dtype dt, uint64_t do_, uint64_t n)
{
    uint32_t ss = st == VKG_DTYPE_F32 ? 4 : 2, ds = dt == VKG_DTYPE_F32 ? 4 : 2;
    struct vkg_buffer *a = gpu_buffer_from(src, src_bytes, "convert src");
    struct vkg_buffer *b = gpu_buffer_from(dst, dst_bytes, "convert dst"); /* pre-filled: untouched parts are checked */
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_convert(c, vkg_view_sub(vkg_buffer_view(a), so * ss, n * ss), st,
                          vkg_view_sub(vkg_buffer_view(b), do_ * ds, n * ds), dt, n));
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(b, dst, dst_bytes);
    vkg_cmd_free(c);
    vkg_buffer_free(a);
    vkg_buffer_free(b);
    gpu_assert_no_validation();
}

static void check_to_f32(enum vkg_dtype st, float (*ref)(uint16_t))
{
    uint64_t seed = 0x1234 + (uint64_t)st;
    for (size_t k = 0; k < sizeof g_sizes / sizeof g_sizes[0]; k++) {
        uint64_t n = g_sizes[k], so = k % 3; /* odd source offsets start mid-word */
        uint16_t *src = malloc((n + so) * 2);
        float *got = malloc(n * 4), *want = malloc(n * 4);
        for (uint64_t i = 0; i < n + so; i++) src[i] = (uint16_t)rng_next(&seed);
        for (uint64_t i = 0; i < n; i++) want[i] = ref(src[so + i]);
        memset(got, 0xcd, n * 4);
        gpu_convert(src, (n + so) * 2, st, so, got, n * 4, VKG_DTYPE_F32, 0, n);
        char what[64];
        snprintf(what, sizeof what, "%s->F32 n=%llu", vkg_dtype_name(st), (unsigned long long)n);
        assert_close_f32(what, got, want, n, 0, 0); /* exact: every 16-bit float is an f32 */
        free(src);
        free(got);
        free(want);
    }
}

static void test_f16_to_f32(void **state) { check_to_f32(VKG_DTYPE_F16, ref_f16_to_f32); }
static void test_bf16_to_f32(void **state) { check_to_f32(VKG_DTYPE_BF16, ref_bf16_to_f32); }

static void check_from_f32(enum vkg_dtype dt, uint16_t (*ref)(float), int (*is_nan)(uint16_t))
{
    uint64_t seed = 0x777 + (uint64_t)dt;
    for (size_t k = 0; k < sizeof g_sizes / sizeof g_sizes[0]; k++) {
        uint64_t n = g_sizes[k], off = k % 3, total = n + off + 3;
        float *src = malloc(n * 4);
        uint16_t *got = malloc(total * 2), *want = malloc(total * 2);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)rng_next(&seed);
            float f;
            memcpy(&f, &bits, 4);
            /* a mix of raw bit patterns (NaN, inf, denormals) and values in the half range */
            src[i] = (i % 4 == 0)   ? f
                     : (i % 4 == 1) ? rng_uniform(&seed, -70000, 70000)
                     : (i % 4 == 2) ? rng_uniform(&seed, -1e-4f, 1e-4f)
                                    : rng_uniform(&seed, -2, 2);
        }
        for (uint64_t i = 0; i < total; i++) got[i] = want[i] = (uint16_t)(0xa5a5 + i); /* guard pattern */
        for (uint64_t i = 0; i < n; i++) want[off + i] = ref(src[i]);
        gpu_convert(src, n * 4, VKG_DTYPE_F32, 0, got, total * 2, dt, off, n);
        char what[64];
        snprintf(what, sizeof what, "F32->%s n=%llu offset=%llu", vkg_dtype_name(dt), (unsigned long long)n,
                 (unsigned long long)off);
        assert_equal_u16(what, got, want, total, is_nan);
        free(src);
        free(got);
        free(want);
    }
}

static void test_f32_to_f16(void **state) { check_from_f32(VKG_DTYPE_F16, ref_f32_to_f16, ref_f16_is_nan); }
static void test_f32_to_bf16(void **state) { check_from_f32(VKG_DTYPE_BF16, ref_f32_to_bf16, ref_bf16_is_nan); }

/* Every f16 pattern through f16 -> f32 -> f16 must come back (NaNs as NaN). */
static void test_f16_all_patterns_round_trip(void **state)
{
    const uint64_t n = 65536;
    uint16_t *h = malloc(n * 2), *back = malloc(n * 2);
    float *f = malloc(n * 4);
    for (uint64_t i = 0; i < n; i++) h[i] = (uint16_t)i;
    gpu_convert(h, n * 2, VKG_DTYPE_F16, 0, f, n * 4, VKG_DTYPE_F32, 0, n);
    gpu_convert(f, n * 4, VKG_DTYPE_F32, 0, back, n * 2, VKG_DTYPE_F16, 0, n);
    assert_equal_u16("f16 round trip", back, h, n, ref_f16_is_nan);
    free(h);
    free(back);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_to_f32),
        cmocka_unit_test(test_bf16_to_f32),
        cmocka_unit_test(test_f32_to_f16),
        cmocka_unit_test(test_f32_to_bf16),
        cmocka_unit_test(test_f16_all_patterns_round_trip),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
