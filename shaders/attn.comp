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
layout(binding = 4) readonly buffer PoolK { vec4 pool_k[]; };   // [n_pages][n_kv_heads][page_size][dk / 4]
layout(binding = 5) readonly buffer PoolV { vec4 pool_v[]; };   // [n_pages][n_kv_heads][page_size][dv / 4]
layout(binding = 6) writeonly buffer Out { float o[]; };        // attn: [n_tokens][n_heads][dv]; split: partials

shared vec4 q_sh[VKG_ATTN_GMAX * VKG_ATTN_DMAX / 4]; // the G query rows
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
void score_tile(uvec2 sq, uint kvh, int kv0, int n, uint lid, uint G)
{
    if (int(lid) >= n) return;
    uint pos = uint(kv0) + lid;
    uint page = uint(pages[sq.x + pos / p.page_size]);
    uint slot = (page * p.n_kv_heads + kvh) * p.page_size + pos % p.page_size;
    slot_sh[lid] = slot;
    float s[VKG_ATTN_GMAX];
    for (uint g = 0u; g < VKG_ATTN_GMAX; g++) s[g] = 0.0;
    uint dk4 = p.dk / 4u; // dk % 4 == 0 (checked by the launcher): 16-byte K loads
    for (uint d = 0u; d < dk4; d++) {
        vec4 k = pool_k[slot * dk4 + d];
        for (uint g = 0u; g < VKG_ATTN_GMAX; g++) s[g] += dot(q_sh[g * (VKG_ATTN_DMAX / 4) + d], k);
    }
    for (uint g = 0u; g < VKG_ATTN_GMAX; g++) // constant bounds: s[] and acc[] stay in registers
        if (g < G) s_sh[g * VKG_ATTN_TILE + lid] = softcap(s[g] * p.scale);
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

// Sums the R thread rows' accumulators (through q_sh, free after the loop) and
// writes rows row0 .. row0 + G - 1: the output, or the split's (m, l, acc).
void write_out(vec4 acc[VKG_ATTN_GMAX], uint row0, uint G, uint R, uint r, uint d4, uint lid)
{
    uint dv4 = p.dv / 4u;
    if (r < R)
        for (uint g = 0u; g < VKG_ATTN_GMAX; g++) q_sh[(r * VKG_ATTN_GMAX + g) * dv4 + d4] = acc[g];
    barrier();
    if (r != 0u) return;
    for (uint g = 0u; g < G; g++) {
        vec4 a = vec4(0.0);
        for (uint i = 0u; i < R; i++) a += q_sh[(i * VKG_ATTN_GMAX + g) * dv4 + d4];
#ifdef SPLIT
        uint base = p.o_off + ((row0 + g) * p.n_split + gl_WorkGroupID.z) * (2u + p.dv);
        if (d4 == 0u) { o[base] = m_sh[g]; o[base + 1u] = l_sh[g]; }
        base += 2u + 4u * d4;
#else
        float l = l_sh[g];
        a = l > 0.0 ? a / l : vec4(0.0);
        uint base = p.o_off + (row0 + g) * p.dv + 4u * d4;
#endif
        o[base] = a.x, o[base + 1u] = a.y, o[base + 2u] = a.z, o[base + 3u] = a.w;
    }
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
    for (uint i = lid; i < VKG_ATTN_GMAX * p.dk; i += VKG_ATTN_TILE) { // rows >= G: 0
        uint g = i / p.dk, d = i % p.dk;
        q_sh[g * (VKG_ATTN_DMAX / 4) + d / 4u][d % 4u] = g < G ? q[p.q_off + (t * p.n_heads + h0) * p.dk + i] : 0.0;
    }
    if (lid < VKG_ATTN_GMAX) { m_sh[lid] = NEG_BIG; l_sh[lid] = 0.0; }
    // V phase: thread (r, d4) owns output elements 4*d4..4*d4+3 of every row and
    // the kv positions j = r mod R of each tile (R = 64 / (dv/4) thread rows)
    uint dv4 = p.dv / 4u, R = VKG_ATTN_TILE / dv4;
    uint d4 = lid % dv4, r = lid / dv4;
    vec4 acc[VKG_ATTN_GMAX];
    for (uint g = 0u; g < VKG_ATTN_GMAX; g++) acc[g] = vec4(0.0);
    barrier();
    for (int kv0 = lo; kv0 <= hi; kv0 += VKG_ATTN_TILE) {
        int n = min(VKG_ATTN_TILE, hi - kv0 + 1);
        score_tile(sq, kvh, kv0, n, lid, G);
        barrier();
        if (lid < G) update_max(lid, n);
        barrier();
        if (int(lid) < n) // rows g >= G get 0: the V loop runs over all GMAX rows
            for (uint g = 0u; g < VKG_ATTN_GMAX; g++)
                s_sh[g * VKG_ATTN_TILE + lid] = g < G ? exp(s_sh[g * VKG_ATTN_TILE + lid] - m_sh[g]) : 0.0;
        barrier();
        if (lid < G) {
            float sum = 0.0;
            for (int j = 0; j < n; j++) sum += s_sh[lid * VKG_ATTN_TILE + j];
            l_sh[lid] = l_sh[lid] * alpha_sh[lid] + sum;
        }
        // g loops have constant bounds: acc[] stays in registers after unrolling
        for (uint g = 0u; g < VKG_ATTN_GMAX; g++) acc[g] *= g < G ? alpha_sh[g] : 1.0;
        if (r < R)
            for (int j = int(r); j < n; j += int(R)) {
                vec4 v = pool_v[slot_sh[j] * dv4 + d4];
                for (uint g = 0u; g < VKG_ATTN_GMAX; g++) acc[g] += s_sh[g * VKG_ATTN_TILE + j] * v;
            }
        barrier(); // the next tile overwrites s_sh, slot_sh, m_sh, alpha_sh
    }
    write_out(acc, t * p.n_heads + h0, G, R, r, d4, lid);
}
#endif
