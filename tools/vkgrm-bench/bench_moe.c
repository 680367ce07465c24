/* bench_moe.c — bench cases of the moe family: router top-k on 512 tokens x
 * 64 experts; grouping; expert FFN passes for 1 and 64 tokens, 64 experts
 * top-6, n_in 512, n_ff 256 (8 MiB per F32 stack). GB/s counts the expert
 * weights actually read (experts with at least one token) plus activations. */
#include <stdlib.h>

#include "bench.h"
#include "ops_moe.h"

#define B_EXP 64u
#define B_K 6u
#define B_IN 512u
#define B_FF 256u

struct moe_ctx {
    struct vkg_moe_router r;
    struct vkg_moe_weights w;
    uint32_t n_tok, active; /* active: experts with >= 1 token */
    int sg;                 /* FFN tier to time: 1 subgroup (when the device has it), 0 scalar, 2 moe_lane,
                               3 moe_lane with each expert's matrices in 8-row tiles (pattern bits either way),
                               4 moe_lane with the XQ8 scratch (K-quants, Q4 ... Q5_1: *_xq8 and the quantization of
                               the input rows), 5 both (tiles and the XQ8 scratch) */
    struct vkg_buffer *logits, *ids, *wts, *route, *list, *x, *h, *y, *out, *g, *u, *d, *xq;
};

static void down(void *ctx)
{
    struct moe_ctx *m = ctx;
    if (!m) return;
    struct vkg_buffer *all[] = { m->logits, m->ids, m->wts, m->route, m->list, m->x, m->h,
                                 m->y,      m->out, m->g,   m->u,     m->d,    m->xq };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vkg_buffer_free(all[i]);
    free(m);
}

static enum vkg_status rec_gate(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    return vkg_op_moe_gate(c, &m->r, m->n_tok, vkg_buffer_view(m->logits), vkg_buffer_view(m->ids),
                           vkg_buffer_view(m->wts));
}

/* The launchers pick the tier from dev->use.subgroup_arith: set it for one record only. */
static enum vkg_status rec_gate_tier(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    int saved = c->dev->use.subgroup_arith;
    c->dev->use.subgroup_arith = saved && m->sg;
    enum vkg_status s = rec_gate(c, ctx);
    c->dev->use.subgroup_arith = saved;
    return s;
}

static enum vkg_status rec_group(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    return vkg_op_moe_group(c, m->n_tok * B_K, B_EXP, vkg_buffer_view(m->ids), vkg_buffer_view(m->route),
                            vkg_buffer_view(m->list));
}

static enum vkg_status weights_of(struct vkg_device *dev, struct moe_ctx *m, enum vkg_dtype dt)
{
    uint64_t n = (uint64_t)B_EXP * B_FF * B_IN;
    uint64_t bytes = n / vkg_dtype_block_size(dt) * vkg_dtype_block_bytes(dt);
    struct vkg_buffer **b[3] = { &m->g, &m->u, &m->d };
    m->w = (struct vkg_moe_weights){ .dtype = dt, .n_exp = B_EXP, .n_in = B_IN, .n_ff = B_FF, .dtype_down = dt };
    for (int i = 0; i < 3; i++) {
        if (dt == VKG_DTYPE_F32) VKG_TRY(vkg_bench_random_f32(dev, n, -0.05f, 0.05f, "bench experts", b[i]));
        else VKG_TRY(vkg_bench_buffer(dev, bytes, "bench experts", b[i])); /* 16-bit 1.0 pattern; Q: scale 1 */
    }
    m->w.gate = vkg_buffer_view(m->g);
    m->w.up = vkg_buffer_view(m->u);
    m->w.down = vkg_buffer_view(m->d);
    return VKG_OK;
}

/* Buffers, routing computed once (gate + group), active experts counted. */
static enum vkg_status setup_moe(struct vkg_device *dev, void **ctx, uint32_t n_tok, enum vkg_dtype dt)
{
    struct moe_ctx *m = calloc(1, sizeof *m);
    if (!m) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = m;
    m->n_tok = n_tok;
    m->r = (struct vkg_moe_router){ .n_exp = B_EXP, .k = B_K, .norm = 1, .scale = 1.0f };
    uint64_t pairs = (uint64_t)n_tok * B_K;
    VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)n_tok * B_EXP, -4, 4, "bench logits", &m->logits));
    VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)n_tok * B_IN, -1, 1, "bench x", &m->x));
    VKG_TRY(vkg_bench_buffer(dev, pairs * 4, "bench ids", &m->ids));
    VKG_TRY(vkg_bench_buffer(dev, pairs * 4, "bench weights", &m->wts));
    VKG_TRY(vkg_bench_buffer(dev, vkg_moe_route_bytes(B_EXP, pairs), "bench route", &m->route));
    VKG_TRY(vkg_bench_buffer(dev, pairs * 4, "bench list", &m->list));
    VKG_TRY(vkg_bench_buffer(dev, pairs * B_FF * 4, "bench h", &m->h));
    VKG_TRY(vkg_bench_buffer(dev, pairs * B_IN * 4, "bench y", &m->y));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)n_tok * B_IN * 4, "bench out", &m->out));
    if (dt != VKG_DTYPE_UNKNOWN) VKG_TRY(weights_of(dev, m, dt));
    struct vkg_cmd *c;
    VKG_TRY(vkg_cmd_create(dev, &c));
    enum vkg_status s = vkg_cmd_begin(c);
    if (s == VKG_OK) s = rec_gate(c, m);
    if (s == VKG_OK) s = rec_group(c, m);
    if (s == VKG_OK) s = vkg_cmd_submit_wait(c);
    vkg_cmd_free(c);
    uint32_t counts[B_EXP];
    if (s == VKG_OK)
        s = vkg_buffer_download(dev, vkg_view_sub(vkg_buffer_view(m->route), 0, sizeof counts), counts, sizeof counts);
    for (uint32_t e = 0; e < B_EXP; e++) m->active += counts[e] != 0;
    return s;
}

static enum vkg_status setup_gate(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f, int sg)
{
    VKG_TRY(setup_moe(d, x, 512, VKG_DTYPE_UNKNOWN));
    ((struct moe_ctx *)*x)->sg = sg;
    *b = 512ull * B_EXP * 4 + 512ull * B_K * 8; /* logits in; ids + weights out */
    *f = 0;
    return VKG_OK;
}
static enum vkg_status s_gate(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gate(d, x, b, f, 0);
}
static enum vkg_status s_gate_sg(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gate(d, x, b, f, 1);
}

static enum vkg_status s_group(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    VKG_TRY(setup_moe(d, x, 512, VKG_DTYPE_UNKNOWN));
    *b = 512ull * B_K * 4 * 3 + B_EXP * 12 * 2; /* ids read twice, list written; counts, offsets, cursors */
    *f = 0;
    return VKG_OK;
}

/* decode-sized grouping (<= VKG_MOE_GROUP1_MAX_PAIRS pairs): moe_group1, one workgroup, one launch */
static enum vkg_status s_group1(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    VKG_TRY(setup_moe(d, x, 64, VKG_DTYPE_UNKNOWN));
    *b = 64ull * B_K * 4 * 3 + B_EXP * 12 * 2;
    *f = 0;
    return VKG_OK;
}

/* A decode step's router and grouping: moe_gate_group_sg (one launch) or, sg == 0, moe_gate_sg
 * and moe_group1 with a barrier between them (what a step recorded before the fused kernel) */
static enum vkg_status rec_gate_group(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    if (!m->sg) {
        VKG_TRY(rec_gate(c, m));
        vkg_cmd_barrier(c);
        return rec_group(c, m);
    }
    return vkg_op_moe_gate_group(c, &m->r, m->n_tok, vkg_buffer_view(m->logits), vkg_buffer_view(m->ids),
                                 vkg_buffer_view(m->wts), vkg_buffer_view(m->route), vkg_buffer_view(m->list));
}
static enum vkg_status setup_gg(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f, uint32_t n_tok, int fused)
{
    VKG_TRY(setup_moe(d, x, n_tok, VKG_DTYPE_UNKNOWN));
    ((struct moe_ctx *)*x)->sg = fused;
    /* logits in, ids + weights out, ids read twice, list written; counts, offsets, cursors */
    *b = (uint64_t)n_tok * B_EXP * 4 + (uint64_t)n_tok * B_K * 4 * 5 + B_EXP * 12 * 2;
    *f = 0;
    return VKG_OK;
}
static enum vkg_status s_gg1(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gg(d, x, b, f, 1, 1);
}
static enum vkg_status s_gg32(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gg(d, x, b, f, 32, 1);
}
static enum vkg_status s_gg1_apart(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gg(d, x, b, f, 1, 0);
}
static enum vkg_status s_gg32_apart(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_gg(d, x, b, f, 32, 0);
}

/* the XQ8 scratch of tier 4, else an empty view (x in floats) */
static struct vkg_view xq_view(const struct moe_ctx *m)
{
    return m->xq ? vkg_buffer_view(m->xq) : (struct vkg_view){ 0 };
}

static enum vkg_status rec_gate_up(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    int saved = c->dev->use.subgroup_arith, texel = c->dev->use.texel;
    c->dev->use.subgroup_arith = saved && m->sg;
    c->dev->use.texel = m->sg >= 2; /* moe_lane (float weights) only when asked */
    enum vkg_status s = vkg_op_moe_gate_up(c, &m->w, m->n_tok, B_K, vkg_buffer_view(m->x), vkg_buffer_view(m->route),
                                           vkg_buffer_view(m->list), vkg_buffer_view(m->h), xq_view(m));
    c->dev->use.subgroup_arith = saved;
    c->dev->use.texel = texel;
    return s;
}

static enum vkg_status rec_down(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    int saved = c->dev->use.subgroup_arith, texel = c->dev->use.texel;
    c->dev->use.subgroup_arith = saved && m->sg;
    c->dev->use.texel = m->sg >= 2;
    enum vkg_status s = vkg_op_moe_down(c, &m->w, m->n_tok, B_K, vkg_buffer_view(m->h), vkg_buffer_view(m->route),
                                        vkg_buffer_view(m->list), vkg_buffer_view(m->y), xq_view(m));
    c->dev->use.subgroup_arith = saved;
    c->dev->use.texel = texel;
    return s;
}

static enum vkg_status rec_combine(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    return vkg_op_moe_combine(c, m->n_tok, B_K, B_IN, vkg_buffer_view(m->y), vkg_buffer_view(m->wts),
                              vkg_buffer_view(m->out), 0);
}

/* rmsnorm_combine_lane (vkg_op_moe_combine_add_norm): the combine, the residual add (into out) and
 * the next RMSNorm (into x, weight: the first B_IN floats of h) in one launch on CPU drivers; other
 * devices record moe_combine and rmsnorm_add, and the row times both */
static enum vkg_status rec_combine_norm_tx(struct vkg_cmd *c, void *ctx)
{
    struct moe_ctx *m = ctx;
    struct vkg_view out = vkg_buffer_view(m->out);
    return vkg_op_moe_combine_add_norm(c, m->n_tok, B_K, B_IN, vkg_buffer_view(m->y), vkg_buffer_view(m->wts), out, 0,
                                       out, vkg_view_sub(vkg_buffer_view(m->h), 0, B_IN * 4), vkg_buffer_view(m->x),
                                       1e-6f, VKG_RMSNORM_PLAIN);
}
/* the same through storage-buffer reads (the kernel for rows off a texel): texel reads off */
static enum vkg_status rec_combine_norm(struct vkg_cmd *c, void *ctx)
{
    int saved = c->dev->use.texel;
    c->dev->use.texel = 0;
    enum vkg_status s = rec_combine_norm_tx(c, ctx);
    c->dev->use.texel = saved;
    return s;
}

static enum vkg_status setup_combine_norm(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f, uint32_t n_tok)
{
    VKG_TRY(setup_moe(d, x, n_tok, VKG_DTYPE_UNKNOWN));
    /* y and the weights read, res read and written, h written, the norm weight read */
    *b = (uint64_t)n_tok * B_K * B_IN * 4 + (uint64_t)n_tok * B_K * 4 + (uint64_t)n_tok * B_IN * 4 * 3 + B_IN * 4;
    *f = (uint64_t)n_tok * B_IN * (2ull * B_K + 5);
    return VKG_OK;
}
static enum vkg_status s_combine_norm1(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_combine_norm(d, x, b, f, 1);
}
static enum vkg_status s_combine_norm64(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_combine_norm(d, x, b, f, 64);
}

/* gate_up: 2 matrices of the active experts + x in + h out; down: 1 matrix + h in + y out. */
static enum vkg_status setup_ffn(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f, uint32_t n_tok,
                                 enum vkg_dtype dt, int gate_up, int sg)
{
    VKG_TRY(setup_moe(d, x, n_tok, dt));
    struct moe_ctx *m = *x;
    m->sg = sg;
    m->w.tiled = m->w.tiled_down = sg == 3 || sg == 5;
    if (sg >= 4) VKG_TRY(vkg_bench_buffer(d, vkg_op_moe_xq_bytes(&m->w, n_tok, B_K), "bench xq", &m->xq));
    uint64_t pairs = (uint64_t)n_tok * B_K;
    uint64_t mat = (uint64_t)B_FF * B_IN / vkg_dtype_block_size(dt) * vkg_dtype_block_bytes(dt);
    if (gate_up) *b = m->active * mat * 2 + (uint64_t)n_tok * B_IN * 4 + pairs * B_FF * 4;
    else *b = m->active * mat + pairs * B_FF * 4 + pairs * B_IN * 4;
    *f = pairs * 2ull * B_FF * B_IN * (gate_up ? 2 : 1);
    return VKG_OK;
}

static enum vkg_status s_combine(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    VKG_TRY(setup_moe(d, x, 64, VKG_DTYPE_UNKNOWN));
    *b = 64ull * B_K * B_IN * 4 + 64ull * B_K * 4 + 64ull * B_IN * 4;
    *f = 64ull * B_K * B_IN * 2;
    return VKG_OK;
}

#define FFN(name, n_tok, dt, gu, sg)                                                      \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_ffn(d, x, b, f, n_tok, dt, gu, sg);                                  \
    }
#define FFN_TIER(sfx, sg)                             \
    FFN(s_gu_f32_1##sfx, 1, VKG_DTYPE_F32, 1, sg)     \
    FFN(s_gu_f32_64##sfx, 64, VKG_DTYPE_F32, 1, sg)   \
    FFN(s_gu_f16_1##sfx, 1, VKG_DTYPE_F16, 1, sg)     \
    FFN(s_gu_f16_64##sfx, 64, VKG_DTYPE_F16, 1, sg)   \
    FFN(s_gu_bf16_1##sfx, 1, VKG_DTYPE_BF16, 1, sg)   \
    FFN(s_gu_bf16_64##sfx, 64, VKG_DTYPE_BF16, 1, sg) \
    FFN(s_dn_f32_1##sfx, 1, VKG_DTYPE_F32, 0, sg)     \
    FFN(s_dn_f32_64##sfx, 64, VKG_DTYPE_F32, 0, sg)   \
    FFN(s_dn_f16_1##sfx, 1, VKG_DTYPE_F16, 0, sg)     \
    FFN(s_dn_f16_64##sfx, 64, VKG_DTYPE_F16, 0, sg)   \
    FFN(s_dn_bf16_1##sfx, 1, VKG_DTYPE_BF16, 0, sg)   \
    FFN(s_dn_bf16_64##sfx, 64, VKG_DTYPE_BF16, 0, sg) \
    FFN(s_gu_q8_1##sfx, 1, VKG_DTYPE_Q8_0, 1, sg)     \
    FFN(s_gu_q8_64##sfx, 64, VKG_DTYPE_Q8_0, 1, sg)   \
    FFN(s_gu_q4_1##sfx, 1, VKG_DTYPE_Q4, 1, sg)       \
    FFN(s_gu_q4_64##sfx, 64, VKG_DTYPE_Q4, 1, sg)     \
    FFN(s_dn_q8_1##sfx, 1, VKG_DTYPE_Q8_0, 0, sg)     \
    FFN(s_dn_q8_64##sfx, 64, VKG_DTYPE_Q8_0, 0, sg)   \
    FFN(s_dn_q4_1##sfx, 1, VKG_DTYPE_Q4, 0, sg)       \
    FFN(s_dn_q4_64##sfx, 64, VKG_DTYPE_Q4, 0, sg)
FFN_TIER(, 0)
FFN_TIER(_sg, 1)
/* moe_lane: float weights, texel reads (CPU drivers) */
#define FFN_LANE(t, dt)                          \
    FFN(l_gu_##t##_1, 1, VKG_DTYPE_##dt, 1, 2)   \
    FFN(l_gu_##t##_16, 16, VKG_DTYPE_##dt, 1, 2) \
    FFN(l_gu_##t##_64, 64, VKG_DTYPE_##dt, 1, 2) \
    FFN(l_dn_##t##_1, 1, VKG_DTYPE_##dt, 0, 2)   \
    FFN(l_dn_##t##_16, 16, VKG_DTYPE_##dt, 0, 2) \
    FFN(l_dn_##t##_64, 64, VKG_DTYPE_##dt, 0, 2) \
    FFN(t_gu_##t##_1, 1, VKG_DTYPE_##dt, 1, 3)   \
    FFN(t_gu_##t##_64, 64, VKG_DTYPE_##dt, 1, 3) \
    FFN(t_dn_##t##_1, 1, VKG_DTYPE_##dt, 0, 3)   \
    FFN(t_dn_##t##_64, 64, VKG_DTYPE_##dt, 0, 3)
FFN_LANE(f32, F32)
FFN_LANE(f16, F16)
FFN_LANE(bf16, BF16)
/* moe_lane with Q8_0 experts (rows of 34-byte blocks; tiled: TILED_GGML_CASES) */
FFN(l_gu_q8_0_1, 1, VKG_DTYPE_Q8_0, 1, 2)
FFN(l_gu_q8_0_16, 16, VKG_DTYPE_Q8_0, 1, 2)
FFN(l_gu_q8_0_64, 64, VKG_DTYPE_Q8_0, 1, 2)
FFN(l_dn_q8_0_1, 1, VKG_DTYPE_Q8_0, 0, 2)
FFN(l_dn_q8_0_16, 16, VKG_DTYPE_Q8_0, 0, 2)
FFN(l_dn_q8_0_64, 64, VKG_DTYPE_Q8_0, 0, 2)
/* moe_lane with Q4 and ggml's Q4_1 ... Q6_K experts: one token (lane1) and 64 (lane), both passes */
#define FFN_LANE_GGML(t, dt)                      \
    FFN(l_gu_##t##_t1, 1, VKG_DTYPE_##dt, 1, 2)   \
    FFN(l_gu_##t##_t64, 64, VKG_DTYPE_##dt, 1, 2) \
    FFN(l_dn_##t##_t1, 1, VKG_DTYPE_##dt, 0, 2)   \
    FFN(l_dn_##t##_t64, 64, VKG_DTYPE_##dt, 0, 2)
/* the same in 8-row tiles of 256-value units (GGUF files' experts on CPU drivers; Q6_K's split tiles) */
#define FFN_TILED_GGML(t, dt)                     \
    FFN(b_gu_##t##_t1, 1, VKG_DTYPE_##dt, 1, 3)   \
    FFN(b_gu_##t##_t64, 64, VKG_DTYPE_##dt, 1, 3) \
    FFN(b_dn_##t##_t1, 1, VKG_DTYPE_##dt, 0, 3)   \
    FFN(b_dn_##t##_t64, 64, VKG_DTYPE_##dt, 0, 3)
FFN_TILED_GGML(q8_0, Q8_0)
FFN_TILED_GGML(q4, Q4)
FFN_TILED_GGML(q4_1, Q4_1)
FFN_TILED_GGML(q5_0, Q5_0)
FFN_TILED_GGML(q5_1, Q5_1)
FFN_TILED_GGML(q4_k, Q4_K)
FFN_TILED_GGML(q5_k, Q5_K)
FFN_TILED_GGML(q6_k, Q6_K)
#define TILED_GGML_CASES(t, dt)                                                                                     \
    { "moe_gate_up_" #t "_lane1", "1 tok, 64 exp top6, 512->256 " #dt " tiled", b_gu_##t##_t1, rec_gate_up, down }, \
        { "moe_gate_up_" #t "_lane", "64 tok, 64 exp top6, 512->256 " #dt " tiled", b_gu_##t##_t64, rec_gate_up,    \
          down },                                                                                                   \
        { "moe_down_" #t "_lane1", "1 tok, 64 exp top6, 256->512 " #dt " tiled", b_dn_##t##_t1, rec_down, down },   \
        { "moe_down_" #t "_lane", "64 tok, 64 exp top6, 256->512 " #dt " tiled", b_dn_##t##_t64, rec_down, down },
FFN_LANE_GGML(q4, Q4)
FFN_LANE_GGML(q4_1, Q4_1)
FFN_LANE_GGML(q5_0, Q5_0)
FFN_LANE_GGML(q5_1, Q5_1)
FFN_LANE_GGML(q4_k, Q4_K)
FFN_LANE_GGML(q5_k, Q5_K)
FFN_LANE_GGML(q6_k, Q6_K)
/* moe_lane with x in 8 bits (XQ8; the K-quants on Q8_K x, Q4 ... Q5_1 on Q8_0 / Q8_1 x), both passes: *_lane1_xq8 at 1, 16 and 32 tokens (up
 * to VKG_MOE_LANE1_PAIRS_XQ8 pairs per expert; 32 tokens, 3 per expert, two pairs per pass), the 8-pair
 * *_lane_xq8 at 128 (12 per expert); tier sg 4 in the row order (q_), 5 in 8-row tiles (qt_, Q6_K's
 * split tiles) */
#define FFN_XQ8_(t, dt, p, sg)                        \
    FFN(p##_gu_##t##_1, 1, VKG_DTYPE_##dt, 1, sg)     \
    FFN(p##_gu_##t##_16, 16, VKG_DTYPE_##dt, 1, sg)   \
    FFN(p##_dn_##t##_1, 1, VKG_DTYPE_##dt, 0, sg)     \
    FFN(p##_dn_##t##_16, 16, VKG_DTYPE_##dt, 0, sg)   \
    FFN(p##_gu_##t##_32, 32, VKG_DTYPE_##dt, 1, sg)   \
    FFN(p##_dn_##t##_32, 32, VKG_DTYPE_##dt, 0, sg)   \
    FFN(p##_gu_##t##_128, 128, VKG_DTYPE_##dt, 1, sg) \
    FFN(p##_dn_##t##_128, 128, VKG_DTYPE_##dt, 0, sg)
#define FFN_XQ8(t, dt) FFN_XQ8_(t, dt, q, 4) FFN_XQ8_(t, dt, qt, 5)
FFN_XQ8(q4_k, Q4_K)
FFN_XQ8(q5_k, Q5_K)
FFN_XQ8(q6_k, Q6_K)
FFN_XQ8(q4, Q4)
FFN_XQ8(q4_1, Q4_1)
FFN_XQ8(q5_0, Q5_0)
FFN_XQ8(q5_1, Q5_1)
#define XQ8_CASES_(t, dt, p, sfx)                                                                                  \
    { "moe_gate_up_" #t "_lane1_xq8", "1 tok, 64 exp top6, 512->256 " #dt ", x in 8 bits (+ quantize_x)" sfx,      \
      p##_gu_##t##_1, rec_gate_up, down },                                                                         \
        { "moe_gate_up_" #t "_lane1_xq8", "16 tok, 64 exp top6, 512->256 " #dt ", x in 8 bits (+ quantize_x)" sfx, \
          p##_gu_##t##_16, rec_gate_up, down },                                                                    \
        { "moe_down_" #t "_lane1_xq8", "1 tok, 64 exp top6, 256->512 " #dt ", h in 8 bits (+ quantize_x)" sfx,     \
          p##_dn_##t##_1, rec_down, down },                                                                        \
        { "moe_down_" #t "_lane1_xq8", "16 tok, 64 exp top6, 256->512 " #dt ", h in 8 bits (+ quantize_x)" sfx,    \
          p##_dn_##t##_16, rec_down, down },                                                                       \
        { "moe_gate_up_" #t "_lane1_xq8", "32 tok, 64 exp top6, 512->256 " #dt ", x in 8 bits (+ quantize_x)" sfx, \
          p##_gu_##t##_32, rec_gate_up, down },                                                                    \
        { "moe_down_" #t "_lane1_xq8", "32 tok, 64 exp top6, 256->512 " #dt ", h in 8 bits (+ quantize_x)" sfx,    \
          p##_dn_##t##_32, rec_down, down },                                                                       \
        { "moe_gate_up_" #t "_lane_xq8", "128 tok, 64 exp top6, 512->256 " #dt ", x in 8 bits (+ quantize_x)" sfx, \
          p##_gu_##t##_128, rec_gate_up, down },                                                                   \
        { "moe_down_" #t "_lane_xq8", "128 tok, 64 exp top6, 256->512 " #dt ", h in 8 bits (+ quantize_x)" sfx,    \
          p##_dn_##t##_128, rec_down, down },
#define XQ8_CASES(t, dt) XQ8_CASES_(t, dt, q, "")
#define XQ8_TILED_CASES(t, dt) XQ8_CASES_(t, dt, qt, " tiled")
#define LANE_GGML_CASES(t, dt)                                                                                  \
    { "moe_gate_up_" #t "_lane1", "1 tok, 64 exp top6, 512->256 " #dt, l_gu_##t##_t1, rec_gate_up, down },      \
        { "moe_gate_up_" #t "_lane", "64 tok, 64 exp top6, 512->256 " #dt, l_gu_##t##_t64, rec_gate_up, down }, \
        { "moe_down_" #t "_lane1", "1 tok, 64 exp top6, 256->512 " #dt, l_dn_##t##_t1, rec_down, down },        \
        { "moe_down_" #t "_lane", "64 tok, 64 exp top6, 256->512 " #dt, l_dn_##t##_t64, rec_down, down },
/* ggml's block types: one token (decode), both passes and tiers */
#define FFN_GGML(t, dt)                         \
    FFN(g_gu_##t, 1, VKG_DTYPE_##dt, 1, 0)      \
    FFN(g_dn_##t, 1, VKG_DTYPE_##dt, 0, 0)      \
    FFN(g_gu_##t##_sg, 1, VKG_DTYPE_##dt, 1, 1) \
    FFN(g_dn_##t##_sg, 1, VKG_DTYPE_##dt, 0, 1)
FFN_GGML(q4_1, Q4_1)
FFN_GGML(q5_0, Q5_0)
FFN_GGML(q5_1, Q5_1)
FFN_GGML(q4_k, Q4_K)
FFN_GGML(q5_k, Q5_K)
FFN_GGML(q6_k, Q6_K)
#define GGML_CASES(t, dt)                                                                                   \
    { "moe_gate_up_" #t, "1 tok, 64 exp top6, 512->256 " #dt, g_gu_##t, rec_gate_up, down },                \
        { "moe_down_" #t, "1 tok, 64 exp top6, 256->512 " #dt, g_dn_##t, rec_down, down },                  \
        { "moe_gate_up_" #t "_sg", "1 tok, 64 exp top6, 512->256 " #dt, g_gu_##t##_sg, rec_gate_up, down }, \
        { "moe_down_" #t "_sg", "1 tok, 64 exp top6, 256->512 " #dt, g_dn_##t##_sg, rec_down, down },

#define FFN_CASES(sfx, op_sfx)                                                                                     \
    { "moe_gate_up_f32" op_sfx, "1 tok, 64 exp top6, 512->256 F32", s_gu_f32_1##sfx, rec_gate_up, down },          \
        { "moe_gate_up_f32" op_sfx, "64 tok, 64 exp top6, 512->256 F32", s_gu_f32_64##sfx, rec_gate_up, down },    \
        { "moe_gate_up_f16" op_sfx, "1 tok, 64 exp top6, 512->256 F16", s_gu_f16_1##sfx, rec_gate_up, down },      \
        { "moe_gate_up_f16" op_sfx, "64 tok, 64 exp top6, 512->256 F16", s_gu_f16_64##sfx, rec_gate_up, down },    \
        { "moe_gate_up_bf16" op_sfx, "1 tok, 64 exp top6, 512->256 BF16", s_gu_bf16_1##sfx, rec_gate_up, down },   \
        { "moe_gate_up_bf16" op_sfx, "64 tok, 64 exp top6, 512->256 BF16", s_gu_bf16_64##sfx, rec_gate_up, down }, \
        { "moe_down_f32" op_sfx, "1 tok, 64 exp top6, 256->512 F32", s_dn_f32_1##sfx, rec_down, down },            \
        { "moe_down_f32" op_sfx, "64 tok, 64 exp top6, 256->512 F32", s_dn_f32_64##sfx, rec_down, down },          \
        { "moe_down_f16" op_sfx, "1 tok, 64 exp top6, 256->512 F16", s_dn_f16_1##sfx, rec_down, down },            \
        { "moe_down_f16" op_sfx, "64 tok, 64 exp top6, 256->512 F16", s_dn_f16_64##sfx, rec_down, down },          \
        { "moe_down_bf16" op_sfx, "1 tok, 64 exp top6, 256->512 BF16", s_dn_bf16_1##sfx, rec_down, down },         \
        { "moe_down_bf16" op_sfx, "64 tok, 64 exp top6, 256->512 BF16", s_dn_bf16_64##sfx, rec_down, down },       \
        { "moe_gate_up_q8_0" op_sfx, "1 tok, 64 exp top6, 512->256 Q8_0", s_gu_q8_1##sfx, rec_gate_up, down },     \
        { "moe_gate_up_q8_0" op_sfx, "64 tok, 64 exp top6, 512->256 Q8_0", s_gu_q8_64##sfx, rec_gate_up, down },   \
        { "moe_gate_up_q4" op_sfx, "1 tok, 64 exp top6, 512->256 Q4", s_gu_q4_1##sfx, rec_gate_up, down },         \
        { "moe_gate_up_q4" op_sfx, "64 tok, 64 exp top6, 512->256 Q4", s_gu_q4_64##sfx, rec_gate_up, down },       \
        { "moe_down_q8_0" op_sfx, "1 tok, 64 exp top6, 256->512 Q8_0", s_dn_q8_1##sfx, rec_down, down },           \
        { "moe_down_q8_0" op_sfx, "64 tok, 64 exp top6, 256->512 Q8_0", s_dn_q8_64##sfx, rec_down, down },         \
        { "moe_down_q4" op_sfx, "1 tok, 64 exp top6, 256->512 Q4", s_dn_q4_1##sfx, rec_down, down },               \
        { "moe_down_q4" op_sfx, "64 tok, 64 exp top6, 256->512 Q4", s_dn_q4_64##sfx, rec_down, down },

/* moe_count / moe_scan / moe_scatter run together (scatter needs the scan's
 * cursors): the three rows time the whole grouping. */
static const struct vkg_bench_case g_cases[] = {
    { "moe_gate", "512 tok x 64 exp softmax top6 renorm", s_gate, rec_gate_tier, down },
    { "moe_gate_sg", "512 tok x 64 exp softmax top6 renorm", s_gate_sg, rec_gate_tier, down },
    { "moe_count", "count+scan+scatter 512x6 pairs -> 64 exp", s_group, rec_group, down },
    { "moe_scan", "(the moe_count row: whole grouping)", s_group, rec_group, down },
    { "moe_scatter", "(the moe_count row: whole grouping)", s_group, rec_group, down },
    { "moe_group1", "count+scan+scatter 64x6 pairs -> 64 exp, one workgroup", s_group1, rec_group, down },
    { "moe_gate_group_sg", "1 tok x 64 exp top6 + grouping, one launch", s_gg1, rec_gate_group, down },
    { "moe_gate_group_sg", "32 tok x 64 exp top6 + grouping, one launch", s_gg32, rec_gate_group, down },
    { "moe_gate_sg", "1 tok x 64 exp top6, then moe_group1 (two launches)", s_gg1_apart, rec_gate_group, down },
    { "moe_gate_sg", "32 tok x 64 exp top6, then moe_group1 (two launches)", s_gg32_apart, rec_gate_group, down },
    FFN_CASES(, "") FFN_CASES(_sg, "_sg") GGML_CASES(q4_1, Q4_1) GGML_CASES(q5_0, Q5_0) GGML_CASES(q5_1, Q5_1)
        GGML_CASES(q4_k, Q4_K) GGML_CASES(q5_k, Q5_K) GGML_CASES(q6_k, Q6_K)
/* up to VKG_MOE_LANE1_PAIRS pairs per expert (1 and 16 tokens x top-6 of 64) take *_lane1 */
#define LANE_CASES(t, dt)                                                                                              \
    { "moe_gate_up_" #t "_lane1", "1 tok, 64 exp top6, 512->256 " #dt, l_gu_##t##_1, rec_gate_up, down },              \
        { "moe_gate_up_" #t "_lane1", "16 tok, 64 exp top6, 512->256 " #dt, l_gu_##t##_16, rec_gate_up, down },        \
        { "moe_gate_up_" #t "_lane", "64 tok, 64 exp top6, 512->256 " #dt, l_gu_##t##_64, rec_gate_up, down },         \
        { "moe_down_" #t "_lane1", "1 tok, 64 exp top6, 256->512 " #dt, l_dn_##t##_1, rec_down, down },                \
        { "moe_down_" #t "_lane1", "16 tok, 64 exp top6, 256->512 " #dt, l_dn_##t##_16, rec_down, down },              \
        { "moe_down_" #t "_lane", "64 tok, 64 exp top6, 256->512 " #dt, l_dn_##t##_64, rec_down, down },               \
        { "moe_gate_up_" #t "_lane1", "1 tok, 64 exp top6, 512->256 " #dt " tiled", t_gu_##t##_1, rec_gate_up, down }, \
        { "moe_gate_up_" #t "_lane", "64 tok, 64 exp top6, 512->256 " #dt " tiled", t_gu_##t##_64, rec_gate_up,        \
          down },                                                                                                      \
        { "moe_down_" #t "_lane1", "1 tok, 64 exp top6, 256->512 " #dt " tiled", t_dn_##t##_1, rec_down, down },       \
        { "moe_down_" #t "_lane", "64 tok, 64 exp top6, 256->512 " #dt " tiled", t_dn_##t##_64, rec_down, down },
            LANE_CASES(f32, F32) LANE_CASES(f16, F16) LANE_CASES(bf16, BF16){
                "moe_gate_up_q8_0_lane1", "1 tok, 64 exp top6, 512->256 Q8_0", l_gu_q8_0_1, rec_gate_up, down },
    { "moe_gate_up_q8_0_lane1", "16 tok, 64 exp top6, 512->256 Q8_0", l_gu_q8_0_16, rec_gate_up, down },
    { "moe_gate_up_q8_0_lane", "64 tok, 64 exp top6, 512->256 Q8_0", l_gu_q8_0_64, rec_gate_up, down },
    { "moe_down_q8_0_lane1", "1 tok, 64 exp top6, 256->512 Q8_0", l_dn_q8_0_1, rec_down, down },
    { "moe_down_q8_0_lane1", "16 tok, 64 exp top6, 256->512 Q8_0", l_dn_q8_0_16, rec_down, down },
    { "moe_down_q8_0_lane", "64 tok, 64 exp top6, 256->512 Q8_0", l_dn_q8_0_64, rec_down, down },
    LANE_GGML_CASES(q4, Q4) LANE_GGML_CASES(q4_1, Q4_1) LANE_GGML_CASES(q5_0, Q5_0) LANE_GGML_CASES(q5_1, Q5_1)
        LANE_GGML_CASES(q4_k, Q4_K) LANE_GGML_CASES(q5_k, Q5_K) LANE_GGML_CASES(q6_k, Q6_K) XQ8_CASES(q4_k, Q4_K)
            XQ8_CASES(q5_k, Q5_K) XQ8_CASES(q6_k, Q6_K) TILED_GGML_CASES(q8_0, Q8_0) TILED_GGML_CASES(q4, Q4)
                TILED_GGML_CASES(q4_1, Q4_1) TILED_GGML_CASES(q5_0, Q5_0) TILED_GGML_CASES(q5_1, Q5_1)
                    TILED_GGML_CASES(q4_k, Q4_K) TILED_GGML_CASES(q5_k, Q5_K) TILED_GGML_CASES(q6_k, Q6_K)
                        XQ8_TILED_CASES(q4_k, Q4_K) XQ8_TILED_CASES(q5_k, Q5_K) XQ8_TILED_CASES(q6_k, Q6_K)
                            XQ8_CASES(q4, Q4) XQ8_CASES(q4_1, Q4_1) XQ8_CASES(q5_0, Q5_0) XQ8_CASES(q5_1, Q5_1)
                                XQ8_TILED_CASES(q4, Q4) XQ8_TILED_CASES(q4_1, Q4_1) XQ8_TILED_CASES(q5_0, Q5_0)
                                    XQ8_TILED_CASES(q5_1, Q5_1){ "moe_combine", "64 tok x 6 x 512", s_combine,
                                                                 rec_combine, down },
    { "rmsnorm_combine_lane", "1 tok x 6 x 512 +residual +norm (CPU driver)", s_combine_norm1, rec_combine_norm, down },
    { "rmsnorm_combine_lane", "64 tok x 6 x 512 +residual +norm (CPU driver)", s_combine_norm64, rec_combine_norm,
      down },
    { "rmsnorm_combine_lane_tx", "1 tok x 6 x 512 +residual +norm, texel reads", s_combine_norm1, rec_combine_norm_tx,
      down },
    { "rmsnorm_combine_lane_tx", "64 tok x 6 x 512 +residual +norm, texel reads", s_combine_norm64, rec_combine_norm_tx,
      down },
};

const struct vkg_bench_case *vkg_bench_moe(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
