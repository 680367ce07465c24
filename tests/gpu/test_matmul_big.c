/* test_matmul_big — weights larger than one binding (lavapipe: 128 MiB):
 *  - 32768 x 1536 F32 (192 MiB): decode (2 vectors) and prefill (9 tokens)
 *    with bias; then the same weight quantized to Q8_0 on the GPU (its source
 *    is split into windows too) compared with the reference quantizer, and a
 *    decode through the GPU-made blocks;
 *  - a vocab projection 151936 x 256 F32 (148 MiB) at 1, 4 and 17 tokens,
 *    and the same rows as F16 and Q4 (one window, but 75968 decode workgroups:
 *    the grid is folded into 2-D);
 *  - x and y rows 32 MiB apart at 8 and 9 tokens: split by tokens.
 * Tolerance as in test_matmul: |got - want| <= 1e-4 * sum|w*x| + 1e-6. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ref_matmul.h"

static void check(const char *what, const float *got, const float *want, const double *abs_sum, size_t n)
{
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)got[i] - want[i]) / (1e-4 * abs_sum[i] + 1e-6);
        if (isnan(r)) r = INFINITY;
        if (r > worst) {
            worst = r;
            bad = i;
        }
    }
    if (worst > 1)
        fail_msg("%s: max |err| / (1e-4 sum|wx| + 1e-6) = %.3g at %zu: got %.9g want %.9g", what, worst, bad, got[bad],
                 want[bad]);
}

/* y = W x (+bias) on the GPU for n_tok tokens, checked against the reference on the same stored weights. */
static void matmul_check(const char *what, struct vkg_buffer *w, const void *w_host, enum vkg_dtype wt, uint32_t n_out,
                         uint32_t n_in, uint32_t n_tok, const float *bias_host, struct vkg_buffer *bias)
{
    uint64_t seed = 0xb16 + n_tok;
    size_t ny = (size_t)n_tok * n_out;
    float *x = malloc((size_t)n_tok * n_in * 4), *got = malloc(ny * 4), *want = malloc(ny * 4);
    double *abs_sum = malloc(ny * sizeof *abs_sum);
    rng_fill_f32(&seed, x, (size_t)n_tok * n_in, -1, 1);
    struct vkg_buffer *bx = gpu_buffer_from(x, (size_t)n_tok * n_in * 4, "big x");
    struct vkg_buffer *by = gpu_buffer_from(NULL, ny * 4, "big y");
    struct vkg_view bv = bias ? vkg_buffer_view(bias) : (struct vkg_view){ 0 };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul(c, vkg_buffer_view(w), wt, n_out, n_in, vkg_buffer_view(bx), vkg_buffer_view(by), n_tok,
                         bias ? &bv : NULL));
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(by, got, ny * 4);
    ref_matmul(w_host, wt, n_out, n_in, x, n_in, bias_host, n_tok, want, n_out, abs_sum);
    char buf[160];
    snprintf(buf, sizeof buf, "%s %s %ux%u x %u tokens", what, vkg_dtype_name(wt), n_out, n_in, n_tok);
    check(buf, got, want, abs_sum, ny);
    vkg_cmd_free(c);
    vkg_buffer_free(bx);
    vkg_buffer_free(by);
    free(x);
    free(got);
    free(want);
    free(abs_sum);
    gpu_assert_no_validation();
}

static void test_weight_beyond_binding(void **state)
{
    const uint32_t n_out = 32768, n_in = 1536;
    const uint64_t n = (uint64_t)n_out * n_in, bytes = n * 4;
    assert_true(bytes > g_dev->info.max_storage_buffer_range || g_dev->info.max_storage_buffer_range >= (1ull << 31));
    uint64_t seed = 0xbeef;
    float *w = malloc(bytes), *bias = malloc(n_out * 4);
    rng_fill_f32(&seed, w, n, -1, 1);
    rng_fill_f32(&seed, bias, n_out, -1, 1);
    struct vkg_buffer *bw = gpu_buffer_from(w, bytes, "model.layers.0.mlp.up_proj.weight");
    struct vkg_buffer *bb = gpu_buffer_from(bias, n_out * 4, "up_proj.bias");
    matmul_check("192 MiB", bw, w, VKG_DTYPE_F32, n_out, n_in, 2, bias, bb);
    matmul_check("192 MiB", bw, w, VKG_DTYPE_F32, n_out, n_in, 9, bias, bb);

    /* GPU quantization of the whole tensor, then a decode through those blocks */
    uint64_t qb = n / 32 * 34;
    uint8_t *q = malloc(qb), *want = malloc(qb), *tie = malloc(n);
    struct vkg_buffer *bq = gpu_buffer_from(NULL, qb, "up_proj.weight Q8_0");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_quantize(c, vkg_buffer_view(bw), VKG_DTYPE_F32, vkg_buffer_view(bq), VKG_DTYPE_Q8_0, n));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    gpu_read(bq, q, qb);
    ref_quantize(w, n, VKG_DTYPE_Q8_0, want, tie);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t o = i / 32 * 34;
        int d = (int8_t)q[o + 2 + i % 32] - (int8_t)want[o + 2 + i % 32];
        if (q[o] != want[o] || q[o + 1] != want[o + 1] || (d && !(tie[i] && abs(d) == 1)))
            fail_msg("192 MiB F32 -> Q8_0: value %llu (block %llu) differs from the reference quantizer",
                     (unsigned long long)i, (unsigned long long)(i / 32));
    }
    matmul_check("GPU-quantized", bq, q, VKG_DTYPE_Q8_0, n_out, n_in, 3, NULL, NULL);
    vkg_buffer_free(bw);
    vkg_buffer_free(bb);
    vkg_buffer_free(bq);
    free(w);
    free(bias);
    free(q);
    free(want);
    free(tie);
}

static void test_vocab_projection(void **state)
{
    const uint32_t n_out = 151936, n_in = 256;
    const uint64_t n = (uint64_t)n_out * n_in;
    uint64_t seed = 0x7ab;
    float *w = malloc(n * 4);
    rng_fill_f32(&seed, w, n, -1, 1);
    struct vkg_buffer *bw = gpu_buffer_from(w, n * 4, "lm_head.weight");
    matmul_check("vocab", bw, w, VKG_DTYPE_F32, n_out, n_in, 1, NULL, NULL);
    matmul_check("vocab", bw, w, VKG_DTYPE_F32, n_out, n_in, 4, NULL, NULL);
    matmul_check("vocab", bw, w, VKG_DTYPE_F32, n_out, n_in, 17, NULL, NULL);
    vkg_buffer_free(bw);
    uint16_t *h = malloc(n * 2);
    for (uint64_t i = 0; i < n; i++) h[i] = vkg_f32_to_f16(w[i]);
    bw = gpu_buffer_from(h, n * 2, "lm_head.weight F16");
    matmul_check("vocab", bw, h, VKG_DTYPE_F16, n_out, n_in, 1, NULL, NULL);
    vkg_buffer_free(bw);
    uint8_t *q = malloc(n / 32 * 18);
    ref_quantize(w, n, VKG_DTYPE_Q4, q, NULL);
    bw = gpu_buffer_from(q, n / 32 * 18, "lm_head.weight Q4");
    matmul_check("vocab", bw, q, VKG_DTYPE_Q4, n_out, n_in, 2, NULL, NULL);
    vkg_buffer_free(bw);
    free(w);
    free(h);
    free(q);
}

/* Activations and outputs beyond one binding: x and y rows 32 MiB apart (a
 * slice of a very wide tensor), so only a few tokens fit one window and the
 * launcher splits by tokens, for the decode path (8 tokens) and the GEMM (9). */
static void test_token_windows(void **state)
{
    const uint32_t n_out = 100, n_in = 64;
    const size_t stride = 8u << 20; /* floats between tokens */
    uint64_t seed = 0x70c;
    float w[100 * 64], bias[100];
    rng_fill_f32(&seed, w, n_out * n_in, -1, 1);
    rng_fill_f32(&seed, bias, n_out, -1, 1);
    struct vkg_buffer *bw = gpu_buffer_from(w, sizeof w, "w"), *bb = gpu_buffer_from(bias, sizeof bias, "b");
    struct vkg_view bv = vkg_buffer_view(bb);
    for (uint32_t n_tok = 8; n_tok <= 9; n_tok++) {
        size_t span = (n_tok - 1) * stride + 256; /* >= n_out + the 64 guard floats checked */
        assert_true(span * 4 > g_dev->info.max_storage_buffer_range ||
                    g_dev->info.max_storage_buffer_range >= (1ull << 30));
        float *x = calloc(span, 4), *y = calloc(span, 4), *want = calloc(span, 4);
        double *abs_sum = malloc((size_t)n_tok * n_out * sizeof *abs_sum);
        for (uint32_t t = 0; t < n_tok; t++) rng_fill_f32(&seed, x + t * stride, n_in, -1, 1);
        struct vkg_buffer *bx = gpu_buffer_from(x, span * 4, "wide x"), *by = gpu_buffer_from(y, span * 4, "wide y");
        struct vkg_matmul_args a = { .w = vkg_buffer_view(bw),
                                     .wt = VKG_DTYPE_F32,
                                     .n_out = n_out,
                                     .n_in = n_in,
                                     .x = vkg_buffer_view(bx),
                                     .x_stride = stride,
                                     .y = vkg_buffer_view(by),
                                     .y_stride = stride,
                                     .n_tok = n_tok,
                                     .bias = &bv };
        struct vkg_cmd *c;
        GPU_OK(vkg_cmd_create(g_dev, &c));
        GPU_OK(vkg_cmd_begin(c));
        GPU_OK(vkg_op_matmul_ex(c, &a));
        GPU_OK(vkg_cmd_submit_wait(c));
        gpu_read(by, y, span * 4);
        ref_matmul(w, VKG_DTYPE_F32, n_out, n_in, x, stride, bias, n_tok, want, stride, abs_sum);
        for (uint32_t t = 0; t < n_tok; t++) {
            char what[64];
            snprintf(what, sizeof what, "token %u of %u, rows 32 MiB apart", t, n_tok);
            check(what, y + t * stride, want + t * stride, abs_sum + (size_t)t * n_out, n_out);
            for (size_t o = n_out; o < n_out + 64 && t + 1 < n_tok; o++)
                if (y[t * stride + o] != 0) fail_msg("%s: y[%u][%zu] past n_out written", what, t, o);
        }
        vkg_cmd_free(c);
        vkg_buffer_free(bx);
        vkg_buffer_free(by);
        free(x);
        free(y);
        free(want);
        free(abs_sum);
        gpu_assert_no_validation();
    }
    vkg_buffer_free(bw);
    vkg_buffer_free(bb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weight_beyond_binding),
        cmocka_unit_test(test_vocab_projection),
        cmocka_unit_test(test_token_windows),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
