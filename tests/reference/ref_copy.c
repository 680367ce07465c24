/* ref_copy.c — see ref_copy.h. */
#include "ref_copy.h"

void ref_copy_strided(const uint32_t *src, uint64_t src_row, uint64_t src_block, uint32_t *dst, uint64_t dst_row,
                      uint64_t dst_block, uint32_t cols, uint32_t rows, uint32_t blocks)
{
    for (uint64_t a = 0; a < blocks; a++)
        for (uint64_t b = 0; b < rows; b++)
            for (uint64_t i = 0; i < cols; i++)
                dst[a * dst_block + b * dst_row + i] = src[a * src_block + b * src_row + i];
}
