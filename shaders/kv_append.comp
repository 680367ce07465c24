#version 450
// kv_append.comp — writes the K and V rows of new tokens into their KV pages.
// One invocation per (token, kv head, element d < max(dk, dv)); token i has
// { seq, pos } and lands in page page_table[seq.page_off + pos / page_size],
// slot pos % page_size. Pages were reserved on the host (kv_cache.c), and a
// page shared after a fork is never written (the fork copied the partial one).
// kv_append_f16: F16 pages (uint words of two halves, round to nearest even);
// one invocation per pair of elements, so each word has one writer.
//! variant kv_append
//! variant kv_append_f16 KV_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_attention.h"
VKG_PUSH_CONSTANTS(vkg_push_kv_append);

layout(binding = 0) readonly buffer NewK { float new_k[]; };    // [n_tokens][n_kv_heads][dk]
layout(binding = 1) readonly buffer NewV { float new_v[]; };    // [n_tokens][n_kv_heads][dv]
layout(binding = 2) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 3) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 4) readonly buffer Pages { int pages[]; };     // page ids
#ifdef KV_F16
layout(binding = 5) writeonly buffer PoolK { uint pool_k[]; };  // [n_pages][n_kv_heads][page_size][dk / 2] f16 pairs
layout(binding = 6) writeonly buffer PoolV { uint pool_v[]; };  // [n_pages][n_kv_heads][page_size][dv / 2]
#define PER 2u // elements per invocation
#else
layout(binding = 5) writeonly buffer PoolK { float pool_k[]; }; // [n_pages][n_kv_heads][page_size][dk]
layout(binding = 6) writeonly buffer PoolV { float pool_v[]; }; // [n_pages][n_kv_heads][page_size][dv]
#define PER 1u
#endif

void main()
{
    uint dmax = max(p.dk, p.dv) / PER; // dk, dv even for F16 pages (kv_cache.c)
    uint i = vkg_linear_id();
    if (i >= p.n_tokens * p.n_kv_heads * dmax) return;
    uint d = i % dmax, row = i / dmax; // row = token * n_kv_heads + head
    uint h = row % p.n_kv_heads, t = row / p.n_kv_heads;
    ivec2 tk = tokens[p.tok_off + t];
    uint pos = uint(tk.y);
    // a bad record (unknown sequence, position not reserved) must not write
    // into a page of another sequence: drop it
    if (uint(tk.x) >= uint(seqs.length()) || tk.y < 0 || pos >= seqs[tk.x].y) return;
    uint page = uint(pages[seqs[tk.x].x + pos / p.page_size]);
    uint slot = (page * p.n_kv_heads + h) * p.page_size + pos % p.page_size;
#ifdef KV_F16
    uint k0 = p.k_off + row * p.dk + 2u * d, v0 = p.v_off + row * p.dv + 2u * d;
    if (2u * d < p.dk) pool_k[(slot * p.dk) / 2u + d] = vkg_f32_to_f16(new_k[k0]) | (vkg_f32_to_f16(new_k[k0 + 1u]) << 16);
    if (2u * d < p.dv) pool_v[(slot * p.dv) / 2u + d] = vkg_f32_to_f16(new_v[v0]) | (vkg_f32_to_f16(new_v[v0 + 1u]) << 16);
#else
    if (d < p.dk) pool_k[slot * p.dk + d] = new_k[p.k_off + row * p.dk + d];
    if (d < p.dv) pool_v[slot * p.dv + d] = new_v[p.v_off + row * p.dv + d];
#endif
}
