// sample_common.glsl — helpers of the sample family (argmax.comp,
// sample.comp): workspace state words, the orderable float key, 64-bit
// fixed-point masses as uvec2 (lo, hi) and the Philox4x32-10 counter RNG.
// Include after common.glsl and push_sample.h with
// VKG_PUSH_CONSTANTS(vkg_push_sample) declared.
// Workspace of one row (VKG_SAMPLE_ROW_WORDS in push_sample.h): state
// words, the histogram at VKG_SAMPLE_HIST_AT (count[256], mass_lo[256],
// mass_hi[256]), 4 words per chunk at VKG_SAMPLE_PART_AT, then the
// candidate keys. State words:
#define S_MAX 0u      // row max logit (float bits)
#define S_ARG 1u      // argmax (lowest index)
#define S_ZALL 2u     // sum exp(x - max) at temperature 1 (float bits)
#define S_STAGE 3u    // 0: top-k search, 1: top-p search, 2: draw, 3: done (outputs written)
#define S_PREFIX 4u   // key bits decided so far by the radix search
#define S_KREM 5u     // top-k: rank still to find inside the current prefix
#define S_FLOOR 6u    // keys below are out (top-k cut)
#define S_TGT_LO 7u   // top-p: mass still to cover inside the prefix (fixed point)
#define S_TGT_HI 8u
#define S_TIES 9u     // how many logits equal to the cut key stay (index order); ~0u: all
#define S_TAU 10u     // the cut key: kept = key > tau, or key == tau among the first S_TIES
#define S_INVT 11u    // 1 / temperature (float bits)
#define S_MINW 12u    // min_p: kept only when exp((x - max) / T) >= this (float bits)
#define S_CAND_LO 13u // candidates = keys >= this (set by the first top-k, else top-p digit); CAND_NONE: no list
#define S_CAND_N 14u  // candidates found; more than cand_cap(): the list overflowed, read the logits
#define S_CAND_PASS 15u // the radix pass whose cut set S_CAND_LO: 0 (top-k) or 4 (top-p without a top-k list)
#define STAGE_TOPK 0u
#define STAGE_TOPP 1u
#define STAGE_DRAW 2u
#define STAGE_DONE 3u
#define ALL_TIES 0xffffffffu
#define CAND_NONE 0xffffffffu
#define NEG_INF uintBitsToFloat(0xff800000u)
#define POS_INF uintBitsToFloat(0x7f800000u)

// VISIT_LOGITS(FN, src, lo, hi, first, step) calls FN(e, x) for the logits x
// = logits[src + e] with e in [lo, hi): invocation-strided (first = the
// invocation, step = the workgroup size) or one invocation's own range
// (first 0, step 1). The lane tier (LANE: workgroups of one subgroup for CPU
// drivers) reads the logits as 16-byte texels, first and step counting
// texels: a texel fetch is one gather there, a storage load a loop over the
// lanes; the texels at the ends of [lo, hi) are partly outside and masked.
#ifdef LANE
layout(binding = 0) uniform usamplerBuffer logits_tx; // [n_rows][vocab] f32 from logits_off, 4 per texel
#define VISIT_LOGITS(FN, src, lo, hi, first, step)                                                   \
    for (uint tx_ = (((src) + (lo)) >> 2) + (first); tx_ < ((src) + (hi) + 3u) >> 2; tx_ += (step)) { \
        vec4 x4_ = uintBitsToFloat(texelFetch(logits_tx, int(tx_)));                                 \
        int e_ = int(tx_ * 4u) - int(src);                                                           \
        VISIT_ONE_(FN, e_, x4_.x, lo, hi)                                                            \
        VISIT_ONE_(FN, e_ + 1, x4_.y, lo, hi)                                                        \
        VISIT_ONE_(FN, e_ + 2, x4_.z, lo, hi)                                                        \
        VISIT_ONE_(FN, e_ + 3, x4_.w, lo, hi)                                                        \
    }
#define VISIT_ONE_(FN, e, x, lo, hi) \
    if ((e) >= int(lo) && (e) < int(hi)) FN(uint(e), x);
#else
layout(binding = 0) readonly buffer Logits { float logits[]; }; // [n_rows][vocab] f32 from logits_off
#define VISIT_LOGITS(FN, src, lo, hi, first, step) \
    for (uint e_ = (lo) + (first); e_ < (hi); e_ += (step)) FN(e_, logits[(src) + e_]);
#endif

// Candidate keys a row has room for: a list never needs more than the vocab.
uint cand_cap() { return min(VKG_SAMPLE_CAND, p.vocab); }
// First word of row row0 + lrow: the workspace window starts at the batch's first row.
uint row_base(uint lrow) { return p.work_off + lrow * (VKG_SAMPLE_PART_AT + 4u * p.n_chunks + cand_cap()); }
uint cand_base(uint base) { return base + VKG_SAMPLE_PART_AT + 4u * p.n_chunks; }

// Order-preserving map float -> uint (larger float, larger key); -0 == +0.
uint f2key(float f)
{
    uint b = floatBitsToUint(f);
    if (b == 0x80000000u) b = 0u;
    return (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
}
float key2f(uint k) { return uintBitsToFloat((k & 0x80000000u) != 0u ? (k & 0x7fffffffu) : ~k); }

// 64-bit unsigned as uvec2(lo, hi).
uvec2 u64_add(uvec2 a, uvec2 b)
{
    uint c;
    uint lo = uaddCarry(a.x, b.x, c);
    return uvec2(lo, a.y + b.y + c);
}
uvec2 u64_sub(uvec2 a, uvec2 b)
{
    uint br;
    uint lo = usubBorrow(a.x, b.x, br);
    return uvec2(lo, a.y - b.y - br);
}
bool u64_lt(uvec2 a, uvec2 b) { return a.y < b.y || (a.y == b.y && a.x < b.x); }
// (a * m) >> 32, and whether bits were dropped
uvec2 u64_mul_hi32(uvec2 a, uint m, out bool inexact)
{
    uint h0, l0, h1, l1, c;
    umulExtended(a.x, m, h0, l0);
    umulExtended(a.y, m, h1, l1);
    uint mid = uaddCarry(h0, l1, c);
    inexact = l0 != 0u;
    return uvec2(mid, h1 + c);
}
uvec2 u64_mul32(uvec2 a, uint m)
{
    uint h0, l0, h1, l1;
    umulExtended(a.x, m, h0, l0);
    umulExtended(a.y, m, h1, l1);
    return uvec2(l0, h0 + l1);
}
float u64_to_f(uvec2 a) { return float(a.y) * 4294967296.0 + float(a.x); }

// Probability weight w in [0, 1] as fixed point floor(w * 2^40): masses are
// summed exactly with integer atomics, so every order of addition gives the
// same bits (run-to-run determinism) and top-p compares exact integers.
uvec2 w_fixed(float w)
{
    float s = w * 256.0;
    float hi = floor(s);
    return uvec2(uint((s - hi) * 4294967296.0), uint(hi));
}

// exp((x - max) / T), the unnormalized probability of a logit: -inf stays
// 0 even when 1/T is 0, the max weighs exactly 1 (also when 1/T is +inf),
// and when the max is +inf only the +inf logits weigh (1 each), the limit
// of softmax as they grow. Rows with a NaN never get here (argmax.comp).
float weight(float x, float m, float invt)
{
    if (x == NEG_INF) return 0.0;
    if (x == m) return 1.0;
    if (m == POS_INF) return 0.0;
    return exp((x - m) * invt);
}

// Philox4x32-10 (Salmon et al., SC'11): counter {step, 0, 0, 0}, key = seed.
uint philox_u32(uint seed_lo, uint seed_hi, uint step)
{
    uvec4 c = uvec4(step, 0u, 0u, 0u);
    uvec2 k = uvec2(seed_lo, seed_hi);
    for (int r = 0; r < 10; r++) {
        if (r > 0) k += uvec2(0x9E3779B9u, 0xBB67AE85u);
        uint h0, l0, h1, l1;
        umulExtended(0xD2511F53u, c.x, h0, l0);
        umulExtended(0xCD9E8D57u, c.z, h1, l1);
        c = uvec4(h1 ^ c.y ^ k.x, l1, h0 ^ c.w ^ k.y, l0);
    }
    return c.x;
}
