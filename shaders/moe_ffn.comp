#version 450
// moe_ffn.comp — expert FFN over stacked weights, one dispatch for all the
// experts of a weight window. Workgroup y is one tile of TR pairs from the
// tile list that moe_scan wrote (expert, tile); workgroup x covers m_per_wg
// output rows, NR at a time. Workgroups past the number of tiles, or whose
// expert is outside the bound window, exit at once: the host sizes the grid
// by an upper bound and never reads the routing back.
//   gate_up: h[pair][m] = silu(Wg[e][m] . x[pair / k]) * (Wu[e][m] . x[pair / k])
//   down:    y[pair][m] = Wd[e][m] . h[pair]
// Weights are F32, F16 or BF16 read through uint words, or Q8_0 / Q4 blocks
// of 32 along K (quant.glsl; K % 32 == 0); input rows are F32. w0_off/w1_off
// count elements for float weights and bytes for blocks.
// Scalar tier: the workgroup strides K, then the NR x TR (x2) partial sums
// are reduced through shared memory in a fixed order. SG tier: each subgroup
// takes its own NR rows, strides K and reduces with subgroupAdd (no barrier).
//! variant moe_gate_up_f32 GATE_UP W_F32
//! variant moe_gate_up_f16 GATE_UP W_F16
//! variant moe_gate_up_bf16 GATE_UP W_BF16
//! variant moe_down_f32 W_F32
//! variant moe_down_f16 W_F16
//! variant moe_down_bf16 W_BF16
//! variant moe_gate_up_f32_sg GATE_UP W_F32 SG
//! variant moe_gate_up_f16_sg GATE_UP W_F16 SG
//! variant moe_gate_up_bf16_sg GATE_UP W_BF16 SG
//! variant moe_down_f32_sg W_F32 SG
//! variant moe_down_f16_sg W_F16 SG
//! variant moe_down_bf16_sg W_BF16 SG
//! variant moe_gate_up_q8_0 GATE_UP W_Q8_0
//! variant moe_gate_up_q4 GATE_UP W_Q4
//! variant moe_down_q8_0 W_Q8_0
//! variant moe_down_q4 W_Q4
//! variant moe_gate_up_q8_0_sg GATE_UP W_Q8_0 SG
//! variant moe_gate_up_q4_sg GATE_UP W_Q4 SG
//! variant moe_down_q8_0_sg W_Q8_0 SG
//! variant moe_down_q4_sg W_Q4 SG
//! variant moe_gate_up_q4_1 GATE_UP W_Q4_1
//! variant moe_down_q4_1 W_Q4_1
//! variant moe_gate_up_q5_0 GATE_UP W_Q5_0
//! variant moe_down_q5_0 W_Q5_0
//! variant moe_gate_up_q5_1 GATE_UP W_Q5_1
//! variant moe_down_q5_1 W_Q5_1
//! variant moe_gate_up_q4_k GATE_UP W_Q4_K
//! variant moe_down_q4_k W_Q4_K
//! variant moe_gate_up_q5_k GATE_UP W_Q5_K
//! variant moe_down_q5_k W_Q5_K
//! variant moe_gate_up_q6_k GATE_UP W_Q6_K
//! variant moe_down_q6_k W_Q6_K
//! variant moe_gate_up_q4_1_sg GATE_UP W_Q4_1 SG
//! variant moe_down_q4_1_sg W_Q4_1 SG
//! variant moe_gate_up_q5_0_sg GATE_UP W_Q5_0 SG
//! variant moe_down_q5_0_sg W_Q5_0 SG
//! variant moe_gate_up_q5_1_sg GATE_UP W_Q5_1 SG
//! variant moe_down_q5_1_sg W_Q5_1 SG
//! variant moe_gate_up_q4_k_sg GATE_UP W_Q4_K SG
//! variant moe_down_q4_k_sg W_Q4_K SG
//! variant moe_gate_up_q5_k_sg GATE_UP W_Q5_K SG
//! variant moe_down_q5_k_sg W_Q5_K SG
//! variant moe_gate_up_q6_k_sg GATE_UP W_Q6_K SG
//! variant moe_down_q6_k_sg W_Q6_K SG
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#include "push_moe.h"
VKG_PUSH_CONSTANTS(vkg_push_moe_ffn);

#define TR VKG_MOE_TILE // pairs per tile: each weight load is used TR times
#ifdef GATE_UP
#define NR 2u
#define NMAT 2u
#define B_ROUTE 3
#define B_LIST 4
#define B_OUT 5
#else
#define NR 4u
#define NMAT 1u
#define B_ROUTE 2
#define B_LIST 3
#define B_OUT 4
#endif
#define NV (NMAT * NR * TR) // partial sums per invocation (<= workgroup size)

layout(binding = 0) readonly buffer In { float xin[]; };  // x [n_tok][K] or h [pairs][K]
layout(binding = 1) readonly buffer W0 { uint w0[]; };    // gate or down [experts][M][K]
#ifdef GATE_UP
layout(binding = 2) readonly buffer W1 { uint w1[]; };    // up [experts][M][K]
#endif
layout(binding = B_ROUTE) readonly buffer Route { uint route[]; }; // counts|offsets|cursors|n_tiles|tiles
layout(binding = B_LIST) readonly buffer List { uint list[]; };    // pairs grouped by expert
layout(binding = B_OUT) writeonly buffer Out { float yout[]; };    // [pairs][M]

// Weight element i of the window whose start is `off` (elements or bytes).
#if defined(W_F32)
#define WLOAD(BUF, off, i) uintBitsToFloat(BUF[(off) + (i)])
#elif defined(W_F16)
#define WLOAD(BUF, off, i) vkg_f16_to_f32((BUF[((off) + (i)) >> 1] >> ((((off) + (i)) & 1u) * 16u)) & 0xffffu)
#elif defined(W_BF16)
#define WLOAD(BUF, off, i) vkg_bf16_to_f32((BUF[((off) + (i)) >> 1] >> ((((off) + (i)) & 1u) * 16u)) & 0xffffu)
#elif defined(W_Q4_1) || defined(W_Q5_0) || defined(W_Q5_1) || defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
// ggml's block types: ggml_value of ggml_quants.glsl, included once per weight buffer
#define QBUF w0
#include "ggml_quants.glsl"
#ifdef GATE_UP
#undef QBUF
#define QBUF w1
#define w_bytes8 w1_bytes8
#define mm_f16_to_f32 w1_f16_to_f32
#define w_scale w1_scale
#define w_byte w1_byte
#define byte8 w1_byte8
#define load_ggml32 w1_load_ggml32
#define scale_min_k4 w1_scale_min_k4
#define load_ggmlk w1_load_ggmlk
#define load_q6k_fields w1_load_q6k_fields
#define ggml_value w1_ggml_value
#include "ggml_quants.glsl"
#undef ggml_value
#endif
#ifdef W_GGML32
#define GGML_BS 32u
#else
#define GGML_BS 256u
#endif
float wload_w0(uint off, uint i) { return ggml_value(off + (i / GGML_BS) * QBYTES, i % GGML_BS); }
#ifdef GATE_UP
float wload_w1(uint off, uint i) { return w1_ggml_value(off + (i / GGML_BS) * QBYTES, i % GGML_BS); }
#endif
#define WLOAD(BUF, off, i) wload_##BUF(off, i)
#elif defined(W_Q8_0)
#define WLOAD(BUF, off, i) \
    (VKG_QSCALE(BUF, (off) + ((i) >> 5) * VKG_Q8_0_BYTES) * VKG_Q8_0_Q(BUF, (off) + ((i) >> 5) * VKG_Q8_0_BYTES, (i) & 31u))
#else
#define WLOAD(BUF, off, i) \
    (VKG_QSCALE(BUF, (off) + ((i) >> 5) * VKG_Q4_BYTES) * VKG_Q4_Q(BUF, (off) + ((i) >> 5) * VKG_Q4_BYTES, (i) & 31u))
#endif

shared uint s_pair[TR];
shared uint s_row[TR];
#ifndef SG
shared float s_red[NV * gl_WorkGroupSize.x];
#endif

// Partial sums over K = k0, k0 + stride, ... for the tile's pairs;
// acc[(mat*NR + r)*TR + i]. Every loop has a constant trip count and is
// unrolled, so acc stays in registers (a dynamically indexed array goes to
// memory, very slow on CPU drivers); slots past nvalid are skipped (their
// sums stay 0 and are never written out).
void accumulate(uint m0, uint wrow0, uint k0, uint stride, uint nvalid, inout float acc[NV])
{
    for (uint kk = k0; kk < p.K; kk += stride) {
        float wv[NMAT * NR];
        [[unroll]] for (uint r = 0u; r < NR; r++) {
            bool ok = m0 + r < p.M;
            uint wi = wrow0 + r * p.K + kk;
            wv[r] = ok ? WLOAD(w0, p.w0_off, wi) : 0.0;
#ifdef GATE_UP
            wv[NR + r] = ok ? WLOAD(w1, p.w1_off, wi) : 0.0;
#endif
        }
        [[unroll]] for (uint i = 0u; i < TR; i++) {
            if (i >= nvalid) break; // uniform: decode skips the empty slots
            float xv = xin[p.in_off + s_row[i] * p.K + kk];
            [[unroll]] for (uint v = 0u; v < NMAT * NR; v++) acc[v * TR + i] += wv[v] * xv;
        }
    }
}

#if defined(W_F32) || defined(W_F16) || defined(W_BF16)
// The float weights and the inputs seen as 16-byte vectors (p.vec: K % 8 == 0
// and every window offset 16-byte aligned), 8 values per load: on a CPU driver
// every load is a per-lane gather, so 8x fewer loads is most of the time.
layout(binding = 0) readonly buffer In4 { vec4 xin4[]; };
layout(binding = 1) readonly buffer W04 { uvec4 w04[]; };
#ifdef GATE_UP
layout(binding = 2) readonly buffer W14 { uvec4 w14[]; };
#endif
#ifdef W_F32
#define W8(BUF, e, dst)                                                                                    \
    {                                                                                                    \
        vec4 a_ = uintBitsToFloat(BUF[(e) >> 2]), b_ = uintBitsToFloat(BUF[((e) >> 2) + 1u]);           \
        dst = float[8](a_.x, a_.y, a_.z, a_.w, b_.x, b_.y, b_.z, b_.w);                                    \
    }
#else
#ifdef W_F16
#define HB(h) vkg_f16_to_f32((h) & 0xffffu)
#else
#define HB(h) vkg_bf16_to_f32((h) & 0xffffu)
#endif
#define W8(BUF, e, dst)                                                                                    \
    {                                                                                                    \
        uvec4 a_ = BUF[(e) >> 3];                                                                        \
        dst = float[8](HB(a_.x), HB(a_.x >> 16), HB(a_.y), HB(a_.y >> 16), HB(a_.z), HB(a_.z >> 16),      \
                     HB(a_.w), HB(a_.w >> 16));                                                          \
    }
#endif

// accumulate() over chunks of 8 values: chunk k0, k0 + stride, ...
void accumulate8(uint m0, uint wrow0, uint k0, uint stride, uint nvalid, inout float acc[NV])
{
    for (uint kk = k0 * 8u; kk < p.K; kk += stride * 8u) {
        float wv[NMAT * NR][8];
        [[unroll]] for (uint r = 0u; r < NR; r++) {
            uint wi = wrow0 + r * p.K + kk;
            if (m0 + r < p.M) {
                W8(w04, p.w0_off + wi, wv[r]);
#ifdef GATE_UP
                W8(w14, p.w1_off + wi, wv[NR + r]);
#endif
            } else {
                [[unroll]] for (uint j = 0u; j < 8u; j++) {
                    wv[r][j] = 0.0;
#ifdef GATE_UP
                    wv[NR + r][j] = 0.0;
#endif
                }
            }
        }
        [[unroll]] for (uint i = 0u; i < TR; i++) {
            if (i >= nvalid) break; // uniform
            uint xb = (p.in_off + s_row[i] * p.K + kk) >> 2;
            vec4 xa = xin4[xb], xc = xin4[xb + 1u];
            float xv[8] = float[8](xa.x, xa.y, xa.z, xa.w, xc.x, xc.y, xc.z, xc.w);
            [[unroll]] for (uint v = 0u; v < NMAT * NR; v++) {
                float s = 0.0;
                [[unroll]] for (uint j = 0u; j < 8u; j++) s += wv[v][j] * xv[j];
                acc[v * TR + i] += s;
            }
        }
    }
}
#define ACCUMULATE(m0, wrow0, k0, stride, nvalid, acc)                                                     \
    if (p.vec != 0u) accumulate8(m0, wrow0, k0, stride, nvalid, acc);                                     \
    else accumulate(m0, wrow0, k0, stride, nvalid, acc)
#else
#define ACCUMULATE accumulate
#endif

// Output (r, i) from its full sums g (and u).
void store(uint m0, uint r, uint i, uint nvalid, float g, float u)
{
    if (i >= nvalid || m0 + r >= p.M) return;
#ifdef GATE_UP
    g = g / (1.0 + exp(-g)) * u; // silu(gate) * up
#endif
    yout[p.out_off + s_pair[i] * p.M + m0 + r] = g;
}

#ifdef SG
// Rows m0 .. m0+NR-1 by one subgroup.
void rows(uint e_local, uint m0, uint nvalid)
{
    float acc[NV];
    [[unroll]] for (uint v = 0u; v < NV; v++) acc[v] = 0.0;
    ACCUMULATE(m0, (e_local * p.M + m0) * p.K, gl_SubgroupInvocationID, gl_SubgroupSize, nvalid, acc);
    [[unroll]] for (uint v = 0u; v < NV; v++) acc[v] = subgroupAdd(acc[v]);
    if (gl_SubgroupInvocationID != 0u) return;
    [[unroll]] for (uint r = 0u; r < NR; r++)
        [[unroll]] for (uint i = 0u; i < TR; i++)
            store(m0, r, i, nvalid, acc[r * TR + i], NMAT > 1u ? acc[((NMAT - 1u) * NR + r) * TR + i] : 0.0);
}
#else
// Rows m0 .. m0+NR-1 by the whole workgroup.
void rows(uint e_local, uint m0, uint nvalid)
{
    uint t = gl_LocalInvocationID.x;
    float acc[NV];
    [[unroll]] for (uint v = 0u; v < NV; v++) acc[v] = 0.0;
    ACCUMULATE(m0, (e_local * p.M + m0) * p.K, t, gl_WorkGroupSize.x, nvalid, acc);
    [[unroll]] for (uint v = 0u; v < NV; v++) s_red[v * gl_WorkGroupSize.x + t] = acc[v];
    barrier();
    if (t < NV) {
        float s = 0.0;
        for (uint i = 0u; i < gl_WorkGroupSize.x; i++) s += s_red[t * gl_WorkGroupSize.x + i];
        s_red[t * gl_WorkGroupSize.x] = s;
    }
    barrier();
    uint r = t / TR, i = t % TR;
    if (t < NR * TR)
        store(m0, r, i, nvalid, s_red[(r * TR + i) * gl_WorkGroupSize.x],
              NMAT > 1u ? s_red[(((NMAT - 1u) * NR + r) * TR + i) * gl_WorkGroupSize.x] : 0.0);
    barrier(); // s_red is rewritten by the next rows
}
#endif

void main()
{
    uint e = 0u, tile = gl_WorkGroupID.y, count = p.n_rows, first = 0u;
    if (p.dense == 0u) { // the tile list written by moe_scan
        if (gl_WorkGroupID.y >= route[p.route_off + 3u * p.n_exp]) return;
        uint te = route[p.route_off + 3u * p.n_exp + 1u + gl_WorkGroupID.y];
        e = te & 1023u;
        tile = te >> 10;
        count = route[p.route_off + e];
        first = route[p.route_off + p.n_exp + e];
    }
    uint tile0 = tile * TR;
    // uniform for the workgroup: expert outside the bound window, or an empty tile
    if (e < p.e_base || e >= p.e_base + p.n_win || tile0 >= count) return;
    uint t = gl_LocalInvocationID.x;
    uint nvalid = min(TR, count - tile0);
    if (t < TR) { // slots past nvalid repeat the tile's first pair
        uint s = tile0 + (t < nvalid ? t : 0u);
        uint pair = p.dense != 0u ? s : list[p.list_off + first + s];
        s_pair[t] = pair;
        s_row[t] = pair / p.in_div;
    }
    barrier();
    uint m_begin = gl_WorkGroupID.x * p.m_per_wg;
    uint m_end = min(p.M, m_begin + p.m_per_wg);
#ifdef SG
    for (uint m0 = m_begin + gl_SubgroupID * NR; m0 < m_end; m0 += NR * gl_NumSubgroups) rows(e - p.e_base, m0, nvalid);
#else
    for (uint m0 = m_begin; m0 < m_end; m0 += NR) rows(e - p.e_base, m0, nvalid);
#endif
}
