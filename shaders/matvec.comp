#version 450
// matvec.comp — decode: y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o]) for
// 1..8 vectors in one launch (NT1 variants: exactly one). A workgroup owns VKG_MATVEC_ROWS weight rows and
// reads each weight once for all vectors (decode is bound by weight bytes);
// each thread walks a row in chunks of 8 columns, then the workgroup reduces
// its partial sums: subgroupAdd + one shared-memory step (SUBGROUP variants)
// or a shared-memory tree (the fallback tier, VKGRM_DISABLE_SUBGROUP=1).
// The 1-D workgroup index may be folded into a 2-D grid (vocab-sized n_out).
// LANE variants (the CPU-driver tier, e.g. lavapipe): one weight row per
// invocation, each walking its whole row, so a workgroup has no shared memory,
// no barrier and no cross-lane reduction: a CPU driver runs it as one SIMD loop
// over its rows, where the reducing variants pay a context switch per barrier
// and a workgroup launch per 4 rows. Uncoalesced on a GPU: never picked there.
//! variant matvec1_f32_sg W_F32 SUBGROUP NT1
//! variant matvec1_f16_sg W_F16 SUBGROUP NT1
//! variant matvec1_bf16_sg W_BF16 SUBGROUP NT1
//! variant matvec1_q8_0_sg W_Q8_0 SUBGROUP NT1
//! variant matvec1_q4_sg W_Q4 SUBGROUP NT1
//! variant matvec1_q4_1_sg W_Q4_1 SUBGROUP NT1
//! variant matvec1_q5_0_sg W_Q5_0 SUBGROUP NT1
//! variant matvec1_q5_1_sg W_Q5_1 SUBGROUP NT1
//! variant matvec1_q4_k_sg W_Q4_K SUBGROUP NT1
//! variant matvec1_q5_k_sg W_Q5_K SUBGROUP NT1
//! variant matvec1_q6_k_sg W_Q6_K SUBGROUP NT1
//! variant matvec1_f32 W_F32 NT1
//! variant matvec1_f16 W_F16 NT1
//! variant matvec1_bf16 W_BF16 NT1
//! variant matvec1_q8_0 W_Q8_0 NT1
//! variant matvec1_q4 W_Q4 NT1
//! variant matvec1_q4_1 W_Q4_1 NT1
//! variant matvec1_q5_0 W_Q5_0 NT1
//! variant matvec1_q5_1 W_Q5_1 NT1
//! variant matvec1_q4_k W_Q4_K NT1
//! variant matvec1_q5_k W_Q5_K NT1
//! variant matvec1_q6_k W_Q6_K NT1
//! variant matvec_f32_sg W_F32 SUBGROUP
//! variant matvec_f16_sg W_F16 SUBGROUP
//! variant matvec_bf16_sg W_BF16 SUBGROUP
//! variant matvec_q8_0_sg W_Q8_0 SUBGROUP
//! variant matvec_q4_sg W_Q4 SUBGROUP
//! variant matvec_q4_1_sg W_Q4_1 SUBGROUP
//! variant matvec_q5_0_sg W_Q5_0 SUBGROUP
//! variant matvec_q5_1_sg W_Q5_1 SUBGROUP
//! variant matvec_q4_k_sg W_Q4_K SUBGROUP
//! variant matvec_q5_k_sg W_Q5_K SUBGROUP
//! variant matvec_q6_k_sg W_Q6_K SUBGROUP
//! variant matvec_f32 W_F32
//! variant matvec_f16 W_F16
//! variant matvec_bf16 W_BF16
//! variant matvec_q8_0 W_Q8_0
//! variant matvec_q4 W_Q4
//! variant matvec_q4_1 W_Q4_1
//! variant matvec_q5_0 W_Q5_0
//! variant matvec_q5_1 W_Q5_1
//! variant matvec_q4_k W_Q4_K
//! variant matvec_q5_k W_Q5_K
//! variant matvec_q6_k W_Q6_K
//! variant matvec1_f32_lane W_F32 LANE NT1
//! variant matvec1_f16_lane W_F16 LANE NT1
//! variant matvec1_bf16_lane W_BF16 LANE NT1
//! variant matvec1_q8_0_lane W_Q8_0 LANE NT1
//! variant matvec1_q4_lane W_Q4 LANE NT1
//! variant matvec1_q4_1_lane W_Q4_1 LANE NT1
//! variant matvec1_q5_0_lane W_Q5_0 LANE NT1
//! variant matvec1_q5_1_lane W_Q5_1 LANE NT1
//! variant matvec1_q4_k_lane W_Q4_K LANE NT1
//! variant matvec1_q5_k_lane W_Q5_K LANE NT1
//! variant matvec1_q6_k_lane W_Q6_K LANE NT1
//! variant matvec_f32_lane W_F32 LANE
//! variant matvec_f16_lane W_F16 LANE
//! variant matvec_bf16_lane W_BF16 LANE
//! variant matvec_q8_0_lane W_Q8_0 LANE
//! variant matvec_q4_lane W_Q4 LANE
//! variant matvec_q4_1_lane W_Q4_1 LANE
//! variant matvec_q5_0_lane W_Q5_0 LANE
//! variant matvec_q5_1_lane W_Q5_1 LANE
//! variant matvec_q4_k_lane W_Q4_K LANE
//! variant matvec_q5_k_lane W_Q5_K LANE
//! variant matvec_q6_k_lane W_Q6_K LANE
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#ifdef LANE
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#endif
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#include "push_matmul.h"
VKG_PUSH_CONSTANTS(vkg_push_matmul);
#include "matmul_load.glsl"

layout(constant_id = 0) const uint WG = 64; // == local_size_x (a power of two: tree reduction)

#define NR VKG_MATVEC_ROWS
#ifdef NT1
#define NT 1u // single-vector decode: no unused token slots (about 2x faster)
#else
#define NT 8u // up to 8 vectors
#endif
#define NS (NR * NT) // partial sums per thread: [row][token]

#ifdef LANE
#define LR VKG_MATVEC_LANE_ROWS // rows per invocation: each x chunk read serves LR rows
// x is the same for every lane, yet each lane's load of it is a gather of its
// own on a CPU driver; so lane l of each 8 loads one part (NT1: chunk l of the
// next 8, else token l's chunk) and the lanes take the parts from each other
// with subgroupBroadcast of a constant lane (an element extract on a CPU).
// Needs a subgroup of at least 8 lanes (the host checks); every lane stays
// active for the broadcasts, those past n_out only skip their loads and stores.
void load_rows(uint row0, uint nr, uint k, out float w[LR][8])
{
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        if (r < nr) load_w8(row0 + r * WG, k, w[r]);
        else
            [[unroll]] for (uint j = 0u; j < 8u; j++) w[r][j] = 0.0;
    }
}

void dot_rows(float w[LR][8], vec4 xa, vec4 xb, inout float acc[LR * NT], uint t)
{
    float x8[8] = float[8](xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w);
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        float s = 0.0;
        [[unroll]] for (uint j = 0u; j < 8u; j++) s += w[r][j] * x8[j];
        acc[r * NT + t] += s;
    }
}

vec4 x_part(uint xb, uint k, uint half_)
{
    float x8[8];
    load_x8(xb, k, x8);
    return half_ == 0u ? vec4(x8[0], x8[1], x8[2], x8[3]) : vec4(x8[4], x8[5], x8[6], x8[7]);
}

void main()
{
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint row0 = g * WG * LR + gl_LocalInvocationID.x; // rows row0 + r * WG
    uint nr = row0 < p.n_out ? min(LR, (p.n_out - row0 + WG - 1u) / WG) : 0u; // 0: no rows, still active
    uint l8 = gl_SubgroupInvocationID & 7u;
    float acc[LR * NT];
    [[unroll]] for (uint i = 0u; i < LR * NT; i++) acc[i] = 0.0;
#ifdef NT1
    for (uint k0 = 0u; k0 < p.n_in; k0 += 64u) {
        uint kl = k0 + l8 * 8u; // this lane's chunk of the next 64 columns
        vec4 ma = vec4(0.0), mb = vec4(0.0);
        if (kl < p.n_in) {
            ma = x_part(p.x_off + kl, kl, 0u);
            mb = x_part(p.x_off + kl, kl, 1u);
        }
#define VKG_CHUNK(c)                                                                                           \
    if (k0 + c * 8u < p.n_in) {                                                                                \
        float w[LR][8];                                                                                        \
        load_rows(row0, nr, k0 + c * 8u, w);                                                                   \
        dot_rows(w, subgroupBroadcast(ma, c), subgroupBroadcast(mb, c), acc, 0u);                              \
    }
        VKG_CHUNK(0u) VKG_CHUNK(1u) VKG_CHUNK(2u) VKG_CHUNK(3u) VKG_CHUNK(4u) VKG_CHUNK(5u) VKG_CHUNK(6u) VKG_CHUNK(7u)
#undef VKG_CHUNK
    }
    uint t0 = 0u, nt = 1u;
#else
    // tokens [t0, t0 + nt): block gl_WorkGroupID.z of 8 (more than 8 vectors
    // re-read W once per block; the host picks this up to VKG_MATVEC_LANE_MAX_TOK)
    uint t0 = gl_WorkGroupID.z * 8u, nt = min(8u, p.n_tok - t0);
    uint xt = p.x_off + (t0 + l8) * p.x_stride;
    for (uint k = 0u; k < p.n_in; k += 8u) {
        vec4 ma = vec4(0.0), mb = vec4(0.0); // token t0 + l8's x[k .. k+7]
        if (l8 < nt) {
            ma = x_part(xt + k, k, 0u);
            mb = x_part(xt + k, k, 1u);
        }
        float w[LR][8];
        load_rows(row0, nr, k, w);
#define VKG_TOKEN(t) \
    if (t < nt) dot_rows(w, subgroupBroadcast(ma, t), subgroupBroadcast(mb, t), acc, t);
        VKG_TOKEN(0u) VKG_TOKEN(1u) VKG_TOKEN(2u) VKG_TOKEN(3u) VKG_TOKEN(4u) VKG_TOKEN(5u) VKG_TOKEN(6u) VKG_TOKEN(7u)
#undef VKG_TOKEN
    }
#endif
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        if (r >= nr) break;
        uint row = row0 + r * WG;
        float b = p.has_bias != 0u ? B[p.b_off + row] : 0.0;
        [[unroll]] for (uint t = 0u; t < NT; t++)
            if (t < nt) Y[p.y_off + (t0 + t) * p.y_stride + row] = acc[r * NT + t] + b;
    }
}
#else
// SUBGROUP: [subgroup][NS] (at most WG subgroups); tree: [NS][WG]
shared float red[NS * WG];

void store(uint i, uint row0, float s) // partial-sum slot i = r * NT + t
{
    uint row = row0 + i / NT, t = i % NT;
    if (row >= p.n_out || t >= p.n_tok) return;
    if (p.has_bias != 0u) s += B[p.b_off + row];
    Y[p.y_off + t * p.y_stride + row] = s;
}

void reduce_store(inout float acc[NS], uint row0, uint tid)
{
#ifdef SUBGROUP
    for (uint i = 0u; i < NS; i++) acc[i] = subgroupAdd(acc[i]);
    if (subgroupElect())
        for (uint i = 0u; i < NS; i++) red[gl_SubgroupID * NS + i] = acc[i];
    barrier();
    if (tid < NS) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++) s += red[g * NS + tid];
        store(tid, row0, s);
    }
#else
    for (uint i = 0u; i < NS; i++) red[i * WG + tid] = acc[i];
    barrier();
    for (uint h = WG / 2u; h > 0u; h >>= 1) {
        if (tid < h)
            for (uint i = 0u; i < NS; i++) red[i * WG + tid] += red[i * WG + tid + h];
        barrier();
    }
    if (tid < NS) store(tid, row0, red[tid * WG]);
#endif
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint row0 = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * NR;
    float acc[NS];
    [[unroll]] for (uint i = 0u; i < NS; i++) acc[i] = 0.0;
    for (uint k = tid * 8u; k < p.n_in; k += WG * 8u) {
        // x[t][k .. k+7] once for all rows of the workgroup
        float xv[NT * 8u];
        [[unroll]] for (uint t = 0u; t < NT; t++) {
            float x8[8];
            if (t < p.n_tok) load_x8(p.x_off + t * p.x_stride + k, k, x8);
            [[unroll]] for (uint j = 0u; j < 8u; j++) xv[t * 8u + j] = t < p.n_tok ? x8[j] : 0.0;
        }
        [[unroll]] for (uint r = 0u; r < NR; r++) {
            if (row0 + r >= p.n_out) continue; // uniform across the workgroup
            float w[8];
            load_w8(row0 + r, k, w);
            [[unroll]] for (uint t = 0u; t < NT; t++) {
                if (t >= p.n_tok) continue;
                float s = 0.0;
                [[unroll]] for (uint j = 0u; j < 8u; j++) s += w[j] * xv[t * 8u + j];
                acc[r * NT + t] += s;
            }
        }
    }
    reduce_store(acc, row0, tid);
}
#endif
