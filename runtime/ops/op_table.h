/* op_table.h — every GPU op: one row (enum id, SPIR-V variant, storage
 * bindings, push-constant struct, workgroup size). Parallel tables elsewhere
 * (pipelines, bench cases) are checked against VKG_OP_COUNT at compile time. */
#ifndef VKG_OP_TABLE_H
#define VKG_OP_TABLE_H

#include <stdint.h>

/* Each op family keeps its push structs and its rows (VKG_OPS_<FAMILY>(X))
 * in runtime/push_<family>.h, next to its GLSL twin shaders/push_<family>.glsl. */
#include "push_convert.h"
#include "push_norm.h"
#include "push_matmul.h"
#include "push_attention.h"
#include "push_moe.h"
#include "push_sample.h"

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_CONVERT(X)                                              \
    X(CONVERT_BF16_F32, convert_bf16_f32, 2, vkg_push_convert, 256)     \
    X(CONVERT_F16_F32,  convert_f16_f32,  2, vkg_push_convert, 256)     \
    X(CONVERT_F32_F16,  convert_f32_f16,  2, vkg_push_convert, 256)     \
    X(CONVERT_F32_BF16, convert_f32_bf16, 2, vkg_push_convert, 256)     \
    X(COPY_U32,         copy_u32,         2, vkg_push_convert, 256)     \
    X(FILL_U32,         fill_u32,         1, vkg_push_convert, 256)

#define VKG_OP_LIST(X) \
    VKG_OPS_CONVERT(X) VKG_OPS_NORM(X) VKG_OPS_MATMUL(X) VKG_OPS_ATTENTION(X) VKG_OPS_MOE(X) VKG_OPS_SAMPLE(X)

enum vkg_op {
#define VKG_X_OP_ENUM(id, spv, nb, push, ls) VKG_OP_##id,
    VKG_OP_LIST(VKG_X_OP_ENUM)
#undef VKG_X_OP_ENUM
    VKG_OP_COUNT
};

struct vkg_op_info {
    const char *name;       /* SPIR-V variant name (vkg_spirv_find) */
    uint32_t n_bindings;    /* storage buffers at bindings 0..n-1 */
    uint32_t push_size;     /* bytes of push constants */
    uint32_t local_size;    /* local_size_x (specialization constant 0) */
};

const struct vkg_op_info *vkg_op_info(enum vkg_op op);

#endif
