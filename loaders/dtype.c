/* dtype.c — the dtype table and host f16/bf16 conversions (CPU references). */
#include "dtype.h"

#include <stddef.h>
#include <string.h>

struct dtype_info {
    const char *name;
    const char *st_name; /* safetensors spelling, NULL for our device-only formats */
    uint32_t block_size;
    uint32_t block_bytes;
};

static const struct dtype_info k_dtypes[] = {
#define VKG_X_DTYPE_INFO(id, st, bs, bb) { #id, st, bs, bb },
    VKG_DTYPE_LIST(VKG_X_DTYPE_INFO)
#undef VKG_X_DTYPE_INFO
};
_Static_assert(sizeof k_dtypes / sizeof k_dtypes[0] == VKG_DTYPE_COUNT,
               "k_dtypes must have one row per enum vkg_dtype");

static const struct dtype_info *info(enum vkg_dtype dt)
{
    return (dt >= 0 && dt < VKG_DTYPE_COUNT) ? &k_dtypes[dt] : NULL;
}

const char *vkg_dtype_name(enum vkg_dtype dt)
{
    const struct dtype_info *i = info(dt);
    return i ? i->name : "UNKNOWN";
}

enum vkg_dtype vkg_dtype_from_safetensors(const char *name)
{
    if (!name) return VKG_DTYPE_UNKNOWN;
    for (int i = 0; i < VKG_DTYPE_COUNT; i++)
        if (k_dtypes[i].st_name && strcmp(k_dtypes[i].st_name, name) == 0) return (enum vkg_dtype)i;
    return VKG_DTYPE_UNKNOWN;
}

uint32_t vkg_dtype_block_size(enum vkg_dtype dt)
{
    const struct dtype_info *i = info(dt);
    return i ? i->block_size : 0;
}

uint32_t vkg_dtype_block_bytes(enum vkg_dtype dt)
{
    const struct dtype_info *i = info(dt);
    return i ? i->block_bytes : 0;
}

enum vkg_status vkg_dtype_bytes(enum vkg_dtype dt, uint64_t n_elements, uint64_t *out)
{
    const struct dtype_info *i = info(dt);
    if (!i || !out) return VKG_ERR_INVALID_ARG;
    if (n_elements % i->block_size) return VKG_ERR_FORMAT;
    uint64_t blocks = n_elements / i->block_size;
    if (blocks > UINT64_MAX / i->block_bytes) return VKG_ERR_OVERFLOW;
    *out = blocks * i->block_bytes;
    return VKG_OK;
}

bool vkg_dtype_is_block(enum vkg_dtype dt)
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

bool vkg_dtype_is_loadable(enum vkg_dtype dt)
{
    return dt == VKG_DTYPE_F32 || dt == VKG_DTYPE_F16 || dt == VKG_DTYPE_BF16 || vkg_dtype_is_block(dt);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float vkg_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) /* inf / NaN: keep the payload */
        return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) { /* zero / subnormal: man * 2^-24, exact in f32 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13)); /* rebias 15 -> 127 */
}

/* |x| below 2^-14 becomes a half subnormal q * 2^-24 (or zero), rounded to even. */
static uint16_t f16_subnormal(uint32_t ax)
{
    uint32_t e = ax >> 23;
    if (e < 102) return 0;                     /* below 2^-25: rounds to zero (2^-25 itself ties to 0, even) */
    uint32_t m = (ax & 0x7fffffu) | 0x800000u; /* value = m * 2^(e-150) */
    uint32_t shift = 126 - e;                  /* 14..24: q = m * 2^(e-150+24) */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++; /* may carry into the smallest normal */
    return (uint16_t)q;
}

uint16_t vkg_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: quiet it, keep the top payload bits */
        return sign | 0x7e00 | (uint16_t)((ax >> 13) & 0x3ff);
    if (ax >= 0x477ff000u) /* >= 65520 (halfway past 65504, ties to even = inf) and inf */
        return sign | 0x7c00;
    if (ax >= 0x38800000u) { /* normal half: rebias 127 -> 15, round on the 13 dropped bits */
        uint32_t r = ax - 0x38000000u;
        r += 0xfffu + ((r >> 13) & 1);
        return sign | (uint16_t)(r >> 13);
    }
    return sign | f16_subnormal(ax);
}

float vkg_bf16_to_f32(uint16_t b) { return bits_f32((uint32_t)b << 16); }

uint16_t vkg_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: truncating could make it inf; quiet it */
        return (uint16_t)((x >> 16) | 0x40);
    /* Round to nearest even; a carry out of the mantissa correctly bumps the
     * exponent, and values past the largest bf16 become inf. */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/* Host dequantization (vkg_dtype_dequantize): ggml's dequantize_row_* for one block each, the same
 * f32 operations in the same order, so the values are ggml's own bits. */
static float le_f16(const uint8_t *p) { return vkg_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* Q8_0 { d; int8 q[32] }, Q4_0 { d; nibbles[16] }, Q4_1 { d, m; nibbles[16] }, Q5_0 { d; qh[4]; nibbles[16] },
 * Q5_1 { d, m; qh[4]; nibbles[16] }: value j < 16 in the low nibble of byte j, value j + 16 in its high
 * nibble; Q5's fifth bit of value i is bit i of the little-endian qh */
static void deq_32(enum vkg_dtype dt, const uint8_t *b, float *y)
{
    float d = le_f16(b);
    if (dt == VKG_DTYPE_Q8_0) {
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
        return;
    }
    int has_m = dt == VKG_DTYPE_Q4_1 || dt == VKG_DTYPE_Q5_1, five = dt == VKG_DTYPE_Q5_0 || dt == VKG_DTYPE_Q5_1;
    float m = has_m ? le_f16(b + 2) : 0.0f;
    const uint8_t *h = b + (has_m ? 4 : 2), *qs = h + (five ? 4 : 0);
    uint32_t qh = five ? (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24 : 0;
    int off = has_m ? 0 : five ? 16 : 8; /* Q4_0 centres on 8, Q5_0 on 16; _1 types add m instead */
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4, hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        if (has_m) {
            y[j] = (float)lo * d + m;
            y[j + 16] = (float)hi * d + m;
        } else {
            y[j] = (float)(lo - off) * d;
            y[j + 16] = (float)(hi - off) * d;
        }
    }
}

/* Q4_K / Q5_K { d, dmin; scales[12]; (Q5_K: qh[32];) nibbles[128] }: 8 sub-blocks of 32 with 6-bit
 * scales and mins (ggml's get_scale_min_k4); each 64 values are 32 bytes' low nibbles, then their highs */
static void deq_k45(const uint8_t *b, int five, float *y)
{
    float d = le_f16(b), dmin = le_f16(b + 2);
    const uint8_t *s = b + 4, *qh = b + 16, *ql = b + (five ? 48 : 16);
    for (int c = 0; c < 4; c++, ql += 32) {
        for (int half = 0; half < 2; half++) {
            int j = 2 * c + half;
            int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xf) | (s[j - 4] >> 6) << 4;
            int mn = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | (s[j] >> 6) << 4;
            float dl = d * (float)sc, ml = dmin * (float)mn;
            for (int l = 0; l < 32; l++) {
                int q = half ? ql[l] >> 4 : ql[l] & 0xf;
                if (five && (qh[l] >> j & 1)) q += 16;
                *y++ = dl * (float)q - ml;
            }
        }
    }
}

/* Q6_K { ql[128]; qh[64]; int8 scales[16]; d }: two halves of 128 values, 16 scales of 16 values */
static void deq_q6k(const uint8_t *b, float *y)
{
    float d = le_f16(b + 208);
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int n = 0; n < 2; n++, y += 128, ql += 64, qh += 32, sc += 8)
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) - 32,
                q2 = ((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) - 32;
            int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32,
                q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
            y[l] = d * (float)sc[is] * (float)q1;
            y[l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
}

enum vkg_status vkg_dtype_dequantize(enum vkg_dtype dt, const void *src, uint64_t n, float *out)
{
    const uint8_t *p = src;
    uint32_t bs = vkg_dtype_block_size(dt), bb = vkg_dtype_block_bytes(dt);
    if (!vkg_dtype_is_loadable(dt) || n % bs) return VKG_ERR_INVALID_ARG;
    for (uint64_t i = 0; i < n / bs; i++, p += bb, out += bs) switch (dt) {
        case VKG_DTYPE_F32: memcpy(out, p, 4); break;
        case VKG_DTYPE_F16: *out = le_f16(p); break;
        case VKG_DTYPE_BF16: *out = vkg_bf16_to_f32((uint16_t)(p[0] | p[1] << 8)); break;
        case VKG_DTYPE_Q4_K: deq_k45(p, 0, out); break;
        case VKG_DTYPE_Q5_K: deq_k45(p, 1, out); break;
        case VKG_DTYPE_Q6_K: deq_q6k(p, out); break;
        default: deq_32(dt, p, out); break;
        }
    return VKG_OK;
}
