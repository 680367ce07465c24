/* ref_matmul.c — see ref_matmul.h. Obvious loops, doubles where it helps. */
#include "ref_matmul.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_dtype.h"
#include "ref_ggml_quants.h"
#include "push_matmul.h" /* VKG_MATMUL_TILE_ROWS: the layout's tile height, its one parameter */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); } /* little endian */

void ref_weight_row(const void *row, enum vkg_dtype wt, uint32_t n_in, float *out)
{
    const uint8_t *b = row;
    if (ref_ggml_is_block_type(wt) && wt != VKG_DTYPE_Q8_0 && wt != VKG_DTYPE_Q4) {
        ref_ggml_dequantize(wt, b, n_in, out); /* Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K */
        return;
    }
    for (uint32_t i = 0; i < n_in; i++) {
        switch (wt) {
        case VKG_DTYPE_F32: memcpy(&out[i], b + 4 * (size_t)i, 4); break;
        case VKG_DTYPE_F16: out[i] = ref_f16_to_f32(rd16(b + 2 * (size_t)i)); break;
        case VKG_DTYPE_BF16: out[i] = ref_bf16_to_f32(rd16(b + 2 * (size_t)i)); break;
        case VKG_DTYPE_Q8_0: { /* block: f16 d, 32 x int8 */
            const uint8_t *blk = b + (size_t)(i / 32) * 34;
            out[i] = ref_f16_to_f32(rd16(blk)) * (float)(int8_t)blk[2 + i % 32];
            break;
        }
        case VKG_DTYPE_Q4: { /* block: f16 d, byte j = value j (low nibble) | value j+16 (high nibble) */
            const uint8_t *blk = b + (size_t)(i / 32) * 18;
            uint32_t j = i % 32;
            int q = j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4);
            out[i] = ref_f16_to_f32(rd16(blk)) * (float)(q - 8);
            break;
        }
        default: out[i] = NAN; break;
        }
    }
}

void ref_matmul(const void *w, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, const float *x, size_t x_stride,
                const float *bias, uint32_t n_tok, float *y, size_t y_stride, double *abs_sum)
{
    size_t row_bytes = (size_t)n_in / vkg_dtype_block_size(wt) * vkg_dtype_block_bytes(wt);
    float *row = malloc((size_t)n_in * sizeof *row);
    for (uint32_t o = 0; o < n_out; o++) {
        ref_weight_row((const uint8_t *)w + o * row_bytes, wt, n_in, row);
        for (uint32_t t = 0; t < n_tok; t++) {
            double s = bias ? bias[o] : 0.0, a = 0.0;
            for (uint32_t i = 0; i < n_in; i++) {
                double pr = (double)row[i] * (double)x[t * x_stride + i];
                s += pr;
                a += fabs(pr);
            }
            y[t * y_stride + o] = (float)s;
            if (abs_sum) abs_sum[(size_t)t * n_out + o] = a + (bias ? fabs(bias[o]) : 0.0);
        }
    }
    free(row);
}

/* q for the exact quotient v = x/d, and whether v sits next to a .5 tie. */
static int near_tie(double v)
{
    double f = v - floor(v);
    return fabs(f - 0.5) <= 1e-6 * fmax(1.0, fabs(v));
}

static void quantize_q8_0(const float *x, uint8_t *blk, uint8_t *tie)
{
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float inv127 = 1.0f / 127.0f;
    float d = amax * inv127;
    uint16_t h = ref_f32_to_f16(d);
    blk[0] = (uint8_t)(h & 0xff);
    blk[1] = (uint8_t)(h >> 8);
    for (int j = 0; j < 32; j++) {
        double v = d != 0 ? (double)x[j] / (double)d : 0.0;
        double q = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5); /* half away from zero */
        if (q > 127) q = 127;
        if (q < -127) q = -127;
        blk[2 + j] = (uint8_t)(int8_t)q;
        if (tie) tie[j] = near_tie(v);
    }
}

static void quantize_q4(const float *x, uint8_t *blk, uint8_t *tie)
{
    float amax = 0, m = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            m = x[j];
        }
    float d = m * -0.125f; /* exact: a power of two */
    uint16_t h = ref_f32_to_f16(d);
    blk[0] = (uint8_t)(h & 0xff);
    blk[1] = (uint8_t)(h >> 8);
    int q[32];
    for (int j = 0; j < 32; j++) {
        double v = d != 0 ? (double)x[j] / (double)d : 0.0;
        double f = floor(v + 8.5);
        q[j] = f > 15 ? 15 : f < 0 ? 0 : (int)f;
        if (tie) tie[j] = near_tie(v);
    }
    for (int j = 0; j < 16; j++) blk[2 + j] = (uint8_t)(q[j] | (q[j + 16] << 4));
}

void ref_quantize(const float *x, uint64_t n, enum vkg_dtype dt, uint8_t *out, uint8_t *tie)
{
    uint32_t bb = dt == VKG_DTYPE_Q8_0 ? 34 : 18;
    for (uint64_t b = 0; b < n / 32; b++) {
        if (dt == VKG_DTYPE_Q8_0) quantize_q8_0(x + 32 * b, out + bb * b, tie ? tie + 32 * b : NULL);
        else quantize_q4(x + 32 * b, out + bb * b, tie ? tie + 32 * b : NULL);
    }
}

void ref_tile_rows(uint8_t *dst, const uint8_t *src, uint32_t rows, uint32_t n_in, uint32_t es, uint32_t g)
{
    for (uint32_t o = 0; o < rows; o++)
        for (uint32_t i = 0; i < n_in; i++) {
            const uint32_t T = VKG_MATMUL_TILE_ROWS;
            uint32_t t = o / T, r = o % T, rt = rows - T * t < T ? rows - T * t : T, kt = i / g, j = i % g;
            uint64_t at = (uint64_t)T * t * n_in + ((uint64_t)kt * rt + r) * g + j;
            memcpy(dst + at * es, src + ((uint64_t)o * n_in + i) * es, es);
        }
}

void ref_tile_q6k(uint8_t *dst, const uint8_t *src, uint32_t rows, uint32_t nb)
{
    const uint32_t T = VKG_MATMUL_TILE_ROWS;
    for (uint32_t o = 0; o < rows; o++)
        for (uint32_t kb = 0; kb < nb; kb++)
            for (uint32_t b = 0; b < 210; b++) {
                uint32_t t = o / T, r = o % T, rt = rows - T * t < T ? rows - T * t : T;
                uint32_t sf = b < 128 ? 0 : b < 192 ? 128 : b < 208 ? 192 : 208;
                uint32_t nf = b < 128 ? 128 : b < 192 ? 64 : b < 208 ? 16 : 2;
                uint64_t at = (uint64_t)T * t * nb * 210 + (uint64_t)kb * rt * 210 + rt * sf + r * nf + (b - sf);
                dst[at] = src[((uint64_t)o * nb + kb) * 210 + b];
            }
}

/* ggml's nearest_int: the float's low mantissa bits after adding 1.5 * 2^23 (round half to even) */
static int ref_nearest_int(float f)
{
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

void ref_quantize_xq8(const float *x, uint64_t n, uint32_t *words, float *deq)
{
    for (uint64_t b = 0; b < n / 256; b++) {
        const float *xb = x + 256 * b;
        float amax = 0, m = 0;
        for (int j = 0; j < 256; j++) {
            float ax = fabsf(xb[j]);
            if (ax > amax) {
                amax = ax;
                m = xb[j];
            }
        }
        int q[256];
        float d = 0;
        if (amax == 0) {
            memset(q, 0, sizeof q);
        } else {
            float iscale = -127.f / m;
            for (int j = 0; j < 256; j++) {
                int v = ref_nearest_int(iscale * xb[j]);
                q[j] = v < 127 ? v : 127;
            }
            d = 1 / iscale;
        }
        if (deq)
            for (int j = 0; j < 256; j++) deq[256 * b + j] = d * (float)q[j];
        if (!words) continue;
        uint32_t *w = words + 140 * b;
        memset(w, 0, 140 * sizeof *w);
        memcpy(&w[0], &d, 4);
        for (int s = 0; s < 8; s++) {
            int32_t sum = 0;
            for (int j = 0; j < 32; j++) sum += q[32 * s + j];
            w[1 + s] = (uint32_t)sum;
            for (int i = 0; i < 8; i++)
                for (int e = 0; e < 2; e++) /* q[v + 2] + q[v] * 65536, v = 32 s + 4 i + e */
                    w[12 + 16 * s + 2 * i + e] =
                        (uint32_t)(q[32 * s + 4 * i + 2 + e] + (int32_t)((uint32_t)q[32 * s + 4 * i + e] << 16));
        }
    }
}

void ref_quantize_xq8_0(const float *x, uint64_t n, uint32_t *words, float *deq)
{
    for (uint64_t b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(xb[j]));
        float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
        float dh = ref_f16_to_f32(ref_f32_to_f16(d));
        int q[32], sum = 0;
        for (int j = 0; j < 32; j++) {
            q[j] = ref_nearest_int(xb[j] * id);
            sum += q[j];
        }
        if (deq)
            for (int j = 0; j < 32; j++) deq[32 * b + j] = dh * (float)q[j];
        if (!words) continue;
        uint32_t *w = words + 20 * b;
        float sh = ref_f16_to_f32(ref_f32_to_f16(d * (float)sum));
        memcpy(&w[0], &dh, 4);
        w[1] = (uint32_t)sum;
        memcpy(&w[2], &sh, 4);
        w[3] = 0;
        for (int i = 0; i < 8; i++)
            for (int e = 0; e < 2; e++) /* q[v + 2] + q[v] * 65536, v = 4 i + e */
                w[4 + 2 * i + e] = (uint32_t)(q[4 * i + 2 + e] + (int32_t)((uint32_t)q[4 * i + e] << 16));
    }
}

void ref_xq8_1_fix(const void *w, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, const float *x, size_t x_stride,
                   uint32_t n_tok, float *y, size_t y_stride)
{
    if (wt != VKG_DTYPE_Q4_1 && wt != VKG_DTYPE_Q5_1) return;
    size_t qb = wt == VKG_DTYPE_Q4_1 ? 20 : 24, nb = n_in / 32;
    uint32_t *words = malloc(nb * 20 * sizeof *words);
    for (uint32_t t = 0; t < n_tok; t++) {
        ref_quantize_xq8_0(x + t * x_stride, n_in, words, NULL);
        for (uint32_t o = 0; o < n_out; o++) {
            double corr = 0;
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *blk = (const uint8_t *)w + ((size_t)o * nb + b) * qb;
                const uint32_t *hw = words + b * 20;
                float dx, sx;
                memcpy(&dx, &hw[0], 4);
                memcpy(&sx, &hw[2], 4);
                corr += (double)ref_f16_to_f32((uint16_t)(blk[2] | blk[3] << 8)) *
                        ((double)sx - (double)dx * (int32_t)hw[1]);
            }
            y[t * y_stride + o] = (float)((double)y[t * y_stride + o] + corr);
        }
    }
    free(words);
}
