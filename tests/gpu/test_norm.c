/* test_norm — RMSNorm (plain, Gemma, fused residual, per head), SwiGLU /
 * GeGLU (two tensors and fused), soft-capping, add and scale on the GPU vs
 * the plain-C references (tests/reference/ref_norm.c). Sizes include ones
 * that are not multiples of the workgroup (256), a vocab-wide 151,936
 * row, and tensors larger than one binding. Tolerances (f32 math, f32 accumulation on the GPU, double in the
 * reference): |got - want| <= 1e-6 + 1e-5 |want|; add and scale are exact. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_norm.h"
#include "ref_dtype.h"
#include "ref_norm.h"

#define ATOL 1e-6f
#define RTOL 1e-5f

static void run(struct vkg_cmd *c)
{
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    gpu_assert_no_validation();
}

static struct vkg_cmd *begin(void)
{
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    return c;
}

static float *rnd(uint64_t *seed, size_t n, float lo, float hi)
{
    float *x = malloc(n * sizeof *x);
    rng_fill_f32(seed, x, n, lo, hi);
    return x;
}

/* One RMSNorm case: rows x n, Gemma or not, residual or not. */
static void rmsnorm_case(uint64_t rows, uint32_t n, int gemma, int add, uint64_t *seed)
{
    size_t m = rows * n;
    float *x = rnd(seed, m, -3, 3), *r = rnd(seed, m, -3, 3), *w = rnd(seed, n, -1, 2);
    float *y = malloc(m * 4), *want = malloc(m * 4), *got_r = malloc(m * 4);
    float eps = gemma ? 1e-6f : 1e-5f;
    struct vkg_buffer *bx = gpu_buffer_from(x, m * 4, "rms x"), *bw = gpu_buffer_from(w, n * 4, "rms w");
    struct vkg_buffer *by = gpu_buffer_from(NULL, m * 4, "rms y"), *br = gpu_buffer_from(r, m * 4, "rms residual");
    struct vkg_cmd *c = begin();
    enum vkg_rmsnorm_kind kind = gemma ? VKG_RMSNORM_GEMMA : VKG_RMSNORM_PLAIN;
    if (add)
        GPU_OK(vkg_op_rmsnorm_add(c, vkg_buffer_view(bx), vkg_buffer_view(br), vkg_buffer_view(bw), vkg_buffer_view(by),
                                  rows, n, eps, kind));
    else GPU_OK(vkg_op_rmsnorm(c, vkg_buffer_view(bx), vkg_buffer_view(bw), vkg_buffer_view(by), rows, n, eps, kind));
    const char *kernel = c->last_kernel;
    size_t kl = kernel ? strlen(kernel) : 0;
    int ran_tx = kl > 3 && strcmp(kernel + kl - 3, "_tx") == 0;
    run(c);
    gpu_read(by, y, m * 4);
    gpu_read(br, got_r, m * 4);
    /* the lane tier reads rows on whole texels (n % 4 == 0 here: every row starts on one) as texels,
       others through storage; both sum in the same order, so the same bits */
    int want_tx = g_dev->use.lane_tier && g_dev->use.texel && n % 4 == 0;
    if (ran_tx != want_tx) fail_msg("rmsnorm n=%u add=%d: ran %s", n, add, kernel ? kernel : "(none)");
    if (want_tx) {
        float *y2 = malloc(m * 4), *r2 = malloc(m * 4);
        GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(br), r, m * 4));
        g_dev->use.texel = 0;
        c = begin();
        if (add)
            GPU_OK(vkg_op_rmsnorm_add(c, vkg_buffer_view(bx), vkg_buffer_view(br), vkg_buffer_view(bw),
                                      vkg_buffer_view(by), rows, n, eps, kind));
        else
            GPU_OK(
                vkg_op_rmsnorm(c, vkg_buffer_view(bx), vkg_buffer_view(bw), vkg_buffer_view(by), rows, n, eps, kind));
        assert_string_equal(c->last_kernel, add ? "rmsnorm_add_lane" : "rmsnorm_lane");
        run(c);
        g_dev->use.texel = 1;
        gpu_read(by, y2, m * 4);
        gpu_read(br, r2, m * 4);
        if (memcmp(y, y2, m * 4) || memcmp(got_r, r2, m * 4))
            fail_msg("rmsnorm n=%u add=%d: the texel and storage kernels differ", n, add);
        free(y2);
        free(r2);
    }
    ref_rmsnorm(x, add ? r : NULL, w, want, rows, n, eps, gemma ? 1.0f : 0.0f);
    char what[96];
    snprintf(what, sizeof what, "rmsnorm rows=%llu n=%u gemma=%d add=%d sg=%d lane=%d", (unsigned long long)rows, n,
             gemma, add, g_dev->use.subgroup_arith, g_dev->use.lane_tier);
    assert_close_f32(what, y, want, m, ATOL, RTOL);
    assert_close_f32("residual stream h = x + r", got_r, r, m, 0, 0); /* one f32 add: exact */
    vkg_buffer_free(bx);
    vkg_buffer_free(bw);
    vkg_buffer_free(by);
    vkg_buffer_free(br);
    free(x);
    free(r);
    free(w);
    free(y);
    free(want);
    free(got_r);
}

static void rmsnorm_all(void)
{
    static const struct {
        uint64_t rows;
        uint32_t n;
    } shapes[] = {
        { 1, 1 }, { 7, 100 }, { 3, 257 }, { 512, 64 }, { 1, 8192 }, { 7, 8192 }, { 512, 896 }, { 2, 5000 },
    };
    uint64_t seed = 0x51;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int v = 0; v < 4; v++) rmsnorm_case(shapes[k].rows, shapes[k].n, v & 1, v >> 1, &seed);
}

/* Sets the RMSNorm tier: 0 shared memory, 1 subgroup, 2 lane (CPU driver);
 * returns 0 (and changes nothing) where the device cannot run it. */
static int set_tier(int tier, int sg0)
{
    int arith = sg0 || g_dev->info.subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    if ((tier >= 1 && !arith) || (tier == 2 && !g_dev->use.lane_ok)) return 0;
    g_dev->use.subgroup_arith = tier >= 1;
    g_dev->use.lane_tier = tier == 2;
    return 1;
}

/* Every tier the device can run, whichever AUTO would pick. */
static void test_rmsnorm(void **state)
{
    int sg = g_dev->use.subgroup_arith, lane = g_dev->use.lane_tier;
    for (int tier = 0; tier < 3; tier++)
        if (set_tier(tier, sg)) rmsnorm_all();
    g_dev->use.subgroup_arith = sg;
    g_dev->use.lane_tier = lane;
}

/* Qwen3 q_norm: per-head norm of the q slice of a fused [tokens][q|k|v]
 * buffer, in place; everything outside the q heads stays as it was. */
static void test_rmsnorm_per_head(void **state)
{
    const uint64_t tokens = 5;
    const uint32_t heads = 8, hd = 128, kv = 2, stride = (heads + 2 * kv) * hd;
    uint64_t seed = 0x77, m = tokens * stride;
    float *x = rnd(&seed, m, -2, 2), *w = rnd(&seed, hd, 0.5f, 1.5f), *got = malloc(m * 4);
    float *want = malloc(m * 4), *tmp = malloc(heads * hd * 4);
    memcpy(want, x, m * 4);
    for (uint64_t t = 0; t < tokens; t++) { /* rows of head_dim, one per head */
        ref_rmsnorm(x + t * stride, NULL, w, tmp, heads, hd, 1e-6f, 0.0f);
        memcpy(want + t * stride, tmp, heads * hd * 4);
    }
    struct vkg_buffer *bx = gpu_buffer_from(x, m * 4, "qkv"), *bw = gpu_buffer_from(w, hd * 4, "q_norm.weight");
    for (int tier = 0; tier < 3; tier++) { /* 0: AUTO, 1: shared memory, 2: lane */
        int sg = g_dev->use.subgroup_arith, lane = g_dev->use.lane_tier;
        if (tier == 1) g_dev->use.subgroup_arith = 0;
        if (tier == 2 && !set_tier(2, sg)) continue;
        GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(bx), x, m * 4));
        struct vkg_rmsnorm_args a = { .x = vkg_buffer_view(bx),
                                      .w = vkg_buffer_view(bw),
                                      .y = vkg_buffer_view(bx),
                                      .tokens = tokens,
                                      .group = heads,
                                      .n = hd,
                                      .x_stride = stride,
                                      .y_stride = stride,
                                      .eps = 1e-6f };
        struct vkg_cmd *c = begin();
        GPU_OK(vkg_op_rmsnorm_ex(c, &a));
        run(c);
        g_dev->use.subgroup_arith = sg;
        g_dev->use.lane_tier = lane;
        gpu_read(bx, got, m * 4);
        assert_close_f32(tier == 1 ? "per-head q_norm (shared-memory tier)"
                         : tier    ? "per-head q_norm (lane tier)"
                                   : "per-head q_norm",
                         got, want, m, ATOL, RTOL);
    }
    vkg_buffer_free(bx);
    vkg_buffer_free(bw);
    free(x);
    free(w);
    free(got);
    free(want);
    free(tmp);
}

static void glu_case(int gelu, int fused, uint64_t rows, uint32_t n, uint64_t *seed)
{
    size_t m = rows * n;
    float *x = rnd(seed, 2 * m, -8, 8), *gate = malloc(m * 4), *up = malloc(m * 4);
    float *got = malloc(m * 4), *want = malloc(m * 4);
    for (uint64_t r = 0; r < rows; r++) { /* fused layout: [rows][gate n | up n] */
        memcpy(gate + r * n, x + r * 2 * n, n * 4);
        memcpy(up + r * n, x + r * 2 * n + n, n * 4);
    }
    ref_glu(gelu, gate, up, want, m);
    struct vkg_buffer *bx = gpu_buffer_from(x, 2 * m * 4, "gate_up"), *bg = gpu_buffer_from(gate, m * 4, "gate");
    struct vkg_buffer *bu = gpu_buffer_from(up, m * 4, "up"), *bo = gpu_buffer_from(NULL, m * 4, "act out");
    struct vkg_cmd *c = begin();
    enum vkg_glu_kind k = gelu ? VKG_GLU_GEGLU : VKG_GLU_SWIGLU;
    if (fused) GPU_OK(vkg_op_glu_fused(c, k, vkg_buffer_view(bx), vkg_buffer_view(bo), rows, n));
    else GPU_OK(vkg_op_glu(c, k, vkg_buffer_view(bg), vkg_buffer_view(bu), vkg_buffer_view(bo), rows, n));
    run(c);
    gpu_read(bo, got, m * 4);
    char what[80];
    snprintf(what, sizeof what, "%s fused=%d rows=%llu n=%u", gelu ? "geglu" : "swiglu", fused,
             (unsigned long long)rows, n);
    assert_close_f32(what, got, want, m, ATOL, RTOL);
    vkg_buffer_free(bx);
    vkg_buffer_free(bg);
    vkg_buffer_free(bu);
    vkg_buffer_free(bo);
    free(x);
    free(gate);
    free(up);
    free(got);
    free(want);
}

static void test_glu(void **state)
{
    static const struct {
        uint64_t rows;
        uint32_t n;
    } shapes[] = { { 1, 1 }, { 3, 1000 }, { 7, 4099 }, { 64, 768 } };
    uint64_t seed = 0x61;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int v = 0; v < 4; v++) glu_case(v & 1, v >> 1, shapes[k].rows, shapes[k].n, &seed);
}

/* ggml's table GELU (VKG_GLU_GEGLU_F16, act.glsl act_gelu_f16; VKGRM_GELU_F16), gate|up apart and fused:
 * every finite half in (-12, 12) as a gate value (the table's whole domain and both cut-offs), then
 * random floats between them (x rounded to its half first), up 1 (the activation itself) and random.
 * Against ref_gelu_f16 (ggml's formula with glibc's tanhf): every output within one half-ulp step of
 * the activation (times |up|), and at least 99.9 % of them exact: llvmpipe's tanh and glibc's may put
 * a value on either side of a half's rounding midpoint now and then, where the exact GELU would match
 * the table's halves almost nowhere. */
static void test_glu_f16(void **state)
{
    float *gate = malloc(2 * 65536 * 4), *up = malloc(2 * 65536 * 4);
    size_t m = 0;
    uint64_t seed = 0x6e1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ref_f16_to_f32((uint16_t)h);
        if (f > -12.0f && f < 12.0f) gate[m] = f, up[m++] = 1.0f;
    }
    size_t halves = m;
    float *r = rnd(&seed, 2 * 20000, -1, 1);
    for (size_t i = 0; i < 20000; i++) gate[m] = 12.0f * r[2 * i], up[m++] = i < 10000 ? 1.0f : 4.0f * r[2 * i + 1];
    free(r);
    float *want = malloc(m * 4), *got = malloc(m * 4), *x = malloc(2 * m * 4);
    ref_glu(2, gate, up, want, m);
    for (size_t i = 0; i < m; i++) x[2 * i] = gate[i], x[2 * i + 1] = up[i]; /* fused rows of n = 1 */
    struct vkg_buffer *bg = gpu_buffer_from(gate, m * 4, "gate"), *bu = gpu_buffer_from(up, m * 4, "up");
    struct vkg_buffer *bx = gpu_buffer_from(x, 2 * m * 4, "gate_up"), *bo = gpu_buffer_from(NULL, m * 4, "act out");
    for (int fused = 0; fused < 2; fused++) {
        struct vkg_cmd *c = begin();
        if (fused) GPU_OK(vkg_op_glu_fused(c, VKG_GLU_GEGLU_F16, vkg_buffer_view(bx), vkg_buffer_view(bo), m, 1));
        else
            GPU_OK(
                vkg_op_glu(c, VKG_GLU_GEGLU_F16, vkg_buffer_view(bg), vkg_buffer_view(bu), vkg_buffer_view(bo), m, 1));
        run(c);
        gpu_read(bo, got, m * 4);
        size_t exact = 0, exact_halves = 0;
        for (size_t i = 0; i < m; i++) {
            float a = ref_gelu_f16(gate[i]);
            /* one half step at a: 2^(e - 10) for a normal half of exponent e, 2^-24 below */
            int e;
            frexpf(fabsf(a) > 6.1035156e-05f ? a : 6.1035156e-05f, &e);
            double tol = fabs((double)up[i]) * ldexp(1.0, e - 11) * 1.0001;
            if (got[i] == want[i]) {
                exact++;
                exact_halves += i < halves;
            } else if (!(fabs((double)got[i] - want[i]) <= tol))
                fail_msg("geglu_f16 fused=%d: gate %.9g up %.9g: got %.9g, want %.9g (ggml's table: %.9g)", fused,
                         gate[i], up[i], got[i], want[i], a);
        }
        if (exact < m - m / 1000)
            fail_msg("geglu_f16 fused=%d: %zu of %zu outputs exactly ggml's (want >= 99.9 %%)", fused, exact, m);
        print_message("geglu_f16 fused=%d: %zu of %zu outputs exactly ggml's table (%zu of %zu halves)\n", fused, exact,
                      m, exact_halves, halves);
    }
    vkg_buffer_free(bg);
    vkg_buffer_free(bu);
    vkg_buffer_free(bx);
    vkg_buffer_free(bo);
    free(gate);
    free(up);
    free(want);
    free(got);
    free(x);
}

/* Final-logit soft-capping over a vocab-wide row, in place, and attention capping. */
static void test_softcap(void **state)
{
    static const uint64_t sizes[] = { 1, 255, 257, 151936 };
    uint64_t seed = 0x5c;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int v = 0; v < 2; v++) {
            uint64_t n = sizes[k];
            float cap = v ? 50.0f : 30.0f;
            float *a = rnd(&seed, n, -4 * cap, 4 * cap), *got = malloc(n * 4), *want = malloc(n * 4);
            for (uint64_t i = 0; i < n; i += 3) a[i] *= 1e-3f; /* small values: tanh near 0 */
            ref_softcap(a, want, n, cap);
            struct vkg_buffer *b = gpu_buffer_from(a, n * 4, "logits");
            struct vkg_cmd *c = begin();
            GPU_OK(vkg_op_softcap(c, vkg_buffer_view(b), vkg_buffer_view(b), n, cap));
            run(c);
            gpu_read(b, got, n * 4);
            char what[64];
            snprintf(what, sizeof what, "softcap n=%llu cap=%g", (unsigned long long)n, cap);
            assert_close_f32(what, got, want, n, ATOL, RTOL);
            vkg_buffer_free(b);
            free(a);
            free(got);
            free(want);
        }
}

static void test_add_scale(void **state)
{
    static const uint64_t sizes[] = { 1, 1000, 300001 };
    uint64_t seed = 0xadd;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint64_t n = sizes[k];
        float *a = rnd(&seed, n, -10, 10), *b = rnd(&seed, n, -10, 10), *got = malloc(n * 4), *want = malloc(n * 4);
        struct vkg_buffer *ba = gpu_buffer_from(a, n * 4, "a"), *bb = gpu_buffer_from(b, n * 4, "b");
        struct vkg_buffer *bo = gpu_buffer_from(NULL, n * 4, "out");
        struct vkg_cmd *c = begin();
        GPU_OK(vkg_op_add(c, vkg_buffer_view(ba), vkg_buffer_view(bb), vkg_buffer_view(bo), n));
        vkg_cmd_barrier(c);
        GPU_OK(vkg_op_scale(c, vkg_buffer_view(bo), vkg_buffer_view(bo), n, 0.125f * 3)); /* in place */
        run(c);
        gpu_read(bo, got, n * 4);
        for (uint64_t i = 0; i < n; i++) want[i] = (a[i] + b[i]) * 0.375f;
        assert_close_f32("add then scale", got, want, n, 0, 0);
        vkg_buffer_free(ba);
        vkg_buffer_free(bb);
        vkg_buffer_free(bo);
        free(a);
        free(b);
        free(got);
        free(want);
    }
}

/* Tensors beyond one binding (128 MiB on lavapipe): the launchers split by
 * rows / elements. RMSNorm with residual over 4200 x 8192 (137 MiB per
 * tensor), a fused gate_up of 2100 x 2 x 8192 (137 MiB), add over 36 Mi
 * floats (144 MiB). */
static void test_beyond_one_binding(void **state)
{
    uint64_t seed = 0xb19;
    rmsnorm_case(4200, 8192, 0, 1, &seed);
    glu_case(0, 1, 2100, 8192, &seed);
    uint64_t n = 36ull << 20;
    float *a = rnd(&seed, n, -1, 1), *got = malloc(n * 4);
    struct vkg_buffer *ba = gpu_buffer_from(a, n * 4, "big a"), *bo = gpu_buffer_from(NULL, n * 4, "big out");
    struct vkg_cmd *c = begin();
    GPU_OK(vkg_op_add(c, vkg_buffer_view(ba), vkg_buffer_view(ba), vkg_buffer_view(bo), n));
    run(c);
    gpu_read(bo, got, n * 4);
    for (uint64_t i = 0; i < n; i++) a[i] += a[i];
    assert_close_f32("add 36 Mi floats", got, a, n, 0, 0);
    vkg_buffer_free(ba);
    vkg_buffer_free(bo);
    free(a);
    free(got);
}

/* Bad arguments come back as errors naming the op, never as a dispatch. */
static void test_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 1024, "small");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c = begin();
    assert_int_equal(vkg_op_rmsnorm(c, v, v, v, 2, 200, 1e-6f, VKG_RMSNORM_PLAIN), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "small"));
    assert_int_equal(vkg_op_softcap(c, v, v, 256, 0.0f), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_add(c, v, v, v, 257), VKG_ERR_INVALID_ARG);
    run(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_rmsnorm_per_head),
        cmocka_unit_test(test_glu),
        cmocka_unit_test(test_glu_f16),
        cmocka_unit_test(test_softcap),
        cmocka_unit_test(test_add_scale),
        cmocka_unit_test(test_beyond_one_binding),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
