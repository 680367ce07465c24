#version 450
// sample.comp — sampling a token per row of logits [rows][vocab] f32 with HF
// semantics: logits / T -> top-k -> top-p -> min-p -> softmax -> inverse-CDF
// draw (index order) with u from Philox4x32-10(seed, step). After
// sample_init (argmax.comp) the launcher records
//   8 x (sample_hist, sample_select)   radix search of the top-k cut (passes
//                                      0-3) and the top-p cut (passes 4-7) on
//                                      the order-preserving key of the logits,
//                                      one 8-bit digit per pass
//   sample_compact (after pass 0, 4)   the keys >= the first top-k digit's bin
//                                      (else the first top-p digit's) are copied
//                                      to a list of up to 16384: the later
//                                      passes read that, not the logits
//   sample_mass                        kept mass and cut ties per chunk
//   sample_draw                        picks the chunk, then the token
// Masses are fixed point (weight * 2^40) summed with integer atomics: exact,
// independent of the order of addition. A row whose search is finished (or
// not asked for) returns at once, so every row shares one recorded sequence.
// The _lane variants are the same passes in workgroups of VKG_SAMPLE_LANE_WG
// (one subgroup on a CPU driver, where each barrier of a 256-wide workgroup
// switches between its 32 SIMD slices) reading the logits as texels
// (VISIT_LOGITS, sample_common.glsl).
//! variant sample_hist HIST
//! variant sample_select SELECT
//! variant sample_compact COMPACT
//! variant sample_mass MASS
//! variant sample_draw DRAW
//! variant sample_hist_lane HIST LANE
//! variant sample_select_lane SELECT LANE
//! variant sample_compact_lane COMPACT LANE
//! variant sample_mass_lane MASS LANE
//! variant sample_draw_lane DRAW LANE
#extension GL_GOOGLE_include_directive : require
#if defined(DRAW) && defined(LANE)
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"
#include "push_sample.h"
VKG_PUSH_CONSTANTS(vkg_push_sample);
#include "sample_common.glsl"

layout(binding = 1) buffer Params { vkg_sample_params params[]; }; // [rows] from params_off
layout(binding = 2) buffer Work { uint work[]; };               // [rows][VKG_SAMPLE_ROW_WORDS]
layout(binding = 3) writeonly buffer Tokens { int tokens[]; };  // [rows]
layout(binding = 4) writeonly buffer Probs { float probs[]; };  // [rows]

#define H_CNT 0u
#define H_LO 256u
#define H_HI 512u

float row_max(uint base) { return uintBitsToFloat(work[base + S_MAX]); }
float row_invt(uint base) { return uintBitsToFloat(work[base + S_INVT]); }
float row_top_p(uint row) { return params[p.params_off + row].top_p; }

#ifdef HIST
shared uint h[768];

// Adds a fixed-point mass to a (lo, hi) pair of shared counters: the carry
// out of the low word is seen by the one atomic that wrapped it.
void shared_add_mass(uint d, uvec2 f)
{
    uint old = atomicAdd(h[H_LO + d], f.x);
    uint carry = old + f.x < old ? 1u : 0u;
    if (f.y + carry != 0u) atomicAdd(h[H_HI + d], f.y + carry);
}

uint g_shift, g_prefix, g_floor, g_stage;
float g_m, g_invt;

// Counts one logit (key, value x) into the shared histogram when it is in the searched range.
void hist_add(uint key, float x)
{
    if (key < g_floor) return;
    if (g_shift < 24u && (key >> (g_shift + 8u)) != (g_prefix >> (g_shift + 8u))) return;
    uint d = (key >> g_shift) & 255u;
    atomicAdd(h[H_CNT + d], 1u);
    if (g_stage == STAGE_TOPP) shared_add_mass(d, w_fixed(weight(x, g_m, g_invt)));
}
void hist_logit(uint e, float x) { hist_add(f2key(x), x); }

void main()
{
    uint lrow = gl_WorkGroupID.y, c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint base = row_base(lrow);
    g_stage = work[base + S_STAGE];
    if (g_stage != (p.pass < 4u ? STAGE_TOPK : STAGE_TOPP)) return; // same for the whole workgroup
    uint n_cand = work[base + S_CAND_N];
    bool cand = work[base + S_CAND_LO] != CAND_NONE && n_cand <= cand_cap();
    if (cand && c * p.chunk >= n_cand) return;
    g_shift = 24u - 8u * (p.pass & 3u);
    g_prefix = work[base + S_PREFIX], g_floor = work[base + S_FLOOR];
    g_m = row_max(base), g_invt = row_invt(base);
    for (uint b = t; b < 768u; b += gl_WorkGroupSize.x) h[b] = 0u;
    barrier();
    if (cand) { // the candidate list holds every key >= the cut still searched for
        uint cb = cand_base(base);
        for (uint i = c * p.chunk + t; i < min((c + 1u) * p.chunk, n_cand); i += gl_WorkGroupSize.x)
            hist_add(work[cb + i], key2f(work[cb + i]));
    } else {
        uint src = p.logits_off + lrow * p.vocab;
        VISIT_LOGITS(hist_logit, src, c * p.chunk, min((c + 1u) * p.chunk, p.vocab), t, gl_WorkGroupSize.x)
    }
    barrier();
    uint g = base + VKG_SAMPLE_HIST_AT;
    for (uint d = t; d < 256u; d += gl_WorkGroupSize.x) {
        if (h[H_CNT + d] == 0u) continue;
        atomicAdd(work[g + H_CNT + d], h[H_CNT + d]);
        uint lo = h[H_LO + d];
        uint old = atomicAdd(work[g + H_LO + d], lo);
        uint carry = old + lo < old ? 1u : 0u;
        atomicAdd(work[g + H_HI + d], h[H_HI + d] + carry);
    }
}
#endif

#ifdef SELECT
shared uint h[768];

// Top-k: the bin holding the k-th largest key; all ties of the k-th logit stay (HF: remove x < kth).
void select_topk(uint base, uint row, uint shift)
{
    uint krem = work[base + S_KREM], cum = 0u;
    int b = 255;
    for (; b >= 0; b--) {
        if (cum + h[H_CNT + uint(b)] >= krem) break;
        cum += h[H_CNT + uint(b)];
    }
    uint prefix = work[base + S_PREFIX] | (uint(max(b, 0)) << shift);
    if (b >= 0 && shift > 0u) {
        work[base + S_PREFIX] = prefix;
        work[base + S_KREM] = krem - cum;
        if (shift == 24u && cum + h[H_CNT + uint(b)] <= cand_cap()) { // sample_compact lists the keys >= this
            work[base + S_CAND_LO] = prefix;
            work[base + S_CAND_PASS] = 0u;
        }
        return;
    }
    uint cut = b < 0 ? 0u : prefix; // b < 0: k >= vocab, keep all
    work[base + S_FLOOR] = cut;
    work[base + S_TAU] = cut;
    work[base + S_PREFIX] = 0u;
    bool top_p = (p.flags & VKG_SAMPLE_NO_TOP_P) == 0u && row_top_p(row) < 1.0;
    work[base + S_STAGE] = top_p ? STAGE_TOPP : STAGE_DRAW;
}

// Smallest r in [1, n] with r * w >= tgt.
uint ties_needed(uvec2 w, uvec2 tgt, uint n)
{
    uint lo = 1u, hi = n;
    while (lo < hi) {
        uint mid = (lo + hi) / 2u;
        if (u64_lt(u64_mul32(w, mid), tgt)) lo = mid + 1u;
        else hi = mid;
    }
    return lo;
}

// Top-p: token j (descending order, ties by index) stays while the mass
// strictly before it is < top_p * Z, i.e. HF's "ascending cumsum <= 1 - top_p
// is removed"; Z is the mass left by top-k. tgt = max(ceil(top_p * Z), 1) keeps >= 1 token.
void select_topp(uint base, uint row, uint shift)
{
    uvec2 tgt = uvec2(work[base + S_TGT_LO], work[base + S_TGT_HI]);
    if (shift == 24u) {
        uvec2 z = uvec2(0u);
        for (uint b = 0u; b < 256u; b++) z = u64_add(z, uvec2(h[H_LO + b], h[H_HI + b]));
        float tp = clamp(row_top_p(row), 0.0, 1.0);
        bool inexact;
        tgt = u64_mul_hi32(z, uint(min(tp * 4294967296.0, 4294967295.0)), inexact);
        if (inexact || (tgt.x | tgt.y) == 0u) tgt = u64_add(tgt, uvec2(1u, 0u));
    }
    uvec2 above = uvec2(0u);
    uint b = 255u;
    for (;; b--) {
        uvec2 next = u64_add(above, uvec2(h[H_LO + b], h[H_HI + b]));
        if (!u64_lt(next, tgt) || b == 0u) break;
        above = next;
    }
    tgt = u64_sub(tgt, above);
    uint prefix = work[base + S_PREFIX] | (b << shift);
    work[base + S_PREFIX] = prefix;
    if (shift == 24u && work[base + S_CAND_LO] == CAND_NONE) { // no top-k list: sample_compact lists the keys >= this
        uint n = 0u;
        for (uint d = b; d < 256u; d++) n += h[H_CNT + d];
        if (n <= cand_cap()) {
            work[base + S_CAND_LO] = prefix;
            work[base + S_CAND_PASS] = 4u;
        }
    }
    work[base + S_TGT_LO] = tgt.x;
    work[base + S_TGT_HI] = tgt.y;
    if (shift > 0u) return;
    uvec2 w = w_fixed(weight(key2f(prefix), row_max(base), row_invt(base)));
    work[base + S_TAU] = prefix;
    work[base + S_TIES] = ties_needed(w, tgt, h[H_CNT + b]);
    work[base + S_STAGE] = STAGE_DRAW;
}

void main()
{
    uint row = p.row0 + gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint base = row_base(gl_WorkGroupID.y);
    uint stage = work[base + S_STAGE];
    if (stage != (p.pass < 4u ? STAGE_TOPK : STAGE_TOPP)) return;
    // take the histogram and leave zeros for the next pass
    for (uint b = t; b < 768u; b += gl_WorkGroupSize.x) {
        h[b] = work[base + VKG_SAMPLE_HIST_AT + b];
        work[base + VKG_SAMPLE_HIST_AT + b] = 0u;
    }
    barrier();
    if (t != 0u) return;
    uint shift = 24u - 8u * (p.pass & 3u);
    if (stage == STAGE_TOPK) select_topk(base, row, shift);
    else select_topp(base, row, shift);
}
#endif

#ifdef COMPACT
shared uint sh_keys[VKG_SAMPLE_CHUNK];
shared uint sh_n, sh_at;
uint g_lo;

void compact_logit(uint e, float x)
{
    uint key = f2key(x);
    if (key >= g_lo) sh_keys[atomicAdd(sh_n, 1u)] = key;
}

// Appends this chunk's keys >= S_CAND_LO to the row's list: a shared count,
// one global atomic per workgroup for the place. The list's order varies
// between runs; the histograms built from it do not.
void main()
{
    uint lrow = gl_WorkGroupID.y, c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint base = row_base(lrow);
    uint lo = work[base + S_CAND_LO];
    // after pass 0 the top-k rows, after pass 4 the top-p rows that had no top-k list
    if (lo == CAND_NONE || work[base + S_CAND_PASS] != p.pass ||
        work[base + S_STAGE] != (p.pass < 4u ? STAGE_TOPK : STAGE_TOPP))
        return;
    if (t == 0u) sh_n = 0u;
    barrier();
    uint src = p.logits_off + lrow * p.vocab;
    g_lo = lo;
    VISIT_LOGITS(compact_logit, src, c * p.chunk, min((c + 1u) * p.chunk, p.vocab), t, gl_WorkGroupSize.x)
    barrier();
    if (sh_n == 0u) return;
    if (t == 0u) sh_at = atomicAdd(work[base + S_CAND_N], sh_n);
    barrier();
    uint cb = cand_base(base);
    for (uint i = t; i < sh_n && sh_at + i < cand_cap(); i += gl_WorkGroupSize.x) work[cb + sh_at + i] = sh_keys[i];
}
#endif

#if defined(MASS) || defined(DRAW)
// Kept mass of one logit besides the cut ties: key above the cut (or any tie
// when all ties stay) and weight >= min_p.
uvec2 kept_mass(float x, uint key, uint tau, bool all_ties, float m, float invt, float minw)
{
    if (key < tau || (key == tau && !all_ties)) return uvec2(0u);
    float w = weight(x, m, invt);
    return w >= minw ? w_fixed(w) : uvec2(0u);
}
#endif

#ifdef MASS
shared uvec2 sh_mass[256];
shared uint sh_ties[256];
uint g_tau, g_ties;
bool g_all_ties;
float g_m, g_invt, g_minw;
uvec2 g_acc;

void mass_logit(uint e, float x)
{
    uint key = f2key(x);
    if (key == g_tau && !g_all_ties) g_ties++;
    g_acc = u64_add(g_acc, kept_mass(x, key, g_tau, g_all_ties, g_m, g_invt, g_minw));
}

void main()
{
    uint lrow = gl_WorkGroupID.y, c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    uint base = row_base(lrow);
    if (work[base + S_STAGE] != STAGE_DRAW) return;
    uint tau = work[base + S_TAU];
    bool all_ties = work[base + S_TIES] == ALL_TIES;
    g_tau = tau, g_all_ties = all_ties;
    g_m = row_max(base), g_invt = row_invt(base), g_minw = uintBitsToFloat(work[base + S_MINW]);
    g_acc = uvec2(0u), g_ties = 0u;
    uint src = p.logits_off + lrow * p.vocab;
    VISIT_LOGITS(mass_logit, src, c * p.chunk, min((c + 1u) * p.chunk, p.vocab), t, gl_WorkGroupSize.x)
    sh_mass[t] = g_acc, sh_ties[t] = g_ties;
    barrier();
    for (uint hh = gl_WorkGroupSize.x / 2u; hh > 0u; hh >>= 1) {
        if (t < hh) sh_mass[t] = u64_add(sh_mass[t], sh_mass[t + hh]), sh_ties[t] += sh_ties[t + hh];
        barrier();
    }
    if (t != 0u) return;
    uint o = base + VKG_SAMPLE_PART_AT + 4u * c;
    work[o] = sh_mass[0].x, work[o + 1u] = sh_mass[0].y, work[o + 2u] = sh_ties[0];
}
#endif

#ifdef DRAW
shared uvec2 sh_mass[256];
shared uint sh_ties[256];
shared uint sh_chunk, sh_ties_before, sh_token;
shared uvec2 sh_target, sh_z, sh_w_tok;

// Kept mass of chunk c: its mass besides cut ties + its share of the first S_TIES ties.
uvec2 chunk_kept(uint o, uint ties_before, uint ties_kept, uvec2 w_tie)
{
    uint n = work[o + 2u];
    uint share = ties_kept > ties_before ? min(ties_kept - ties_before, n) : 0u;
    return u64_add(uvec2(work[o], work[o + 1u]), u64_mul32(w_tie, share));
}

// Invocation 0: the row's total kept mass Z, u * Z, and the chunk it falls in.
void pick_chunk(uint base, uint row, uint ties_kept, uvec2 w_tie)
{
    uvec2 z = uvec2(0u);
    uint tb = 0u;
    for (uint c = 0u; c < p.n_chunks; c++) {
        uint o = base + VKG_SAMPLE_PART_AT + 4u * c;
        z = u64_add(z, chunk_kept(o, tb, ties_kept, w_tie));
        tb += work[o + 2u];
    }
    uint pr = p.params_off + row;
    uint u = philox_u32(params[pr].seed_lo, params[pr].seed_hi, params[pr].step);
    bool inexact;
    uvec2 target = u64_mul_hi32(z, u, inexact); // floor(u / 2^32 * Z) < Z
    uvec2 above = uvec2(0u);
    tb = 0u;
    uint c = 0u;
    for (; c + 1u < p.n_chunks; c++) {
        uint o = base + VKG_SAMPLE_PART_AT + 4u * c;
        uvec2 next = u64_add(above, chunk_kept(o, tb, ties_kept, w_tie));
        if (u64_lt(target, next)) break;
        above = next;
        tb += work[o + 2u];
    }
    sh_chunk = c, sh_ties_before = tb, sh_target = u64_sub(target, above), sh_z = z;
}

// The row's cut, as both draws see it.
uint g_tau, g_ties_kept, g_rank, g_ties, g_token;
bool g_all_ties, g_found;
float g_m, g_invt, g_minw;
uvec2 g_w_tie, g_mass, g_at, g_tgt, g_w_tok;

#ifdef LANE
// Sum and exclusive prefix sum over the workgroup (one subgroup) of 64-bit
// values below 2^48, in 16-bit pieces so that no 32-bit lane sum overflows.
uvec2 join16(uint l0, uint l1, uint h) { return u64_add(uvec2(l0, h), uvec2(l1 << 16, l1 >> 16)); }
uvec2 sg_add_u64(uvec2 a)
{
    return join16(subgroupAdd(a.x & 0xffffu), subgroupAdd(a.x >> 16), subgroupAdd(a.y));
}
uvec2 sg_excl_u64(uvec2 a)
{
    return join16(subgroupExclusiveAdd(a.x & 0xffffu), subgroupExclusiveAdd(a.x >> 16), subgroupExclusiveAdd(a.y));
}

// One logit of a lane's texel: its weight after the cut; ties take their rank in index order.
uvec2 lane_weight(int e, float x, int lo, int hi, inout uint rank)
{
    if (e < lo || e >= hi) return uvec2(0u);
    uint key = f2key(x);
    if (key == g_tau && !g_all_ties) return rank++ < g_ties_kept ? g_w_tie : uvec2(0u);
    return kept_mass(x, key, g_tau, g_all_ties, g_m, g_invt, g_minw);
}
uint lane_tie(int e, float x, int lo, int hi) { return e >= lo && e < hi && !g_all_ties && f2key(x) == g_tau ? 1u : 0u; }

// The lane tier's draw: the workgroup is one subgroup and walks the drawn
// chunk a block of WG texels at a time, in index order: each lane weighs its
// texel's four logits, subgroup prefix sums place the lanes' masses (and cut
// ties) after everything before, and the walk stops at the block holding the
// target. One pass, every lane busy, no barrier in the loop.
void main()
{
    uint row = p.row0 + gl_WorkGroupID.y, lrow = gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint base = row_base(gl_WorkGroupID.y);
    bool draw = work[base + S_STAGE] == STAGE_DRAW;
    if (draw) {
        g_tau = work[base + S_TAU], g_ties_kept = work[base + S_TIES];
        g_all_ties = g_ties_kept == ALL_TIES;
        g_m = row_max(base), g_invt = row_invt(base), g_minw = uintBitsToFloat(work[base + S_MINW]);
        float w_tau = weight(key2f(g_tau), g_m, g_invt);
        g_w_tie = (!g_all_ties && w_tau >= g_minw) ? w_fixed(w_tau) : uvec2(0u);
        if (t == 0u) {
            pick_chunk(base, row, g_ties_kept, g_w_tie);
            sh_token = work[base + S_ARG], sh_w_tok = uvec2(0u); // replaced below
        }
        barrier();
        uint src = p.logits_off + lrow * p.vocab;
        int lo = int(sh_chunk * p.chunk), hi = int(min((sh_chunk + 1u) * p.chunk, p.vocab));
        uint tx_end = (src + uint(hi) + 3u) >> 2;
        uvec2 tgt = sh_target, before = uvec2(0u); // mass of the blocks walked so far
        uint ties = sh_ties_before;                // cut ties before the block
        for (uint b = (src + uint(lo)) >> 2; b < tx_end; b += gl_WorkGroupSize.x) {
            uint tx = min(b + t, tx_end - 1u);
            vec4 x4 = uintBitsToFloat(texelFetch(logits_tx, int(tx)));
            int e = b + t < tx_end ? int(tx * 4u) - int(src) : hi; // lanes past the chunk weigh nothing
            uint my_ties = 0u, rank = 0u;
            if (!g_all_ties) { // some cut ties stay: they need their rank
                my_ties = lane_tie(e, x4.x, lo, hi) + lane_tie(e + 1, x4.y, lo, hi) + lane_tie(e + 2, x4.z, lo, hi) +
                          lane_tie(e + 3, x4.w, lo, hi);
                rank = ties + subgroupExclusiveAdd(my_ties);
            }
            uvec2 w0 = lane_weight(e, x4.x, lo, hi, rank), w1 = lane_weight(e + 1, x4.y, lo, hi, rank);
            uvec2 w2 = lane_weight(e + 2, x4.z, lo, hi, rank), w3 = lane_weight(e + 3, x4.w, lo, hi, rank);
            uvec2 mine = u64_add(u64_add(w0, w1), u64_add(w2, w3)), block = sg_add_u64(mine);
            if (u64_lt(tgt, u64_add(before, block))) { // the same for every lane: the target is in this block
                uvec2 at = u64_add(before, sg_excl_u64(mine));
                if (!u64_lt(tgt, at) && u64_lt(tgt, u64_add(at, mine))) { // in my texel: which logit
                    uvec2 ws[4] = uvec2[4](w0, w1, w2, w3);
                    for (int i = 0; i < 4; i++) {
                        at = u64_add(at, ws[i]);
                        if (u64_lt(tgt, at)) { sh_token = uint(e + i), sh_w_tok = ws[i]; break; }
                    }
                }
                break;
            }
            before = u64_add(before, block);
            if (!g_all_ties) ties += subgroupAdd(my_ties);
        }
        barrier();
    }
    if (t != 0u) return;
    if (draw) {
        tokens[p.tokens_off + row] = int(sh_token);
        probs[p.probs_off + row] = u64_to_f(sh_w_tok) / u64_to_f(sh_z);
    }
    if ((p.flags & VKG_SAMPLE_ADVANCE) != 0u) params[p.params_off + row].step += 1u;
}
#else
// Exclusive prefix sums of sh_ties / sh_mass by invocation 0 (one entry per invocation).
void scan_shared(bool masses)
{
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
        uvec2 ms = uvec2(0u);
        uint ts = 0u;
        for (uint i = 0u; i < gl_WorkGroupSize.x; i++) {
            if (masses) { uvec2 v = sh_mass[i]; sh_mass[i] = ms; ms = u64_add(ms, v); }
            else { uint v = sh_ties[i]; sh_ties[i] = ts; ts += v; }
        }
    }
    barrier();
}

// Weight of logit x once the cut is applied: cut ties in index order (g_rank counts them).
uvec2 drawn_weight(float x)
{
    uint key = f2key(x);
    if (key == g_tau && !g_all_ties) return g_rank++ < g_ties_kept ? g_w_tie : uvec2(0u);
    return kept_mass(x, key, g_tau, g_all_ties, g_m, g_invt, g_minw);
}

void count_ties(uint e, float x) { g_ties += (!g_all_ties && f2key(x) == g_tau) ? 1u : 0u; }
void sum_mass(uint e, float x) { g_mass = u64_add(g_mass, drawn_weight(x)); }
// The first logit at which the running mass passes the target.
void find_token(uint e, float x)
{
    if (g_found) return;
    uvec2 w = drawn_weight(x);
    g_at = u64_add(g_at, w);
    if (u64_lt(g_tgt, g_at)) g_found = true, g_token = e, g_w_tok = w;
}

void main()
{
    uint row = p.row0 + gl_WorkGroupID.y, lrow = gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint base = row_base(gl_WorkGroupID.y);
    bool draw = work[base + S_STAGE] == STAGE_DRAW;
    if (draw) {
        g_tau = work[base + S_TAU], g_ties_kept = work[base + S_TIES];
        g_all_ties = g_ties_kept == ALL_TIES;
        g_m = row_max(base), g_invt = row_invt(base), g_minw = uintBitsToFloat(work[base + S_MINW]);
        float w_tau = weight(key2f(g_tau), g_m, g_invt);
        g_w_tie = (!g_all_ties && w_tau >= g_minw) ? w_fixed(w_tau) : uvec2(0u);
        if (t == 0u) {
            pick_chunk(base, row, g_ties_kept, g_w_tie);
            sh_token = work[base + S_ARG], sh_w_tok = uvec2(0u); // replaced below
        }
        barrier();
        // each invocation takes a run of chunk / workgroup size logits of the drawn chunk
        uint per_inv = p.chunk / gl_WorkGroupSize.x;
        uint e0 = sh_chunk * p.chunk + t * per_inv, e1 = min(e0 + per_inv, p.vocab);
        uint src = p.logits_off + lrow * p.vocab;
        g_ties = 0u;
        VISIT_LOGITS(count_ties, src, e0, e1, 0u, 1u)
        sh_ties[t] = g_ties;
        scan_shared(false);
        g_rank = sh_ties_before + sh_ties[t]; // ties before my first logit, in index order
        g_mass = uvec2(0u);
        VISIT_LOGITS(sum_mass, src, e0, e1, 0u, 1u)
        sh_mass[t] = g_mass;
        scan_shared(true);
        g_at = sh_mass[t], g_tgt = sh_target;
        if (!u64_lt(g_tgt, g_at) && u64_lt(g_tgt, u64_add(g_at, g_mass))) { // the token is one of mine
            g_rank = sh_ties_before + sh_ties[t];
            g_found = false;
            VISIT_LOGITS(find_token, src, e0, e1, 0u, 1u)
            if (g_found) sh_token = g_token, sh_w_tok = g_w_tok;
        }
        barrier();
    }
    if (t != 0u) return;
    if (draw) {
        tokens[p.tokens_off + row] = int(sh_token);
        probs[p.probs_off + row] = u64_to_f(sh_w_tok) / u64_to_f(sh_z);
    }
    if ((p.flags & VKG_SAMPLE_ADVANCE) != 0u) params[p.params_off + row].step += 1u;
}
#endif // LANE
#endif
