#version 450
// eltwise.comp — element-wise f32: add (out = a + b, the residual add) and
// scale (out = a * f). One invocation per element; out may alias a.
//! variant add ADD
//! variant scale SCALE
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_norm.h"
VKG_PUSH_CONSTANTS(vkg_push_eltwise);

layout(binding = 0) readonly buffer A { float a[]; };  // [n]
#ifdef ADD
layout(binding = 1) readonly buffer B { float b[]; };  // [n]
layout(binding = 2) buffer O { float outv[]; };        // [n]
#else
layout(binding = 1) buffer O { float outv[]; };        // [n]
#endif

void main()
{
    uint i = vkg_linear_id();
    if (i >= p.n) return;
#ifdef ADD
    outv[p.out_off + i] = a[p.a_off + i] + b[p.b_off + i];
#else
    outv[p.out_off + i] = a[p.a_off + i] * p.f;
#endif
}
