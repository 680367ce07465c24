#version 450
// attn.comp — paged attention for every target model: causal, GQA/MQA (the
// query heads of one KV head share each K/V read), dk != dv (MLA), custom
// scale, logit soft-capping, sliding window, many sequences of different
// lengths in one dispatch (page table), online softmax in f32.
//
// A workgroup owns up to ROWS query rows (token, head) that read the same KV
// head over the same positions, and walks those positions in tiles of 64:
// thread j scores kv position j of the tile against every row (one K row read
// for all rows), each row's running max m and sum l are updated (online
// softmax: acc and l are rescaled by exp(m_old - m_new)), then the threads add
// p * V to the output elements they own.
//   attn         rows = <= 8 heads of one token (grid: token, kv head x chunk)
//   attn_split   the same over KV split z; writes (m, l, acc) partials
//   attn_prefix  rows = (token, head) pairs of many tokens whose sequences
//                share a prefix (forked): the prefix K/V is read once for 16
//                rows (grid: row chunk, kv head, prefix split); partials
//   attn_rows    rows = (token, head) pairs of 8 consecutive query tokens x the
//                heads of one KV head, any sequences (prefill: runs of one
//                sequence): each K/V read serves all rows of a sequence; the
//                rows' sequences are walked one after another (grid: row chunk,
//                kv head); writes the output
//   attn_combine merges the partials of a row: sum acc_s e^(m_s - M) / sum l_s e^(m_s - M)
//! variant attn
//! variant attn_split SPLIT
//! variant attn_prefix PREFIX
//! variant attn_rows TOKROWS
//! variant attn_combine COMBINE
//! variant attn_f16 KV_F16
//! variant attn_split_f16 SPLIT KV_F16
//! variant attn_prefix_f16 PREFIX KV_F16
//! variant attn_rows_f16 TOKROWS KV_F16
//! variant attn_g1 G1
//! variant attn_split_g1 SPLIT G1
//! variant attn_g1_f16 G1 KV_F16
//! variant attn_split_g1_f16 SPLIT G1 KV_F16
//! variant attn_tx TEX
//! variant attn_split_tx SPLIT TEX
//! variant attn_prefix_tx PREFIX TEX
//! variant attn_rows_tx TOKROWS TEX
//! variant attn_g1_tx G1 TEX
//! variant attn_split_g1_tx SPLIT G1 TEX
//! variant attn_f16_tx KV_F16 TEX
//! variant attn_split_f16_tx SPLIT KV_F16 TEX
//! variant attn_prefix_f16_tx PREFIX KV_F16 TEX
//! variant attn_rows_f16_tx TOKROWS KV_F16 TEX
//! variant attn_g1_f16_tx G1 KV_F16 TEX
//! variant attn_split_g1_f16_tx SPLIT G1 KV_F16 TEX
//! variant attn_wide WIDE
//! variant attn_split_wide SPLIT WIDE
//! variant attn_wide_f16 WIDE KV_F16
//! variant attn_split_wide_f16 SPLIT WIDE KV_F16
// *_wide: rows past VKG_ATTN_DMAX (DeepSeek-V2's MLA latent, one KV head of dk 576 and dv 512):
// q rows of up to VKG_ATTN_WIDE_DK in shared memory, and each thread owns VPT = 2 output vec4s of
// every row (d4 = lid, lid + 64) and walks every kv position of a tile (R = 1), writing its own
// outputs (no staging); storage-buffer K/V only.
// *_g1: attn / attn_split for one query head per KV head (MHA, MLA): one row
// per workgroup instead of loops over VKG_ATTN_GMAX rows of which one is live.
// *_f16: F16 KV pages (4 halves per uvec2, exact integer conversion), f32 math.
// *_tx: the K and V pools bound as uniform texel buffers (16-byte texels): on a
// CPU driver (llvmpipe) a texel fetch is one gather, while a storage-buffer load
// runs a scalar loop over the lanes. Same math, same results.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_attention.h"
VKG_PUSH_CONSTANTS(vkg_push_attn);

#define NEG_BIG (-1.0e30) // initial running max: exp(NEG_BIG - m) == 0 for any real score m
#define WG VKG_ATTN_TILE  // threads per workgroup
// KPT kv positions per thread and tile (KT = 64 * KPT positions per tile): each
// query element loaded from shared memory serves KPT K rows.
#ifdef PREFIX
#define ROWS VKG_ATTN_PREFIX_ROWS
#define KPT 2u
#define PARTIALS
#elif defined(TOKROWS)
#define ROWS VKG_ATTN_TOKEN_ROWS
#define KPT 4u
#elif defined(G1)
#define ROWS 1u
#define KPT 4u
#ifdef SPLIT
#define PARTIALS
#endif
#else
#define ROWS VKG_ATTN_GMAX
#define KPT 4u
#ifdef SPLIT
#define PARTIALS
#endif
#endif

#ifdef COMBINE
layout(binding = 0) readonly buffer Part { float part[]; }; // [n_tokens][n_heads][part_stride][2 + dv]
layout(binding = 1) writeonly buffer Out { float o[]; };    // [n_tokens][n_heads][dv]

// Workgroup (token, head); q_off = first float of the partials window.
void main()
{
    uint row = gl_WorkGroupID.x * p.n_heads + gl_WorkGroupID.y;
    uint rec = 2u + p.dv, n = p.part_stride;
    uint base = p.q_off + row * n * rec;
    float mx = NEG_BIG, l = 0.0;
    for (uint s = 0u; s < n; s++) mx = max(mx, part[base + s * rec]);
    for (uint s = 0u; s < n; s++) l += part[base + s * rec + 1u] * exp(part[base + s * rec] - mx);
    for (uint d = gl_LocalInvocationID.x; d < p.dv; d += gl_WorkGroupSize.x) {
        float a = 0.0;
        for (uint s = 0u; s < n; s++) a += part[base + s * rec + 2u + d] * exp(part[base + s * rec] - mx);
        o[p.o_off + row * p.dv + d] = l > 0.0 ? a / l : 0.0;
    }
}
#else
layout(binding = 0) readonly buffer Q { float q[]; };          // [n_tokens][n_heads][dk]
layout(binding = 1) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 2) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 3) readonly buffer Pages { int pages[]; };     // page ids
#if defined(KV_F16) || defined(TEX)
vec4 f16x4(uvec2 w)
{
    return vec4(vkg_f16_to_f32(w.x & 0xffffu), vkg_f16_to_f32(w.x >> 16), vkg_f16_to_f32(w.y & 0xffffu),
                vkg_f16_to_f32(w.y >> 16));
}
#endif
#ifdef TEX
layout(binding = 4) uniform usamplerBuffer pool_k; // the same layouts as below, 16 bytes per texel
layout(binding = 5) uniform usamplerBuffer pool_v;
#ifdef KV_F16
uvec2 half_texel(usamplerBuffer t, uint i) // uvec2 i (4 halves) of 8-half texels
{
    uvec4 w = texelFetch(t, int(i >> 1));
    return (i & 1u) != 0u ? w.zw : w.xy;
}
#define LOAD_K(i) f16x4(half_texel(pool_k, i))
#define LOAD_V(i) f16x4(half_texel(pool_v, i))
#else
#define LOAD_K(i) uintBitsToFloat(texelFetch(pool_k, int(i)))
#define LOAD_V(i) uintBitsToFloat(texelFetch(pool_v, int(i)))
#endif
#elif defined(KV_F16)
layout(binding = 4) readonly buffer PoolK { uvec2 pool_k[]; };  // [n_pages][n_kv_heads][page_size][dk / 4] f16 x4
layout(binding = 5) readonly buffer PoolV { uvec2 pool_v[]; };  // [n_pages][n_kv_heads][page_size][dv / 4]
#define LOAD_K(i) f16x4(pool_k[i])
#define LOAD_V(i) f16x4(pool_v[i])
#else
layout(binding = 4) readonly buffer PoolK { vec4 pool_k[]; };   // [n_pages][n_kv_heads][page_size][dk / 4]
layout(binding = 5) readonly buffer PoolV { vec4 pool_v[]; };   // [n_pages][n_kv_heads][page_size][dv / 4]
#define LOAD_K(i) pool_k[i]
#define LOAD_V(i) pool_v[i]
#endif
layout(binding = 6) writeonly buffer Out { float o[]; };        // attn: [n_tokens][n_heads][dv]; else partials

#ifdef WIDE
#define QD4 (VKG_ATTN_WIDE_DK / 4u) // vec4s per query row in q_sh
#define VPT 2u                      // output vec4s per thread and row: d4 = lid + 64 k
#else
#define QD4 (VKG_ATTN_DMAX / 4u)
#define VPT 1u
#endif
shared vec4 q_sh[ROWS * QD4]; // the query rows; reused for the final sum
#define KT (WG * KPT)
shared float s_sh[ROWS * KT];                // scores, then probabilities, of one tile
shared uint slot_sh[KT];                     // pool row of each kv position of the tile
shared int pos_sh[ROWS];                     // each row's query position (per-row masks)
shared float m_sh[ROWS], l_sh[ROWS], alpha_sh[ROWS];
#ifdef TOKROWS
shared int rpos_sh[ROWS], rseq_sh[ROWS]; // each row's own position and sequence
#endif

float softcap(float s)
{
    if (p.softcap <= 0.0) return s;
    float x = s / p.softcap, e = exp(-2.0 * abs(x)); // tanh without exp overflow
    return p.softcap * sign(x) * (1.0 - e) / (1.0 + e);
}

// HF masks: causal (kv <= pos) and sliding window (kv > pos - window).
bool visible(int kv, int pos)
{
    return kv <= pos && (p.window == 0u || kv > pos - int(p.window));
}

// Row g of this workgroup -> (token index in the dispatch, query head); G rows in all.
uint group_size() { return p.n_heads / p.n_kv_heads; }
#if defined(PREFIX) || defined(TOKROWS)
uint kv_head() { return gl_WorkGroupID.y; }
uint rows_here() { return min(uint(ROWS), p.n_tokens * group_size() - gl_WorkGroupID.x * ROWS); }
uint row_token(uint g) { return (gl_WorkGroupID.x * ROWS + g) / group_size(); }
uint row_head(uint g) { return kv_head() * group_size() + (gl_WorkGroupID.x * ROWS + g) % group_size(); }
#else
uint kv_head() { return gl_WorkGroupID.y / p.head_chunks; }
uint chunk() { return gl_WorkGroupID.y % p.head_chunks; }
uint rows_here() { return min(uint(ROWS), group_size() - chunk() * ROWS); }
uint row_token(uint g) { return gl_WorkGroupID.x; }
uint row_head(uint g) { return kv_head() * group_size() + chunk() * ROWS + g; }
#endif

// Thread lid: kv positions kv0 + lid + 64 i (i < KPT) of the tile: their pool
// rows and masked scores for every row.
void score_tile(uint page_off, int kv0, int n, uint lid, uint G)
{
    uint slot[KPT];
    for (uint i = 0u; i < KPT; i++) {
        uint j = min(lid + i * WG, uint(n) - 1u); // past the end: a valid row, result unused
        uint pos = uint(kv0) + j;
        uint page = uint(pages[page_off + pos / p.page_size]);
        slot[i] = (page * p.n_kv_heads + kv_head()) * p.page_size + pos % p.page_size;
        slot_sh[j] = slot[i];
    }
    float s[ROWS][KPT];
    for (uint g = 0u; g < ROWS; g++)
        for (uint i = 0u; i < KPT; i++) s[g][i] = 0.0;
    uint dk4 = p.dk / 4u; // dk % 4 == 0 (checked by the launcher): 16-byte K loads
    for (uint d = 0u; d < dk4; d++) {
        vec4 k[KPT];
        for (uint i = 0u; i < KPT; i++) k[i] = LOAD_K(slot[i] * dk4 + d);
        for (uint g = 0u; g < ROWS; g++) {
            vec4 qv = q_sh[g * QD4 + d];
            for (uint i = 0u; i < KPT; i++) s[g][i] += dot(qv, k[i]);
        }
    }
    for (uint i = 0u; i < KPT; i++) { // constant bounds: s[][] stays in registers
        uint j = lid + i * WG;
        if (j >= uint(n)) continue;
        for (uint g = 0u; g < ROWS; g++)
            if (g < G) s_sh[g * KT + j] = visible(kv0 + int(j), pos_sh[g]) ? softcap(s[g][i] * p.scale) : NEG_BIG;
    }
}

// Row g (thread g < G): new running max and rescale factor alpha. Masked
// scores are NEG_BIG: a row with nothing visible yet keeps m = NEG_BIG.
void update_max(uint g, int n)
{
    float mt = NEG_BIG;
    for (int j = 0; j < n; j++) mt = max(mt, s_sh[g * KT + j]);
    float mn = max(m_sh[g], mt);
    alpha_sh[g] = exp(m_sh[g] - mn);
    m_sh[g] = mn;
}

// Output float index of row g (attn), or of its partial record (split, prefix).
uint out_base(uint g)
{
    uint row = row_token(g) * p.n_heads + row_head(g);
#ifdef PARTIALS
    return p.o_off + (row * p.part_stride + p.part_base + gl_WorkGroupID.z) * (2u + p.dv);
#else
    return p.o_off + row * p.dv;
#endif
}

// Sums the R thread rows' accumulators (through q_sh, free after the loop)
// and writes every row: the output, or the (m, l, acc) partial record.
#ifdef WIDE
// Every thread holds whole sums (R = 1): writes its own output vec4s of every row.
void write_out(vec4 acc[ROWS * VPT], uint G, uint R, uint r, uint d4)
{
    uint dv4 = p.dv / 4u;
    for (uint g = 0u; g < G; g++) {
        uint base = out_base(g);
#ifdef PARTIALS
        if (d4 == 0u) { o[base] = m_sh[g]; o[base + 1u] = l_sh[g]; }
        base += 2u;
        float inv = 1.0;
#else
        float inv = l_sh[g] > 0.0 ? 1.0 / l_sh[g] : 0.0;
#endif
        for (uint k = 0u; k < VPT; k++) {
            uint d = d4 + k * WG;
            if (d >= dv4) continue;
            vec4 a = acc[g * VPT + k] * inv;
            uint b = base + 4u * d;
            o[b] = a.x, o[b + 1u] = a.y, o[b + 2u] = a.z, o[b + 3u] = a.w;
        }
    }
}
#else
void write_out(vec4 acc[ROWS * VPT], uint G, uint R, uint r, uint d4)
{
    uint dv4 = p.dv / 4u;
    if (r < R)
        for (uint g = 0u; g < ROWS; g++) q_sh[(r * ROWS + g) * dv4 + d4] = acc[g];
    barrier();
    if (r != 0u) return;
    for (uint g = 0u; g < G; g++) {
        vec4 a = vec4(0.0);
        for (uint i = 0u; i < R; i++) a += q_sh[(i * ROWS + g) * dv4 + d4];
        uint base = out_base(g);
#ifdef PARTIALS
        if (d4 == 0u) { o[base] = m_sh[g]; o[base + 1u] = l_sh[g]; }
        base += 2u;
#else
        a = l_sh[g] > 0.0 ? a / l_sh[g] : vec4(0.0);
#endif
        base += 4u * d4;
        o[base] = a.x, o[base + 1u] = a.y, o[base + 2u] = a.z, o[base + 3u] = a.w;
    }
}
#endif

// Loads the rows' queries (rows >= G: 0) and positions; resets m and l.
void load_rows(uint G, uint lid)
{
    for (uint i = lid; i < ROWS * p.dk; i += WG) {
        uint g = i / p.dk, d = i % p.dk;
        float v = g < G ? q[p.q_off + (row_token(g) * p.n_heads + row_head(g)) * p.dk + d] : 0.0;
        q_sh[g * QD4 + d / 4u][d % 4u] = v;
    }
    if (lid < ROWS) {
        pos_sh[lid] = lid < G ? tokens[p.tok_off + row_token(lid)].y : -1;
        m_sh[lid] = NEG_BIG;
        l_sh[lid] = 0.0;
    }
}

// Online softmax over kv positions [lo, hi] of the sequence whose pages start
// at page_off, tile by tile; rows keep their masks (pos_sh).
void walk(uint page_off, int lo, int hi, uint lid, uint G, uint r, uint R, uint d4, uint dv4,
          inout vec4 acc[ROWS * VPT])
{
    for (int kv0 = lo; kv0 <= hi; kv0 += int(KT)) {
        int n = min(int(KT), hi - kv0 + 1);
        score_tile(page_off, kv0, n, lid, G);
        barrier();
        if (lid < G) update_max(lid, n);
        barrier();
        for (uint j = lid; j < uint(n); j += WG) // masked and unused rows get p = 0
            for (uint g = 0u; g < ROWS; g++) {
                float s = s_sh[g * KT + j];
                s_sh[g * KT + j] = g < G && s > 0.5 * NEG_BIG ? exp(s - m_sh[g]) : 0.0;
            }
        barrier();
        if (lid < G) {
            float sum = 0.0;
            for (int j = 0; j < n; j++) sum += s_sh[lid * KT + j];
            l_sh[lid] = l_sh[lid] * alpha_sh[lid] + sum;
        }
        // g loops have constant bounds: acc[] stays in registers after unrolling
        for (uint g = 0u; g < ROWS; g++)
            for (uint k = 0u; k < VPT; k++) acc[g * VPT + k] *= g < G ? alpha_sh[g] : 1.0;
        if (r < R)
            for (int j = int(r); j < n; j += int(R)) {
#ifdef WIDE
                for (uint k = 0u; k < VPT; k++) {
                    uint d = d4 + k * WG;
                    if (d >= dv4) continue;
                    vec4 v = LOAD_V(slot_sh[j] * p.v_row4 + d);
                    for (uint g = 0u; g < ROWS; g++) acc[g * VPT + k] += s_sh[g * KT + j] * v;
                }
#else
                vec4 v = LOAD_V(slot_sh[j] * p.v_row4 + d4);
                for (uint g = 0u; g < ROWS; g++) acc[g] += s_sh[g * KT + j] * v;
#endif
            }
        barrier(); // the next tile overwrites s_sh, slot_sh, m_sh, alpha_sh
    }
}

void main()
{
    uint lid = gl_LocalInvocationID.x, G = rows_here();
    ivec2 tk = tokens[p.tok_off + row_token(0u)];
    uvec2 sq = uint(tk.x) < uint(seqs.length()) ? seqs[tk.x] : uvec2(0u); // bad seq id: nothing visible
#ifdef PREFIX
    // prefix split z of [0, prefix_len); the sequences of all rows share these pages
    int lo = int(gl_WorkGroupID.z * p.split_len), hi = int(p.prefix_len) - 1;
    if (gl_WorkGroupID.z + 1u < p.n_split) hi = min(hi, int((gl_WorkGroupID.z + 1u) * p.split_len) - 1);
    // no tile that every row masks: up to the last row's position, from the first row's window
    int pmin = tk.y, pmax = tk.y;
    for (uint g = 1u; g < G; g++) {
        int pg = tokens[p.tok_off + row_token(g)].y;
        pmin = min(pmin, pg), pmax = max(pmax, pg);
    }
    hi = min(hi, pmax);
    if (p.window > 0u) lo = max(lo, pmin - int(p.window) + 1);
#elif !defined(TOKROWS)
    // the token's visible positions [lo, hi] that exist; per-row masks still apply
    int hi = min(tk.y, int(sq.y) - 1);
    int lo = max(int(p.kv_start), p.window > 0u ? tk.y - int(p.window) + 1 : 0);
#ifdef SPLIT
    // split z covers kv_start + [z, z + 1) * split_len; the last one runs to the
    // end, so a split_len sized from a too-small length hint stays correct
    lo = max(lo, int(p.kv_start + gl_WorkGroupID.z * p.split_len));
    if (gl_WorkGroupID.z + 1u < p.n_split) hi = min(hi, int(p.kv_start + (gl_WorkGroupID.z + 1u) * p.split_len) - 1);
#endif
#endif
    load_rows(G, lid);
    // V phase: thread (r, d4) owns output elements 4*d4..4*d4+3 of every row and
    // the kv positions j = r mod R of each tile (R = 64 / (dv/4) thread rows)
#ifdef WIDE
    uint dv4 = p.dv / 4u, R = 1u, d4 = lid, r = 0u; // (WIDE: d4 + 64 k, every position)
#else
    uint dv4 = p.dv / 4u, R = WG / dv4;
    uint d4 = lid % dv4, r = lid / dv4;
#endif
    vec4 acc[ROWS * VPT];
    for (uint g = 0u; g < ROWS * VPT; g++) acc[g] = vec4(0.0);
    barrier();
#ifdef TOKROWS
    // the rows' sequences one after another: rows of other sequences get
    // position -1 (nothing visible: their m, l and acc stay as they are)
    if (lid < ROWS) {
        rpos_sh[lid] = pos_sh[lid];
        rseq_sh[lid] = lid < G ? tokens[p.tok_off + row_token(lid)].x : -1;
    }
    barrier();
    uint done = 0u; // rows whose sequence has been walked (the same in every thread)
    for (;;) {
        uint g0 = 0u;
        while (g0 < G && ((done >> g0) & 1u) != 0u) g0++;
        if (g0 >= G) break;
        int s = rseq_sh[g0];
        uvec2 sqs = uint(s) < uint(seqs.length()) ? seqs[s] : uvec2(0u);
        uint seg = 0u;
        int shi = -1, slo = 0x7fffffff;
        for (uint g = g0; g < G; g++) {
            if (rseq_sh[g] != s) continue;
            seg |= 1u << g;
            shi = max(shi, min(rpos_sh[g], int(sqs.y) - 1));
            slo = min(slo, max(int(p.kv_start), p.window > 0u ? rpos_sh[g] - int(p.window) + 1 : 0));
        }
        done |= seg;
        barrier(); // the previous sequence's last tile has read pos_sh
        if (lid < ROWS) pos_sh[lid] = ((seg >> lid) & 1u) != 0u ? rpos_sh[lid] : -1;
        barrier();
        walk(sqs.x, slo, shi, lid, G, r, R, d4, dv4, acc);
    }
#else
    walk(sq.x, lo, hi, lid, G, r, R, d4, dv4, acc);
#endif
    write_out(acc, G, R, r, d4);
}
#endif
