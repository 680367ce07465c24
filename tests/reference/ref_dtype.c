/* ref_dtype.c — 16-bit float references via double arithmetic: decode is
 * sign * mantissa * 2^exponent; encode searches the nearest representable
 * value and breaks ties to the even pattern. Slow and obviously right. */
#include "ref_dtype.h"

#include <math.h>
#include <string.h>

float ref_f16_to_f32(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp(m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1024 + m, e - 25);
    return (float)(s ? -v : v);
}

float ref_bf16_to_f32(uint16_t b)
{
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

int ref_f16_is_nan(uint16_t h) { return ((h >> 10) & 31) == 31 && (h & 1023); }
int ref_bf16_is_nan(uint16_t b) { return ((b >> 7) & 255) == 255 && (b & 127); }

/* Nearest of the positive patterns lo and lo+1 to |v| (ties to even pattern). */
static uint16_t nearest(double a, uint16_t lo, double vlo, double vhi)
{
    double dl = a - vlo, dh = vhi - a;
    if (dl < dh) return lo;
    if (dh < dl) return (uint16_t)(lo + 1);
    return (lo & 1) ? (uint16_t)(lo + 1) : lo;
}

uint16_t ref_f32_to_f16(float f)
{
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    if (isnan(f)) return 0x7e00;
    double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00; /* 65520 = halfway between 65504 and 2^16: ties to inf */
    /* binary search the largest positive pattern whose value <= a */
    uint16_t lo = 0, hi = 0x7bff;
    while (lo < hi) {
        uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
        if ((double)ref_f16_to_f32(mid) <= a) lo = mid;
        else hi = (uint16_t)(mid - 1);
    }
    if (lo == 0x7bff) return sign | 0x7bff;
    return sign | nearest(a, lo, ref_f16_to_f32(lo), ref_f16_to_f32((uint16_t)(lo + 1)));
}

uint16_t ref_f32_to_bf16(float f)
{
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    if (isnan(f)) return 0x7fc0;
    double a = fabs((double)f);
    if (isinf(f)) return sign | 0x7f80;
    uint16_t lo = 0, hi = 0x7f7f;
    while (lo < hi) {
        uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
        if ((double)ref_bf16_to_f32(mid) <= a) lo = mid;
        else hi = (uint16_t)(mid - 1);
    }
    double vhi = lo == 0x7f7f ? ldexp(1.0, 128) : (double)ref_bf16_to_f32((uint16_t)(lo + 1));
    uint16_t r = nearest(a, lo, ref_bf16_to_f32(lo), vhi);
    return sign | r; /* r == 0x7f80 is +inf, as RNE overflow gives */
}
