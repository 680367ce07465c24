/* ops_matmul.c — matmul / quantize launchers: argument checks, the choice of
 * path, and the split of every tensor into binding windows. */
#include "ops_matmul.h"

#include "ops_norm.h"
#include "push_matmul.h"
#include "vk_check.h"

/* Index of the per-dtype op tables: F32, F16, BF16, Q8_0, Q4, then ggml's
 * Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (index >= 3: block types, byte offsets). */
#define N_WT 11

static int wt_index(enum vkg_dtype t)
{
    switch (t) {
    case VKG_DTYPE_F32: return 0;
    case VKG_DTYPE_F16: return 1;
    case VKG_DTYPE_BF16: return 2;
    case VKG_DTYPE_Q8_0: return 3;
    case VKG_DTYPE_Q4: return 4;
    case VKG_DTYPE_Q4_1: return 5;
    case VKG_DTYPE_Q5_0: return 6;
    case VKG_DTYPE_Q5_1: return 7;
    case VKG_DTYPE_Q4_K: return 8;
    case VKG_DTYPE_Q5_K: return 9;
    case VKG_DTYPE_Q6_K: return 10;
    default: return -1;
    }
}

#define WT_OPS(pre, suf)                                                                                          \
    {                                                                                                             \
        VKG_OP_##pre##_F32##suf, VKG_OP_##pre##_F16##suf, VKG_OP_##pre##_BF16##suf, VKG_OP_##pre##_Q8_0##suf,     \
            VKG_OP_##pre##_Q4##suf, VKG_OP_##pre##_Q4_1##suf, VKG_OP_##pre##_Q5_0##suf, VKG_OP_##pre##_Q5_1##suf, \
            VKG_OP_##pre##_Q4_K##suf, VKG_OP_##pre##_Q5_K##suf, VKG_OP_##pre##_Q6_K##suf                          \
    }
static const enum vkg_op k_matvec_sg[N_WT] = WT_OPS(MATVEC, _SG);
static const enum vkg_op k_matvec1_sg[N_WT] = WT_OPS(MATVEC1, _SG);
static const enum vkg_op k_matvec1[N_WT] = WT_OPS(MATVEC1, );
static const enum vkg_op k_matvec[N_WT] = WT_OPS(MATVEC, );
static const enum vkg_op k_matvec_lane[N_WT] = WT_OPS(MATVEC, _LANE);
static const enum vkg_op k_matvec1_lane[N_WT] = WT_OPS(MATVEC1, _LANE);
static const enum vkg_op k_matmul[N_WT] = WT_OPS(MATMUL, );
/* matmul_lane (several tokens) and matvec1_lane_tx (one), every weight type */
static const enum vkg_op k_tex[N_WT] = WT_OPS(MATMUL_LANE, );
static const enum vkg_op k_tex1[N_WT] = WT_OPS(MATVEC1_LANE_TX, );
/* matvec1_lane_cs: float weights, one token, the workgroup's lanes split the columns of its rows */
static const enum vkg_op k_cs1[3] = { VKG_OP_MATVEC1_LANE_CS_F32, VKG_OP_MATVEC1_LANE_CS_F16,
                                      VKG_OP_MATVEC1_LANE_CS_BF16 };

/* Bindings of matmul_lane / matvec1_lane_tx / matvec1_lane_cs: W, x, y, bias, y1, y2, the
 * RESNORM / PARTS_QKNORM modes' norm weight and arrival counters, and PARTS_QKNORM's second norm
 * weight (any valid views where unused). */
#define LANE_VIEWS 9

/* The texel tier's rows: floats of n_in % 8 == 0 starting on a texel; the 32-value block types
 * (Q8_0, Q4, Q4_1, Q5_0, Q5_1) anywhere (whole groups of 8 blocks starting on a texel read
 * directly, other rows with VKG_MATMUL_ROWS_ANY); Q4_K / Q5_K (9- / 11-texel blocks) starting on a
 * texel; Q6_K (210-byte blocks) at any even byte. w_off is in the type's unit (k_unit). */
static int tex_rows(int wi, uint32_t n_in, uint32_t w_off)
{
    if (wi < 0) return 0;
    if (wi == 0) return n_in % 8 == 0 && w_off % 4 == 0;
    if (wi <= 2) return n_in % 8 == 0 && w_off % 8 == 0;
    if (wi <= 7) return 1;
    return wi == 10 || w_off % 16 == 0;
}

/* the 32-value block types: Q8_0, Q4, Q4_1, Q5_0, Q5_1 */
static int block32(int wi) { return wi >= 3 && wi <= 7; }

/* VKG_MATMUL_ROWS_ANY for a 32-value block type whose rows are not whole texel-aligned groups */
static uint32_t rows_any(int wi, uint32_t n_in, uint32_t w_off)
{
    return block32(wi) && (n_in % 256 != 0 || w_off % 16 != 0) ? VKG_MATMUL_ROWS_ANY : 0;
}

/* Specialization constant 2 of a texel launch (matmul_lane.comp, ROWS_SPEC): for the 32-value block
 * types 1 (rows on whole texel-aligned groups) or 2 (VKG_MATMUL_ROWS_ANY), so that the pipeline holds
 * one of the two weight walks. llvmpipe ran both in every launch (a uniform branch is a mask too):
 * the aligned walk's 3 texel fetches per block and row and the other's 4 fetches and 3 realigns,
 * 1.4-2.9x the time of one walk for a 4096x4096 mat-vec. 0 (p.vec at run time) for other types. */
static uint32_t rows_spec(int wi, const struct vkg_push_matmul *p)
{
    if (wi == 10) return (p->vec & VKG_MATMUL_W_TILED) ? 3 : 0; /* Q6_K: the tiles' split fields, or any even byte */
    return block32(wi) ? ((p->vec & VKG_MATMUL_ROWS_ANY) ? 2 : 1) : 0;
}

/* A tiled Q6_K matrix (split fields, push_matmul.h VKG_Q6K_SPLIT_*) read from a byte that is not on a texel: the
 * kernels read its fields as whole texels, so that is refused (the loader places every matrix on a texel). */
static int q6k_split_off(int wi, int tiled, uint32_t w_off) { return wi == 10 && tiled && w_off % 16 != 0; }

/* rows per invocation of the texel kernels (push_matmul.h); wi >= 8: the K-quants */
static uint32_t tex_lr(int wi, uint64_t toks)
{
    return toks == 1 ? VKG_MATVEC1_TX_ROWS : wi >= 8 ? VKG_MATMUL_LANE_ROWS_K : VKG_MATMUL_LANE_ROWS;
}

/* w_off unit in bytes: words for F32, 16-bit elements, bytes for block types (2-byte aligned) */
static const uint32_t k_unit[N_WT] = { 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1 };
static const uint32_t k_align[N_WT] = { 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };

/* 16-byte vector loads are legal when every row starts at a multiple of 16
 * bytes of its binding and rows hold whole chunks of 8 values. */
static uint32_t vec_flags(const struct vkg_matmul_args *a, const struct vkg_push_matmul *p)
{
    if (a->n_in % 8) return 0;
    uint32_t f = 0;
    if ((a->wt == VKG_DTYPE_F32 && p->w_off % 4 == 0) ||
        ((a->wt == VKG_DTYPE_F16 || a->wt == VKG_DTYPE_BF16) && p->w_off % 8 == 0))
        f |= VKG_MATMUL_VEC_W;
    if (p->x_off % 4 == 0 && p->x_stride % 4 == 0) f |= VKG_MATMUL_VEC_X;
    return f;
}

/* Specialization constant 1 of a matmul_lane / matvec1_lane_tx launch (matmul_lane.comp,
 * MODE_SPEC): llvmpipe runs every branch of a kernel under a mask, uniform ones too, and each
 * storage store is a loop over the lanes, so one pipeline for all modes pays every mode's stores,
 * activations and norm tail in each launch.
 * - Float GEMMs: the mode + 1, one pipeline per mode (the judge's 2048x128 rows x 160 tokens: 4.3
 *   -> 2.1 ms).
 * - Block types, and one token of any type: the plain mode + 1 for plain launches (the output
 *   head, unfused projections), 0 (p.mode at run time) for the fused and residual-norm ones. The
 *   masked epilogues cost ~10k instructions per 64-row workgroup: the 32000 x 512 Q6_K head
 *   counted 31.8 -> 27.1 M instructions at one token (jit_ir.sh), the 1024^2 Q6_K GEMM of 512
 *   tokens 350 -> 302 M. llvmpipe compiles each specialization at its first dispatch (~6 s for a
 *   block type cold) and one per mode for the block types tripled the matmul tests' cold compile
 *   time; plain-or-all is at most two pipelines per type and kernel, one where a type only runs
 *   plain (the Q6_K of llama.cpp's Q4_K_M files: the head and unfused v). */
static uint32_t mode_spec(enum vkg_op op, const struct vkg_push_matmul *p)
{
    if (op == k_tex[0] || op == k_tex[1] || op == k_tex[2]) return p->mode + 1;
    return p->mode == VKG_MATMUL_MODE_PLAIN ? 1 + VKG_MATMUL_MODE_PLAIN : 0;
}

/* matmul_lane's grid: token blocks of 8 in x, so that the blocks of one group of weight rows run
 * one after another (llvmpipe walks a grid x first) and find those rows in cache; row groups in
 * y (then z). */
static enum vkg_status tex_blocks_dispatch(struct vkg_cmd *c, enum vkg_op op, int wi, const struct vkg_view *v,
                                           const struct vkg_push_matmul *p, uint64_t groups, uint64_t toks)
{
    const struct vkg_kernel *k = vkg_op_kernel(op);
    const uint32_t *mx = c->dev->info.max_workgroup_count;
    uint64_t tb = (toks + 7) / 8, gy = groups < mx[1] ? groups : mx[1], gz = (groups + gy - 1) / gy;
    if (tb > mx[0] || gz > mx[2])
        return vkg_error(VKG_ERR_LIMIT, "kernel '%s': %llu token blocks x %llu row groups do not fit the grid", k->name,
                         (unsigned long long)tb, (unsigned long long)groups);
    return vkg_cmd_dispatch_spec(c, k, mode_spec(op, p), rows_spec(wi, p), 0, v, LANE_VIEWS, p, (uint32_t)tb,
                                 (uint32_t)gy, (uint32_t)gz);
}

uint64_t vkg_op_quantize_x_bytes(enum vkg_xq8_fmt fmt, uint64_t n_tok, uint64_t n_in)
{
    return fmt == VKG_XQ8_Q8_0F  ? n_tok * n_in * 4
           : fmt == VKG_XQ8_Q8_0 ? n_tok * (n_in / 32) * VKG_XQ8_0_BLOCK_WORDS * 4
                                 : n_tok * (n_in / 256) * VKG_XQ8_BLOCK_WORDS * 4;
}

uint64_t vkg_op_matmul_xq_bytes(uint64_t n_tok, uint64_t n_in)
{
    uint64_t m = 0;
    for (int f = VKG_XQ8_Q8K; f < VKG_XQ8_FMTS; f++) {
        uint64_t b = vkg_op_quantize_x_bytes((enum vkg_xq8_fmt)f, n_tok, n_in);
        if (b > m) m = b;
    }
    return m;
}

enum vkg_xq8_fmt vkg_op_matmul_xq_fmt(const struct vkg_device *dev, enum vkg_dtype wt, uint64_t n_tok, uint64_t n_in)
{
    if (!dev->use.xq8) return VKG_XQ8_NONE;
    int wi = wt_index(wt);
    if (wi >= 8 && n_in % 256 == 0) return VKG_XQ8_Q8K;
    if (wi >= 4 && wi <= 7 && n_in % 32 == 0) return VKG_XQ8_Q8_0; /* the 32-value types of 4- or 5-bit values */
    if (wi == 3 && n_in % 32 == 0) return VKG_XQ8_Q8_0F;           /* Q8_0: llama.cpp's x rounding, float kernels */
    return VKG_XQ8_NONE;
}

enum vkg_status vkg_op_quantize_x_fmt(struct vkg_cmd *c, enum vkg_xq8_fmt fmt, struct vkg_view x, uint64_t x_stride,
                                      uint32_t n_in, uint32_t n_tok, struct vkg_view xq)
{
    if (n_tok == 0) return VKG_OK;
    int q80 = fmt == VKG_XQ8_Q8_0 || fmt == VKG_XQ8_Q8_0F;
    uint32_t unit = q80 ? 32 : 256, bw = fmt == VKG_XQ8_Q8_0F ? 32 : q80 ? VKG_XQ8_0_BLOCK_WORDS : VKG_XQ8_BLOCK_WORDS;
    uint64_t xs = x_stride ? x_stride : n_in, qbytes = vkg_op_quantize_x_bytes(fmt, n_tok, n_in);
    uint64_t xbytes = ((uint64_t)(n_tok - 1) * xs + n_in) * 4, max = vkg_max_window_bytes(c->dev);
    if (fmt <= VKG_XQ8_NONE || fmt >= VKG_XQ8_FMTS || n_in == 0 || n_in % unit || xs % 4 || x.offset % 16 ||
        x.size < xbytes || xq.size < qbytes || xq.offset % 16)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'quantize_x': format %d, n_in %u (a multiple of %u), x stride %llu (of 4), x view of %llu "
                         "bytes at %llu (%llu needed, 16-byte aligned), xq view of %llu bytes at %llu (%llu needed, "
                         "16-byte aligned)",
                         (int)fmt, n_in, unit, (unsigned long long)xs, (unsigned long long)x.size,
                         (unsigned long long)x.offset, (unsigned long long)xbytes, (unsigned long long)xq.size,
                         (unsigned long long)xq.offset, (unsigned long long)qbytes);
    if (xbytes > max || qbytes > max)
        return vkg_error(VKG_ERR_LIMIT, "op 'quantize_x': %u rows of %u values do not fit one binding window", n_tok,
                         n_in);
    struct vkg_view v[2];
    uint64_t xskip, qskip;
    VKG_TRY(vkg_view_window(c->dev, x, 0, xbytes, &v[0], &xskip));
    VKG_TRY(vkg_view_window(c->dev, xq, 0, qbytes, &v[1], &qskip));
    struct vkg_push_quantize_x p = { .n_tok = n_tok,
                                     .n_blk = n_in / unit,
                                     .x_off = (uint32_t)(xskip / 4),
                                     .x_stride = (uint32_t)xs,
                                     .q_off = (uint32_t)(qskip / 4),
                                     .q_stride = n_in / unit * bw };
    uint64_t n = (uint64_t)n_tok * p.n_blk;
    enum vkg_op op = fmt == VKG_XQ8_Q8_0F  ? VKG_OP_QUANTIZE_X_Q8_0F
                     : fmt == VKG_XQ8_Q8_0 ? VKG_OP_QUANTIZE_X_Q8_0
                                           : VKG_OP_QUANTIZE_X_Q8K;
    return vkg_cmd_dispatch_op_1d(c, op, v, 2, &p, (n + c->dev->use.lane_width - 1) / c->dev->use.lane_width);
}

enum vkg_status vkg_op_quantize_x(struct vkg_cmd *c, struct vkg_view x, uint64_t x_stride, uint32_t n_in,
                                  uint32_t n_tok, struct vkg_view xq)
{
    return vkg_op_quantize_x_fmt(c, VKG_XQ8_Q8K, x, x_stride, n_in, n_tok, xq);
}

/* XQ8 (dev->use.xq8, push_matmul.h): a texel launch whose caller handed a scratch xq multiplies 8-bit x where
 * vkg_op_matmul_xq_fmt names a format for its weight type and tokens (the K-quants: Q8_K rows; Q4_0, Q4_1,
 * Q5_0, Q5_1: Q8_0 / Q8_1 rows; Q8_0: Q8_0's values as floats, which the float-x Q8_0 kernel reads). x's window v[1] (p->x_off floats; rows p->x_stride
 * floats apart, 0 for one token) is quantized into xq between two barriers (the scratch is shared by
 * every launch of a step, so the one before keeps the last launch's reads ahead of this write), and
 * v[1], p->x_off and p->x_stride then name the quantized rows. ready 1: the caller quantized this x
 * into xq in this weight's format already. Returns the *_xq8 op for toks tokens, or VKG_OP_COUNT where
 * the launch keeps float x (*st set on an error). */
static enum vkg_op xq8_prepare(struct vkg_cmd *c, enum vkg_dtype wt, const struct vkg_view *xq, uint64_t toks,
                               int ready, struct vkg_view *v, struct vkg_push_matmul *p, enum vkg_status *st)
{
    *st = VKG_OK;
    enum vkg_xq8_fmt fmt = vkg_op_matmul_xq_fmt(c->dev, wt, toks, p->n_in);
    if (ready < 0 || fmt == VKG_XQ8_NONE || !xq->buf || toks > UINT32_MAX) return VKG_OP_COUNT;
    uint64_t qbytes = vkg_op_quantize_x_bytes(fmt, toks, p->n_in);
    if (xq->size < qbytes || qbytes > vkg_max_window_bytes(c->dev)) return VKG_OP_COUNT;
    struct vkg_view xw = v[1];
    if (p->x_off) { /* the rows start p->x_off floats into the window (a multiple of 4: VEC_X) */
        xw.offset += (uint64_t)p->x_off * 4;
        xw.size -= (uint64_t)p->x_off * 4;
    }
    if (!ready) { /* ready: the caller quantized this x into xq (vkg_matmul_args.xq_ready) */
        vkg_cmd_barrier(c);
        if ((*st = vkg_op_quantize_x_fmt(c, fmt, xw, toks > 1 ? p->x_stride : p->n_in, p->n_in, (uint32_t)toks, *xq)) !=
            VKG_OK)
            return VKG_OP_COUNT;
        vkg_cmd_barrier(c);
    }
    uint64_t skip;
    if ((*st = vkg_view_window(c->dev, *xq, 0, qbytes, &v[1], &skip)) != VKG_OK) return VKG_OP_COUNT;
    p->x_off = (uint32_t)(skip / 4);
    p->x_stride = toks > 1 ? (uint32_t)(qbytes / toks / 4) : 0;
    switch (wt) {
    case VKG_DTYPE_Q8_0: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q8_0 : VKG_OP_MATMUL_LANE_Q8_0; /* Q8_0F: float x */
    case VKG_DTYPE_Q4: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q4_XQ8 : VKG_OP_MATMUL_LANE_Q4_XQ8;
    case VKG_DTYPE_Q4_1: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q4_1_XQ8 : VKG_OP_MATMUL_LANE_Q4_1_XQ8;
    case VKG_DTYPE_Q5_0: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q5_0_XQ8 : VKG_OP_MATMUL_LANE_Q5_0_XQ8;
    case VKG_DTYPE_Q5_1: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q5_1_XQ8 : VKG_OP_MATMUL_LANE_Q5_1_XQ8;
    case VKG_DTYPE_Q6_K: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q6_K_XQ8 : VKG_OP_MATMUL_LANE_Q6_K_XQ8;
    case VKG_DTYPE_Q5_K: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q5_K_XQ8 : VKG_OP_MATMUL_LANE_Q5_K_XQ8;
    default: return toks == 1 ? VKG_OP_MATVEC1_LANE_TX_Q4_K_XQ8 : VKG_OP_MATMUL_LANE_Q4_K_XQ8;
    }
}

/* matvec1_lane_cs for a float mat-vec of one token: dev->use.matvec_cs 2 (forced: tests, bench), or
 * 1 (auto) for rows of at least VKG_MATVEC1_CS_MIN_IN columns (push_matmul.h says why) */
static int use_cs(const struct vkg_device *dev, int wi, uint64_t n_in, int tiled)
{
    /* tiled rows: the row-per-lane walk reads them contiguously (as fast as the column split for
     * 4096-wide rows), the column split would not; only forced (tests) does it read them */
    return wi >= 0 && wi <= 2 && dev->use.subgroup_arith &&
           (dev->use.matvec_cs == 2 || (dev->use.matvec_cs == 1 && !tiled && n_in >= VKG_MATVEC1_CS_MIN_IN));
}

static enum vkg_status tiled_unsupported(const struct vkg_matmul_args *a, const char *why)
{
    return vkg_error(VKG_ERR_UNSUPPORTED,
                     "op 'matmul' on '%s': the weight is stored in %u-row tiles, which only the texel lane "
                     "kernels read, and %s",
                     a->w.buf->name, VKG_MATMUL_TILE_ROWS, why);
}

/* One dispatch: weight rows [o0, o0+rows) x tokens [t0, t0+toks). */
struct mm_job {
    const struct vkg_matmul_args *a;
    enum vkg_op op, op1;                      /* op1: for a single token (decode) */
    int gemm, lane;                           /* lane: blocks of 8 tokens in workgroup z */
    enum vkg_op op_tex, op1_tex;              /* matmul_lane / matvec1_lane_tx for windows that allow texel
                                                 reads (else op / op1); VKG_OP_COUNT: none */
    uint32_t rows_per_group, rows_per_group1; /* mat-vec: weight rows per workgroup of op, op1 */
    uint64_t row_bytes, xs, ys;               /* bytes per weight row; x / y strides in floats */
};

static enum vkg_status mm_dispatch(struct vkg_cmd *c, const struct mm_job *j, uint64_t o0, uint64_t rows, uint64_t t0,
                                   uint64_t toks)
{
    const struct vkg_matmul_args *a = j->a;
    struct vkg_push_matmul p = { .n_out = (uint32_t)rows,
                                 .n_in = a->n_in,
                                 .n_tok = (uint32_t)toks,
                                 .x_stride = toks > 1 ? (uint32_t)j->xs : 0,
                                 .y_stride = toks > 1 ? (uint32_t)j->ys : 0,
                                 .has_bias = a->bias != NULL };
    struct vkg_view v[LANE_VIEWS];
    uint64_t skip;
    VKG_TRY(vkg_view_window(c->dev, a->w, o0 * j->row_bytes, rows * j->row_bytes, &v[0], &skip));
    p.w_off = (uint32_t)(skip / k_unit[wt_index(a->wt)]);
    VKG_TRY(vkg_view_window(c->dev, a->x, t0 * j->xs * 4, ((toks - 1) * j->xs + a->n_in) * 4, &v[1], &skip));
    p.x_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, a->y, (t0 * j->ys + o0) * 4, ((toks - 1) * j->ys + rows) * 4, &v[2], &skip));
    p.y_off = (uint32_t)(skip / 4);
    p.vec = vec_flags(a, &p);
    v[3] = v[1];               /* no bias: any valid read-only binding, never read */
    v[4] = v[5] = v[7] = v[2]; /* matmul_lane's y1 / y2 of fused launches, counters: unused here */
    v[6] = v[8] = v[1];
    if (a->bias) {
        VKG_TRY(vkg_view_window(c->dev, *a->bias, o0 * 4, rows * 4, &v[3], &skip));
        p.b_off = (uint32_t)(skip / 4);
    }
    if (a->w_tiled) p.vec |= VKG_MATMUL_W_TILED;
    if (j->gemm && a->w_tiled) return tiled_unsupported(a, "the GEMM path was asked for");
    if (j->gemm) {
        uint32_t gx = (uint32_t)((rows + VKG_MATMUL_TILE - 1) / VKG_MATMUL_TILE);
        uint32_t gy = (uint32_t)((toks + VKG_MATMUL_TILE - 1) / VKG_MATMUL_TILE);
        return vkg_cmd_dispatch_op(c, j->op, v, 4, &p, gx, gy, 1);
    }
    uint32_t rpg = toks == 1 ? j->rows_per_group1 : j->rows_per_group;
    uint64_t groups = (rows + rpg - 1) / rpg;
    uint64_t ta = vkg_texel_align(c->dev);
    /* xq_ready: 1 where the caller's 8-bit x holds exactly this launch's tokens (all of them, from
     * token 0); -1 (float x, the shared scratch left as it is) where the op splits the tokens */
    int ready = a->xq_ready < 0                                                  ? -1
                : !a->xq_ready                                                   ? 0
                : t0 == 0 && toks == a->n_tok && (j->xs == a->n_in || toks == 1) ? 1
                                                                                 : -1;
    /* texel reads: x rows on texels, W rows as tex_rows says */
    int w_tex = tex_rows(wt_index(a->wt), a->n_in, p.w_off);
    p.vec |= rows_any(wt_index(a->wt), a->n_in, p.w_off);
    if (a->w_tiled && ((p.vec & VKG_MATMUL_ROWS_ANY) || q6k_split_off(wt_index(a->wt), 1, p.w_off)))
        /* tiles of groups of 8 blocks, and Q6_K's split fields, start on texels */
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'matmul': tiled weight '%s' does not start on a texel here",
                         a->w.buf->name);
    int tex_ok = w_tex && (p.vec & VKG_MATMUL_VEC_X) && v[0].offset % ta == 0 && v[1].offset % ta == 0;
    if (toks == 1 && j->op1_tex != VKG_OP_COUNT && tex_ok && use_cs(c->dev, wt_index(a->wt), a->n_in, a->w_tiled)) {
        groups = (rows + VKG_MATVEC1_CS_ROWS - 1) / VKG_MATVEC1_CS_ROWS;
        return vkg_cmd_dispatch_1d_z(c, vkg_op_kernel(k_cs1[wt_index(a->wt)]), v, LANE_VIEWS, &p, groups, 1);
    }
    enum vkg_status st;
    if (toks == 1 && j->op1_tex != VKG_OP_COUNT && tex_ok) {
        groups =
            (rows + c->dev->use.lane_width * VKG_MATVEC1_TX_ROWS - 1) / (c->dev->use.lane_width * VKG_MATVEC1_TX_ROWS);
        enum vkg_op op = xq8_prepare(c, a->wt, &a->xq, toks, ready, v, &p, &st);
        VKG_TRY(st);
        if (op == VKG_OP_COUNT) op = j->op1_tex;
        return vkg_cmd_dispatch_1d_z_spec(c, vkg_op_kernel(op), mode_spec(op, &p), rows_spec(wt_index(a->wt), &p), 0, v,
                                          LANE_VIEWS, &p, groups, 1);
    }
    if (j->lane && toks > 1 && j->op_tex != VKG_OP_COUNT && tex_ok) { /* token blocks of 8 in x */
        uint32_t per = c->dev->use.lane_width * tex_lr(wt_index(a->wt), toks);
        groups = (rows + per - 1) / per;
        enum vkg_op op = xq8_prepare(c, a->wt, &a->xq, toks, ready, v, &p, &st);
        VKG_TRY(st);
        return tex_blocks_dispatch(c, op == VKG_OP_COUNT ? j->op_tex : op, wt_index(a->wt), v, &p, groups, toks);
    }
    if (a->w_tiled)
        return tiled_unsupported(a, tex_ok ? "the texel kernels are off for this path"
                                           : "x or the window does not start on a texel here");
    if (j->lane && toks > 1) { /* token blocks of 8 in z */
        return vkg_cmd_dispatch_1d_z(c, vkg_op_kernel(j->op), v, 4, &p, groups, (uint32_t)((toks + 7) / 8));
    }
    return vkg_cmd_dispatch_op_1d(c, toks == 1 ? j->op1 : j->op, v, 4, &p, groups);
}

/* Rows per window so W, one y row and the bias fit a binding; then tokens per
 * window so x and y fit. Windows of one launch write disjoint parts of y. */
static enum vkg_status mm_run(struct vkg_cmd *c, const struct mm_job *j)
{
    const struct vkg_matmul_args *a = j->a;
    uint64_t max = vkg_max_window_bytes(c->dev), maxf = max / 4;
    uint64_t rows_max = max / j->row_bytes < maxf ? max / j->row_bytes : maxf;
    uint64_t tok_cap = j->gemm ? 65535ull * VKG_MATMUL_TILE : j->lane ? 65535ull * 8 : VKG_MATVEC_MAX_TOK;
    if (j->gemm && rows_max > 65535ull * VKG_MATMUL_TILE) rows_max = 65535ull * VKG_MATMUL_TILE;
    if (a->w_tiled) rows_max -= rows_max % VKG_MATMUL_TILE_ROWS; /* windows of whole tiles */
    if (rows_max == 0 || a->n_in > maxf)
        return vkg_error(VKG_ERR_LIMIT, "op 'matmul': one row of '%s' (%u values) is larger than a binding",
                         a->w.buf->name, a->n_in);
    for (uint64_t o0 = 0; o0 < a->n_out; o0 += rows_max) {
        uint64_t rows = a->n_out - o0 < rows_max ? a->n_out - o0 : rows_max;
        uint64_t tx = (maxf - a->n_in) / j->xs + 1, ty = (maxf - rows) / j->ys + 1;
        uint64_t tmax = tx < ty ? tx : ty;
        if (tmax > tok_cap) tmax = tok_cap;
        for (uint64_t t0 = 0; t0 < a->n_tok; t0 += tmax)
            VKG_TRY(mm_dispatch(c, j, o0, rows, t0, a->n_tok - t0 < tmax ? a->n_tok - t0 : tmax));
    }
    return VKG_OK;
}

static enum vkg_status check_view(const char *what, const struct vkg_view *v, uint64_t bytes, uint32_t align,
                                  const struct vkg_matmul_args *a)
{
    if (v->size < bytes || v->offset % align)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'matmul' %ux%u %s x %u tokens: %s view of '%s' has %llu bytes at "
                         "offset %llu, needs %llu bytes at a multiple of %u",
                         a->n_out, a->n_in, vkg_dtype_name(a->wt), a->n_tok, what, v->buf->name,
                         (unsigned long long)v->size, (unsigned long long)v->offset, (unsigned long long)bytes, align);
    return VKG_OK;
}

static enum vkg_status mm_check(const struct vkg_matmul_args *a, uint64_t xs, uint64_t ys, uint64_t row_bytes)
{
    int wi = wt_index(a->wt);
    if (wi < 0)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'matmul': weight '%s' is %s; F32, F16, BF16, Q8_0, Q4, Q4_1, Q5_0, Q5_1, Q4_K, "
                         "Q5_K, Q6_K supported",
                         a->w.buf->name, vkg_dtype_name(a->wt));
    uint32_t bs = vkg_dtype_block_size(a->wt); /* 32, or 256 for the K-quants */
    if (a->n_in == 0 || a->n_in % bs)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'matmul': weight '%s' %s with n_in %u (needs a multiple of %u)",
                         a->w.buf->name, vkg_dtype_name(a->wt), a->n_in, bs);
    if (xs < a->n_in || ys < a->n_out)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'matmul' on '%s': strides x %llu < n_in %u or y %llu < n_out %u",
                         a->w.buf->name, (unsigned long long)xs, a->n_in, (unsigned long long)ys, a->n_out);
    if (a->w_tiled && (wi > 2 ? a->n_in % 256 : a->n_in % 8))
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'matmul': weight '%s' is tiled but %s with n_in %u (tiles: F32, F16, "
                         "BF16 with n_in %% 8 == 0; the block types with n_in %% 256 == 0)",
                         a->w.buf->name, vkg_dtype_name(a->wt), a->n_in);
    if (a->w_tiled && wi == 10 && a->n_out % VKG_MATMUL_TILE_ROWS)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'matmul': weight '%s' is a tiled Q6_K of %u rows (its split tiles need whole tiles of "
                         "%u rows)",
                         a->w.buf->name, a->n_out, VKG_MATMUL_TILE_ROWS);
    VKG_TRY(check_view("weight", &a->w, a->n_out * row_bytes, k_align[wi], a));
    VKG_TRY(check_view("x", &a->x, ((uint64_t)(a->n_tok - 1) * xs + a->n_in) * 4, 4, a));
    VKG_TRY(check_view("y", &a->y, ((uint64_t)(a->n_tok - 1) * ys + a->n_out) * 4, 4, a));
    if (a->bias) VKG_TRY(check_view("bias", a->bias, (uint64_t)a->n_out * 4, 4, a));
    return VKG_OK;
}

enum vkg_status vkg_op_matmul_ex(struct vkg_cmd *c, const struct vkg_matmul_args *a)
{
    if (a->n_tok == 0 || a->n_out == 0) return VKG_OK;
    struct mm_job j = { .a = a, .xs = a->x_stride ? a->x_stride : a->n_in, .ys = a->y_stride ? a->y_stride : a->n_out };
    int wi = wt_index(a->wt);
    if (wi >= 0) j.row_bytes = (uint64_t)a->n_in / vkg_dtype_block_size(a->wt) * vkg_dtype_block_bytes(a->wt);
    VKG_TRY(mm_check(a, j.xs, j.ys, j.row_bytes));
    enum vkg_matmul_path path = a->path;
    /* the texel lane tier's types: floats (n_in % 8 == 0) and every block type */
    int tex_type = wi <= 2 ? a->n_in % 8 == 0 : 1;
    if (path == VKG_MATMUL_AUTO && c->dev->use.texel && c->dev->use.lane_tier && tex_type) path = VKG_MATMUL_LANE_TEXEL;
    if (path == VKG_MATMUL_LANE_TEXEL && (!tex_type || !c->dev->use.lane_ok))
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'matmul' on '%s': the texel lane tier needs F32/F16/BF16 weights with n_in %% 8 == 0 "
                         "or block weights (%s, n_in %u) and subgroups of at least 8 lanes",
                         a->w.buf->name, vkg_dtype_name(a->wt), a->n_in);
    j.op_tex = path == VKG_MATMUL_LANE_TEXEL && c->dev->use.quad ? k_tex[wi] : VKG_OP_COUNT;
    /* both texel kernels share x through quad broadcasts (one token too: X_ROW4 / X_ROW8) */
    j.op1_tex = path == VKG_MATMUL_LANE_TEXEL && c->dev->use.quad ? k_tex1[wi] : VKG_OP_COUNT;
    if (path == VKG_MATMUL_LANE_TEXEL) path = VKG_MATMUL_DECODE_LANE; /* the same grid for the fallbacks */
    if (path == VKG_MATMUL_AUTO)
        path = c->dev->use.lane_tier && a->n_tok <= VKG_MATVEC_LANE_MAX_TOK ? VKG_MATMUL_DECODE_LANE
               : a->n_tok > VKG_MATVEC_MAX_TOK                              ? VKG_MATMUL_GEMM
               : c->dev->use.subgroup_arith                                 ? VKG_MATMUL_DECODE_SUBGROUP
                                                                            : VKG_MATMUL_DECODE_SHARED;
    if (path == VKG_MATMUL_DECODE_SUBGROUP && !c->dev->use.subgroup_arith)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'matmul' on '%s': subgroup tier asked for, but subgroup "
                         "arithmetic is off on this device",
                         a->w.buf->name);
    if (path == VKG_MATMUL_DECODE_LANE && !c->dev->use.lane_ok)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'matmul' on '%s': lane tier asked for, but it needs subgroup ballot with "
                         "subgroups of at least 8 lanes",
                         a->w.buf->name);
    j.gemm = path == VKG_MATMUL_GEMM;
    int sg = path == VKG_MATMUL_DECODE_SUBGROUP;
    int lane = j.lane = path == VKG_MATMUL_DECODE_LANE;
    j.op = j.gemm ? k_matmul[wi] : lane ? k_matvec_lane[wi] : sg ? k_matvec_sg[wi] : k_matvec[wi];
    /* AUTO, one vector, block types: the subgroup kernel (measured: Q8_0 4096x4096 on lavapipe 46 ms
     * against 83 ms in the lane kernel, whose float types win: F16 74 against 102 ms) */
    int lane1 = lane && !(a->path == VKG_MATMUL_AUTO && wi >= 3 && c->dev->use.subgroup_arith);
    j.op1 = j.gemm                                       ? j.op
            : lane1                                      ? k_matvec1_lane[wi]
            : (sg || lane) && c->dev->use.subgroup_arith ? k_matvec1_sg[wi]
                                                         : k_matvec1[wi];
    j.rows_per_group = lane ? VKG_MATVEC_LANE_LOCAL * VKG_MATVEC_LANE_ROWS : VKG_MATVEC_ROWS;
    j.rows_per_group1 = lane1 ? VKG_MATVEC_LANE_LOCAL * VKG_MATVEC_LANE_ROWS : VKG_MATVEC_ROWS;
    return mm_run(c, &j);
}

enum vkg_status vkg_op_matmul(struct vkg_cmd *c, struct vkg_view w, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in,
                              struct vkg_view x, struct vkg_view y, uint32_t n_tok, const struct vkg_view *bias)
{
    struct vkg_matmul_args a = {
        .w = w, .wt = wt, .n_out = n_out, .n_in = n_in, .x = x, .y = y, .n_tok = n_tok, .bias = bias
    };
    return vkg_op_matmul_ex(c, &a);
}

/* ---- fused projections ------------------------------------------------- */

/* The one launch of a fused matmul, or 0 (no error set) when this device, type or size needs the
 * separate launches: the texel lane tier only, every tensor inside one binding window and on texels. */
static int fused_launch(struct vkg_cmd *c, const struct vkg_matmul_fused_args *f, uint32_t n_rows, uint64_t xs,
                        int *normed, enum vkg_status *st)
{
    struct vkg_device *dev = c->dev;
    int wi = wt_index(f->wt);
    *st = VKG_OK;
    if (!dev->use.fused || !dev->use.lane_ok || !vkg_op_matmul_fusable(f->wt, f->n_in)) return 0;
    if (f->n_tok > 65535u * 8 || xs % 4 || !dev->use.quad) return 0;
    uint64_t max = vkg_max_window_bytes(dev);
    uint64_t wbytes = (uint64_t)n_rows * (f->n_in / vkg_dtype_block_size(f->wt)) * vkg_dtype_block_bytes(f->wt);
    uint64_t xbytes = ((uint64_t)(f->n_tok - 1) * xs + f->n_in) * 4;
    int glu = f->kind != VKG_MATMUL_FUSE_PARTS;
    uint32_t n_y = glu ? 1 : f->n_parts;
    if (wbytes > max || xbytes > max || (f->bias && (uint64_t)n_rows * 4 > max)) return 0;
    for (uint32_t i = 0; i < n_y; i++)
        if ((uint64_t)f->n_tok * f->rows[i] * 4 > max) return 0;
    struct vkg_view v[LANE_VIEWS];
    uint64_t wskip, xskip, skip;
    struct vkg_push_matmul p = { .n_out = glu ? f->rows[0] : n_rows,
                                 .n_in = f->n_in,
                                 .n_tok = f->n_tok,
                                 .x_stride = (uint32_t)xs,
                                 .y_stride = f->rows[0],
                                 .has_bias = f->bias != NULL,
                                 .vec = VKG_MATMUL_VEC_W | VKG_MATMUL_VEC_X | rows_any(wi, f->n_in, 0) |
                                        (f->w_tiled ? VKG_MATMUL_W_TILED : 0),
                                 .mode = f->kind == VKG_MATMUL_FUSE_SWIGLU      ? VKG_MATMUL_MODE_SWIGLU
                                         : f->kind == VKG_MATMUL_FUSE_GEGLU     ? VKG_MATMUL_MODE_GEGLU
                                         : f->kind == VKG_MATMUL_FUSE_GEGLU_F16 ? VKG_MATMUL_MODE_GEGLU_F16
                                                                                : VKG_MATMUL_MODE_PARTS };
    if ((*st = vkg_view_window(dev, f->w, 0, wbytes, &v[0], &wskip)) != VKG_OK) return 1;
    if ((*st = vkg_view_window(dev, f->x, 0, xbytes, &v[1], &xskip)) != VKG_OK) return 1;
    uint64_t ta = vkg_texel_align(dev);
    if (wskip % 16 || xskip % 16 || v[0].offset % ta || v[1].offset % ta) return 0;
    p.w_off = (uint32_t)(wskip / k_unit[wi]);
    p.x_off = (uint32_t)(xskip / 4);
    uint32_t *offs[3] = { &p.y_off, &p.y1_off, &p.y2_off };
    for (uint32_t i = 0; i < n_y; i++) {
        if ((*st = vkg_view_window(dev, f->y[i], 0, (uint64_t)f->n_tok * f->rows[i] * 4, &v[i == 0 ? 2 : 3 + i],
                                   &skip)) != VKG_OK)
            return 1;
        *offs[i] = (uint32_t)(skip / 4);
    }
    if (!glu) {
        p.seg1 = f->rows[0];
        p.seg2 = f->n_parts > 2 ? f->rows[0] + f->rows[1] : n_rows;
        p.y1_stride = f->rows[1];
        p.y2_stride = f->n_parts > 2 ? f->rows[2] : 0;
    }
    if (n_y < 2) v[4] = v[2];
    if (n_y < 3) v[5] = v[2];
    v[3] = v[6] = v[8] = v[1];
    v[7] = v[2];
    if (f->bias) {
        if ((*st = vkg_view_window(dev, *f->bias, 0, (uint64_t)n_rows * 4, &v[3], &skip)) != VKG_OK) return 1;
        p.b_off = (uint32_t)(skip / 4);
    }
    *normed = 0;
    if (f->q_norm && dev->use.resnorm && f->counters.buf &&
        f->counters.size >= vkg_op_matmul_norm_counter_bytes(f->n_tok)) { /* q/k head norms in the tail */
        struct {
            const struct vkg_view *src;
            uint64_t bytes;
            int slot;
            uint32_t *off;
        } win[] = { { f->q_norm, (uint64_t)f->head_dim * 4, 6, &p.g_off },
                    { f->k_norm, (uint64_t)f->head_dim * 4, 8, &p.g1_off },
                    { &f->counters, vkg_op_matmul_norm_counter_bytes(f->n_tok), 7, &p.c_off } };
        for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
            if ((*st = vkg_view_window(dev, *win[i].src, 0, win[i].bytes, &v[win[i].slot], &skip)) != VKG_OK) return 1;
            *win[i].off = (uint32_t)(skip / 4);
        }
        p.mode = VKG_MATMUL_MODE_PARTS_QKNORM;
        p.eps = f->eps;
        p.norm_n = f->head_dim;
        *normed = 1;
    }
    uint32_t lr = tex_lr(wi, f->n_tok);
    uint32_t per = c->dev->use.lane_width * (glu ? lr / 2 : lr);
    uint64_t groups = (p.n_out + per - 1) / per;
    if (f->n_tok == 1 && use_cs(dev, wi, f->n_in, f->w_tiled)) {
        p.x_stride = p.y_stride = p.y1_stride = p.y2_stride = 0;
        uint32_t per_cs = glu ? VKG_MATVEC1_CS_ROWS / 2 : VKG_MATVEC1_CS_ROWS;
        groups = (p.n_out + per_cs - 1) / per_cs;
        *st = vkg_cmd_dispatch_1d_z(c, vkg_op_kernel(k_cs1[wi]), v, LANE_VIEWS, &p, groups, 1);
    } else if (f->n_tok == 1) {
        p.x_stride = p.y_stride = p.y1_stride = p.y2_stride = 0;
        enum vkg_op op = xq8_prepare(c, f->wt, &f->xq, 1, 0, v, &p, st);
        if (*st != VKG_OK) return 1;
        *st = vkg_cmd_dispatch_1d_z_spec(c, vkg_op_kernel(op == VKG_OP_COUNT ? k_tex1[wi] : op), 0, rows_spec(wi, &p),
                                         0, v, LANE_VIEWS, &p, groups, 1);
    } else {
        enum vkg_op op = xq8_prepare(c, f->wt, &f->xq, f->n_tok, 0, v, &p, st);
        if (*st != VKG_OK) return 1;
        *st = tex_blocks_dispatch(c, op == VKG_OP_COUNT ? k_tex[wi] : op, wi, v, &p, groups, f->n_tok);
    }
    return 1;
}

/* Qwen3's per-head norms of q and k after the projections, as two rmsnorm launches */
static enum vkg_status qk_norms(struct vkg_cmd *c, const struct vkg_matmul_fused_args *f)
{
    vkg_cmd_barrier(c);
    for (int i = 0; i < 2; i++) {
        struct vkg_rmsnorm_args a = { .x = f->y[i],
                                      .w = *(i ? f->k_norm : f->q_norm),
                                      .y = f->y[i],
                                      .tokens = f->n_tok,
                                      .group = f->rows[i] / f->head_dim,
                                      .n = f->head_dim,
                                      .x_stride = f->rows[i],
                                      .y_stride = f->rows[i],
                                      .eps = f->eps,
                                      .kind = VKG_RMSNORM_PLAIN };
        VKG_TRY(vkg_op_rmsnorm_ex(c, &a));
    }
    return VKG_OK;
}

int vkg_op_matmul_fusable(enum vkg_dtype wt, uint64_t n_in)
{
    int wi = wt_index(wt);
    return wi >= 0 && (wi > 2 || n_in % 8 == 0);
}

enum vkg_status vkg_op_matmul_fused(struct vkg_cmd *c, const struct vkg_matmul_fused_args *f)
{
    int glu = f->kind != VKG_MATMUL_FUSE_PARTS;
    if (f->n_parts < 2 || f->n_parts > 3 || (glu && (f->n_parts != 2 || f->rows[0] != f->rows[1])))
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'matmul_fused' on '%s': %u parts (%s)", f->w.buf->name, f->n_parts,
                         glu ? "a gated MLP needs gate and up of equal rows" : "2 or 3 projections");
    if (f->n_tok == 0) return VKG_OK;
    uint32_t n_rows = 0;
    for (uint32_t i = 0; i < f->n_parts; i++) n_rows += f->rows[i];
    uint64_t xs = f->x_stride ? f->x_stride : f->n_in;
    int wi = wt_index(f->wt);
    struct vkg_matmul_args whole = {
        .w = f->w, .wt = f->wt, .n_out = n_rows, .n_in = f->n_in, .x = f->x, .y = f->y[0], .n_tok = f->n_tok
    };
    if (wi < 0 || f->n_in % vkg_dtype_block_size(f->wt)) return mm_check(&whole, xs, n_rows, 0); /* its error */
    uint64_t row_bytes = (uint64_t)f->n_in / vkg_dtype_block_size(f->wt) * vkg_dtype_block_bytes(f->wt);
    VKG_TRY(check_view("weight", &f->w, n_rows * row_bytes, k_align[wi], &whole));
    if (f->bias) VKG_TRY(check_view("bias", f->bias, (uint64_t)n_rows * 4, 4, &whole));
    if (glu) VKG_TRY(check_view("y", &f->y[0], (uint64_t)f->n_tok * f->rows[0] * 4, 4, &whole));
    /* each part as the separate launch would run it: x, its y (GLU: the gate/up scratch) */
    struct vkg_matmul_args part[3];
    for (uint32_t i = 0, r0 = 0; i < f->n_parts; r0 += f->rows[i], i++) {
        part[i] = (struct vkg_matmul_args){ .w = vkg_view_sub(f->w, r0 * row_bytes, f->rows[i] * row_bytes),
                                            .wt = f->wt,
                                            .n_out = f->rows[i],
                                            .n_in = f->n_in,
                                            .x = f->x,
                                            .x_stride = xs,
                                            .y = glu ? f->tmp[i] : f->y[i],
                                            .n_tok = f->n_tok,
                                            .w_tiled = f->w_tiled,
                                            .xq = f->xq };
        if (f->w_tiled && f->rows[i] % VKG_MATMUL_TILE_ROWS)
            return vkg_error(VKG_ERR_INVALID_ARG,
                             "op 'matmul_fused' on '%s': tiled parts need multiples of %u rows (part %u has %u)",
                             f->w.buf->name, VKG_MATMUL_TILE_ROWS, i, f->rows[i]);
        VKG_TRY(mm_check(&part[i], xs, f->rows[i], row_bytes));
    }
    int qk = f->q_norm != NULL;
    if (qk && (glu || f->n_parts != 3 || !f->k_norm || f->head_dim == 0 || f->rows[0] % f->head_dim ||
               f->rows[1] % f->head_dim))
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'matmul_fused' on '%s': q/k head norms need q|k|v parts of whole %u-value heads and "
                         "both weights",
                         f->w.buf->name, f->head_dim);
    if (qk) {
        VKG_TRY(check_view("q norm", f->q_norm, (uint64_t)f->head_dim * 4, 4, &whole));
        VKG_TRY(check_view("k norm", f->k_norm, (uint64_t)f->head_dim * 4, 4, &whole));
    }
    enum vkg_status st;
    int normed = 0;
    if (fused_launch(c, f, n_rows, xs, &normed, &st)) {
        if (st != VKG_OK || !qk || normed) return st;
        return qk_norms(c, f);
    }
    /* separate launches over the parts' rows */
    for (uint32_t i = 0, r0 = 0; i < f->n_parts; r0 += f->rows[i], i++) {
        struct vkg_view bv;
        if (f->bias) {
            bv = vkg_view_sub(*f->bias, (uint64_t)r0 * 4, (uint64_t)f->rows[i] * 4);
            part[i].bias = &bv;
        }
        VKG_TRY(vkg_op_matmul_ex(c, &part[i]));
    }
    if (qk) return qk_norms(c, f);
    if (!glu) return VKG_OK;
    vkg_cmd_barrier(c);
    enum vkg_glu_kind gk = f->kind == VKG_MATMUL_FUSE_SWIGLU  ? VKG_GLU_SWIGLU
                           : f->kind == VKG_MATMUL_FUSE_GEGLU ? VKG_GLU_GEGLU
                                                              : VKG_GLU_GEGLU_F16;
    return vkg_op_glu(c, gk, f->tmp[0], f->tmp[1], f->y[0], f->n_tok, f->rows[0]);
}

/* ---- output projection + residual add + RMSNorm ---------------------- */

uint64_t vkg_op_matmul_norm_counter_bytes(uint64_t n_tok) { return (n_tok + 7) / 8 * 4; }

/* The one launch of vkg_op_matmul_add_norm, or 0 (no error set) where the two-launch route runs:
 * dev->use.resnorm, a texel lane type, every tensor in one binding window, rows and x on texels. */
static int resnorm_launch(struct vkg_cmd *c, const struct vkg_matmul_norm_args *r, uint64_t xs, enum vkg_status *st)
{
    const struct vkg_matmul_args *a = &r->mm;
    struct vkg_device *dev = c->dev;
    int wi = wt_index(a->wt);
    *st = VKG_OK;
    if (!dev->use.resnorm || !vkg_op_matmul_fusable(a->wt, a->n_in) || a->path != VKG_MATMUL_AUTO) return 0;
    if (a->n_tok > VKG_MATMUL_RESNORM_MAX_TOK || xs % 4 || !dev->use.quad) return 0;
    if (r->h.buf == a->y.buf || r->h.buf == a->x.buf) return 0; /* the tail writes h while others read them */
    uint64_t max = vkg_max_window_bytes(dev), ta = vkg_texel_align(dev);
    uint64_t wbytes = (uint64_t)a->n_out * (a->n_in / vkg_dtype_block_size(a->wt)) * vkg_dtype_block_bytes(a->wt);
    uint64_t xbytes = ((uint64_t)(a->n_tok - 1) * xs + a->n_in) * 4, ybytes = (uint64_t)a->n_tok * a->n_out * 4;
    if (wbytes > max || xbytes > max || ybytes > max) return 0;
    struct vkg_view v[LANE_VIEWS];
    uint64_t wskip, xskip, skip;
    if ((*st = vkg_view_window(dev, a->w, 0, wbytes, &v[0], &wskip)) != VKG_OK) return 1;
    if ((*st = vkg_view_window(dev, a->x, 0, xbytes, &v[1], &xskip)) != VKG_OK) return 1;
    struct vkg_push_matmul p = { .n_out = a->n_out,
                                 .n_in = a->n_in,
                                 .n_tok = a->n_tok,
                                 .w_off = (uint32_t)(wskip / k_unit[wi]),
                                 .x_off = (uint32_t)(xskip / 4),
                                 .x_stride = a->n_tok > 1 ? (uint32_t)xs : 0,
                                 .y_stride = a->n_tok > 1 ? a->n_out : 0,
                                 .y1_stride = a->n_tok > 1 ? a->n_out : 0,
                                 .has_bias = a->bias != NULL,
                                 .mode = VKG_MATMUL_MODE_RESNORM,
                                 .eps = r->eps,
                                 .w_add = r->kind == VKG_RMSNORM_GEMMA ? 1.0f : 0.0f };
    /* a tiled block type whose rows would need the realigning walk: the separate launches refuse it */
    if (!tex_rows(wi, a->n_in, p.w_off) || p.x_off % 4 || v[0].offset % ta || v[1].offset % ta ||
        (a->w_tiled && rows_any(wi, a->n_in, p.w_off)) || q6k_split_off(wi, a->w_tiled, p.w_off))
        return 0;
    p.vec = VKG_MATMUL_VEC_X | (wi <= 2 ? VKG_MATMUL_VEC_W : 0) | rows_any(wi, a->n_in, p.w_off) |
            (a->w_tiled ? VKG_MATMUL_W_TILED : 0);
    struct {
        struct vkg_view src;
        uint64_t bytes;
        int slot;
        uint32_t *off;
    } win[] = { { a->y, ybytes, 2, &p.y_off },
                { r->h, ybytes, 4, &p.y1_off },
                { r->norm_w, (uint64_t)a->n_out * 4, 6, &p.g_off },
                { r->counters, vkg_op_matmul_norm_counter_bytes(a->n_tok), 7, &p.c_off } };
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
        if ((*st = vkg_view_window(dev, win[i].src, 0, win[i].bytes, &v[win[i].slot], &skip)) != VKG_OK) return 1;
        *win[i].off = (uint32_t)(skip / 4);
    }
    v[3] = v[8] = v[1];
    v[5] = v[2];
    if (a->bias) {
        if ((*st = vkg_view_window(dev, *a->bias, 0, (uint64_t)a->n_out * 4, &v[3], &skip)) != VKG_OK) return 1;
        p.b_off = (uint32_t)(skip / 4);
    }
    enum vkg_op xop = xq8_prepare(c, a->wt, &a->xq, a->n_tok, 0, v, &p, st);
    if (*st != VKG_OK) return 1;
    if (a->n_tok > 1) {
        uint32_t per = c->dev->use.lane_width * tex_lr(wi, a->n_tok);
        *st = tex_blocks_dispatch(c, xop == VKG_OP_COUNT ? k_tex[wi] : xop, wi, v, &p, (a->n_out + per - 1) / per,
                                  a->n_tok);
    } else if (use_cs(dev, wi, a->n_in, a->w_tiled)) {
        *st = vkg_cmd_dispatch_1d_z(c, vkg_op_kernel(k_cs1[wi]), v, LANE_VIEWS, &p,
                                    (a->n_out + VKG_MATVEC1_CS_ROWS - 1) / VKG_MATVEC1_CS_ROWS, 1);
    } else {
        uint32_t per = c->dev->use.lane_width * VKG_MATVEC1_TX_ROWS;
        *st = vkg_cmd_dispatch_1d_z_spec(c, vkg_op_kernel(xop == VKG_OP_COUNT ? k_tex1[wi] : xop), 0, rows_spec(wi, &p),
                                         0, v, LANE_VIEWS, &p, (a->n_out + per - 1) / per, 1);
    }
    return 1;
}

enum vkg_status vkg_op_matmul_add_norm(struct vkg_cmd *c, const struct vkg_matmul_norm_args *r)
{
    const struct vkg_matmul_args *a = &r->mm;
    if (a->n_tok == 0 || a->n_out == 0) return VKG_OK;
    if (a->y_stride && a->y_stride != a->n_out)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'matmul_add_norm' on '%s': the residual stream must be contiguous",
                         a->w.buf->name);
    uint64_t xs = a->x_stride ? a->x_stride : a->n_in, rows = (uint64_t)a->n_tok * a->n_out * 4;
    int wi = wt_index(a->wt);
    VKG_TRY(mm_check(a, xs, a->n_out,
                     wi >= 0 ? (uint64_t)a->n_in / vkg_dtype_block_size(a->wt) * vkg_dtype_block_bytes(a->wt) : 0));
    VKG_TRY(check_view("h", &r->h, rows, 4, a));
    VKG_TRY(check_view("norm weight", &r->norm_w, (uint64_t)a->n_out * 4, 4, a));
    enum vkg_status st;
    if (r->counters.buf && r->counters.size >= vkg_op_matmul_norm_counter_bytes(a->n_tok) &&
        resnorm_launch(c, r, xs, &st))
        return st;
    VKG_TRY(check_view("tmp", &r->tmp, rows, 4, a));
    struct vkg_matmul_args m = *a;
    m.y = r->tmp;
    m.y_stride = 0;
    VKG_TRY(vkg_op_matmul_ex(c, &m));
    vkg_cmd_barrier(c);
    return vkg_op_rmsnorm_add(c, r->tmp, a->y, r->norm_w, r->h, a->n_tok, a->n_out, r->eps, r->kind);
}

/* ---- the CPU drivers' tiled layout ---------------------------------------- */

int vkg_op_matmul_tileable(const struct vkg_device *dev, enum vkg_dtype wt, uint64_t n_in)
{
    int wi = wt_index(wt);
    return dev->use.tiled && n_in > 0 &&
           ((wi >= 0 && wi <= 2 && n_in % 8 == 0) || (wi >= 4 && dev->use.tiled_blocks && n_in % 256 == 0));
}

static enum vkg_op quantize_op(enum vkg_dtype st, enum vkg_dtype dt)
{
    int q8 = dt == VKG_DTYPE_Q8_0;
    if (dt != VKG_DTYPE_Q8_0 && dt != VKG_DTYPE_Q4) return VKG_OP_COUNT;
    if (st == VKG_DTYPE_F32) return q8 ? VKG_OP_QUANTIZE_F32_Q8_0 : VKG_OP_QUANTIZE_F32_Q4;
    if (st == VKG_DTYPE_F16) return q8 ? VKG_OP_QUANTIZE_F16_Q8_0 : VKG_OP_QUANTIZE_F16_Q4;
    if (st == VKG_DTYPE_BF16) return q8 ? VKG_OP_QUANTIZE_BF16_Q8_0 : VKG_OP_QUANTIZE_BF16_Q4;
    return VKG_OP_COUNT;
}

enum vkg_status vkg_op_quantize(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype st, struct vkg_view dst,
                                enum vkg_dtype dt, uint64_t n)
{
    enum vkg_op op = quantize_op(st, dt);
    if (op == VKG_OP_COUNT)
        return vkg_error(VKG_ERR_UNSUPPORTED, "quantize '%s' %s -> %s: F32/F16/BF16 -> Q8_0/Q4 only", src.buf->name,
                         vkg_dtype_name(st), vkg_dtype_name(dt));
    uint64_t ss = vkg_dtype_block_bytes(st), bb = vkg_dtype_block_bytes(dt), nb = n / 32;
    if (n % 32 || src.size < n * ss || dst.size < nb * bb || src.offset % ss || dst.offset % 2)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "quantize %llu values of '%s' (%llu bytes at %llu) into '%s' (%llu "
                         "bytes at %llu): needs a multiple of 32 values, aligned views that hold them",
                         (unsigned long long)n, src.buf->name, (unsigned long long)src.size,
                         (unsigned long long)src.offset, dst.buf->name, (unsigned long long)dst.size,
                         (unsigned long long)dst.offset);
    uint64_t max = vkg_max_window_bytes(c->dev);
    uint64_t chunk = max / (32 * ss) < max / bb ? max / (32 * ss) : max / bb;
    uint32_t ls = vkg_op_kernel(op)->local_size;
    /* Chunks may share an edge word of dst: the shader merges those with atomics, so no barrier between. */
    for (uint64_t b0 = 0; b0 < nb; b0 += chunk) {
        uint64_t k = nb - b0 < chunk ? nb - b0 : chunk, skip;
        struct vkg_view v[2];
        struct vkg_push_quantize p = { .n_blocks = (uint32_t)k };
        VKG_TRY(vkg_view_window(c->dev, src, b0 * 32 * ss, k * 32 * ss, &v[0], &skip));
        p.src_off = (uint32_t)(skip / ss);
        VKG_TRY(vkg_view_window(c->dev, dst, b0 * bb, k * bb, &v[1], &skip));
        p.dst_off = (uint32_t)skip;
        VKG_TRY(vkg_cmd_dispatch_op_1d(c, op, v, 2, &p, (k + ls - 1) / ls));
    }
    return VKG_OK;
}
