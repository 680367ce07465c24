#version 450
// fill.comp — writes the 32-bit pattern p.value into n words.
//! variant fill_u32
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_convert.h"
VKG_PUSH_CONSTANTS(vkg_push_convert);

layout(binding = 0) writeonly buffer Dst { uint dst[]; };

void main()
{
    uint i = vkg_linear_id();
    if (i < p.n) dst[p.dst_off + i] = p.value;
}
