/* bench_matmul.c — bench cases of the matmul family: decode GB/s (weight
 * bytes read) at 1 and 8 vectors for both reduction tiers, prefill GFLOP/s at
 * 512 tokens, per weight dtype (ggml's Q4_1 ... Q6_K included), and the load-time quantizers (bytes read +
 * written). Sizes are kept small enough for lavapipe (each run well under 1 s). */
#include <stdlib.h>

#include "bench.h"
#include "ops_matmul.h"

#define DEC_N 4096 /* decode: 4096 x 4096 weights */
#define PRE_N 1024 /* prefill: 1024 x 1024 weights x 512 tokens */
#define PRE_TOK 512
#define QUANT_N (4096u * 4096u)

struct mm_ctx {
    struct vkg_buffer *w, *x, *y;
    struct vkg_matmul_args a;
    enum vkg_dtype st;      /* quantize: source type (a.wt is the destination) */
    int cs;                 /* one token, float weights: matvec1_lane_cs forced (1) or off (0) while recording;
                          2: off, and the weights are in 8-row tiles (w_tiled: random bits either way) */
    uint32_t copies;        /* > 1: that many distinct weight matrices, one launch each (cache-cold, as in a model) */
    uint64_t wbytes;        /* bytes of one matrix */
    struct vkg_buffer *xqb; /* XQ8: the scratch of x in 8 bits (vkg_matmul_args.xq), or NULL */
};

/* Fills c: the weights (random bits), x and y of one matmul case */
static enum vkg_status mm_init(struct vkg_device *dev, struct mm_ctx *c, uint64_t *bytes, uint64_t *flops,
                               enum vkg_dtype wt, uint32_t n, uint32_t n_in, uint32_t n_tok, enum vkg_matmul_path path,
                               int cs, uint32_t copies)
{
    c->cs = cs;
    c->copies = copies > 1 ? copies : 1;
    uint64_t wbytes = (uint64_t)n * n_in / vkg_dtype_block_size(wt) * vkg_dtype_block_bytes(wt);
    c->wbytes = wbytes;
    VKG_TRY(vkg_bench_buffer(dev, wbytes * c->copies, "bench weight", &c->w));
    VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)n_in * n_tok, -1, 1, "bench x", &c->x));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n * n_tok * 4, "bench y", &c->y));
    c->a = (struct vkg_matmul_args){ .w = vkg_buffer_view(c->w),
                                     .wt = wt,
                                     .n_out = n,
                                     .n_in = n_in,
                                     .x = vkg_buffer_view(c->x),
                                     .y = vkg_buffer_view(c->y),
                                     .n_tok = n_tok,
                                     .path = path,
                                     .w_tiled = cs == 2 };
    *bytes = wbytes * c->copies; /* decode is bound by the weight read */
    *flops = 2ull * n * n_in * n_tok * c->copies;
    return VKG_OK;
}

static enum vkg_status mm_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, enum vkg_dtype wt,
                                uint32_t n, uint32_t n_in, uint32_t n_tok, enum vkg_matmul_path path, int cs,
                                uint32_t copies)
{
    struct mm_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    return mm_init(dev, c, bytes, flops, wt, n, n_in, n_tok, path, cs, copies);
}

static void mm_free(struct mm_ctx *c)
{
    vkg_buffer_free(c->w);
    vkg_buffer_free(c->x);
    vkg_buffer_free(c->y);
    vkg_buffer_free(c->xqb);
}

static enum vkg_status mm_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct mm_ctx *c = ctx;
    int saved = cmd->dev->use.matvec_cs;
    cmd->dev->use.matvec_cs = c->cs == 1 ? 2 : 0;
    enum vkg_status s = VKG_OK;
    for (uint32_t i = 0; i < c->copies && s == VKG_OK; i++) {
        struct vkg_matmul_args a = c->a;
        if (c->copies > 1) a.w = vkg_view_sub(vkg_buffer_view(c->w), i * c->wbytes, c->wbytes);
        if (i) vkg_cmd_barrier(cmd);
        s = vkg_op_matmul_ex(cmd, &a);
    }
    cmd->dev->use.matvec_cs = saved;
    return s;
}

/* The output projection with the residual add and the next RMSNorm (vkg_op_matmul_add_norm: one
 * RESNORM launch up to VKG_MATMUL_RESNORM_MAX_TOK tokens, else the matmul and rmsnorm_add), tiled
 * float weights: against the plain rows of the same shape, what the residual and the norm cost. */
struct rn_ctx {
    struct mm_ctx m;
    struct vkg_buffer *g, *h, *tmp, *cnt;
};

static enum vkg_status rn_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, uint32_t n,
                                uint32_t n_in, uint32_t n_tok)
{
    struct rn_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    /* w, x and the residual y as the plain rows have them; the weights in tiles (cs 2), AUTO path */
    VKG_TRY(mm_init(dev, &c->m, bytes, flops, VKG_DTYPE_F16, n, n_in, n_tok, VKG_MATMUL_AUTO, 2, 1));
    VKG_TRY(vkg_bench_random_f32(dev, n, 0.5f, 1.5f, "bench norm weight", &c->g));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n * n_tok * 4, "bench h", &c->h));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n * n_tok * 4, "bench tmp", &c->tmp));
    /* the launch re-arms its counters, so they start at zero once */
    VKG_TRY(vkg_bench_random_f32(dev, vkg_op_matmul_norm_counter_bytes(n_tok) / 4, 0, 0, "bench counters", &c->cnt));
    return VKG_OK;
}

static enum vkg_status rn_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct rn_ctx *c = ctx;
    struct vkg_matmul_norm_args r = { .mm = c->m.a,
                                      .norm_w = vkg_buffer_view(c->g),
                                      .h = vkg_buffer_view(c->h),
                                      .tmp = vkg_buffer_view(c->tmp),
                                      .counters = vkg_buffer_view(c->cnt),
                                      .eps = 1e-6f,
                                      .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_matmul_add_norm(cmd, &r);
}

static void rn_down(void *ctx)
{
    struct rn_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->g);
    vkg_buffer_free(c->h);
    vkg_buffer_free(c->tmp);
    vkg_buffer_free(c->cnt);
    mm_free(&c->m);
    free(c);
}

#define RN(name, n, n_in, tok)                                                            \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return rn_setup(d, x, b, f, n, n_in, tok);                                        \
    }
RN(rn128, 128, 128, 160)
RN(rn128k, 128, 384, 160)
RN(rn576, 576, 576, 32)

static enum vkg_status q_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, enum vkg_dtype st,
                               enum vkg_dtype dt)
{
    struct mm_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    c->st = st;
    c->a.wt = dt;
    uint64_t sb = (uint64_t)QUANT_N * vkg_dtype_block_bytes(st), db = QUANT_N / 32 * vkg_dtype_block_bytes(dt);
    VKG_TRY(vkg_bench_random_f32(dev, sb / 4, -1, 1, "bench src", &c->x)); /* random bits for 16-bit sources too */
    VKG_TRY(vkg_bench_buffer(dev, db, "bench blocks", &c->w));
    *bytes = sb + db;
    *flops = 0;
    return VKG_OK;
}

static enum vkg_status q_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct mm_ctx *c = ctx;
    return vkg_op_quantize(cmd, vkg_buffer_view(c->x), c->st, vkg_buffer_view(c->w), c->a.wt, QUANT_N);
}

static void down(void *ctx)
{
    if (!ctx) return;
    mm_free(ctx);
    free(ctx);
}

/* Q4_K / Q5_K / Q6_K with the XQ8 scratch: the quantization of x and the integer kernels (use.xq8; the
 * time takes in the quantize_x_q8k launch, as a model step pays it) */
static enum vkg_status xq_setup_n(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                  enum vkg_dtype wt, uint32_t n, uint32_t n_in, uint32_t n_tok, uint32_t copies, int cs)
{
    VKG_TRY(mm_setup(dev, ctx, bytes, flops, wt, n, n_in, n_tok, VKG_MATMUL_LANE_TEXEL, cs, copies));
    struct mm_ctx *c = *ctx;
    VKG_TRY(vkg_bench_buffer(dev, vkg_op_matmul_xq_bytes(n_tok, n_in), "bench xq", &c->xqb));
    c->a.xq = vkg_buffer_view(c->xqb);
    return VKG_OK;
}
static enum vkg_status xq_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, enum vkg_dtype wt,
                                uint32_t n, uint32_t n_in, uint32_t n_tok)
{
    return xq_setup_n(dev, ctx, bytes, flops, wt, n, n_in, n_tok, 1, 0);
}
/* The Q4_K_M judge's (Qwen2.5-Coder-1.5B) FFN shapes, gate|up's rows (8960 x 1536) and down's (1536 x
 * 8960), over 16 distinct matrices (~120-180 MB, one launch each: cache-cold, as a model step reads
 * them), in the file's row order and in 8-row tiles of blocks (tiled 1, use.tiled_blocks's layout; random
 * bits either way) */
#define XQ_COLD(name, wt, n, n_in, tok, tiled)                                            \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return xq_setup_n(d, x, b, f, VKG_DTYPE_##wt, n, n_in, tok, 16, tiled ? 2 : 0);   \
    }
XQ_COLD(xqj_up, Q4_K, 8960, 1536, 1, 0)
XQ_COLD(xqj_up_t, Q4_K, 8960, 1536, 1, 1)
XQ_COLD(xqj_dn, Q4_K, 1536, 8960, 1, 0)
XQ_COLD(xqj_dn_t, Q4_K, 1536, 8960, 1, 1)
XQ_COLD(xqj_up8, Q4_K, 8960, 1536, 8, 0)
XQ_COLD(xqj_up8_t, Q4_K, 8960, 1536, 8, 1)
#define XQ(name, wt, n, tok)                                                              \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return xq_setup(d, x, b, f, VKG_DTYPE_##wt, n, n, tok);                           \
    }
XQ(xq1, Q4_K, DEC_N, 1)
XQ(xq8, Q4_K, DEC_N, 8)
XQ(xq64, Q4_K, DEC_N, 64)
XQ(xqp, Q4_K, PRE_N, PRE_TOK)
XQ(xq1_5, Q5_K, DEC_N, 1)
XQ(xqp_5, Q5_K, PRE_N, PRE_TOK)
XQ(xq1_6, Q6_K, DEC_N, 1)
/* the same in 8-row tiles (a model's Q6_K, use.tiled_blocks: split tile columns, every field on a texel) */
static enum vkg_status xq1_6t(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return xq_setup_n(d, x, b, f, VKG_DTYPE_Q6_K, DEC_N, DEC_N, 1, 1, 2);
}
XQ(xq8_6, Q6_K, DEC_N, 8)
XQ(xq64_6, Q6_K, DEC_N, 64)
XQ(xqp_6, Q6_K, PRE_N, PRE_TOK)
/* the 32-value types, x as Q8_0 / Q8_1 (quantize_x_q8_0) */
XQ(xq1_q4, Q4, DEC_N, 1)
XQ(xq1_q41, Q4_1, DEC_N, 1)
XQ(xq1_q50, Q5_0, DEC_N, 1)
XQ(xq1_q51, Q5_1, DEC_N, 1)
XQ(xq8_q4, Q4, DEC_N, 8)
XQ(xqp_q4, Q4, PRE_N, PRE_TOK)
XQ(xqp_q41, Q4_1, PRE_N, PRE_TOK)
XQ(xqp_q50, Q5_0, PRE_N, PRE_TOK)
XQ(xqp_q51, Q5_1, PRE_N, PRE_TOK)
/* Q8_0 weights, x rounded to Q8_0 and read as floats (quantize_x_q8_0f, the float-x kernels) */
XQ(xq1_q80, Q8_0, DEC_N, 1)
XQ(xqp_q80, Q8_0, PRE_N, PRE_TOK)

/* quantize_x_q8k alone: 512 rows of 4096 values (bytes read + written) */
static enum vkg_status qx_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct mm_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)PRE_TOK * DEC_N, -1, 1, "bench x", &c->x));
    VKG_TRY(vkg_bench_buffer(dev, vkg_op_matmul_xq_bytes(PRE_TOK, DEC_N), "bench xq", &c->xqb));
    *bytes = (uint64_t)PRE_TOK * DEC_N * 4 + vkg_op_matmul_xq_bytes(PRE_TOK, DEC_N);
    *flops = 0;
    return VKG_OK;
}
static enum vkg_status qx_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct mm_ctx *c = ctx;
    return vkg_op_quantize_x(cmd, vkg_buffer_view(c->x), 0, DEC_N, PRE_TOK, vkg_buffer_view(c->xqb));
}
/* quantize_x_q8_0 alone: the same rows into 32-value blocks */
static enum vkg_status qx0_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct mm_ctx *c = ctx;
    return vkg_op_quantize_x_fmt(cmd, VKG_XQ8_Q8_0, vkg_buffer_view(c->x), 0, DEC_N, PRE_TOK, vkg_buffer_view(c->xqb));
}
/* quantize_x_q8_0f alone: the same rows rounded to Q8_0, written back as F32 */
static enum vkg_status qx0f_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct mm_ctx *c = ctx;
    return vkg_op_quantize_x_fmt(cmd, VKG_XQ8_Q8_0F, vkg_buffer_view(c->x), 0, DEC_N, PRE_TOK, vkg_buffer_view(c->xqb));
}

#define MM_COLD(name, wt, n, n_in, tok, path, cs, copies)                                 \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return mm_setup(d, x, b, f, VKG_DTYPE_##wt, n, n_in, tok, path, cs, copies);      \
    }
#define MM_RECT(name, wt, n, n_in, tok, path, cs) MM_COLD(name, wt, n, n_in, tok, path, cs, 1)
#define MM_CS(name, wt, n, tok, path, cs) MM_RECT(name, wt, n, n, tok, path, cs)
#define MM(name, wt, n, tok, path) MM_CS(name, wt, n, tok, path, 0)
/* the judge's FFN shapes (XQ_COLD above) in Q8_0 (the 32-value types tile by groups of 8 blocks), over 8 matrices */
MM_COLD(q8j_up, Q8_0, 8960, 1536, 1, VKG_MATMUL_LANE_TEXEL, 0, 8)
MM_COLD(q8j_up_t, Q8_0, 8960, 1536, 1, VKG_MATMUL_LANE_TEXEL, 2, 8)
MM_COLD(q8j_dn, Q8_0, 1536, 8960, 1, VKG_MATMUL_LANE_TEXEL, 0, 8)
MM_COLD(q8j_dn_t, Q8_0, 1536, 8960, 1, VKG_MATMUL_LANE_TEXEL, 2, 8)
MM_COLD(q4j_up, Q4, 8960, 1536, 1, VKG_MATMUL_LANE_TEXEL, 0, 8)
MM_COLD(q4j_up_t, Q4, 8960, 1536, 1, VKG_MATMUL_LANE_TEXEL, 2, 8)
MM_COLD(q4j_dn, Q4, 1536, 8960, 1, VKG_MATMUL_LANE_TEXEL, 0, 8)
MM_COLD(q4j_dn_t, Q4, 1536, 8960, 1, VKG_MATMUL_LANE_TEXEL, 2, 8)
#define DEC(dt)                                             \
    MM(dsg1_##dt, dt, DEC_N, 1, VKG_MATMUL_DECODE_SUBGROUP) \
    MM(dsg8_##dt, dt, DEC_N, 8, VKG_MATMUL_DECODE_SUBGROUP) \
    MM(dsh1_##dt, dt, DEC_N, 1, VKG_MATMUL_DECODE_SHARED)   \
    MM(dsh8_##dt, dt, DEC_N, 8, VKG_MATMUL_DECODE_SHARED)   \
    MM(dln1_##dt, dt, DEC_N, 1, VKG_MATMUL_DECODE_LANE)     \
    MM(dln8_##dt, dt, DEC_N, 8, VKG_MATMUL_DECODE_LANE)     \
    MM(pre_##dt, dt, PRE_N, PRE_TOK, VKG_MATMUL_GEMM)
DEC(F32)
DEC(F16)
DEC(BF16)
/* matmul_lane (texel reads): the decode batch and the prefill shapes */
#define TEX(dt)                                          \
    MM(dtx1_##dt, dt, DEC_N, 1, VKG_MATMUL_LANE_TEXEL)   \
    MM(dtx8_##dt, dt, DEC_N, 8, VKG_MATMUL_LANE_TEXEL)   \
    MM(dtx64_##dt, dt, DEC_N, 64, VKG_MATMUL_LANE_TEXEL) \
    MM(ptx_##dt, dt, PRE_N, PRE_TOK, VKG_MATMUL_LANE_TEXEL)
TEX(F32)
TEX(F16)
TEX(BF16)
/* matvec1_lane_cs (float weights, one token: the lanes split the columns) */
MM_CS(dcs1_F32, F32, DEC_N, 1, VKG_MATMUL_LANE_TEXEL, 1)
MM_CS(dcs1_F16, F16, DEC_N, 1, VKG_MATMUL_LANE_TEXEL, 1)
MM_CS(dcs1_BF16, BF16, DEC_N, 1, VKG_MATMUL_LANE_TEXEL, 1)
/* narrow rows, one token (SmolLM2-135M's projections: hidden 576, FFN 1536, vocabulary 49152) */
#define NARROW(dt, cs, sfx)                                                   \
    MM_RECT(n576_##dt##sfx, dt, 576, 576, 1, VKG_MATMUL_LANE_TEXEL, cs)       \
    MM_RECT(n3072_##dt##sfx, dt, 3072, 576, 1, VKG_MATMUL_LANE_TEXEL, cs)     \
    MM_RECT(n1536_##dt##sfx, dt, 576, 1536, 1, VKG_MATMUL_LANE_TEXEL, cs)     \
    MM_RECT(n49152_##dt##sfx, dt, 49152, 576, 1, VKG_MATMUL_LANE_TEXEL, cs)   \
    MM_COLD(c576_##dt##sfx, dt, 576, 576, 1, VKG_MATMUL_LANE_TEXEL, cs, 150)  \
    MM_COLD(c3072_##dt##sfx, dt, 3072, 576, 1, VKG_MATMUL_LANE_TEXEL, cs, 28) \
    MM_COLD(c1536_##dt##sfx, dt, 576, 1536, 1, VKG_MATMUL_LANE_TEXEL, cs, 56)
NARROW(F16, 0, )
NARROW(F16, 1, _cs)
NARROW(F16, 2, _tl)
/* the same narrow shapes at a decode batch of 32 (tiled, as the models store them) */
MM_RECT(b576_F16, F16, 576, 576, 32, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(b3072_F16, F16, 3072, 576, 32, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(b1536_F16, F16, 576, 1536, 32, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(b49152_F16, F16, 49152, 576, 32, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(j128_F16, F16, 128, 128, 160, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(j384_F16, F16, 384, 128, 160, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(j2048_F16, F16, 2048, 128, 160, VKG_MATMUL_LANE_TEXEL, 2)
MM_RECT(j128k_F16, F16, 128, 384, 160, VKG_MATMUL_LANE_TEXEL, 2)
/* rows that start inside a texel (VKG_MATMUL_ROWS_ANY): SmolLM2-135M's Q4_1 GGUF (576 wide, 18 blocks a
 * row) and its Q8_0 head */
MM_RECT(a3072_Q4_1, Q4_1, 3072, 576, 1, VKG_MATMUL_LANE_TEXEL, 0)
MM_RECT(a3072b_Q4_1, Q4_1, 3072, 576, 32, VKG_MATMUL_LANE_TEXEL, 0)
MM_RECT(a49152_Q8_0, Q8_0, 49152, 576, 1, VKG_MATMUL_LANE_TEXEL, 0)
/* a Q4_K_M file's Q6_K output head (the moe-100m preset's: vocabulary 32000, hidden 512): 420-byte rows,
 * each starting at its own even byte of a texel */
MM_RECT(h32000_Q6_K, Q6_K, 32000, 512, 1, VKG_MATMUL_LANE_TEXEL, 0)
/* the same layout at the 4096-wide shapes: one vector, 8, a prefill */
MM_CS(dtl1_F16, F16, DEC_N, 1, VKG_MATMUL_LANE_TEXEL, 2)
MM_CS(dtl8_F16, F16, DEC_N, 8, VKG_MATMUL_LANE_TEXEL, 2)
MM_CS(ptl_F16, F16, PRE_N, PRE_TOK, VKG_MATMUL_LANE_TEXEL, 2)
MM_CS(dtl1_BF16, BF16, DEC_N, 1, VKG_MATMUL_LANE_TEXEL, 2)

TEX(Q8_0)
TEX(Q4)
TEX(Q4_1)
TEX(Q5_0)
TEX(Q5_1)
TEX(Q4_K)
TEX(Q5_K)
TEX(Q6_K)
DEC(Q8_0)
DEC(Q4)
DEC(Q4_1)
DEC(Q5_0)
DEC(Q5_1)
DEC(Q4_K)
DEC(Q5_K)
DEC(Q6_K)

/* Fused projections (vkg_op_matmul_fused) against the same parts launched apart: q|k|v of a
 * 2048-wide model with 4 KV heads of 128 (2048 + 512 + 512 rows) and a SwiGLU gate|up of 2 x 5632 */
struct fu_ctx {
    struct vkg_buffer *w, *x, *y, *t;
    struct vkg_matmul_fused_args a;
    int apart; /* 1: dev->use.fused off while recording */
    int cs;    /* matvec1_lane_cs forced (1) or off (0) while recording */
};

static enum vkg_status fu_setup(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, enum vkg_dtype wt,
                                int glu, uint32_t n_tok, int apart, int cs)
{
    struct fu_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    const uint32_t n_in = 2048, rows[3] = { glu ? 5632 : 2048, glu ? 5632 : 512, 512 };
    uint32_t np = glu ? 2 : 3, n_rows = 0;
    for (uint32_t i = 0; i < np; i++) n_rows += rows[i];
    uint64_t wbytes = (uint64_t)n_rows * n_in / vkg_dtype_block_size(wt) * vkg_dtype_block_bytes(wt);
    VKG_TRY(vkg_bench_buffer(dev, wbytes, "bench weight", &c->w));
    VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)n_in * n_tok, -1, 1, "bench x", &c->x));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n_rows * n_tok * 4, "bench y", &c->y));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n_rows * n_tok * 4, "bench tmp", &c->t));
    c->a = (struct vkg_matmul_fused_args){ .w = vkg_buffer_view(c->w),
                                           .wt = wt,
                                           .n_in = n_in,
                                           .n_parts = np,
                                           .rows = { rows[0], rows[1], rows[2] },
                                           .x = vkg_buffer_view(c->x),
                                           .n_tok = n_tok,
                                           .kind = glu ? VKG_MATMUL_FUSE_SWIGLU : VKG_MATMUL_FUSE_PARTS,
                                           .w_tiled = cs == 2 }; /* 2: column split off, 8-row tiles */
    for (uint32_t i = 0, r0 = 0; i < np; r0 += rows[i], i++)
        c->a.y[i] = vkg_view_sub(vkg_buffer_view(c->y), (uint64_t)r0 * n_tok * 4, (uint64_t)rows[i] * n_tok * 4);
    for (uint32_t i = 0; i < 2; i++)
        c->a.tmp[i] =
            vkg_view_sub(vkg_buffer_view(c->t), (uint64_t)i * rows[0] * n_tok * 4, (uint64_t)rows[0] * n_tok * 4);
    c->apart = apart;
    c->cs = cs;
    *bytes = wbytes;
    *flops = 2ull * n_rows * n_in * n_tok;
    return VKG_OK;
}

static enum vkg_status fu_rec(struct vkg_cmd *cmd, void *ctx)
{
    struct fu_ctx *c = ctx;
    int saved = cmd->dev->use.fused, saved_cs = cmd->dev->use.matvec_cs;
    if (c->apart) cmd->dev->use.fused = 0;
    cmd->dev->use.matvec_cs = c->cs == 1 ? 2 : 0;
    enum vkg_status s = vkg_op_matmul_fused(cmd, &c->a);
    cmd->dev->use.fused = saved;
    cmd->dev->use.matvec_cs = saved_cs;
    return s;
}

static void fu_down(void *ctx)
{
    struct fu_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->w);
    vkg_buffer_free(c->x);
    vkg_buffer_free(c->y);
    vkg_buffer_free(c->t);
    free(c);
}

#define FU_CS(name, wt, glu, tok, apart, cs)                                              \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return fu_setup(d, x, b, f, VKG_DTYPE_##wt, glu, tok, apart, cs);                 \
    }
#define FU(name, wt, glu, tok, apart) FU_CS(name, wt, glu, tok, apart, 0)
#define FUS(dt)                \
    FU(fq1_##dt, dt, 0, 1, 0)  \
    FU(fq1a_##dt, dt, 0, 1, 1) \
    FU(fq8_##dt, dt, 0, 8, 0)  \
    FU(fq8a_##dt, dt, 0, 8, 1) \
    FU(fg1_##dt, dt, 1, 1, 0)  \
    FU(fg1a_##dt, dt, 1, 1, 1) \
    FU(fg8_##dt, dt, 1, 8, 0)  \
    FU(fg8a_##dt, dt, 1, 8, 1)
FUS(F16)
FUS(Q8_0)
FU_CS(fq1t_F16, F16, 0, 1, 0, 2)
FU_CS(fg1t_F16, F16, 1, 1, 0, 2)
FU_CS(fg8t_F16, F16, 1, 8, 0, 2)
FU_CS(fq1cs_F16, F16, 0, 1, 0, 1)
FU_CS(fg1cs_F16, F16, 1, 1, 0, 1)

#define QS(name, st, dt)                                                                  \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return q_setup(d, x, b, f, VKG_DTYPE_##st, VKG_DTYPE_##dt);                       \
    }
QS(q_f32_q8, F32, Q8_0)
QS(q_f16_q8, F16, Q8_0)
QS(q_bf16_q8, BF16, Q8_0)
QS(q_f32_q4, F32, Q4)
QS(q_f16_q4, F16, Q4)
QS(q_bf16_q4, BF16, Q4)

#define ROWS(dt, lc)                                                                     \
    { "matvec1_" lc "_sg", "4096x4096 " #dt " x 1 vec", dsg1_##dt, mm_rec, down },       \
        { "matvec_" lc "_sg", "4096x4096 " #dt " x 8 vec", dsg8_##dt, mm_rec, down },    \
        { "matvec1_" lc, "4096x4096 " #dt " x 1 vec", dsh1_##dt, mm_rec, down },         \
        { "matvec_" lc, "4096x4096 " #dt " x 8 vec", dsh8_##dt, mm_rec, down },          \
        { "matvec1_" lc "_lane", "4096x4096 " #dt " x 1 vec", dln1_##dt, mm_rec, down }, \
        { "matvec_" lc "_lane", "4096x4096 " #dt " x 8 vec", dln8_##dt, mm_rec, down },  \
        { "matmul_" lc, "1024x1024 " #dt " x 512 tok", pre_##dt, mm_rec, down },

static const struct vkg_bench_case g_cases[] = {
    ROWS(F32, "f32") ROWS(F16, "f16") ROWS(BF16, "bf16") ROWS(Q8_0, "q8_0") ROWS(Q4, "q4") ROWS(Q4_1, "q4_1")
        ROWS(Q5_0, "q5_0") ROWS(Q5_1, "q5_1") ROWS(Q4_K, "q4_k") ROWS(Q5_K, "q5_k") ROWS(Q6_K, "q6_k")
#define TEXROWS(dt, lc)                                                                \
    { "matvec1_lane_tx_" lc, "4096x4096 " #dt " x 1 vec", dtx1_##dt, mm_rec, down },   \
        { "matmul_lane_" lc, "4096x4096 " #dt " x 8 vec", dtx8_##dt, mm_rec, down },   \
        { "matmul_lane_" lc, "4096x4096 " #dt " x 64 vec", dtx64_##dt, mm_rec, down }, \
        { "matmul_lane_" lc, "1024x1024 " #dt " x 512 tok", ptx_##dt, mm_rec, down },
            TEXROWS(F32, "f32") TEXROWS(F16, "f16") TEXROWS(BF16, "bf16") TEXROWS(Q8_0, "q8_0") TEXROWS(Q4, "q4")
                TEXROWS(Q4_1, "q4_1") TEXROWS(Q5_0, "q5_0") TEXROWS(Q5_1, "q5_1") TEXROWS(Q4_K, "q4_k")
                    TEXROWS(Q5_K, "q5_k") TEXROWS(Q6_K, "q6_k")
#define FUROWS(dt, lc)                                                                                            \
    { "matvec1_lane_tx_" lc, "q|k|v 3072x2048 " #dt " x 1 vec fused", fq1_##dt, fu_rec, fu_down },                \
        { "matvec1_lane_tx_" lc, "q|k|v 3072x2048 " #dt " x 1 vec apart", fq1a_##dt, fu_rec, fu_down },           \
        { "matmul_lane_" lc, "q|k|v 3072x2048 " #dt " x 8 vec fused", fq8_##dt, fu_rec, fu_down },                \
        { "matmul_lane_" lc, "q|k|v 3072x2048 " #dt " x 8 vec apart", fq8a_##dt, fu_rec, fu_down },               \
        { "matvec1_lane_tx_" lc, "gate|up+swiglu 11264x2048 " #dt " x 1 vec fused", fg1_##dt, fu_rec, fu_down },  \
        { "matvec1_lane_tx_" lc, "gate|up+swiglu 11264x2048 " #dt " x 1 vec apart", fg1a_##dt, fu_rec, fu_down }, \
        { "matmul_lane_" lc, "gate|up+swiglu 11264x2048 " #dt " x 8 vec fused", fg8_##dt, fu_rec, fu_down },      \
        { "matmul_lane_" lc, "gate|up+swiglu 11264x2048 " #dt " x 8 vec apart", fg8a_##dt, fu_rec, fu_down },
                        FUROWS(F16, "f16") FUROWS(Q8_0, "q8_0"){ "matvec1_lane_cs_f32", "4096x4096 F32 x 1 vec",
                                                                 dcs1_F32, mm_rec, down },
    { "matvec1_lane_cs_f16", "4096x4096 F16 x 1 vec", dcs1_F16, mm_rec, down },
    { "matvec1_lane_cs_bf16", "4096x4096 BF16 x 1 vec", dcs1_BF16, mm_rec, down },
    { "matvec1_lane_cs_f16", "q|k|v 3072x2048 F16 x 1 vec fused", fq1cs_F16, fu_rec, fu_down },
#define NROWS(k, lc, sfx)                                                                                   \
    { "matvec1_lane_" k "_f16", "576x576 F16 x 1 vec" lc, n576_F16##sfx, mm_rec, down },                    \
        { "matvec1_lane_" k "_f16", "3072x576 F16 x 1 vec" lc, n3072_F16##sfx, mm_rec, down },              \
        { "matvec1_lane_" k "_f16", "576x1536 F16 x 1 vec" lc, n1536_F16##sfx, mm_rec, down },              \
        { "matvec1_lane_" k "_f16", "49152x576 F16 x 1 vec" lc, n49152_F16##sfx, mm_rec, down },            \
        { "matvec1_lane_" k "_f16", "576x576 F16 x 1 vec, 150 matrices" lc, c576_F16##sfx, mm_rec, down },  \
        { "matvec1_lane_" k "_f16", "3072x576 F16 x 1 vec, 28 matrices" lc, c3072_F16##sfx, mm_rec, down }, \
        { "matvec1_lane_" k "_f16", "576x1536 F16 x 1 vec, 56 matrices" lc, c1536_F16##sfx, mm_rec, down },
    NROWS("tx", "", )
        NROWS("tx", " tiled", _tl){ "matvec1_lane_tx_f16", "4096x4096 F16 x 1 vec tiled", dtl1_F16, mm_rec, down },
    { "matvec1_lane_tx_bf16", "4096x4096 BF16 x 1 vec tiled", dtl1_BF16, mm_rec, down },
    { "matvec1_lane_tx_q4_1", "3072x576 Q4_1 x 1 vec (rows inside texels)", a3072_Q4_1, mm_rec, down },
    { "matmul_lane_q4_1", "3072x576 Q4_1 x 32 vec (rows inside texels)", a3072b_Q4_1, mm_rec, down },
    { "matvec1_lane_tx_q8_0", "49152x576 Q8_0 x 1 vec (rows inside texels)", a49152_Q8_0, mm_rec, down },
    { "matvec1_lane_tx_q6_k", "32000x512 Q6_K x 1 vec (rows inside texels)", h32000_Q6_K, mm_rec, down },
    { "matmul_lane_f16", "4096x4096 F16 x 8 vec tiled", dtl8_F16, mm_rec, down },
    { "matmul_lane_f16", "1024x1024 F16 x 512 tok tiled", ptl_F16, mm_rec, down },
    { "matmul_lane_f16", "576x576 F16 x 32 vec tiled", b576_F16, mm_rec, down },
    { "matmul_lane_f16", "128x128 F16 x 160 tok tiled", j128_F16, mm_rec, down },
    { "matmul_lane_f16", "384x128 F16 x 160 tok tiled", j384_F16, mm_rec, down },
    { "matmul_lane_f16", "2048x128 F16 x 160 tok tiled", j2048_F16, mm_rec, down },
    { "matmul_lane_f16", "128x384 F16 x 160 tok tiled", j128k_F16, mm_rec, down },
    { "matmul_lane_f16", "128x128 F16 x 160 tok tiled, + residual + RMSNorm", rn128, rn_rec, rn_down },
    { "matmul_lane_f16", "128x384 F16 x 160 tok tiled, + residual + RMSNorm", rn128k, rn_rec, rn_down },
    { "matmul_lane_f16", "576x576 F16 x 32 vec tiled, + residual + RMSNorm", rn576, rn_rec, rn_down },
    { "matmul_lane_f16", "3072x576 F16 x 32 vec tiled", b3072_F16, mm_rec, down },
    { "matmul_lane_f16", "576x1536 F16 x 32 vec tiled", b1536_F16, mm_rec, down },
    { "matmul_lane_f16", "49152x576 F16 x 32 vec tiled", b49152_F16, mm_rec, down },
    { "matvec1_lane_tx_f16", "q|k|v 3072x2048 F16 x 1 vec fused tiled", fq1t_F16, fu_rec, fu_down },
    { "matvec1_lane_tx_f16", "gate|up+swiglu 11264x2048 F16 x 1 vec fused tiled", fg1t_F16, fu_rec, fu_down },
    { "matmul_lane_f16", "gate|up+swiglu 11264x2048 F16 x 8 vec fused tiled", fg8t_F16, fu_rec, fu_down },
    NROWS("cs", "", _cs){ "matvec1_lane_cs_f16", "gate|up+swiglu 11264x2048 F16 x 1 vec fused", fg1cs_F16, fu_rec,
                          fu_down },
    { "matvec1_lane_tx_q4_k_xq8", "4096x4096 Q4_K x 1 vec, x in 8 bits (+ quantize_x)", xq1, mm_rec, down },
    { "matmul_lane_q4_k_xq8", "4096x4096 Q4_K x 8 vec, x in 8 bits (+ quantize_x)", xq8, mm_rec, down },
    { "matmul_lane_q4_k_xq8", "4096x4096 Q4_K x 64 vec, x in 8 bits (+ quantize_x)", xq64, mm_rec, down },
    { "matmul_lane_q4_k_xq8", "1024x1024 Q4_K x 512 tok, x in 8 bits (+ quantize_x)", xqp, mm_rec, down },
    { "matvec1_lane_tx_q4_k_xq8", "8960x1536 Q4_K x 1 vec over 16 matrices (cold)", xqj_up, mm_rec, down },
    { "matvec1_lane_tx_q4_k_xq8", "8960x1536 Q4_K x 1 vec over 16 matrices (cold) tiled", xqj_up_t, mm_rec, down },
    { "matvec1_lane_tx_q4_k_xq8", "1536x8960 Q4_K x 1 vec over 16 matrices (cold)", xqj_dn, mm_rec, down },
    { "matvec1_lane_tx_q4_k_xq8", "1536x8960 Q4_K x 1 vec over 16 matrices (cold) tiled", xqj_dn_t, mm_rec, down },
    { "matmul_lane_q4_k_xq8", "8960x1536 Q4_K x 8 vec over 16 matrices (cold)", xqj_up8, mm_rec, down },
    { "matmul_lane_q4_k_xq8", "8960x1536 Q4_K x 8 vec over 16 matrices (cold) tiled", xqj_up8_t, mm_rec, down },
    { "matvec1_lane_tx_q8_0", "8960x1536 Q8_0 x 1 vec over 8 matrices (cold)", q8j_up, mm_rec, down },
    { "matvec1_lane_tx_q8_0", "8960x1536 Q8_0 x 1 vec over 8 matrices (cold) tiled", q8j_up_t, mm_rec, down },
    { "matvec1_lane_tx_q8_0", "1536x8960 Q8_0 x 1 vec over 8 matrices (cold)", q8j_dn, mm_rec, down },
    { "matvec1_lane_tx_q8_0", "1536x8960 Q8_0 x 1 vec over 8 matrices (cold) tiled", q8j_dn_t, mm_rec, down },
    { "matvec1_lane_tx_q4", "8960x1536 Q4 x 1 vec over 8 matrices (cold)", q4j_up, mm_rec, down },
    { "matvec1_lane_tx_q4", "8960x1536 Q4 x 1 vec over 8 matrices (cold) tiled", q4j_up_t, mm_rec, down },
    { "matvec1_lane_tx_q4", "1536x8960 Q4 x 1 vec over 8 matrices (cold)", q4j_dn, mm_rec, down },
    { "matvec1_lane_tx_q4", "1536x8960 Q4 x 1 vec over 8 matrices (cold) tiled", q4j_dn_t, mm_rec, down },
    { "matvec1_lane_tx_q5_k_xq8", "4096x4096 Q5_K x 1 vec, x in 8 bits (+ quantize_x)", xq1_5, mm_rec, down },
    { "matmul_lane_q5_k_xq8", "1024x1024 Q5_K x 512 tok, x in 8 bits (+ quantize_x)", xqp_5, mm_rec, down },
    { "matvec1_lane_tx_q6_k_xq8", "4096x4096 Q6_K x 1 vec, x in 8 bits (+ quantize_x)", xq1_6, mm_rec, down },
    { "matvec1_lane_tx_q6_k_xq8", "4096x4096 Q6_K x 1 vec, x in 8 bits (+ quantize_x) tiled", xq1_6t, mm_rec, down },
    { "matmul_lane_q6_k_xq8", "4096x4096 Q6_K x 8 vec, x in 8 bits (+ quantize_x)", xq8_6, mm_rec, down },
    { "matmul_lane_q6_k_xq8", "4096x4096 Q6_K x 64 vec, x in 8 bits (+ quantize_x)", xq64_6, mm_rec, down },
    { "matmul_lane_q6_k_xq8", "1024x1024 Q6_K x 512 tok, x in 8 bits (+ quantize_x)", xqp_6, mm_rec, down },
    { "quantize_x_q8k", "512x4096 F32 -> 8-bit x (XQ8)", qx_setup, qx_rec, down },
    { "matvec1_lane_tx_q4_xq8", "4096x4096 Q4 x 1 vec, x in 8 bits (+ quantize_x)", xq1_q4, mm_rec, down },
    { "matvec1_lane_tx_q4_1_xq8", "4096x4096 Q4_1 x 1 vec, x in 8 bits (+ quantize_x)", xq1_q41, mm_rec, down },
    { "matvec1_lane_tx_q5_0_xq8", "4096x4096 Q5_0 x 1 vec, x in 8 bits (+ quantize_x)", xq1_q50, mm_rec, down },
    { "matvec1_lane_tx_q5_1_xq8", "4096x4096 Q5_1 x 1 vec, x in 8 bits (+ quantize_x)", xq1_q51, mm_rec, down },
    { "matmul_lane_q4_xq8", "4096x4096 Q4 x 8 vec, x in 8 bits (+ quantize_x)", xq8_q4, mm_rec, down },
    { "matmul_lane_q4_xq8", "1024x1024 Q4 x 512 tok, x in 8 bits (+ quantize_x)", xqp_q4, mm_rec, down },
    { "matmul_lane_q4_1_xq8", "1024x1024 Q4_1 x 512 tok, x in 8 bits (+ quantize_x)", xqp_q41, mm_rec, down },
    { "matmul_lane_q5_0_xq8", "1024x1024 Q5_0 x 512 tok, x in 8 bits (+ quantize_x)", xqp_q50, mm_rec, down },
    { "matmul_lane_q5_1_xq8", "1024x1024 Q5_1 x 512 tok, x in 8 bits (+ quantize_x)", xqp_q51, mm_rec, down },
    { "quantize_x_q8_0", "512x4096 F32 -> 8-bit x in 32-value blocks (XQ8)", qx_setup, qx0_rec, down },
    { "matvec1_lane_tx_q8_0", "4096x4096 Q8_0 x 1 vec, x rounded to Q8_0 (+ quantize_x_q8_0f)", xq1_q80, mm_rec, down },
    { "matmul_lane_q8_0", "1024x1024 Q8_0 x 512 tok, x rounded to Q8_0 (+ quantize_x_q8_0f)", xqp_q80, mm_rec, down },
    { "quantize_x_q8_0f", "512x4096 F32 -> x rounded to Q8_0, as F32 (XQ8)", qx_setup, qx0f_rec, down },
    { "quantize_f32_q8_0", "16Mi F32->Q8_0", q_f32_q8, q_rec, down },
    { "quantize_f16_q8_0", "16Mi F16->Q8_0", q_f16_q8, q_rec, down },
    { "quantize_bf16_q8_0", "16Mi BF16->Q8_0", q_bf16_q8, q_rec, down },
    { "quantize_f32_q4", "16Mi F32->Q4", q_f32_q4, q_rec, down },
    { "quantize_f16_q4", "16Mi F16->Q4", q_f16_q4, q_rec, down },
    { "quantize_bf16_q4", "16Mi BF16->Q4", q_bf16_q4, q_rec, down },
};

const struct vkg_bench_case *vkg_bench_matmul(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
