// dtype.glsl — exact 16-bit float conversions with integer ops (F16
// subnormals: one float multiply whose product is a normal f32, so exact), so
// the result is bit-identical on every driver (no reliance on how a driver
// treats denormals in unpackHalf2x16). Round to nearest even; NaN stays a
// quiet NaN. The F16 decoder has no loop: lavapipe (Mesa 22.3) gave wrong
// results for the former normalising while-loop inside per-lane divergent
// code (an attention kernel tried on F16 KV pages; README "Notes and limits").

float vkg_f16_to_f32(uint h)
{
    uint s = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1fu;
    uint m = h & 0x3ffu;
    // zero and subnormals: m * 2^-24 (exact: m < 2^10, a power-of-two scale), no loop
    if (e == 0u) return uintBitsToFloat(s | floatBitsToUint(float(m) * 5.9604644775390625e-8));
    if (e == 31u) return uintBitsToFloat(s | 0x7f800000u | (m << 13));
    return uintBitsToFloat(s | ((e + 112u) << 23) | (m << 13));
}

float vkg_bf16_to_f32(uint b) { return uintBitsToFloat(b << 16); }

uint vkg_f32_to_f16(float f)
{
    uint x = floatBitsToUint(f);
    uint s = (x >> 16) & 0x8000u;
    uint e = (x >> 23) & 0xffu;
    uint m = x & 0x7fffffu;
    if (e == 255u) return s | 0x7c00u | (m != 0u ? (0x200u | (m >> 13)) : 0u);
    int ee = int(e) - 112;
    if (ee >= 31) return s | 0x7c00u;
    if (ee <= 0) {
        if (ee < -10) return s;
        uint mm = m | 0x800000u;
        uint shift = uint(14 - ee);
        uint hm = mm >> shift;
        uint rem = mm & ((1u << shift) - 1u);
        uint half_ = 1u << (shift - 1u);
        if (rem > half_ || (rem == half_ && (hm & 1u) != 0u)) hm++;
        return s | hm;
    }
    uint hm = m >> 13;
    uint rem = m & 0x1fffu;
    uint h = s | (uint(ee) << 10) | hm;
    if (rem > 0x1000u || (rem == 0x1000u && (hm & 1u) != 0u)) h++; // a carry into the exponent is correct
    return h;
}

uint vkg_f32_to_bf16(float f)
{
    uint x = floatBitsToUint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (x >> 16) | 0x40u;
    return (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
}
