/* bench_sample.c — bench cases of the sample family: argmax and sampling over
 * logits [rows][151936] f32. GB/s counts the logits once (bytes of logits per
 * second of the whole pipeline), whatever the number of passes. The internal
 * passes (argmax_final, sample_init, sample_hist, ...) have no standalone
 * meaning, so each op row is covered by the pipeline it belongs to.
 * Logits are model-like (roughly normal, sd 2) except in the "uniform" case:
 * uniform in [-8, 8) puts a quarter of the vocab in the first top-k digit's
 * bin, the candidate list overflows and every radix pass reads the logits;
 * "with a head": 30 tokens per row 6..12 above the rest, as a language model's
 * (a top-p cut then lies among few logits and the candidate list is short). */
#include <stdlib.h>

#include "bench.h"
#include "ops_sample.h"
#include "sampler.h"

#define VOCAB 151936u

struct sample_ctx {
    struct vkg_buffer *logits, *params, *work, *tokens, *probs;
    uint32_t rows, flags; /* flags: vkg_sampler_flags of the rows */
    int greedy_op;        /* vkg_op_argmax instead of vkg_op_sample */
    int tier;             /* -1: the device's; 0: scalar reductions; 1: subgroup, 256-wide (when the device has them);
                 2: the lane tier (workgroups of VKG_SAMPLE_LANE_WG, texel reads; when the device can) */
};

/* n logits, each 2 * (u1 + u2 + u3 - 1.5) from a fixed xorshift stream. */
static enum vkg_status model_like_logits(struct vkg_device *dev, uint64_t n, int head, struct vkg_buffer **out)
{
    float *x = malloc(n * 4);
    if (!x) return vkg_error(VKG_ERR_NOMEM, "bench logits (%llu floats)", (unsigned long long)n);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < n; i++) {
        float v = 0;
        for (int k = 0; k < 3; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            v += (float)((s >> 40) / 16777216.0);
        }
        x[i] = 2.0f * (v - 1.5f);
    }
    for (uint64_t r = 0; head && r < n / VOCAB; r++) /* a language model's head: 30 tokens 6..12 above the rest */
        for (int h = 0; h < 30; h++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            x[r * VOCAB + (s >> 11) % VOCAB] += 6.0f + (float)((s >> 40) % 7);
        }
    enum vkg_status st = vkg_buffer_create(dev, n * 4, VKG_MEM_DEVICE, "bench logits", out);
    if (st == VKG_OK) st = vkg_buffer_upload(dev, vkg_buffer_view(*out), x, n * 4);
    free(x);
    return st;
}

static enum vkg_status setup_generic(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                     uint32_t rows, const struct vkg_sampler *s, int kind)
{
    struct sample_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    c->rows = rows;
    c->greedy_op = s == NULL;
    c->tier = -1;
    if (kind == 1) VKG_TRY(vkg_bench_random_f32(dev, (uint64_t)rows * VOCAB, -8, 8, "bench logits", &c->logits));
    else VKG_TRY(model_like_logits(dev, (uint64_t)rows * VOCAB, kind == 2, &c->logits));
    VKG_TRY(vkg_bench_buffer(dev, vkg_sample_workspace_bytes(rows, VOCAB), "bench sample work", &c->work));
    VKG_TRY(vkg_bench_buffer(dev, rows * 4, "bench tokens", &c->tokens));
    VKG_TRY(vkg_bench_buffer(dev, rows * 4, "bench probs", &c->probs));
    VKG_TRY(
        vkg_buffer_create(dev, rows * sizeof(struct vkg_sample_params), VKG_MEM_DEVICE, "bench params", &c->params));
    struct vkg_sample_params p[32];
    for (uint32_t r = 0; r < rows && s; r++) p[r] = vkg_sampler_row(s, r, 0);
    if (s) VKG_TRY(vkg_buffer_upload(dev, vkg_buffer_view(c->params), p, rows * sizeof p[0]));
    if (s) c->flags = vkg_sampler_flags(p, rows);
    *bytes = (uint64_t)rows * VOCAB * 4;
    *flops = 0;
    return VKG_OK;
}

static enum vkg_status rec_op(struct vkg_cmd *cmd, struct sample_ctx *c)
{
    if (c->greedy_op)
        return vkg_op_argmax(cmd, vkg_buffer_view(c->logits), vkg_buffer_view(c->work), vkg_buffer_view(c->tokens),
                             vkg_buffer_view(c->probs), c->rows, VOCAB);
    return vkg_op_sample(cmd, vkg_buffer_view(c->logits), vkg_buffer_view(c->params), vkg_buffer_view(c->work),
                         vkg_buffer_view(c->tokens), vkg_buffer_view(c->probs), c->rows, VOCAB, c->flags);
}

/* Records with the case's tier (the launchers pick it from dev->use at record time). */
static enum vkg_status rec(struct vkg_cmd *cmd, void *ctx)
{
    struct sample_ctx *c = ctx;
    struct vkg_device *d = cmd->dev;
    int saved = d->use.subgroup_arith, lane = d->use.lane_tier, texel = d->use.texel;
    if (c->tier == 0) d->use.subgroup_arith = 0;
    if (c->tier == 0 || c->tier == 1) d->use.lane_tier = 0;
    if (c->tier == 2) d->use.lane_tier = d->use.lane_ok, d->use.texel = d->info.max_texel_elements >= (1u << 20);
    enum vkg_status s = rec_op(cmd, c);
    d->use.subgroup_arith = saved, d->use.lane_tier = lane, d->use.texel = texel;
    return s;
}

static void down(void *ctx)
{
    struct sample_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->logits);
    vkg_buffer_free(c->params);
    vkg_buffer_free(c->work);
    vkg_buffer_free(c->tokens);
    vkg_buffer_free(c->probs);
    free(c);
}

static const struct vkg_sampler g_temp = { .temperature = 0.8f, .top_p = 1.0f, .seed = 1 };
static const struct vkg_sampler g_topk_topp = { .temperature = 0.8f, .top_k = 50, .top_p = 0.95f, .seed = 1 };
static const struct vkg_sampler g_topp = { .temperature = 0.8f, .top_p = 0.9f, .seed = 1 };
static const struct vkg_sampler g_greedy = { .temperature = 0.0f, .top_p = 1.0f };

#define SETUP_TIER(name, rows, sampler, kind, tier_)                                      \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        VKG_TRY(setup_generic(d, x, b, f, rows, sampler, kind));                          \
        ((struct sample_ctx *)*x)->tier = tier_;                                          \
        return VKG_OK;                                                                    \
    }
/* rows named by the 256-wide ops measure those, on every device */
#define SETUP(name, rows, sampler, kind) SETUP_TIER(name, rows, sampler, kind, 1)
SETUP_TIER(s_argmax1, 1, NULL, 0, 0)
SETUP_TIER(s_argmax8, 8, NULL, 0, 0)
SETUP_TIER(s_argmax32, 32, NULL, 0, 0)
SETUP_TIER(s_argmax1_sg, 1, NULL, 0, 1)
SETUP_TIER(s_argmax8_sg, 8, NULL, 0, 1)
SETUP_TIER(s_argmax32_sg, 32, NULL, 0, 1)
SETUP_TIER(s_greedy32, 32, &g_greedy, 0, 0)
SETUP_TIER(s_greedy32_sg, 32, &g_greedy, 0, 1)
SETUP_TIER(s_argmax1_lane, 1, NULL, 0, 2)
SETUP_TIER(s_argmax32_lane, 32, NULL, 0, 2)
SETUP_TIER(s_greedy32_lane, 32, &g_greedy, 0, 2)
SETUP_TIER(s_temp1_lane, 1, &g_temp, 0, 2)
SETUP_TIER(s_temp32_lane, 32, &g_temp, 0, 2)
SETUP_TIER(s_kp32_lane, 32, &g_topk_topp, 0, 2)
SETUP_TIER(s_p32_lane, 32, &g_topp, 0, 2)
SETUP_TIER(s_kp32_uniform_lane, 32, &g_topk_topp, 1, 2)
SETUP_TIER(s_p32_head_lane, 32, &g_topp, 2, 2)
SETUP_TIER(s_p32_head, 32, &g_topp, 2, 1)
SETUP(s_temp1, 1, &g_temp, 0)
SETUP(s_temp8, 8, &g_temp, 0)
SETUP(s_temp32, 32, &g_temp, 0)
SETUP(s_kp1, 1, &g_topk_topp, 0)
SETUP(s_kp8, 8, &g_topk_topp, 0)
SETUP(s_kp32, 32, &g_topk_topp, 0)
SETUP(s_p32, 32, &g_topp, 0)
SETUP(s_kp32_uniform, 32, &g_topk_topp, 1)

static const struct vkg_bench_case g_cases[] = {
    { "argmax_partial", "151936x1 F32 argmax, scalar", s_argmax1, rec, down },
    { "argmax_partial", "151936x8 F32 argmax, scalar", s_argmax8, rec, down },
    { "argmax_partial", "151936x32 F32 argmax, scalar", s_argmax32, rec, down },
    { "argmax_final", "151936x32 F32 argmax, scalar (same pipeline)", s_argmax32, rec, down },
    { "argmax_partial_sg", "151936x1 F32 argmax, subgroup", s_argmax1_sg, rec, down },
    { "argmax_partial_sg", "151936x8 F32 argmax, subgroup", s_argmax8_sg, rec, down },
    { "argmax_partial_sg", "151936x32 F32 argmax, subgroup", s_argmax32_sg, rec, down },
    { "argmax_final_sg", "151936x32 F32 argmax, subgroup (same pipeline)", s_argmax32_sg, rec, down },
    { "sample_init", "151936x32 F32 sample T=0 (greedy rows), scalar", s_greedy32, rec, down },
    { "sample_init_sg", "151936x32 F32 sample T=0 (greedy rows), subgroup", s_greedy32_sg, rec, down },
    { "sample_mass", "151936x1 F32 sample T=0.8", s_temp1, rec, down },
    { "sample_mass", "151936x8 F32 sample T=0.8", s_temp8, rec, down },
    { "sample_draw", "151936x32 F32 sample T=0.8", s_temp32, rec, down },
    { "sample_hist", "151936x1 F32 sample T=0.8 top_k=50 top_p=0.95", s_kp1, rec, down },
    { "sample_hist", "151936x8 F32 sample T=0.8 top_k=50 top_p=0.95", s_kp8, rec, down },
    { "sample_hist", "151936x32 F32 sample T=0.8 top_k=50 top_p=0.95", s_kp32, rec, down },
    { "sample_select", "151936x32 F32 sample T=0.8 top_p=0.9", s_p32, rec, down },
    { "sample_select", "151936x32 F32 with a head, sample T=0.8 top_p=0.9", s_p32_head, rec, down },
    { "sample_compact", "151936x32 F32 uniform sample T=0.8 top_k=50 top_p=0.95", s_kp32_uniform, rec, down },
    /* the lane tier (CPU drivers): the same pipelines in workgroups of one SIMD slice */
    { "argmax_partial_lane", "151936x1 F32 argmax, lane tier", s_argmax1_lane, rec, down },
    { "argmax_partial_lane", "151936x32 F32 argmax, lane tier", s_argmax32_lane, rec, down },
    { "argmax_final_lane", "151936x32 F32 argmax, lane tier (same pipeline)", s_argmax32_lane, rec, down },
    { "sample_init_lane", "151936x32 F32 sample T=0 (greedy rows), lane tier", s_greedy32_lane, rec, down },
    { "sample_mass_lane", "151936x1 F32 sample T=0.8, lane tier", s_temp1_lane, rec, down },
    { "sample_draw_lane", "151936x32 F32 sample T=0.8, lane tier", s_temp32_lane, rec, down },
    { "sample_hist_lane", "151936x32 F32 sample T=0.8 top_k=50 top_p=0.95, lane tier", s_kp32_lane, rec, down },
    { "sample_select_lane", "151936x32 F32 sample T=0.8 top_p=0.9, lane tier", s_p32_lane, rec, down },
    { "sample_select_lane", "151936x32 F32 with a head, sample T=0.8 top_p=0.9, lane tier", s_p32_head_lane, rec,
      down },
    { "sample_compact_lane", "151936x32 F32 uniform sample T=0.8 top_k=50 top_p=0.95, lane tier", s_kp32_uniform_lane,
      rec, down },
};

const struct vkg_bench_case *vkg_bench_sample(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
