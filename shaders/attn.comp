#version 450
// attn.comp — paged attention for every target model: causal, GQA/MQA (the
// query heads of one KV head share each K/V read), dk != dv (MLA), custom
// scale, logit soft-capping, sliding window, many sequences of different
// lengths in one dispatch (page table), online softmax in f32.
//
// Workgroup (query token t, KV head kvh + chunk of <= GMAX of its query heads,
// KV split z); its 64 threads walk the attended positions [lo, hi] in tiles of
// 64: thread j scores kv position j of the tile against the G query rows
// (one K row read for G heads), the G row maxima update the running max m and
// sum l (online softmax: acc and l are rescaled by exp(m_old - m_new)), then
// every thread adds p * V to the output elements it owns (d = lid + 64k).
// attn_split writes (m, l, acc) of its KV split; attn_combine merges splits.
//! variant attn
//! variant attn_split SPLIT
//! variant attn_combine COMBINE
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_attention.glsl"

#define NEG_BIG (-1.0e30) // "minus infinity" that keeps exp(a - b) free of NaN
#define DPT (VKG_ATTN_DMAX / VKG_ATTN_TILE) // output elements per thread and row

#ifdef COMBINE
layout(binding = 0) readonly buffer Part { float part[]; }; // [n_tokens][n_heads][n_split][2 + dv]
layout(binding = 1) writeonly buffer Out { float o[]; };    // [n_tokens][n_heads][dv]

// Workgroup (token, head): out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M).
void main()
{
    uint row = gl_WorkGroupID.x * p.n_heads + gl_WorkGroupID.y;
    uint rec = 2u + p.dv;
    uint base = p.q_off + row * p.n_split * rec; // q_off: first float of the partials window
    float mx = NEG_BIG, l = 0.0;
    for (uint s = 0u; s < p.n_split; s++) mx = max(mx, part[base + s * rec]);
    for (uint s = 0u; s < p.n_split; s++) l += part[base + s * rec + 1u] * exp(part[base + s * rec] - mx);
    for (uint d = gl_LocalInvocationID.x; d < p.dv; d += gl_WorkGroupSize.x) {
        float a = 0.0;
        for (uint s = 0u; s < p.n_split; s++)
            a += part[base + s * rec + 2u + d] * exp(part[base + s * rec] - mx);
        o[p.o_off + row * p.dv + d] = l > 0.0 ? a / l : 0.0;
    }
}
#else
layout(binding = 0) readonly buffer Q { float q[]; };          // [n_tokens][n_heads][dk]
layout(binding = 1) readonly buffer Tokens { ivec2 tokens[]; }; // [n_tokens] {seq, pos}
layout(binding = 2) readonly buffer Seqs { uvec2 seqs[]; };     // [max_seqs] {page_off, len}
layout(binding = 3) readonly buffer Pages { int pages[]; };     // page ids
layout(binding = 4) readonly buffer PoolK { float pool_k[]; };  // [n_pages][n_kv_heads][page_size][dk]
layout(binding = 5) readonly buffer PoolV { float pool_v[]; };  // [n_pages][n_kv_heads][page_size][dv]
layout(binding = 6) writeonly buffer Out { float o[]; };        // attn: [n_tokens][n_heads][dv]; split: partials

shared float q_sh[VKG_ATTN_GMAX * VKG_ATTN_DMAX]; // the G query rows
shared float s_sh[VKG_ATTN_GMAX * VKG_ATTN_TILE]; // scores, then probabilities, of one tile
shared uint slot_sh[VKG_ATTN_TILE];               // pool row of each kv position of the tile
shared float m_sh[VKG_ATTN_GMAX], l_sh[VKG_ATTN_GMAX], alpha_sh[VKG_ATTN_GMAX];

float softcap(float s)
{
    if (p.softcap <= 0.0) return s;
    float x = s / p.softcap, e = exp(-2.0 * abs(x)); // tanh without exp overflow
    return p.softcap * sign(x) * (1.0 - e) / (1.0 + e);
}

// Thread j: the pool row of kv position kv0 + j and its scores for the G rows.
void score_tile(uvec2 sq, uint kvh, uint G, int kv0, int n, uint lid)
{
    if (int(lid) >= n) return;
    uint pos = uint(kv0) + lid;
    uint page = uint(pages[sq.x + pos / p.page_size]);
    uint slot = (page * p.n_kv_heads + kvh) * p.page_size + pos % p.page_size;
    slot_sh[lid] = slot;
    float s[VKG_ATTN_GMAX];
    for (uint g = 0u; g < VKG_ATTN_GMAX; g++) s[g] = 0.0;
    for (uint d = 0u; d < p.dk; d++) {
        float k = pool_k[slot * p.dk + d];
        for (uint g = 0u; g < VKG_ATTN_GMAX; g++)
            if (g < G) s[g] += q_sh[g * VKG_ATTN_DMAX + d] * k;
    }
    for (uint g = 0u; g < G; g++) s_sh[g * VKG_ATTN_TILE + lid] = softcap(s[g] * p.scale);
}

// Row g (thread g < G): new running max, rescale factor alpha.
void update_max(uint g, int n)
{
    float mt = NEG_BIG;
    for (int j = 0; j < n; j++) mt = max(mt, s_sh[g * VKG_ATTN_TILE + j]);
    float mn = max(m_sh[g], mt);
    alpha_sh[g] = exp(m_sh[g] - mn);
    m_sh[g] = mn;
}

void main()
{
    uint lid = gl_LocalInvocationID.x, t = gl_WorkGroupID.x;
    uint kvh = gl_WorkGroupID.y / p.head_chunks, chunk = gl_WorkGroupID.y % p.head_chunks;
    uint group = p.n_heads / p.n_kv_heads;
    uint h0 = kvh * group + chunk * VKG_ATTN_GMAX;
    uint G = min(uint(VKG_ATTN_GMAX), group - chunk * VKG_ATTN_GMAX);
    ivec2 tk = tokens[p.tok_off + t];
    uvec2 sq = seqs[tk.x];
    // attended kv positions [lo, hi]: causal, existing, inside the window (HF: kv > pos - window)
    int hi = min(tk.y, int(sq.y) - 1);
    int lo = p.window > 0u ? max(0, tk.y - int(p.window) + 1) : 0;
#ifdef SPLIT
    // split z covers [z * split_len, (z + 1) * split_len); the last one runs to
    // the end, so a split_len sized from a too-small length hint stays correct
    lo = max(lo, int(gl_WorkGroupID.z * p.split_len));
    if (gl_WorkGroupID.z + 1u < p.n_split) hi = min(hi, int((gl_WorkGroupID.z + 1u) * p.split_len) - 1);
#endif
    for (uint i = lid; i < G * p.dk; i += VKG_ATTN_TILE)
        q_sh[(i / p.dk) * VKG_ATTN_DMAX + i % p.dk] = q[p.q_off + (t * p.n_heads + h0) * p.dk + i];
    if (lid < VKG_ATTN_GMAX) { m_sh[lid] = NEG_BIG; l_sh[lid] = 0.0; }
    float acc[VKG_ATTN_GMAX][DPT];
    for (uint g = 0u; g < VKG_ATTN_GMAX; g++)
        for (uint k = 0u; k < DPT; k++) acc[g][k] = 0.0;
    barrier();
    for (int kv0 = lo; kv0 <= hi; kv0 += VKG_ATTN_TILE) {
        int n = min(VKG_ATTN_TILE, hi - kv0 + 1);
        score_tile(sq, kvh, G, kv0, n, lid);
        barrier();
        if (lid < G) update_max(lid, n);
        barrier();
        if (int(lid) < n)
            for (uint g = 0u; g < G; g++)
                s_sh[g * VKG_ATTN_TILE + lid] = exp(s_sh[g * VKG_ATTN_TILE + lid] - m_sh[g]);
        barrier();
        if (lid < G) {
            float sum = 0.0;
            for (int j = 0; j < n; j++) sum += s_sh[lid * VKG_ATTN_TILE + j];
            l_sh[lid] = l_sh[lid] * alpha_sh[lid] + sum;
        }
        for (uint k = 0u; k < DPT; k++) {
            uint d = lid + k * VKG_ATTN_TILE;
            if (d >= p.dv) break;
            for (uint g = 0u; g < VKG_ATTN_GMAX; g++) acc[g][k] *= g < G ? alpha_sh[g] : 1.0;
            for (int j = 0; j < n; j++) {
                float v = pool_v[slot_sh[j] * p.dv + d];
                for (uint g = 0u; g < VKG_ATTN_GMAX; g++)
                    if (g < G) acc[g][k] += s_sh[g * VKG_ATTN_TILE + j] * v;
            }
        }
        barrier(); // the next tile overwrites s_sh, slot_sh, m_sh, alpha_sh
    }
    uint row0 = t * p.n_heads + h0;
#ifdef SPLIT
    uint rec = 2u + p.dv;
    uint base = p.o_off + (row0 * p.n_split + gl_WorkGroupID.z) * rec; // row g adds g * n_split * rec
    if (lid < G) {
        o[base + lid * p.n_split * rec] = m_sh[lid];
        o[base + lid * p.n_split * rec + 1u] = l_sh[lid];
    }
#endif
    for (uint k = 0u; k < DPT; k++) {
        uint d = lid + k * VKG_ATTN_TILE;
        if (d >= p.dv) break;
        for (uint g = 0u; g < G; g++) {
#ifdef SPLIT
            o[base + g * p.n_split * rec + 2u + d] = acc[g][k];
#else
            float l = l_sh[g];
            o[p.o_off + (row0 + g) * p.dv + d] = l > 0.0 ? acc[g][k] / l : 0.0;
#endif
        }
    }
}
#endif
