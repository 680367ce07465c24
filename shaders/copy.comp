#version 450
// copy.comp — copies n 32-bit words between two bound windows.
//! variant copy_u32
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_convert.h"
VKG_PUSH_CONSTANTS(vkg_push_convert);

layout(binding = 0) readonly buffer Src { uint src[]; };
layout(binding = 1) writeonly buffer Dst { uint dst[]; };

void main()
{
    uint i = vkg_linear_id();
    if (i < p.n) dst[p.dst_off + i] = src[p.src_off + i];
}
