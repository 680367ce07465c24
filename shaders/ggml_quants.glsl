// ggml_quants.glsl — byte readers and in-register dequantizers of ggml's
// block types Q4_1, Q5_0, Q5_1 (32 values) and Q4_K, Q5_K, Q6_K (256-value
// super-blocks), byte layouts exactly ggml's block_q4_1 ... block_q6_K (see
// loaders/dtype.h; the CPU reference is tests/reference/ref_ggml_quants.c).
// Shared by the matmul family (matmul_load.glsl) and the embedding lookup.
// Define QBUF (the uint[] array the blocks live in) and at most one of
// W_Q4_1 ... W_Q6_K before including; blocks start at even byte offsets.
// A kernel with two weight buffers includes this twice, the second time
// with QBUF and every function name below #defined to other names.
// The values are bit-identical to ggml's dequantize_row_* (same f32
// operations in the same order, multiply-adds kept unfused by `precise`).
#ifndef VKG_GGML_QUANTS_DEFS
#define VKG_GGML_QUANTS_DEFS
#if defined(W_Q4_1)
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
#endif

// 8 little-endian bytes starting at the even byte offset s of QBUF. Blocks are
// 2-byte aligned, so the bytes are either two whole words or straddle three.
uvec2 w_bytes8(uint s)
{
    uint i = s >> 2;
    if ((s & 2u) == 0u) return uvec2(QBUF[i], QBUF[i + 1u]);
    uint a = QBUF[i], b = QBUF[i + 1u], c = QBUF[i + 2u];
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
    return mm_f16_to_f32((QBUF[o >> 2] >> ((o & 2u) * 8u)) & 0xffffu);
}

uint w_byte(uint o) { return (QBUF[o >> 2] >> ((o & 3u) * 8u)) & 0xffu; } // byte at offset o

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
        precise float y = float(v) * d + m; // no fused multiply-add: rounds like ggml
        w[j] = y;
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
#ifdef W_Q6_K
// Values v0 .. v0+7 of a Q6_K block whose fields ql, qh, scales and d start at bytes oql, oqh, osc, od:
// o + 0, 128, 192, 208 as ggml stores it, or a tiled matrix's split fields (push_matmul.h VKG_Q6K_SPLIT_*)
void load_q6k_fields(uint oql, uint oqh, uint osc, uint od, uint v0, out float w[8])
{
    uint n = v0 >> 7, g = (v0 >> 5) & 3u, l = v0 & 31u;
    uvec2 ql = w_bytes8(oql + n * 64u + (g & 1u) * 32u + l);
    uvec2 qh = w_bytes8(oqh + n * 32u + l);
    float ds = w_scale(od) * float(int(w_byte(osc + n * 8u + (l >> 4) + 2u * g) << 24) >> 24);
    uint shl = (g >> 1) * 4u, shh = 2u * g;
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
        uint q = ((byte8(ql, j) >> shl) & 15u) | (((byte8(qh, j) >> shh) & 3u) << 4);
        w[j] = ds * float(int(q) - 32);
    }
}
#endif

void load_ggmlk(uint o, uint v0, out float w[8])
{
#ifdef W_Q6_K
    load_q6k_fields(o, o + 128u, o + 192u, o + 208u, v0, w);
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
        precise float y = d1 * float(q) - m1; // no fused multiply-add: rounds like ggml
        w[j] = y;
    }
#endif
}
#endif


#if defined(W_GGML32) || defined(W_GGMLK)
// Value v (0 .. block size - 1) of the block at byte o, one at a time (for
// kernels that walk K one element per invocation, like moe_ffn.comp); the
// same formulas and rounding as load_ggml32 / load_ggmlk.
float ggml_value(uint o, uint v)
{
#if defined(W_GGML32)
#if defined(W_Q5_0)
    uint qs = o + 6u, qh = w_bytes8(o + 2u).x;
#elif defined(W_Q5_1)
    uint qs = o + 8u, qh = w_bytes8(o + 4u).x;
#else
    uint qs = o + 4u, qh = 0u;
#endif
    uint q = ((w_byte(qs + (v & 15u)) >> ((v >> 4) * 4u)) & 15u) | (((qh >> v) & 1u) << 4);
#ifdef W_Q5_0
    return float(int(q) - 16) * w_scale(o);
#else
    precise float y = float(q) * w_scale(o) + w_scale(o + 2u);
    return y;
#endif
#elif defined(W_Q6_K)
    uint n = v >> 7, g = (v >> 5) & 3u, l = v & 31u;
    uint q = ((w_byte(o + n * 64u + (g & 1u) * 32u + l) >> ((g >> 1) * 4u)) & 15u) |
             (((w_byte(o + 128u + n * 32u + l) >> (2u * g)) & 3u) << 4);
    float ds = w_scale(o + 208u) * float(int(w_byte(o + 192u + n * 8u + (l >> 4) + 2u * g) << 24) >> 24);
    return ds * float(int(q) - 32);
#else
    uint s = v >> 5, l = v & 31u, sc, mn;
    scale_min_k4(o + 4u, s, sc, mn);
    float d1 = w_scale(o) * float(sc), m1 = w_scale(o + 2u) * float(mn);
#ifdef W_Q5_K
    uint q = ((w_byte(o + 48u + (s >> 1) * 32u + l) >> ((s & 1u) * 4u)) & 15u) | (((w_byte(o + 16u + l) >> s) & 1u) << 4);
#else
    uint q = (w_byte(o + 16u + (s >> 1) * 32u + l) >> ((s & 1u) * 4u)) & 15u;
#endif
    precise float y = d1 * float(q) - m1;
    return y;
#endif
}
#endif
