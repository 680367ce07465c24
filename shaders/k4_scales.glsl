// k4_scales.glsl — the 6-bit scales and mins of ggml's Q4_K / Q5_K super-blocks out of their
// header texel (d, dmin, scales[12]), as ggml's get_scale_min_k4 takes them out of the 12 bytes.
// Shared by matmul_lane.comp and moe_lane.comp (texel reads).
#ifndef VKG_K4_SCALES_GLSL
#define VKG_K4_SCALES_GLSL
// scale byte n (0..11) of a Q4_K header texel (d, dmin, scales[12])
uint k4_byte(uvec4 h, uint n)
{
    uint w = n < 4u ? h.y : n < 8u ? h.z : h.w;
    return (w >> (8u * (n & 3u))) & 255u;
}
// ggml's get_scale_min_k4: 6-bit scale and min of sub-block j (0..7)
uvec2 k4_scale_min(uvec4 h, uint j)
{
    if (j < 4u) return uvec2(k4_byte(h, j) & 63u, k4_byte(h, j + 4u) & 63u);
    return uvec2((k4_byte(h, j + 4u) & 15u) | ((k4_byte(h, j - 4u) >> 6) << 4),
                 (k4_byte(h, j + 4u) >> 4) | ((k4_byte(h, j) >> 6) << 4));
}
#endif
