// matmul_load.glsl — the bindings of the matmul family and the weight /
// activation readers shared by matvec.comp and matmul.comp. Include after
// common.glsl, dtype.glsl, quant.glsl and push_matmul.h with
// VKG_PUSH_CONSTANTS(vkg_push_matmul) declared; define one of W_F32, W_F16,
// W_BF16, W_Q8_0, W_Q4 first and enable GL_EXT_control_flow_attributes.
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

// 8 little-endian bytes starting at the even byte offset s of W. Blocks are
// 2-byte aligned, so the bytes are either two whole words or straddle three.
uvec2 w_bytes8(uint s)
{
    uint i = s >> 2;
    if ((s & 2u) == 0u) return uvec2(W[i], W[i + 1u]);
    uint a = W[i], b = W[i + 1u], c = W[i + 2u];
    return uvec2((a >> 16) | (b << 16), (b >> 16) | (c << 16));
}

// f16 -> f32, exact like vkg_f16_to_f32 but without branches or loops (the
// lanes of a subgroup take different paths there); subnormals go through an
// exact int -> float conversion, so no f32 denormal is ever produced or read.
float mm_f16_to_f32(uint h)
{
    uint s = (h & 0x8000u) << 16, e = (h >> 10) & 31u, m = h & 0x3ffu;
    uint sub = floatBitsToUint(float(m) * uintBitsToFloat(0x33800000u)) | s; // m * 2^-24
    uint big = s | 0x7f800000u | (m << 13);                                  // inf, NaN
    uint nrm = s | ((e + 112u) << 23) | (m << 13);
    return uintBitsToFloat(e == 0u ? sub : e == 31u ? big : nrm);
}

float w_scale(uint o) // f16 block scale at the even byte offset o
{
    return mm_f16_to_f32((W[o >> 2] >> ((o & 2u) * 8u)) & 0xffffu);
}

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
#if defined(W_Q8_0) || defined(W_Q4)
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
