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
#elif defined(W_Q4_1)
#define QBYTES 20u
#elif defined(W_Q5_0)
#define QBYTES 22u
#elif defined(W_Q5_1)
#define QBYTES 24u
#elif defined(W_Q4_K)
#define QBYTES 144u
#elif defined(W_Q5_K)
#define QBYTES 176u
#elif defined(W_Q6_K)
#define QBYTES 210u
#endif
#if defined(W_Q4_1) || defined(W_Q5_0) || defined(W_Q5_1)
#define W_GGML32 // 32-value blocks
#elif defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
#define W_GGMLK // 256-value super-blocks
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

uint w_byte(uint o) { return (W[o >> 2] >> ((o & 3u) * 8u)) & 0xffu; } // byte at offset o

// byte j (0..7) of the 8 bytes q
uint byte8(uvec2 q, uint j) { return ((j < 4u ? q.x : q.y) >> ((j & 3u) * 8u)) & 0xffu; }

#if defined(W_GGML32)
// Q4_1 (d, m, qs[16]), Q5_0 (d, qh[4], qs[16]), Q5_1 (d, m, qh[4], qs[16]):
// byte i of qs holds value i (low nibble) and i + 16 (high nibble); bit v of
// the little-endian u32 qh is the 5th bit of value v. Q4_1/Q5_1: d * q + m;
// Q5_0: d * (q - 16).
void load_ggml32(uint o, uint part, out float w[8])
{
    float d = w_scale(o);
#ifdef W_Q5_0
    float m = 0.0;
    uint qs = o + 6u, qh = w_bytes8(o + 2u).x;
#else
    float m = w_scale(o + 2u);
#ifdef W_Q5_1
    uint qs = o + 8u, qh = w_bytes8(o + 4u).x;
#else
    uint qs = o + 4u, qh = 0u;
#endif
#endif
    uvec2 q = w_bytes8(qs + (part & 1u) * 8u);
    uint sh = (part >> 1) * 4u, v0 = part * 8u;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint v = (byte8(q, j) >> sh) & 15u;
        v |= ((qh >> (v0 + j)) & 1u) << 4;
#ifdef W_Q5_0
        w[j] = float(int(v) - 16) * d;
#else
        w[j] = float(v) * d + m;
#endif
    }
}
#endif

#if defined(W_GGMLK)
#if !defined(W_Q6_K)
// ggml's get_scale_min_k4: 6-bit scale and min of sub-block s (0..7) from the
// 12 packed bytes at sc
void scale_min_k4(uint sc, uint s, out uint d, out uint m)
{
    if (s < 4u) {
        d = w_byte(sc + s) & 63u;
        m = w_byte(sc + s + 4u) & 63u;
    } else {
        uint b = w_byte(sc + s + 4u);
        d = (b & 15u) | ((w_byte(sc + s - 4u) >> 6) << 4);
        m = (b >> 4) | ((w_byte(sc + s) >> 6) << 4);
    }
}
#endif

// Values v0 .. v0+7 (v0 a multiple of 8) of the super-block at byte o.
// Q4_K (d, dmin, scales[12], qs[128]) / Q5_K (+ qh[32] before qs): value v is
// in sub-block s = v / 32 with scale/min (sc, mn); its nibble is byte
// (v / 64) * 32 + v % 32 of qs, low for even s; Q5_K's 5th bit is bit s of
// qh[v % 32]; w = (d * sc) * q - dmin * mn. Q6_K (ql[128], qh[64], int8
// scales[16], d): in half n = v / 128, quarter g = (v % 128) / 32, l = v % 32:
// low nibble of ql[n*64 + (g&1)*32 + l] (high for g >= 2), 2 bits
// (qh[n*32 + l] >> 2g) & 3 on top, minus 32; scale scales[n*8 + l/16 + 2g].
void load_ggmlk(uint o, uint v0, out float w[8])
{
#ifdef W_Q6_K
    uint n = v0 >> 7, g = (v0 >> 5) & 3u, l = v0 & 31u;
    uvec2 ql = w_bytes8(o + n * 64u + (g & 1u) * 32u + l);
    uvec2 qh = w_bytes8(o + 128u + n * 32u + l);
    float ds = w_scale(o + 208u) * float(int(w_byte(o + 192u + n * 8u + (l >> 4) + 2u * g) << 24) >> 24);
    uint shl = (g >> 1) * 4u, shh = 2u * g;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint q = ((byte8(ql, j) >> shl) & 15u) | (((byte8(qh, j) >> shh) & 3u) << 4);
        w[j] = ds * float(int(q) - 32);
    }
#else
    uint s = v0 >> 5, l = v0 & 31u, sc, mn;
    scale_min_k4(o + 4u, s, sc, mn);
    float d1 = w_scale(o) * float(sc), m1 = w_scale(o + 2u) * float(mn);
#ifdef W_Q5_K
    uvec2 qs = w_bytes8(o + 48u + (s >> 1) * 32u + l);
    uvec2 qh = w_bytes8(o + 16u + l);
#else
    uvec2 qs = w_bytes8(o + 16u + (s >> 1) * 32u + l);
    uvec2 qh = uvec2(0u);
#endif
    uint sh = (s & 1u) * 4u;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint q = ((byte8(qs, j) >> sh) & 15u) | (((byte8(qh, j) >> s) & 1u) << 4);
        w[j] = d1 * float(q) - m1;
    }
#endif
}
#endif

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
