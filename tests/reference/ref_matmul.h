/* ref_matmul.h — plain-C references of the matmul family, written from the
 * math (torch.nn.functional.linear: y = x @ W.T + b, W stored [out][in]) and
 * the block layouts of loaders/dtype.h, not from the shaders. */
#ifndef VKG_REF_MATMUL_H
#define VKG_REF_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"

/* One weight row (n_in values of wt: F32, F16, BF16, Q8_0, Q4, and the ggml
 * block types of ref_ggml_quants.h) as floats. */
void ref_weight_row(const void *row, enum vkg_dtype wt, uint32_t n_in, float *out /* [n_in] */);

/* y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o]) with double accumulation of
 * the exact products. abs_sum[t][o] = sum_i |W[o][i] * x[t][i]|: the scale
 * the tolerance of an f32-accumulating kernel is stated against. */
void ref_matmul(const void *w /* [n_out][n_in] of wt */, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in,
                const float *x /* [n_tok][x_stride] */, size_t x_stride, const float *bias /* [n_out] or NULL */,
                uint32_t n_tok, float *y /* [n_tok][y_stride] */, size_t y_stride,
                double *abs_sum /* [n_tok][n_out] or NULL */);

/* The CPU drivers' tiled layout of a rows x n_in matrix of es-byte elements, from its definition
 * (push_matmul.h, VKG_MATMUL_W_TILED, tiles of T = VKG_MATMUL_TILE_ROWS rows), element by
 * element: value i of row o goes to element T t * n_in + (kt * rt + r) * g + j, t = o / T,
 * r = o % T, rt = min(T, rows - T t), kt = i / g, j = i % g (g values per 16-byte texel of the
 * device type). */
void ref_tile_rows(uint8_t *dst, const uint8_t *src, uint32_t rows, uint32_t n_in, uint32_t es, uint32_t g);
/* Q6_K rows (nb blocks of 210 bytes each, ggml's order) in 8-row tiles with split tile columns
 * (push_matmul.h VKG_Q6K_SPLIT_*), placed byte by byte from the layout's definition: byte b of row o's
 * block kb, in field f (ql bytes 0-127, qh 128-191, scales 192-207, d 208-209; f starting at byte s_f, of
 * n_f bytes), lands at T t * nb * 210 + kb * rt * 210 + rt * s_f + r * n_f + (b - s_f), t = o / T,
 * r = o % T, rt the tile's rows. */
void ref_tile_q6k(uint8_t *dst, const uint8_t *src, uint32_t rows, uint32_t nb);

/* The project's quantizer (the rule GPU quantize.comp must follow):
 *   Q8_0: amax = max|x|, d = amax * (float)(1/127) in f32, q = round-half-away(x/d) in [-127, 127];
 *   Q4:   m = first value of largest |x|, d = m * -0.125, q = min(15, floor(x/d + 8.5));
 * d is stored as f16 (round to nearest even); d == 0 gives q = 0 (Q8_0) / 8 (Q4).
 * x/d is the exact quotient (double). tie[i] (when not NULL) is 1 where x/d is
 * within 1e-6 * max(1, |x/d|) of a .5 tie, where a kernel computing x * (1/d)
 * in f32 may land on the other side: q may differ by one there only. */
void ref_quantize(const float *x /* [n] */, uint64_t n, enum vkg_dtype dt, uint8_t *out /* [n/32] blocks */,
                  uint8_t *tie /* [n] or NULL */);
/* llama.cpp's quantize_row_q8_K_ref (ggml-quants.c) over n values (a multiple of 256), written from
 * it: per 256-value block m = the first value of largest |x|, iscale = -127 / m (f32), q =
 * min(127, nearest-even(iscale * x)) (its nearest_int), d = 1 / iscale; m == 0: d = 0, q = 0.
 * words: the XQ8 layout of push_matmul.h (n / 256 * VKG_XQ8_BLOCK_WORDS uint32); deq: d * q per
 * value in f32 (dequantize_row_q8_K), the x that an XQ8 kernel multiplies. Either may be NULL. */
void ref_quantize_xq8(const float *x /* [n] */, uint64_t n, uint32_t *words, float *deq /* [n] */);
/* llama.cpp's x86 quantize_row_q8_0 / quantize_row_q8_1 (ggml-cpu arch/x86/quants.c, the AVX2 path)
 * over n values (a multiple of 32), written from it: per 32-value block amax = max |x|, d = amax / 127
 * (f32), stored as f16; id = 127 / amax (0 where amax == 0); q = nearest-even(x * id); Q8_1's s =
 * f16(d * sum q) with d before its rounding. words: the layout of push_matmul.h's quantize_x_q8_0
 * (n / 32 * VKG_XQ8_0_BLOCK_WORDS uint32: d and s as the f32 of their halves); deq: f16(d) * q per value. */
void ref_quantize_xq8_0(const float *x /* [n] */, uint64_t n, uint32_t *words, float *deq /* [n] */);
/* Q4_1 / Q5_1 times Q8_1 x: llama.cpp adds m s per block with s = f16(d sum q), where ref_matmul over
 * ref_quantize_xq8_0's dequantized x sums m f16(d) sum q. Adds the difference, sum over blocks of
 * m (s - f16(d) sum q), to y [n_tok][y_stride] for W [n_out][n_in] of wt (row-major blocks; other
 * types: nothing to add) and x [n_tok][x_stride] (each row quantized here as ref_quantize_xq8_0). */
void ref_xq8_1_fix(const void *w, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, const float *x, size_t x_stride,
                   uint32_t n_tok, float *y, size_t y_stride);

#endif
