#version 450
// matmul.comp — prefill GEMM: y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o])
// for many tokens. Each workgroup computes a 64 x 64 tile (weight rows x
// tokens) in steps of 32 columns: the 256 threads stage one 64x32 weight
// tile (dequantized to f32 on load: one thread = 8 values of one row, so a
// quant block is read by 4 neighbouring threads) and one 64x32 tile of x in
// shared memory, then each thread accumulates its 4x4 outputs from there.
// Tile sizes are fixed defines (the pipeline passes only spec constant 0);
// local_size_x must be 256.
//! variant matmul_f32 W_F32
//! variant matmul_f16 W_F16
//! variant matmul_bf16 W_BF16
//! variant matmul_q8_0 W_Q8_0
//! variant matmul_q4 W_Q4
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#define PUSH_MATMUL
#include "push_matmul.glsl"

#define TILE VKG_MATMUL_TILE // rows and tokens per workgroup
#define BK 32u               // columns per step (one quant block)

shared float As[BK * TILE]; // [k][row]
shared float Bs[BK * TILE]; // [k][token]

// Stages columns k0 .. k0+31 of the tile's weight rows and tokens.
void load_tiles(uint o0, uint t0, uint k0, uint tid)
{
    uint lr = tid >> 2, lk = (tid & 3u) * 8u; // row / token lr, columns lk .. lk+7
    float w[8];
    if (o0 + lr < p.n_out) load_w8(o0 + lr, k0 + lk, w);
    else
        for (uint j = 0u; j < 8u; j++) w[j] = 0.0;
    uint t = t0 + lr;
    uint xb = p.x_off + t * p.x_stride + k0 + lk;
    for (uint j = 0u; j < 8u; j++) {
        As[(lk + j) * TILE + lr] = w[j];
        Bs[(lk + j) * TILE + lr] = (t < p.n_tok && k0 + lk + j < p.n_in) ? X[xb + j] : 0.0;
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint o0 = gl_WorkGroupID.x * TILE, t0 = gl_WorkGroupID.y * TILE;
    uint tx = tid & 15u, ty = tid >> 4; // owns rows o0+tx+16i, tokens t0+ty+16j
    float acc[16];
    for (uint i = 0u; i < 16u; i++) acc[i] = 0.0;
    for (uint k0 = 0u; k0 < p.n_in; k0 += BK) {
        load_tiles(o0, t0, k0, tid);
        barrier();
        for (uint k = 0u; k < BK; k++) {
            float a[4], b[4];
            for (uint i = 0u; i < 4u; i++) a[i] = As[k * TILE + tx + 16u * i];
            for (uint j = 0u; j < 4u; j++) b[j] = Bs[k * TILE + ty + 16u * j];
            for (uint i = 0u; i < 4u; i++)
                for (uint j = 0u; j < 4u; j++) acc[i * 4u + j] += a[i] * b[j];
        }
        barrier();
    }
    for (uint i = 0u; i < 4u; i++) {
        uint o = o0 + tx + 16u * i;
        if (o >= p.n_out) continue;
        float bias = p.has_bias != 0u ? B[p.b_off + o] : 0.0;
        for (uint j = 0u; j < 4u; j++) {
            uint t = t0 + ty + 16u * j;
            if (t < p.n_tok) Y[p.y_off + t * p.y_stride + o] = acc[i * 4u + j] + bias;
        }
    }
}
