#version 450
// copy_strided.comp — a strided block of 32-bit words, one invocation per
// element: for a < blocks, b < rows, i < cols
//   dst[dst_off + a*dst_block + b*dst_row + i] = src[src_off + a*src_block + b*src_row + i]
// (a source stride of 0 repeats: broadcast). Bits are copied as they are.
//! variant copy_strided
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_convert.h"
VKG_PUSH_CONSTANTS(vkg_push_copy_strided);

layout(binding = 0) readonly buffer Src { uint src[]; };
layout(binding = 1) writeonly buffer Dst { uint dst[]; };

void main()
{
    uint i = vkg_linear_id();
    if (i >= p.blocks * p.rows * p.cols) return;
    uint col = i % p.cols, r = i / p.cols;
    uint b = r % p.rows, a = r / p.rows;
    dst[p.dst_off + a * p.dst_block + b * p.dst_row + col] = src[p.src_off + a * p.src_block + b * p.src_row + col];
}
