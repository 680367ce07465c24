/* ops_rope.c — the RoPE launcher (ops_rope.h): token chunks whose windows
 * fit one binding (ops_rows.h), one invocation per rotated pair. */
#include "ops_rope.h"

#include "ops_rows.h"
#include "vk_check.h"

static uint64_t rope_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_rope *p = push;
    p->n_tokens = (uint32_t)nt;
    p->x_off = off[0];
    p->pos_off = off[1];
    return vkg_ceil_div(nt * p->n_heads * (p->rot_dim / 2), ls);
}

enum vkg_status vkg_op_rope(struct vkg_cmd *c, const struct vkg_rope_args *a)
{
    uint64_t extent = (uint64_t)(a->n_heads ? a->n_heads - 1 : 0) * a->head_stride + a->dim_off + a->rot_dim;
    if (a->rot_dim == 0 || a->rot_dim % 2 || a->n_heads == 0 || (uint64_t)a->dim_off + a->rot_dim > a->head_stride ||
        extent > a->tok_stride || a->tok_stride > UINT32_MAX)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'rope': rot_dim %u at dim %u of heads %u x stride %u in tokens of "
                         "%llu elements: rot_dim must be even and every head inside its token",
                         a->rot_dim, a->dim_off, a->n_heads, a->head_stride, (unsigned long long)a->tok_stride);
    if (a->tokens == 0) return VKG_OK;
    struct vkg_rows r[3] = { { a->x, a->tok_stride, extent, "x" },
                             { a->pos, 1, 1, "positions" },
                             { a->inv_freq, 0, a->rot_dim / 2, "inv_freq" } };
    struct vkg_push_rope p = { .n_heads = a->n_heads,
                               .head_stride = a->head_stride,
                               .tok_stride = (uint32_t)a->tok_stride,
                               .rot_dim = a->rot_dim,
                               .dim_off = a->dim_off,
                               .interleaved = a->interleaved != 0,
                               .attn_factor = a->attn_factor };
    return vkg_rows_run(c, VKG_OP_ROPE, r, 3, a->tokens, &p, a, rope_push);
}
