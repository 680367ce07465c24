/* bench_norm.c — bench cases of the norm family: embedding lookup per table
 * dtype, RMSNorm (both reduction tiers, with and without the fused residual),
 * SwiGLU / GeGLU, soft-capping, add and scale, at prefill-like shapes
 * (512 tokens). Bytes count every tensor read or written once. */
#include <stdlib.h>

#include "bench.h"
#include "ops_norm.h"

struct norm_ctx {
    struct vkg_buffer *a, *b, *c, *d; /* inputs / outputs, per case */
    enum vkg_dtype dt;
    int tier;           /* rmsnorm: 0 shared-memory tier, 1 subgroup tier, 2 lane (CPU-driver) tier, 3 lane
                           with texel reads (*_tx) */
    uint32_t tokens, n; /* rmsnorm: rows and row length */
};

#define TOKENS 512u
#define HIDDEN 4096u
#define VOCAB 16384u /* x 2048 F32 = 128 MiB + : the table spans two bindings */
#define EMB_DIM 2048u
#define FFN 11008u
#define LOGITS 151936u /* Qwen vocab, 8 rows of logits */

static enum vkg_status ctx_new(void **ctx, struct norm_ctx **c)
{
    *c = calloc(1, sizeof **c);
    if (!*c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = *c;
    return VKG_OK;
}

static void down(void *ctx)
{
    struct norm_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->a);
    vkg_buffer_free(c->b);
    vkg_buffer_free(c->c);
    vkg_buffer_free(c->d);
    free(c);
}

/* ---- embedding: ids spread over the whole table ---- */
static enum vkg_status setup_embed(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                   enum vkg_dtype dt)
{
    struct norm_ctx *c;
    uint64_t row;
    VKG_TRY(ctx_new(ctx, &c));
    c->dt = dt;
    VKG_TRY(vkg_dtype_bytes(dt, EMB_DIM, &row));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)VOCAB * row, "bench table", &c->a));
    int32_t ids[TOKENS];
    for (uint32_t t = 0; t < TOKENS; t++) ids[t] = (int32_t)((t * 2654435761u) % VOCAB);
    VKG_TRY(vkg_buffer_create(dev, sizeof ids, VKG_MEM_DEVICE, "bench ids", &c->b));
    VKG_TRY(vkg_buffer_upload(dev, vkg_buffer_view(c->b), ids, sizeof ids));
    VKG_TRY(vkg_bench_buffer(dev, (uint64_t)TOKENS * EMB_DIM * 4, "bench hidden", &c->c));
    *bytes = (uint64_t)TOKENS * (row + EMB_DIM * 4 + 4);
    *flops = (uint64_t)TOKENS * EMB_DIM;
    return VKG_OK;
}

static enum vkg_status rec_embed(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_embed(cmd, vkg_buffer_view(c->a), c->dt, VOCAB, EMB_DIM, vkg_buffer_view(c->b), TOKENS, 1.0f,
                        vkg_buffer_view(c->c));
}

#define SETUP_EMBED(name, dt)                                                             \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_embed(d, x, b, f, dt);                                               \
    }
SETUP_EMBED(s_emb_f32, VKG_DTYPE_F32)
SETUP_EMBED(s_emb_f16, VKG_DTYPE_F16)
SETUP_EMBED(s_emb_bf16, VKG_DTYPE_BF16)
SETUP_EMBED(s_emb_q8_0, VKG_DTYPE_Q8_0)
SETUP_EMBED(s_emb_q4, VKG_DTYPE_Q4)
SETUP_EMBED(s_emb_q4_1, VKG_DTYPE_Q4_1)
SETUP_EMBED(s_emb_q5_0, VKG_DTYPE_Q5_0)
SETUP_EMBED(s_emb_q5_1, VKG_DTYPE_Q5_1)
SETUP_EMBED(s_emb_q4_k, VKG_DTYPE_Q4_K)
SETUP_EMBED(s_emb_q5_k, VKG_DTYPE_Q5_K)
SETUP_EMBED(s_emb_q6_k, VKG_DTYPE_Q6_K)

/* ---- RMSNorm [512][4096] ---- */
static enum vkg_status setup_rms(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, int tier,
                                 int add, uint32_t tokens, uint32_t n)
{
    struct norm_ctx *c;
    uint64_t m = (uint64_t)tokens * n;
    VKG_TRY(ctx_new(ctx, &c));
    c->tier = tier;
    c->tokens = tokens;
    c->n = n;
    VKG_TRY(vkg_bench_random_f32(dev, m, -2, 2, "bench x", &c->a));
    VKG_TRY(vkg_bench_random_f32(dev, n, 0, 2, "bench w", &c->b));
    VKG_TRY(vkg_bench_buffer(dev, m * 4, "bench y", &c->c));
    if (add) VKG_TRY(vkg_bench_random_f32(dev, m, -2, 2, "bench residual", &c->d));
    *bytes = m * 4 * (add ? 4 : 2) + n * 4;
    *flops = m * (add ? 5 : 4);
    return VKG_OK;
}

static enum vkg_status rec_rms(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    int saved = cmd->dev->use.subgroup_arith, lane = cmd->dev->use.lane_tier;
    cmd->dev->use.subgroup_arith = c->tier >= 1 && saved; /* without subgroups every case is the shared tier */
    cmd->dev->use.lane_tier = c->tier >= 2 && cmd->dev->use.lane_ok;
    int texel = cmd->dev->use.texel;
    cmd->dev->use.texel = c->tier == 3 && texel; /* tier 2: the lane kernel's storage reads */
    struct vkg_rmsnorm_args a = { .x = vkg_buffer_view(c->a),
                                  .w = vkg_buffer_view(c->b),
                                  .y = vkg_buffer_view(c->c),
                                  .tokens = c->tokens,
                                  .group = 1,
                                  .n = c->n,
                                  .x_stride = c->n,
                                  .y_stride = c->n,
                                  .eps = 1e-6f };
    if (c->d) a.residual = vkg_buffer_view(c->d);
    enum vkg_status s = vkg_op_rmsnorm_ex(cmd, &a);
    cmd->dev->use.subgroup_arith = saved;
    cmd->dev->use.lane_tier = lane;
    cmd->dev->use.texel = texel;
    return s;
}

#define SETUP_RMS_N(name, tier, add, tokens, n)                                           \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_rms(d, x, b, f, tier, add, tokens, n);                               \
    }
#define SETUP_RMS(name, tier, add) SETUP_RMS_N(name, tier, add, TOKENS, HIDDEN)
SETUP_RMS(s_rms, 0, 0)
SETUP_RMS(s_rms_add, 0, 1)
SETUP_RMS(s_rms_sg, 1, 0)
SETUP_RMS(s_rms_add_sg, 1, 1)
SETUP_RMS(s_rms_lane, 2, 0)
SETUP_RMS(s_rms_add_lane, 2, 1)
SETUP_RMS_N(s_rms_add_lane1, 2, 1, 1, 576) /* one token of SmolLM2: what a decode step's launch costs */
SETUP_RMS(s_rms_lane_tx, 3, 0)
SETUP_RMS(s_rms_add_lane_tx, 3, 1)
SETUP_RMS_N(s_rms_add_lane1_tx, 3, 1, 1, 576)

/* ---- SwiGLU / GeGLU on a fused gate_up [512][2*11008] ---- */
static enum vkg_status s_glu(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct norm_ctx *c;
    uint64_t m = (uint64_t)TOKENS * FFN;
    VKG_TRY(ctx_new(ctx, &c));
    VKG_TRY(vkg_bench_random_f32(dev, 2 * m, -4, 4, "bench gate_up", &c->a));
    VKG_TRY(vkg_bench_buffer(dev, m * 4, "bench act", &c->b));
    *bytes = m * 12;
    *flops = m * 6;
    return VKG_OK;
}

static enum vkg_status rec_swiglu(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_glu_fused(cmd, VKG_GLU_SWIGLU, vkg_buffer_view(c->a), vkg_buffer_view(c->b), TOKENS, FFN);
}

static enum vkg_status rec_geglu(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_glu_fused(cmd, VKG_GLU_GEGLU, vkg_buffer_view(c->a), vkg_buffer_view(c->b), TOKENS, FFN);
}
/* ggml's table GELU (VKGRM_GELU_F16) */
static enum vkg_status rec_geglu_f16(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_glu_fused(cmd, VKG_GLU_GEGLU_F16, vkg_buffer_view(c->a), vkg_buffer_view(c->b), TOKENS, FFN);
}

/* ---- element-wise: softcap over 8 logit rows, add / scale on [512][4096] ---- */
static enum vkg_status setup_ew(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, uint64_t n,
                                int two)
{
    struct norm_ctx *c;
    VKG_TRY(ctx_new(ctx, &c));
    VKG_TRY(vkg_bench_random_f32(dev, n, -60, 60, "bench a", &c->a));
    if (two) VKG_TRY(vkg_bench_random_f32(dev, n, -60, 60, "bench b", &c->b));
    VKG_TRY(vkg_bench_buffer(dev, n * 4, "bench out", &c->c));
    *bytes = n * 4 * (two ? 3 : 2);
    *flops = n;
    return VKG_OK;
}

static enum vkg_status s_softcap(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_ew(d, x, b, f, 8ull * LOGITS, 0);
}
static enum vkg_status s_add(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_ew(d, x, b, f, (uint64_t)TOKENS * HIDDEN, 1);
}
static enum vkg_status s_scale(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_ew(d, x, b, f, (uint64_t)TOKENS * HIDDEN, 0);
}

static enum vkg_status rec_softcap(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_softcap(cmd, vkg_buffer_view(c->a), vkg_buffer_view(c->c), 8ull * LOGITS, 30.0f);
}
static enum vkg_status rec_add(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_add(cmd, vkg_buffer_view(c->a), vkg_buffer_view(c->b), vkg_buffer_view(c->c),
                      (uint64_t)TOKENS * HIDDEN);
}
static enum vkg_status rec_scale(struct vkg_cmd *cmd, void *ctx)
{
    struct norm_ctx *c = ctx;
    return vkg_op_scale(cmd, vkg_buffer_view(c->a), vkg_buffer_view(c->c), (uint64_t)TOKENS * HIDDEN, 0.5f);
}

static const struct vkg_bench_case g_cases[] = {
    { "embed_f32", "512 ids, 16384x2048 F32 (2 windows)", s_emb_f32, rec_embed, down },
    { "embed_f16", "512 ids, 16384x2048 F16", s_emb_f16, rec_embed, down },
    { "embed_bf16", "512 ids, 16384x2048 BF16", s_emb_bf16, rec_embed, down },
    { "embed_q8_0", "512 ids, 16384x2048 Q8_0", s_emb_q8_0, rec_embed, down },
    { "embed_q4", "512 ids, 16384x2048 Q4", s_emb_q4, rec_embed, down },
    { "embed_q4_1", "512 ids, 16384x2048 Q4_1", s_emb_q4_1, rec_embed, down },
    { "embed_q5_0", "512 ids, 16384x2048 Q5_0", s_emb_q5_0, rec_embed, down },
    { "embed_q5_1", "512 ids, 16384x2048 Q5_1", s_emb_q5_1, rec_embed, down },
    { "embed_q4_k", "512 ids, 16384x2048 Q4_K", s_emb_q4_k, rec_embed, down },
    { "embed_q5_k", "512 ids, 16384x2048 Q5_K", s_emb_q5_k, rec_embed, down },
    { "embed_q6_k", "512 ids, 16384x2048 Q6_K", s_emb_q6_k, rec_embed, down },
    { "rmsnorm", "512x4096 shared-mem", s_rms, rec_rms, down },
    { "rmsnorm_add", "512x4096 +residual shared-mem", s_rms_add, rec_rms, down },
    { "rmsnorm_sg", "512x4096 subgroup", s_rms_sg, rec_rms, down },
    { "rmsnorm_add_sg", "512x4096 +residual subgroup", s_rms_add_sg, rec_rms, down },
    { "rmsnorm_lane", "512x4096 lane (CPU driver)", s_rms_lane, rec_rms, down },
    { "rmsnorm_add_lane", "512x4096 +residual lane (CPU driver)", s_rms_add_lane, rec_rms, down },
    { "rmsnorm_add_lane", "1x576 +residual lane (CPU driver)", s_rms_add_lane1, rec_rms, down },
    { "rmsnorm_lane_tx", "512x4096 lane, texel reads", s_rms_lane_tx, rec_rms, down },
    { "rmsnorm_add_lane_tx", "512x4096 +residual lane, texel reads", s_rms_add_lane_tx, rec_rms, down },
    { "rmsnorm_add_lane_tx", "1x576 +residual lane, texel reads", s_rms_add_lane1_tx, rec_rms, down },
    { "swiglu", "512x11008 fused gate_up", s_glu, rec_swiglu, down },
    { "geglu", "512x11008 fused gate_up", s_glu, rec_geglu, down },
    { "geglu_f16", "512x11008 fused gate_up, ggml's table GELU", s_glu, rec_geglu_f16, down },
    { "softcap", "8x151936 cap 30", s_softcap, rec_softcap, down },
    { "add", "512x4096", s_add, rec_add, down },
    { "scale", "512x4096", s_scale, rec_scale, down },
};

const struct vkg_bench_case *vkg_bench_norm(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
