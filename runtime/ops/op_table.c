/* op_table.c — the op table rows, generated from VKG_OP_LIST. */
#include "op_table.h"

static const struct vkg_kernel g_ops[] = {
#define VKG_X_OP_ROW(id, spv, nb, push, ls) { #spv, nb, (uint32_t)sizeof(struct push), ls },
    VKG_OP_LIST(VKG_X_OP_ROW)
#undef VKG_X_OP_ROW
};
_Static_assert(sizeof g_ops / sizeof g_ops[0] == VKG_OP_COUNT, "op table rows");
/* Every push struct fits the 128 bytes every Vulkan device offers. */
#define VKG_X_OP_PUSH(id, spv, nb, push, ls) _Static_assert(sizeof(struct push) <= 128, #push " > 128 bytes");
VKG_OP_LIST(VKG_X_OP_PUSH)
#undef VKG_X_OP_PUSH

const struct vkg_kernel *vkg_op_kernel(enum vkg_op op) { return op < VKG_OP_COUNT ? &g_ops[op] : 0; }

enum vkg_status vkg_cmd_dispatch_op(struct vkg_cmd *c, enum vkg_op op, const struct vkg_view *views, uint32_t n_views,
                                    const void *push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    if (op >= VKG_OP_COUNT) return vkg_error(VKG_ERR_INVALID_ARG, "op %d out of range", (int)op);
    return vkg_cmd_dispatch(c, &g_ops[op], views, n_views, push, gx, gy, gz);
}

enum vkg_status vkg_cmd_dispatch_op_1d(struct vkg_cmd *c, enum vkg_op op, const struct vkg_view *views,
                                       uint32_t n_views, const void *push, uint64_t n_groups)
{
    if (op >= VKG_OP_COUNT) return vkg_error(VKG_ERR_INVALID_ARG, "op %d out of range", (int)op);
    return vkg_cmd_dispatch_1d(c, &g_ops[op], views, n_views, push, n_groups);
}

enum vkg_status vkg_cmd_dispatch_op_spec(struct vkg_cmd *c, enum vkg_op op, uint32_t s1, uint32_t s2, uint32_t s3,
                                         const struct vkg_view *views, uint32_t n_views, const void *push, uint32_t gx,
                                         uint32_t gy, uint32_t gz)
{
    if (op >= VKG_OP_COUNT) return vkg_error(VKG_ERR_INVALID_ARG, "op %d out of range", (int)op);
    return vkg_cmd_dispatch_spec(c, &g_ops[op], s1, s2, s3, views, n_views, push, gx, gy, gz);
}
