/* bench_convert.c — bench cases of the convert family (with the strided copy). */
#include <stdlib.h>

#include "bench.h"

struct conv_ctx {
    struct vkg_buffer *a, *b;
    uint64_t n;
    enum vkg_dtype st, dt;
};

#define N_CONVERT (32ull << 20) /* 32 Mi elements: beyond one 128 MiB binding as F32 */

static enum vkg_status setup_generic(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                     enum vkg_dtype st, enum vkg_dtype dt)
{
    struct conv_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *ctx = c;
    c->n = N_CONVERT;
    c->st = st;
    c->dt = dt;
    uint64_t ss = st == VKG_DTYPE_F32 ? 4 : 2, ds = dt == VKG_DTYPE_F32 ? 4 : 2;
    VKG_TRY(vkg_bench_buffer(dev, c->n * ss, "bench src", &c->a));
    VKG_TRY(vkg_bench_buffer(dev, c->n * ds, "bench dst", &c->b));
    *bytes = c->n * (ss + ds);
    *flops = 0;
    return VKG_OK;
}

static enum vkg_status rec(struct vkg_cmd *cmd, void *ctx)
{
    struct conv_ctx *c = ctx;
    return vkg_op_convert(cmd, vkg_buffer_view(c->a), c->st, vkg_buffer_view(c->b), c->dt, c->n);
}

static enum vkg_status rec_copy(struct vkg_cmd *cmd, void *ctx)
{
    struct conv_ctx *c = ctx;
    return vkg_op_copy(cmd, vkg_buffer_view(c->a), vkg_buffer_view(c->b), c->n * 4);
}

static enum vkg_status rec_fill(struct vkg_cmd *cmd, void *ctx)
{
    struct conv_ctx *c = ctx;
    return vkg_op_fill(cmd, vkg_buffer_view(c->b), 0);
}

static void down(void *ctx)
{
    struct conv_ctx *c = ctx;
    if (!c) return;
    vkg_buffer_free(c->a);
    vkg_buffer_free(c->b);
    free(c);
}

#define SETUP(name, st, dt)                                                               \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_generic(d, x, b, f, st, dt);                                         \
    }
SETUP(s_bf16_f32, VKG_DTYPE_BF16, VKG_DTYPE_F32)
SETUP(s_f16_f32, VKG_DTYPE_F16, VKG_DTYPE_F32)
SETUP(s_f32_f16, VKG_DTYPE_F32, VKG_DTYPE_F16)
SETUP(s_f32_bf16, VKG_DTYPE_F32, VKG_DTYPE_BF16)
SETUP(s_f32_f32, VKG_DTYPE_F32, VKG_DTYPE_F32)

static enum vkg_status s_fill(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    VKG_TRY(setup_generic(d, x, b, f, VKG_DTYPE_F32, VKG_DTYPE_F32));
    *b = N_CONVERT * 4; /* writes only */
    return VKG_OK;
}

/* copy_strided at DeepSeek-V2-Lite's MLA shapes for 512 tokens: kv_b_proj's
 * [512*16][128 + 128] rows split into k_nope ([..][192], first 128) and the
 * rotated k_pe [512][64] broadcast into the 16 heads of k. */
#define CS_ROWS (512u * 16u)

static enum vkg_status s_cs_split(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    struct conv_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *x = c;
    VKG_TRY(vkg_bench_buffer(d, (uint64_t)CS_ROWS * 256 * 4, "bench kv_b out", &c->a));
    VKG_TRY(vkg_bench_buffer(d, (uint64_t)CS_ROWS * 192 * 4, "bench k", &c->b));
    *b = (uint64_t)CS_ROWS * 128 * 8; /* read + written */
    *f = 0;
    return VKG_OK;
}

static enum vkg_status rec_cs_split(struct vkg_cmd *cmd, void *ctx)
{
    struct conv_ctx *c = ctx;
    struct vkg_copy_strided_args a = { .src = vkg_buffer_view(c->a),
                                       .dst = vkg_buffer_view(c->b),
                                       .cols = 128,
                                       .rows = CS_ROWS,
                                       .blocks = 1,
                                       .src_row = 256,
                                       .dst_row = 192 };
    return vkg_op_copy_strided(cmd, &a);
}

static enum vkg_status s_cs_bcast(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    struct conv_ctx *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "bench ctx");
    *x = c;
    VKG_TRY(vkg_bench_buffer(d, 512ull * (512 + 64) * 4, "bench kv_a out", &c->a));
    VKG_TRY(vkg_bench_buffer(d, (uint64_t)CS_ROWS * 192 * 4, "bench k", &c->b));
    *b = 512ull * 64 * 4 + (uint64_t)CS_ROWS * 64 * 4; /* k_pe read once, written per head */
    *f = 0;
    return VKG_OK;
}

static enum vkg_status rec_cs_bcast(struct vkg_cmd *cmd, void *ctx)
{
    struct conv_ctx *c = ctx;
    struct vkg_view src = vkg_view_sub(vkg_buffer_view(c->a), 512 * 4, 512ull * 576 * 4 - 512 * 4);
    struct vkg_view dst = vkg_view_sub(vkg_buffer_view(c->b), 128 * 4, (uint64_t)CS_ROWS * 192 * 4 - 128 * 4);
    struct vkg_copy_strided_args a = { .src = src,
                                       .dst = dst,
                                       .cols = 64,
                                       .rows = 16,
                                       .blocks = 512,
                                       .src_row = 0,
                                       .src_block = 576,
                                       .dst_row = 192,
                                       .dst_block = 16 * 192 };
    return vkg_op_copy_strided(cmd, &a);
}

static const struct vkg_bench_case g_cases[] = {
    { "convert_bf16_f32", "32Mi BF16->F32", s_bf16_f32, rec, down },
    { "convert_f16_f32", "32Mi F16->F32", s_f16_f32, rec, down },
    { "convert_f32_f16", "32Mi F32->F16", s_f32_f16, rec, down },
    { "convert_f32_bf16", "32Mi F32->BF16", s_f32_bf16, rec, down },
    { "copy_u32", "128 MiB", s_f32_f32, rec_copy, down },
    { "fill_u32", "128 MiB", s_fill, rec_fill, down },
    { "copy_strided", "8192x128 of rows 256 -> 192 (MLA k_nope)", s_cs_split, rec_cs_split, down },
    { "copy_strided", "512x64 -> 512x16 heads (MLA k_pe broadcast)", s_cs_bcast, rec_cs_bcast, down },
};

const struct vkg_bench_case *vkg_bench_convert(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
