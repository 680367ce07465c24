#version 450
// kv_append.comp — writes the K and V rows of new tokens into their KV pages.
// One invocation per (token, kv head, element d < max(dk, dv)); token i has
// { seq, pos } and lands in page page_table[seq.page_off + pos / page_size],
// slot pos % page_size. Pages were reserved on the host (kv_cache.c), and a
// page shared after a fork is never written (the fork copied the partial one).
// kv_append_f16: F16 pages (uint words of two halves, round to nearest even);
// one invocation per pair of elements, so each word has one writer.
// kv_append_rope*: the same launch also applies RoPE at each record's
// position, as rope.comp would in two launches before it: to q in place
// (invocation j of a token also rotates pair j of its query heads) and to K
// on its way into the pages (each element computes its own rotated value
// from its pair; new_k itself is not written). One launch instead of three.
//! variant kv_append
//! variant kv_append_f16 KV_F16
//! variant kv_append_rope ROPE
// kv_append_mla*: DeepSeek-V2's K and V gathered where the layer left them
// instead of first copied into [token][head][d] rows: K element e < k_split
// of head h from new_k at token stride k_ts and head stride k_hs (k_nope in
// kv_b_proj's output), the rest from new_k2 (k_pe, one per token, shared by
// the heads), V from new_v at v_ts / v_hs. One launch instead of four.
// kv_append_mla_rope*: both, as DeepSeek-V2 needs them: q's rope slices and
// k_pe rotated (interleaved pairs) on the way, in place of two rope launches.
//! variant kv_append_rope_f16 ROPE KV_F16
//! variant kv_append_mla MLA
//! variant kv_append_mla_f16 MLA KV_F16
//! variant kv_append_mla_rope MLA ROPE
//! variant kv_append_mla_rope_f16 MLA ROPE KV_F16
// *_tx (CPU drivers: device use.texel): every input but q read through uniform
// texel buffers (16-byte texels) instead of storage buffers. On llvmpipe a
// storage-buffer load is a loop over the lanes with a branch per lane, a texel
// fetch one gather call; the pools (written) and q (rotated in place) stay
// storage buffers. The seq table's record count comes from p.n_seqs (a texel
// view's size is rounded up to 16 bytes).
//! variant kv_append_tx TX
//! variant kv_append_f16_tx KV_F16 TX
//! variant kv_append_rope_tx ROPE TX
//! variant kv_append_rope_f16_tx ROPE KV_F16 TX
//! variant kv_append_mla_tx MLA TX
//! variant kv_append_mla_f16_tx MLA KV_F16 TX
//! variant kv_append_mla_rope_tx MLA ROPE TX
//! variant kv_append_mla_rope_f16_tx MLA ROPE KV_F16 TX
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_attention.h"
#ifdef ROPE
#include "rope.glsl"
#endif
VKG_PUSH_CONSTANTS(vkg_push_kv_append);

#ifdef TX
layout(binding = 0) uniform usamplerBuffer NewK;   // f32 [n_tokens][n_kv_heads][dk], 16-byte texels
layout(binding = 1) uniform usamplerBuffer NewV;   // f32 [n_tokens][n_kv_heads][dv]
layout(binding = 2) uniform usamplerBuffer Tokens; // {seq, pos} int32 pairs, 2 per texel
layout(binding = 3) uniform usamplerBuffer Seqs;   // {page_off, len} uint32 pairs, 2 per texel
layout(binding = 4) uniform usamplerBuffer Pages;  // page ids, 4 per texel
float f_at(usamplerBuffer b, uint i) { return uintBitsToFloat(texelFetch(b, int(i >> 2u))[i & 3u]); }
uvec2 pair_at(usamplerBuffer b, uint i)
{
    uvec4 w = texelFetch(b, int(i >> 1u));
    return (i & 1u) != 0u ? w.zw : w.xy;
}
#define NEW_K(i) f_at(NewK, i)
#define NEW_V(i) f_at(NewV, i)
#define TOKEN(i) ivec2(pair_at(Tokens, i))
#define SEQ(i) pair_at(Seqs, i)
#define N_SEQS p.n_seqs
#define PAGE(i) texelFetch(Pages, int((i) >> 2u))[(i) & 3u]
#else
layout(binding = 0) readonly buffer NewK { float new_k[]; };    // [n_tokens][n_kv_heads][dk]
layout(binding = 1) readonly buffer NewV { float new_v[]; };    // [n_tokens][n_kv_heads][dv]
layout(binding = 2) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 3) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 4) readonly buffer Pages { int pages[]; };     // page ids
#define NEW_K(i) new_k[i]
#define NEW_V(i) new_v[i]
#define TOKEN(i) tokens[i]
#define SEQ(i) seqs[i]
#define N_SEQS uint(seqs.length())
#define PAGE(i) uint(pages[i])
#endif
#ifdef KV_F16
layout(binding = 5) writeonly buffer PoolK { uint pool_k[]; };  // [n_pages][n_kv_heads][page_size][dk / 2] f16 pairs
layout(binding = 6) writeonly buffer PoolV { uint pool_v[]; };  // [n_pages][n_kv_heads][page_size][dv / 2]
#define PER 2u // elements per invocation
#else
layout(binding = 5) writeonly buffer PoolK { float pool_k[]; }; // [n_pages][n_kv_heads][page_size][dk]
layout(binding = 6) writeonly buffer PoolV { float pool_v[]; }; // [n_pages][n_kv_heads][page_size][dv]
#define PER 1u
#endif
#ifdef MLA
#ifdef TX
layout(binding = 7) uniform usamplerBuffer NewK2; // f32 [n_tokens][k2_ts]: K elements from k_split on
#define NEW_K2(i) f_at(NewK2, i)
#else
layout(binding = 7) readonly buffer NewK2 { float new_k2[]; }; // [n_tokens][k2_ts]: K elements from k_split on
#define NEW_K2(i) new_k2[i]
#endif
// element e of head h of token t's K row
float mla_k(uint t, uint h, uint e)
{
    return e < p.k_split ? NEW_K(p.k_off + t * p.k_ts + h * p.k_hs + e) : NEW_K2(p.k2_off + t * p.k2_ts + e - p.k_split);
}
#define K_SRC(t, h, kb, e) mla_k(t, h, e)
#define V_AT(e) NEW_V(p.v_off + t * p.v_ts + h * p.v_hs + (e))
#define B_Q 8
#define B_FREQ 9
#else
#define K_SRC(t, h, kb, e) NEW_K((kb) + (e))
#define V_AT(e) NEW_V(p.v_off + row * p.dv + (e))
#define B_Q 7
#define B_FREQ 8
#endif
#ifdef ROPE
layout(binding = B_Q) buffer Q { float q[]; };                    // [n_tokens][n_heads][dk], rotated in place
#ifdef TX
layout(binding = B_FREQ) uniform usamplerBuffer Freq; // f32 [rot_dim / 2]
#define INV_FREQ(i) f_at(Freq, i)
#else
layout(binding = B_FREQ) readonly buffer Freq { float inv_freq[]; }; // [rot_dim / 2]
#define INV_FREQ(i) inv_freq[i]
#endif

// cos and sin of pair kk's angle at position pos, scaled as rope.comp scales them
vec2 rope_cs(int pos, uint kk)
{
    float s, c;
    sincos_acc(float(pos) * INV_FREQ(kk), s, c);
    return vec2(c, s) * p.attn_factor;
}

// the rotation pair of K element e: rot (e is rotated), second (e is the pair's second element)
uint k_pair(uint e, out bool rot, out bool second)
{
    uint r = e - p.dim_off;
    rot = e >= p.dim_off && r < p.rot_dim;
    second = p.interleaved != 0u ? (r & 1u) != 0u : r >= (p.rot_dim >> 1);
    uint kk = p.interleaved != 0u ? r >> 1 : (second ? r - (p.rot_dim >> 1) : r);
    return rot ? kk : 0u;
}

// element e of token t's K row of head h (at new_k[kb ..], or gathered: MLA) after RoPE by cs,
// the cos and sin of its pair kk
float k_rot(uint t, uint h, uint kb, uint e, bool rot, bool second, uint kk, vec2 cs)
{
    if (!rot) return K_SRC(t, h, kb, e);
    uint ea = p.dim_off + (p.interleaved != 0u ? 2u * kk : kk);
    uint eb = p.interleaved != 0u ? ea + 1u : ea + (p.rot_dim >> 1);
    float a = K_SRC(t, h, kb, ea), b = K_SRC(t, h, kb, eb);
    return second ? b * cs.x + a * cs.y : a * cs.x - b * cs.y;
}
// K_AT0 / K_AT1: element PER * d / 2d + 1 of the K row as the pages store it
#define K_AT0(kb) k_rot(t, h, kb, PER * d, r0, s0, k0, cs0)
#define K_AT1(kb) k_rot(t, h, kb, 2u * d + 1u, r1, s1, k1, cs1)
#else
#define K_AT0(kb) K_SRC(t, h, kb, PER * d)
#define K_AT1(kb) K_SRC(t, h, kb, 2u * d + 1u)
#endif

#ifndef TX
void main()
{
    uint dmax = max(p.dk, p.dv) / PER; // dk, dv even for F16 pages (kv_cache.c)
    uint n_kv = p.n_kv_heads * dmax;   // kv invocations per token
#ifdef ROPE
    // Each invocation (t, j) rotates pair j of the token's q heads (as rope.comp) when j < n_q and
    // writes kv element j when j < n_kv: llvmpipe runs both sides of a branch, so the two parts share
    // invocations (max(n_q, n_kv) of them per token) rather than taking separate ones.
    uint half_ = p.rot_dim >> 1, n_q = p.n_heads * half_, per_tok = max(n_q, n_kv);
#else
    uint per_tok = n_kv;
#endif
    uint i = vkg_linear_id();
    if (i >= p.n_tokens * per_tok) return;
    uint t = i / per_tok, j = i % per_tok;
    ivec2 tk = TOKEN(p.tok_off + t);
#ifdef ROPE
    if (j < n_q) {
        uint kq = j % half_, h = j / half_;
        uint base = p.q_off + (t * p.n_heads + h) * p.dk + p.dim_off;
        uint ia = p.interleaved != 0u ? base + 2u * kq : base + kq;
        uint ib = p.interleaved != 0u ? ia + 1u : ia + half_;
        vec2 cs = rope_cs(tk.y, kq);
        float a = q[ia], b = q[ib];
        q[ia] = a * cs.x - b * cs.y;
        q[ib] = b * cs.x + a * cs.y;
    }
#endif
    if (j >= n_kv) return;
    uint d = j % dmax, h = j / dmax, row = t * p.n_kv_heads + h;
    uint pos = uint(tk.y);
    // a bad record (unknown sequence, position not reserved) must not write
    // into a page of another sequence: drop it
    if (uint(tk.x) >= N_SEQS || tk.y < 0) return;
    uvec2 sq = SEQ(uint(tk.x));
    if (pos >= sq.y) return;
#ifdef ROPE
    bool r0, s0;
    uint k0 = k_pair(PER * d, r0, s0);
    vec2 cs0 = rope_cs(tk.y, k0);
#ifdef KV_F16
    bool r1, s1;
    uint k1 = k_pair(2u * d + 1u, r1, s1);
    vec2 cs1 = rope_cs(tk.y, k1);
#endif
#endif
    uint page = PAGE(sq.x + pos / p.page_size);
    uint slot = (page * p.n_kv_heads + h) * p.page_size + pos % p.page_size;
    uint kb = p.k_off + row * p.dk;
#ifdef KV_F16
    if (2u * d < p.dk) pool_k[(slot * p.dk) / 2u + d] = vkg_f32_to_f16(K_AT0(kb)) | (vkg_f32_to_f16(K_AT1(kb)) << 16);
    if (2u * d < p.dv) pool_v[(slot * p.dv) / 2u + d] = vkg_f32_to_f16(V_AT(2u * d)) | (vkg_f32_to_f16(V_AT(2u * d + 1u)) << 16);
#else
    if (d < p.dk) pool_k[slot * p.dk + d] = K_AT0(kb);
    if (d < p.dv) pool_v[slot * p.dv + d] = V_AT(d);
#endif
}
#else
// *_tx: one invocation per (token, kv head, texel c of 4 elements), since the launcher takes this
// variant only where every K / V row, MLA stride and offset, and the rotated range lie on whole
// texels (append_texel_ok in ops_attention.c; the storage variants serve every other shape). On
// llvmpipe each fetch is a call: a texel serves 4 elements where the element-wise kernel fetched
// its token record, seq, page, K element (MLA: from both sources) and rotation partner per element.
vec4 tex4(usamplerBuffer b, uint i) { return uintBitsToFloat(texelFetch(b, int(i))); }
#ifdef MLA
// texel c of head h of token t's K row: c < k_split / 4 from new_k, the rest from new_k2
vec4 k_texel(uint t, uint h, uint c)
{
    uint c2 = c < p.k_split / 4u ? 0u : c - p.k_split / 4u; // both fetches run on llvmpipe: keep the other in range
    vec4 a = tex4(NewK, (p.k_off + t * p.k_ts + h * p.k_hs) / 4u + min(c, p.k_split / 4u - 1u));
    vec4 b = tex4(NewK2, (p.k2_off + t * p.k2_ts) / 4u + c2);
    return c < p.k_split / 4u ? a : b;
}
vec4 v_texel(uint t, uint h, uint c) { return tex4(NewV, (p.v_off + t * p.v_ts + h * p.v_hs) / 4u + c); }
#else
vec4 k_texel(uint t, uint h, uint c) { return tex4(NewK, (p.k_off + (t * p.n_kv_heads + h) * p.dk) / 4u + c); }
vec4 v_texel(uint t, uint h, uint c) { return tex4(NewV, (p.v_off + (t * p.n_kv_heads + h) * p.dv) / 4u + c); }
#endif

#ifdef ROPE
// q read as texels (the same memory as Q, whose storage binding takes the rotated values): each
// invocation reads only its own group, before writing it
layout(binding = B_FREQ + 1) uniform usamplerBuffer QT;

// the cos and sin of pairs kk .. kk + 3 (kk % 4 == 0), or of kk and kk + 1 in .xy (kk even)
void rope_cs4(int pos, uint kk, uint n, out vec4 c, out vec4 s)
{
    vec4 f = tex4(Freq, kk >> 2u);
    if ((kk & 2u) != 0u) f = f.zwzw;
    c = vec4(0.0);
    s = vec4(0.0);
    [[unroll]] for (uint i = 0u; i < 4u; i++) {
        if (i < n) {
            float si, ci;
            sincos_acc(float(pos) * f[i], si, ci);
            c[i] = ci * p.attn_factor;
            s[i] = si * p.attn_factor;
        }
    }
}
#endif

void main()
{
    uint dmax4 = max(p.dk, p.dv) / 4u, n_kv = p.n_kv_heads * dmax4; // kv texels per token
#ifdef ROPE
    // q groups of 4 rotated elements per head: interleaved, 2 pairs; NeoX, 4 first-half elements
    // with their 4 partners. As in the element-wise kernel, invocation j does q group j and kv texel
    // j (llvmpipe runs both sides of a branch, so the parts share invocations).
    uint half_ = p.rot_dim >> 1, gq = p.interleaved != 0u ? p.rot_dim / 4u : half_ / 4u, n_q = p.n_heads * gq;
    uint per_tok = max(n_q, n_kv);
#else
    uint per_tok = n_kv;
#endif
    uint i = vkg_linear_id();
    if (i >= p.n_tokens * per_tok) return;
    uint t = i / per_tok, j = i % per_tok;
    ivec2 tk = TOKEN(p.tok_off + t);
#ifdef ROPE
    if (j < n_q) {
        uint g = j % gq, h = j / gq;
        uint base = p.q_off + (t * p.n_heads + h) * p.dk + p.dim_off + 4u * g;
        vec4 c, s;
        vec4 a = tex4(QT, base / 4u);
        if (p.interleaved != 0u) {
            rope_cs4(tk.y, 2u * g, 2u, c, s);
            q[base] = a.x * c.x - a.y * s.x;
            q[base + 1u] = a.y * c.x + a.x * s.x;
            q[base + 2u] = a.z * c.y - a.w * s.y;
            q[base + 3u] = a.w * c.y + a.z * s.y;
        } else {
            rope_cs4(tk.y, 4u * g, 4u, c, s);
            vec4 b = tex4(QT, (base + half_) / 4u);
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                q[base + e] = a[e] * c[e] - b[e] * s[e];
                q[base + half_ + e] = b[e] * c[e] + a[e] * s[e];
            }
        }
    }
#endif
    if (j >= n_kv) return;
    uint c4 = j % dmax4, h = j / dmax4;
    uint pos = uint(tk.y);
    // a bad record (unknown sequence, position not reserved) must not write
    // into a page of another sequence: drop it
    if (uint(tk.x) >= N_SEQS || tk.y < 0) return;
    uvec2 sq = SEQ(uint(tk.x));
    if (pos >= sq.y) return;
    uint page = PAGE(sq.x + pos / p.page_size);
    uint slot = (page * p.n_kv_heads + h) * p.page_size + pos % p.page_size;
    if (4u * c4 < p.dk) {
        vec4 k = k_texel(t, h, min(c4, p.dk / 4u - 1u));
#ifdef ROPE
        uint r = 4u * c4 - p.dim_off; // a texel is wholly inside or outside the rotated range
        if (4u * c4 >= p.dim_off && r < p.rot_dim) {
            vec4 cs, sn;
            if (p.interleaved != 0u) {
                rope_cs4(tk.y, r >> 1u, 2u, cs, sn);
                k = vec4(k.x * cs.x - k.y * sn.x, k.y * cs.x + k.x * sn.x, k.z * cs.y - k.w * sn.y, k.w * cs.y + k.z * sn.y);
            } else {
                bool second = r >= half_;
                rope_cs4(tk.y, second ? r - half_ : r, 4u, cs, sn);
                vec4 o = k_texel(t, h, second ? c4 - half_ / 4u : c4 + half_ / 4u); // the pair partners
                k = second ? k * cs + o * sn : k * cs - o * sn;
            }
        }
#endif
#ifdef KV_F16
        uint kb = (slot * p.dk) / 2u + 2u * c4;
        pool_k[kb] = vkg_f32_to_f16(k.x) | (vkg_f32_to_f16(k.y) << 16);
        pool_k[kb + 1u] = vkg_f32_to_f16(k.z) | (vkg_f32_to_f16(k.w) << 16);
#else
        uint kb = slot * p.dk + 4u * c4;
        pool_k[kb] = k.x;
        pool_k[kb + 1u] = k.y;
        pool_k[kb + 2u] = k.z;
        pool_k[kb + 3u] = k.w;
#endif
    }
    if (4u * c4 < p.dv) {
        vec4 v = v_texel(t, h, min(c4, p.dv / 4u - 1u));
#ifdef KV_F16
        uint vb = (slot * p.dv) / 2u + 2u * c4;
        pool_v[vb] = vkg_f32_to_f16(v.x) | (vkg_f32_to_f16(v.y) << 16);
        pool_v[vb + 1u] = vkg_f32_to_f16(v.z) | (vkg_f32_to_f16(v.w) << 16);
#else
        uint vb = slot * p.dv + 4u * c4;
        pool_v[vb] = v.x;
        pool_v[vb + 1u] = v.y;
        pool_v[vb + 2u] = v.z;
        pool_v[vb + 3u] = v.w;
#endif
    }
}
#endif
