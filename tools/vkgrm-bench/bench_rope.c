/* bench_rope.c — bench case of the RoPE family: q [512][32][128] with
 * Llama-3 frequencies (prefill-like). Bytes count x read and written once
 * plus the positions. */
#include <stdlib.h>

#include "bench.h"
#include "ops_rope.h"
#include "rope.h"

struct rope_ctx {
    struct vkg_buffer *a, *b, *c; /* x, positions, inv_freq */
};

#define TOKENS 512u
#define HEADS 32u
#define HEAD_DIM 128u

static enum vkg_status ctx_new(void **ctx, struct rope_ctx **c)
{
    *c = calloc(1, sizeof **c);
    if (!*c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = *c;
    return VKG_OK;
}

static void down(void *ctx)
{
    struct rope_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->a);
    vkg_buffer_free(c->b);
    vkg_buffer_free(c->c);
    free(c);
}

static enum vkg_status s_rope(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct rope_ctx *c;
    uint64_t m = (uint64_t)TOKENS * HEADS * HEAD_DIM;
    VKG_TRY(ctx_new(ctx, &c));
    VKG_TRY(vkg_bench_random_f32(dev, m, -2, 2, "bench q", &c->a));
    int32_t pos[TOKENS];
    for (uint32_t t = 0; t < TOKENS; t++) pos[t] = (int32_t)t;
    VKG_TRY(vkg_buffer_create(dev, sizeof pos, VKG_MEM_DEVICE, "bench pos", &c->b));
    VKG_TRY(vkg_buffer_upload(dev, vkg_buffer_view(c->b), pos, sizeof pos));
    float inv[HEAD_DIM / 2], af;
    VKG_TRY(vkg_rope_inv_freq(VKG_ROPE_DEFAULT, HEAD_DIM, 500000.0, NULL, inv, &af));
    VKG_TRY(vkg_buffer_create(dev, sizeof inv, VKG_MEM_DEVICE, "bench inv_freq", &c->c));
    VKG_TRY(vkg_buffer_upload(dev, vkg_buffer_view(c->c), inv, sizeof inv));
    *bytes = m * 8 + sizeof pos;
    *flops = m / 2 * 8; /* per pair: angle, 4 mul, 2 add, + cos/sin counted as 1 */
    return VKG_OK;
}

static enum vkg_status rec_rope(struct vkg_cmd *cmd, void *ctx)
{
    struct rope_ctx *c = ctx;
    struct vkg_rope_args a = { .x = vkg_buffer_view(c->a),
                               .pos = vkg_buffer_view(c->b),
                               .inv_freq = vkg_buffer_view(c->c),
                               .tokens = TOKENS,
                               .n_heads = HEADS,
                               .head_stride = HEAD_DIM,
                               .tok_stride = HEADS * HEAD_DIM,
                               .rot_dim = HEAD_DIM,
                               .attn_factor = 1.0f };
    return vkg_op_rope(cmd, &a);
}

static const struct vkg_bench_case g_cases[] = {
    { "rope", "512x32x128 neox", s_rope, rec_rope, down },
};

const struct vkg_bench_case *vkg_bench_rope(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
