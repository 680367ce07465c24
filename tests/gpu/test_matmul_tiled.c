/* test_matmul_tiled — float and block-type weights stored in tiles of T = VKG_MATMUL_TILE_ROWS (8)
 * rows (VKG_MATMUL_W_TILED).
 *
 * The layout, from its definition (push_matmul.h), element by element: value i of row o is
 * at element T t * n_in + (kt * rt + r) * g + j of the tiled matrix, with t = o / T,
 * r = o % T, rt = min(T, n_out - T t) (the last tile may hold fewer rows), kt = i / g,
 * j = i % g, g the values of one 16-byte texel of the device type (8 for F16/BF16, 4 for
 * F32). ref_tile_rows (tests/reference) places every element by that formula; vkg_weights_tile_rows (the
 * loader's tiler) must give the same bytes for rows 1 / 63 / 64 / 65 / 200 / 130, rows of
 * 8 / 136 / 576 values, 2- and 4-byte elements and g 4 / 8 (a BF16 file going to F32). The
 * block types tile by 256 values (a K-quant block of 144 / 176 / 210 bytes; 8 blocks of Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1): the same formula over the row's bytes with 1-byte elements and g = the unit's
 * bytes, so unit kb of row o lands at T t * row_bytes + (kb * rt + r) * unit bytes; the tiler must
 * give those bytes too. Q6_K's tile columns hold the rows' fields one after another instead
 * (ref_tile_q6k places each byte by the formula; vkg_weights_tile_q6k must match it).
 *
 * The kernels: every texel lane kernel reading a tiled W must give the same bits as the
 * same kernel on the row-major W (the arithmetic is the same, only the addresses move), and
 * both the double reference (ref_matmul, test_matmul's tolerance):
 *   - vkg_op_matmul_ex: F32 / F16 / BF16, 70 rows (a partial last tile of 6 rows), 203 (one of
 *     3), 200 and 192 (whole tiles); n_in 136 and 576; 1 / 3 / 8 / 17 / 40 tokens (the one-token
 *     row-per-lane kernel, the 8-token GEMM, partial token blocks), with bias; and with a 32 KiB
 *     binding range, so the matrix runs in row windows (cut at whole tiles when tiled);
 *   - the one-token column split forced (matvec1_lane_cs reads tiles correctly too);
 *   - vkg_op_matmul_fused: q|k|v (PARTS 136 | 40 | 40) and gate|up SwiGLU (2 x 104), one launch
 *     and, with use.fused off, each part launched apart on its tiled slice;
 *   - vkg_op_matmul_add_norm (RESNORM): the residual add and norm's tail with tiled rows;
 *   - the same for Q4_K / Q5_K / Q6_K (n_in 512 and 768; 70 rows: a partial last tile, 72 for Q6_K,
 *     whose split tiles are whole), with float x
 *     and with an XQ8 scratch (x in 8 bits: the *_xq8 kernels, the reference on llama.cpp's
 *     Q8_K of x), fused q|k|v and gate|up on 8-bit x, Q6_K's RESNORM, Q6_K in row windows;
 *     and for Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 (n_in 512 and 768), Q8_0's q|k|v, Q4_1's gate|up,
 *     Q5_0's RESNORM.
 * And the refusals: a tiled weight on the GEMM path or the subgroup path (no texel kernel there)
 * is VKG_ERR_UNSUPPORTED, a tiled Q8_0 of 64-value rows (not whole groups of 8 blocks) is VKG_ERR_INVALID_ARG, so
 * is a tiled Q6_K of 70 rows or one starting off a texel, a tiled stack whose part is not
 * whole tiles is VKG_ERR_INVALID_ARG when the parts run apart. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_matmul.h"
#include "ref_matmul.h"
#include "weights.h"

static int is_kq(enum vkg_dtype wt) { return wt == VKG_DTYPE_Q4_K || wt == VKG_DTYPE_Q5_K || wt == VKG_DTYPE_Q6_K; }

static uint32_t esz(enum vkg_dtype wt) { return wt == VKG_DTYPE_F32 ? 4 : 2; }

/* the tiled bytes of a row-major matrix (ref_tile_rows): floats by 16-byte texels, block types by 256
 * values (a K-quant block, 8 blocks of the 32-value types) */
static void tile_ref(uint8_t *dst, const uint8_t *src, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in)
{
    if (wt == VKG_DTYPE_Q6_K) {
        ref_tile_q6k(dst, src, n_out, n_in / 256);
    } else if (vkg_dtype_is_block(wt)) {
        uint32_t unit = (uint32_t)(vkg_dtype_block_bytes(wt) * (256 / vkg_dtype_block_size(wt)));
        ref_tile_rows(dst, src, n_out, n_in / 256 * unit, 1, unit);
    } else {
        ref_tile_rows(dst, src, n_out, n_in, esz(wt), 16 / esz(wt));
    }
}

static void test_host_tiler(void **state)
{
    (void)state;
    /* block-type rows: 1 / 8 / 13 / 64 rows of 2 and 3 units of 144, 176, 210 (K-quant blocks), 272 (8 Q8_0
     * blocks) bytes */
    static const uint32_t krows[] = { 1, 8, 13, 64 }, kbb[] = { 144, 176, 210, 272 };
    uint64_t kseed = 3;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++)
            for (uint32_t nb = 2; nb <= 3; nb++) {
                uint32_t rb = nb * kbb[b];
                size_t n = (size_t)krows[a] * rb;
                uint8_t *src = malloc(n), *want = malloc(n), *got = malloc(n);
                for (size_t i = 0; i < n; i++) src[i] = (uint8_t)rng_next(&kseed);
                ref_tile_rows(want, src, krows[a], rb, 1, kbb[b]);
                vkg_weights_tile_rows(got, src, krows[a], rb, 1, kbb[b]);
                if (memcmp(got, want, n) != 0)
                    fail_msg("tiler: %u rows of %u blocks of %u bytes: bytes differ from the layout", krows[a], nb,
                             kbb[b]);
                free(src);
                free(want);
                free(got);
            }
    /* Q6_K's split tile columns: 1 / 8 / 13 / 64 rows of 1 to 3 blocks */
    for (size_t a = 0; a < 4; a++)
        for (uint32_t nb = 1; nb <= 3; nb++) {
            size_t n = (size_t)krows[a] * nb * 210;
            uint8_t *src = malloc(n), *want = malloc(n), *got = malloc(n);
            for (size_t i = 0; i < n; i++) src[i] = (uint8_t)rng_next(&kseed);
            ref_tile_q6k(want, src, krows[a], nb);
            vkg_weights_tile_q6k(got, src, krows[a], (uint64_t)nb * 210);
            if (memcmp(got, want, n) != 0)
                fail_msg("Q6_K tiler: %u rows of %u blocks: bytes differ from the layout", krows[a], nb);
            free(src);
            free(want);
            free(got);
        }
    static const uint32_t rows[] = { 1, 63, 64, 65, 200, 130 }, ins[] = { 8, 136, 576 };
    static const uint32_t fmt[][2] = { { 2, 8 }, { 4, 4 }, { 2, 4 } }; /* es, g */
    uint64_t seed = 7;
    for (size_t a = 0; a < sizeof rows / sizeof rows[0]; a++)
        for (size_t b = 0; b < sizeof ins / sizeof ins[0]; b++)
            for (size_t f = 0; f < 3; f++) {
                uint32_t es = fmt[f][0], g = fmt[f][1];
                size_t n = (size_t)rows[a] * ins[b] * es;
                uint8_t *src = malloc(n), *want = malloc(n), *got = malloc(n);
                for (size_t i = 0; i < n; i++) src[i] = (uint8_t)rng_next(&seed);
                ref_tile_rows(want, src, rows[a], ins[b], es, g);
                vkg_weights_tile_rows(got, src, rows[a], ins[b], es, g);
                if (memcmp(got, want, n) != 0)
                    fail_msg("tiler: %u x %u, %u-byte elements, g %u: bytes differ from the layout", rows[a], ins[b],
                             es, g);
                free(src);
                free(want);
                free(got);
            }
}

/* the texel tier's one launch of w (tiled or not) on x (bq: an XQ8 scratch or NULL); returns the last kernel's
 * name */
static const char *run_mm(enum vkg_dtype wt, struct vkg_buffer *bw, int tiled, uint32_t n_out, uint32_t n_in,
                          struct vkg_buffer *bx, struct vkg_buffer *bb, uint32_t n_tok, int cs, struct vkg_buffer *bq,
                          float *y)
{
    struct vkg_buffer *by = gpu_buffer_from(NULL, (uint64_t)n_tok * n_out * 4, "tiled y");
    struct vkg_view bv = vkg_buffer_view(bb);
    struct vkg_matmul_args a = { .w = vkg_buffer_view(bw),
                                 .wt = wt,
                                 .n_out = n_out,
                                 .n_in = n_in,
                                 .x = vkg_buffer_view(bx),
                                 .y = vkg_buffer_view(by),
                                 .n_tok = n_tok,
                                 .bias = &bv,
                                 .path = VKG_MATMUL_LANE_TEXEL,
                                 .w_tiled = tiled,
                                 .xq = bq ? vkg_buffer_view(bq) : (struct vkg_view){ 0 } };
    int saved = g_dev->use.matvec_cs;
    g_dev->use.matvec_cs = cs ? 2 : 0;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul_ex(c, &a));
    static char kernel[64];
    snprintf(kernel, sizeof kernel, "%s", c->last_kernel ? c->last_kernel : "");
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.matvec_cs = saved;
    gpu_read(by, y, (uint64_t)n_tok * n_out * 4);
    vkg_cmd_free(c);
    vkg_buffer_free(by);
    return kernel;
}

static void check_ref(const char *what, const uint8_t *w, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in,
                      const float *x, const float *bias, uint32_t n_tok, const float *got)
{
    size_t n = (size_t)n_tok * n_out;
    float *want = malloc(n * 4);
    double *abs_sum = malloc(n * 8);
    ref_matmul(w, wt, n_out, n_in, x, n_in, bias, n_tok, want, n_out, abs_sum);
    for (size_t i = 0; i < n; i++)
        if (fabs((double)got[i] - want[i]) > 1e-4 * abs_sum[i] + 1e-6)
            fail_msg("%s: y[%zu] = %.9g, reference %.9g (sum |w x| %.3g)", what, i, got[i], want[i], abs_sum[i]);
    free(want);
    free(abs_sum);
}

static void bits_equal(const char *what, const float *a, const float *b, size_t n)
{
    if (memcmp(a, b, n * 4) != 0)
        for (size_t i = 0; i < n; i++)
            if (memcmp(&a[i], &b[i], 4) != 0)
                fail_msg("%s: element %zu: tiled %.9g, row-major %.9g (not the same bits)", what, i, a[i], b[i]);
}

/* xq (K-quants): with an XQ8 scratch, the *_xq8 kernels on x in 8 bits (the reference on its Q8_K) */
static void matmul_case_x(enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, uint64_t seed, int xq)
{
    static const uint32_t toks[] = { 1, 3, 8, 17, 40 };
    size_t wb;
    uint8_t *w = rng_weight(&seed, wt, n_out, n_in, &wb), *wt_tiled = malloc(wb);
    tile_ref(wt_tiled, w, wt, n_out, n_in);
    float *x = malloc((size_t)40 * n_in * 4), *xr = malloc((size_t)40 * n_in * 4), *bias = malloc(n_out * 4);
    rng_fill_f32(&seed, x, (size_t)40 * n_in, -1, 1);
    rng_fill_f32(&seed, bias, n_out, -1, 1);
    memcpy(xr, x, (size_t)40 * n_in * 4);
    int x8 = xq && g_dev->use.xq8;
    for (uint32_t t = 0; x8 && t < 40; t++) ref_quantize_xq8(x + (size_t)t * n_in, n_in, NULL, xr + (size_t)t * n_in);
    struct vkg_buffer *bw = gpu_buffer_from(w, wb, "row-major w"), *bt = gpu_buffer_from(wt_tiled, wb, "tiled w");
    struct vkg_buffer *bx = gpu_buffer_from(x, (size_t)40 * n_in * 4, "x"), *bb = gpu_buffer_from(bias, n_out * 4, "b");
    struct vkg_buffer *bq = xq ? gpu_buffer_from(NULL, vkg_op_matmul_xq_bytes(40, n_in), "xq") : NULL;
    float *y0 = malloc((size_t)40 * n_out * 4), *y1 = malloc((size_t)40 * n_out * 4);
    for (size_t k = 0; k < sizeof toks / sizeof toks[0]; k++)
        for (int cs = 0; cs < (toks[k] == 1 && !vkg_dtype_is_block(wt) ? 2 : 1); cs++) {
            char what[128];
            snprintf(what, sizeof what, "%s %ux%u x %u tokens%s%s", vkg_dtype_name(wt), n_out, n_in, toks[k],
                     cs ? " (column split)" : "", x8 ? " (x in 8 bits)" : "");
            run_mm(wt, bw, 0, n_out, n_in, bx, bb, toks[k], cs, bq, y0);
            const char *kern = run_mm(wt, bt, 1, n_out, n_in, bx, bb, toks[k], cs, bq, y1);
            const char *want = toks[k] > 1 ? "matmul_lane_" : cs ? "matvec1_lane_cs_" : "matvec1_lane_tx_";
            if (strncmp(kern, want, strlen(want)) != 0) fail_msg("%s: ran %s, not %s*", what, kern, want);
            if ((strstr(kern, "_xq8") != NULL) != x8) fail_msg("%s: ran %s", what, kern);
            bits_equal(what, y1, y0, (size_t)toks[k] * n_out);
            check_ref(what, w, wt, n_out, n_in, xr, bias, toks[k], y1);
        }
    vkg_buffer_free(bq);
    free(xr);
    vkg_buffer_free(bw);
    vkg_buffer_free(bt);
    vkg_buffer_free(bx);
    vkg_buffer_free(bb);
    free(w);
    free(wt_tiled);
    free(x);
    free(bias);
    free(y0);
    free(y1);
}

static void matmul_case(enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, uint64_t seed)
{
    matmul_case_x(wt, n_out, n_in, seed, 0);
}

static void test_f16(void **state)
{
    (void)state;
    matmul_case(VKG_DTYPE_F16, 70, 136, 1);
    matmul_case(VKG_DTYPE_F16, 203, 576, 2);
    matmul_case(VKG_DTYPE_F16, 192, 136, 3);
}

/* a binding range of 32 KiB: W of 203 x 144 F16 (288-byte rows) runs in row windows, which a tiled
 * W must cut at whole tiles (112 + 91 rows; the row-major one at 113 + 90), x and y in token
 * windows: the same bits, the same reference */
static uint64_t g_saved_range;

static void test_windows(void **state)
{
    (void)state;
    g_saved_range = g_dev->info.max_storage_buffer_range;
    g_dev->info.max_storage_buffer_range = 32 << 10;
    matmul_case(VKG_DTYPE_F16, 203, 144, 8);
    /* Q6_K rows of 420 bytes: 72 + 72 + 56 rows tiled (windows of whole tiles; a tiled Q6_K holds whole
     * tiles), 78 + 78 + 44 row-major */
    matmul_case_x(VKG_DTYPE_Q6_K, 200, 512, 9, 1);
}

/* the device's range back even when the test failed (the later tests must not run windowed) */
static int restore_range(void **state)
{
    (void)state;
    if (g_saved_range) g_dev->info.max_storage_buffer_range = g_saved_range;
    return 0;
}

static void test_bf16(void **state)
{
    (void)state;
    matmul_case(VKG_DTYPE_BF16, 70, 576, 4);
    matmul_case(VKG_DTYPE_BF16, 200, 136, 5);
}

static void test_f32(void **state)
{
    (void)state;
    matmul_case(VKG_DTYPE_F32, 70, 136, 6);
    matmul_case(VKG_DTYPE_F32, 200, 136, 7);
}

static void test_kquants(void **state)
{
    (void)state;
    static const enum vkg_dtype kt[] = { VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };
    for (int i = 0; i < 3; i++)
        for (int xq = 0; xq < 2; xq++) {
            matmul_case_x(kt[i], kt[i] == VKG_DTYPE_Q6_K ? 72 : 70, 512, 30 + 4 * i + xq, xq); /* Q6_K: whole tiles */
            matmul_case_x(kt[i], 200, 768, 32 + 4 * i + xq, xq);
        }
}

/* q|k|v (PARTS) or gate|up (SwiGLU) over a row-major or tiled stack; fused: the one launch or apart */
static void run_fused(enum vkg_dtype wt, int glu, struct vkg_buffer *bw, int tiled, const uint32_t *rows, uint32_t n_in,
                      struct vkg_buffer *bx, uint32_t n_tok, int fused, struct vkg_buffer *bq, float *out)
{
    uint32_t np = glu ? 2 : 3, total = 0;
    for (uint32_t i = 0; i < np; i++) total += rows[i];
    uint32_t n_y = glu ? rows[0] : total;
    struct vkg_buffer *by[3] = { 0 }, *tmp[2];
    struct vkg_matmul_fused_args a = { .w = vkg_buffer_view(bw),
                                       .wt = wt,
                                       .n_in = n_in,
                                       .n_parts = np,
                                       .rows = { rows[0], rows[1], glu ? 0 : rows[2] },
                                       .x = vkg_buffer_view(bx),
                                       .n_tok = n_tok,
                                       .kind = glu ? VKG_MATMUL_FUSE_SWIGLU : VKG_MATMUL_FUSE_PARTS,
                                       .w_tiled = tiled,
                                       .xq = bq ? vkg_buffer_view(bq) : (struct vkg_view){ 0 } };
    for (uint32_t i = 0; i < (glu ? 1 : np); i++) {
        by[i] = gpu_buffer_from(NULL, (uint64_t)n_tok * rows[i] * 4, "fused y");
        a.y[i] = vkg_buffer_view(by[i]);
    }
    for (int i = 0; i < 2; i++) {
        tmp[i] = gpu_buffer_from(NULL, (uint64_t)n_tok * rows[0] * 4, "fused tmp");
        a.tmp[i] = vkg_buffer_view(tmp[i]);
    }
    int saved = g_dev->use.fused;
    g_dev->use.fused = fused;
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_matmul_fused(c, &a));
    GPU_OK(vkg_cmd_submit_wait(c));
    g_dev->use.fused = saved;
    for (uint32_t i = 0, o = 0; i < (glu ? 1 : np); o += n_tok * rows[i], i++)
        gpu_read(by[i], out + o, (uint64_t)n_tok * rows[i] * 4);
    (void)n_y;
    for (uint32_t i = 0; i < 3; i++) vkg_buffer_free(by[i]);
    vkg_buffer_free(tmp[0]);
    vkg_buffer_free(tmp[1]);
    vkg_cmd_free(c);
}

/* n_in: 136 for floats, 512 for the K-quants (then with an XQ8 scratch: the reference on 8-bit x) */
static void fused_case(enum vkg_dtype wt, int glu, uint64_t seed, uint32_t n_in)
{
    static const uint32_t qkv[3] = { 136, 40, 40 }, gu[2] = { 104, 104 };
    const uint32_t *rows = glu ? gu : qkv, total = glu ? gu[0] + gu[1] : qkv[0] + qkv[1] + qkv[2];
    size_t wb;
    uint8_t *w = rng_weight(&seed, wt, total, n_in, &wb), *wtl = malloc(wb);
    tile_ref(wtl, w, wt, total, n_in);
    float *x = malloc((size_t)17 * n_in * 4);
    rng_fill_f32(&seed, x, (size_t)17 * n_in, -1, 1);
    struct vkg_buffer *bw = gpu_buffer_from(w, wb, "stack"), *bt = gpu_buffer_from(wtl, wb, "tiled stack");
    struct vkg_buffer *bx = gpu_buffer_from(x, (size_t)17 * n_in * 4, "x");
    struct vkg_buffer *bq = is_kq(wt) ? gpu_buffer_from(NULL, vkg_op_matmul_xq_bytes(17, n_in), "xq") : NULL;
    float *xr = malloc((size_t)17 * n_in * 4);
    memcpy(xr, x, (size_t)17 * n_in * 4);
    for (uint32_t t = 0; bq && g_dev->use.xq8 && t < 17; t++)
        ref_quantize_xq8(x + (size_t)t * n_in, n_in, NULL, xr + (size_t)t * n_in);
    static const uint32_t toks[] = { 1, 9, 17 };
    float *y0 = malloc((size_t)17 * total * 4), *y1 = malloc((size_t)17 * total * 4);
    float *want = malloc((size_t)17 * total * 4);
    for (size_t k = 0; k < 3; k++) {
        uint32_t n = toks[k];
        size_t ny = (size_t)n * (glu ? rows[0] : total);
        ref_matmul(w, wt, total, n_in, xr, n_in, NULL, n, want, total, NULL);
        for (int fused = 1; fused >= 0; fused--) {
            char what[128];
            snprintf(what, sizeof what, "%s %s x %u tokens, %s", vkg_dtype_name(wt), glu ? "gate|up" : "q|k|v", n,
                     fused ? "one launch" : "parts apart");
            run_fused(wt, glu, bw, 0, rows, n_in, bx, n, fused, bq, y0);
            run_fused(wt, glu, bt, 1, rows, n_in, bx, n, fused, bq, y1);
            bits_equal(what, y1, y0, ny);
            /* against the reference: part i's rows of each token */
            for (uint32_t t = 0; t < n; t++)
                for (uint32_t o = 0; o < (glu ? rows[0] : total); o++) {
                    double v;
                    if (glu) {
                        double gt = want[(size_t)t * total + o], u = want[(size_t)t * total + rows[0] + o];
                        v = gt / (1.0 + exp(-gt)) * u;
                    } else {
                        v = want[(size_t)t * total + o];
                    }
                    uint32_t part = glu ? 0 : o < rows[0] ? 0 : o < rows[0] + rows[1] ? 1 : 2;
                    uint32_t r0 = part == 0 ? 0 : part == 1 ? rows[0] : rows[0] + rows[1];
                    size_t at = glu ? (size_t)t * rows[0] + o : (size_t)n * r0 + (size_t)t * rows[part] + (o - r0);
                    if (fabs(y1[at] - v) > 1e-3 * (fabs(v) + 1.0))
                        fail_msg("%s: token %u row %u: %.9g, reference %.9g", what, t, o, y1[at], v);
                }
        }
    }
    vkg_buffer_free(bw);
    vkg_buffer_free(bt);
    vkg_buffer_free(bx);
    vkg_buffer_free(bq);
    free(w);
    free(wtl);
    free(x);
    free(xr);
    free(y0);
    free(y1);
    free(want);
}

static void test_fused(void **state)
{
    (void)state;
    fused_case(VKG_DTYPE_F16, 0, 11, 136);
    fused_case(VKG_DTYPE_F16, 1, 12, 136);
    fused_case(VKG_DTYPE_BF16, 0, 13, 136);
    fused_case(VKG_DTYPE_Q4_K, 0, 14, 512);
    fused_case(VKG_DTYPE_Q4_K, 1, 15, 512);
    fused_case(VKG_DTYPE_Q6_K, 1, 16, 512);
}

/* RESNORM over tiled rows: the same bits as over row-major ones */
static void resnorm_case(enum vkg_dtype wt, uint32_t n_in, uint64_t seed)
{
    const uint32_t n_out = 200;
    size_t wb;
    uint8_t *w = rng_weight(&seed, wt, n_out, n_in, &wb), *wtl = malloc(wb);
    tile_ref(wtl, w, wt, n_out, n_in);
    float *x = malloc((size_t)9 * n_in * 4), *res0 = malloc((size_t)9 * n_out * 4), *g = malloc(n_out * 4);
    rng_fill_f32(&seed, x, (size_t)9 * n_in, -1, 1);
    rng_fill_f32(&seed, res0, (size_t)9 * n_out, -3, 3);
    rng_fill_f32(&seed, g, n_out, -2, 2);
    struct vkg_buffer *bw[2] = { gpu_buffer_from(w, wb, "w"), gpu_buffer_from(wtl, wb, "tiled w") };
    struct vkg_buffer *bx = gpu_buffer_from(x, (size_t)9 * n_in * 4, "x"), *bg = gpu_buffer_from(g, n_out * 4, "g");
    static const uint32_t toks[] = { 1, 9 };
    for (size_t k = 0; k < 2; k++) {
        uint32_t n = toks[k];
        float *res[2], *h[2];
        for (int tl = 0; tl < 2; tl++) {
            struct vkg_buffer *br = gpu_buffer_from(res0, (size_t)n * n_out * 4, "res"),
                              *bh = gpu_buffer_from(NULL, (size_t)n * n_out * 4, "h"),
                              *btmp = gpu_buffer_from(NULL, (size_t)n * n_out * 4, "tmp"),
                              *bc = gpu_buffer_from(NULL, vkg_op_matmul_norm_counter_bytes(n), "counters");
            struct vkg_cmd *c;
            GPU_OK(vkg_cmd_create(g_dev, &c));
            GPU_OK(vkg_cmd_begin(c));
            vkg_cmd_fill(c, vkg_buffer_view(bc), 0);
            vkg_cmd_barrier(c);
            struct vkg_matmul_norm_args a = { .mm = { .w = vkg_buffer_view(bw[tl]),
                                                      .wt = wt,
                                                      .n_out = n_out,
                                                      .n_in = n_in,
                                                      .x = vkg_buffer_view(bx),
                                                      .y = vkg_buffer_view(br),
                                                      .n_tok = n,
                                                      .w_tiled = tl },
                                              .norm_w = vkg_buffer_view(bg),
                                              .h = vkg_buffer_view(bh),
                                              .tmp = vkg_buffer_view(btmp),
                                              .counters = vkg_buffer_view(bc),
                                              .eps = 1e-5f,
                                              .kind = VKG_RMSNORM_PLAIN };
            GPU_OK(vkg_op_matmul_add_norm(c, &a));
            GPU_OK(vkg_cmd_submit_wait(c));
            res[tl] = malloc((size_t)n * n_out * 4);
            h[tl] = malloc((size_t)n * n_out * 4);
            gpu_read(br, res[tl], (size_t)n * n_out * 4);
            gpu_read(bh, h[tl], (size_t)n * n_out * 4);
            vkg_cmd_free(c);
            vkg_buffer_free(br);
            vkg_buffer_free(bh);
            vkg_buffer_free(btmp);
            vkg_buffer_free(bc);
        }
        char what[64];
        snprintf(what, sizeof what, "resnorm %u tokens: res", n);
        bits_equal(what, res[1], res[0], (size_t)n * n_out);
        snprintf(what, sizeof what, "resnorm %u tokens: h", n);
        bits_equal(what, h[1], h[0], (size_t)n * n_out);
        /* and the residual against the reference: res0 + W x */
        float *want = malloc((size_t)n * n_out * 4);
        double *as = malloc((size_t)n * n_out * 8);
        ref_matmul(w, wt, n_out, n_in, x, n_in, NULL, n, want, n_out, as);
        for (size_t i = 0; i < (size_t)n * n_out; i++)
            if (fabs((double)res[1][i] - ((double)res0[i] + want[i])) > 1e-4 * as[i] + 1e-6 * fabs(res0[i]) + 1e-6)
                fail_msg("resnorm %u tokens: res[%zu] %.9g, reference %.9g", n, i, res[1][i], res0[i] + want[i]);
        free(want);
        free(as);
        for (int tl = 0; tl < 2; tl++) {
            free(res[tl]);
            free(h[tl]);
        }
    }
    vkg_buffer_free(bw[0]);
    vkg_buffer_free(bw[1]);
    vkg_buffer_free(bx);
    vkg_buffer_free(bg);
    free(w);
    free(wtl);
    free(x);
    free(res0);
    free(g);
}

static void test_resnorm(void **state)
{
    (void)state;
    resnorm_case(VKG_DTYPE_F16, 136, 21);
    resnorm_case(VKG_DTYPE_Q6_K, 512, 22); /* float x (no XQ8 scratch): the one-token and 8-token tails */
}

/* the 32-value block types, tiled by groups of 8 blocks (rows of 256k values) */
static void test_block32(void **state)
{
    (void)state;
    static const enum vkg_dtype bt[] = { VKG_DTYPE_Q8_0, VKG_DTYPE_Q4, VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_1 };
    for (int i = 0; i < 5; i++) {
        matmul_case(bt[i], 70, 512, 50 + 2 * i);
        matmul_case(bt[i], 200, 768, 51 + 2 * i);
    }
    fused_case(VKG_DTYPE_Q8_0, 0, 60, 512);
    fused_case(VKG_DTYPE_Q4_1, 1, 61, 512);
    resnorm_case(VKG_DTYPE_Q5_0, 512, 62);
}

static void test_refusals(void **state)
{
    (void)state;
    struct vkg_buffer *b = gpu_buffer_from(NULL, 1 << 20, "any");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_matmul_args a = { .w = v,
                                 .wt = VKG_DTYPE_F16,
                                 .n_out = 64,
                                 .n_in = 64,
                                 .x = v,
                                 .y = v,
                                 .n_tok = 16,
                                 .path = VKG_MATMUL_GEMM,
                                 .w_tiled = 1 };
    assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_UNSUPPORTED);
    a.path = VKG_MATMUL_DECODE_SUBGROUP;
    a.n_tok = 1;
    if (g_dev->use.subgroup_arith) assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_UNSUPPORTED);
    a.path = VKG_MATMUL_AUTO;
    a.wt = VKG_DTYPE_Q8_0;
    assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_INVALID_ARG);
    /* a tiled Q6_K: split tile columns need whole tiles and a start on a texel */
    a.wt = VKG_DTYPE_Q6_K;
    a.n_in = 256;
    a.n_out = 70;
    assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "whole tiles"));
    a.n_out = 72;
    a.w = vkg_view_sub(v, 2, 72 * 210);
    assert_int_equal(vkg_op_matmul_ex(c, &a), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "texel"));
    struct vkg_matmul_fused_args f = { .w = v,
                                       .wt = VKG_DTYPE_F16,
                                       .n_in = 64,
                                       .n_parts = 3,
                                       .rows = { 64, 36, 28 }, /* not whole 8-row tiles */
                                       .x = v,
                                       .y = { v, v, v },
                                       .n_tok = 1,
                                       .kind = VKG_MATMUL_FUSE_PARTS,
                                       .w_tiled = 1 };
    assert_int_equal(vkg_op_matmul_fused(c, &f), VKG_ERR_INVALID_ARG);
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_tiler),
        cmocka_unit_test(test_f16),
        cmocka_unit_test_teardown(test_windows, restore_range),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_kquants),
        cmocka_unit_test(test_block32),
        cmocka_unit_test(test_fused),
        cmocka_unit_test(test_resnorm),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
