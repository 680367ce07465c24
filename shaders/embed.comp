#version 450
// embed.comp — embedding lookup: out[t][j] = table[ids[t]][j] * scale, one
// workgroup per token. The launcher binds one window of table rows
// [row_lo, row_hi) per dispatch (a vocab-sized table exceeds one binding);
// a workgroup whose id lies in another window does nothing. Ids outside
// [0, vocab) never touch the table: the write_oob dispatch stores zeros.
//! variant embed_f32 T_F32
//! variant embed_f16 T_F16
//! variant embed_bf16 T_BF16
//! variant embed_q8_0 T_Q8_0
//! variant embed_q4 T_Q4
//! variant embed_q4_1 W_Q4_1
//! variant embed_q5_0 W_Q5_0
//! variant embed_q5_1 W_Q5_1
//! variant embed_q4_k W_Q4_K
//! variant embed_q5_k W_Q5_K
//! variant embed_q6_k W_Q6_K
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "dtype.glsl"
#include "quant.glsl"
#include "push_norm.h"
#include "push_matmul.h" // VKG_MATMUL_TILE_ROWS
VKG_PUSH_CONSTANTS(vkg_push_embed);

layout(binding = 0) readonly buffer Ids { int ids[]; };      // [n_tokens] token ids
layout(binding = 1) readonly buffer Table { uint tab[]; };   // [row_hi - row_lo][dim] in the table dtype
layout(binding = 2) writeonly buffer Out { float outv[]; };  // [n_tokens][dim]

// byte offset of block b (of bv values, qbytes each) of window row r: row-major, or (p.tiled, a GGUF block-type
// head tied to the embedding: use.tiled_blocks) in tiles of VKG_MATMUL_TILE_ROWS rows of 256-value units, the
// matmul's layout: unit u of the tile's row i at the tile's start + (u * rows in the tile + i) * unit bytes (the
// window starts on a tile; Q6_K's tile columns hold split fields instead, store8)
uint block_at(uint r, uint b, uint bv, uint qbytes)
{
    uint bpr = p.dim / bv;
    if (p.tiled == 0u) return p.table_skip + (r * bpr + b) * qbytes;
    uint upu = 256u / bv; // blocks per unit
    uint t0 = r - r % VKG_MATMUL_TILE_ROWS, rt = min(VKG_MATMUL_TILE_ROWS, p.row_hi - p.row_lo - t0);
    return p.table_skip + (t0 * bpr + ((b / upu) * rt + (r - t0)) * upu + b % upu) * qbytes;
}

#if defined(W_Q4_1) || defined(W_Q5_0) || defined(W_Q5_1) || defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
#define T_GGML // ggml's block types, dequantized in registers 8 values at a time
#define QBUF tab
#include "ggml_quants.glsl"
// values j .. j+7 (j % 8 == 0) of window row r
void store8(uint r, uint j, uint o_out)
{
    float w[8];
#ifdef W_GGML32
    load_ggml32(block_at(r, j >> 5, 32u, QBYTES), (j >> 3) & 3u, w);
#elif defined(W_Q6_K)
    if (p.tiled != 0u) { // the split fields of row r's tile column (whole tiles: the host checked vocab % 8)
        uint i = r % VKG_MATMUL_TILE_ROWS, g = block_at(r, j >> 8, 256u, QBYTES) - i * QBYTES; // the column's start
        load_q6k_fields(g + VKG_Q6K_SPLIT_QL(i), g + VKG_Q6K_SPLIT_QH(i), g + VKG_Q6K_SPLIT_SC(i), g + VKG_Q6K_SPLIT_D(i),
                        j & 255u, w);
    } else {
        load_ggmlk(block_at(r, j >> 8, 256u, QBYTES), j & 255u, w);
    }
#else
    load_ggmlk(block_at(r, j >> 8, 256u, QBYTES), j & 255u, w);
#endif
    [[unroll]] for (uint k = 0u; k < 8u; k++) outv[o_out + k] = w[k] * p.scale;
}
#elif defined(T_Q8_0) || defined(T_Q4)
#ifdef T_Q8_0
#define QBYTES VKG_Q8_0_BYTES
#else
#define QBYTES VKG_Q4_BYTES
#endif
// values j .. j+3 (j % 4 == 0, inside one block) of window row r: one scale decode per 4 values
void store4(uint r, uint j, uint o_out)
{
    uint o = block_at(r, j / VKG_QBLOCK, VKG_QBLOCK, QBYTES);
    float d = VKG_QSCALE(tab, o);
    for (uint k = 0u; k < 4u; k++) {
        uint jj = (j + k) % VKG_QBLOCK;
#ifdef T_Q8_0
        outv[o_out + k] = (d * VKG_Q8_0_Q(tab, o, jj)) * p.scale;
#else
        outv[o_out + k] = (d * VKG_Q4_Q(tab, o, jj)) * p.scale;
#endif
    }
}
#else
// element index (from the window's start) of element j of window row r: row-major, or in tiles of
// VKG_MATMUL_TILE_ROWS rows (p.tiled; the window starts on a tile), each column-major in 16-byte
// groups of VT values
uint elem(uint r, uint j)
{
#if defined(T_F32)
    const uint VT = 4u;
#else
    const uint VT = 8u;
#endif
    if (p.tiled == 0u) return r * p.dim + j;
    uint t0 = r - r % VKG_MATMUL_TILE_ROWS, rt = min(VKG_MATMUL_TILE_ROWS, p.row_hi - p.row_lo - t0);
    return t0 * p.dim + ((j / VT) * rt + (r - t0)) * VT + j % VT;
}

// element j of window row r
float load(uint r, uint j)
{
#if defined(T_F32)
    return uintBitsToFloat(tab[(p.table_skip >> 2) + elem(r, j)]);
#else
    uint e = (p.table_skip >> 1) + elem(r, j);
    uint bits = (tab[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu;
#ifdef T_F16
    return vkg_f16_to_f32(bits);
#else
    return vkg_bf16_to_f32(bits);
#endif
#endif
}
#endif

void main()
{
    // one workgroup per token row: the id is read once and a workgroup whose
    // row lives in another table window leaves at once (uniform branch)
    uint t = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n_tokens) return;
    int id = ids[p.ids_off + t];
    uint ob = p.out_off + t * p.dim;
    if (id < 0 || uint(id) >= p.vocab) {
        if (p.write_oob != 0u)
            for (uint j = gl_LocalInvocationID.x; j < p.dim; j += gl_WorkGroupSize.x) outv[ob + j] = 0.0;
        return;
    }
    if (uint(id) < p.row_lo || uint(id) >= p.row_hi) return;
    uint r = uint(id) - p.row_lo;
#if defined(T_GGML)
    for (uint j = 8u * gl_LocalInvocationID.x; j < p.dim; j += 8u * gl_WorkGroupSize.x) store8(r, j, ob + j);
#elif defined(T_Q8_0) || defined(T_Q4)
    for (uint j = 4u * gl_LocalInvocationID.x; j < p.dim; j += 4u * gl_WorkGroupSize.x) store4(r, j, ob + j);
#else
    for (uint j = gl_LocalInvocationID.x; j < p.dim; j += gl_WorkGroupSize.x) outv[ob + j] = load(r, j) * p.scale;
#endif
}
