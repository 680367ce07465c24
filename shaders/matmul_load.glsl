// matmul_load.glsl — the bindings of the matmul family and the weight /
// activation readers shared by matvec.comp and matmul.comp. Include after
// common.glsl, dtype.glsl, quant.glsl and push_matmul.h with
// VKG_PUSH_CONSTANTS(vkg_push_matmul) declared; define one of W_F32, W_F16,
// W_BF16, W_Q8_0, W_Q4 or one of the ggml block types W_Q4_1, W_Q5_0,
// W_Q5_1, W_Q4_K, W_Q5_K, W_Q6_K (byte layouts exactly ggml's block_q4_1 ...
// block_q6_K, see loaders/dtype.h) first and enable
// GL_EXT_control_flow_attributes. Blocks are dequantized in registers, 8
// values per call: no dequantized copy of a weight is ever written.
#if defined(W_Q8_0)
#define QBYTES VKG_Q8_0_BYTES
#elif defined(W_Q4)
#define QBYTES VKG_Q4_BYTES
#endif

layout(binding = 0) readonly buffer Wbuf { uint W[]; };   // [n_out][n_in] of the weight dtype
layout(binding = 1) readonly buffer Xbuf { float X[]; };  // [n_tok][x_stride]
layout(binding = 2) writeonly buffer Ybuf { float Y[]; }; // [n_tok][y_stride]
layout(binding = 3) readonly buffer Bbuf { float B[]; };  // [n_out] (when has_bias)
// The same bindings seen as 16-byte vectors (fewer, wider loads when p.vec allows).
layout(binding = 0) readonly buffer Wbuf4 { uvec4 W4[]; };
layout(binding = 1) readonly buffer Xbuf4 { vec4 X4[]; };

#define QBUF W
#include "ggml_quants.glsl"

#if defined(W_F16) || defined(W_BF16)
float half_bits(uint h) // the low 16 bits of h as F16 / BF16
{
#ifdef W_F16
    return mm_f16_to_f32(h & 0xffffu);
#else
    return vkg_bf16_to_f32(h & 0xffffu);
#endif
}

float w_half(uint e) { return half_bits(W[e >> 1] >> ((e & 1u) * 16u)); } // 16-bit element e of the window
#endif

// Weights W[row][k .. k+7] (k a multiple of 8, k < n_in) as floats; columns
// at or past n_in read as 0 (float types only: block types have n_in % 32 == 0).
void load_w8(uint row, uint k, out float w[8])
{
#if defined(W_GGML32)
    load_ggml32(p.w_off + (row * (p.n_in >> 5) + (k >> 5)) * QBYTES, (k >> 3) & 3u, w);
#elif defined(W_GGMLK)
    load_ggmlk(p.w_off + (row * (p.n_in >> 8) + (k >> 8)) * QBYTES, k & 255u, w);
#elif defined(W_Q8_0) || defined(W_Q4)
    uint o = p.w_off + (row * (p.n_in >> 5) + (k >> 5)) * QBYTES; // block start
    uint part = (k >> 3) & 3u;                                    // which 8 of the 32 values
    float d = w_scale(o);
#ifdef W_Q8_0
    uvec2 q = w_bytes8(o + 2u + part * 8u);
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(bitfieldExtract(int(j < 4u ? q.x : q.y), int((j & 3u) * 8u), 8));
#else
    // byte i holds value i (low nibble) and value i + 16 (high nibble)
    uvec2 q = w_bytes8(o + 2u + (part & 1u) * 8u);
    uint sh = (part >> 1) * 4u;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(int(((j < 4u ? q.x : q.y) >> ((j & 3u) * 8u + sh)) & 15u) - 8);
#endif
#else
    uint e = p.w_off + row * p.n_in + k;
    if ((p.vec & VKG_MATMUL_VEC_W) != 0u) { // uniform; n_in % 8 == 0 so k < n_in means a whole chunk: 16-byte loads
#ifdef W_F32
        vec4 a = uintBitsToFloat(W4[e >> 2]), b = uintBitsToFloat(W4[(e >> 2) + 1u]);
        w = float[8](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w);
#else
        uvec4 a = W4[e >> 3];
        w = float[8](half_bits(a.x), half_bits(a.x >> 16), half_bits(a.y), half_bits(a.y >> 16),
                     half_bits(a.z), half_bits(a.z >> 16), half_bits(a.w), half_bits(a.w >> 16));
#endif
        return;
    }
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
#ifdef W_F32
        w[j] = k + j < p.n_in ? uintBitsToFloat(W[e + j]) : 0.0;
#else
        w[j] = k + j < p.n_in ? w_half(e + j) : 0.0;
#endif
    }
#endif
}

// x[xb .. xb+7] (xb = start of token row + k, k < n_in); columns at or past n_in read as 0.
void load_x8(uint xb, uint k, out float x[8])
{
    if ((p.vec & VKG_MATMUL_VEC_X) != 0u) {
        vec4 a = X4[xb >> 2], b = X4[(xb >> 2) + 1u];
        x = float[8](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w);
        return;
    }
    [[unroll]] for (uint j = 0u; j < 8u; j++) x[j] = k + j < p.n_in ? X[xb + j] : 0.0;
}
