#version 450
// kv_append.comp — writes the K and V rows of new tokens into their KV pages.
// One invocation per (token, kv head, element d < max(dk, dv)); token i has
// { seq, pos } and lands in page page_table[seq.page_off + pos / page_size],
// slot pos % page_size. Pages were reserved on the host (kv_cache.c), and a
// page shared after a fork is never written (the fork copied the partial one).
#extension GL_GOOGLE_include_directive : require
#define PUSH_KV_APPEND
#include "common.glsl"
#include "push_attention.glsl"

layout(binding = 0) readonly buffer NewK { float new_k[]; };    // [n_tokens][n_kv_heads][dk]
layout(binding = 1) readonly buffer NewV { float new_v[]; };    // [n_tokens][n_kv_heads][dv]
layout(binding = 2) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 3) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 4) readonly buffer Pages { int pages[]; };     // page ids
layout(binding = 5) writeonly buffer PoolK { float pool_k[]; }; // [n_pages][n_kv_heads][page_size][dk]
layout(binding = 6) writeonly buffer PoolV { float pool_v[]; }; // [n_pages][n_kv_heads][page_size][dv]

void main()
{
    uint dmax = max(p.dk, p.dv);
    uint i = vkg_linear_id();
    if (i >= p.n_tokens * p.n_kv_heads * dmax) return;
    uint d = i % dmax, row = i / dmax; // row = token * n_kv_heads + head
    uint h = row % p.n_kv_heads, t = row / p.n_kv_heads;
    ivec2 tk = tokens[p.tok_off + t];
    uint pos = uint(tk.y);
    uint page = uint(pages[seqs[tk.x].x + pos / p.page_size]);
    uint slot = (page * p.n_kv_heads + h) * p.page_size + pos % p.page_size;
    if (d < p.dk) pool_k[slot * p.dk + d] = new_k[p.k_off + row * p.dk + d];
    if (d < p.dv) pool_v[slot * p.dv + d] = new_v[p.v_off + row * p.dv + d];
}
