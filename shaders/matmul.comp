#version 450
// matmul.comp — prefill GEMM: y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o])
// for many tokens. Each workgroup computes a 64 x 64 tile (weight rows x
// tokens) in steps of 32 columns: its 64 threads stage one 64x32 weight tile
// (dequantized to f32 on load: one thread = one row = one 32-value block, or
// an eighth of a 256-value K-quant super-block) and
// one 64x32 tile of x in shared memory, transposed so that each thread reads
// its 8 rows and 8 tokens as vec4s, then accumulates its 8x8 outputs: 64
// FMAs per 4 shared loads. Tile sizes are fixed defines (the pipeline passes
// only spec constant 0); local_size_x must be 64.
//! variant matmul_f32 W_F32
//! variant matmul_f16 W_F16
//! variant matmul_bf16 W_BF16
//! variant matmul_q8_0 W_Q8_0
//! variant matmul_q4 W_Q4
//! variant matmul_q4_1 W_Q4_1
//! variant matmul_q5_0 W_Q5_0
//! variant matmul_q5_1 W_Q5_1
//! variant matmul_q4_k W_Q4_K
//! variant matmul_q5_k W_Q5_K
//! variant matmul_q6_k W_Q6_K
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#include "push_matmul.h"
VKG_PUSH_CONSTANTS(vkg_push_matmul);
#include "matmul_load.glsl"

#define TILE VKG_MATMUL_TILE // rows and tokens per workgroup
#define BK 32u               // columns per step (one quant block)
#define Q (TILE / 4u)        // vec4s per shared row

shared vec4 As[BK * Q]; // [k][row / 4]
shared vec4 Bs[BK * Q]; // [k][token / 4]

// Stages columns k0 .. k0+31 of the tile: thread tid loads weight row
// o0+tid and token row t0+tid (4 chunks of 8 each), written transposed.
void load_tiles(uint o0, uint t0, uint k0, uint tid)
{
    uint t = t0 + tid;
    [[unroll]] for (uint c = 0u; c < BK; c += 8u) {
        uint k = k0 + c;
        float w[8], x[8];
        bool in_k = k < p.n_in; // false only for float types with n_in % 32 != 0
        if (o0 + tid < p.n_out && in_k) load_w8(o0 + tid, k, w);
        else
            w = float[8](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        if (t < p.n_tok && in_k) load_x8(p.x_off + t * p.x_stride + k, k, x);
        else
            x = float[8](0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            As[(c + j) * Q + (tid >> 2)][tid & 3u] = w[j];
            Bs[(c + j) * Q + (tid >> 2)][tid & 3u] = x[j];
        }
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint o0 = gl_WorkGroupID.x * TILE, t0 = gl_WorkGroupID.y * TILE;
    uint tx = tid & 7u, ty = tid >> 3; // owns rows o0+8tx .. +7 and tokens t0+8ty .. +7
    vec4 acc[16];                      // [row i][token half h]: acc[i * 2 + h]
    [[unroll]] for (uint i = 0u; i < 16u; i++) acc[i] = vec4(0.0);
    for (uint k0 = 0u; k0 < p.n_in; k0 += BK) {
        load_tiles(o0, t0, k0, tid);
        barrier();
        for (uint k = 0u; k < BK; k++) {
            vec4 a0 = As[k * Q + 2u * tx], a1 = As[k * Q + 2u * tx + 1u];
            vec4 b0 = Bs[k * Q + 2u * ty], b1 = Bs[k * Q + 2u * ty + 1u];
            float a[8] = float[8](a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w);
            [[unroll]] for (uint i = 0u; i < 8u; i++) {
                acc[i * 2u] += a[i] * b0;
                acc[i * 2u + 1u] += a[i] * b1;
            }
        }
        barrier();
    }
    [[unroll]] for (uint i = 0u; i < 8u; i++) {
        uint o = o0 + 8u * tx + i;
        if (o >= p.n_out) continue;
        float bias = p.has_bias != 0u ? B[p.b_off + o] : 0.0;
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            uint t = t0 + 8u * ty + j;
            if (t < p.n_tok) Y[p.y_off + t * p.y_stride + o] = acc[i * 2u + (j >> 2)][j & 3u] + bias;
        }
    }
}
