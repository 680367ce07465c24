#version 450
// moe_gate.comp — MoE router: logits [n_tok][n_exp] F32 -> top-k expert ids
// [n_tok][k] I32 and weights [n_tok][k] F32, following HF's routers:
//   scores = softmax over all experts (Qwen3-MoE, Mixtral, DeepSeek-V2) or
//            sigmoid (DeepSeek-V3)
//   choice = scores (+ e_score_correction_bias when BIAS: DeepSeek-V3)
//   groups (n_group > 1): group score = max of its choices (DeepSeek-V2
//            group_limited_greedy) or, V3_GROUPS, the sum of its top-2;
//            experts outside the topk_group best groups get choice 0 (V2's
//            masked_fill 0.0) or MASKED, below every real choice (V3's -inf)
//   top-k on choice: largest first, the lowest expert index among equals
//   weight = the chosen choice (V2), or the unbiased score (BIAS / V3_GROUPS)
//   optional renormalisation w /= (sum + 1e-20), then w *= scale.
// Scalar tier: one workgroup per token, reductions through shared memory.
// SG tier: one subgroup per token (tok_per_wg tokens per workgroup),
// reductions with subgroup ops, no workgroup barrier. Same results and ties.
// moe_gate_group_sg (SG GROUP): the router of a decode step and the grouping
// by expert (moe_route.comp's moe_group1: counts, offsets, cursors, list,
// tiles) in one launch of one workgroup: its subgroups route the tokens in
// turn, one barrier, then the first subgroup groups the pairs (prefix sums
// with subgroup scans, no further barrier). The host's choice up to
// VKG_MOE_GATE_GROUP_MAX_TOK tokens (ops_moe.c); one launch instead of two.
//! variant moe_gate
//! variant moe_gate_sg SG
//! variant moe_gate_group_sg SG GROUP
#extension GL_GOOGLE_include_directive : require
#ifdef SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "push_moe.h"
VKG_PUSH_CONSTANTS(vkg_push_moe_gate);

layout(binding = 0) readonly buffer Logits { float logits[]; };
#ifdef GROUP
layout(binding = 1) coherent buffer Ids { int ids[]; }; // read back by the grouping after the barrier
#else
layout(binding = 1) writeonly buffer Ids { int ids[]; };
#endif
layout(binding = 2) writeonly buffer Weights { float weights[]; };
layout(binding = 3) readonly buffer Bias { float bias[]; }; // [n_exp]; read only with BIAS
#ifdef GROUP
layout(binding = 4) writeonly buffer Route { uint route[]; }; // moe_route.comp's layout
layout(binding = 5) writeonly buffer List { uint list[]; };
shared uint s_cnt[VKG_MOE_MAX_EXPERTS]; // counts, then the cursors of the scatter
#endif

const float NEG_INF = -3.402823466e38; // -FLT_MAX: "taken", below everything
const float MASKED = -1.0e38;          // V3 groups: excluded expert, below every real choice

bool has_bias() { return (p.flags & VKG_MOE_GATE_BIAS) != 0u; }
bool v3_groups() { return (p.flags & VKG_MOE_GATE_V3_GROUPS) != 0u; }

// Order of choices, as torch.topk and torch.max rank them: NaN above every number (a NaN router
// logit, from an overflowed hidden state, is picked and its NaN weight carries on; ranking it
// nowhere left the index at 0xffffffff and the next shared-memory store out of bounds).
bool above(float v, float bv) { return isnan(v) ? !isnan(bv) : v > bv; }
bool same(float v, float bv) { return v == bv || (isnan(v) && isnan(bv)); }
// (v, i) beats (bv, bi): it ranks above, or the same and has the lower index.
bool better(float v, uint i, float bv, uint bi) { return above(v, bv) || (same(v, bv) && i < bi); }

float choice_of(float score, uint e) { return has_bias() ? score + bias[p.bias_off + e] : score; }

// Group score of experts [e0, e0 + gsize) from their choices in c (V2: max, V3: top-2 sum).
#define GROUP_SCORE(c, e0, gsize, out_score)                                   \
    {                                                                          \
        float b1 = NEG_INF, b2 = NEG_INF;                                      \
        for (uint e_ = (e0); e_ < (e0) + (gsize); e_++) {                      \
            float v_ = c[e_];                                                  \
            if (above(v_, b1)) { b2 = b1; b1 = v_; } else if (above(v_, b2)) { b2 = v_; } \
        }                                                                      \
        out_score = v3_groups() ? b1 + (gsize > 1u ? b2 : 0.0) : b1;           \
    }

#ifdef SG
#define SLOTS 8u // tokens per workgroup at most (64 invocations / subgroups of >= 8)
shared float s_c[SLOTS][VKG_MOE_MAX_EXPERTS];   // choices, then candidates (NEG_INF: taken)
shared float s_g[SLOTS][VKG_MOE_MAX_GROUPS];    // group scores
shared uint s_sid[SLOTS][VKG_MOE_MAX_K];
shared float s_sw[SLOTS][VKG_MOE_MAX_K];

void sg_sync() { subgroupMemoryBarrierShared(); subgroupBarrier(); }

// Best (value, lowest index) over the subgroup; lanes pass their own best.
uint sg_argmax(float v, uint i, out float best)
{
    if (subgroupMax(isnan(v) ? 1u : 0u) != 0u) { // NaN ranks above every number (above())
        best = uintBitsToFloat(0x7fc00000u);
        return subgroupMin(isnan(v) ? i : 0xffffffffu);
    }
    best = subgroupMax(v);
    return subgroupMin(v == best ? i : 0xffffffffu);
}

// Score of one logit given the softmax max and sum (recomputed bit-identically).
float score_of(float x, float mx, float sum)
{
    return (p.flags & VKG_MOE_GATE_SIGMOID) != 0u ? 1.0 / (1.0 + exp(-x)) : exp(x - mx) / sum;
}

void sg_scores(uint slot, uint base, out float mx, out float sum)
{
    uint l = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    bool sig = (p.flags & VKG_MOE_GATE_SIGMOID) != 0u;
    mx = NEG_INF;
    for (uint e = l; e < p.n_exp; e += S) mx = max(mx, logits[base + e]);
    mx = subgroupMax(mx);
    sum = 0.0;
    for (uint e = l; e < p.n_exp; e += S) sum += sig ? 0.0 : exp(logits[base + e] - mx);
    sum = sig ? 1.0 : subgroupAdd(sum);
    for (uint e = l; e < p.n_exp; e += S) s_c[slot][e] = choice_of(score_of(logits[base + e], mx, sum), e);
    sg_sync();
}

void sg_mask_groups(uint slot)
{
    if (p.n_group <= 1u) return;
    uint l = gl_SubgroupInvocationID, S = gl_SubgroupSize, gsize = p.n_exp / p.n_group;
    for (uint g = l; g < p.n_group; g += S) GROUP_SCORE(s_c[slot], g * gsize, gsize, s_g[slot][g]);
    sg_sync();
    uvec2 keep = uvec2(0u); // bit g: group g kept (n_group <= 64)
    for (uint j = 0u; j < p.topk_group; j++) {
        float bv = NEG_INF, best;
        uint bi = 0xffffffffu;
        for (uint g = l; g < p.n_group; g += S) {
            bool kept = ((g < 32u ? keep.x >> g : keep.y >> (g - 32u)) & 1u) != 0u;
            if (!kept && better(s_g[slot][g], g, bv, bi)) { bv = s_g[slot][g]; bi = g; }
        }
        uint gi = sg_argmax(bv, bi, best);
        if (gi < 32u) keep.x |= 1u << gi; else keep.y |= 1u << (gi - 32u);
    }
    for (uint e = l; e < p.n_exp; e += S) {
        uint g = e / gsize;
        if (((g < 32u ? keep.x >> g : keep.y >> (g - 32u)) & 1u) == 0u) s_c[slot][e] = v3_groups() ? MASKED : 0.0;
    }
    sg_sync();
}

// Routes token tok with the subgroup's shared slot.
void gate_token(uint slot, uint tok)
{
    uint l = gl_SubgroupInvocationID, S = gl_SubgroupSize, base = p.logit_off + tok * p.n_exp;
    float mx, ssum, sum = 0.0;
    sg_scores(slot, base, mx, ssum);
    sg_mask_groups(slot);
    for (uint j = 0u; j < p.k; j++) {
        float bv = NEG_INF, best;
        uint bi = 0xffffffffu;
        for (uint e = l; e < p.n_exp; e += S)
            if (better(s_c[slot][e], e, bv, bi)) { bv = s_c[slot][e]; bi = e; }
        uint e = sg_argmax(bv, bi, best);
        float w = (has_bias() || v3_groups()) ? score_of(logits[base + e], mx, ssum) : best;
        sum += w;
        if (l == 0u) { s_sid[slot][j] = e; s_sw[slot][j] = w; }
        if (e % S == l) s_c[slot][e] = NEG_INF; // the lane that owns e
        sg_sync();
    }
    float norm = (p.flags & VKG_MOE_GATE_NORM) != 0u ? 1.0 / (sum + 1e-20) : 1.0;
    for (uint j = l; j < p.k; j += S) {
        ids[p.ids_off + tok * p.k + j] = int(s_sid[slot][j]);
        weights[p.w_off + tok * p.k + j] = s_sw[slot][j] * norm * p.scale;
    }
    sg_sync(); // the slot's next token overwrites s_c, s_sid, s_sw
}

#ifdef GROUP
// moe_group1's results for the n_tok * k pairs in ids, by one subgroup: counts (shared atomics),
// offsets and the tile list (exclusive scans over chunks of S experts, carried across chunks),
// the cursors as the scatter leaves them (offset + count), the list (order inside an expert
// arbitrary). Ids outside [0, n_exp) are not counted and not listed.
void group_pairs()
{
    uint l = gl_SubgroupInvocationID, S = gl_SubgroupSize, n = p.n_exp, np = p.n_tok * p.k, base = p.route_off;
    for (uint e = l; e < n; e += S) s_cnt[e] = 0u;
    sg_sync();
    for (uint i = l; i < np; i += S) {
        uint e = uint(ids[p.ids_off + i]);
        if (e < n) atomicAdd(s_cnt[e], 1u);
    }
    sg_sync();
    uint carry = 0u, tiles = 0u;
    for (uint e0 = 0u; e0 < n; e0 += S) {
        uint e = e0 + l, c = e < n ? s_cnt[e] : 0u, nt = (c + VKG_MOE_TILE - 1u) / VKG_MOE_TILE;
        uint off = carry + subgroupExclusiveAdd(c), t0 = tiles + subgroupExclusiveAdd(nt);
        if (e < n) {
            route[base + e] = c;
            route[base + n + e] = off;
            route[base + 2u * n + e] = off + c;
            s_cnt[e] = off; // this lane read it above
            for (uint q = 0u; q < nt; q++) route[base + 3u * n + 1u + t0 + q] = e | (q << 10);
        }
        carry += subgroupAdd(c);
        tiles += subgroupAdd(nt);
    }
    if (l == 0u) route[base + 3u * n] = tiles;
    sg_sync();
    for (uint i = l; i < np; i += S) {
        uint e = uint(ids[p.ids_off + i]);
        if (e < n) list[p.list_off + atomicAdd(s_cnt[e], 1u)] = i;
    }
}

void main()
{
    // one workgroup: subgroup s routes tokens s, s + ns, ... (at most SLOTS subgroups take part)
    uint slot = gl_SubgroupID, ns = min(gl_NumSubgroups, SLOTS);
    if (slot < ns)
        for (uint tok = slot; tok < p.n_tok; tok += ns) gate_token(slot, tok);
    memoryBarrierBuffer(); // every token's ids are in Ids ...
    barrier();             // ... for the grouping subgroup
    if (slot == 0u) group_pairs();
}
#else
void main()
{
    uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint slot = gl_SubgroupID, tok = wg * p.tok_per_wg + slot;
    if (slot >= p.tok_per_wg || tok >= p.n_tok) return; // uniform for the subgroup
    gate_token(slot, tok);
}
#endif
#else
shared float s_score[VKG_MOE_MAX_EXPERTS]; // unbiased score per expert
shared float s_cand[VKG_MOE_MAX_EXPERTS];  // choices left for top-k (NEG_INF: taken)
shared float s_rv[gl_WorkGroupSize.x];     // reduction scratch: values
shared uint s_ri[gl_WorkGroupSize.x];      // reduction scratch: indices
shared float s_gscore[VKG_MOE_MAX_GROUPS];
shared bool s_gkeep[VKG_MOE_MAX_GROUPS];
shared uint s_sel_id[VKG_MOE_MAX_K];
shared float s_sel_w[VKG_MOE_MAX_K];

float wg_reduce(float v, bool is_max)
{
    uint t = gl_LocalInvocationID.x;
    s_rv[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s) s_rv[t] = is_max ? max(s_rv[t], s_rv[t + s]) : s_rv[t] + s_rv[t + s];
        barrier();
    }
    float r = s_rv[0];
    barrier(); // s_rv is reused by the next reduction
    return r;
}

// Index of the best candidate in s_cand; called by the whole workgroup.
uint wg_argmax()
{
    uint t = gl_LocalInvocationID.x;
    float bv = NEG_INF;
    uint bi = 0xffffffffu;
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x)
        if (better(s_cand[e], e, bv, bi)) { bv = s_cand[e]; bi = e; }
    s_rv[t] = bv;
    s_ri[t] = bi;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s && better(s_rv[t + s], s_ri[t + s], s_rv[t], s_ri[t])) {
            s_rv[t] = s_rv[t + s];
            s_ri[t] = s_ri[t + s];
        }
        barrier();
    }
    uint r = s_ri[0];
    barrier();
    return r;
}

void compute_scores(uint base)
{
    uint t = gl_LocalInvocationID.x;
    bool sig = (p.flags & VKG_MOE_GATE_SIGMOID) != 0u;
    float mx = NEG_INF;
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x) mx = max(mx, logits[base + e]);
    mx = sig ? 0.0 : wg_reduce(mx, true);
    float sum = 0.0;
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x) {
        float l = logits[base + e];
        float s = sig ? 1.0 / (1.0 + exp(-l)) : exp(l - mx);
        s_score[e] = s;
        sum += s;
    }
    sum = sig ? 1.0 : wg_reduce(sum, false);
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x) {
        s_score[e] /= sum;
        s_cand[e] = choice_of(s_score[e], e);
    }
    barrier();
}

// Candidates: every choice, or only those of the topk_group best groups.
void mask_groups()
{
    uint t = gl_LocalInvocationID.x;
    if (p.n_group <= 1u) return;
    uint gsize = p.n_exp / p.n_group;
    if (t < p.n_group) {
        GROUP_SCORE(s_cand, t * gsize, gsize, s_gscore[t]);
        s_gkeep[t] = false;
    }
    barrier();
    if (t == 0u) { // a few groups: serial selection is cheapest
        for (uint j = 0u; j < p.topk_group; j++) {
            uint bi = 0xffffffffu;
            float bv = NEG_INF;
            for (uint g = 0u; g < p.n_group; g++)
                if (!s_gkeep[g] && better(s_gscore[g], g, bv, bi)) { bv = s_gscore[g]; bi = g; }
            s_gkeep[bi] = true;
        }
    }
    barrier();
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x)
        if (!s_gkeep[e / gsize]) s_cand[e] = v3_groups() ? MASKED : 0.0;
    barrier();
}

void main()
{
    uint tok = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (tok >= p.n_tok) return; // uniform for the workgroup
    uint t = gl_LocalInvocationID.x;
    compute_scores(p.logit_off + tok * p.n_exp);
    mask_groups();
    for (uint j = 0u; j < p.k; j++) {
        uint e = wg_argmax();
        if (t == 0u) {
            s_sel_id[j] = e;
            s_sel_w[j] = (has_bias() || v3_groups()) ? s_score[e] : s_cand[e];
            s_cand[e] = NEG_INF;
        }
        barrier();
    }
    if (t != 0u) return;
    float sum = 0.0;
    for (uint j = 0u; j < p.k; j++) sum += s_sel_w[j];
    float norm = (p.flags & VKG_MOE_GATE_NORM) != 0u ? 1.0 / (sum + 1e-20) : 1.0;
    for (uint j = 0u; j < p.k; j++) {
        ids[p.ids_off + tok * p.k + j] = int(s_sel_id[j]);
        weights[p.w_off + tok * p.k + j] = s_sel_w[j] * norm * p.scale;
    }
}
#endif
