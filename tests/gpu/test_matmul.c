/* test_matmul — GPU linear layer vs the plain-C reference (ref_matmul.c) for
 * every weight dtype (ggml's Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K as random
 * blocks: random bytes, random f16 scales of both signs), both decode tiers (subgroup and shared-memory
 * reduction) at 1..8 vectors and the tiled GEMM at 9, 17, 100 tokens.
 * Shapes are not multiples of the workgroup or tile (n_in 100, 333, 96, 256
 * for F32/F16/BF16; 96, 544 for the 32-value block types; 256, 512, 768
 * for the K-quants; n_out 1, 7, 65, 130). Views
 * alternate between odd places (F16 weights at an odd element, blocks 2
 * bytes into a word, x at float 3: scalar loads) and 16-byte aligned ones
 * (the kernels' vector loads where n_in % 8 == 0); x/y rows are strided and
 * the gaps of y must stay untouched.
 *
 * Tolerance, every dtype: |got - want| <= 1e-4 * sum_i |W[o][i] * x[t][i]|
 * (+1e-6 absolute). The reference uses the SAME stored weights (the rounded
 * F16/BF16 values, the blocks dequantized by tests/reference/ as ggml
 * does, itself checked against gguf.quants), so only the f32
 * accumulation order of the kernel differs from the double-precision sum. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ref_dtype.h"
#include "ref_matmul.h"

#define SENTINEL 12345.0f

struct mm_case {
    enum vkg_dtype wt;
    uint32_t n_out, n_in, n_tok;
    int bias, strided;
    enum vkg_matmul_path path;
    int aligned; /* tensors 16-byte aligned: the kernels' vector loads when n_in % 8 == 0 */
    int cs;      /* 0: dev->use.matvec_cs off; 1: forced (2), the launch must be matvec1_lane_cs_*; auto (1) with
               2: the launch must be matvec1_lane_cs_*, 3: matvec1_lane_tx_*; 4: off, and the launch must
               not be matvec1_lane_tx_* */
};

/* the relative part of check()'s tolerance: 1e-4, tighter for the XQ8 cases (test_xq8) */
static double g_rel = 1e-4;

/* Worst |got-want| / (g_rel * abs_sum + 1e-6) must be <= 1; y's gaps keep the sentinel. */
static void check(const char *what, const float *y, size_t ys, const float *want, const double *abs_sum, uint32_t n_out,
                  uint32_t n_tok)
{
    double worst = 0;
    size_t bad = (size_t)-1;
    for (uint32_t t = 0; t < n_tok; t++)
        for (size_t o = 0; o < ys; o++) {
            float g = y[t * ys + o];
            if (o >= n_out) {
                if (g != SENTINEL) fail_msg("%s: y[%u][%zu] outside n_out was written (%g)", what, t, o, g);
                continue;
            }
            double r = fabs((double)g - want[t * ys + o]) / (g_rel * abs_sum[(size_t)t * n_out + o] + 1e-6);
            if (isnan(r)) r = INFINITY;
            if (bad == (size_t)-1 || r > worst) {
                worst = r;
                bad = t * ys + o;
            }
        }
    if (worst > 1)
        fail_msg("%s: max |err| / (%.0e sum|wx| + 1e-6) = %.3g at y[%zu][%zu]: got %.9g want %.9g", what, g_rel, worst,
                 bad / ys, bad % ys, y[bad], want[bad]);
}

/* Unaligned pads put each tensor at an awkward offset: F32 weights 8 bytes in,
 * 16-bit 6 (odd element), blocks 2 bytes, x 3 floats, x rows 5 floats apart. */
static size_t w_pad(const struct mm_case *k)
{
    if (k->aligned) return 16;
    return k->wt == VKG_DTYPE_F32 ? 8 : vkg_dtype_block_size(k->wt) > 1 ? 2 : 6;
}

static void run_case(const struct mm_case *k, uint64_t seed)
{
    size_t wb, pad = w_pad(k), xpad = k->aligned ? 4 : 3;
    size_t xs = k->n_in + (k->strided ? (k->aligned ? 8 : 5) : 0), ys = k->n_out + (k->strided ? 3 : 0);
    size_t nx = k->n_tok * xs + xpad, ny = k->n_tok * ys;
    uint8_t *w = rng_weight(&seed, k->wt, k->n_out, k->n_in, &wb);
    uint8_t *wp = calloc(1, wb + pad);
    memcpy(wp + pad, w, wb);
    float *x = malloc(nx * 4), *y = malloc((ny + 1) * 4), *want = malloc(ny * 4), *bias = malloc(k->n_out * 4);
    double *abs_sum = malloc((size_t)k->n_tok * k->n_out * sizeof *abs_sum);
    rng_fill_f32(&seed, x, nx, -1, 1);
    rng_fill_f32(&seed, bias, k->n_out, -1, 1);
    for (size_t i = 0; i < ny + 1; i++) y[i] = SENTINEL;
    struct vkg_buffer *bw = gpu_buffer_from(wp, wb + pad, "mm weight"), *bx = gpu_buffer_from(x, nx * 4, "mm x");
    struct vkg_buffer *by = gpu_buffer_from(y, (ny + 1) * 4, "mm y"),
                      *bb = gpu_buffer_from(bias, k->n_out * 4, "mm bias");
    struct vkg_view bv = vkg_buffer_view(bb);
    struct vkg_matmul_args a = { .w = vkg_view_sub(vkg_buffer_view(bw), pad, wb),
                                 .wt = k->wt,
                                 .n_out = k->n_out,
                                 .n_in = k->n_in,
                                 .x = vkg_view_sub(vkg_buffer_view(bx), xpad * 4, (nx - xpad) * 4),
                                 .x_stride = xs,
                                 .y = vkg_view_sub(vkg_buffer_view(by), 4, ny * 4),
                                 .y_stride = ys,
                                 .n_tok = k->n_tok,
                                 .bias = k->bias ? &bv : NULL,
                                 .path = k->path };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    int saved_cs = g_dev->use.matvec_cs;
    g_dev->use.matvec_cs = k->cs == 1 ? 2 : k->cs == 2 || k->cs == 3 ? 1 : 0;
    GPU_OK(vkg_op_matmul_ex(c, &a));
    g_dev->use.matvec_cs = saved_cs;
    const char *want_k = k->cs == 1 || k->cs == 2 ? "matvec1_lane_cs_" : k->cs == 3 ? "matvec1_lane_tx_" : NULL;
    if (want_k && (!c->last_kernel || strncmp(c->last_kernel, want_k, 16) != 0))
        fail_msg("%s %ux%u (cs %d): want %s*, the last kernel was %s", vkg_dtype_name(k->wt), k->n_out, k->n_in, k->cs,
                 want_k, c->last_kernel ? c->last_kernel : "none");
    if (k->cs == 4 && c->last_kernel && strncmp(c->last_kernel, "matvec1_lane_tx_", 16) == 0)
        fail_msg("%s %ux%u: %s ran, which needs quad operations", vkg_dtype_name(k->wt), k->n_out, k->n_in,
                 c->last_kernel);
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(by, y, (ny + 1) * 4);
    ref_matmul(w, k->wt, k->n_out, k->n_in, x + xpad, xs, k->bias ? bias : NULL, k->n_tok, want, ys, abs_sum);
    char what[160];
    snprintf(what, sizeof what, "%s %ux%u n_tok %u path %d%s%s%s", vkg_dtype_name(k->wt), k->n_out, k->n_in, k->n_tok,
             (int)k->path, k->bias ? " +bias" : "", k->strided ? " strided" : "", k->aligned ? " aligned" : "");
    if (y[0] != SENTINEL) fail_msg("%s: the float before y was written", what);
    check(what, y + 1, ys, want, abs_sum, k->n_out, k->n_tok);
    vkg_cmd_free(c);
    vkg_buffer_free(bw);
    vkg_buffer_free(bx);
    vkg_buffer_free(by);
    vkg_buffer_free(bb);
    free(w);
    free(wp);
    free(x);
    free(y);
    free(want);
    free(bias);
    free(abs_sum);
    gpu_assert_no_validation();
}

static const uint32_t g_float_shapes[][2] = { { 1, 100 }, { 7, 333 }, { 65, 96 }, { 130, 256 }, { 3, 8 } };
/* n_in 512: rows of whole groups of 8 blocks, which the texel tier reads as texels directly; 96, 544, 32:
 * rows ending inside a group (and, at most row widths, starting inside a texel: VKG_MATMUL_ROWS_ANY) */
static const uint32_t g_quant_shapes[][2] = { { 1, 96 }, { 7, 544 }, { 65, 512 }, { 130, 512 }, { 3, 32 } };
static const uint32_t g_kquant_shapes[][2] = { { 1, 256 }, { 7, 768 }, { 65, 256 }, { 130, 512 }, { 3, 256 } };

static void run_dtype(enum vkg_dtype wt, const uint32_t *toks, size_t n_toks, const enum vkg_matmul_path *paths,
                      size_t n_paths)
{
    uint32_t bs = vkg_dtype_block_size(wt);
    uint64_t seed = 0xabc0 + (uint64_t)wt;
    for (size_t s = 0; s < 5; s++)
        for (size_t t = 0; t < n_toks; t++)
            for (size_t p = 0; p < n_paths; p++) {
                const uint32_t *sh = bs == 256 ? g_kquant_shapes[s] : bs == 32 ? g_quant_shapes[s] : g_float_shapes[s];
                if (paths[p] == VKG_MATMUL_LANE_TEXEL && sh[1] % 8) continue; /* the tier needs n_in % 8 == 0 */
                struct mm_case k = {
                    wt, sh[0], sh[1], toks[t], (int)((s + t) & 1), (int)(t % 3 != 1), paths[p], (int)((s + t + p) % 2)
                };
                run_case(&k, seed++);
            }
}

static const uint32_t g_decode_toks[] = { 1, 2, 3, 5, 8 };
static const uint32_t g_prefill_toks[] = { 9, 17, 100 };

/* The texel lane tier takes every type (the 32-value block types with n_in % 256 != 0 and Q8_0 ... Q5_K with
 * unaligned rows fall back to the lane or subgroup mat-vec; Q6_K rows may start at any even byte). */
static void decode(enum vkg_dtype wt)
{
    enum vkg_matmul_path paths[4];
    size_t np = 0;
    if (g_dev->use.subgroup_arith) paths[np++] = VKG_MATMUL_DECODE_SUBGROUP;
    if (g_dev->use.lane_ok) paths[np++] = VKG_MATMUL_DECODE_LANE;
    /* matmul_lane (texel reads; one token takes the lane mat-vec) */
    if (g_dev->use.lane_ok) paths[np++] = VKG_MATMUL_LANE_TEXEL;
    paths[np++] = VKG_MATMUL_DECODE_SHARED;
    if (np < 3) fprintf(stderr, "note: %zu of the decode tiers on this device\n", np);
    run_dtype(wt, g_decode_toks, 5, paths, np);
}
static void prefill(enum vkg_dtype wt)
{
    enum vkg_matmul_path paths[3] = { VKG_MATMUL_AUTO, VKG_MATMUL_GEMM, VKG_MATMUL_LANE_TEXEL };
    run_dtype(wt, g_prefill_toks, 3, paths, g_dev->use.lane_ok ? 3 : 2);
}

static void test_decode_f32(void **state) { decode(VKG_DTYPE_F32); }
static void test_decode_f16(void **state) { decode(VKG_DTYPE_F16); }
static void test_decode_bf16(void **state) { decode(VKG_DTYPE_BF16); }
static void test_decode_q8_0(void **state) { decode(VKG_DTYPE_Q8_0); }
static void test_decode_q4(void **state) { decode(VKG_DTYPE_Q4); }
static void test_prefill_f32(void **state) { prefill(VKG_DTYPE_F32); }
static void test_prefill_f16(void **state) { prefill(VKG_DTYPE_F16); }
static void test_prefill_bf16(void **state) { prefill(VKG_DTYPE_BF16); }
static void test_prefill_q8_0(void **state) { prefill(VKG_DTYPE_Q8_0); }
static void test_prefill_q4(void **state) { prefill(VKG_DTYPE_Q4); }
static void test_decode_q4_1(void **state) { decode(VKG_DTYPE_Q4_1); }
static void test_decode_q5_0(void **state) { decode(VKG_DTYPE_Q5_0); }
static void test_decode_q5_1(void **state) { decode(VKG_DTYPE_Q5_1); }
static void test_decode_q4_k(void **state) { decode(VKG_DTYPE_Q4_K); }
static void test_decode_q5_k(void **state) { decode(VKG_DTYPE_Q5_K); }
static void test_decode_q6_k(void **state) { decode(VKG_DTYPE_Q6_K); }
static void test_prefill_q4_1(void **state) { prefill(VKG_DTYPE_Q4_1); }
static void test_prefill_q5_0(void **state) { prefill(VKG_DTYPE_Q5_0); }
static void test_prefill_q5_1(void **state) { prefill(VKG_DTYPE_Q5_1); }
static void test_prefill_q4_k(void **state) { prefill(VKG_DTYPE_Q4_K); }
static void test_prefill_q5_k(void **state) { prefill(VKG_DTYPE_Q5_K); }
static void test_prefill_q6_k(void **state) { prefill(VKG_DTYPE_Q6_K); }

/* The GEMM kernels of the ggml types forced at 1, 3 and 8 tokens (the AUTO
 * path takes the decode kernels there) and around its 64-token tile. */
static void test_ggml_gemm_small(void **state)
{
    static const enum vkg_dtype types[] = { VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_1,
                                            VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };
    static const uint32_t toks[] = { 1, 3, 8, 65 };
    for (size_t i = 0; i < 6; i++)
        for (size_t t = 0; t < 4; t++) {
            uint32_t n_in = vkg_dtype_block_size(types[i]) == 256 ? 512 : 160;
            struct mm_case k = { types[i], 67 + (uint32_t)t, n_in,        toks[t], (int)(t & 1),
                                 1,        VKG_MATMUL_GEMM,  (int)(t & 1) };
            run_case(&k, 300 + 10 * i + t);
        }
}

/* The GEMM at token counts around its 64-token tile and the decode path forced
 * beyond 8 vectors (split into launches of 8). */
static void test_tile_edges(void **state)
{
    static const uint32_t toks[] = { 63, 64, 65, 129 };
    for (size_t i = 0; i < 4; i++) {
        struct mm_case k = { VKG_DTYPE_Q4, 64 + (uint32_t)i, 128, toks[i], 1, 1, VKG_MATMUL_GEMM };
        run_case(&k, 77 + i);
        k.wt = VKG_DTYPE_F16;
        k.n_in = 63 + (uint32_t)i * 32;
        run_case(&k, 99 + i);
    }
    struct mm_case k = { VKG_DTYPE_F32, 33, 100, 20, 1, 1, VKG_MATMUL_DECODE_SHARED };
    run_case(&k, 5);
    /* the lane tier over several workgroups of 128 rows, the last one partial, and beyond 8 vectors
     * (token blocks of 8 in workgroup z, the last one partial) */
    static const uint32_t lane_toks[] = { 1, 8, 11, 67 };
    for (size_t i = 0; i < 4 && g_dev->use.lane_ok; i++) {
        struct mm_case l = { i ? VKG_DTYPE_F16 : VKG_DTYPE_Q8_0,
                             517,
                             64,
                             lane_toks[i],
                             1,
                             (int)(i & 1),
                             VKG_MATMUL_DECODE_LANE,
                             (int)(i != 1) };
        run_case(&l, 40 + i);
    }
    /* matmul_lane over several workgroups of 256 rows, the last one partial, token blocks of 8
     * (the last one partial), each float type */
    static const enum vkg_dtype tex_types[] = { VKG_DTYPE_F32, VKG_DTYPE_F16, VKG_DTYPE_BF16 };
    for (size_t i = 0; i < 3 && g_dev->use.lane_ok; i++) {
        struct mm_case l = { tex_types[i], 517, 64, lane_toks[i + 1], 1, (int)(i & 1), VKG_MATMUL_LANE_TEXEL, 1 };
        run_case(&l, 50 + i);
    }
    /* the same for the 32-value block types in rows of 2 groups of 8 blocks and the K-quants in rows of 2
       super-blocks, 1..67 tokens; unaligned: the 32-value types realign (ROWS_ANY), Q6_K reads rows at any
       even byte anyway, Q4_K / Q5_K fall back to the lane mat-vec */
    static const enum vkg_dtype q_types[] = { VKG_DTYPE_Q8_0, VKG_DTYPE_Q4,   VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0,
                                              VKG_DTYPE_Q5_1, VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };
    for (size_t i = 0; i < 32 && g_dev->use.lane_ok; i++) {
        struct mm_case l = {
            q_types[i % 8],   517, 512, lane_toks[i / 8], (int)(i & 1), (int)(i / 8 != 1), VKG_MATMUL_LANE_TEXEL,
            (int)(i % 7 != 0)
        };
        run_case(&l, 60 + i);
    }
    /* rows of 18 blocks (SmolLM2's 576: 2 groups of 8 and a partial one) and of 3, every 32-value block
       type, starting inside a texel (ROWS_ANY), aligned or not */
    static const enum vkg_dtype b_types[] = { VKG_DTYPE_Q8_0, VKG_DTYPE_Q4, VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0,
                                              VKG_DTYPE_Q5_1 };
    for (size_t i = 0; i < 20 && g_dev->use.lane_ok; i++) {
        struct mm_case l = { b_types[i % 5], i & 2 ? 517u : 67u, i & 1 ? 576u : 96u,    lane_toks[i / 5],
                             (int)(i & 1),   (int)(i / 5 != 1),  VKG_MATMUL_LANE_TEXEL, (int)(i % 3 != 0) };
        run_case(&l, 100 + i);
    }
    k.path = VKG_MATMUL_GEMM;
    k.n_tok = 1; /* the GEMM with a single token */
    run_case(&k, 6);
}

/* matvec1_lane_tx_* of the float types walks 16 columns per step, its 4 x texels fetched by the 4
 * lanes of each quad and shared: rows of one half step (8), of a half step at the end (24, 584),
 * whole steps (64), bias, strided x and y; the launch must be that kernel. */
static void test_matvec_tx_float(void **state)
{
    (void)state;
    if (!g_dev->use.lane_ok || !g_dev->use.texel || !g_dev->use.quad) {
        printf("texel lane tier or quad operations off on this device: matvec1_lane_tx not run\n");
        return;
    }
    static const uint32_t shapes[][2] = { { 9, 8 }, { 70, 24 }, { 67, 64 }, { 130, 584 } };
    static const enum vkg_dtype types[] = { VKG_DTYPE_F32, VKG_DTYPE_F16, VKG_DTYPE_BF16 };
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            struct mm_case k = {
                types[t], shapes[i][0], shapes[i][1], 1, (int)(i & 1), (int)((i >> 1) & 1), VKG_MATMUL_LANE_TEXEL, 1, 3
            };
            run_case(&k, 400 + 10 * t + i);
        }
}

/* matvec1_lane_cs_* (one token, float weights; the workgroup's lanes split the columns and
 * subgroupAdd sums them): rows that are fewer than a workgroup's 8, a partial last workgroup, rows
 * narrower and wider than the 8 lanes x 8 columns of one step and not a multiple of it, bias,
 * strided x/y; the launch must be that kernel. */
static void test_matvec_cs(void **state)
{
    (void)state;
    if (!g_dev->use.lane_ok || !g_dev->use.subgroup_arith) {
        printf("lane tier or subgroup arithmetic off on this device: matvec1_lane_cs not run\n");
        return;
    }
    static const uint32_t shapes[][2] = { { 1, 8 }, { 7, 96 }, { 65, 576 }, { 130, 256 }, { 517, 1000 }, { 3, 8 } };
    static const enum vkg_dtype types[] = { VKG_DTYPE_F32, VKG_DTYPE_F16, VKG_DTYPE_BF16 };
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            struct mm_case k = {
                types[t], shapes[i][0], shapes[i][1], 1, (int)(i & 1), (int)((i >> 1) & 1), VKG_MATMUL_LANE_TEXEL, 1, 1
            };
            run_case(&k, 200 + 10 * t + i);
        }
    /* the automatic choice: rows of VKG_MATVEC1_CS_MIN_IN columns and more take it, narrower ones not */
    for (size_t t = 0; t < 3; t++) {
        struct mm_case wide = { types[t], 37, VKG_MATVEC1_CS_MIN_IN, 1, 1, 0, VKG_MATMUL_LANE_TEXEL, 1, 2 };
        run_case(&wide, 240 + t);
        struct mm_case narrow = { types[t], 37, VKG_MATVEC1_CS_MIN_IN - 8, 1, 1, 0, VKG_MATMUL_LANE_TEXEL, 1, 3 };
        run_case(&narrow, 250 + t);
    }
}

/* Every finite F16 / BF16 pattern (subnormals included) decodes exactly: W
 * [rows][8] holds them all, the 8 tokens are one-hot, so y[t][o] = W[o][t]. */
static void all_patterns(enum vkg_dtype wt, size_t w_pad_bytes)
{
    float (*dec)(uint16_t) = wt == VKG_DTYPE_F16 ? ref_f16_to_f32 : ref_bf16_to_f32;
    uint16_t *w = calloc(65536 + 8, 2);
    uint32_t n = 0;
    for (uint32_t h = 0; h < 65536; h++)
        if (isfinite(dec((uint16_t)h))) w[w_pad_bytes / 2 + n++] = (uint16_t)h;
    uint32_t rows = (n + 7) / 8;
    float x[64] = { 0 }, *got = malloc((size_t)rows * 8 * 4), *want = malloc((size_t)rows * 8 * 4);
    for (int t = 0; t < 8; t++) x[t * 8 + t] = 1;
    for (uint32_t o = 0; o < rows; o++)
        for (int t = 0; t < 8; t++) want[(size_t)t * rows + o] = dec(w[w_pad_bytes / 2 + o * 8 + t]);
    struct vkg_buffer *bw = gpu_buffer_from(w, (65536 + 8) * 2, "patterns"), *bx = gpu_buffer_from(x, sizeof x, "x");
    struct vkg_buffer *by = gpu_buffer_from(NULL, (size_t)rows * 8 * 4, "y");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul(c, vkg_view_sub(vkg_buffer_view(bw), w_pad_bytes, (size_t)rows * 16), wt, rows, 8,
                         vkg_buffer_view(bx), vkg_buffer_view(by), 8, NULL));
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(by, got, (size_t)rows * 8 * 4);
    char what[64];
    snprintf(what, sizeof what, "all finite %s patterns, weights at byte %zu", vkg_dtype_name(wt), w_pad_bytes);
    assert_close_f32(what, got, want, (size_t)rows * 8, 0, 0);
    vkg_cmd_free(c);
    vkg_buffer_free(bw);
    vkg_buffer_free(bx);
    vkg_buffer_free(by);
    free(w);
    free(got);
    free(want);
    gpu_assert_no_validation();
}

static void test_all_16bit_patterns(void **state)
{
    all_patterns(VKG_DTYPE_F16, 0); /* vector loads */
    all_patterns(VKG_DTYPE_F16, 2); /* scalar loads (odd element) */
    all_patterns(VKG_DTYPE_BF16, 0);
    all_patterns(VKG_DTYPE_BF16, 2);
}

/* VKGRM_DISABLE_SUBGROUP turns dev->use.subgroup_arith off: AUTO then takes the
 * shared-memory tier and forcing the subgroup tier is refused. */
/* Without subgroup quad operations neither matmul_lane nor matvec1_lane_tx (both share x through
 * subgroupQuadBroadcast) is picked: the lane mat-vec takes every token count; results unchanged. */
static void test_no_quad(void **state)
{
    int saved = g_dev->use.quad;
    g_dev->use.quad = 0;
    static const struct mm_case ks[] = {
        { VKG_DTYPE_F16, 70, 96, 5, 1, 1, VKG_MATMUL_AUTO, 1 },
        { VKG_DTYPE_Q4_K, 33, 512, 17, 0, 0, VKG_MATMUL_AUTO, 1 },
        { VKG_DTYPE_Q8_0, 9, 256, 1, 0, 1, VKG_MATMUL_AUTO, 1, 4 },
        { VKG_DTYPE_F16, 70, 96, 1, 1, 0, VKG_MATMUL_AUTO, 1, 4 },
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) run_case(&ks[i], 300 + i);
    g_dev->use.quad = saved;
}

static void test_subgroup_switch(void **state)
{
    int saved = g_dev->use.subgroup_arith;
    g_dev->use.subgroup_arith = 0;
    struct mm_case k = { VKG_DTYPE_BF16, 9, 333, 4, 1, 1, VKG_MATMUL_AUTO };
    run_case(&k, 11);
    float dummy[4] = { 0 };
    struct vkg_buffer *b = gpu_buffer_from(dummy, sizeof dummy, "tiny");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_matmul_args a = { .w = vkg_buffer_view(b),
                                 .wt = VKG_DTYPE_F32,
                                 .n_out = 1,
                                 .n_in = 1,
                                 .x = vkg_buffer_view(b),
                                 .y = vkg_buffer_view(b),
                                 .n_tok = 1,
                                 .path = VKG_MATMUL_DECODE_SUBGROUP };
    assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_UNSUPPORTED);
    g_dev->use.subgroup_arith = saved;
    GPU_OK(vkg_cmd_end(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

/* The lane kernels' workgroup fills one SIMD vector: 16 invocations where llvmpipe runs 16-lane
 * subgroups (LP_NATIVE_VECTOR_WIDTH=512; the gpu_test_matmul_lane16 entry asks for 16 through
 * VKG_TEST_LANE_WIDTH, so that it fails where the setting did not take), else 8; VKGRM_LANE_WIDTH=8
 * keeps 8. Then a few cases through the texel lane kernels at that width, ragged row counts among
 * them (rows past the last workgroup's would be left unwritten if the dispatch counted 8 lanes for
 * a 16-lane workgroup, checked by run_case against the CPU reference). */
static void test_lane_width(void **state)
{
    const struct vkg_device_info *i = &g_dev->info;
    const char *keep = getenv("VKGRM_LANE_WIDTH"); /* "8" where set: the device open refuses other values */
    uint32_t want =
        g_dev->use.lane_tier && i->subgroup_min_size == 16 && i->subgroup_max_size == 16 && !(keep && *keep) ? 16u : 8u;
    const char *expect = getenv("VKG_TEST_LANE_WIDTH");
    if (expect) want = (uint32_t)atoi(expect);
    if (g_dev->use.lane_width != want)
        fail_msg("lane width %u (subgroups of %u..%u lanes), want %u", g_dev->use.lane_width, i->subgroup_min_size,
                 i->subgroup_max_size, want);
    static const struct mm_case ks[] = {
        { VKG_DTYPE_F16, 131, 96, 1, 1, 1, VKG_MATMUL_LANE_TEXEL, 1, 3 },
        { VKG_DTYPE_BF16, 257, 2048, 1, 0, 0, VKG_MATMUL_LANE_TEXEL, 1, 1 },
        { VKG_DTYPE_F16, 70, 96, 13, 1, 0, VKG_MATMUL_LANE_TEXEL, 1 },
        { VKG_DTYPE_Q4_K, 273, 512, 1, 0, 1, VKG_MATMUL_LANE_TEXEL, 1, 3 },
        { VKG_DTYPE_Q4_K, 273, 512, 9, 0, 1, VKG_MATMUL_LANE_TEXEL, 1 },
        { VKG_DTYPE_Q6_K, 133, 768, 17, 1, 0, VKG_MATMUL_LANE_TEXEL, 0 },
        { VKG_DTYPE_Q8_0, 300, 512, 8, 0, 1, VKG_MATMUL_LANE_TEXEL, 1 },
    };
    for (size_t n = 0; n < sizeof ks / sizeof ks[0]; n++) run_case(&ks[n], 400 + n);
}

/* XQ8 (use.xq8): Q4_K, Q5_K and Q6_K launches of the texel lane tier handed a scratch quantize x to 8 bits
 * (quantize_x_q8k) and multiply in integers (*_xq8). The scratch must hold llama.cpp's Q8_K of x
 * word for word (ref_quantize_xq8, written from quantize_row_q8_K_ref: d, the sub-block sums, the
 * paired values), and y must be W times that dequantized x (ref_matmul in double over the
 * dequantized rows), within 2e-6 (not 1e-4) x sum |w x|: the kernels' integer sums are exact, so
 * only the float scaling and the sum over sub-blocks round, and a sub-block sum one off (a
 * read-out that floors instead of rounding) is ~3e-5 of it. x has a block of zeros (d 0)
 * and blocks scaled by 1e-3 .. 1e3. One token and 5, 8, 9, 17 tokens; strided and aligned rows. */
/* vkg_matmul_args.xq_ready: the caller quantized x into the scratch itself (models: one
 * quantization for several projections of one x), so the op must read that scratch and not
 * quantize again. The scratch holds 2x's rows: y must come out as exactly the op's own result for
 * 2x (Q8_K: 2 y, the same q with d doubled exactly; Q8_0, whose f16 d may be subnormal, a second
 * launch on 2x), which an op that quantized x itself would not give. Strided rows of several tokens
 * (split: the op does not take the caller's rows as its own) multiply float x instead and leave
 * the scratch as it was. a: the case's arguments, y its XQ8 result. */
/* Q8_0F scratch words: the same float value (a q of 0 from a negative x may come out as -0) */
static int same_value(uint32_t a, uint32_t b)
{
    float fa, fb;
    memcpy(&fa, &a, 4);
    memcpy(&fb, &b, 4);
    return fa == fb;
}

/* whether kernel `last` is the XQ8 launch of format fmt: an *_xq8 kernel, or for Q8_0F (Q8_0 weights) the
 * float-x Q8_0 lane kernel that reads the rounded x */
static int xq8_kernel(const char *last, enum vkg_xq8_fmt fmt)
{
    size_t ll = strlen(last);
    if (fmt == VKG_XQ8_Q8_0F) return strcmp(last, "matmul_lane_q8_0") == 0 || strcmp(last, "matvec1_lane_tx_q8_0") == 0;
    return ll >= 4 && strcmp(last + ll - 4, "_xq8") == 0;
}

static void check_xq_ready(const char *what, const struct vkg_matmul_args *a, enum vkg_xq8_fmt fmt, const float *x,
                           size_t nx, const float *y, size_t ny, size_t qw, int split)
{
    float *x2 = malloc(nx * 4), *y2 = malloc(ny * 4);
    uint32_t *q2 = malloc(qw * 4);
    for (size_t i = 0; i < nx; i++) x2[i] = 2.0f * x[i];
    for (size_t i = 0; i < qw; i++) q2[i] = 0x5a5a5a5au;
    struct vkg_buffer *bx2 = gpu_buffer_from(x2, nx * 4, "xq8 2x"), *by2 = gpu_buffer_from(NULL, ny * 4, "xq8 y2");
    struct vkg_buffer *bq2 = gpu_buffer_from(q2, qw * 4, "xq8 scratch of 2x");
    struct vkg_matmul_args b = *a;
    b.y = vkg_buffer_view(by2);
    b.xq = vkg_buffer_view(bq2);
    b.xq_ready = 1;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    if (!split) {
        GPU_OK(
            vkg_op_quantize_x_fmt(c, fmt, vkg_buffer_view(bx2), a->x_stride, a->n_in, a->n_tok, vkg_buffer_view(bq2)));
        vkg_cmd_barrier(c);
    }
    GPU_OK(vkg_op_matmul_ex(c, &b));
    const char *last = c->last_kernel ? c->last_kernel : "none";
    /* Q8_0F: the float-x kernel either way (the scratch's content and y tell) */
    if (fmt != VKG_XQ8_Q8_0F && xq8_kernel(last, fmt) == split)
        fail_msg("%s, xq_ready%s: the last kernel was %s", what, split ? " (split)" : "", last);
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(by2, y2, ny * 4);
    float *y3 = malloc(ny * 4);
    for (size_t i = 0; i < ny; i++) y3[i] = 2.0f * y[i];
    if ((fmt == VKG_XQ8_Q8_0 || fmt == VKG_XQ8_Q8_0F) && !split) { /* the op on 2x, quantizing it itself */
        struct vkg_buffer *by3 = gpu_buffer_from(NULL, ny * 4, "xq8 y3"), *bq3 = gpu_buffer_from(q2, qw * 4, "xq8 q3");
        struct vkg_matmul_args b3 = *a;
        b3.x = vkg_buffer_view(bx2);
        b3.y = vkg_buffer_view(by3);
        b3.xq = vkg_buffer_view(bq3);
        struct vkg_cmd *c3;
        GPU_OK(vkg_cmd_create(g_dev, &c3));
        GPU_OK(vkg_cmd_begin(c3));
        GPU_OK(vkg_op_matmul_ex(c3, &b3));
        GPU_OK(vkg_cmd_submit_wait(c3));
        gpu_read(by3, y3, ny * 4);
        vkg_cmd_free(c3);
        vkg_buffer_free(by3);
        vkg_buffer_free(bq3);
    }
    for (uint32_t t = 0; t < a->n_tok && !split; t++)
        for (uint32_t o = 0; o < a->n_out; o++) {
            float g = y2[(size_t)t * a->n_out + o], w = y3[(size_t)t * a->n_out + o];
            if (memcmp(&g, &w, 4) != 0)
                fail_msg("%s, xq_ready: y[%u][%u] = %.9g, want exactly the XQ8 result for 2x, %.9g", what, t, o, g, w);
        }
    free(y3);
    if (split) {
        gpu_read(bq2, q2, qw * 4);
        for (size_t i = 0; i < qw; i++)
            if (q2[i] != 0x5a5a5a5au) fail_msg("%s, xq_ready (split): the op wrote the caller's scratch", what);
    }
    vkg_cmd_free(c);
    vkg_buffer_free(bx2);
    vkg_buffer_free(by2);
    vkg_buffer_free(bq2);
    free(x2);
    free(y2);
    free(q2);
}

static void test_xq8(void **state)
{
    static const struct {
        enum vkg_dtype wt;
        uint32_t n_out, n_in, n_tok, strided;
    } ks[] = { { VKG_DTYPE_Q4_K, 65, 256, 1, 0 },
               { VKG_DTYPE_Q4_K, 130, 512, 1, 1 },
               { VKG_DTYPE_Q4_K, 273, 768, 1, 0 },
               { VKG_DTYPE_Q4_K, 7, 768, 5, 1 },
               { VKG_DTYPE_Q4_K, 33, 512, 8, 0 },
               { VKG_DTYPE_Q4_K, 273, 512, 9, 1 },
               { VKG_DTYPE_Q4_K, 65, 768, 17, 0 },
               { VKG_DTYPE_Q6_K, 65, 256, 1, 0 },
               { VKG_DTYPE_Q6_K, 131, 768, 1, 1 },
               { VKG_DTYPE_Q6_K, 7, 512, 5, 1 },
               { VKG_DTYPE_Q6_K, 273, 256, 9, 0 },
               { VKG_DTYPE_Q6_K, 65, 768, 17, 1 },
               { VKG_DTYPE_Q5_K, 65, 256, 1, 0 },
               { VKG_DTYPE_Q5_K, 130, 768, 1, 1 },
               { VKG_DTYPE_Q5_K, 33, 512, 8, 1 },
               { VKG_DTYPE_Q5_K, 65, 768, 17, 0 },
               /* the 32-value types: Q8_0 / Q8_1 x (576: rows of whole blocks but not of whole groups of 8,
                * the ROWS_ANY walk) */
               { VKG_DTYPE_Q4, 65, 512, 5, 1 },
               { VKG_DTYPE_Q4, 33, 576, 8, 0 },
               { VKG_DTYPE_Q4, 273, 512, 17, 0 },
               { VKG_DTYPE_Q4, 65, 512, 1, 0 },
               { VKG_DTYPE_Q4, 130, 576, 1, 1 },
               { VKG_DTYPE_Q4_1, 130, 512, 9, 0 },
               { VKG_DTYPE_Q4_1, 7, 576, 17, 1 },
               { VKG_DTYPE_Q4_1, 65, 576, 1, 0 },
               { VKG_DTYPE_Q5_0, 65, 576, 8, 1 },
               { VKG_DTYPE_Q5_0, 273, 512, 9, 0 },
               { VKG_DTYPE_Q5_0, 65, 512, 1, 1 },
               { VKG_DTYPE_Q5_1, 65, 512, 5, 0 },
               { VKG_DTYPE_Q5_1, 33, 576, 17, 1 },
               { VKG_DTYPE_Q5_1, 273, 576, 1, 0 },
               /* Q8_0: Q8_0's x written back as floats (quantize_x_q8_0f), the float-x kernels */
               { VKG_DTYPE_Q8_0, 65, 512, 1, 0 },
               { VKG_DTYPE_Q8_0, 130, 576, 1, 1 },
               { VKG_DTYPE_Q8_0, 33, 576, 8, 0 },
               { VKG_DTYPE_Q8_0, 273, 512, 9, 1 },
               { VKG_DTYPE_Q8_0, 65, 512, 17, 0 } };
    for (size_t n = 0; n < sizeof ks / sizeof ks[0]; n++) {
        uint64_t seed = 900 + n;
        uint32_t n_out = ks[n].n_out, n_in = ks[n].n_in, n_tok = ks[n].n_tok;
        enum vkg_dtype wt = ks[n].wt;
        size_t wb, xs = n_in + (ks[n].strided ? 8 : 0), nx = (size_t)n_tok * xs, ny = (size_t)n_tok * n_out;
        uint8_t *w = rng_weight(&seed, wt, n_out, n_in, &wb);
        float *x = malloc(nx * 4), *xd = calloc(nx, 4), *y = malloc(ny * 4), *want = malloc(ny * 4);
        double *abs_sum = malloc(ny * sizeof *abs_sum);
        rng_fill_f32(&seed, x, nx, -1, 1);
        for (uint32_t t = 0; t < n_tok; t++)
            for (uint32_t b = 0; b < n_in / 256; b++) {
                float sc = (t + b) % 4 == 1 ? 0.0f : powf(10.0f, (float)((int)((t * 7 + b * 3) % 7) - 3));
                for (uint32_t i = 0; i < 256; i++) x[t * xs + 256 * b + i] *= sc;
                /* ties of |x|: the first value of largest |x| sets m's sign (llama.cpp's loop), across
                 * the 8 sub-blocks that quantize_x.comp reduces lane by lane and inside one */
                float *xb = x + t * xs + 256 * b, big = 2.0f * sc;
                if (b % 3 == 0) xb[37] = -big, xb[230] = big;       /* sub-blocks 1 and 7: m < 0 */
                else if (b % 3 == 1) xb[100] = big, xb[130] = -big; /* 3 and 4: m > 0 */
                else xb[200] = -big, xb[201] = big, xb[9] = -big;   /* 6 twice, then 0 first: m < 0 */
            }
        enum vkg_xq8_fmt fmt = vkg_op_matmul_xq_fmt(g_dev, wt, n_tok, n_in);
        int q80 = wt != VKG_DTYPE_Q4_K && wt != VKG_DTYPE_Q5_K && wt != VKG_DTYPE_Q6_K; /* Q8_0 / Q8_1 x */
        int q8f = wt == VKG_DTYPE_Q8_0; /* those values as floats (Q8_0F) */
        uint32_t unit = q80 ? 32 : 256, blw = q8f ? 32 : q80 ? VKG_XQ8_0_BLOCK_WORDS : VKG_XQ8_BLOCK_WORDS;
        enum vkg_xq8_fmt want_fmt = q8f ? VKG_XQ8_Q8_0F : q80 ? VKG_XQ8_Q8_0 : VKG_XQ8_Q8K;
        if (g_dev->use.xq8 && fmt != want_fmt)
            fail_msg("%s x %u tokens: vkg_op_matmul_xq_fmt gives %d", vkg_dtype_name(wt), n_tok, (int)fmt);
        if (q8f) {
            /* token 0's block 1 as below (d a tie between two halves, every q 127); row 0's block 1 all
             * 127 and block 2 all -128: the products' extremes */
            for (uint32_t i = 32; i < 64; i++) x[i] = 127.06201171875f;
            memset(w + 34 + 2, 0x7f, 32);
            memset(w + 68 + 2, 0x80, 32);
        } else if (q80) {
            /* token 0's block 1: every x 127 (1 + 2^-11), so d = m / 127 is a tie between two halves (f16
             * rounds it to even: 1) and every q is 127; row 0's block 1 holds the largest values (15, 31),
             * the largest sums the integer read-outs must hold (Q5: 8 products of 31 * 127 a half) */
            for (uint32_t i = 32; i < 64; i++) x[i] = 127.06201171875f;
            size_t qb = vkg_dtype_block_bytes(wt), qs = wt == VKG_DTYPE_Q4     ? 2
                                                        : wt == VKG_DTYPE_Q4_1 ? 4
                                                        : wt == VKG_DTYPE_Q5_0 ? 6
                                                                               : 8;
            memset(w + qb + qs, 0xff, 16);
            if (wt == VKG_DTYPE_Q5_0 || wt == VKG_DTYPE_Q5_1) memset(w + qb + qs - 4, 0xff, 4); /* qh */
        }
        size_t rw = (size_t)(n_in / unit) * blw, qw = (size_t)n_tok * rw;
        uint32_t *qwant = malloc(qw * 4), *qgot = malloc(qw * 4);
        for (uint32_t t = 0; t < n_tok; t++) {
            if (q8f) { /* the scratch holds the dequantized x, f16(d) q, as F32 rows of n_in */
                ref_quantize_xq8_0(x + t * xs, n_in, NULL, xd + t * xs);
                memcpy(qwant + (size_t)t * rw, xd + t * xs, (size_t)n_in * 4);
            } else if (q80) ref_quantize_xq8_0(x + t * xs, n_in, qwant + (size_t)t * rw, xd + t * xs);
            else ref_quantize_xq8(x + t * xs, n_in, qwant + (size_t)t * rw, xd + t * xs);
        }
        struct vkg_buffer *bw = gpu_buffer_from(w, wb, "xq8 weight"), *bx = gpu_buffer_from(x, nx * 4, "xq8 x");
        struct vkg_buffer *by = gpu_buffer_from(y, ny * 4, "xq8 y");
        struct vkg_buffer *bq = gpu_buffer_from(qgot, qw * 4, "xq8 scratch");
        assert_true(vkg_op_matmul_xq_bytes(n_tok, n_in) >= qw * 4); /* the scratch size takes either format */
        struct vkg_matmul_args a = { .w = vkg_buffer_view(bw),
                                     .wt = wt,
                                     .n_out = n_out,
                                     .n_in = n_in,
                                     .x = vkg_buffer_view(bx),
                                     .x_stride = xs,
                                     .y = vkg_buffer_view(by),
                                     .n_tok = n_tok,
                                     .xq = vkg_buffer_view(bq) };
        struct vkg_cmd *c;
        GPU_OK(vkg_cmd_create(g_dev, &c));
        GPU_OK(vkg_cmd_begin(c));
        GPU_OK(vkg_op_matmul_ex(c, &a));
        const char *last = c->last_kernel ? c->last_kernel : "none";
        if ((fmt != VKG_XQ8_NONE) != xq8_kernel(last, fmt != VKG_XQ8_NONE ? fmt : VKG_XQ8_Q8K))
            fail_msg("%s %ux%u x %u tokens with a scratch: the last kernel was %s, want %s", vkg_dtype_name(wt), n_out,
                     n_in, n_tok, last, fmt != VKG_XQ8_NONE ? "the XQ8 launch" : "float x");
        GPU_OK(vkg_cmd_submit_wait(c));
        gpu_read(by, y, ny * 4);
        ref_matmul(w, wt, n_out, n_in, fmt != VKG_XQ8_NONE ? xd : x, xs, NULL, n_tok, want, n_out, abs_sum);
        /* Q8_1: llama.cpp's m s per block, s = f16(d sum q) (the dequantized x sums f16(d) sum q) */
        if (fmt == VKG_XQ8_Q8_0) ref_xq8_1_fix(w, wt, n_out, n_in, x, xs, n_tok, want, n_out);
        char what[96];
        snprintf(what, sizeof what, "xq8 %s %ux%u n_tok %u%s", vkg_dtype_name(wt), n_out, n_in, n_tok,
                 ks[n].strided ? " strided" : "");
        g_rel = fmt != VKG_XQ8_NONE ? 2e-6 : 1e-4;
        check(what, y, n_out, want, abs_sum, n_out, n_tok);
        g_rel = 1e-4;
        if (fmt != VKG_XQ8_NONE) {
            gpu_read(bq, qgot, qw * 4);
            for (size_t i = 0; i < qw; i++)
                if (qgot[i] != qwant[i] && !(q8f && same_value(qgot[i], qwant[i])))
                    fail_msg("%s: scratch word %zu (row %zu, block %zu, word %zu) is 0x%08x, llama.cpp's %s gives "
                             "0x%08x",
                             what, i, i / rw, i % rw / blw, i % blw, qgot[i],
                             q8f   ? "Q8_0 (as floats)"
                             : q80 ? "Q8_0 / Q8_1"
                                   : "Q8_K",
                             qwant[i]);
            check_xq_ready(what, &a, fmt, x, nx, y, ny, qw, ks[n].strided && n_tok > 1);
        }
        vkg_cmd_free(c);
        vkg_buffer_free(bw);
        vkg_buffer_free(bx);
        vkg_buffer_free(by);
        vkg_buffer_free(bq);
        free(w);
        free(x);
        free(xd);
        free(y);
        free(want);
        free(abs_sum);
        free(qwant);
        free(qgot);
    }
    gpu_assert_no_validation();
}

/* Bad arguments fail with a message that names the tensor. */
static void test_errors(void **state)
{
    float dummy[64] = { 0 };
    struct vkg_buffer *b = gpu_buffer_from(dummy, sizeof dummy, "layers.0.mlp.up_proj.weight");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    assert_int_equal(vkg_op_matmul(c, v, VKG_DTYPE_Q8_0, 1, 48, v, v, 1, NULL), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "up_proj"));
    assert_int_equal(vkg_op_matmul(c, v, VKG_DTYPE_I8, 1, 4, v, v, 1, NULL), VKG_ERR_UNSUPPORTED);
    assert_int_equal(vkg_op_matmul(c, v, VKG_DTYPE_Q4_K, 1, 32, v, v, 1, NULL), VKG_ERR_INVALID_ARG); /* 256-blocks */
    assert_non_null(strstr(vkg_error_detail(), "multiple of 256"));
    assert_int_equal(vkg_op_matmul(c, v, VKG_DTYPE_F32, 9, 8, v, v, 1, NULL), VKG_ERR_INVALID_ARG); /* 288 > 256 B */
    assert_non_null(strstr(vkg_error_detail(), "weight view"));
    assert_int_equal(vkg_op_matmul(c, vkg_view_sub(v, 2, 64), VKG_DTYPE_F32, 1, 8, v, v, 1, NULL), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_quantize(c, v, VKG_DTYPE_F32, v, VKG_DTYPE_Q8_0, 33), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_quantize(c, v, VKG_DTYPE_F32, v, VKG_DTYPE_F16, 32), VKG_ERR_UNSUPPORTED);
    GPU_OK(vkg_cmd_end(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
    gpu_assert_no_validation();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matvec_cs),
        cmocka_unit_test(test_lane_width),
        cmocka_unit_test(test_xq8),
        cmocka_unit_test(test_decode_f32),
        cmocka_unit_test(test_decode_f16),
        cmocka_unit_test(test_decode_bf16),
        cmocka_unit_test(test_decode_q8_0),
        cmocka_unit_test(test_decode_q4),
        cmocka_unit_test(test_prefill_f32),
        cmocka_unit_test(test_prefill_f16),
        cmocka_unit_test(test_prefill_bf16),
        cmocka_unit_test(test_prefill_q8_0),
        cmocka_unit_test(test_prefill_q4),
        cmocka_unit_test(test_decode_q4_1),
        cmocka_unit_test(test_decode_q5_0),
        cmocka_unit_test(test_decode_q5_1),
        cmocka_unit_test(test_decode_q4_k),
        cmocka_unit_test(test_decode_q5_k),
        cmocka_unit_test(test_decode_q6_k),
        cmocka_unit_test(test_prefill_q4_1),
        cmocka_unit_test(test_prefill_q5_0),
        cmocka_unit_test(test_prefill_q5_1),
        cmocka_unit_test(test_prefill_q4_k),
        cmocka_unit_test(test_prefill_q5_k),
        cmocka_unit_test(test_prefill_q6_k),
        cmocka_unit_test(test_ggml_gemm_small),
        cmocka_unit_test(test_tile_edges),
        cmocka_unit_test(test_subgroup_switch),
        cmocka_unit_test(test_no_quad),
        cmocka_unit_test(test_matvec_tx_float),
        cmocka_unit_test(test_all_16bit_patterns),
        cmocka_unit_test(test_errors),
    };
    return gpu_run_tests("test_matmul", tests, sizeof tests / sizeof tests[0], argc, argv);
}
