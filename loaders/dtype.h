/* dtype.h — element types of tensors, their sizes, and host f16/bf16 conversions.
 *
 * One table (VKG_DTYPE_LIST) gives every type its safetensors name and its
 * storage as "blocks": block_size elements stored in block_bytes bytes. Plain
 * types are blocks of one element (F32: 1 element, 4 bytes); quantized device
 * formats group 32 values with one f16 scale (Q8_0: 34 bytes, Q4: 18 bytes,
 * laid out like ggml Q8_0 / Q4_0); the other ggml types are read as stored
 * in GGUF files, byte for byte as ggml's block_q4_1 (f16 d, f16 m, 16 nibble
 * bytes), block_q5_0 (f16 d, 4 bytes of 5th bits, 16 nibble bytes),
 * block_q5_1 (d, m, 5th bits, nibbles) and the 256-value super-blocks
 * block_q4_K (f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 nibble
 * bytes), block_q5_K (as Q4_K + 32 bytes of 5th bits before the nibbles) and
 * block_q6_K (128 low-nibble bytes, 64 bytes of 2-bit highs, 16 int8 scales,
 * f16 d); sub-byte safetensors types pack whole
 * bytes (F4: 2 elements per byte, F6: 4 elements per 3 bytes). A tensor's byte
 * size is therefore n_elements / block_size * block_bytes, and a count that is
 * not a multiple of block_size cannot be stored (safetensors' MisalignedSlice).
 *
 * The f16/bf16 helpers are the CPU references for the GPU conversion shaders:
 * float -> half rounds to nearest, ties to even; NaN stays NaN (quiet), and
 * values beyond the largest finite half become infinity. */
#ifndef VKG_DTYPE_H
#define VKG_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

/* X(enum suffix, safetensors name or NULL, block_size, block_bytes) */
#define VKG_DTYPE_LIST(X)               \
    X(F32, "F32", 1, 4)                 \
    X(F16, "F16", 1, 2)                 \
    X(BF16, "BF16", 1, 2)               \
    X(Q8_0, NULL, 32, 34)               \
    X(Q4, NULL, 32, 18)                 \
    X(Q4_1, NULL, 32, 20)               \
    X(Q5_0, NULL, 32, 22)               \
    X(Q5_1, NULL, 32, 24)               \
    X(Q4_K, NULL, 256, 144)             \
    X(Q5_K, NULL, 256, 176)             \
    X(Q6_K, NULL, 256, 210)             \
    X(F64, "F64", 1, 8)                 \
    X(I64, "I64", 1, 8)                 \
    X(U64, "U64", 1, 8)                 \
    X(I32, "I32", 1, 4)                 \
    X(U32, "U32", 1, 4)                 \
    X(I16, "I16", 1, 2)                 \
    X(U16, "U16", 1, 2)                 \
    X(I8, "I8", 1, 1)                   \
    X(U8, "U8", 1, 1)                   \
    X(BOOL, "BOOL", 1, 1)               \
    X(F8_E4M3, "F8_E4M3", 1, 1)         \
    X(F8_E5M2, "F8_E5M2", 1, 1)         \
    X(F8_E8M0, "F8_E8M0", 1, 1)         \
    X(F8_E4M3FNUZ, "F8_E4M3FNUZ", 1, 1) \
    X(F8_E5M2FNUZ, "F8_E5M2FNUZ", 1, 1) \
    X(F6_E2M3, "F6_E2M3", 4, 3)         \
    X(F6_E3M2, "F6_E3M2", 4, 3)         \
    X(F4, "F4", 2, 1)                   \
    X(C64, "C64", 1, 8)

enum vkg_dtype {
    VKG_DTYPE_UNKNOWN = -1, /* returned by vkg_dtype_from_safetensors for an unknown name */
#define VKG_X_DTYPE_ENUM(id, st, bs, bb) VKG_DTYPE_##id,
    VKG_DTYPE_LIST(VKG_X_DTYPE_ENUM)
#undef VKG_X_DTYPE_ENUM
        VKG_DTYPE_COUNT
};

/* "BF16", "Q8_0", ...; "UNKNOWN" for a value outside the table. */
const char *vkg_dtype_name(enum vkg_dtype dt);
/* Safetensors dtype string ("BF16") -> enum; VKG_DTYPE_UNKNOWN when not a
 * safetensors dtype (Q8_0 and Q4 are ours, never read from a file). */
enum vkg_dtype vkg_dtype_from_safetensors(const char *name);
/* Elements per block (1 for plain types) and bytes per block; 0 for an invalid dtype. */
uint32_t vkg_dtype_block_size(enum vkg_dtype dt);
uint32_t vkg_dtype_block_bytes(enum vkg_dtype dt);
/* Bytes of n_elements values. VKG_ERR_FORMAT when n_elements is not a multiple
 * of the block size, VKG_ERR_OVERFLOW when the size exceeds uint64_t,
 * VKG_ERR_INVALID_ARG for an invalid dtype. Records no error detail: the caller
 * knows which file and tensor to name. */
enum vkg_status vkg_dtype_bytes(enum vkg_dtype dt, uint64_t n_elements, uint64_t *out);
/* A block-quantized type the kernels read as stored (Q8_0, Q4 = ggml Q4_0, Q4_1,
 * Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). */
bool vkg_dtype_is_block(enum vkg_dtype dt);
/* True for the dtypes the weight upload reads: F32, F16, BF16, and the block
 * types (only GGUF files hold them; they are uploaded as stored). */
bool vkg_dtype_is_loadable(enum vkg_dtype dt);

/* n values (a multiple of the block size) stored as dt (a loadable dtype, little-endian as in the
 * files) -> floats, exactly as ggml's dequantize_row_* computes them (F16, BF16: widened; F32: copied).
 * VKG_ERR_INVALID_ARG for another dtype or a partial block; records no error detail. */
enum vkg_status vkg_dtype_dequantize(enum vkg_dtype dt, const void *src, uint64_t n, float *out);

float vkg_f16_to_f32(uint16_t h);
uint16_t vkg_f32_to_f16(float f); /* round to nearest even */
float vkg_bf16_to_f32(uint16_t b);
uint16_t vkg_f32_to_bf16(float f); /* round to nearest even */

#endif
