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
