#version 450
// rope.comp — rotary position embedding in place on x[token][head][dim], one
// invocation per rotated pair. Pair k of a head (dims a, b) turns by angle
// pos[token] * inv_freq[k]:  a' = a*cos - b*sin,  b' = b*cos + a*sin, with
// cos and sin scaled by attn_factor (HF multiplies cos/sin by
// attention_scaling). Pairs: (k, k + rot_dim/2) for HF rotate_half (NeoX),
// (2k, 2k+1) for GPT-J / DeepSeek interleaved. Dims outside
// [dim_off, dim_off + rot_dim) are untouched (partial rotary).
//! variant rope
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_rope.h"
#include "rope.glsl"
VKG_PUSH_CONSTANTS(vkg_push_rope);

layout(binding = 0) buffer X { float x[]; };                     // [tokens][tok_stride], heads of head_stride
layout(binding = 1) readonly buffer Pos { int pos[]; };          // [tokens]
layout(binding = 2) readonly buffer Freq { float inv_freq[]; };  // [rot_dim / 2]

void main()
{
    uint half_ = p.rot_dim >> 1;
    uint i = vkg_linear_id();
    if (i >= p.n_tokens * p.n_heads * half_) return;
    uint k = i % half_, th = i / half_;
    uint h = th % p.n_heads, t = th / p.n_heads;
    uint base = p.x_off + t * p.tok_stride + h * p.head_stride + p.dim_off;
    uint ia = p.interleaved != 0u ? base + 2u * k : base + k;
    uint ib = p.interleaved != 0u ? ia + 1u : ia + half_;
    // HF: freqs = inv_freq @ position in f32, then cos/sin of that f32 angle
    float ang = float(pos[p.pos_off + t]) * inv_freq[k];
    float s, c;
    sincos_acc(ang, s, c);
    c *= p.attn_factor;
    s *= p.attn_factor;
    float a = x[ia], b = x[ib];
    x[ia] = a * c - b * s;
    x[ib] = b * c + a * s;
}
