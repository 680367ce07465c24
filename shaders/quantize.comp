#version 450
// quantize.comp — load-time quantization of F32/F16/BF16 weights into Q8_0
// or Q4 blocks of 32 values (layouts in quant.glsl), one invocation per block.
// The rule (mirrored exactly by tests/reference/ref_matmul.c):
//   Q8_0: amax = max|x|; d = amax * f32(1/127) (a product: OpFMul is
//         correctly rounded on every driver, OpFDiv only to 2.5 ULP);
//         q = round-half-away(x / d) clamped to [-127, 127]; d stored as f16.
//   Q4 (ggml Q4_0): m = the first value of largest |x| (signed);
//         d = m * -1/8 (exact); q = min(15, floor(x / d + 8.5)); value = d*(q-8).
//   d == 0 gives q = 0 (Q8_0) / 8 (Q4). x / d is computed as x * (1/d), so
//   q may differ by one from the exact rule only next to a .5 tie.
// Blocks are 34 / 18 bytes, so two blocks can share a word: whole words are
// stored, the shared edge words are merged with atomicAnd/atomicOr.
//! variant quantize_f32_q8_0 SRC_F32 DST_Q8_0
//! variant quantize_f16_q8_0 SRC_F16 DST_Q8_0
//! variant quantize_bf16_q8_0 SRC_BF16 DST_Q8_0
//! variant quantize_f32_q4 SRC_F32 DST_Q4
//! variant quantize_f16_q4 SRC_F16 DST_Q4
//! variant quantize_bf16_q4 SRC_BF16 DST_Q4
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#include "push_matmul.h"
VKG_PUSH_CONSTANTS(vkg_push_quantize);

layout(binding = 0) readonly buffer Src { uint S[]; }; // n_blocks * 32 values
layout(binding = 1) buffer Dst { uint D[]; };          // n_blocks blocks

#ifdef DST_Q8_0
#define NB VKG_Q8_0_BYTES
#else
#define NB VKG_Q4_BYTES
#endif

float src_val(uint e)
{
#ifdef SRC_F32
    return uintBitsToFloat(S[e]);
#else
    uint h = (S[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu;
#ifdef SRC_F16
    return vkg_f16_to_f32(h);
#else
    return vkg_bf16_to_f32(h);
#endif
#endif
}

// Fills the block's bytes: [0,1] = f16 d, then the quants.
void quantize_block(float x[32], out uint bytes[NB])
{
#ifdef DST_Q8_0
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) amax = max(amax, abs(x[j]));
    float d = amax * uintBitsToFloat(0x3c010204u); // f32(1/127)
    float id = d != 0.0 ? 1.0 / d : 0.0;
    for (uint j = 0u; j < 32u; j++) {
        float v = x[j] * id;
        int q = clamp(int(sign(v) * floor(abs(v) + 0.5)), -127, 127);
        bytes[2u + j] = uint(q) & 0xffu;
    }
#else
    float amax = 0.0, m = 0.0;
    for (uint j = 0u; j < 32u; j++)
        if (abs(x[j]) > amax) { amax = abs(x[j]); m = x[j]; }
    float d = m * -0.125;
    float id = d != 0.0 ? 1.0 / d : 0.0;
    uint q[32];
    for (uint j = 0u; j < 32u; j++) q[j] = uint(clamp(floor(x[j] * id + 8.5), 0.0, 15.0));
    for (uint j = 0u; j < 16u; j++) bytes[2u + j] = q[j] | (q[j + 16u] << 4);
#endif
    uint h = vkg_f32_to_f16(d);
    bytes[0] = h & 0xffu;
    bytes[1] = h >> 8;
}

void main()
{
    uint b = vkg_linear_id();
    if (b >= p.n_blocks) return;
    float x[32];
    for (uint j = 0u; j < 32u; j++) x[j] = src_val(p.src_off + b * 32u + j);
    uint bytes[NB];
    quantize_block(x, bytes);
    uint s = p.dst_off + b * NB; // first byte of the block
    for (uint wi = s >> 2; wi <= (s + NB - 1u) >> 2; wi++) {
        uint val = 0u, mask = 0u;
        for (uint k = 0u; k < 4u; k++) {
            uint at = wi * 4u + k;
            if (at < s || at >= s + NB) continue;
            val |= bytes[at - s] << (8u * k);
            mask |= 0xffu << (8u * k);
        }
        if (mask == 0xffffffffu) {
            D[wi] = val;
        } else { // a word shared with the neighbouring block (or data outside the tensor)
            atomicAnd(D[wi], ~mask);
            atomicOr(D[wi], val);
        }
    }
}
