/* ref_ggml_quants.h — plain-C dequantizers of ggml's block types, written
 * from llama.cpp's ggml-quants.c dequantize_row_* (same byte layouts, same
 * f32 operation order, so the values are bit-identical to ggml's and to the
 * gguf Python package's numpy dequantizers; tests/reference/
 * ggml_quants_reference.py checks that on random blocks). */
#ifndef VKG_REF_GGML_QUANTS_H
#define VKG_REF_GGML_QUANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"

/* True for the block types dequantized here: Q8_0, Q4 (= ggml Q4_0), Q4_1,
 * Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. */
bool ref_ggml_is_block_type(enum vkg_dtype dt);

/* n values (a multiple of the dtype's block size) stored as dt -> floats. */
void ref_ggml_dequantize(enum vkg_dtype dt, const uint8_t *src, uint64_t n, float *out /* [n] */);

#endif
