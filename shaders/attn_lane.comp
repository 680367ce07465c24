#version 450
// attn_lane.comp — attention for CPU drivers (lavapipe): one workgroup of
// VKG_ATTN_LANE_WG invocations (one subgroup) per (query token, GH query heads
// of one KV head, KV split), the same semantics as attn.comp (causal, GQA,
// dk != dv, scale, soft-capping, sliding window, paged KV, kv_start, partials
// for splits).
//
// GH (specialization constant 3, the launcher's choice, 1 by default): the
// query heads that share a KV head are taken GH at a time, and each K and V
// texel fetched serves all GH of them. A texel fetch is a call on llvmpipe
// (README, "Rows per invocation"), the most expensive step of the loop.
//
// Each invocation walks every VKG_ATTN_LANE_WG-th kv position of the range with
// its own online softmax (running max m, sum l and accumulator acc in
// registers): no shared memory and no barrier inside the loop. The
// invocations' (m, l, acc) are merged once at the end with subgroup max / add.
// Q, K, V and the page table are read through uniform texel buffers: on llvmpipe a
// texel fetch is one gather, while every storage-buffer or shared-memory load
// is a scalar loop over the lanes with a branch per lane and component.
// The query row and acc live in registers: dk / 4 and dv / 4 are compiled in
// (specialization constants 1 and 2, set by the launcher per model), so the
// loops over them unroll and index the arrays with constants (llvmpipe runs
// both sides of a branch under a mask: a runtime bound would cost the maximum).
//   attn_lane        writes the output row
//   attn_lane_split  writes the (m, l, acc) partial record of split z
//                    (merged by attn_combine, like attn_split)
//   *_f16            F16 KV pages (8 halves per texel)
//   *_vk             V is the first dv elements of each K row (kv_cache.h v_in_k: DeepSeek-V2's
//                    MLA latent, K = [latent | k_pe], V = latent): the K texels fetched for the
//                    scores serve as V too, kept in registers, so a position costs dk / 4
//                    fetches instead of (dk + dv) / 4 (pool_v is not read)
//! variant attn_lane
//! variant attn_lane_split SPLIT
//! variant attn_lane_f16 KV_F16
//! variant attn_lane_split_f16 SPLIT KV_F16
//! variant attn_lane_vk V_IN_K
//! variant attn_lane_split_vk SPLIT V_IN_K
//! variant attn_lane_f16_vk KV_F16 V_IN_K
//! variant attn_lane_split_f16_vk SPLIT KV_F16 V_IN_K
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_attention.h"
#include "f16.glsl"
VKG_PUSH_CONSTANTS(vkg_push_attn);

#define NEG_BIG (-1.0e30)
#define WG VKG_ATTN_LANE_WG // == gl_WorkGroupSize.x (the op table's local size)
layout(constant_id = 1) const uint DK4 = 16u; // dk / 4 (the launcher specializes both)
layout(constant_id = 2) const uint DV4 = 16u; // dv / 4
layout(constant_id = 3) const uint GH = 1u;   // query heads per workgroup (divides the heads per KV head)

layout(binding = 0) uniform usamplerBuffer Q;                   // [n_tokens][n_heads][dk] f32 from q_off (% 4 == 0)
layout(binding = 1) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 2) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 3) uniform usamplerBuffer pages;               // page ids, 4 per texel
layout(binding = 4) uniform usamplerBuffer pool_k;              // [n_pages][n_kv_heads][page_size][dk], 16 B texels
layout(binding = 5) uniform usamplerBuffer pool_v;              // [n_pages][n_kv_heads][page_size][dv] (*_vk: unread)
layout(binding = 6) writeonly buffer Out { float o[]; };        // output, or partial records

#ifdef KV_F16
// half a texel by unpackHalf2x16 (exact for every half; the branchy integer
// conversion of dtype.glsl runs all its paths under a mask on llvmpipe); whole
// texels by f16x8 (f16.glsl)
vec4 f16x4(uvec2 w) { return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y)); }
// 4 halves i of the pool (uvec2 units): half of a texel
vec4 load4(usamplerBuffer t, uint i)
{
    uvec4 w = texelFetch(t, int(i >> 1));
    return f16x4((i & 1u) != 0u ? w.zw : w.xy);
}
// F16 rows of an even number of vec4s (dk, dv multiples of 8) are whole texels: one fetch
// gives two vec4s, half the fetches of load4
#define PAIRS(n) ((n) % 2u == 0u)
#else
vec4 load4(usamplerBuffer t, uint i) { return uintBitsToFloat(texelFetch(t, int(i))); }
#define PAIRS(n) false
#endif

float softcap(float s)
{
    if (p.softcap <= 0.0) return s;
    float x = s / p.softcap, e = exp(-2.0 * abs(x)); // tanh without exp overflow
    return p.softcap * sign(x) * (1.0 - e) / (1.0 + e);
}

uint page_id(uint i) { return texelFetch(pages, int(i >> 2))[i & 3u]; }

void main()
{
    uint lane = gl_LocalInvocationID.x, W = gl_WorkGroupSize.x;
    uint tok = gl_WorkGroupID.x, head0 = gl_WorkGroupID.y * GH; // query heads head0 .. head0 + GH - 1
    uint kvh = head0 / (p.n_heads / p.n_kv_heads);
    ivec2 tk = tokens[p.tok_off + tok];
    uvec2 sq = uint(tk.x) < uint(seqs.length()) ? seqs[tk.x] : uvec2(0u); // bad seq id: nothing visible
    // the token's visible positions [lo, hi] that exist (HF masks: causal, sliding window)
    int hi = min(tk.y, int(sq.y) - 1);
    int lo = max(int(p.kv_start), p.window > 0u ? tk.y - int(p.window) + 1 : 0);
#ifdef SPLIT
    lo = max(lo, int(p.kv_start + gl_WorkGroupID.z * p.split_len));
    if (gl_WorkGroupID.z + 1u < p.n_split) hi = min(hi, int(p.kv_start + (gl_WorkGroupID.z + 1u) * p.split_len) - 1);
#endif
    // head g's query row is qr[g * DK4 ..], its accumulator acc[g * DV4 ..]
    vec4 qr[GH * DK4], acc[GH * DV4];
    float m[GH], l[GH];
    [[unroll]] for (uint g = 0u; g < GH; g++) {
        uint qb = p.q_off + (tok * p.n_heads + head0 + g) * p.dk;
        [[unroll]] for (uint d = 0u; d < DK4; d++)
            qr[g * DK4 + d] = uintBitsToFloat(texelFetch(Q, int((qb >> 2) + d))) * p.scale;
        [[unroll]] for (uint d = 0u; d < DV4; d++) acc[g * DV4 + d] = vec4(0.0);
        m[g] = NEG_BIG;
        l[g] = 0.0;
    }
    // a do-while (common.glsl, "Loops on llvmpipe"): no masked pass after the last position
    int pos = lo + int(lane);
    if (pos <= hi) do {
        uint page = page_id(sq.x + uint(pos) / p.page_size);
        uint slot = (page * p.n_kv_heads + kvh) * p.page_size + uint(pos) % p.page_size;
        float s[GH];
        [[unroll]] for (uint g = 0u; g < GH; g++) s[g] = 0.0;
#ifdef V_IN_K
        vec4 vr[DV4]; // this position's V: the K row's first DV4 vec4s (DV4 <= DK4)
#define KEEP_V(d, x) if ((d) < DV4) vr[d] = (x)
#else
#define KEEP_V(d, x)
#endif
        if (PAIRS(DK4)) {
            [[unroll]] for (uint d = 0u; d < DK4; d += 2u) {
                uvec4 w = texelFetch(pool_k, int((slot * DK4 + d) >> 1));
                vec4 ka = uintBitsToFloat(w), kb = ka;
#ifdef KV_F16
                f16x8(w, ka, kb);
#endif
                [[unroll]] for (uint g = 0u; g < GH; g++) s[g] += dot(qr[g * DK4 + d], ka) + dot(qr[g * DK4 + d + 1u], kb);
                KEEP_V(d, ka);
                KEEP_V(d + 1u, kb);
            }
        } else {
            [[unroll]] for (uint d = 0u; d < DK4; d++) {
                vec4 k = load4(pool_k, slot * DK4 + d);
                [[unroll]] for (uint g = 0u; g < GH; g++) s[g] += dot(qr[g * DK4 + d], k);
                KEEP_V(d, k);
            }
        }
        float alpha[GH], pr[GH];
        [[unroll]] for (uint g = 0u; g < GH; g++) {
            float sc = softcap(s[g]);
            float mn = max(m[g], sc);
            alpha[g] = exp(m[g] - mn);
            pr[g] = exp(sc - mn);
            m[g] = mn;
            l[g] = l[g] * alpha[g] + pr[g];
        }
#ifdef V_IN_K
        [[unroll]] for (uint d = 0u; d < DV4; d++)
            [[unroll]] for (uint g = 0u; g < GH; g++) acc[g * DV4 + d] = acc[g * DV4 + d] * alpha[g] + pr[g] * vr[d];
#else
        if (PAIRS(DV4)) {
            [[unroll]] for (uint d = 0u; d < DV4; d += 2u) {
                uvec4 w = texelFetch(pool_v, int((slot * DV4 + d) >> 1));
                vec4 va = uintBitsToFloat(w), vb = va;
#ifdef KV_F16
                f16x8(w, va, vb);
#endif
                [[unroll]] for (uint g = 0u; g < GH; g++) {
                    acc[g * DV4 + d] = acc[g * DV4 + d] * alpha[g] + pr[g] * va;
                    acc[g * DV4 + d + 1u] = acc[g * DV4 + d + 1u] * alpha[g] + pr[g] * vb;
                }
            }
        } else {
            [[unroll]] for (uint d = 0u; d < DV4; d++) {
                vec4 v = load4(pool_v, slot * DV4 + d);
                [[unroll]] for (uint g = 0u; g < GH; g++) acc[g * DV4 + d] = acc[g * DV4 + d] * alpha[g] + pr[g] * v;
            }
        }
#endif
        pos += int(W);
    } while (pos <= hi);
    // merge the lanes, per head: M = max m, L = sum l e^(m - M), A = sum acc e^(m - M)
    [[unroll]] for (uint g = 0u; g < GH; g++) {
        float mx = subgroupMax(m[g]);
        float f = m[g] > 0.5 * NEG_BIG ? exp(m[g] - mx) : 0.0; // a lane that saw nothing adds nothing
        float L = subgroupAdd(l[g] * f);
        uint row = tok * p.n_heads + head0 + g;
#ifdef SPLIT
        uint base = p.o_off + (row * p.part_stride + p.part_base + gl_WorkGroupID.z) * (2u + p.dv);
        if (lane == 0u) {
            o[base] = mx;
            o[base + 1u] = L;
        }
        base += 2u;
        float inv = 1.0;
#else
        uint base = p.o_off + row * p.dv;
        float inv = L > 0.0 ? 1.0 / L : 0.0;
#endif
        // every lane has every sum; lane j stores vec4s j, j + WG, ...: a store is a loop over the
        // lanes on llvmpipe, so WG times fewer of them than lane 0 storing all
        vec4 mine[(DV4 + WG - 1u) / WG];
        [[unroll]] for (uint d = 0u; d < DV4; d++) {
            vec4 a = subgroupAdd(acc[g * DV4 + d] * f) * inv;
            if (lane == d % WG) mine[d / WG] = a;
        }
        [[unroll]] for (uint i = 0u; i < (DV4 + WG - 1u) / WG; i++) {
            uint d = i * WG + lane;
            if (d < DV4) {
                o[base + 4u * d] = mine[i].x;
                o[base + 4u * d + 1u] = mine[i].y;
                o[base + 4u * d + 2u] = mine[i].z;
                o[base + 4u * d + 3u] = mine[i].w;
            }
        }
    }
}
