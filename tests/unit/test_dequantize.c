/* test_dequantize — vkg_dtype_dequantize (loaders/dtype.c, the host dequantizer the GGUF reader uses to
 * rebuild DeepSeek-V2's kv_b_proj from a quantized attn_k_b / attn_v_b pair) against the test suite's
 * own transcription of ggml's dequantize_row_* (tests/reference/ref_ggml_quants.c, itself checked
 * against the gguf package's numpy dequantizers), bit for bit, on random blocks of every block type:
 * random bytes everywhere but the f16 scales, which are drawn as finite halves of both signs
 * (subnormal to 2^5) so that every value is a number. Also: F16 / BF16 / F32 widening, and the
 * refusals (a partial block, a non-loadable dtype). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dtype.h"
#include "ref_dtype.h"
#include "ref_ggml_quants.h"

static uint32_t rng = 12345u;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* a finite half, |h| < 2^5 (exponent field < 20), either sign, subnormals included */
static uint16_t scale_half(void) { return (uint16_t)((next() & 0x8000u) | ((next() % 20u) << 10) | (next() & 0x3ffu)); }

static void put_half(uint8_t *p, uint16_t h)
{
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

/* byte offsets of each block's f16 fields (d, and m / dmin where the type has one) */
static void scales(enum vkg_dtype dt, uint8_t *b)
{
    switch (dt) {
    case VKG_DTYPE_Q8_0:
    case VKG_DTYPE_Q4:
    case VKG_DTYPE_Q5_0: put_half(b, scale_half()); break;
    case VKG_DTYPE_Q4_1:
    case VKG_DTYPE_Q5_1:
    case VKG_DTYPE_Q4_K:
    case VKG_DTYPE_Q5_K:
        put_half(b, scale_half());
        put_half(b + 2, scale_half());
        break;
    case VKG_DTYPE_Q6_K: put_half(b + 208, scale_half()); break;
    default: fail();
    }
}

static void check_type(enum vkg_dtype dt)
{
    const uint32_t bs = vkg_dtype_block_size(dt), bb = vkg_dtype_block_bytes(dt), nb = 64;
    uint8_t *src = malloc((size_t)nb * bb);
    float *got = malloc((size_t)nb * bs * sizeof *got), *want = malloc((size_t)nb * bs * sizeof *want);
    assert_non_null(src);
    assert_non_null(got);
    assert_non_null(want);
    for (uint32_t i = 0; i < nb * bb; i++) src[i] = (uint8_t)next();
    for (uint32_t i = 0; i < nb; i++) scales(dt, src + (size_t)i * bb);
    /* the extreme quants too: one block of all-ones and one of all-zeros bytes (scales kept) */
    memset(src + 4, 0xff, dt == VKG_DTYPE_Q6_K ? 200 : bb - 4);
    memset(src + bb + 4, 0, dt == VKG_DTYPE_Q6_K ? 200 : bb - 4);
    scales(dt, src);
    scales(dt, src + bb);
    ref_ggml_dequantize(dt, src, (uint64_t)nb * bs, want);
    assert_int_equal(vkg_dtype_dequantize(dt, src, (uint64_t)nb * bs, got), VKG_OK);
    size_t nz = 0;
    for (uint32_t i = 0; i < nb * bs; i++) {
        if (memcmp(&got[i], &want[i], 4) != 0)
            fail_msg("%s value %u: %.9g, the reference %.9g", vkg_dtype_name(dt), i, got[i], want[i]);
        nz += got[i] != 0.0f;
    }
    assert_true(nz > nb * bs / 2); /* not a degenerate draw */
    /* a partial block is refused */
    if (bs > 1) assert_int_equal(vkg_dtype_dequantize(dt, src, bs + 1, got), VKG_ERR_INVALID_ARG);
    free(src);
    free(got);
    free(want);
}

static void test_q8_0(void **state) { check_type(VKG_DTYPE_Q8_0); }
static void test_q4_0(void **state) { check_type(VKG_DTYPE_Q4); }
static void test_q4_1(void **state) { check_type(VKG_DTYPE_Q4_1); }
static void test_q5_0(void **state) { check_type(VKG_DTYPE_Q5_0); }
static void test_q5_1(void **state) { check_type(VKG_DTYPE_Q5_1); }
static void test_q4_k(void **state) { check_type(VKG_DTYPE_Q4_K); }
static void test_q5_k(void **state) { check_type(VKG_DTYPE_Q5_K); }
static void test_q6_k(void **state) { check_type(VKG_DTYPE_Q6_K); }

static void test_floats(void **state)
{
    uint16_t h[512];
    float f[512], got[512];
    for (int i = 0; i < 512; i++) {
        h[i] = (uint16_t)next();
        f[i] = (float)(int)(next() % 20001u - 10000u) / 7.0f;
    }
    assert_int_equal(vkg_dtype_dequantize(VKG_DTYPE_F16, h, 512, got), VKG_OK);
    for (int i = 0; i < 512; i++) {
        float w = ref_f16_to_f32(h[i]);
        assert_true(isnan(w) ? isnan(got[i]) : memcmp(&w, &got[i], 4) == 0);
    }
    assert_int_equal(vkg_dtype_dequantize(VKG_DTYPE_BF16, h, 512, got), VKG_OK);
    for (int i = 0; i < 512; i++) {
        uint32_t u = (uint32_t)h[i] << 16, g;
        memcpy(&g, &got[i], 4);
        assert_true(((u >> 23) & 0xff) == 0xff && (u & 0x7fffff) ? isnan(got[i]) : g == u);
    }
    assert_int_equal(vkg_dtype_dequantize(VKG_DTYPE_F32, f, 512, got), VKG_OK);
    assert_memory_equal(got, f, sizeof f);
    assert_int_equal(vkg_dtype_dequantize(VKG_DTYPE_I32, f, 4, got), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_dtype_dequantize(VKG_DTYPE_UNKNOWN, f, 4, got), VKG_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q8_0), cmocka_unit_test(test_q4_0), cmocka_unit_test(test_q4_1),
        cmocka_unit_test(test_q5_0), cmocka_unit_test(test_q5_1), cmocka_unit_test(test_q4_k),
        cmocka_unit_test(test_q5_k), cmocka_unit_test(test_q6_k), cmocka_unit_test(test_floats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
