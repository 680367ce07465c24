#version 450
// rmsnorm.comp — y = x / sqrt(mean(x^2) + eps) * w (or * (1 + w), Gemma),
// one workgroup per row. ADD: h = x + r is first written back to r (the
// residual stream) and h is normalised. The row's sum of squares is reduced
// in shared memory (tree; the workgroup size is a power of two), or with
// subgroupAdd and one shared slot per subgroup in the SUBGROUP tier.
// LANE (the CPU-driver tier): one row per subgroup, VKG_RMSNORM_LANE_LOCAL / 8
// rows per workgroup, no shared memory and no barrier — on lavapipe a
// workgroup with a barrier runs each subgroup as a coroutine, about 0.1 ms a
// row whatever its length.
//! variant rmsnorm
//! variant rmsnorm_add ADD
//! variant rmsnorm_sg SUBGROUP
//! variant rmsnorm_add_sg ADD SUBGROUP
//! variant rmsnorm_lane LANE
//! variant rmsnorm_add_lane ADD LANE
// rmsnorm_combine_lane: ADD LANE whose x is the MoE layer's expert outputs:
// each value is first combined as moe_combine.comp does (sum over the token's
// k slots of weight * output, plus the shared experts' d), in the same order,
// so combine + rmsnorm_add become one launch with the same bits.
//! variant rmsnorm_combine_lane ADD LANE COMBINE
#extension GL_GOOGLE_include_directive : require
#if defined(SUBGROUP) || defined(LANE)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "push_norm.h"
VKG_PUSH_CONSTANTS(vkg_push_rmsnorm);

layout(binding = 0) readonly buffer X { float x[]; };  // [tokens][x_stride], rows of n
layout(binding = 1) readonly buffer W { float w[]; };  // [n]
layout(binding = 2) buffer Y { float y[]; };           // [tokens][y_stride]; may alias x
#ifdef ADD
layout(binding = 3) buffer R { float r[]; };           // [tokens][x_stride] residual, updated in place
#endif
#ifdef COMBINE
#include "push_moe.h" // VKG_MOE_COMBINE_*
layout(binding = 4) readonly buffer MW { float mw[]; }; // [tokens][k] routing weights
layout(binding = 5) readonly buffer D { float d[]; };   // [tokens][n] shared experts' output (ACCUMULATE)
// the combined value of element j of token tok, as moe_combine.comp computes it
float combined(uint tok, uint j)
{
    float s = 0.0;
    for (uint q = 0u; q < p.k; q++) {
        float wq = (p.flags & VKG_MOE_COMBINE_UNIT) != 0u ? 1.0 : mw[p.w_off + tok * p.k + q];
        s += wq * x[p.x_off + (tok * p.k + q) * p.n + j];
    }
    if ((p.flags & VKG_MOE_COMBINE_ACCUMULATE) != 0u) s += d[p.d_off + tok * p.n + j];
    return s;
}
#endif

#ifndef LANE
shared float s_sum[1024];

float row_sum(float v)
{
    uint lid = gl_LocalInvocationID.x;
#ifdef SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect()) s_sum[gl_SubgroupID] = v;
    barrier();
    float total = 0.0;
    for (uint k = 0u; k < gl_NumSubgroups; k++) total += s_sum[k];
    return total;
#else
    s_sum[lid] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x >> 1; s > 0u; s >>= 1) {
        if (lid < s) s_sum[lid] += s_sum[lid + s];
        barrier();
    }
    return s_sum[0];
#endif
}

#endif

// Row `row`, its elements split over `lanes` invocations starting at `lane`.
void norm_row(uint row, uint lane, uint lanes)
{
    uint tok = row / p.group, head = row - tok * p.group;
    uint xb = tok * p.x_stride + head * p.n, yb = p.y_off + tok * p.y_stride + head * p.n;
    float acc = 0.0;
    for (uint j = lane; j < p.n; j += lanes) {
#ifdef COMBINE
        float v = combined(tok, j);
#else
        float v = x[p.x_off + xb + j];
#endif
#ifdef ADD
        v += r[p.r_off + xb + j];
        r[p.r_off + xb + j] = v; // this invocation re-reads it below
#endif
        acc += v * v;
    }
#ifdef LANE
    float inv = 1.0 / sqrt(subgroupAdd(acc) / float(p.n) + p.eps);
#else
    float inv = 1.0 / sqrt(row_sum(acc) / float(p.n) + p.eps);
#endif
    for (uint j = lane; j < p.n; j += lanes) {
#ifdef ADD
        float v = r[p.r_off + xb + j];
#else
        float v = x[p.x_off + xb + j];
#endif
        y[yb + j] = (v * inv) * (w[j] + p.w_add);
    }
}

void main()
{
    uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
#ifdef LANE
    // rows [wg * per, wg * per + per), one per subgroup in turn: correct for
    // any subgroup size (the host assumes 8 lanes each)
    uint per = gl_WorkGroupSize.x / 8u;
    for (uint k = gl_SubgroupID; k < per; k += gl_NumSubgroups) {
        uint row = wg * per + k;
        if (row >= p.rows) break; // uniform for the subgroup
        norm_row(row, gl_SubgroupInvocationID, gl_SubgroupSize);
    }
#else
    if (wg >= p.rows) return; // uniform for the workgroup: barriers stay legal
    norm_row(wg, gl_LocalInvocationID.x, gl_WorkGroupSize.x);
#endif
}
