/* test_matmul_quantize — GPU quantize (F32/F16/BF16 -> Q8_0/Q4) against the
 * CPU reference quantizer ref_quantize, bit-exact: the f16 scale always, and
 * each quant except where the exact x/d is within 1e-6*max(1,|x/d|) of a .5
 * tie (the kernel computes x*(1/d) in f32), where it may differ by one.
 * Block counts not multiples of the workgroup (64), 16-bit sources at an odd
 * element, destinations 2 bytes into a word (blocks share words with their
 * neighbours and with the guard bytes around the tensor, which must survive),
 * special blocks (zeros, one value, negative maximum, exact ties, huge and
 * tiny scales). */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ref_dtype.h"
#include "ref_matmul.h"

#define GUARD 0xa5

/* Block b of the input: mostly random at a scale that varies by block, a few special ones. */
static void fill_block(float *x, uint64_t b, uint64_t *seed)
{
    float scale = powf(10.0f, (float)(b % 9) - 4.0f); /* 1e-4 .. 1e4 */
    for (int j = 0; j < 32; j++) x[j] = rng_uniform(seed, -scale, scale);
    switch (b % 11) {
    case 3: memset(x, 0, 32 * 4); break; /* d = 0 */
    case 5:
        memset(x, 0, 32 * 4);
        x[7] = -3.5f;
        break; /* one value, negative */
    case 7:
        for (int j = 0; j < 32; j++) x[j] = -2.0f;
        break; /* constant */
    case 9:
        for (int j = 0; j < 32; j++) x[j] = (float)j - 15.5f;
        break; /* halves: ties for Q4 */
    case 10:
        x[0] = 127.0f;
        for (int j = 1; j < 32; j++) x[j] = (float)j + 0.5f;
        break; /* ties for Q8_0 */
    }
}

/* The source stored as st (F16/BF16 round the floats; the reference quantizes the rounded values). */
static void *store_src(const float *f, uint64_t n, enum vkg_dtype st, uint64_t off, float *rounded)
{
    uint32_t es = st == VKG_DTYPE_F32 ? 4 : 2;
    uint8_t *s = calloc(n + off, es);
    for (uint64_t i = 0; i < n; i++) {
        if (st == VKG_DTYPE_F32) {
            memcpy(s + (off + i) * 4, &f[i], 4);
            rounded[i] = f[i];
        } else {
            uint16_t h = st == VKG_DTYPE_F16 ? ref_f32_to_f16(f[i]) : ref_f32_to_bf16(f[i]);
            memcpy(s + (off + i) * 2, &h, 2);
            rounded[i] = st == VKG_DTYPE_F16 ? ref_f16_to_f32(h) : ref_bf16_to_f32(h);
        }
    }
    return s;
}

/* Quant j (0..31) of a block: Q8_0 int8, Q4 nibble. */
static int quant_of(const uint8_t *blk, enum vkg_dtype dt, int j)
{
    if (dt == VKG_DTYPE_Q8_0) return (int8_t)blk[2 + j];
    return j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4);
}

static void compare_blocks(const char *what, const uint8_t *got, const uint8_t *want, const uint8_t *tie, uint64_t nb,
                           enum vkg_dtype dt)
{
    uint32_t bb = vkg_dtype_block_bytes(dt);
    for (uint64_t b = 0; b < nb; b++) {
        const uint8_t *g = got + b * bb, *w = want + b * bb;
        if (g[0] != w[0] || g[1] != w[1])
            fail_msg("%s: block %llu scale got 0x%02x%02x want 0x%02x%02x", what, (unsigned long long)b, g[1], g[0],
                     w[1], w[0]);
        for (int j = 0; j < 32; j++) {
            int d = quant_of(g, dt, j) - quant_of(w, dt, j);
            if (d != 0 && !(tie[b * 32 + j] && abs(d) == 1))
                fail_msg("%s: block %llu value %d: got q %d want %d%s", what, (unsigned long long)b, j,
                         quant_of(g, dt, j), quant_of(w, dt, j), tie[b * 32 + j] ? " (tie)" : "");
        }
    }
}

static void run(enum vkg_dtype st, enum vkg_dtype dt, uint64_t nb, uint64_t src_off, uint64_t dst_off)
{
    uint64_t n = nb * 32, seed = 0x5eed + nb + (uint64_t)st * 7 + (uint64_t)dt;
    uint32_t es = st == VKG_DTYPE_F32 ? 4 : 2, bb = vkg_dtype_block_bytes(dt);
    float *f = malloc(n * 4), *rounded = malloc(n * 4);
    for (uint64_t b = 0; b < nb; b++) fill_block(f + 32 * b, b, &seed);
    void *src = store_src(f, n, st, src_off, rounded);
    uint64_t dbytes = dst_off + nb * bb + 6;
    uint8_t *got = malloc(dbytes), *want = malloc(nb * bb), *tie = malloc(n);
    memset(got, GUARD, dbytes);
    ref_quantize(rounded, n, dt, want, tie);
    struct vkg_buffer *bs = gpu_buffer_from(src, (n + src_off) * es, "quant src");
    struct vkg_buffer *bd = gpu_buffer_from(got, dbytes, "quant dst");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_quantize(c, vkg_view_sub(vkg_buffer_view(bs), src_off * es, n * es), st,
                           vkg_view_sub(vkg_buffer_view(bd), dst_off, nb * bb), dt, n));
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(bd, got, dbytes);
    char what[96];
    snprintf(what, sizeof what, "%s->%s %llu blocks src+%llu dst+%llu", vkg_dtype_name(st), vkg_dtype_name(dt),
             (unsigned long long)nb, (unsigned long long)src_off, (unsigned long long)dst_off);
    for (uint64_t i = 0; i < dbytes; i++)
        if ((i < dst_off || i >= dst_off + nb * bb) && got[i] != GUARD)
            fail_msg("%s: guard byte %llu overwritten (0x%02x)", what, (unsigned long long)i, got[i]);
    compare_blocks(what, got + dst_off, want, tie, nb, dt);
    vkg_cmd_free(c);
    vkg_buffer_free(bs);
    vkg_buffer_free(bd);
    free(f);
    free(rounded);
    free(src);
    free(got);
    free(want);
    free(tie);
    gpu_assert_no_validation();
}

static void sweep(enum vkg_dtype st, enum vkg_dtype dt)
{
    static const uint64_t nbs[] = { 1, 2, 3, 63, 64, 65, 1000, 4097 };
    for (size_t i = 0; i < sizeof nbs / sizeof nbs[0]; i++) {
        uint64_t so = st == VKG_DTYPE_F32 ? i % 2 : i % 3; /* odd element offsets for 16-bit sources */
        run(st, dt, nbs[i], so, (i % 3) * 2);              /* dst at byte 0, 2, 4 of a word */
    }
}

static void test_f32_q8_0(void **state) { sweep(VKG_DTYPE_F32, VKG_DTYPE_Q8_0); }
static void test_f16_q8_0(void **state) { sweep(VKG_DTYPE_F16, VKG_DTYPE_Q8_0); }
static void test_bf16_q8_0(void **state) { sweep(VKG_DTYPE_BF16, VKG_DTYPE_Q8_0); }
static void test_f32_q4(void **state) { sweep(VKG_DTYPE_F32, VKG_DTYPE_Q4); }
static void test_f16_q4(void **state) { sweep(VKG_DTYPE_F16, VKG_DTYPE_Q4); }
static void test_bf16_q4(void **state) { sweep(VKG_DTYPE_BF16, VKG_DTYPE_Q4); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_q8_0), cmocka_unit_test(test_f16_q8_0), cmocka_unit_test(test_bf16_q8_0),
        cmocka_unit_test(test_f32_q4),   cmocka_unit_test(test_f16_q4),   cmocka_unit_test(test_bf16_q4),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
