/* op_table.h — every GPU op: one row (enum id, SPIR-V variant, storage
 * bindings, push-constant struct, workgroup size). The rows become the
 * kernel descriptors (struct vkg_kernel, runtime/vk/pipeline.h) that the
 * Vulkan layer builds pipelines from; it never sees an op id. Parallel
 * tables elsewhere (bench cases) are checked against VKG_OP_COUNT. */
#ifndef VKG_OP_TABLE_H
#define VKG_OP_TABLE_H

#include <stdint.h>

#include "command.h"
#include "pipeline.h"

/* Each op family keeps its push structs and its rows (VKG_OPS_<FAMILY>(X))
 * in push_<family>.h, the one header that both C and the shaders include. */
#include "push_convert.h"
#include "push_norm.h"
#include "push_rope.h"
#include "push_matmul.h"
#include "push_attention.h"
#include "push_moe.h"
#include "push_sample.h"

/* clang-format off */
#define VKG_OP_LIST(X) \
    VKG_OPS_CONVERT(X) VKG_OPS_NORM(X) VKG_OPS_ROPE(X) VKG_OPS_MATMUL(X) VKG_OPS_ATTENTION(X) VKG_OPS_MOE(X) VKG_OPS_SAMPLE(X)

enum vkg_op {
#define VKG_X_OP_ENUM(id, spv, nb, push, ls) VKG_OP_##id,
    VKG_OP_LIST(VKG_X_OP_ENUM)
#undef VKG_X_OP_ENUM
    VKG_OP_COUNT
};
/* clang-format on */

/* The op's kernel descriptor (name = SPIR-V variant, bindings, push size,
 * local size); NULL when op is out of range. */
const struct vkg_kernel *vkg_op_kernel(enum vkg_op op);

/* vkg_cmd_dispatch / vkg_cmd_dispatch_1d of the op's kernel. */
enum vkg_status vkg_cmd_dispatch_op(struct vkg_cmd *c, enum vkg_op op, const struct vkg_view *views, uint32_t n_views,
                                    const void *push, uint32_t gx, uint32_t gy, uint32_t gz);
/* vkg_cmd_dispatch_op with the kernel specialized (constants 1 = s1, 2 = s2, 3 = s3). */
enum vkg_status vkg_cmd_dispatch_op_spec(struct vkg_cmd *c, enum vkg_op op, uint32_t s1, uint32_t s2, uint32_t s3,
                                         const struct vkg_view *views, uint32_t n_views, const void *push, uint32_t gx,
                                         uint32_t gy, uint32_t gz);
enum vkg_status vkg_cmd_dispatch_op_1d(struct vkg_cmd *c, enum vkg_op op, const struct vkg_view *views,
                                       uint32_t n_views, const void *push, uint64_t n_groups);

#endif
