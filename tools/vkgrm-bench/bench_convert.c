/* bench_convert.c — bench cases of the convert family. */
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

#define SETUP(name, st, dt)                                                                   \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) { \
        return setup_generic(d, x, b, f, st, dt);                                             \
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

static const struct vkg_bench_case g_cases[] = {
    { "convert_bf16_f32", "32Mi BF16->F32", s_bf16_f32, rec, down },
    { "convert_f16_f32", "32Mi F16->F32", s_f16_f32, rec, down },
    { "convert_f32_f16", "32Mi F32->F16", s_f32_f16, rec, down },
    { "convert_f32_bf16", "32Mi F32->BF16", s_f32_bf16, rec, down },
    { "copy_u32", "128 MiB", s_f32_f32, rec_copy, down },
    { "fill_u32", "128 MiB", s_fill, rec_fill, down },
};

const struct vkg_bench_case *vkg_bench_convert(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
