// f16_rne.glsl — a float rounded to the nearest half (ties to even), returned as the float of that
// half: ggml's FP32_TO_FP16 (F16C, round to nearest even) done in integers, so that no driver's
// packHalf2x16 rounding enters. Past 65504 (after rounding): infinity; NaNs: not handled.
#ifndef VKG_F16_RNE_GLSL
#define VKG_F16_RNE_GLSL
float f16_rne(float f)
{
    uint u = floatBitsToUint(f), a = u & 0x7fffffffu, s = u & 0x80000000u;
    if (a >= 0x477ff000u) return uintBitsToFloat(s | 0x7f800000u); // rounds past 65504: inf (NaN: not here)
    if (a < 0x38800000u) // subnormal halves: steps of 2^-24 (exact scalings)
        return uintBitsToFloat(s | floatBitsToUint(roundEven(abs(f) * 16777216.0) * (1.0 / 16777216.0)));
    a += 0xfffu + ((a >> 13) & 1u); // round the 13 dropped mantissa bits to nearest even
    return uintBitsToFloat(s | (a & 0xffffe000u));
}
#endif
