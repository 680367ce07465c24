#version 450
// moe_lane.comp — the expert FFN passes of moe_ffn.comp (same grid, routing
// and outputs) for float and block-type weights on CPU drivers (lavapipe):
//   gate_up: h[pair][m] = silu(Wg[e][m] . x[pair / k]) * (Wu[e][m] . x[pair / k])
//   down:    y[pair][m] = Wd[e][m] . h[pair]
// Each invocation owns LR output rows (m0 + r * WG) of the workgroup's rows
// and all VKG_MOE_TILE pairs of its tile, walking K in chunks of 8 with the
// sums in registers: no shared memory, no barrier, no reduction. Weights and
// inputs are read through uniform texel buffers (16-byte texels; llvmpipe
// fetches them with one gather, where a storage-buffer load loops over the
// lanes). The host guarantees K % 8 == 0 and texel-aligned weight and input
// windows (p.vec of moe_ffn.comp). Slots of a tile past its pair count compute
// on the tile's first pair and are not stored. Every lane needs the same 8
// input rows, and a texel fetch is a call on llvmpipe that spills every
// register (README, "Rows per invocation"): lane q of each quad fetches pairs q
// and q + 4, and subgroupQuadBroadcast (an in-register permute there) hands
// them to the quad (quad_x.glsl), 4 fetches per 8 values instead of 16 (the host picks this
// kernel only with quad operations, use.quad). Models on CPU drivers store
// each expert's matrices in 8-row tiles (VKG_MOE_W_TILED, w_row): an 8-lane
// SIMD chunk's rows are then one sequential stream instead of one per row.
// The pair and K loops are do-whiles (common.glsl, "Loops on llvmpipe").
//! variant moe_gate_up_f32_lane GATE_UP W_F32
//! variant moe_gate_up_f16_lane GATE_UP W_F16
//! variant moe_gate_up_bf16_lane GATE_UP W_BF16
//! variant moe_down_f32_lane W_F32
//! variant moe_down_f16_lane W_F16
//! variant moe_down_bf16_lane W_BF16
//! variant moe_gate_up_f32_lane1 GATE_UP W_F32 ONE
//! variant moe_gate_up_f16_lane1 GATE_UP W_F16 ONE
//! variant moe_gate_up_bf16_lane1 GATE_UP W_BF16 ONE
//! variant moe_down_f32_lane1 W_F32 ONE
//! variant moe_down_f16_lane1 W_F16 ONE
//! variant moe_down_bf16_lane1 W_BF16 ONE
//! variant moe_gate_up_q8_0_lane GATE_UP W_Q8_0
//! variant moe_down_q8_0_lane W_Q8_0
//! variant moe_gate_up_q8_0_lane1 GATE_UP W_Q8_0 ONE
//! variant moe_down_q8_0_lane1 W_Q8_0 ONE
//! variant moe_gate_up_q4_lane GATE_UP W_Q4
//! variant moe_down_q4_lane W_Q4
//! variant moe_gate_up_q4_lane1 GATE_UP W_Q4 ONE
//! variant moe_down_q4_lane1 W_Q4 ONE
//! variant moe_gate_up_q4_1_lane GATE_UP W_Q4_1
//! variant moe_down_q4_1_lane W_Q4_1
//! variant moe_gate_up_q4_1_lane1 GATE_UP W_Q4_1 ONE
//! variant moe_down_q4_1_lane1 W_Q4_1 ONE
//! variant moe_gate_up_q5_0_lane GATE_UP W_Q5_0
//! variant moe_down_q5_0_lane W_Q5_0
//! variant moe_gate_up_q5_0_lane1 GATE_UP W_Q5_0 ONE
//! variant moe_down_q5_0_lane1 W_Q5_0 ONE
//! variant moe_gate_up_q5_1_lane GATE_UP W_Q5_1
//! variant moe_down_q5_1_lane W_Q5_1
//! variant moe_gate_up_q5_1_lane1 GATE_UP W_Q5_1 ONE
//! variant moe_down_q5_1_lane1 W_Q5_1 ONE
//! variant moe_gate_up_q4_k_lane GATE_UP W_Q4_K
//! variant moe_down_q4_k_lane W_Q4_K
//! variant moe_gate_up_q4_k_lane1 GATE_UP W_Q4_K ONE
//! variant moe_down_q4_k_lane1 W_Q4_K ONE
//! variant moe_gate_up_q5_k_lane GATE_UP W_Q5_K
//! variant moe_down_q5_k_lane W_Q5_K
//! variant moe_gate_up_q5_k_lane1 GATE_UP W_Q5_K ONE
//! variant moe_down_q5_k_lane1 W_Q5_K ONE
//! variant moe_gate_up_q6_k_lane GATE_UP W_Q6_K
//! variant moe_down_q6_k_lane W_Q6_K
//! variant moe_gate_up_q6_k_lane1 GATE_UP W_Q6_K ONE
//! variant moe_down_q6_k_lane1 W_Q6_K ONE
//! variant moe_gate_up_q4_k_lane1_xq8 GATE_UP W_Q4_K ONE XQ8
//! variant moe_down_q4_k_lane1_xq8 W_Q4_K ONE XQ8
//! variant moe_gate_up_q5_k_lane1_xq8 GATE_UP W_Q5_K ONE XQ8
//! variant moe_down_q5_k_lane1_xq8 W_Q5_K ONE XQ8
//! variant moe_gate_up_q6_k_lane1_xq8 GATE_UP W_Q6_K ONE XQ8
//! variant moe_down_q6_k_lane1_xq8 W_Q6_K ONE XQ8
//! variant moe_gate_up_q4_k_lane_xq8 GATE_UP W_Q4_K XQ8
//! variant moe_down_q4_k_lane_xq8 W_Q4_K XQ8
//! variant moe_gate_up_q5_k_lane_xq8 GATE_UP W_Q5_K XQ8
//! variant moe_down_q5_k_lane_xq8 W_Q5_K XQ8
//! variant moe_gate_up_q6_k_lane_xq8 GATE_UP W_Q6_K XQ8
//! variant moe_down_q6_k_lane_xq8 W_Q6_K XQ8
//! variant moe_gate_up_q4_lane1_xq8 GATE_UP W_Q4 ONE XQ8
//! variant moe_down_q4_lane1_xq8 W_Q4 ONE XQ8
//! variant moe_gate_up_q4_1_lane1_xq8 GATE_UP W_Q4_1 ONE XQ8
//! variant moe_down_q4_1_lane1_xq8 W_Q4_1 ONE XQ8
//! variant moe_gate_up_q5_0_lane1_xq8 GATE_UP W_Q5_0 ONE XQ8
//! variant moe_down_q5_0_lane1_xq8 W_Q5_0 ONE XQ8
//! variant moe_gate_up_q5_1_lane1_xq8 GATE_UP W_Q5_1 ONE XQ8
//! variant moe_down_q5_1_lane1_xq8 W_Q5_1 ONE XQ8
//! variant moe_gate_up_q4_lane_xq8 GATE_UP W_Q4 XQ8
//! variant moe_down_q4_lane_xq8 W_Q4 XQ8
//! variant moe_gate_up_q4_1_lane_xq8 GATE_UP W_Q4_1 XQ8
//! variant moe_down_q4_1_lane_xq8 W_Q4_1 XQ8
//! variant moe_gate_up_q5_0_lane_xq8 GATE_UP W_Q5_0 XQ8
//! variant moe_down_q5_0_lane_xq8 W_Q5_0 XQ8
//! variant moe_gate_up_q5_1_lane_xq8 GATE_UP W_Q5_1 XQ8
//! variant moe_down_q5_1_lane_xq8 W_Q5_1 XQ8
// Block types (Q8_0, ggml's Q4_0 = Q4, Q4_1 ... Q6_K): rows of blocks, w offsets in bytes, never
// tiled; the subgroup tier (moe_ffn.comp) reads a storage buffer one lane at a time on llvmpipe
// (12-49 ms for a 1-token pass that takes 0.2-1.0 ms here). Both loops walk them 16 values per
// step: w16 takes the values [k, k + 16) of a row out of one read of the texels that hold them,
// with realign() where a block starts inside a texel:
//   Q8_0 / Q4 / Q4_1 / Q5_0 / Q5_1 (34 / 18 / 20 / 22 / 24 bytes, even offsets): the 3 texels from
//     the block's first byte, realigned into its bytes 0-31 (Q8_0: 0-33): header and values;
//   Q4_K / Q5_K (144 / 176 bytes, w offsets % 16 == 0: every block on a texel): the header texel
//     (d, dmin, 12 scale bytes), the texel of the 16 nibble bytes (Q5_K: and of the 16 qh bytes);
//   Q6_K (210 bytes, even offsets): 16 ql bytes, 16 qh bytes, and the 16 scales with d, each
//     realigned out of two texels.
// The values are ggml's dequantize_row_* values (d * (q + offset) + m, unfused by `precise`).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_quad : require
#include "common.glsl"
#include "push_moe.h"
#include "push_matmul.h" // VKG_MATMUL_TILE_ROWS
#include "f16.glsl"
#include "quad_x.glsl"
#include "realign.glsl"
#include "k4_scales.glsl"
VKG_PUSH_CONSTANTS(vkg_push_moe_ffn);

layout(constant_id = 0) const uint WG = 32; // == local_size_x
// Q6_K experts in 8-row tiles (VKG_MOE_W_TILED): 1 with the tiles' split fields (push_matmul.h,
// VKG_Q6K_SPLIT_*: a row's ql, qh, scales and d each on a texel, no realigning), set by the host for
// such launches; 0 otherwise (a block at any even byte). A specialization, not a branch: llvmpipe
// runs both sides of a uniform branch under masks.
layout(constant_id = 1) const uint W_SPLIT = 0u;
// *_lane1_xq8: 1 takes the tile's pairs two at a time (each weight fetched and decoded once for both),
// set by the host when a pass has at least VKG_MOE_LANE2_PAIRS_XQ8 pairs per expert; 0 one at a time
layout(constant_id = 2) const uint PAIR2 = 0u;

#define TR VKG_MOE_TILE
#ifdef GATE_UP
#define LR VKG_MOE_LANE_ROWS_GATE_UP
#define NMAT 2u
#define B_ROUTE 3
#define B_LIST 4
#define B_OUT 5
#else
#define LR VKG_MOE_LANE_ROWS_DOWN
#define NMAT 1u
#define B_ROUTE 2
#define B_LIST 3
#define B_OUT 4
#endif

layout(binding = 0) uniform usamplerBuffer xin; // x [n_tok][K] or h [pairs][K], f32, 16-byte texels
layout(binding = 1) uniform usamplerBuffer w0;  // gate or down [experts][M][K]
#ifdef GATE_UP
layout(binding = 2) uniform usamplerBuffer w1; // up [experts][M][K]
#endif
layout(binding = B_ROUTE) readonly buffer Route { uint route[]; }; // counts|offsets|cursors|n_tiles|tiles
layout(binding = B_LIST) readonly buffer List { uint list[]; };    // pairs grouped by expert
layout(binding = B_OUT) writeonly buffer Out { float yout[]; };    // [pairs][M]

#if defined(W_Q8_0)
#define QB 34u // bytes per block
#elif defined(W_Q4)
#define QB 18u
#elif defined(W_Q4_1)
#define QB 20u // d, m, qs[16]
#elif defined(W_Q5_0)
#define QB 22u // d, qh (32 bits at byte 2), qs[16]
#elif defined(W_Q5_1)
#define QB 24u // d, m, qh (at byte 4), qs[16]
#elif defined(W_Q4_K)
#define QB 144u // d, dmin, scales[12], qs[128]
#elif defined(W_Q5_K)
#define QB 176u // d, dmin, scales[12], qh[32], qs[128]
#elif defined(W_Q6_K)
#define QB 210u // ql[128], qh[64], scales[16] (int8), d
#endif
#if defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
#define BS 256u // values per block
#define UB QB   // bytes per 256-value unit (the tiles' unit)
#define KQUANT
#elif defined(QB)
#define BS 32u
#define UB (8u * QB)
#endif
#ifdef W_F32
#define VT 4u // values per texel
#else
#define VT 8u
#endif
#ifdef QB
// 16 bytes of t from byte o (even): the two texels it touches, realigned
uvec4 raw16(usamplerBuffer t, uint o, uint last)
{
    return realign(texelFetch(t, int(o >> 4)), texelFetch(t, int(min((o >> 4) + 1u, last))), o & 15u);
}
// bytes 0..3 of w as the low bytes of 4 lanes
uvec4 bytes4(uint w) { return uvec4(w, w >> 8, w >> 16, w >> 24) & 255u; }
#endif
#ifdef QB
// The block types' values [k, k + 16) (k % 16 == 0) of a row whose first byte is tb, as w[0..3]:
// one read of the texels they share where two 8-value steps each made their own (the kernels walk
// block-type rows 16 values per step).
// q16: the 16 values' bytes q (value 4i + b in byte b of q[i]; Q8_0's signed) and sc, value =
// sc.x * (q + sc.z) + sc.y as ggml dequantizes it; w16: the values.
#ifndef KQUANT
// The 32-value types' block whose first byte is at byte s (even) of texel c0, c1, c2 (the three
// texels from the block's first: bytes [0, 16) A, [16, 32) B and, for Q8_0, [32, 48) C): values
// 0-15 (lo) and 16-31 (hi: the Q8_0 bytes 16-31, the others' high nibbles), each as q16's q, and
// their sc
#if defined(W_Q5_0) || defined(W_Q5_1)
// fifth bits: bit i of hb is value i's; spread bits 4n..4n+3 to bit 4 of word n's bytes by one
// multiply (m * 0x00204081 = m | m << 7 | m << 14 | m << 21: bit j of m lands on bit 8j)
uvec4 fifth_bits(uint hb)
{
    uvec4 hn = uvec4(hb, hb >> 4, hb >> 8, hb >> 12) & 15u;
    return ((hn * 0x00204081u) & 0x01010101u) << 4;
}
#endif
void q32_blk(uvec4 c0, uvec4 c1, uvec4 c2, uint s, out uvec4 lo, out uvec4 hi, out vec4 sc)
{
    uvec4 A = realign(c0, c1, s), B = realign(c1, c2, s);
#if defined(W_Q8_0) // qs at byte 2, one byte per value
    uvec4 C = realign(c2, uvec4(0u), s);
    lo = (A >> 16) | (uvec4(A.yzw, B.x) << 16);
    hi = (B >> 16) | (uvec4(B.yzw, C.x) << 16);
    sc = vec4(unpackHalf2x16(A.x).x, 0.0, 0.0, 0.0);
#else
    uvec4 q;
#if defined(W_Q4) // qs at byte 2
    q = (A >> 16) | (uvec4(A.yzw, B.x) << 16);
    sc = vec4(unpackHalf2x16(A.x).x, 0.0, -8.0, 0.0);
#elif defined(W_Q4_1) // qs at byte 4
    q = uvec4(A.yzw, B.x);
    sc = vec4(unpackHalf2x16(A.x), 0.0, 0.0);
#elif defined(W_Q5_0) // qh at byte 2, qs at byte 6
    q = (uvec4(A.yzw, B.x) >> 16) | (uvec4(A.zw, B.xy) << 16);
    uint qh = (A.x >> 16) | (A.y << 16);
    sc = vec4(unpackHalf2x16(A.x).x, 0.0, -16.0, 0.0);
#else // Q5_1: qh at byte 4, qs at byte 8
    q = uvec4(A.zw, B.xy);
    uint qh = A.y;
    sc = vec4(unpackHalf2x16(A.x), 0.0, 0.0);
#endif
    lo = q & 0x0f0f0f0fu;
    hi = (q >> 4) & 0x0f0f0f0fu;
#if defined(W_Q5_0) || defined(W_Q5_1)
    lo |= fifth_bits(qh);
    hi |= fifth_bits(qh >> 16);
#endif
#endif
}
// the QT texels of the block at byte ob (Q4's 18 bytes from an even byte fit 2; c2 is then 0)
void q_texels(usamplerBuffer t, uint ob, out uvec4 c0, out uvec4 c1, out uvec4 c2)
{
    uint last = uint(textureSize(t)) - 1u, t0 = ob >> 4;
    c0 = texelFetch(t, int(t0));
    c1 = texelFetch(t, int(min(t0 + 1u, last)));
#ifdef W_Q4
    c2 = uvec4(0u);
#else
    c2 = texelFetch(t, int(min(t0 + 2u, last)));
#endif
}
#endif
#ifdef W_Q6_K
// d of row rw (< 8) of a split tile column whose first texel is c, in the low 16 bits
uint q6k_split_d(usamplerBuffer t, uint c, uint rw)
{
    uvec4 dt = texelFetch(t, int(c + VKG_Q6K_SPLIT_D(0u) / 16u)); // the 8 rows' d
    uint dw = (rw & 4u) != 0u ? ((rw & 2u) != 0u ? dt.w : dt.z) : ((rw & 2u) != 0u ? dt.y : dt.x);
    return dw >> (16u * (rw & 1u));
}
#endif
void q16(usamplerBuffer t, uint ob, uint k, out uvec4 q, out vec4 sc)
{
    // ob: the first byte of the block that holds value k
#ifndef KQUANT
    uvec4 c0, c1, c2, lo, hi;
    q_texels(t, ob, c0, c1, c2);
    q32_blk(c0, c1, c2, ob & 15u, lo, hi, sc);
    q = (k & 16u) != 0u ? hi : lo;
#elif defined(W_Q4_K) || defined(W_Q5_K)
    // sub-block j = (k % 256) / 32, values l = k % 32 .. + 16 of it: nibble j & 1 of bytes
    // 32 (j / 2) + l .. + 16 of qs, one texel (Q5_K: + 16 x bit j of qh[l ..], one texel); d *
    // scale_j and dmin * min_j from the header texel
#ifdef W_Q5_K
    const uint KQ = 3u; // the texel of qs (qh: texels 1, 2)
#else
    const uint KQ = 1u;
#endif
    uint bt = ob >> 4, v = k & 255u, j = v >> 5, l = v & 31u;
    uvec4 h = texelFetch(t, int(bt));
    q = (texelFetch(t, int(bt + KQ + 2u * (j >> 1) + (l >> 4))) >> (4u * (j & 1u))) & 0x0f0f0f0fu;
#ifdef W_Q5_K
    q |= ((texelFetch(t, int(bt + 1u + (l >> 4))) >> j) & 0x01010101u) << 4;
#endif
    vec2 dd = unpackHalf2x16(h.x);
    uvec2 sm = k4_scale_min(h, j);
    sc = vec4(dd.x * float(sm.x), -(dd.y * float(sm.y)), 0.0, 0.0);
#else // Q6_K
    // half hf, quarter g, values l .. l + 16 of value k % 256 = 128 hf + 32 g + l: nibble g / 2 of
    // ql[64 hf + 32 (g & 1) + l ..], bits 2g of qh[32 hf + l ..], scale 8 hf + l / 16 + 2g
    uint v = k & 255u, hf = v >> 7, g = (v >> 5) & 3u, l = v & 31u;
    uvec4 ql, qh, scs;
    float d;
    if (W_SPLIT != 0u) { // ob: the tile column's first byte + the row in the tile (w_row)
        uint c = ob >> 4, rw = ob & 15u;
        ql = texelFetch(t, int(c + VKG_Q6K_SPLIT_QL(rw) / 16u + 4u * hf + 2u * (g & 1u) + (l >> 4)));
        qh = texelFetch(t, int(c + VKG_Q6K_SPLIT_QH(rw) / 16u + 2u * hf + (l >> 4)));
        scs = texelFetch(t, int(c + VKG_Q6K_SPLIT_SC(rw) / 16u));
        d = unpackHalf2x16(q6k_split_d(t, c, rw)).x;
    } else {
        uint last = uint(textureSize(t)) - 1u;
        ql = raw16(t, ob + 64u * hf + 32u * (g & 1u) + l, last);
        qh = raw16(t, ob + 128u + 32u * hf + l, last);
        uint so = ob + 192u, st = so >> 4; // scales[16], then d: byte so + 16 is in texel st + 1
        uvec4 s1 = texelFetch(t, int(min(st + 1u, last)));
        scs = realign(texelFetch(t, int(st)), s1, so & 15u);
        d = unpackHalf2x16(realign(s1, uvec4(0u), so & 15u).x).x;
    }
    uint n = 8u * hf + (l >> 4) + 2u * g;
    float ds = d * float(int(scs[n >> 2] << (24u - 8u * (n & 3u))) >> 24);
    q = ((ql >> (4u * (g >> 1))) & 0x0f0f0f0fu) | (((qh >> (2u * g)) & 0x03030303u) << 4);
    sc = vec4(ds, 0.0, -32.0, 0.0);
#endif
}
// the 16 values of q16's q and sc, as ggml dequantizes them
void deq16(uvec4 q, vec4 sc, out vec4 w[4])
{
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
#ifdef W_Q8_0
        w[i] = sc.x * vec4(ivec4(q[i] << 24, q[i] << 16, q[i] << 8, q[i]) >> 24);
#else
        precise vec4 wi = sc.x * (vec4(bytes4(q[i])) + sc.z) + sc.y;
        w[i] = wi;
#endif
    }
}
void w16(usamplerBuffer t, uint ob, uint k, out vec4 w[4])
{
    uvec4 q;
    vec4 sc;
    q16(t, ob, k, q, sc);
    deq16(q, sc, w);
}
#if defined(XQ8) && defined(KQUANT)
// *_lane1_xq8 (Q4_K, Q5_K, Q6_K): x in 8 bits as llama.cpp's K-quant dot products take it
// (quantize_x.comp, push_matmul.h's layout: per 256 values d, the 8 sub-block sums of q, then per
// sub-block of 32 values 16 pair words q[v + 2] + q[v] 2^16, v = 4i + e, i < 8, e < 2), the
// products summed in integers as matmul_lane.comp's *_xq8 kernels do.
// A sub-block j (32 values) of the block whose first byte is ob, in three steps, so that a
// kernel makes all its texel fetches (calls on llvmpipe, which spill every live register) before
// the arithmetic that uses them, and a block's header once for its 8 sub-blocks:
//   kq_head: the block's header (Q4_K / Q5_K: the texel d, dmin, scales[12]; Q6_K: scales[16]
//     realigned, and d's bits in hd);
//   kq_raw: the sub-block's texels (Q4_K: its 2 of nibbles; Q5_K: and the 2 of qh; Q6_K: the 3 of
//     ql and 3 of qh that hold its 32 bytes of each);
//   kq_dec: its values' bytes (qa: values 0-15, value 4i + b in byte b of qa[i]; qb: 16-31) and
//     scales: Q4_K / Q5_K: value = sc.x q + sc.y (d scale_j, -dmin min_j); Q6_K: value = sc.x (q -
//     32) for values 0-15, sc.y (q - 32) for 16-31 (a scale per 16).
// Q6_K's sub-block j is quarter g of half hf: nibble g / 2 of ql[64 hf + 32 (g & 1) ..], bits 2g of
// qh[32 hf ..], scales 8 hf + 2g and + 1 (q16's addressing, 32 values at once).
#if defined(W_Q4_K)
#define KRAW 2
#elif defined(W_Q5_K)
#define KRAW 4
#else
#define KRAW 6
#endif
void kq_head(usamplerBuffer t, uint ob, out uvec4 h, out uint hd)
{
#if defined(W_Q4_K) || defined(W_Q5_K)
    h = texelFetch(t, int(ob >> 4));
    hd = 0u;
#else
    if (W_SPLIT != 0u) { // ob: the tile column's first byte + the row in the tile (w_row)
        uint c = ob >> 4, rw = ob & 15u;
        h = texelFetch(t, int(c + VKG_Q6K_SPLIT_SC(rw) / 16u));
        hd = q6k_split_d(t, c, rw);
    } else {
        uint last = uint(textureSize(t)) - 1u, so = ob + 192u, st = so >> 4; // scales[16], then d (texel st + 1)
        uvec4 s1 = texelFetch(t, int(min(st + 1u, last)));
        h = realign(texelFetch(t, int(st)), s1, so & 15u);
        hd = realign(s1, uvec4(0u), so & 15u).x;
    }
#endif
}
void kq_raw(usamplerBuffer t, uint ob, uint j, out uvec4 r[KRAW])
{
#if defined(W_Q4_K) || defined(W_Q5_K)
#ifdef W_Q5_K
    const uint KQ = 3u; // the texel of qs (qh: texels 1, 2)
#else
    const uint KQ = 1u;
#endif
    uint bt = ob >> 4, qt = bt + KQ + 2u * (j >> 1);
    r[0] = texelFetch(t, int(qt));
    r[1] = texelFetch(t, int(qt + 1u));
#ifdef W_Q5_K
    r[2] = texelFetch(t, int(bt + 1u));
    r[3] = texelFetch(t, int(bt + 2u));
#endif
#else
    uint hf = j >> 2, g = j & 3u;
    if (W_SPLIT != 0u) { // the sub-block's 32 bytes of ql and of qh on whole texels: 2 each (r[2], r[5] unused)
        uint c = ob >> 4, rw = ob & 15u;
        uint lt = c + VKG_Q6K_SPLIT_QL(rw) / 16u + 4u * hf + 2u * (g & 1u), ht = c + VKG_Q6K_SPLIT_QH(rw) / 16u + 2u * hf;
        r[0] = texelFetch(t, int(lt));
        r[1] = texelFetch(t, int(lt + 1u));
        r[2] = uvec4(0u);
        r[3] = texelFetch(t, int(ht));
        r[4] = texelFetch(t, int(ht + 1u));
        r[5] = uvec4(0u);
    } else {
        uint last = uint(textureSize(t)) - 1u;
        uint lt = (ob + 64u * hf + 32u * (g & 1u)) >> 4, ht = (ob + 128u + 32u * hf) >> 4;
        r[0] = texelFetch(t, int(lt));
        r[1] = texelFetch(t, int(min(lt + 1u, last)));
        r[2] = texelFetch(t, int(min(lt + 2u, last)));
        r[3] = texelFetch(t, int(ht));
        r[4] = texelFetch(t, int(min(ht + 1u, last)));
        r[5] = texelFetch(t, int(min(ht + 2u, last)));
    }
#endif
}
void kq_dec(uint ob, uint j, uvec4 h, uint hd, uvec4 r[KRAW], out uvec4 qa, out uvec4 qb, out vec2 sc)
{
#if defined(W_Q4_K) || defined(W_Q5_K)
    uint sh = 4u * (j & 1u);
    qa = (r[0] >> sh) & 0x0f0f0f0fu;
    qb = (r[1] >> sh) & 0x0f0f0f0fu;
#ifdef W_Q5_K
    qa |= ((r[2] >> j) & 0x01010101u) << 4;
    qb |= ((r[3] >> j) & 0x01010101u) << 4;
#endif
    vec2 dd = unpackHalf2x16(h.x);
    uvec2 sm = k4_scale_min(h, j);
    sc = vec2(dd.x * float(sm.x), -(dd.y * float(sm.y)));
#else
    uint hf = j >> 2, g = j & 3u;
    // split tiles: every field on a texel (ob's low bits are the row in the tile)
    uint ol = W_SPLIT != 0u ? 0u : (ob + 64u * hf + 32u * (g & 1u)) & 15u;
    uint oh = W_SPLIT != 0u ? 0u : (ob + 128u + 32u * hf) & 15u;
    uvec4 qla = realign(r[0], r[1], ol), qlb = realign(r[1], r[2], ol);
    uvec4 qha = realign(r[3], r[4], oh), qhb = realign(r[4], r[5], oh);
    float d = unpackHalf2x16(hd).x;
    uint n = 8u * hf + 2u * g, sw = h[n >> 2], sb = 8u * (n & 3u); // scales n, n + 1: one word
    sc = vec2(d * float(int(sw << (24u - sb)) >> 24), d * float(int(sw << (16u - sb)) >> 24));
    uint s4 = 4u * (g >> 1), s2 = 2u * g;
    qa = ((qla >> s4) & 0x0f0f0f0fu) | (((qha >> s2) & 0x03030303u) << 4);
    qb = ((qlb >> s4) & 0x0f0f0f0fu) | (((qhb >> s2) & 0x03030303u) << 4);
#endif
}
#endif
#ifdef XQ8
// values 4i, 4i + 2 (w & 0x00ff00ff) or 4i + 1, 4i + 3 (w >> 8 & 0x00ff00ff) in the two 16-bit halves
// of a word; Q6_K's as q - 32 (the word as an integer: (q2 - 32) 2^16 + (q0 - 32))
#ifdef W_Q6_K
#define XQ8_W(w) ((w) - 0x00200020u)
#else
#define XQ8_W(w) (w)
#endif
// sum over 16 values of q_w q_x: the value bytes q (as kq_dec's qa, q32_blk's lo) against the pair
// words of their x, xa (values 0-7) and xb (8-15). A 32-bit product of a weight word and a pair word
// has w0 x0 + w2 x2 in its upper half; the halves are read out (an add and an arithmetic shift) while
// their sums stay under 2^15: Q4_K, Q4 and Q4_1 once (16 products of 4-bit values, |sum| <= 30480),
// Q5_K, Q5_0, Q5_1 and Q6_K every 2 weight words (8 products of 5-bit values or of q - 32, <= 31496 /
// 32512).
int dot16(uvec4 q, uvec4 xa, uvec4 xb)
{
    uint s0 = XQ8_W(q.x & 0x00ff00ffu) * xa.x + XQ8_W((q.x >> 8) & 0x00ff00ffu) * xa.y +
              XQ8_W(q.y & 0x00ff00ffu) * xa.z + XQ8_W((q.y >> 8) & 0x00ff00ffu) * xa.w;
    uint s1 = XQ8_W(q.z & 0x00ff00ffu) * xb.x + XQ8_W((q.z >> 8) & 0x00ff00ffu) * xb.y +
              XQ8_W(q.w & 0x00ff00ffu) * xb.z + XQ8_W((q.w >> 8) & 0x00ff00ffu) * xb.w;
#if defined(W_Q4_K) || defined(W_Q4) || defined(W_Q4_1)
    return (int(s0 + s1) + 0x8000) >> 16;
#else
    return ((int(s0) + 0x8000) >> 16) + ((int(s1) + 0x8000) >> 16);
#endif
}
#ifdef KQUANT
// header word 1 + j (the sum of q over sub-block j) of the texels h0, h1, h2, by selects
uint xq8_sum(uvec4 h0, uvec4 h1, uvec4 h2, uint j)
{
    uint a = j == 0u ? h0.y : j == 1u ? h0.z : h0.w, b = j == 3u ? h1.x : j == 4u ? h1.y : j == 5u ? h1.z : h1.w;
    return j < 3u ? a : j < 7u ? b : h2.x;
}
#else
// *_xq8 of the 32-value types (Q4, Q4_1, Q5_0, Q5_1): x in 8 bits as llama.cpp's Q8_0 / Q8_1
// (quantize_x_q8_0, push_matmul.h: VKG_XQ8_0_BLOCK_TEXELS texels per 32 values, a header texel hx of
// d_x, sum q_x and s_x, then 16 pair words as a K-quant sub-block's), the block's value bytes from
// q32_blk: one block's contribution from its integer sum qs = q_w . q_x (dot16 over both halves),
// as llama.cpp's dot products take it (and matmul_lane.comp's *_xq8): d d_x (qs - 8 sum q_x) for Q4,
// - 16 sum q_x for Q5_0, d d_x qs + m s_x for Q4_1 / Q5_1 (sc: q32_blk's d, m)
float xq32(int qs, vec4 sc, uvec4 hx)
{
    float dd = sc.x * uintBitsToFloat(hx.x);
#if defined(W_Q4)
    return dd * float(qs - 8 * int(hx.y));
#elif defined(W_Q5_0)
    return dd * float(qs - 16 * int(hx.y));
#else
    return dd * float(qs) + sc.y * uintBitsToFloat(hx.z);
#endif
}
#endif
#endif
#else
// values [k, k + 8) of a row whose texel kt is at texel tb + kt * ts
void w8(usamplerBuffer t, uint tb, uint ts, uint k, out vec4 a, out vec4 b)
{
#if defined(W_F32)
    uint i = tb + (k >> 2) * ts;
    a = uintBitsToFloat(texelFetch(t, int(i)));
    b = uintBitsToFloat(texelFetch(t, int(i + ts)));
#else
    uvec4 h = texelFetch(t, int(tb + (k >> 3) * ts));
#ifdef W_F16
    f16x8(h, a, b);
#else
    a = uintBitsToFloat(uvec4(h.x << 16, h.x & 0xffff0000u, h.y << 16, h.y & 0xffff0000u));
    b = uintBitsToFloat(uvec4(h.z << 16, h.z & 0xffff0000u, h.w << 16, h.w & 0xffff0000u));
#endif
#endif
}
#endif

#ifdef QB
// the first byte of block b (BS values) of a row as w_row gives it
uint blk(uint tb, uint ts, uint b)
{
#ifdef KQUANT
    return tb + b * ts;
#else
    return tb + (b >> 3) * ts + (b & 7u) * QB;
#endif
}
#endif

// First texel (tb) and texel step (ts) of row m of the window's expert ew (from e_base) in the
// matrix at element w_off: row-major, or VKG_MOE_W_TILED: each expert's M x K matrix in tiles of
// VKG_MATMUL_TILE_ROWS rows, texel-column-major in a tile (push_matmul.h's layout, per expert), so
// an 8-lane chunk's consecutive rows are one sequential stream (128 bytes per step)
void w_row(uint w_off, uint ew, uint m, out uint tb, out uint ts)
{
#ifdef QB
    // block types: tb the first byte of the row's first 256-value unit, ts the bytes from one of its
    // units to the next (blk): UB in row-major order; in tiles (K % 256 == 0) of rt rows, units of
    // the tile's rows side by side (push_matmul.h's layout, unit kb of row r at the tile's first
    // byte + (kb rt + r) UB)
    uint rb = p.K / BS * QB, base = w_off + ew * p.M * rb;
    if ((p.vec & VKG_MOE_W_TILED) != 0u) {
        uint t0 = m - m % VKG_MATMUL_TILE_ROWS;
        ts = min(VKG_MATMUL_TILE_ROWS, p.M - t0) * UB;
        // Q6_K's split tiles (W_SPLIT, whole tiles on texels): the tile column's first byte + the row in
        // the tile, which kq_head / kq_raw / q16 take apart
        tb = base + t0 * rb + (m - t0) * (W_SPLIT != 0u ? 1u : UB);
    } else {
        ts = UB;
        tb = base + m * rb;
    }
#else
    uint base = w_off + ew * p.M * p.K; // a multiple of VT (host: vec)
    if ((p.vec & VKG_MOE_W_TILED) != 0u) {
        uint t0 = m - m % VKG_MATMUL_TILE_ROWS;
        ts = min(VKG_MATMUL_TILE_ROWS, p.M - t0);
        tb = (base + t0 * p.K) / VT + (m - t0);
    } else {
        ts = 1u;
        tb = (base + m * p.K) / VT;
    }
#endif
}

#ifdef QB
// Every row's fetches for one step of the walk (w0's rows, then w1's, at wb as w_row gives them),
// made before the step's arithmetic: a fetch is a call that clobbers every register.
#ifndef KQUANT
// block b of the 32-value types: each row's texels (q_texels) and the block's byte in the first (sb)
void rows_q(uint wb[NMAT * LR], uint ws[LR], uint b, out uvec4 c0[NMAT * LR], out uvec4 c1[NMAT * LR],
            out uvec4 c2[NMAT * LR], out uint sb[NMAT * LR])
{
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint ob = blk(wb[r], ws[r], b);
        q_texels(w0, ob, c0[r], c1[r], c2[r]);
        sb[r] = ob & 15u;
#ifdef GATE_UP
        ob = blk(wb[LR + r], ws[r], b);
        q_texels(w1, ob, c0[LR + r], c1[LR + r], c2[LR + r]);
        sb[LR + r] = ob & 15u;
#endif
    }
}
#endif
#if defined(XQ8) && defined(KQUANT)
// K-quant block kb: each row's block start (ob) and header (kq_head)
void rows_head(uint wb[NMAT * LR], uint ws[LR], uint kb, out uint ob[NMAT * LR], out uvec4 hw[NMAT * LR],
               out uint hd[NMAT * LR])
{
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        ob[r] = blk(wb[r], ws[r], kb);
        kq_head(w0, ob[r], hw[r], hd[r]);
#ifdef GATE_UP
        ob[LR + r] = blk(wb[LR + r], ws[r], kb);
        kq_head(w1, ob[LR + r], hw[LR + r], hd[LR + r]);
#endif
    }
}
// sub-block j of those blocks: each row's texels (kq_raw)
void rows_raw(uint ob[NMAT * LR], uint j, out uvec4 raw[NMAT * LR][KRAW])
{
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        kq_raw(w0, ob[r], j, raw[r]);
#ifdef GATE_UP
        kq_raw(w1, ob[LR + r], j, raw[LR + r]);
#endif
    }
}
#endif
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
    if (e < p.e_base || e >= p.e_base + p.n_win || tile0 >= count) return; // uniform
    uint nvalid = min(TR, count - tile0);
    uint m_begin = gl_WorkGroupID.x * p.m_per_wg, m_end = min(p.M, m_begin + p.m_per_wg);
    uint m0 = m_begin + gl_LocalInvocationID.x;
    uint wb[NMAT * LR], ws[LR]; // each row's start and step (w_row) in w0, then in w1 (the same step)
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint m = m0 + r * WG;
        w_row(p.w0_off, e - p.e_base, m < m_end ? m : m_begin, wb[r], ws[r]);
#ifdef GATE_UP
        w_row(p.w1_off, e - p.e_base, m < m_end ? m : m_begin, wb[LR + r], ws[r]);
#endif
    }
#ifdef ONE
    // *_lane1 (the host picks it when a step has few pairs per expert, decode): the tile's valid
    // pairs one after another, the lanes sharing the pair's input texels through their quads, so no
    // slot is computed for nothing where the 8-pair kernel would fill 7 of 8 slots with copies
    uint xq = gl_SubgroupInvocationID & 3u; // this lane's place in its quad
#ifdef XQ8
    const uint NP = PAIR2 != 0u ? 2u : 1u; // pairs per pass (PAIR2)
#else
    const uint NP = 1u;
#endif
    uint i = 0u;
    do {
        uint pr = p.dense != 0u ? tile0 + i : list[p.list_off + first + tile0 + i];
        // the pass's second pair (NP 2), or the first again when the tile has no more (not stored)
        bool two = NP == 2u && i + 1u < nvalid;
        uint pr2 = !two ? pr : p.dense != 0u ? tile0 + i + 1u : list[p.list_off + first + tile0 + i + 1u];
        float acc1[NMAT * LR], acc2[NMAT * LR];
        [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
            acc1[v] = 0.0;
            acc2[v] = 0.0;
        }
#if defined(XQ8) && defined(KQUANT)
        // the pair's x row in 8 bits: K / 256 blocks of VKG_XQ8_BLOCK_TEXELS texels from texel in_off / 4
        // of the bound scratch; per block its header (lanes 0-2 fetch it for the quad), then per
        // sub-block of 32 values its 4 texels of pair words (lane q of each quad fetches texel q).
        // NP 2: the second pair's the same way, against the same decoded weights
        uint xt[2];
        xt[0] = (p.in_off >> 2) + (pr / p.in_div) * (p.K >> 8) * VKG_XQ8_BLOCK_TEXELS;
        xt[1] = (p.in_off >> 2) + (pr2 / p.in_div) * (p.K >> 8) * VKG_XQ8_BLOCK_TEXELS;
        uint kb = 0u;
        do {
            uvec4 h0[2], h1[2], h2[2];
            [[unroll]] for (uint q = 0u; q < NP; q++) {
                uvec4 hl = texelFetch(xin, int(xt[q] + min(xq, 2u)));
                h0[q] = subgroupQuadBroadcast(hl, 0u);
                h1[q] = subgroupQuadBroadcast(hl, 1u);
                h2[q] = subgroupQuadBroadcast(hl, 2u);
            }
            float bsum[2][NMAT * LR]; // the block's sums before d_x
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                bsum[0][v] = 0.0;
                bsum[1][v] = 0.0;
            }
            uint ob[NMAT * LR]; // each row's block: its first byte and header
            uvec4 hw[NMAT * LR];
            uint hd[NMAT * LR];
            rows_head(wb, ws, kb, ob, hw, hd);
            [[unroll]] for (uint j = 0u; j < 8u; j++) {
                // every fetch of the sub-block first, then its arithmetic
                uvec4 raw[NMAT * LR][KRAW];
                rows_raw(ob, j, raw);
                uvec4 X[2][4];
                [[unroll]] for (uint q = 0u; q < NP; q++) {
                    uvec4 xl = texelFetch(xin, int(xt[q] + 3u + 4u * j + xq));
                    [[unroll]] for (uint c = 0u; c < 4u; c++) X[q][c] = subgroupQuadBroadcast(xl, c);
                }
#if !defined(W_Q6_K)
                float sx[2];
                [[unroll]] for (uint q = 0u; q < NP; q++) sx[q] = float(int(xq8_sum(h0[q], h1[q], h2[q], j)));
#endif
                [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                    uvec4 qa, qb;
                    vec2 sc;
                    kq_dec(ob[v], j, hw[v], hd[v], raw[v], qa, qb, sc);
                    [[unroll]] for (uint q = 0u; q < NP; q++) {
                        int ia = dot16(qa, X[q][0], X[q][1]), ib = dot16(qb, X[q][2], X[q][3]);
#ifdef W_Q6_K
                        bsum[q][v] += sc.x * float(ia) + sc.y * float(ib);
#else
                        bsum[q][v] += sc.x * float(ia + ib) + sc.y * sx[q];
#endif
                    }
                }
            }
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                acc1[v] += uintBitsToFloat(h0[0].x) * bsum[0][v];
                if (NP == 2u) acc2[v] += uintBitsToFloat(h0[1].x) * bsum[1][v];
            }
            xt[0] += VKG_XQ8_BLOCK_TEXELS;
            xt[1] += VKG_XQ8_BLOCK_TEXELS;
            kb++;
        } while (kb < (p.K >> 8));
#elif defined(XQ8)
        // the 32-value types with the pair's x row in 8 bits: K / 32 blocks of VKG_XQ8_0_BLOCK_TEXELS
        // texels from texel in_off / 4 of the bound scratch; per block every row's texels (rows_q),
        // then per pair the header texel and the 4 texels of pair words (lane q of each quad fetches
        // texel q for the quad), all before the block's arithmetic. NP 2: the second pair's the same
        // way, against the same decoded weights
        uint xt[2];
        xt[0] = (p.in_off >> 2) + (pr / p.in_div) * (p.K >> 5) * VKG_XQ8_0_BLOCK_TEXELS;
        xt[1] = (p.in_off >> 2) + (pr2 / p.in_div) * (p.K >> 5) * VKG_XQ8_0_BLOCK_TEXELS;
        uint b = 0u;
        do {
            uvec4 c0[NMAT * LR], c1[NMAT * LR], c2[NMAT * LR];
            uint sb[NMAT * LR];
            rows_q(wb, ws, b, c0, c1, c2, sb);
            uvec4 hx[2], X[2][4];
            [[unroll]] for (uint q = 0u; q < NP; q++) {
                hx[q] = texelFetch(xin, int(xt[q]));
                uvec4 xl = texelFetch(xin, int(xt[q] + 1u + xq));
                [[unroll]] for (uint c = 0u; c < 4u; c++) X[q][c] = subgroupQuadBroadcast(xl, c);
            }
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                uvec4 lo, hi;
                vec4 sc;
                q32_blk(c0[v], c1[v], c2[v], sb[v], lo, hi, sc);
                acc1[v] += xq32(dot16(lo, X[0][0], X[0][1]) + dot16(hi, X[0][2], X[0][3]), sc, hx[0]);
                if (NP == 2u) acc2[v] += xq32(dot16(lo, X[1][0], X[1][1]) + dot16(hi, X[1][2], X[1][3]), sc, hx[1]);
            }
            xt[0] += VKG_XQ8_0_BLOCK_TEXELS;
            xt[1] += VKG_XQ8_0_BLOCK_TEXELS;
            b++;
        } while (b < (p.K >> 5));
#elif defined(QB) && !defined(KQUANT)
        // the 32-value types a whole block per step (K % 32 == 0): its texels fetched once for both
        // halves, where a 16-value step fetched them twice (Q4: 2 of 18 bytes, the others 3), and
        // every fetch of the step before its arithmetic (a fetch is a call that clobbers every
        // register); lane q of each quad fetches the step's input texels q and 4 + q for the quad
        uint xi = (p.in_off + (pr / p.in_div) * p.K) >> 2; // a texel (host: in_off % 4 == 0)
        uint k = 0u;
        do {
            vec4 xl0 = uintBitsToFloat(texelFetch(xin, int(xi + (k >> 2) + xq)));
            vec4 xl1 = uintBitsToFloat(texelFetch(xin, int(xi + (k >> 2) + 4u + xq)));
            uvec4 c0[NMAT * LR], c1[NMAT * LR], c2[NMAT * LR];
            uint sb[NMAT * LR];
            rows_q(wb, ws, k / BS, c0, c1, c2, sb);
            vec4 x[8];
            [[unroll]] for (uint i = 0u; i < 4u; i++) {
                x[i] = subgroupQuadBroadcast(xl0, i);
                x[4u + i] = subgroupQuadBroadcast(xl1, i);
            }
            vec4 xa = (x[0] + x[1]) + (x[2] + x[3]), xb = (x[4] + x[5]) + (x[6] + x[7]);
            float sxa = (xa.x + xa.y) + (xa.z + xa.w), sxb = (xb.x + xb.y) + (xb.z + xb.w);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                uvec4 lo, hi;
                vec4 sc;
                q32_blk(c0[v], c1[v], c2[v], sb[v], lo, hi, sc);
#ifdef W_Q8_0
#define QV(u) vec4(ivec4(u << 24, u << 16, u << 8, u) >> 24)
#else
#define QV(u) vec4(bytes4(u))
#endif
                float qa = (dot(QV(lo[0]), x[0]) + dot(QV(lo[1]), x[1])) + (dot(QV(lo[2]), x[2]) + dot(QV(lo[3]), x[3]));
                float qb = (dot(QV(hi[0]), x[4]) + dot(QV(hi[1]), x[5])) + (dot(QV(hi[2]), x[6]) + dot(QV(hi[3]), x[7]));
#undef QV
                acc1[v] += sc.x * (qa + sc.z * sxa) + sc.y * sxa;
                acc1[v] += sc.x * (qb + sc.z * sxb) + sc.y * sxb;
            }
            k += 32u;
        } while (k < p.K);
#else
        uint xi = p.in_off + (pr / p.in_div) * p.K;
        // 16 columns per step: lane q of each quad fetches the step's input texel q and the quad
        // shares the four (one call per lane where each lane made 4); K % 8 == 0, so a last half
        // step skips its second half (its texel fetch clamped to the row)
        uint xlast = ((xi + p.K) >> 2) - 1u;
        uint k = 0u;
        do {
            vec4 xl = uintBitsToFloat(texelFetch(xin, int(min(((xi + k) >> 2) + xq, xlast))));
#ifdef QB // K % 32 == 0: whole steps
            // one pair: the step's scales taken out of its sum, sc.x (q . x + sc.z sum x) + sc.y sum x
            // (as matvec1_lane_tx and llama.cpp's dot products do), two operations per weight fewer
            uvec4 q[NMAT * LR];
            vec4 sc[NMAT * LR];
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                q16(w0, blk(wb[r], ws[r], k / BS), k, q[r], sc[r]);
#ifdef GATE_UP
                q16(w1, blk(wb[LR + r], ws[r], k / BS), k, q[LR + r], sc[LR + r]);
#endif
            }
            vec4 x0 = subgroupQuadBroadcast(xl, 0u), x1 = subgroupQuadBroadcast(xl, 1u);
            vec4 x2 = subgroupQuadBroadcast(xl, 2u), x3 = subgroupQuadBroadcast(xl, 3u);
            vec4 x4 = (x0 + x1) + (x2 + x3);
            float sx = (x4.x + x4.y) + (x4.z + x4.w);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
#ifdef W_Q8_0
#define QV(u) vec4(ivec4(u << 24, u << 16, u << 8, u) >> 24)
#else
#define QV(u) vec4(bytes4(u))
#endif
                float qx = (dot(QV(q[v][0]), x0) + dot(QV(q[v][1]), x1)) + (dot(QV(q[v][2]), x2) + dot(QV(q[v][3]), x3));
#undef QV
                acc1[v] += sc[v].x * (qx + sc[v].z * sx) + sc[v].y * sx;
            }
#else
            vec4 va[NMAT * LR], vb[NMAT * LR];
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                w8(w0, wb[r], ws[r], k, va[r], vb[r]);
#ifdef GATE_UP
                w8(w1, wb[LR + r], ws[r], k, va[LR + r], vb[LR + r]);
#endif
            }
            vec4 xa = subgroupQuadBroadcast(xl, 0u), xb = subgroupQuadBroadcast(xl, 1u);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) acc1[v] += dot(va[v], xa) + dot(vb[v], xb);
            if (k + 8u < p.K) {
                [[unroll]] for (uint r = 0u; r < LR; r++) {
                    w8(w0, wb[r], ws[r], k + 8u, va[r], vb[r]);
#ifdef GATE_UP
                    w8(w1, wb[LR + r], ws[r], k + 8u, va[LR + r], vb[LR + r]);
#endif
                }
                xa = subgroupQuadBroadcast(xl, 2u);
                xb = subgroupQuadBroadcast(xl, 3u);
                [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) acc1[v] += dot(va[v], xa) + dot(vb[v], xb);
            }
#endif
            k += 16u;
        } while (k < p.K);
#endif
        [[unroll]] for (uint r = 0u; r < LR; r++) {
            uint m = m0 + r * WG;
            if (m >= m_end) break;
            float g = acc1[r];
#ifdef GATE_UP
            float u = acc1[LR + r];
            g = g / (1.0 + exp(-g)) * u; // silu(gate) * up
#endif
            yout[p.out_off + pr * p.M + m] = g;
            if (two) {
                float g2 = acc2[r];
#ifdef GATE_UP
                g2 = g2 / (1.0 + exp(-g2)) * acc2[LR + r];
#endif
                yout[p.out_off + pr2 * p.M + m] = g2;
            }
        }
        i += NP;
    } while (i < nvalid);
#else
    uint pair[TR], xr[TR];
    [[unroll]] for (uint i = 0u; i < TR; i++) {
        uint s = tile0 + (i < nvalid ? i : 0u);
        pair[i] = p.dense != 0u ? s : list[p.list_off + first + s];
#if defined(XQ8) && defined(KQUANT)
        xr[i] = (p.in_off >> 2) + (pair[i] / p.in_div) * (p.K >> 8) * VKG_XQ8_BLOCK_TEXELS; // first texel
#elif defined(XQ8)
        xr[i] = (p.in_off >> 2) + (pair[i] / p.in_div) * (p.K >> 5) * VKG_XQ8_0_BLOCK_TEXELS;
#else
        xr[i] = p.in_off + (pair[i] / p.in_div) * p.K; // a multiple of 4 (host)
#endif
    }
    uint q = gl_SubgroupInvocationID & 3u; // this lane fetches pairs q and q + 4 for its quad
    uint xq0 = q == 0u ? xr[0] : q == 1u ? xr[1] : q == 2u ? xr[2] : xr[3];
    uint xq1 = q == 0u ? xr[4] : q == 1u ? xr[5] : q == 2u ? xr[6] : xr[7];
    float acc[NMAT * LR * TR];
    [[unroll]] for (uint v = 0u; v < NMAT * LR * TR; v++) acc[v] = 0.0;
#if defined(XQ8) && defined(KQUANT)
    // *_lane_xq8: the 8 pairs' rows in 8 bits (the host quantized them; layout as *_lane1_xq8). Per
    // block the pairs' d_x, per sub-block of 32 values each row's weights once (kq32), then each
    // half's pair words of the 8 pairs (lane q fetches pairs q and q + 4, QUAD_X8) against them,
    // the integer sums of the first half held until the second's are in
    uint kb = 0u;
    do {
        uint b0 = kb * VKG_XQ8_BLOCK_TEXELS;
        uvec4 hv[TR];
        {
            uvec4 l_ = texelFetch(xin, int(xq0 + b0)), h_ = texelFetch(xin, int(xq1 + b0));
            QUAD_X8(l_, h_, hv);
        }
        float dx[TR];
        [[unroll]] for (uint i = 0u; i < TR; i++) dx[i] = uintBitsToFloat(hv[i].x);
        uint ob[NMAT * LR]; // each row's block: its first byte and header
        uvec4 hw[NMAT * LR];
        uint hd[NMAT * LR];
        rows_head(wb, ws, kb, ob, hw, hd);
        uint j = 0u;
        do {
            uvec4 raw[NMAT * LR][KRAW];
            rows_raw(ob, j, raw);
            uvec4 qa[NMAT * LR], qb[NMAT * LR];
            vec2 sc[NMAT * LR];
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) kq_dec(ob[v], j, hw[v], hd[v], raw[v], qa[v], qb[v], sc[v]);
#if !defined(W_Q6_K)
            float sx[TR]; // each pair's sum of q over the sub-block: header word 1 + j
            {
                uint o = b0 + ((1u + j) >> 2);
                uvec4 l_ = texelFetch(xin, int(xq0 + o)), h_ = texelFetch(xin, int(xq1 + o));
                QUAD_X8(l_, h_, hv);
                uint c = (1u + j) & 3u;
                [[unroll]] for (uint i = 0u; i < TR; i++)
                    sx[i] = float(int(c == 0u ? hv[i].x : c == 1u ? hv[i].y : c == 2u ? hv[i].z : hv[i].w));
            }
#endif
            int ia[NMAT * LR * TR];
            uint xo = b0 + 3u + 4u * j;
            {
                uvec4 xa[TR], xb[TR];
                uvec4 l_ = texelFetch(xin, int(xq0 + xo)), h_ = texelFetch(xin, int(xq1 + xo));
                QUAD_X8(l_, h_, xa);
                l_ = texelFetch(xin, int(xq0 + xo + 1u));
                h_ = texelFetch(xin, int(xq1 + xo + 1u));
                QUAD_X8(l_, h_, xb);
                [[unroll]] for (uint v = 0u; v < NMAT * LR; v++)
                    [[unroll]] for (uint i = 0u; i < TR; i++) ia[v * TR + i] = dot16(qa[v], xa[i], xb[i]);
            }
            {
                uvec4 xa[TR], xb[TR];
                uvec4 l_ = texelFetch(xin, int(xq0 + xo + 2u)), h_ = texelFetch(xin, int(xq1 + xo + 2u));
                QUAD_X8(l_, h_, xa);
                l_ = texelFetch(xin, int(xq0 + xo + 3u));
                h_ = texelFetch(xin, int(xq1 + xo + 3u));
                QUAD_X8(l_, h_, xb);
                [[unroll]] for (uint v = 0u; v < NMAT * LR; v++)
                    [[unroll]] for (uint i = 0u; i < TR; i++) {
                        int ib = dot16(qb[v], xa[i], xb[i]);
#ifdef W_Q6_K
                        acc[v * TR + i] += dx[i] * (sc[v].x * float(ia[v * TR + i]) + sc[v].y * float(ib));
#else
                        acc[v * TR + i] += dx[i] * (sc[v].x * float(ia[v * TR + i] + ib) + sc[v].y * sx[i]);
#endif
                    }
            }
            j++;
        } while (j < 8u);
        kb++;
    } while (kb < (p.K >> 8));
#elif defined(XQ8)
    // *_lane_xq8 of the 32-value types: the 8 pairs' rows in 8 bits (layout as their *_lane1_xq8). Per
    // block every row's texels (rows_q) and its values once (q32_blk), the 8 pairs' headers, then each
    // half's pair words of the 8 pairs (lane q fetches pairs q and q + 4, QUAD_X8) against them, the
    // first half's integer sums held until the second's are in
    uint b = 0u;
    do {
        uvec4 c0[NMAT * LR], c1[NMAT * LR], c2[NMAT * LR];
        uint sb[NMAT * LR];
        rows_q(wb, ws, b, c0, c1, c2, sb);
        uint bo = b * VKG_XQ8_0_BLOCK_TEXELS;
        uvec4 hv[TR];
        {
            uvec4 l_ = texelFetch(xin, int(xq0 + bo)), h_ = texelFetch(xin, int(xq1 + bo));
            QUAD_X8(l_, h_, hv);
        }
        uvec4 lo[NMAT * LR], hi[NMAT * LR];
        vec4 sc[NMAT * LR];
        [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) q32_blk(c0[v], c1[v], c2[v], sb[v], lo[v], hi[v], sc[v]);
        int ia[NMAT * LR * TR];
        {
            uvec4 xa[TR], xb[TR];
            uvec4 l_ = texelFetch(xin, int(xq0 + bo + 1u)), h_ = texelFetch(xin, int(xq1 + bo + 1u));
            QUAD_X8(l_, h_, xa);
            l_ = texelFetch(xin, int(xq0 + bo + 2u));
            h_ = texelFetch(xin, int(xq1 + bo + 2u));
            QUAD_X8(l_, h_, xb);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++)
                [[unroll]] for (uint i = 0u; i < TR; i++) ia[v * TR + i] = dot16(lo[v], xa[i], xb[i]);
        }
        {
            uvec4 xa[TR], xb[TR];
            uvec4 l_ = texelFetch(xin, int(xq0 + bo + 3u)), h_ = texelFetch(xin, int(xq1 + bo + 3u));
            QUAD_X8(l_, h_, xa);
            l_ = texelFetch(xin, int(xq0 + bo + 4u));
            h_ = texelFetch(xin, int(xq1 + bo + 4u));
            QUAD_X8(l_, h_, xb);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++)
                [[unroll]] for (uint i = 0u; i < TR; i++)
                    acc[v * TR + i] += xq32(ia[v * TR + i] + dot16(hi[v], xa[i], xb[i]), sc[v], hv[i]);
        }
        b++;
    } while (b < (p.K >> 5));
#else
#if defined(QB) && !defined(KQUANT)
#define KSTEP 32u // the 32-value types a whole block per step, as *_lane1
#elif defined(QB)
#define KSTEP 16u // w16: K-quant rows 16 values per step
#else
#define KSTEP 8u
#endif
    uint k = 0u;
    do {
        vec4 w[NMAT * LR][KSTEP / 4u];
#if defined(QB) && !defined(KQUANT)
        {
            // every row's block texels first (fetches are calls), then both halves' values
            uvec4 c0[NMAT * LR], c1[NMAT * LR], c2[NMAT * LR];
            uint sb[NMAT * LR];
            rows_q(wb, ws, k / BS, c0, c1, c2, sb);
            [[unroll]] for (uint v = 0u; v < NMAT * LR; v++) {
                uvec4 lo, hi;
                vec4 sc, wl[4], wh[4];
                q32_blk(c0[v], c1[v], c2[v], sb[v], lo, hi, sc);
                deq16(lo, sc, wl);
                deq16(hi, sc, wh);
                [[unroll]] for (uint i = 0u; i < 4u; i++) {
                    w[v][i] = wl[i];
                    w[v][4u + i] = wh[i];
                }
            }
        }
#else
        [[unroll]] for (uint r = 0u; r < LR; r++) {
#ifdef QB
            w16(w0, blk(wb[r], ws[r], k / BS), k, w[r]);
#ifdef GATE_UP
            w16(w1, blk(wb[LR + r], ws[r], k / BS), k, w[LR + r]);
#endif
#else
            w8(w0, wb[r], ws[r], k, w[r][0], w[r][1]);
#ifdef GATE_UP
            w8(w1, wb[LR + r], ws[r], k, w[LR + r][0], w[LR + r][1]);
#endif
#endif
        }
#endif
        [[unroll]] for (uint hh = 0u; hh < KSTEP / 8u; hh++) {
            uint t0 = (xq0 + k + 8u * hh) >> 2, t1 = (xq1 + k + 8u * hh) >> 2;
            vec4 la = uintBitsToFloat(texelFetch(xin, int(t0))), lb = uintBitsToFloat(texelFetch(xin, int(t0 + 1u)));
            vec4 ha = uintBitsToFloat(texelFetch(xin, int(t1))), hb = uintBitsToFloat(texelFetch(xin, int(t1 + 1u)));
            vec4 xa[TR], xb[TR];
            QUAD_X8(la, ha, xa);
            QUAD_X8(lb, hb, xb);
            [[unroll]] for (uint i = 0u; i < TR; i++)
                [[unroll]] for (uint v = 0u; v < NMAT * LR; v++)
                    acc[v * TR + i] += dot(w[v][2u * hh], xa[i]) + dot(w[v][2u * hh + 1u], xb[i]);
        }
        k += KSTEP;
    } while (k < p.K);
#endif
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint m = m0 + r * WG;
        if (m >= m_end) break;
        [[unroll]] for (uint i = 0u; i < TR; i++) {
            if (i >= nvalid) break;
            float g = acc[r * TR + i];
#ifdef GATE_UP
            float u = acc[(LR + r) * TR + i];
            g = g / (1.0 + exp(-g)) * u; // silu(gate) * up
#endif
            yout[p.out_off + pair[i] * p.M + m] = g;
        }
    }
#endif
}
