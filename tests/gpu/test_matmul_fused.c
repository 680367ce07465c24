/* test_matmul_fused — vkg_op_matmul_fused (projections stacked at load, one
 * launch on the texel lane tier) against the plain-C reference: each part
 * y_i = x W_i^T (+ b_i) by ref_matmul, and the gated MLP's
 * act(x Wg^T + bg) * (x Wu^T + bu) with silu / gelu_tanh in double.
 *
 * Parts of unequal rows (q|k|v: 70, 19, 19 — not multiples of a workgroup's
 * 64 rows; 2 parts), 1 / 3 / 9 / 17 tokens (one vector, token blocks of 8,
 * partial blocks), with and without biases, every type of the texel tier
 * (F32, F16, BF16 with n_in 136; Q8_0, Q4, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K with
 * n_in 512; Q6_K with n_in 256: 210-byte rows, so parts and rows start at any
 * even byte of a texel; Q8_0 and Q5_1 with n_in 96: rows of 3 blocks, starting
 * anywhere, VKG_MATMUL_ROWS_ANY) and a type outside it (F16 with n_in 100, not
 * a multiple of 8), which takes the separate launches.
 * Each case runs with the fused launch allowed and with it switched off
 * (dev->use.fused = 0); the texel views the command buffer made count the
 * launches (2 per matmul_lane launch: W and x), so a case that should fuse
 * and did not fails. The y rows past each part and the float before each
 * output keep a sentinel.
 *
 * Tolerance: a part as test_matmul: |got - want| <= 1e-4 sum_i |W x| + 1e-6.
 * GLU: |d(act(g) u)| <= |act'(g)| |u| e_g + |act(g)| e_u with |act'| <= 1.13
 * for both activations, e = 1e-4 sum|W x| + 1e-6, plus 1e-6 |act(g) u|. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ref_dtype.h"
#include "ref_matmul.h"
#include "ref_norm.h"

#define SENTINEL 12345.0f

static double silu(double g) { return g / (1 + exp(-g)); }
static double gelu_tanh(double g) { return 0.5 * g * (1 + tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))); }
/* the spacing of halves at |v| (2^-24 below the normal range) */
static double half_step(double v)
{
    int e;
    frexp(fabs(v) > 6.103515625e-05 ? v : 6.103515625e-05, &e);
    return ldexp(1.0, e - 11);
}

struct fcase {
    enum vkg_dtype wt;
    uint32_t n_in, n_tok;
    enum vkg_matmul_fuse kind;
    int bias;
    int fused_on;  /* dev->use.fused during the case */
    int expect_tx; /* texel views the launch must make (2: one fused launch), 0: not checked */
    int cs;        /* dev->use.matvec_cs during the case (with expect_tx: matvec1_lane_cs_* must run) */
};

/* XQ8 (use.xq8): the case hands the op a scratch for x in 8 bits (vkg_matmul_fused_args.xq); Q4_K,
 * Q5_K and Q6_K then multiply llama.cpp's Q8_K of x (ref_quantize_xq8), which the reference takes as its x */
static int g_xq;

static void run(const struct fcase *k, uint64_t seed)
{
    int glu = k->kind != VKG_MATMUL_FUSE_PARTS;
    uint32_t np = glu ? 2 : (seed & 1) ? 3 : 2;
    uint32_t rows[3] = { 70, glu ? 70 : 19, 19 }, n_rows = 0;
    for (uint32_t i = 0; i < np; i++) n_rows += rows[i];
    size_t wb;
    uint8_t *w = rng_weight(&seed, k->wt, n_rows, k->n_in, &wb);
    uint64_t row_bytes = wb / n_rows;
    float *x = malloc((size_t)k->n_tok * k->n_in * 4), *bias = malloc(n_rows * 4);
    rng_fill_f32(&seed, x, (size_t)k->n_tok * k->n_in, -1, 1);
    rng_fill_f32(&seed, bias, n_rows, -1, 1);
    struct vkg_buffer *bq = NULL;
    float *xr = x; /* the x the reference multiplies */
    enum vkg_xq8_fmt fmt = g_xq ? vkg_op_matmul_xq_fmt(g_dev, k->wt, k->n_tok, k->n_in) : VKG_XQ8_NONE;
    int xq8 = fmt != VKG_XQ8_NONE;
    if (g_xq) {
        size_t qb = vkg_op_matmul_xq_bytes(k->n_tok, k->n_in);
        void *z = calloc(1, qb);
        bq = gpu_buffer_from(z, qb, "fused xq");
        free(z);
    }
    if (xq8) {
        xr = malloc((size_t)k->n_tok * k->n_in * 4);
        for (uint32_t t = 0; t < k->n_tok; t++)
            if (fmt == VKG_XQ8_Q8_0 || fmt == VKG_XQ8_Q8_0F)
                ref_quantize_xq8_0(x + (size_t)t * k->n_in, k->n_in, NULL, xr + (size_t)t * k->n_in);
            else ref_quantize_xq8(x + (size_t)t * k->n_in, k->n_in, NULL, xr + (size_t)t * k->n_in);
    }
    /* outputs: [1 sentinel][n_tok][rows][4 sentinels] each */
    uint32_t n_y = glu ? 1 : np;
    struct vkg_buffer *bw = gpu_buffer_from(w, wb, "fused w"),
                      *bx = gpu_buffer_from(x, (size_t)k->n_tok * k->n_in * 4, "fused x");
    struct vkg_buffer *bb = gpu_buffer_from(bias, n_rows * 4, "fused bias"), *by[3] = { 0 }, *bt[2] = { 0 };
    float *yh[3];
    size_t ny[3];
    for (uint32_t i = 0; i < n_y; i++) {
        ny[i] = (size_t)k->n_tok * rows[i] + 5;
        yh[i] = malloc(ny[i] * 4);
        for (size_t j = 0; j < ny[i]; j++) yh[i][j] = SENTINEL;
        by[i] = gpu_buffer_from(yh[i], ny[i] * 4, "fused y");
    }
    for (uint32_t i = 0; glu && i < 2; i++) {
        float *z = calloc((size_t)k->n_tok * rows[0], 4);
        bt[i] = gpu_buffer_from(z, (size_t)k->n_tok * rows[0] * 4, "fused tmp");
        free(z);
    }
    struct vkg_view bv = vkg_buffer_view(bb);
    struct vkg_matmul_fused_args a = { .w = vkg_buffer_view(bw),
                                       .wt = k->wt,
                                       .n_in = k->n_in,
                                       .n_parts = np,
                                       .rows = { rows[0], rows[1], rows[2] },
                                       .x = vkg_buffer_view(bx),
                                       .n_tok = k->n_tok,
                                       .bias = k->bias ? &bv : NULL,
                                       .kind = k->kind,
                                       .xq = bq ? vkg_buffer_view(bq) : (struct vkg_view){ 0 } };
    for (uint32_t i = 0; i < n_y; i++) a.y[i] = vkg_view_sub(vkg_buffer_view(by[i]), 4, (size_t)k->n_tok * rows[i] * 4);
    for (uint32_t i = 0; glu && i < 2; i++) a.tmp[i] = vkg_buffer_view(bt[i]);
    int saved = g_dev->use.fused, saved_cs = g_dev->use.matvec_cs;
    g_dev->use.fused = k->fused_on;
    g_dev->use.matvec_cs = k->cs ? 2 : 0; /* 2: forced, any width */
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul_fused(c, &a));
    uint32_t tx = c->n_texel_views;
    const char *kernel = c->last_kernel;
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.fused = saved;
    g_dev->use.matvec_cs = saved_cs;
    char what[160];
    snprintf(what, sizeof what, "%s n_in %u n_tok %u kind %d parts %u%s fused %d cs %d", vkg_dtype_name(k->wt), k->n_in,
             k->n_tok, (int)k->kind, np, k->bias ? " +bias" : "", k->fused_on, k->cs);
    if (k->cs && k->expect_tx && g_dev->use.subgroup_arith && (!kernel || strncmp(kernel, "matvec1_lane_cs_", 16) != 0))
        fail_msg("%s: the column-split mat-vec did not run (last kernel %s)", what, kernel ? kernel : "none");
    if (k->expect_tx && tx != (uint32_t)k->expect_tx)
        fail_msg("%s: %u texel views recorded, want %d (one fused launch)", what, tx, k->expect_tx);
    if (!k->fused_on && g_dev->use.texel && tx == 2) fail_msg("%s: fused with use.fused off", what);
    /* Q8_0 weights read the rounded x as floats (Q8_0F): the float-x kernel */
    if (xq8 && fmt != VKG_XQ8_Q8_0F && k->fused_on && k->expect_tx && (!kernel || !strstr(kernel, "_xq8")))
        fail_msg("%s: x in 8 bits asked for, the last kernel was %s", what, kernel ? kernel : "none");
    /* the reference, part by part */
    float *want[3];
    double *abs_sum[3];
    for (uint32_t i = 0, r0 = 0; i < np; r0 += rows[i], i++) {
        want[i] = malloc((size_t)k->n_tok * rows[i] * 4);
        abs_sum[i] = malloc((size_t)k->n_tok * rows[i] * sizeof(double));
        ref_matmul(w + r0 * row_bytes, k->wt, rows[i], k->n_in, xr, k->n_in, k->bias ? bias + r0 : NULL, k->n_tok,
                   want[i], rows[i], abs_sum[i]);
        if (fmt == VKG_XQ8_Q8_0) /* Q4_1 / Q5_1 on Q8_1 x: llama.cpp's s */
            ref_xq8_1_fix(w + r0 * row_bytes, k->wt, rows[i], k->n_in, x, k->n_in, k->n_tok, want[i], rows[i]);
    }
    for (uint32_t i = 0; i < n_y; i++) {
        gpu_read(by[i], yh[i], ny[i] * 4);
        if (yh[i][0] != SENTINEL) fail_msg("%s: the float before y%u was written", what, i);
        for (size_t j = ny[i] - 4; j < ny[i]; j++)
            if (yh[i][j] != SENTINEL) fail_msg("%s: y%u written past its rows", what, i);
        for (size_t j = 0; j < (size_t)k->n_tok * rows[i]; j++) {
            double got = yh[i][1 + j], ref, tol;
            if (!glu) {
                ref = want[i][j];
                tol = 1e-4 * abs_sum[i][j] + 1e-6;
            } else {
                double g = want[0][j], u = want[1][j];
                double act = k->kind == VKG_MATMUL_FUSE_SWIGLU      ? silu(g)
                             : k->kind == VKG_MATMUL_FUSE_GEGLU_F16 ? ref_gelu_f16((float)g)
                                                                    : gelu_tanh(g);
                ref = act * u;
                tol = 1.13 * fabs(u) * (1e-4 * abs_sum[0][j] + 1e-6) + fabs(act) * (1e-4 * abs_sum[1][j] + 1e-6) +
                      1e-6 * fabs(ref);
                /* ggml's table: g's error may move f16(g) one half over, and the result one half */
                if (k->kind == VKG_MATMUL_FUSE_GEGLU_F16) tol += fabs(u) * (1.13 * half_step(g) + half_step(act));
            }
            if (!(fabs(got - ref) <= tol))
                fail_msg("%s: y%u[%zu][%zu] = %.9g, want %.9g (tol %.3g)", what, i, j / rows[i], j % rows[i], got, ref,
                         tol);
        }
    }
    for (uint32_t i = 0; i < np; i++) {
        free(want[i]);
        free(abs_sum[i]);
    }
    for (uint32_t i = 0; i < n_y; i++) {
        vkg_buffer_free(by[i]);
        free(yh[i]);
    }
    for (uint32_t i = 0; glu && i < 2; i++) vkg_buffer_free(bt[i]);
    vkg_cmd_free(c);
    vkg_buffer_free(bw);
    vkg_buffer_free(bx);
    vkg_buffer_free(bb);
    vkg_buffer_free(bq);
    if (xr != x) free(xr);
    free(w);
    free(x);
    free(bias);
    gpu_assert_no_validation();
}

static void sweep(enum vkg_dtype wt, uint32_t n_in, int fusable)
{
    static const uint32_t toks[] = { 1, 3, 9, 17 };
    static const enum vkg_matmul_fuse kinds[] = { VKG_MATMUL_FUSE_PARTS, VKG_MATMUL_FUSE_SWIGLU,
                                                  VKG_MATMUL_FUSE_GEGLU };
    uint64_t seed = 0xf00d + (uint64_t)wt * 977 + n_in;
    int is_float = wt == VKG_DTYPE_F32 || wt == VKG_DTYPE_F16 || wt == VKG_DTYPE_BF16;
    for (size_t t = 0; t < 4; t++)
        for (size_t kd = 0; kd < 3; kd++)
            for (int on = 0; on < 2; on++)
                /* one token, float weights: the row-per-lane and the column-split mat-vec both */
                for (int cs = 0; cs < (toks[t] == 1 && is_float ? 2 : 1); cs++) {
                    /* one fused launch = 2 texel views on a device with the fused tier */
                    int expect = on && fusable && g_dev->use.fused && g_dev->use.lane_ok ? 2 : 0;
                    struct fcase k = { wt, n_in, toks[t], kinds[kd], (int)((t + kd) & 1), on, expect, cs };
                    run(&k, seed++);
                }
}

static void test_f32(void **state) { sweep(VKG_DTYPE_F32, 136, 1); }
static void test_f16(void **state) { sweep(VKG_DTYPE_F16, 136, 1); }
static void test_bf16(void **state) { sweep(VKG_DTYPE_BF16, 136, 1); }
static void test_q8_0(void **state) { sweep(VKG_DTYPE_Q8_0, 512, 1); }
static void test_q4(void **state) { sweep(VKG_DTYPE_Q4, 512, 1); }
static void test_q4_k(void **state) { sweep(VKG_DTYPE_Q4_K, 512, 1); }
/* the same with the XQ8 scratch: fused (and, with use.fused off, each part apart) on 8-bit x */
static void test_q4_k_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q4_K, 768, 1);
    g_xq = 0;
}
static void test_q5_k_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q5_K, 512, 1);
    g_xq = 0;
}
static void test_q6_k_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q6_K, 512, 1);
    g_xq = 0;
}
/* the 32-value types on Q8_0 / Q8_1 x (Q8_0: those values as floats); Q5_1 and Q8_0 in rows of 3 blocks
 * (the realigning walk) */
static void test_q4_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q8_0, 96, 1);
    sweep(VKG_DTYPE_Q4, 512, 1);
    sweep(VKG_DTYPE_Q4_1, 512, 1);
    sweep(VKG_DTYPE_Q5_0, 512, 1);
    sweep(VKG_DTYPE_Q5_1, 96, 1);
    g_xq = 0;
}
static void test_q4_1(void **state) { sweep(VKG_DTYPE_Q4_1, 512, 1); }
static void test_q5_0(void **state) { sweep(VKG_DTYPE_Q5_0, 512, 1); }
static void test_q5_1(void **state) { sweep(VKG_DTYPE_Q5_1, 512, 1); }
static void test_q5_k(void **state) { sweep(VKG_DTYPE_Q5_K, 512, 1); }
static void test_q6_k(void **state) { sweep(VKG_DTYPE_Q6_K, 256, 1); }
/* rows of 3 blocks (ROWS_ANY) */
static void test_q8_0_short_rows(void **state) { sweep(VKG_DTYPE_Q8_0, 96, 1); }
static void test_q5_1_short_rows(void **state) { sweep(VKG_DTYPE_Q5_1, 96, 1); }
/* outside the fused tier: the separate launches (and the glu op) */
static void test_f16_odd_rows(void **state) { sweep(VKG_DTYPE_F16, 100, 0); }
/* ggml's table GELU (VKGRM_GELU_F16) in the fused gate|up launch and apart: float, Q8_0 and Q4_K
 * weights, one token and 9 (the act itself: gpu_test_norm's test_glu_f16) */
static void test_geglu_f16(void **state)
{
    static const enum vkg_dtype wts[] = { VKG_DTYPE_F16, VKG_DTYPE_Q8_0, VKG_DTYPE_Q4_K };
    static const uint32_t toks[] = { 1, 9 };
    uint64_t seed = 0x6e16;
    for (size_t w = 0; w < 3; w++)
        for (size_t t = 0; t < 2; t++)
            for (int on = 0; on < 2; on++) {
                int expect = on && g_dev->use.fused && g_dev->use.lane_ok ? 2 : 0;
                struct fcase k = {
                    wts[w], w == 0 ? 136u : 512u, toks[t], VKG_MATMUL_FUSE_GEGLU_F16, (int)(t & 1), on, expect, 0
                };
                run(&k, seed++);
            }
}

static void test_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "err");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    /* a GLU of unequal halves, one part, and a weight view too small for its rows */
    struct vkg_matmul_fused_args a = { .w = v,
                                       .wt = VKG_DTYPE_F32,
                                       .n_in = 8,
                                       .n_parts = 2,
                                       .rows = { 4, 3 },
                                       .x = v,
                                       .y = { v, v },
                                       .tmp = { v, v },
                                       .n_tok = 1,
                                       .kind = VKG_MATMUL_FUSE_SWIGLU };
    assert_int_equal(vkg_op_matmul_fused(c, &a), VKG_ERR_INVALID_ARG);
    a.kind = VKG_MATMUL_FUSE_PARTS;
    a.n_parts = 1;
    assert_int_equal(vkg_op_matmul_fused(c, &a), VKG_ERR_INVALID_ARG);
    a.n_parts = 2;
    a.rows[0] = 200; /* 203 rows x 32 bytes > 4096 */
    assert_int_equal(vkg_op_matmul_fused(c, &a), VKG_ERR_INVALID_ARG);
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32),       cmocka_unit_test(test_f16),
        cmocka_unit_test(test_bf16),      cmocka_unit_test(test_q8_0),
        cmocka_unit_test(test_q4),        cmocka_unit_test(test_q8_0_short_rows),
        cmocka_unit_test(test_q4_k),      cmocka_unit_test(test_q4_k_xq8),
        cmocka_unit_test(test_q5_k_xq8),  cmocka_unit_test(test_q6_k_xq8),
        cmocka_unit_test(test_q5_k),      cmocka_unit_test(test_q6_k),
        cmocka_unit_test(test_q4_1),      cmocka_unit_test(test_q5_0),
        cmocka_unit_test(test_q5_1),      cmocka_unit_test(test_q5_1_short_rows),
        cmocka_unit_test(test_q4_xq8),    cmocka_unit_test(test_f16_odd_rows),
        cmocka_unit_test(test_geglu_f16), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
