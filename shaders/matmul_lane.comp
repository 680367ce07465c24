#version 450
// matmul_lane.comp — y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o]) for float
// weights on CPU drivers (lavapipe), any number of tokens: the mat-vec of
// decode batches and the GEMM of prefill alike.
//
// Each invocation owns VKG_MATMUL_LANE_ROWS weight rows (rows row0 + r * WG)
// and the 8 tokens of block gl_WorkGroupID.x, and walks the rows in chunks of
// 8 columns keeping its 8 x LR sums in registers: no shared memory, no barrier,
// no cross-lane step. W and x are read through uniform texel buffers (16-byte
// texels): on llvmpipe a texel fetch is one gather, where each lane of a
// storage-buffer load is a scalar loop iteration with a branch. Every lane
// fetches the same x texels (the tokens are the workgroup's), each its own W
// rows: per chunk LR + 16 fetches feed 64 LR multiply-adds.
// The host guarantees: n_in % 8 == 0, W rows and x rows start on a texel
// (w_off % 8 == 0 for 16-bit types, % 4 for F32; x_off, x_stride % 4 == 0).
//
// Q8_0 / Q4 (ggml Q4_0) weights: blocks of 32 values, 34 / 18 bytes, not
// texel-aligned one by one, but 8 blocks (256 values) are 17 / 9 texels
// exactly. The host guarantees n_in % 256 == 0 and w_off % 16 == 0 (bytes), so
// every row and every group of 8 blocks starts on a texel; block j of a group
// starts at byte 34j / 18j of it, a constant once the loop over j is unrolled,
// and its words are taken out of the 3 / 2 texels it spans with constant
// shifts. Each block's f16 scale multiplies its 4-value dequantized pieces.
//! variant matmul_lane_f32 W_F32
//! variant matmul_lane_f16 W_F16
//! variant matmul_lane_bf16 W_BF16
//! variant matmul_lane_q8_0 W_Q8_0
//! variant matmul_lane_q4 W_Q4
//! variant matvec1_lane_tx_f32 W_F32 NT1
//! variant matvec1_lane_tx_f16 W_F16 NT1
//! variant matvec1_lane_tx_bf16 W_BF16 NT1
//! variant matvec1_lane_tx_q8_0 W_Q8_0 NT1
//! variant matvec1_lane_tx_q4 W_Q4 NT1
// matvec1_lane_tx_*: exactly one token (decode of one sequence), the same
// walk without the other 7 token slots.
//
// Fused launches (p.mode, push_matmul.h), one dispatch where a layer had 2-3:
//   PARTS: W is q|k|v stacked at load; rows past seg1 / seg2 are stored into
//          the bindings Y1 / Y2 with their own offsets and strides.
//   SWIGLU / GEGLU: W is gate|up stacked (2 n_out rows); the invocation's
//          first LR/2 rows are gate rows o, the last LR/2 the up rows n_out + o,
//          and it stores act(gate) * up (act.glsl, as act.comp computes it).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_matmul.h"
#include "act.glsl"
VKG_PUSH_CONSTANTS(vkg_push_matmul);

layout(constant_id = 0) const uint WG = 32; // == local_size_x

layout(binding = 0) uniform usamplerBuffer W;             // weights, 16-byte texels
layout(binding = 1) uniform usamplerBuffer X;             // x [n_tok][x_stride] f32, 16-byte texels
layout(binding = 2) writeonly buffer Ybuf { float Y[]; }; // [n_tok][y_stride]
layout(binding = 3) readonly buffer Bbuf { float B[]; };  // [n_out] (when has_bias)
layout(binding = 4) writeonly buffer Y1buf { float Y1[]; }; // PARTS: rows [seg1, seg2); else unused
layout(binding = 5) writeonly buffer Y2buf { float Y2[]; }; // PARTS: rows [seg2, n_out); else unused

#define LR VKG_MATMUL_LANE_ROWS
#ifdef NT1
#define NT 1u
#else
#define NT 8u
#endif

#if defined(W_Q8_0) || defined(W_Q4)
#define QUANT
#ifdef W_Q8_0
#define QB 34u // bytes per block
#define QT 3u  // texels a block spans (from an even byte < 16 of the first)
#define QW 8u  // 32-bit words of values per block
#else
#define QB 18u
#define QT 2u
#define QW 4u
#endif
// the 32-bit word at byte o (even; a constant after unrolling) of the texels a|b|c
uint word_at(uvec4 a, uvec4 b, uvec4 c, uint o)
{
    uint u[12] = uint[12](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y, c.z, c.w);
    uint q = o >> 2u;
    return (o & 2u) == 0u ? u[q] : (u[q] >> 16) | (u[min(q + 1u, 11u)] << 16);
}
#else
// 8 weights of row `row` from column k (a multiple of 8)
void load_w8(uint row, uint k, out vec4 a, out vec4 b)
{
#ifdef W_F32
    uint t = (p.w_off + row * p.n_in + k) >> 2;
    a = uintBitsToFloat(texelFetch(W, int(t)));
    b = uintBitsToFloat(texelFetch(W, int(t + 1u)));
#else
    uvec4 h = texelFetch(W, int((p.w_off + row * p.n_in + k) >> 3));
#ifdef W_F16
    // F16C on llvmpipe: exact for every half
    a = vec4(unpackHalf2x16(h.x), unpackHalf2x16(h.y));
    b = vec4(unpackHalf2x16(h.z), unpackHalf2x16(h.w));
#else
    a = uintBitsToFloat(uvec4(h.x << 16, h.x & 0xffff0000u, h.y << 16, h.y & 0xffff0000u));
    b = uintBitsToFloat(uvec4(h.z << 16, h.z & 0xffff0000u, h.w << 16, h.w & 0xffff0000u));
#endif
#endif
}
#endif

void main()
{
#ifdef NT1
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x, tb = 0u;
#else
    // token blocks in x (a row group's blocks run back to back, its rows in cache), row groups in y, z
    uint g = gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y, tb = gl_WorkGroupID.x;
#endif
    bool glu = p.mode >= VKG_MATMUL_MODE_SWIGLU;
    uint orows = glu ? LR / 2u : LR;                     // output rows per invocation
    uint row0 = g * WG * orows + gl_LocalInvocationID.x; // output rows row0 + r * WG
    uint t0 = tb * NT, nt = min(NT, p.n_tok - t0);
    // rows past n_out and tokens past n_tok read row / token 0 (valid) and store nothing
    uint rows[LR], xt[NT];
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint o = row0 + (glu ? r % (LR / 2u) : r) * WG;
        rows[r] = (o < p.n_out ? o : 0u) + (glu && r >= LR / 2u ? p.n_out : 0u);
    }
    [[unroll]] for (uint t = 0u; t < NT; t++) xt[t] = (p.x_off + (t < nt ? t0 + t : t0) * p.x_stride) >> 2;
    float acc[LR * NT];
    [[unroll]] for (uint i = 0u; i < LR * NT; i++) acc[i] = 0.0;
#ifdef QUANT
    uint tr[LR]; // first texel of each row
    [[unroll]] for (uint r = 0u; r < LR; r++) tr[r] = (p.w_off + rows[r] * (p.n_in / 32u * QB)) >> 4;
    for (uint k = 0u; k < p.n_in; k += 256u) {
        uint g8 = (k >> 8) * (QB / 2u); // texel of this group of 8 blocks inside a row
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            uint s = (j * QB) & 15u, tj = g8 + ((j * QB) >> 4);
            uvec4 ta[LR], tb[LR], tc[LR];
            float d[LR];
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                ta[r] = texelFetch(W, int(tr[r] + tj));
                tb[r] = texelFetch(W, int(tr[r] + tj + 1u));
                tc[r] = QT > 2u ? texelFetch(W, int(tr[r] + tj + 2u)) : uvec4(0u);
                d[r] = unpackHalf2x16(word_at(ta[r], tb[r], tc[r], s)).x;
            }
            uint xk = (k + 32u * j) >> 2; // x texel of the block's first value
            [[unroll]] for (uint i = 0u; i < QW; i++) {
                vec4 xa[NT], xb[NT];
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                    xa[t] = uintBitsToFloat(texelFetch(X, int(xt[t] + xk + i)));
#ifdef W_Q4
                    xb[t] = uintBitsToFloat(texelFetch(X, int(xt[t] + xk + 4u + i)));
#endif
                }
                [[unroll]] for (uint r = 0u; r < LR; r++) {
                    uint w = word_at(ta[r], tb[r], tc[r], s + 2u + 4u * i);
#ifdef W_Q8_0
                    vec4 wa = d[r] * vec4(ivec4(w << 24, w << 16, w << 8, w) >> 24);
                    [[unroll]] for (uint t = 0u; t < NT; t++) acc[r * NT + t] += dot(wa, xa[t]);
#else
                    // byte b of the word: value 4i + b in its low nibble, 16 + 4i + b in its high
                    vec4 wa = d[r] * (vec4(uvec4(w, w >> 8, w >> 16, w >> 24) & 15u) - 8.0);
                    vec4 wb = d[r] * (vec4(uvec4(w >> 4, w >> 12, w >> 20, w >> 28) & 15u) - 8.0);
                    [[unroll]] for (uint t = 0u; t < NT; t++) acc[r * NT + t] += dot(wa, xa[t]) + dot(wb, xb[t]);
#endif
                }
            }
        }
    }
#else
    for (uint k = 0u; k < p.n_in; k += 8u) {
        vec4 wa[LR], wb[LR];
        [[unroll]] for (uint r = 0u; r < LR; r++) load_w8(rows[r], k, wa[r], wb[r]);
        [[unroll]] for (uint t = 0u; t < NT; t++) {
            vec4 xa = uintBitsToFloat(texelFetch(X, int(xt[t] + (k >> 2)))),
                 xb = uintBitsToFloat(texelFetch(X, int(xt[t] + (k >> 2) + 1u)));
            [[unroll]] for (uint r = 0u; r < LR; r++) acc[r * NT + t] += dot(wa[r], xa) + dot(wb[r], xb);
        }
    }
#endif
    if (glu) {
        [[unroll]] for (uint r = 0u; r < LR / 2u; r++) {
            uint o = row0 + r * WG;
            if (o >= p.n_out) break;
            float bg = p.has_bias != 0u ? B[p.b_off + o] : 0.0, bu = p.has_bias != 0u ? B[p.b_off + p.n_out + o] : 0.0;
            [[unroll]] for (uint t = 0u; t < NT; t++) {
                float gv = acc[r * NT + t] + bg, u = acc[(r + LR / 2u) * NT + t] + bu;
                float a = p.mode == VKG_MATMUL_MODE_SWIGLU ? act_silu(gv) : act_gelu_tanh(gv);
                if (t < nt) Y[p.y_off + (t0 + t) * p.y_stride + o] = a * u;
            }
        }
        return;
    }
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint row = row0 + r * WG;
        if (row >= p.n_out) break;
        float b = p.has_bias != 0u ? B[p.b_off + row] : 0.0;
        [[unroll]] for (uint t = 0u; t < NT; t++) {
            if (t >= nt) break;
            float v = acc[r * NT + t] + b;
            if (p.mode != VKG_MATMUL_MODE_PARTS || row < p.seg1) Y[p.y_off + (t0 + t) * p.y_stride + row] = v;
            else if (row < p.seg2) Y1[p.y1_off + (t0 + t) * p.y1_stride + row - p.seg1] = v;
            else Y2[p.y2_off + (t0 + t) * p.y2_stride + row - p.seg2] = v;
        }
    }
}
