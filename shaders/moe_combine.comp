#version 450
// moe_combine.comp — weighted sum of each token's k expert outputs:
//   out[t][i] = (ACCUMULATE ? out[t][i] : 0) + sum_j w[t][j] * y[t*k + j][i]
// summed in slot order j = 0..k-1 (deterministic; no float atomics). With
// UNIT every weight is 1 (the shared expert: k = 1, added to the output).
//! variant moe_combine
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_moe.h"
VKG_PUSH_CONSTANTS(vkg_push_moe_combine);

layout(binding = 0) readonly buffer Y { float y[]; };       // [n_tok * k][n_in]
layout(binding = 1) readonly buffer W { float w[]; };       // [n_tok][k]
layout(binding = 2) buffer Out { float outv[]; };           // [n_tok][n_in]

void main()
{
    uint idx = vkg_linear_id();
    if (idx >= p.n_tok * p.n_in) return;
    uint tok = idx / p.n_in, i = idx % p.n_in;
    float s = 0.0;
    for (uint j = 0u; j < p.k; j++) {
        float wj = (p.flags & VKG_MOE_COMBINE_UNIT) != 0u ? 1.0 : w[p.w_off + tok * p.k + j];
        s += wj * y[p.y_off + (tok * p.k + j) * p.n_in + i];
    }
    if ((p.flags & VKG_MOE_COMBINE_ACCUMULATE) != 0u) s += outv[p.out_off + idx];
    outv[p.out_off + idx] = s;
}
