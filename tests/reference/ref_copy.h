/* ref_copy.h — plain-C reference of the strided block copy (obvious loops). */
#ifndef VKG_REF_COPY_H
#define VKG_REF_COPY_H

#include <stdint.h>

/* For a < blocks, b < rows, i < cols:
 *   dst[a*dst_block + b*dst_row + i] = src[a*src_block + b*src_row + i]
 * (32-bit words copied as they are; strides count elements, 0 repeats). */
void ref_copy_strided(const uint32_t *src, uint64_t src_row, uint64_t src_block, uint32_t *dst, uint64_t dst_row,
                      uint64_t dst_block, uint32_t cols, uint32_t rows, uint32_t blocks);

#endif
