#version 450
// convert.comp — dtype conversion of n elements between 32-bit and 16-bit
// floats. 16-bit data is addressed as packed uint words so no 16-bit storage
// feature is needed. To 16-bit: one invocation per output word; a word only
// half inside the range is read-modify-written (one writer per word).
//! variant convert_bf16_f32 SRC_BF16
//! variant convert_f16_f32 SRC_F16
//! variant convert_f32_f16 DST_F16
//! variant convert_f32_bf16 DST_BF16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_convert.h"
VKG_PUSH_CONSTANTS(vkg_push_convert);

layout(binding = 0) readonly buffer Src { uint src[]; };
layout(binding = 1) buffer Dst { uint dst[]; };

#if defined(SRC_BF16) || defined(SRC_F16)
void main()
{
    uint i = vkg_linear_id();
    if (i >= p.n) return;
    uint e = p.src_off + i;
    uint bits = (src[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu;
#ifdef SRC_BF16
    float v = vkg_bf16_to_f32(bits);
#else
    float v = vkg_f16_to_f32(bits);
#endif
    dst[p.dst_off + i] = floatBitsToUint(v);
}
#else
uint encode(uint src_index)
{
#ifdef DST_BF16
    return vkg_f32_to_bf16(uintBitsToFloat(src[src_index]));
#else
    return vkg_f32_to_f16(uintBitsToFloat(src[src_index]));
#endif
}

void main()
{
    uint t = vkg_linear_id();
    uint first_word = p.dst_off >> 1;
    uint last_word = (p.dst_off + p.n - 1u) >> 1;
    if (p.n == 0u || t > last_word - first_word) return;
    uint w = first_word + t;
    uint e0 = 2u * w, e1 = e0 + 1u;
    bool in0 = e0 >= p.dst_off && e0 < p.dst_off + p.n;
    bool in1 = e1 >= p.dst_off && e1 < p.dst_off + p.n;
    uint old = (in0 && in1) ? 0u : dst[w];
    uint lo = in0 ? encode(p.src_off + (e0 - p.dst_off)) : (old & 0xffffu);
    uint hi = in1 ? encode(p.src_off + (e1 - p.dst_off)) : (old >> 16);
    dst[w] = lo | (hi << 16);
}
#endif
