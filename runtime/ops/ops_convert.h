/* ops_convert.h — launchers of the convert family: dtype conversion between
 * F32 / F16 / BF16, word copy, fill and the strided block copy. Each splits its work into binding
 * windows when a tensor is larger than maxStorageBufferRange. */
#ifndef VKG_OPS_CONVERT_H
#define VKG_OPS_CONVERT_H

#include "command.h"
#include "dtype.h"
#include "op_table.h" /* op ids, push structs, family limits */

/* n elements of src (F32/F16/BF16) into dst (F32/F16/BF16). F32 -> F32 is a copy. */
enum vkg_status vkg_op_convert(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype src_type, struct vkg_view dst,
                               enum vkg_dtype dst_type, uint64_t n);
/* Copies `bytes` (a multiple of 4, views 4-byte aligned) with a shader. */
enum vkg_status vkg_op_copy(struct vkg_cmd *c, struct vkg_view src, struct vkg_view dst, uint64_t bytes);
/* Fills dst (size a multiple of 4, 4-byte aligned) with a 32-bit pattern. */
enum vkg_status vkg_op_fill(struct vkg_cmd *c, struct vkg_view dst, uint32_t value);

/* A strided block of 4-byte elements (f32, int32), copied bit for bit:
 * for a < blocks, b < rows, i < cols
 *     dst[a*dst_block + b*dst_row + i] = src[a*src_block + b*src_row + i]
 * with element (0, 0, 0) at the start of each view (use vkg_view_sub for an
 * offset). Strides count elements; a source stride of 0 repeats the same
 * rows (broadcast). Destination elements must all differ (not checked: the
 * writes would race). blocks = 1 is a 2-D copy of rows x cols. Views larger
 * than one binding are bound in windows (by blocks, else by rows). */
struct vkg_copy_strided_args {
    struct vkg_view src, dst;    /* 4-byte aligned */
    uint32_t cols, rows, blocks; /* any 0: nothing to copy, nothing checked */
    uint64_t src_row, src_block; /* elements between rows / blocks of src (0: repeat) */
    uint64_t dst_row, dst_block; /* elements between rows / blocks of dst */
};
enum vkg_status vkg_op_copy_strided(struct vkg_cmd *c, const struct vkg_copy_strided_args *a);

#endif
