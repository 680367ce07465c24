// realign.glsl — 16 bytes of a texel-read byte stream that start inside a texel: the bytes from
// byte s (even, 0..14; may differ between lanes) of the 32 bytes a|b, by selects and shifts, with
// no dynamically indexed arrays (which llvmpipe would spill to memory).
uvec4 realign(uvec4 a, uvec4 b, uint s)
{
    uint sw = s >> 2u;
    uvec4 lo = sw == 0u ? a : sw == 1u ? uvec4(a.yzw, b.x) : sw == 2u ? uvec4(a.zw, b.xy) : uvec4(a.w, b.xyz);
    uint nx = sw == 0u ? b.x : sw == 1u ? b.y : sw == 2u ? b.z : b.w;
    return (s & 2u) != 0u ? (lo >> 16u) | (uvec4(lo.yzw, nx) << 16u) : lo;
}
