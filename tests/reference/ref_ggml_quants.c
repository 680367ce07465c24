/* ref_ggml_quants.c — see ref_ggml_quants.h. One function per block type,
 * each a transcription of ggml's dequantize_row_* for one block. */
#include "ref_ggml_quants.h"

#include "ref_dtype.h"

static float f16(const uint8_t *p) { return ref_f16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }
static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* block_q8_0 { f16 d; int8 qs[32]; } */
static void q8_0(const uint8_t *b, float *y)
{
    float d = f16(b);
    for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}

/* block_q4_0 { f16 d; u8 qs[16]; }: value j low nibble, j+16 high, minus 8 */
static void q4_0(const uint8_t *b, float *y)
{
    float d = f16(b);
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((b[2 + j] & 0x0F) - 8) * d;
        y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
    }
}

/* block_q4_1 { f16 d, m; u8 qs[16]; } */
static void q4_1(const uint8_t *b, float *y)
{
    float d = f16(b), m = f16(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(b[4 + j] & 0x0F) * d + m;
        y[j + 16] = (float)(b[4 + j] >> 4) * d + m;
    }
}

/* block_q5_0 { f16 d; u8 qh[4]; u8 qs[16]; }: bit j of qh is value j's 5th bit */
static void q5_0(const uint8_t *b, float *y)
{
    float d = f16(b);
    uint32_t qh = u32(b + 2);
    for (int j = 0; j < 16; j++) {
        uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
        int32_t x0 = ((b[6 + j] & 0x0F) | xh_0) - 16;
        int32_t x1 = ((b[6 + j] >> 4) | xh_1) - 16;
        y[j] = (float)x0 * d;
        y[j + 16] = (float)x1 * d;
    }
}

/* block_q5_1 { f16 d, m; u8 qh[4]; u8 qs[16]; } */
static void q5_1(const uint8_t *b, float *y)
{
    float d = f16(b), m = f16(b + 2);
    uint32_t qh = u32(b + 4);
    for (int j = 0; j < 16; j++) {
        uint8_t xh_0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        uint8_t xh_1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
        int x0 = (b[8 + j] & 0x0F) | xh_0;
        int x1 = (b[8 + j] >> 4) | xh_1;
        y[j] = (float)x0 * d + m;
        y[j + 16] = (float)x1 * d + m;
    }
}

/* ggml's get_scale_min_k4: 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes */
static void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* block_q4_K { f16 d, dmin; u8 scales[12]; u8 qs[128]; } and block_q5_K
 * { f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]; } (qh NULL for Q4_K) */
static void qk_4_5(const uint8_t *b, int five, float *y)
{
    float d = f16(b), min = f16(b + 2);
    const uint8_t *sc8 = b + 4, *qh = five ? b + 16 : 0, *ql = b + (five ? 48 : 16);
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
        uint8_t sc, m;
        scale_min_k4(is + 0, sc8, &sc, &m);
        float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, sc8, &sc, &m);
        float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xF) + (qh && (qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + (qh && (qh[l] & u2) ? 16 : 0)) - m2;
    }
}

/* block_q6_K { u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d; } */
static void q6_k(const uint8_t *b, float *y)
{
    float d = f16(b + 208);
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
}

bool ref_ggml_is_block_type(enum vkg_dtype dt)
{
    switch (dt) {
    case VKG_DTYPE_Q8_0:
    case VKG_DTYPE_Q4:
    case VKG_DTYPE_Q4_1:
    case VKG_DTYPE_Q5_0:
    case VKG_DTYPE_Q5_1:
    case VKG_DTYPE_Q4_K:
    case VKG_DTYPE_Q5_K:
    case VKG_DTYPE_Q6_K: return true;
    default: return false;
    }
}

void ref_ggml_dequantize(enum vkg_dtype dt, const uint8_t *src, uint64_t n, float *out)
{
    uint32_t bs = vkg_dtype_block_size(dt), bb = vkg_dtype_block_bytes(dt);
    for (uint64_t i = 0; i < n / bs; i++) {
        const uint8_t *b = src + i * bb;
        float *y = out + i * bs;
        switch (dt) {
        case VKG_DTYPE_Q8_0: q8_0(b, y); break;
        case VKG_DTYPE_Q4: q4_0(b, y); break;
        case VKG_DTYPE_Q4_1: q4_1(b, y); break;
        case VKG_DTYPE_Q5_0: q5_0(b, y); break;
        case VKG_DTYPE_Q5_1: q5_1(b, y); break;
        case VKG_DTYPE_Q4_K: qk_4_5(b, 0, y); break;
        case VKG_DTYPE_Q5_K: qk_4_5(b, 1, y); break;
        case VKG_DTYPE_Q6_K: q6_k(b, y); break;
        default: return;
        }
    }
}
