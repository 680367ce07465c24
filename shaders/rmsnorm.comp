#version 450
// rmsnorm.comp — y = x / sqrt(mean(x^2) + eps) * w (or * (1 + w), Gemma),
// one workgroup per row. ADD: h = x + r is first written back to r (the
// residual stream) and h is normalised. The row's sum of squares is reduced
// in shared memory (tree; the workgroup size is a power of two), or with
// subgroupAdd and one shared slot per subgroup in the SUBGROUP tier.
// LANE (the CPU-driver tier): one row per subgroup, VKG_RMSNORM_LANE_LOCAL / 8
// rows per workgroup, no shared memory and no barrier — on lavapipe a
// workgroup with a barrier runs each subgroup as a coroutine, about 0.1 ms a
// row whatever its length. The lane loops are do-whiles (common.glsl, "Loops on llvmpipe").
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
// *_tx (the lane tier where every row starts on a 16-byte texel and n % 4 == 0,
// vkg_op_rmsnorm_ex): x, the weight and the residual read as texels, a fetch
// per 4 values where a storage load is a loop over the lanes on llvmpipe; y
// and the residual written through storage buffers. The residual is read
// through a second binding of its memory (4); each lane reads its groups
// before it writes them, and the second pass recomputes x + r from the
// inputs instead of reading back what the first wrote.
//! variant rmsnorm_lane_tx LANE TX
//! variant rmsnorm_add_lane_tx ADD LANE TX
// rmsnorm_combine_lane_tx: the combine's inputs (expert outputs, routing
// weights, shared experts' d) as texels too (bindings 5 and 6 for the last two)
//! variant rmsnorm_combine_lane_tx ADD LANE COMBINE TX
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if defined(SUBGROUP) || defined(LANE)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "push_norm.h"
VKG_PUSH_CONSTANTS(vkg_push_rmsnorm);

#ifdef TX
layout(binding = 0) uniform usamplerBuffer XT;         // [tokens][x_stride], rows of n, 16-byte texels
layout(binding = 1) uniform usamplerBuffer WT;         // [n]
layout(binding = 2) writeonly buffer Y { float y[]; }; // [tokens][y_stride]; may alias x
#ifdef ADD
layout(binding = 3) writeonly buffer R { float r[]; }; // [tokens][x_stride] residual, updated in place
layout(binding = 4) uniform usamplerBuffer RT;         // the residual's inputs (binding 3's memory)
#endif
vec4 tex4(usamplerBuffer b, uint i) { return uintBitsToFloat(texelFetch(b, int(i))); }
#else
layout(binding = 0) readonly buffer X { float x[]; };  // [tokens][x_stride], rows of n
layout(binding = 1) readonly buffer W { float w[]; };  // [n]
layout(binding = 2) buffer Y { float y[]; };           // [tokens][y_stride]; may alias x
#ifdef ADD
layout(binding = 3) buffer R { float r[]; };           // [tokens][x_stride] residual, updated in place
#endif
#endif
#ifdef COMBINE
#include "push_moe.h" // VKG_MOE_COMBINE_*
#ifdef TX
layout(binding = 5) uniform usamplerBuffer MWT; // [tokens][k] routing weights
layout(binding = 6) uniform usamplerBuffer DT;  // [tokens][n] shared experts' output (ACCUMULATE)
// combined() for the 4 elements of group g (n % 4 == 0; x_off, d_off multiples of 4): the same sum,
// component by component
vec4 combined4(uint tok, uint g)
{
    vec4 s = vec4(0.0);
    for (uint q = 0u; q < p.k; q++) {
        uint wi = p.w_off + tok * p.k + q;
        float wq = (p.flags & VKG_MOE_COMBINE_UNIT) != 0u ? 1.0 : uintBitsToFloat(texelFetch(MWT, int(wi >> 2))[wi & 3u]);
        s += wq * tex4(XT, (p.x_off + (tok * p.k + q) * p.n) / 4u + g);
    }
    if ((p.flags & VKG_MOE_COMBINE_ACCUMULATE) != 0u) s += tex4(DT, (p.d_off + tok * p.n) / 4u + g);
    return s;
}
#else
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

#ifdef LANE
// The lane tier: lane l of the row's subgroup takes the groups of 4 elements l, l + lanes, ...
// (elements 4g .. 4g + 3) and sums their squares in element order, one subgroupAdd after.
// matmul_lane.comp's norm_tail sums alike, so a norm fused into a matmul launch gives the same bits.
void norm_row(uint row, uint lane, uint lanes)
{
    uint tok = row / p.group, head = row - tok * p.group;
    uint xb = tok * p.x_stride + head * p.n, yb = p.y_off + tok * p.y_stride + head * p.n;
    float acc = 0.0;
#ifdef TX
#ifdef COMBINE
#define X4(g) combined4(tok, g)
#else
#define X4(g) tex4(XT, (p.x_off + xb) / 4u + (g))
#endif
    // rows and n on whole texels: (x_off + xb) % 4 == 0, likewise r_off
    uint g = lane;
    if (4u * g < p.n) do {
        vec4 v = X4(g);
#ifdef ADD
        v += tex4(RT, (p.r_off + xb) / 4u + g);
#endif
        acc += v.x * v.x;
        acc += v.y * v.y;
        acc += v.z * v.z;
        acc += v.w * v.w;
        g += lanes;
    } while (4u * g < p.n);
    float inv = 1.0 / sqrt(subgroupAdd(acc) / float(p.n) + p.eps);
    g = lane;
    if (4u * g < p.n) do {
        vec4 v = X4(g);
#ifdef ADD
        v += tex4(RT, (p.r_off + xb) / 4u + g);
        r[p.r_off + xb + 4u * g] = v.x;
        r[p.r_off + xb + 4u * g + 1u] = v.y;
        r[p.r_off + xb + 4u * g + 2u] = v.z;
        r[p.r_off + xb + 4u * g + 3u] = v.w;
#endif
        vec4 o = (v * inv) * (tex4(WT, g) + p.w_add);
        y[yb + 4u * g] = o.x;
        y[yb + 4u * g + 1u] = o.y;
        y[yb + 4u * g + 2u] = o.z;
        y[yb + 4u * g + 3u] = o.w;
        g += lanes;
    } while (4u * g < p.n);
#else
    uint g = lane;
    if (4u * g < p.n) do {
        [[unroll]] for (uint e = 0u; e < 4u; e++) {
            uint j = 4u * g + e;
            float v = 0.0; // past the row: adds 0 to the sum
            if (j < p.n) {
#ifdef COMBINE
                v = combined(tok, j);
#else
                v = x[p.x_off + xb + j];
#endif
#ifdef ADD
                v += r[p.r_off + xb + j];
                r[p.r_off + xb + j] = v; // this invocation re-reads it below
#endif
            }
            acc += v * v;
        }
        g += lanes;
    } while (4u * g < p.n);
    float inv = 1.0 / sqrt(subgroupAdd(acc) / float(p.n) + p.eps);
    g = lane;
    if (4u * g < p.n) do {
        [[unroll]] for (uint e = 0u; e < 4u; e++) {
            uint j = 4u * g + e;
            if (j < p.n) {
#ifdef ADD
                float v = r[p.r_off + xb + j];
#else
                float v = x[p.x_off + xb + j];
#endif
                y[yb + j] = (v * inv) * (w[j] + p.w_add);
            }
        }
        g += lanes;
    } while (4u * g < p.n);
#endif
}
#else
// Row `row`, its elements split over `lanes` invocations starting at `lane`.
void norm_row(uint row, uint lane, uint lanes)
{
    uint tok = row / p.group, head = row - tok * p.group;
    uint xb = tok * p.x_stride + head * p.n, yb = p.y_off + tok * p.y_stride + head * p.n;
    float acc = 0.0;
    uint j = lane;
    if (j < p.n) do {
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
        j += lanes;
    } while (j < p.n);
#ifdef LANE
    float inv = 1.0 / sqrt(subgroupAdd(acc) / float(p.n) + p.eps);
#else
    float inv = 1.0 / sqrt(row_sum(acc) / float(p.n) + p.eps);
#endif
    j = lane;
    if (j < p.n) do {
#ifdef ADD
        float v = r[p.r_off + xb + j];
#else
        float v = x[p.x_off + xb + j];
#endif
        y[yb + j] = (v * inv) * (w[j] + p.w_add);
        j += lanes;
    } while (j < p.n);
}
#endif

void main()
{
    uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
#ifdef LANE
    // rows [wg * per, wg * per + per), one per subgroup in turn: correct for
    // any subgroup size (the host assumes 8 lanes each)
    uint per = gl_WorkGroupSize.x / 8u;
    uint k = gl_SubgroupID;
    if (k < per) do {
        uint row = wg * per + k;
        if (row >= p.rows) break; // uniform for the subgroup
        norm_row(row, gl_SubgroupInvocationID, gl_SubgroupSize);
        k += gl_NumSubgroups;
    } while (k < per);
#else
    if (wg >= p.rows) return; // uniform for the workgroup: barriers stay legal
    norm_row(wg, gl_LocalInvocationID.x, gl_WorkGroupSize.x);
#endif
}
