/* test_matmul_norm — norms inside the texel tier's matmul launches.
 *
 * vkg_op_matmul_add_norm (a layer's output projection,
 * the residual add and the next RMSNorm; one launch on the texel lane tier)
 * against the plain-C reference: res' = res + (x W^T + b) with the product by
 * ref_matmul (double), h = res' / sqrt(mean(res'^2) + eps) * (w + w_add) in
 * double from the reference's res'.
 *
 * Shapes: 70 output rows (one partial workgroup of the one-token kernel's 64
 * rows, two of the 8-token kernel's) and 200 (four workgroups: the arrival
 * counter has others to wait for), 1 / 3 / 9 / 17 / 40 tokens (one vector,
 * partial and full token blocks, each block with its own counter), with and
 * without bias, plain and Gemma norms, the float types (n_in 136) with the
 * row-per-lane and the column-split one-token kernels, Q8_0 / Q4_K (512),
 * Q6_K (256: rows at any even byte) and Q5_1 with rows of 3 blocks (96,
 * ROWS_ANY), and F16 with n_in 100 (outside the texel tier: the two-launch
 * route only).
 *
 * Each case runs twice: with dev->use.resnorm as the device has it and with
 * it off (the matmul into tmp, then rmsnorm_add). Where the one launch runs
 * (the last kernel recorded is the matmul, not rmsnorm_add), the two results
 * must be the same bits: the one launch sums and normalises in the same order
 * as the two (both on the lane tier). The counters must be zeros after it.
 * Sentinels before and after res and h must stay.
 *
 * Tolerance: res' as test_matmul (1e-4 sum_i |W x| + 1e-6, plus 1e-6 |res'|
 * for the add); h: |w| inv (e_j + |res'_j| e_rms) + 1e-6 |h_j| + 1e-6, with
 * e_rms = ||e|| / ||res'|| + 1e-6 the relative error of the norm.
 *
 * vkg_op_matmul_fused with Qwen3's q/k head norms (PARTS of q 5 heads, k 2, v 2
 * of 16 values): each projection by ref_matmul, q's and k's heads normalised in
 * double with their weights, v as it is; 1 / 3 / 9 / 17 tokens, float and
 * block types, the one-token column split; with use.resnorm (the norms in the
 * launch's tail) and without (two rmsnorm launches after it): the same bits,
 * counters back at zero; and with use.fused off (separate launches).
 *
 * vkg_op_moe_combine_add_norm (a MoE layer's weighted sum of its k expert
 * outputs, plus the shared experts' output, the residual add and the next
 * norm): 1 / 3 / 9 / 40 tokens, k 1 and 6, rows of 72 and 200, weights, unit
 * weights with the shared output, plain and Gemma norms; one launch and two
 * give the same bits; the reference in double, tolerance 1e-6 of the sum of
 * magnitudes for res' and the norm's as above for h. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ops_moe.h"
#include "ref_dtype.h"
#include "ref_matmul.h"

#define SENTINEL 12345.0f
#define EPS 1e-5f

struct ncase {
    enum vkg_dtype wt;
    uint32_t n_in, n_out, n_tok;
    int bias, gemma, cs;
};

/* XQ8 (use.xq8): the cases hand the op a scratch for x in 8 bits (vkg_matmul_args.xq); Q4_K and
 * Q6_K then multiply llama.cpp's Q8_K of x (ref_quantize_xq8), which the reference takes as its x, on both
 * routes (so they still give the same bits) */
static int g_xq;

/* One route; returns 1 when the last kernel was a matmul (the one launch), fills res and h
 * ([1 sentinel][n_tok][n_out][4 sentinels]) and checks the counters came back zero. */
static int run_route(const struct ncase *k, int resnorm, struct vkg_buffer *bw, struct vkg_buffer *bx,
                     struct vkg_buffer *bb, struct vkg_buffer *bg, const float *res0, float *res, float *h,
                     const char *what)
{
    size_t n = (size_t)k->n_tok * k->n_out, nb = n + 5;
    struct vkg_buffer *br = gpu_buffer_from(res0, nb * 4, "norm res");
    for (size_t j = 0; j < nb; j++) h[j] = SENTINEL;
    struct vkg_buffer *bh = gpu_buffer_from(h, nb * 4, "norm h");
    float *z = calloc(n, 4);
    struct vkg_buffer *bt = gpu_buffer_from(z, n * 4, "norm tmp");
    uint64_t cb = vkg_op_matmul_norm_counter_bytes(k->n_tok);
    struct vkg_buffer *bc = gpu_buffer_from(z, cb, "norm counters");
    struct vkg_buffer *bq = NULL;
    if (g_xq) {
        size_t qb = vkg_op_matmul_xq_bytes(k->n_tok, k->n_in);
        void *zq = calloc(1, qb);
        bq = gpu_buffer_from(zq, qb, "norm xq");
        free(zq);
    }
    struct vkg_view bv = vkg_buffer_view(bb);
    struct vkg_matmul_norm_args a = { .mm = { .w = vkg_buffer_view(bw),
                                              .wt = k->wt,
                                              .n_out = k->n_out,
                                              .n_in = k->n_in,
                                              .x = vkg_buffer_view(bx),
                                              .y = vkg_view_sub(vkg_buffer_view(br), 4, n * 4),
                                              .n_tok = k->n_tok,
                                              .bias = k->bias ? &bv : NULL,
                                              .xq = bq ? vkg_buffer_view(bq) : (struct vkg_view){ 0 } },
                                      .norm_w = vkg_buffer_view(bg),
                                      .h = vkg_view_sub(vkg_buffer_view(bh), 4, n * 4),
                                      .tmp = vkg_buffer_view(bt),
                                      .counters = vkg_buffer_view(bc),
                                      .eps = EPS,
                                      .kind = k->gemma ? VKG_RMSNORM_GEMMA : VKG_RMSNORM_PLAIN };
    int saved = g_dev->use.resnorm, saved_cs = g_dev->use.matvec_cs;
    g_dev->use.resnorm = resnorm;
    g_dev->use.matvec_cs = k->cs ? 2 : 0;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul_add_norm(c, &a));
    const char *kernel = c->last_kernel;
    int one = kernel && strncmp(kernel, "rmsnorm", 7) != 0;
    if (k->cs && one && strncmp(kernel, "matvec1_lane_cs_", 16) != 0)
        fail_msg("%s: the column-split mat-vec did not run (%s)", what, kernel);
    enum vkg_xq8_fmt kf = g_xq ? vkg_op_matmul_xq_fmt(g_dev, k->wt, k->n_tok, k->n_in) : VKG_XQ8_NONE;
    /* Q8_0F: the float-x kernel reads the rounded x (the reference below tells) */
    if (kf != VKG_XQ8_NONE && kf != VKG_XQ8_Q8_0F && one && !strstr(kernel, "_xq8"))
        fail_msg("%s: x in 8 bits asked for, the last kernel was %s", what, kernel);
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.resnorm = saved;
    g_dev->use.matvec_cs = saved_cs;
    gpu_read(br, res, nb * 4);
    gpu_read(bh, h, nb * 4);
    uint32_t *cnt = malloc(cb);
    gpu_read(bc, cnt, cb);
    for (uint64_t i = 0; i < cb / 4; i++)
        if (cnt[i] != 0) fail_msg("%s: counter %llu left at %u", what, (unsigned long long)i, cnt[i]);
    free(cnt);
    if (res[0] != SENTINEL || h[0] != SENTINEL) fail_msg("%s: the float before res / h was written", what);
    for (size_t j = n + 1; j < nb; j++)
        if (res[j] != SENTINEL || h[j] != SENTINEL) fail_msg("%s: res / h written past the rows", what);
    vkg_cmd_free(c);
    vkg_buffer_free(br);
    vkg_buffer_free(bh);
    vkg_buffer_free(bt);
    vkg_buffer_free(bc);
    vkg_buffer_free(bq);
    free(z);
    return one;
}

static void run(const struct ncase *k, uint64_t seed)
{
    size_t wb, n = (size_t)k->n_tok * k->n_out, nb = n + 5;
    uint8_t *w = rng_weight(&seed, k->wt, k->n_out, k->n_in, &wb);
    float *x = malloc((size_t)k->n_tok * k->n_in * 4), *bias = malloc(k->n_out * 4), *g = malloc(k->n_out * 4);
    float *res0 = malloc(nb * 4);
    rng_fill_f32(&seed, x, (size_t)k->n_tok * k->n_in, -1, 1);
    rng_fill_f32(&seed, bias, k->n_out, -1, 1);
    rng_fill_f32(&seed, g, k->n_out, -2, 2);
    for (size_t j = 0; j < nb; j++) res0[j] = SENTINEL;
    rng_fill_f32(&seed, res0 + 1, n, -3, 3);
    struct vkg_buffer *bw = gpu_buffer_from(w, wb, "norm w"),
                      *bx = gpu_buffer_from(x, (size_t)k->n_tok * k->n_in * 4, "norm x");
    struct vkg_buffer *bb = gpu_buffer_from(bias, k->n_out * 4, "norm bias"),
                      *bg = gpu_buffer_from(g, k->n_out * 4, "norm g");
    char what[160];
    snprintf(what, sizeof what, "%s %ux%u n_tok %u%s%s%s", vkg_dtype_name(k->wt), k->n_out, k->n_in, k->n_tok,
             k->bias ? " +bias" : "", k->gemma ? " gemma" : "", k->cs ? " cs" : "");
    float *res1 = malloc(nb * 4), *h1 = malloc(nb * 4), *res2 = malloc(nb * 4), *h2 = malloc(nb * 4);
    int one = run_route(k, g_dev->use.resnorm, bw, bx, bb, bg, res0, res1, h1, what);
    int one_off = run_route(k, 0, bw, bx, bb, bg, res0, res2, h2, what);
    if (one_off) fail_msg("%s: one launch with use.resnorm off", what);
    int tex_type = k->wt != VKG_DTYPE_F16 || k->n_in % 8 == 0;
    /* the one launch serves up to VKG_MATMUL_RESNORM_MAX_TOK tokens (push_matmul.h says why) */
    int few = k->n_tok <= VKG_MATMUL_RESNORM_MAX_TOK;
    if (g_dev->use.resnorm && tex_type && few && !one)
        fail_msg("%s: two launches where the one launch should run", what);
    if (one && !few) fail_msg("%s: the one launch ran for %u tokens", what, k->n_tok);
    if (one && (memcmp(res1, res2, nb * 4) != 0 || memcmp(h1, h2, nb * 4) != 0)) {
        for (size_t j = 1; j <= n; j++)
            if (res1[j] != res2[j] || h1[j] != h2[j])
                fail_msg("%s: one launch and two differ at [%zu][%zu]: res %.9g / %.9g, h %.9g / %.9g", what,
                         (j - 1) / k->n_out, (j - 1) % k->n_out, res1[j], res2[j], h1[j], h2[j]);
    }
    /* the reference */
    float *y = malloc(n * 4);
    double *abs_sum = malloc(n * sizeof(double));
    float *xr = x; /* XQ8: the x the kernels multiply */
    enum vkg_xq8_fmt fmt = g_xq ? vkg_op_matmul_xq_fmt(g_dev, k->wt, k->n_tok, k->n_in) : VKG_XQ8_NONE;
    if (fmt != VKG_XQ8_NONE) {
        xr = malloc((size_t)k->n_tok * k->n_in * 4);
        for (uint32_t t = 0; t < k->n_tok; t++)
            if (fmt == VKG_XQ8_Q8_0 || fmt == VKG_XQ8_Q8_0F)
                ref_quantize_xq8_0(x + (size_t)t * k->n_in, k->n_in, NULL, xr + (size_t)t * k->n_in);
            else ref_quantize_xq8(x + (size_t)t * k->n_in, k->n_in, NULL, xr + (size_t)t * k->n_in);
    }
    ref_matmul(w, k->wt, k->n_out, k->n_in, xr, k->n_in, k->bias ? bias : NULL, k->n_tok, y, k->n_out, abs_sum);
    if (fmt == VKG_XQ8_Q8_0) ref_xq8_1_fix(w, k->wt, k->n_out, k->n_in, x, k->n_in, k->n_tok, y, k->n_out);
    if (xr != x) free(xr);
    for (uint32_t t = 0; t < k->n_tok; t++) {
        const float *rg[2] = { res1 + 1 + (size_t)t * k->n_out, res2 + 1 + (size_t)t * k->n_out };
        const float *hg[2] = { h1 + 1 + (size_t)t * k->n_out, h2 + 1 + (size_t)t * k->n_out };
        double ss = 0, es = 0, *r = malloc(k->n_out * sizeof(double)), *e = malloc(k->n_out * sizeof(double));
        for (uint32_t o = 0; o < k->n_out; o++) {
            size_t i = (size_t)t * k->n_out + o;
            r[o] = (double)res0[1 + i] + y[i];
            e[o] = 1e-4 * abs_sum[i] + 1e-6 + 1e-6 * fabs(r[o]);
            ss += r[o] * r[o];
            es += e[o] * e[o];
        }
        double inv = 1 / sqrt(ss / k->n_out + EPS), erms = sqrt(es / ss) + 1e-6;
        for (int route = 0; route < 2; route++)
            for (uint32_t o = 0; o < k->n_out; o++) {
                double wv = g[o] + (k->gemma ? 1.0 : 0.0), hw = r[o] * inv * wv;
                double th = fabs(wv) * inv * (e[o] + fabs(r[o]) * erms) + 1e-6 * fabs(hw) + 1e-6;
                if (!(fabs(rg[route][o] - r[o]) <= e[o]))
                    fail_msg("%s (%s): res[%u][%u] = %.9g, want %.9g (tol %.3g)", what, route ? "two" : "one", t, o,
                             rg[route][o], r[o], e[o]);
                if (!(fabs(hg[route][o] - hw) <= th))
                    fail_msg("%s (%s): h[%u][%u] = %.9g, want %.9g (tol %.3g)", what, route ? "two" : "one", t, o,
                             hg[route][o], hw, th);
            }
        free(r);
        free(e);
    }
    free(y);
    free(abs_sum);
    free(res1);
    free(h1);
    free(res2);
    free(h2);
    vkg_buffer_free(bw);
    vkg_buffer_free(bx);
    vkg_buffer_free(bb);
    vkg_buffer_free(bg);
    free(w);
    free(x);
    free(bias);
    free(g);
    free(res0);
    gpu_assert_no_validation();
}

static void sweep(enum vkg_dtype wt, uint32_t n_in)
{
    static const uint32_t toks[] = { 1, 3, 8, 17, 40 };
    static const uint32_t outs[] = { 70, 200 };
    uint64_t seed = 0x5eed + (uint64_t)wt * 131 + n_in;
    int is_float = wt == VKG_DTYPE_F32 || wt == VKG_DTYPE_F16 || wt == VKG_DTYPE_BF16;
    for (size_t o = 0; o < 2; o++)
        for (size_t t = 0; t < 5; t++)
            for (int cs = 0; cs < (toks[t] == 1 && is_float ? 2 : 1); cs++) {
                struct ncase k = { wt, n_in, outs[o], toks[t], (int)((t + o) & 1), (int)(t == 2), cs };
                run(&k, seed++);
            }
}

static void test_f32(void **state) { sweep(VKG_DTYPE_F32, 136); }
static void test_f16(void **state) { sweep(VKG_DTYPE_F16, 136); }
static void test_bf16(void **state) { sweep(VKG_DTYPE_BF16, 136); }
static void test_q8_0(void **state) { sweep(VKG_DTYPE_Q8_0, 512); }
static void test_q4_k(void **state) { sweep(VKG_DTYPE_Q4_K, 512); }
static void test_q4_k_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q4_K, 768);
    g_xq = 0;
}
static void test_q6_k_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q6_K, 512);
    g_xq = 0;
}
static void test_q6_k(void **state) { sweep(VKG_DTYPE_Q6_K, 256); }
/* the 32-value types on Q8_0 / Q8_1 x (Q8_0: those values as floats); Q5_1 in rows of 3 blocks */
static void test_q4_xq8(void **state)
{
    g_xq = 1;
    sweep(VKG_DTYPE_Q8_0, 512);
    sweep(VKG_DTYPE_Q4, 512);
    sweep(VKG_DTYPE_Q4_1, 512);
    sweep(VKG_DTYPE_Q5_1, 96);
    g_xq = 0;
}
static void test_q5_1_short_rows(void **state) { sweep(VKG_DTYPE_Q5_1, 96); }
static void test_f16_odd_rows(void **state) { sweep(VKG_DTYPE_F16, 100); }

/* ---- Qwen3's q/k head norms with the fused q|k|v launch (vkg_op_matmul_fused) ---- */

#define HD 16
struct qcase {
    enum vkg_dtype wt;
    uint32_t n_in, n_tok;
    int bias, cs, fused;
};

/* One route: q, k, v outputs ([n_tok][rows] each); returns 1 when the norms ran in the launch */
static int run_qk_route(const struct qcase *k, int resnorm, const uint32_t rows[3], struct vkg_buffer *bw,
                        struct vkg_buffer *bx, struct vkg_buffer *bb, struct vkg_buffer *bq, struct vkg_buffer *bk,
                        float *out[3], const char *what)
{
    struct vkg_buffer *by[3];
    for (int i = 0; i < 3; i++) {
        float *z = calloc((size_t)k->n_tok * rows[i], 4);
        by[i] = gpu_buffer_from(z, (size_t)k->n_tok * rows[i] * 4, "qk y");
        free(z);
    }
    uint64_t cb = vkg_op_matmul_norm_counter_bytes(k->n_tok);
    uint32_t *cnt = calloc(cb / 4, 4);
    struct vkg_buffer *bc = gpu_buffer_from(cnt, cb, "qk counters");
    struct vkg_view bv = vkg_buffer_view(bb), qn = vkg_buffer_view(bq), kn = vkg_buffer_view(bk);
    struct vkg_matmul_fused_args a = { .w = vkg_buffer_view(bw),
                                       .wt = k->wt,
                                       .n_in = k->n_in,
                                       .n_parts = 3,
                                       .rows = { rows[0], rows[1], rows[2] },
                                       .x = vkg_buffer_view(bx),
                                       .y = { vkg_buffer_view(by[0]), vkg_buffer_view(by[1]), vkg_buffer_view(by[2]) },
                                       .n_tok = k->n_tok,
                                       .bias = k->bias ? &bv : NULL,
                                       .kind = VKG_MATMUL_FUSE_PARTS,
                                       .q_norm = &qn,
                                       .k_norm = &kn,
                                       .head_dim = HD,
                                       .eps = EPS,
                                       .counters = vkg_buffer_view(bc) };
    int saved = g_dev->use.resnorm, saved_cs = g_dev->use.matvec_cs, saved_f = g_dev->use.fused;
    g_dev->use.resnorm = resnorm;
    g_dev->use.matvec_cs = k->cs ? 2 : 0;
    g_dev->use.fused = k->fused;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul_fused(c, &a));
    const char *kernel = c->last_kernel;
    int in_launch = kernel && strncmp(kernel, "rmsnorm", 7) != 0;
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.resnorm = saved;
    g_dev->use.matvec_cs = saved_cs;
    g_dev->use.fused = saved_f;
    for (int i = 0; i < 3; i++) {
        gpu_read(by[i], out[i], (size_t)k->n_tok * rows[i] * 4);
        vkg_buffer_free(by[i]);
    }
    gpu_read(bc, cnt, cb);
    for (uint64_t i = 0; i < cb / 4; i++)
        if (cnt[i] != 0) fail_msg("%s: counter %llu left at %u", what, (unsigned long long)i, cnt[i]);
    free(cnt);
    vkg_buffer_free(bc);
    vkg_cmd_free(c);
    return in_launch;
}

static void run_qk(const struct qcase *k, uint64_t seed)
{
    const uint32_t rows[3] = { 5 * HD, 2 * HD, 2 * HD }, n_rows = rows[0] + rows[1] + rows[2];
    size_t wb;
    uint8_t *w = rng_weight(&seed, k->wt, n_rows, k->n_in, &wb);
    uint64_t row_bytes = wb / n_rows;
    float *x = malloc((size_t)k->n_tok * k->n_in * 4), *bias = malloc(n_rows * 4), gq[HD], gk[HD];
    rng_fill_f32(&seed, x, (size_t)k->n_tok * k->n_in, -1, 1);
    rng_fill_f32(&seed, bias, n_rows, -1, 1);
    rng_fill_f32(&seed, gq, HD, -2, 2);
    rng_fill_f32(&seed, gk, HD, -2, 2);
    struct vkg_buffer *bw = gpu_buffer_from(w, wb, "qk w"),
                      *bx = gpu_buffer_from(x, (size_t)k->n_tok * k->n_in * 4, "qk x");
    struct vkg_buffer *bb = gpu_buffer_from(bias, n_rows * 4, "qk bias"),
                      *bq = gpu_buffer_from(gq, sizeof gq, "q norm"), *bk = gpu_buffer_from(gk, sizeof gk, "k norm");
    char what[160];
    snprintf(what, sizeof what, "q/k norm %s n_in %u n_tok %u%s%s%s", vkg_dtype_name(k->wt), k->n_in, k->n_tok,
             k->bias ? " +bias" : "", k->cs ? " cs" : "", k->fused ? "" : " apart");
    float *o1[3], *o2[3];
    for (int i = 0; i < 3; i++) {
        o1[i] = malloc((size_t)k->n_tok * rows[i] * 4);
        o2[i] = malloc((size_t)k->n_tok * rows[i] * 4);
    }
    int in1 = run_qk_route(k, g_dev->use.resnorm, rows, bw, bx, bb, bq, bk, o1, what);
    int in2 = run_qk_route(k, 0, rows, bw, bx, bb, bq, bk, o2, what);
    if (in2) fail_msg("%s: norms in the launch with use.resnorm off", what);
    if (g_dev->use.resnorm && k->fused && !in1) fail_msg("%s: the norms did not run in the fused launch", what);
    if (!k->fused && in1) fail_msg("%s: norms in a launch with use.fused off", what);
    for (int i = 0; in1 && i < 3; i++)
        if (memcmp(o1[i], o2[i], (size_t)k->n_tok * rows[i] * 4) != 0)
            fail_msg("%s: part %d differs between the norms in the launch and apart", what, i);
    for (uint32_t i = 0, r0 = 0; i < 3; r0 += rows[i], i++) {
        float *y = malloc((size_t)k->n_tok * rows[i] * 4);
        double *abs_sum = malloc((size_t)k->n_tok * rows[i] * sizeof(double));
        ref_matmul(w + r0 * row_bytes, k->wt, rows[i], k->n_in, x, k->n_in, k->bias ? bias + r0 : NULL, k->n_tok, y,
                   rows[i], abs_sum);
        for (uint32_t t = 0; t < k->n_tok; t++)
            for (uint32_t h = 0; h < rows[i] / HD; h++) {
                size_t b = (size_t)t * rows[i] + (size_t)h * HD;
                double ss = 0, es = 0, e[HD], inv = 1, erms = 0;
                for (int j = 0; j < HD; j++) {
                    e[j] = 1e-4 * abs_sum[b + j] + 1e-6;
                    ss += (double)y[b + j] * y[b + j];
                    es += e[j] * e[j];
                }
                if (i < 2) {
                    inv = 1 / sqrt(ss / HD + EPS);
                    erms = sqrt(es / ss) + 1e-6;
                }
                for (int j = 0; j < HD; j++) {
                    double wv = i == 0 ? gq[j] : i == 1 ? gk[j] : 1, want = y[b + j] * inv * wv;
                    double tol =
                        i < 2 ? fabs(wv) * inv * (e[j] + fabs(y[b + j]) * erms) + 1e-6 * fabs(want) + 1e-6 : e[j];
                    for (int route = 0; route < 2; route++) {
                        double got = (route ? o2 : o1)[i][b + j];
                        if (!(fabs(got - want) <= tol))
                            fail_msg("%s (%s): part %u [%u][%zu] = %.9g, want %.9g (tol %.3g)", what,
                                     route ? "apart" : "in launch", i, t, (size_t)h * HD + j, got, want, tol);
                    }
                }
            }
        free(y);
        free(abs_sum);
    }
    for (int i = 0; i < 3; i++) {
        free(o1[i]);
        free(o2[i]);
    }
    vkg_buffer_free(bw);
    vkg_buffer_free(bx);
    vkg_buffer_free(bb);
    vkg_buffer_free(bq);
    vkg_buffer_free(bk);
    free(w);
    free(x);
    free(bias);
    gpu_assert_no_validation();
}

static void sweep_qk(enum vkg_dtype wt, uint32_t n_in)
{
    static const uint32_t toks[] = { 1, 3, 9, 17 };
    uint64_t seed = 0x9e0 + (uint64_t)wt * 71 + n_in;
    int is_float = wt == VKG_DTYPE_F32 || wt == VKG_DTYPE_F16 || wt == VKG_DTYPE_BF16;
    for (size_t t = 0; t < 4; t++)
        for (int cs = 0; cs < (toks[t] == 1 && is_float ? 2 : 1); cs++)
            for (int fused = 1; fused >= (t == 2 ? 0 : 1); fused--) {
                struct qcase k = { wt, n_in, toks[t], (int)(t & 1), cs, fused && g_dev->use.fused };
                run_qk(&k, seed++);
            }
}

static void test_qk_f32(void **state) { sweep_qk(VKG_DTYPE_F32, 136); }
static void test_qk_bf16(void **state) { sweep_qk(VKG_DTYPE_BF16, 136); }
static void test_qk_q8_0(void **state) { sweep_qk(VKG_DTYPE_Q8_0, 512); }
static void test_qk_q6_k(void **state) { sweep_qk(VKG_DTYPE_Q6_K, 256); }
static void test_qk_q5_1_short_rows(void **state) { sweep_qk(VKG_DTYPE_Q5_1, 96); }

/* ---- the MoE combine, the residual add and the next norm (vkg_op_moe_combine_add_norm) ---- */

struct mcase {
    uint32_t n_tok, k, n_in;
    int unit, acc, gemma;
};

/* One route: res and h ([n_tok][n_in]); returns 1 when rmsnorm_combine_lane(_tx) ran */
static int run_mc_route(const struct mcase *k, int resnorm, struct vkg_buffer *by, struct vkg_buffer *bwt,
                        const float *d0, const float *res0, struct vkg_buffer *bg, float *res, float *h)
{
    size_t n = (size_t)k->n_tok * k->n_in;
    struct vkg_buffer *bd = gpu_buffer_from(d0, n * 4, "mc delta"), *br = gpu_buffer_from(res0, n * 4, "mc res");
    float *z = calloc(n, 4);
    struct vkg_buffer *bh = gpu_buffer_from(z, n * 4, "mc h");
    free(z);
    int saved = g_dev->use.resnorm;
    g_dev->use.resnorm = resnorm;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_moe_combine_add_norm(c, k->n_tok, k->k, k->n_in, vkg_buffer_view(by),
                                       k->unit ? (struct vkg_view){ 0 } : vkg_buffer_view(bwt), vkg_buffer_view(bd),
                                       k->acc, vkg_buffer_view(br), vkg_buffer_view(bg), vkg_buffer_view(bh), EPS,
                                       k->gemma ? VKG_RMSNORM_GEMMA : VKG_RMSNORM_PLAIN));
    int one = c->last_kernel && strncmp(c->last_kernel, "rmsnorm_combine_lane", 20) == 0;
    /* rows on whole texels (n % 4 == 0 here) read as texels (*_tx), others through storage */
    int tx_want = g_dev->use.texel && k->n_in % 4 == 0;
    if (one && (strcmp(c->last_kernel + 20, "_tx") == 0) != tx_want)
        fail_msg("combine+norm n %u: ran %s", k->n_in, c->last_kernel);
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.resnorm = saved;
    gpu_read(br, res, n * 4);
    gpu_read(bh, h, n * 4);
    vkg_cmd_free(c);
    vkg_buffer_free(bd);
    vkg_buffer_free(br);
    vkg_buffer_free(bh);
    return one;
}

static void run_mc(const struct mcase *k, uint64_t seed)
{
    size_t n = (size_t)k->n_tok * k->n_in, ny = n * k->k;
    float *y = malloc(ny * 4), *wt = malloc((size_t)k->n_tok * k->k * 4), *d0 = malloc(n * 4), *res0 = malloc(n * 4);
    float *g = malloc(k->n_in * 4);
    rng_fill_f32(&seed, y, ny, -2, 2);
    rng_fill_f32(&seed, wt, (size_t)k->n_tok * k->k, 0, 1);
    rng_fill_f32(&seed, d0, n, -1, 1);
    rng_fill_f32(&seed, res0, n, -3, 3);
    rng_fill_f32(&seed, g, k->n_in, -2, 2);
    struct vkg_buffer *by = gpu_buffer_from(y, ny * 4, "mc y"),
                      *bwt = gpu_buffer_from(wt, (size_t)k->n_tok * k->k * 4, "mc w");
    struct vkg_buffer *bg = gpu_buffer_from(g, k->n_in * 4, "mc g");
    char what[160];
    snprintf(what, sizeof what, "combine+norm n_tok %u k %u n %u%s%s%s", k->n_tok, k->k, k->n_in,
             k->unit ? " unit" : "", k->acc ? " +shared" : "", k->gemma ? " gemma" : "");
    float *r1 = malloc(n * 4), *h1 = malloc(n * 4), *r2 = malloc(n * 4), *h2 = malloc(n * 4);
    int one = run_mc_route(k, g_dev->use.resnorm, by, bwt, d0, res0, bg, r1, h1);
    int one_off = run_mc_route(k, 0, by, bwt, d0, res0, bg, r2, h2);
    if (one_off) fail_msg("%s: one launch with use.resnorm off", what);
    if (g_dev->use.resnorm && g_dev->use.lane_tier && !one) fail_msg("%s: two launches where one should run", what);
    if (one && (memcmp(r1, r2, n * 4) != 0 || memcmp(h1, h2, n * 4) != 0))
        fail_msg("%s: one launch and two give different bits", what);
    for (uint32_t t = 0; t < k->n_tok; t++) {
        double ss = 0, es = 0, *r = malloc(k->n_in * sizeof(double)), *e = malloc(k->n_in * sizeof(double));
        for (uint32_t i = 0; i < k->n_in; i++) {
            size_t o = (size_t)t * k->n_in + i;
            double s = 0, a = 0;
            for (uint32_t j = 0; j < k->k; j++) {
                double wj = k->unit ? 1.0 : wt[t * k->k + j], v = wj * y[((size_t)t * k->k + j) * k->n_in + i];
                s += v;
                a += fabs(v);
            }
            if (k->acc) {
                s += d0[o];
                a += fabs(d0[o]);
            }
            r[i] = res0[o] + s;
            e[i] = 1e-6 * (a + fabs(res0[o])) + 1e-7;
            ss += r[i] * r[i];
            es += e[i] * e[i];
        }
        double inv = 1 / sqrt(ss / k->n_in + EPS), erms = sqrt(es / ss) + 1e-6;
        for (int route = 0; route < 2; route++)
            for (uint32_t i = 0; i < k->n_in; i++) {
                size_t o = (size_t)t * k->n_in + i;
                double wv = g[i] + (k->gemma ? 1.0 : 0.0), hw = r[i] * inv * wv;
                double th = fabs(wv) * inv * (e[i] + fabs(r[i]) * erms) + 1e-6 * fabs(hw) + 1e-6;
                double gr = (route ? r2 : r1)[o], gh = (route ? h2 : h1)[o];
                if (!(fabs(gr - r[i]) <= e[i]))
                    fail_msg("%s (%s): res[%u][%u] = %.9g, want %.9g", what, route ? "two" : "one", t, i, gr, r[i]);
                if (!(fabs(gh - hw) <= th))
                    fail_msg("%s (%s): h[%u][%u] = %.9g, want %.9g (tol %.3g)", what, route ? "two" : "one", t, i, gh,
                             hw, th);
            }
        free(r);
        free(e);
    }
    free(r1);
    free(h1);
    free(r2);
    free(h2);
    vkg_buffer_free(by);
    vkg_buffer_free(bwt);
    vkg_buffer_free(bg);
    free(y);
    free(wt);
    free(d0);
    free(res0);
    free(g);
    gpu_assert_no_validation();
}

static void test_moe_combine_norm(void **state)
{
    static const uint32_t toks[] = { 1, 3, 9, 40 };
    uint64_t seed = 0xc0b;
    for (size_t t = 0; t < 4; t++)
        for (uint32_t kk = 1; kk <= 6; kk += 5)
            for (int v = 0; v < 3; v++) {
                struct mcase k = { toks[t], kk, t == 3 ? 70 : t & 1 ? 200 : 72, v == 2, v >= 1, (int)(t == 2) };
                run_mc(&k, seed++);
            }
}

static void test_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "err");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_matmul_norm_args a = {
        .mm = { .w = v, .wt = VKG_DTYPE_F32, .n_out = 8, .n_in = 8, .x = v, .y = v, .y_stride = 9, .n_tok = 2 },
        .norm_w = v,
        .h = v,
        .tmp = v,
        .counters = v,
        .eps = EPS
    };
    /* a strided residual stream, then an h view too small for its rows */
    assert_int_equal(vkg_op_matmul_add_norm(c, &a), VKG_ERR_INVALID_ARG);
    a.mm.y_stride = 0;
    a.h = vkg_view_sub(v, 0, 60);
    assert_int_equal(vkg_op_matmul_add_norm(c, &a), VKG_ERR_INVALID_ARG);
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_q8_0),
        cmocka_unit_test(test_q4_k),
        cmocka_unit_test(test_q4_k_xq8),
        cmocka_unit_test(test_q6_k_xq8),
        cmocka_unit_test(test_q4_xq8),
        cmocka_unit_test(test_q6_k),
        cmocka_unit_test(test_q5_1_short_rows),
        cmocka_unit_test(test_f16_odd_rows),
        cmocka_unit_test(test_qk_f32),
        cmocka_unit_test(test_qk_bf16),
        cmocka_unit_test(test_qk_q8_0),
        cmocka_unit_test(test_qk_q6_k),
        cmocka_unit_test(test_qk_q5_1_short_rows),
        cmocka_unit_test(test_moe_combine_norm),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
