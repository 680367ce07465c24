// push_matmul.glsl — twin of runtime/push_matmul.h (checked there by
// _Static_assert): one push block per struct, chosen by PUSH_MATMUL or
// PUSH_QUANTIZE. With PUSH_MATMUL it also declares the family's bindings and
// the weight reader shared by matvec.comp and matmul.comp; define one of
// W_F32, W_F16, W_BF16, W_Q8_0, W_Q4 first and include dtype.glsl + quant.glsl.

// Must equal the defines of the same name in runtime/push_matmul.h.
#define VKG_MATVEC_ROWS 2
#define VKG_MATVEC_MAX_TOK 8
#define VKG_MATMUL_TILE 64

#ifdef PUSH_MATMUL
#if defined(W_Q8_0)
#define QBYTES VKG_Q8_0_BYTES
#elif defined(W_Q4)
#define QBYTES VKG_Q4_BYTES
#endif

layout(push_constant) uniform PushMatmul {
    uint n_out;    // weight rows in this dispatch
    uint n_in;     // weight columns = x row length used
    uint n_tok;    // tokens (vectors) in this dispatch
    uint w_off;    // row 0 of W in its window: words (F32), 16-bit elements (F16/BF16), bytes (Q8_0/Q4)
    uint x_off;    // x[0][0] in its window (floats)
    uint x_stride; // floats between tokens in x
    uint y_off;    // y[0][0] in its window (floats)
    uint y_stride; // floats between tokens in y
    uint b_off;    // bias[0] in its window (floats)
    uint has_bias; // 0: binding 3 is a dummy, not read
    uint pad0, pad1;
} p;

layout(binding = 0) readonly buffer Wbuf { uint W[]; };   // [n_out][n_in] of the weight dtype
layout(binding = 1) readonly buffer Xbuf { float X[]; };  // [n_tok][x_stride]
layout(binding = 2) writeonly buffer Ybuf { float Y[]; }; // [n_tok][y_stride]
layout(binding = 3) readonly buffer Bbuf { float B[]; };  // [n_out] (when has_bias)

// 8 little-endian bytes starting at the even byte offset s of W. Blocks are
// 2-byte aligned, so the bytes are either two whole words or straddle three.
uvec2 w_bytes8(uint s)
{
    uint i = s >> 2;
    if ((s & 2u) == 0u) return uvec2(W[i], W[i + 1u]);
    uint a = W[i], b = W[i + 1u], c = W[i + 2u];
    return uvec2((a >> 16) | (b << 16), (b >> 16) | (c << 16));
}

float w_scale(uint o) // f16 block scale at the even byte offset o
{
    return vkg_f16_to_f32((W[o >> 2] >> ((o & 2u) * 8u)) & 0xffffu);
}

#if defined(W_F16) || defined(W_BF16)
float w_half(uint e) // 16-bit weight element e of the window
{
    uint h = (W[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu;
#ifdef W_F16
    return vkg_f16_to_f32(h);
#else
    return vkg_bf16_to_f32(h);
#endif
}
#endif

// Weights W[row][k .. k+7] (k a multiple of 8) as floats; columns at or past
// n_in read as 0 (float types only: block types have n_in % 32 == 0).
void load_w8(uint row, uint k, out float w[8])
{
#if defined(W_Q8_0) || defined(W_Q4)
    uint o = p.w_off + (row * (p.n_in >> 5) + (k >> 5)) * QBYTES; // block start
    uint part = (k >> 3) & 3u;                                    // which 8 of the 32 values
    float d = w_scale(o);
#ifdef W_Q8_0
    uvec2 q = w_bytes8(o + 2u + part * 8u);
    for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(bitfieldExtract(int(j < 4u ? q.x : q.y), int((j & 3u) * 8u), 8));
#else
    // byte i holds value i (low nibble) and value i + 16 (high nibble)
    uvec2 q = w_bytes8(o + 2u + (part & 1u) * 8u);
    uint sh = (part >> 1) * 4u;
    for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(int(((j < 4u ? q.x : q.y) >> ((j & 3u) * 8u + sh)) & 15u) - 8);
#endif
#else
    uint e = p.w_off + row * p.n_in + k;
    for (uint j = 0u; j < 8u; j++) {
        bool in_row = k + j < p.n_in;
#ifdef W_F32
        w[j] = in_row ? uintBitsToFloat(W[e + j]) : 0.0;
#else
        w[j] = in_row ? w_half(e + j) : 0.0;
#endif
    }
#endif
}
#endif // PUSH_MATMUL

#ifdef PUSH_QUANTIZE
layout(push_constant) uniform PushQuantize {
    uint n_blocks; // blocks in this dispatch
    uint src_off;  // first source element in its window
    uint dst_off;  // first destination byte in its window (even)
    uint pad0;
} p;
#endif
