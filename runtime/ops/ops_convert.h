/* ops_convert.h — launchers of the convert family: dtype conversion between
 * F32 / F16 / BF16, word copy and fill. Each splits its work into binding
 * windows when a tensor is larger than maxStorageBufferRange. */
#ifndef VKG_OPS_CONVERT_H
#define VKG_OPS_CONVERT_H

#include "command.h"
#include "dtype.h"
#include "op_table.h" /* op ids, push structs, family limits */

/* n elements of src (F32/F16/BF16) into dst (F32/F16/BF16). F32 -> F32 is a copy. */
enum vkg_status vkg_op_convert(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype src_type,
                               struct vkg_view dst, enum vkg_dtype dst_type, uint64_t n);
/* Copies `bytes` (a multiple of 4, views 4-byte aligned) with a shader. */
enum vkg_status vkg_op_copy(struct vkg_cmd *c, struct vkg_view src, struct vkg_view dst, uint64_t bytes);
/* Fills dst (size a multiple of 4, 4-byte aligned) with a 32-bit pattern. */
enum vkg_status vkg_op_fill(struct vkg_cmd *c, struct vkg_view dst, uint32_t value);

#endif
