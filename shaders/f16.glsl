// f16.glsl — the 8 halves of a 16-byte texel (F16 weights) as two vec4s, in order.
//
// F16_BITS (specialization constant 8, the device's use.f16_bits: lavapipe) widens each half by
// integer operations: its sign to bit 31 and its exponent and mantissa to bits 13..27 of a float
// (an arithmetic shift by 3 and a mask), then one multiply by 2^112 moves the exponent from the
// half's bias to the float's. That is exact for every finite half, subnormals included, where
// float denormals are kept (llvmpipe keeps them; gpu_test_matmul checks all 63,488 finite halves),
// and costs 3.5 operations a half where llvmpipe's unpackHalf2x16 costs about twice that (the
// one-vector F16 mat-vecs 1.1-1.35x faster). Infinities and NaNs are not finite halves: they come
// out as finite values of magnitude 2^16 .. 2^17 (Notes and limits in the README).
// Otherwise unpackHalf2x16, exact for every half.
layout(constant_id = 8) const bool F16_BITS = false;

void f16x8(uvec4 h, out vec4 a, out vec4 b)
{
    if (F16_BITS) {
        uvec4 lo = uvec4(ivec4(h << 16) >> 3) & 0x8fffe000u, hi = uvec4(ivec4(h) >> 3) & 0x8fffe000u;
        vec4 fl = uintBitsToFloat(lo) * 5.192296858534828e+33, fh = uintBitsToFloat(hi) * 5.192296858534828e+33;
        a = vec4(fl.x, fh.x, fl.y, fh.y);
        b = vec4(fl.z, fh.z, fl.w, fh.w);
    } else {
        a = vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
        b = vec4(unpackHalf2x16(h.z), unpackHalf2x16(h.w));
    }
}
