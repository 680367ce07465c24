/* push_convert.h — push constants and op rows of convert / copy / fill and
 * the strided block copy (C and GLSL: push_types.h). */
#ifndef VKG_PUSH_CONVERT_H
#define VKG_PUSH_CONVERT_H

#include "push_types.h"

struct vkg_push_convert {
    uint32_t n;       /* elements (convert) or 32-bit words (copy, fill) */
    uint32_t src_off; /* first element inside the bound source window */
    uint32_t dst_off; /* first element inside the bound destination window */
    uint32_t value;   /* fill: the 32-bit pattern */
};

/* copy_strided: for a < blocks, b < rows, i < cols
 *   dst[dst_off + a*dst_block + b*dst_row + i] = src[src_off + a*src_block + b*src_row + i]
 * in 32-bit words inside the bound windows; blocks * rows * cols < 2^31. */
struct vkg_push_copy_strided {
    uint32_t cols, rows, blocks;
    uint32_t src_off, src_row, src_block;
    uint32_t dst_off, dst_row, dst_block;
};

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_CONVERT(X)                                              \
    X(CONVERT_BF16_F32, convert_bf16_f32, 2, vkg_push_convert, 256)     \
    X(CONVERT_F16_F32,  convert_f16_f32,  2, vkg_push_convert, 256)     \
    X(CONVERT_F32_F16,  convert_f32_f16,  2, vkg_push_convert, 256)     \
    X(CONVERT_F32_BF16, convert_f32_bf16, 2, vkg_push_convert, 256)     \
    X(COPY_U32,         copy_u32,         2, vkg_push_convert, 256)     \
    X(FILL_U32,         fill_u32,         1, vkg_push_convert, 256)     \
    X(COPY_STRIDED,     copy_strided,     2, vkg_push_copy_strided, 256)
/* clang-format on */

#endif
