#version 450
// act.comp — activations, one invocation per output element.
//   swiglu:  out = silu(gate) * up,      silu(g) = g / (1 + exp(-g))
//   geglu:   out = gelu_tanh(gate) * up, gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))
//            (Gemma's gelu_pytorch_tanh)
//   geglu_f16: the same with ggml's table GELU (act.glsl, act_gelu_f16: VKGRM_GELU_F16)
//   softcap: out = c * tanh(a / c)  (Gemma-2 final-logit / attention soft-capping)
// The activations themselves are in act.glsl (shared with matmul_lane.comp).
//! variant swiglu PUSH_GLU SILU
//! variant geglu PUSH_GLU GELU
//! variant geglu_f16 PUSH_GLU GELU GELU_F16
//! variant softcap PUSH_ELTWISE SOFTCAP
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_norm.h"
#include "act.glsl"
#ifdef PUSH_GLU
VKG_PUSH_CONSTANTS(vkg_push_glu);
#else
VKG_PUSH_CONSTANTS(vkg_push_eltwise);
#endif

#ifdef PUSH_GLU
layout(binding = 0) readonly buffer G { float gate[]; };  // [rows][gate_stride]
layout(binding = 1) readonly buffer U { float up[]; };    // [rows][up_stride]; may alias gate (fused [rows][2n])
layout(binding = 2) writeonly buffer O { float outv[]; }; // [rows][out_stride]

void main()
{
    uint i = vkg_linear_id();
    if (i >= p.rows * p.n) return;
    uint r = i / p.n, j = i - r * p.n;
    float g = gate[p.gate_off + r * p.gate_stride + j];
    float u = up[p.up_off + r * p.up_stride + j];
#if defined(SILU)
    float act = act_silu(g);
#elif defined(GELU_F16)
    float act = act_gelu_f16(g);
#else
    float act = act_gelu_tanh(g);
#endif
    outv[p.out_off + r * p.out_stride + j] = act * u;
}
#else
layout(binding = 0) readonly buffer A { float a[]; };     // [n]
layout(binding = 1) buffer O { float outv[]; };           // [n]; may alias a (in place)

void main()
{
    uint i = vkg_linear_id();
    if (i >= p.n) return;
    outv[p.out_off + i] = p.f * tanh_acc(a[p.a_off + i] / p.f);
}
#endif
