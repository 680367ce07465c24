#version 450
// argmax.comp — per-row max / argmax / sum of exp over logits [rows][vocab] f32
// in two passes, so a 256k vocab spreads over many workgroups:
//   argmax_partial  grid (n_chunks, rows): one workgroup per chunk of 4096
//                   logits writes (max, lowest index of max, sum exp(x - max))
//   argmax_final    grid (1, rows): merges the chunks; writes token + prob
//   sample_init     same merge, then sets up the sampling state of the row
// Ties go to the lowest index (numpy / torch.argmax on CPU). The _sg
// variants reduce a workgroup with subgroup max / min / add and one shared
// step instead of a tree of 8 barriers (dev->use.subgroup_arith); the _lane
// ones run them in workgroups of VKG_SAMPLE_LANE_WG (one subgroup on CPU
// drivers) and read the logits as texels (sample_common.glsl).
// Non-finite logits (ops_sample.h): a NaN anywhere in a row, tested on the
// bits so no float fast path can hide it, flags the row (per chunk in word
// 3 of its partial) and a flagged row, or a row of nothing but -inf, gets
// token -1 and prob 0. +inf is the largest logit: the row's +inf logits
// share all the probability (1 each in the sum, 0 for every finite one).
//! variant argmax_partial PARTIAL
//! variant argmax_final FINAL
//! variant sample_init FINAL SAMPLE
//! variant argmax_partial_sg PARTIAL SUBGROUP
//! variant argmax_final_sg FINAL SUBGROUP
//! variant sample_init_sg FINAL SAMPLE SUBGROUP
//! variant argmax_partial_lane PARTIAL SUBGROUP LANE
//! variant argmax_final_lane FINAL SUBGROUP LANE
//! variant sample_init_lane FINAL SAMPLE SUBGROUP LANE
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "push_sample.h"
VKG_PUSH_CONSTANTS(vkg_push_sample);
#include "sample_common.glsl"

#ifdef SAMPLE
#define B_PARAMS 1
#define B_WORK 2
#define B_TOKENS 3
#define B_PROBS 4
layout(binding = B_PARAMS) readonly buffer Params { vkg_sample_params params[]; }; // [rows] from params_off
#else
#define B_WORK 1
#define B_TOKENS 2
#define B_PROBS 3
#endif
layout(binding = B_WORK) buffer Work { uint work[]; };         // [rows][VKG_SAMPLE_ROW_WORDS]
layout(binding = B_TOKENS) writeonly buffer Tokens { int tokens[]; }; // [rows]
layout(binding = B_PROBS) writeonly buffer Probs { float probs[]; };  // [rows]

shared float sh_m[256];
shared uint sh_i[256];
shared float sh_s[256];
shared uint sh_nan; // some invocation of the workgroup saw a NaN (or a flagged chunk)

// s * exp(ms - m) without inf - inf: a part that saw only -inf weighs 0, one whose max is m keeps s (m = +inf too)
float rescale(float s, float ms, float m) { return s == 0.0 ? 0.0 : ms == m ? s : s * exp(ms - m); }

// Folds (m, i, s) into the running (bm, bi, bs): larger max wins, equal max keeps the lower index.
void fold(inout float bm, inout uint bi, inout float bs, float m, uint i, float s)
{
    float nm = max(bm, m);
    bs = rescale(bs, bm, nm) + rescale(s, m, nm);
    if (m > bm || (m == bm && i < bi)) bi = i;
    bm = nm;
}

// fold() of a single logit x at index e (one exp instead of two).
void fold_one(inout float bm, inout uint bi, inout float bs, float x, uint e)
{
    if (x > bm) {
        bs = bs * exp(bm - x) + 1.0; // bs == 0 while bm == -inf
        bm = x;
        bi = e;
    } else {
        if (x == bm && e < bi) bi = e; // only -inf == -inf before any finite logit
        if (x != NEG_INF) bs += x == bm ? 1.0 : exp(x - bm); // x == bm == +inf: one more +inf
    }
}

bool is_nan(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }

#ifdef SUBGROUP
// Subgroup max, lowest index at the max, sum rescaled to the max; then
// invocation 0 folds the subgroups' results (in subgroup order) into slot 0.
void reduce_shared(float m, uint i, float s)
{
    float sm = subgroupMax(m);
    uint si = subgroupMin(m == sm ? i : 0xffffffffu);
    float ss = subgroupAdd(rescale(s, m, sm));
    if (subgroupElect()) {
        sh_m[gl_SubgroupID] = sm;
        sh_i[gl_SubgroupID] = si;
        sh_s[gl_SubgroupID] = ss;
    }
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
        float bm = sh_m[0], bs = sh_s[0];
        uint bi = sh_i[0];
        for (uint g = 1u; g < gl_NumSubgroups; g++) fold(bm, bi, bs, sh_m[g], sh_i[g], sh_s[g]);
        sh_m[0] = bm;
        sh_i[0] = bi;
        sh_s[0] = bs;
    }
    barrier();
}
#else
// Tree reduction of the workgroup's (m, i, s) into slot 0.
void reduce_shared(float m, uint i, float s)
{
    uint t = gl_LocalInvocationID.x;
    sh_m[t] = m;
    sh_i[t] = i;
    sh_s[t] = s;
    barrier();
    for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h >>= 1) {
        if (t < h) {
            float bm = sh_m[t], bs = sh_s[t];
            uint bi = sh_i[t];
            fold(bm, bi, bs, sh_m[t + h], sh_i[t + h], sh_s[t + h]);
            sh_m[t] = bm;
            sh_i[t] = bi;
            sh_s[t] = bs;
        }
        barrier();
    }
}
#endif

#ifdef PARTIAL
float g_bm, g_bs; // this invocation's max, sum and argmax so far, and whether it saw a NaN
uint g_bi;
bool g_nan;

void visit(uint e, float x)
{
    if (is_nan(x)) g_nan = true; // never folded: the row is flagged instead
    else fold_one(g_bm, g_bi, g_bs, x, e);
}

void main()
{
    uint row = gl_WorkGroupID.y, c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint src = p.logits_off + row * p.vocab;
    g_bm = NEG_INF, g_bs = 0.0, g_bi = 0xffffffffu, g_nan = false;
    if (t == 0u) sh_nan = 0u;
    barrier();
    // strided so neighbouring invocations read neighbouring words (texels)
    VISIT_LOGITS(visit, src, c * p.chunk, min((c + 1u) * p.chunk, p.vocab), t, gl_WorkGroupSize.x)
    float bm = g_bm, bs = g_bs;
    uint bi = g_bi;
    if (g_nan) atomicOr(sh_nan, 1u);
    reduce_shared(bm, bi, bs);
    if (t == 0u) {
        uint o = row_base(row) + VKG_SAMPLE_PART_AT + 4u * c;
        work[o] = floatBitsToUint(sh_m[0]);
        work[o + 1u] = sh_i[0];
        work[o + 2u] = floatBitsToUint(sh_s[0]);
        work[o + 3u] = sh_nan;
    }
}
#else
#ifdef SAMPLE
// State of a row to be sampled (T > 0): which searches run, their start values.
void init_state(uint base, uint row)
{
    uint pr = p.params_off + row;
    float temp = params[pr].temperature;
    uint top_k = (p.flags & VKG_SAMPLE_NO_TOP_K) != 0u ? 0u : params[pr].top_k;
    float top_p = (p.flags & VKG_SAMPLE_NO_TOP_P) != 0u ? 1.0 : params[pr].top_p;
    float min_p = params[pr].min_p;
    work[base + S_STAGE] = top_k > 0u ? STAGE_TOPK : (top_p < 1.0 ? STAGE_TOPP : STAGE_DRAW);
    work[base + S_PREFIX] = 0u;
    work[base + S_KREM] = top_k;
    work[base + S_FLOOR] = 0u;
    work[base + S_TAU] = 0u;
    work[base + S_TIES] = ALL_TIES;
    work[base + S_INVT] = floatBitsToUint(1.0 / temp);
    work[base + S_MINW] = floatBitsToUint(clamp(min_p, 0.0, 1.0)); // the max (weight 1) always stays
    work[base + S_CAND_LO] = CAND_NONE;
    work[base + S_CAND_N] = 0u;
    work[base + S_CAND_PASS] = 0u;
}
#endif

void main()
{
    uint row = p.row0 + gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint base = row_base(gl_WorkGroupID.y);
    float bm = NEG_INF, bs = 0.0;
    uint bi = 0xffffffffu, nan = 0u;
    if (t == 0u) sh_nan = 0u;
    barrier();
    for (uint c = t; c < p.n_chunks; c += gl_WorkGroupSize.x) {
        uint o = base + VKG_SAMPLE_PART_AT + 4u * c;
        fold(bm, bi, bs, uintBitsToFloat(work[o]), work[o + 1u], uintBitsToFloat(work[o + 2u]));
        nan |= work[o + 3u];
    }
    if (nan != 0u) atomicOr(sh_nan, 1u);
    reduce_shared(bm, bi, bs);
#ifdef SAMPLE
    for (uint b = t; b < 768u; b += gl_WorkGroupSize.x) work[base + VKG_SAMPLE_HIST_AT + b] = 0u;
#endif
    if (t != 0u) return;
    float m = sh_m[0], z = sh_s[0];
    bool bad = sh_nan != 0u || m == NEG_INF; // a NaN somewhere, or nothing but -inf: nothing can be drawn
    work[base + S_MAX] = floatBitsToUint(m);
    work[base + S_ARG] = sh_i[0];
    work[base + S_ZALL] = floatBitsToUint(z);
    bool greedy = true;
#ifdef SAMPLE
    float temp = params[p.params_off + row].temperature;
    greedy = bad || !(temp > 0.0); // flagged rows, and T <= 0 (or NaN): written here
    work[base + S_STAGE] = STAGE_DONE;
    if (!greedy) init_state(base, row);
#endif
    if (greedy) {
        tokens[p.tokens_off + row] = bad ? -1 : int(sh_i[0]);
        probs[p.probs_off + row] = bad ? 0.0 : 1.0 / z; // softmax(logits)[argmax]: exp(0) / z, z >= 1
    }
}
#endif
