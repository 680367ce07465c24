/* test_moe — MoE router, grouping, expert FFN and combine on the GPU vs the
 * plain-C reference (tests/reference/ref_moe.c, from HF's modeling code).
 * The router and the expert FFN run in both tiers (scalar, subgroup); the
 * FFN for F32, F16, BF16, Q8_0 and Q4 weights and ggml's Q4_1 ... Q6_K.
 * Tolerances: expert ids and grouping counts/offsets exact (lists compared as
 * sets: their order inside an expert is arbitrary); router weights 2e-6
 * relative (f32 exp vs double); FFN outputs (any weight dtype, decoded exactly,
 * accumulated in f32 on the GPU, double in the reference) within 1e-4 of the
 * largest |value| of their token row. Logits are spaced >= 8/n_exp apart so the
 * top-k does not depend on rounding; explicit ties are tested separately
 * (lower expert index first). */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_moe.h"
#include "ref_dtype.h"
#include "ref_ggml_quants.h"
#include "ref_matmul.h"
#include "ref_moe.h"

static const uint32_t g_ntoks[] = { 1, 7, 64 };

/* The expert FFN has a scalar and a subgroup tier (chosen from
 * g_dev->use.subgroup_arith) and, for every weight type, moe_lane (texel reads,
 * g_dev->use.texel): the FFN tests run all three; tier 1 only when the
 * device has subgroup arithmetic and VKGRM_DISABLE_SUBGROUP is not set, tier
 * 2 only with subgroups of >= 8 (lane_ok). */
#define N_TIERS 3
static int g_sg_saved = -1, g_texel_saved = -1;
static int set_tier(int t)
{
    if (g_sg_saved < 0) g_sg_saved = g_dev->use.subgroup_arith;
    if (g_texel_saved < 0) g_texel_saved = g_dev->use.texel;
    if ((t == 1 && !g_sg_saved) || (t == 2 && !g_dev->use.lane_ok)) return 0;
    g_dev->use.subgroup_arith = t == 2 ? g_sg_saved : t;
    g_dev->use.texel = t == 2;
    return 1;
}
static void restore_tier(void)
{
    g_dev->use.subgroup_arith = g_sg_saved;
    g_dev->use.texel = g_texel_saved;
}
#define N_NTOKS (sizeof g_ntoks / sizeof g_ntoks[0])

/* Per token a shuffled ladder of logits (no near-ties) within about +-6, where
 * f32 sigmoid still separates neighbours: step 0.05, less for many experts. */
static void make_logits(uint64_t *seed, uint32_t n_tok, uint32_t n_exp, float *l)
{
    float step = n_exp > 160 ? 8.0f / (float)n_exp : 0.05f;
    for (uint32_t t = 0; t < n_tok; t++) {
        float *row = l + (uint64_t)t * n_exp, base = rng_uniform(seed, -2, 2);
        for (uint32_t e = 0; e < n_exp; e++) row[e] = base + step * ((float)e - 0.5f * (float)n_exp);
        for (uint32_t e = n_exp - 1; e > 0; e--) {
            uint32_t o = (uint32_t)(rng_next(seed) % (e + 1));
            float tmp = row[e];
            row[e] = row[o];
            row[o] = tmp;
        }
    }
}

static struct vkg_cmd *begin(void)
{
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    return c;
}

static void finish(struct vkg_cmd *c)
{
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
}

static struct vkg_moe_router to_gpu(const struct ref_moe_router *r)
{
    return (struct vkg_moe_router){ r->n_exp,        r->k,       r->sigmoid,    r->norm,
                                    (float)r->scale, r->n_group, r->topk_group, .v3_groups = r->v3_groups };
}

/* DeepSeek-V3 correction bias for the tests: whole numbers 0..2, so that
 * score + bias keeps the scores' gaps (no near-ties from the sum). */
static float g_bias[512];
static void init_bias(void)
{
    for (uint32_t e = 0; e < 512; e++) g_bias[e] = (float)((e * 7 + 3) % 3);
}

/* Runs the router on the GPU, returns ids and weights read back. */
static void gpu_gate(const struct ref_moe_router *r, uint32_t n_tok, const float *logits, int32_t *ids, float *w)
{
    struct vkg_moe_router g = to_gpu(r);
    uint64_t nk = (uint64_t)n_tok * r->k;
    struct vkg_buffer *bb = NULL; /* the bias 20 bytes into its buffer: exercises bias_off */
    if (r->bias) {
        bb = gpu_buffer_from(NULL, 20 + r->n_exp * 4, "moe bias");
        GPU_OK(vkg_buffer_upload(g_dev, vkg_view_sub(vkg_buffer_view(bb), 20, r->n_exp * 4), r->bias, r->n_exp * 4));
        g.bias = vkg_view_sub(vkg_buffer_view(bb), 20, r->n_exp * 4);
    }
    struct vkg_buffer *bl = gpu_buffer_from(logits, (uint64_t)n_tok * r->n_exp * 4, "moe logits");
    struct vkg_buffer *bi = gpu_buffer_from(NULL, nk * 4, "moe ids");
    struct vkg_buffer *bw = gpu_buffer_from(NULL, nk * 4, "moe weights");
    struct vkg_cmd *c = begin();
    GPU_OK(vkg_op_moe_gate(c, &g, n_tok, vkg_buffer_view(bl), vkg_buffer_view(bi), vkg_buffer_view(bw)));
    finish(c);
    gpu_read(bi, ids, nk * 4);
    gpu_read(bw, w, nk * 4);
    vkg_buffer_free(bl);
    vkg_buffer_free(bi);
    vkg_buffer_free(bw);
    vkg_buffer_free(bb);
    gpu_assert_no_validation();
}

/* GPU ids equal the reference's, weights within 2e-6; both tiers. */
static void check_gate(const char *name, const struct ref_moe_router *r, uint32_t n_tok, const float *logits)
{
    uint64_t nk = (uint64_t)n_tok * r->k;
    int32_t *gi = malloc(nk * 4), *ri = malloc(nk * 4);
    float *gw = malloc(nk * 4), *rw = malloc(nk * 4);
    char what[160];
    ref_moe_gate(r, n_tok, logits, ri, rw);
    for (int sg = 0; sg < N_TIERS; sg++) {
        if (!set_tier(sg)) continue;
        gpu_gate(r, n_tok, logits, gi, gw);
        for (uint64_t i = 0; i < nk; i++)
            if (gi[i] != ri[i])
                fail_msg("%s%s n_tok=%u: token %llu slot %llu: expert %d, reference %d", name, sg ? " subgroup" : "",
                         n_tok, (unsigned long long)(i / r->k), (unsigned long long)(i % r->k), gi[i], ri[i]);
        snprintf(what, sizeof what, "%s%s n_tok=%u weights", name, sg ? " subgroup" : "", n_tok);
        assert_close_f32(what, gw, rw, nk, 1e-7f, 2e-6f);
    }
    restore_tier();
    free(gi);
    free(ri);
    free(gw);
    free(rw);
}

/* Router variants of the served architectures. */
static const struct {
    const char *name;
    struct ref_moe_router r;
} g_routers[] = {
    { "softmax top1", { 64, 1, 0, 0, 1.0, 0, 0 } },
    { "mixtral softmax top2 renorm", { 8, 2, 0, 1, 1.0, 0, 0 } },
    { "qwen3 softmax top8 renorm", { 128, 8, 0, 1, 1.0, 0, 0 } },
    { "qwen3 softmax top6 no renorm", { 60, 6, 0, 0, 1.0, 0, 0 } },
    { "deepseek-v2 group-limited top6 scaled", { 64, 6, 0, 0, 16.0, 8, 3 } },
    { "sigmoid group-limited top8 renorm scaled", { 256, 8, 1, 1, 2.5, 8, 4 } },
    { "sigmoid top6 no renorm", { 100, 6, 1, 0, 1.0, 0, 0 } },
    { "sigmoid top16 renorm 512 experts", { 512, 16, 1, 1, 1.0, 0, 0 } },
    { "deepseek-v3 sigmoid+bias v3 groups top8 renorm scaled", { 256, 8, 1, 1, 2.5, 8, 4, g_bias, 1 } },
    { "v3 groups softmax no bias top6", { 64, 6, 0, 0, 1.0, 8, 3, NULL, 1 } },
    { "sigmoid+bias no groups top4 renorm", { 64, 4, 1, 1, 1.0, 0, 0, g_bias, 0 } },
};
#define N_ROUTERS (sizeof g_routers / sizeof g_routers[0])

/* NaN router logits (an overflowed hidden state), per token t: none (t % 4 == 0), one, the whole
 * row, two; the reference ranks NaN above every number, as torch.topk does. Ids must stay in
 * range: a NaN ranked nowhere left the shader's index at 0xffffffff and its next shared-memory
 * store out of bounds (lavapipe crashed). */
static int g_nan_logits;
static void poison_logits(uint32_t n_tok, uint32_t n_exp, float *l)
{
    if (!g_nan_logits) return;
    for (uint32_t t = 0; t < n_tok; t++) {
        float *row = l + (uint64_t)t * n_exp;
        if (t % 4 == 1) row[(t * 7) % n_exp] = NAN;
        if (t % 4 == 2)
            for (uint32_t e = 0; e < n_exp; e++) row[e] = NAN;
        if (t % 4 == 3) {
            row[(t * 5) % n_exp] = NAN;
            row[(t * 5 + n_exp / 2) % n_exp] = NAN;
        }
    }
}

/* Every router variant at n_tok 1, 7, 64. */
static void test_gate_variants(void **state)
{
    uint64_t seed = 0x6a7e;
    init_bias();
    for (size_t ci = 0; ci < N_ROUTERS; ci++)
        for (size_t ti = 0; ti < N_NTOKS; ti++) {
            uint32_t n_tok = g_ntoks[ti], n_exp = g_routers[ci].r.n_exp;
            float *l = malloc((uint64_t)n_tok * n_exp * 4);
            make_logits(&seed, n_tok, n_exp, l);
            poison_logits(n_tok, n_exp, l);
            check_gate(g_routers[ci].name, &g_routers[ci].r, n_tok, l);
            free(l);
        }
}

/* Equal scores: the lower expert (and group) index wins, as the reference. */
static void test_gate_ties(void **state)
{
    const uint32_t n_exp = 32, n_tok = 3;
    float l[3 * 32];
    for (uint32_t e = 0; e < n_exp; e++) {
        l[e] = 0.0f;                           /* token 0: all equal -> ids 0..k-1 */
        l[n_exp + e] = (float)(e / 4) * -0.5f; /* token 1: runs of 4 equal values, best run first */
        l[2 * n_exp + e] = (float)(e % 8);     /* token 2: every group (of 8) has the same max */
    }
    struct ref_moe_router plain = { n_exp, 6, 0, 1, 1.0, 0, 0 }, grouped = { n_exp, 6, 1, 0, 1.0, 4, 2 };
    check_gate("ties softmax", &plain, n_tok, l);
    check_gate("ties sigmoid grouped", &grouped, n_tok, l);
    int32_t ids[3 * 6];
    float w[3 * 6];
    for (int sg = 0; sg < N_TIERS; sg++) {
        if (!set_tier(sg)) continue;
        gpu_gate(&plain, n_tok, l, ids, w);
        for (int j = 0; j < 6; j++) assert_int_equal(ids[j], j);
    }
    restore_tier();
}

/* Skewed routing: slot 0 of every token goes to expert `all`, the other
 * slots to distinct experts of [lo, lo + span); every other expert gets none. */
static void skewed_ids(uint64_t *seed, uint32_t n_tok, uint32_t k, int32_t all, int32_t lo, uint32_t span, int32_t *ids)
{
    for (uint32_t t = 0; t < n_tok; t++) {
        ids[t * k] = all;
        for (uint32_t j = 1; j < k; j++) {
            int32_t e, dup;
            do {
                e = lo + (int32_t)(rng_next(seed) % span);
                dup = 0;
                for (uint32_t q = 0; q < j; q++) dup |= ids[t * k + q] == e;
            } while (dup);
            ids[t * k + j] = e;
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The tile list: ceil(count / tile) entries (expert | tile << 10) per expert, in expert order. */
static void check_tiles(const char *what, uint32_t n_exp, const uint32_t *cnt, const uint32_t *route)
{
    uint32_t at = 0;
    const uint32_t *tiles = route + 3 * n_exp + 1;
    for (uint32_t e = 0; e < n_exp; e++)
        for (uint32_t q = 0; q * VKG_MOE_TILE < cnt[e]; q++, at++)
            if (tiles[at] != (e | q << 10))
                fail_msg("%s: tile %u is %#x, want expert %u tile %u", what, at, tiles[at], e, q);
    if (route[3 * n_exp] != at) fail_msg("%s: %u tiles, want %u", what, route[3 * n_exp], at);
}

/* GPU counts and offsets equal the reference; each expert's list holds exactly its pairs. */
static void check_route(const char *what, const int32_t *ids, uint32_t n_pairs, uint32_t n_exp, const uint32_t *route,
                        uint32_t *list)
{
    uint32_t *cnt = malloc(n_exp * 4), *off = malloc(n_exp * 4);
    ref_moe_count(ids, n_pairs, n_exp, cnt, off);
    for (uint32_t e = 0; e < n_exp; e++) {
        if (route[e] != cnt[e] || route[n_exp + e] != off[e] || route[2 * n_exp + e] != off[e] + cnt[e])
            fail_msg("%s: expert %u: count %u offset %u cursor %u, want %u %u %u", what, e, route[e], route[n_exp + e],
                     route[2 * n_exp + e], cnt[e], off[e], off[e] + cnt[e]);
        qsort(list + off[e], cnt[e], 4, cmp_u32);
        uint32_t at = off[e];
        for (uint32_t p = 0; p < n_pairs; p++)
            if ((uint32_t)ids[p] == e && list[at++] != p)
                fail_msg("%s: expert %u: list entry %u is pair %u, want %u", what, e, at - 1, list[at - 1], p);
    }
    check_tiles(what, n_exp, cnt, route);
    free(cnt);
    free(off);
}

static void run_group(const char *what, const int32_t *ids, uint32_t n_pairs, uint32_t n_exp)
{
    struct vkg_buffer *bi = gpu_buffer_from(ids, n_pairs * 4, "moe ids");
    uint64_t rb = vkg_moe_route_bytes(n_exp, n_pairs);
    struct vkg_buffer *br = gpu_buffer_from(NULL, rb, "moe route");
    struct vkg_buffer *bl = gpu_buffer_from(NULL, n_pairs * 4 + 4, "moe list");
    uint32_t *route = malloc(rb), *list = malloc(n_pairs * 4 + 4);
    struct vkg_cmd *c = begin();
    GPU_OK(vkg_op_moe_group(c, n_pairs, n_exp, vkg_buffer_view(bi), vkg_buffer_view(br), vkg_buffer_view(bl)));
    finish(c);
    gpu_read(br, route, rb);
    gpu_read(bl, list, n_pairs * 4);
    check_route(what, ids, n_pairs, n_exp, route, list);
    vkg_buffer_free(bi);
    vkg_buffer_free(br);
    vkg_buffer_free(bl);
    free(route);
    free(list);
    gpu_assert_no_validation();
}

/* Some experts get no token, one gets every token; 512 experts; many pairs. Up to
 * VKG_MOE_GROUP1_MAX_PAIRS pairs take moe_group1 (one workgroup), more the three kernels. */
static void test_group(void **state)
{
    uint64_t seed = 0x960;
    static const uint32_t ks[] = { 1, 2, 6, 8 };
    for (size_t ti = 0; ti < N_NTOKS; ti++)
        for (size_t ki = 0; ki < 4; ki++) {
            uint32_t n_tok = g_ntoks[ti], k = ks[ki];
            int32_t *ids = malloc((uint64_t)n_tok * k * 4);
            char what[64];
            skewed_ids(&seed, n_tok, k, 63, 10, 12, ids);
            snprintf(what, sizeof what, "group n_tok=%u k=%u", n_tok, k);
            run_group(what, ids, n_tok * k, 64);
            free(ids);
        }
    /* the one-workgroup grouping (moe_group1) at its limit, over 512 experts */
    int32_t *ids1 = malloc(VKG_MOE_GROUP1_MAX_PAIRS * 4);
    for (uint32_t p = 0; p < VKG_MOE_GROUP1_MAX_PAIRS; p++) ids1[p] = (int32_t)(rng_next(&seed) % 512);
    run_group("group 2048 pairs over 512 experts", ids1, VKG_MOE_GROUP1_MAX_PAIRS, 512);
    free(ids1);
    uint32_t n_pairs = 4096 * 8; /* prefill-sized: uniform over 512 experts (count, scan, scatter) */
    int32_t *ids = malloc(n_pairs * 4);
    for (uint32_t p = 0; p < n_pairs; p++) ids[p] = (int32_t)(rng_next(&seed) % 512);
    run_group("group 32768 pairs over 512 experts", ids, n_pairs, 512);
    free(ids);
}

/* vkg_op_moe_gate_group (router and grouping in one launch, moe_gate_group_sg, up to
 * VKG_MOE_GATE_GROUP_MAX_TOK tokens on the subgroup tier; else the two ops): ids and weights
 * as the reference router's, route and list as the reference grouping of those ids, for
 * every router variant, with route and list inside larger buffers (their offsets), on every
 * tier, at the one-launch limit and one token past it. */
static void test_gate_group(void **state)
{
    static const uint32_t ntoks[] = { 1, 7, 32, VKG_MOE_GATE_GROUP_MAX_TOK, VKG_MOE_GATE_GROUP_MAX_TOK + 1 };
    uint64_t seed = 0x6a7f;
    init_bias();
    int fused_seen = 0;
    for (size_t ci = 0; ci < N_ROUTERS; ci++)
        for (size_t ti = 0; ti < sizeof ntoks / sizeof ntoks[0]; ti++) {
            const struct ref_moe_router *r = &g_routers[ci].r;
            uint32_t n_tok = ntoks[ti], n_exp = r->n_exp, np = n_tok * r->k;
            uint64_t rb = vkg_moe_route_bytes(n_exp, np);
            float *l = malloc((uint64_t)n_tok * n_exp * 4), *rw = malloc(np * 4), *gw = malloc(np * 4);
            int32_t *ri = malloc(np * 4), *gi = malloc(np * 4);
            uint32_t *route = malloc(rb), *list = malloc(np * 4);
            make_logits(&seed, n_tok, n_exp, l);
            poison_logits(n_tok, n_exp, l);
            ref_moe_gate(r, n_tok, l, ri, rw);
            /* runs 0 .. N_TIERS - 1: the tiers; N_TIERS: the subgroup tier with VKGRM_DISABLE_GATE_GROUP's effect */
            int gg_saved = g_dev->use.gate_group;
            for (int run = 0; run <= N_TIERS; run++) {
                int sg = run < N_TIERS ? run : 1;
                if (!set_tier(sg)) continue;
                g_dev->use.gate_group = run < N_TIERS ? gg_saved : 0;
                struct vkg_moe_router g = to_gpu(r);
                struct vkg_buffer *bb = NULL;
                if (r->bias) {
                    bb = gpu_buffer_from(r->bias, r->n_exp * 4, "moe bias");
                    g.bias = vkg_buffer_view(bb);
                }
                struct vkg_buffer *bl = gpu_buffer_from(l, (uint64_t)n_tok * n_exp * 4, "moe logits");
                struct vkg_buffer *bi = gpu_buffer_from(NULL, np * 4, "moe ids");
                struct vkg_buffer *bw = gpu_buffer_from(NULL, np * 4, "moe weights");
                struct vkg_buffer *br = gpu_buffer_from(NULL, 12 + rb, "moe route");    /* 12 bytes in: route_off */
                struct vkg_buffer *bls = gpu_buffer_from(NULL, 8 + np * 4, "moe list"); /* 8 bytes in: list_off */
                struct vkg_view vr = vkg_view_sub(vkg_buffer_view(br), 12, rb);
                struct vkg_view vl = vkg_view_sub(vkg_buffer_view(bls), 8, np * 4);
                struct vkg_cmd *c = begin();
                GPU_OK(vkg_op_moe_gate_group(c, &g, n_tok, vkg_buffer_view(bl), vkg_buffer_view(bi),
                                             vkg_buffer_view(bw), vr, vl));
                int fused = c->last_kernel && !strcmp(c->last_kernel, "moe_gate_group_sg");
                finish(c);
                /* one launch exactly where promised: subgroup tiers, up to the limit */
                int want = sg > 0 && g_dev->use.subgroup_arith && g_dev->use.gate_group &&
                           g_dev->info.subgroup_max_size >= 8 && g_dev->info.subgroup_max_size <= 64 &&
                           n_tok <= VKG_MOE_GATE_GROUP_MAX_TOK;
                char what[200];
                snprintf(what, sizeof what, "gate_group %s tier %d%s n_tok=%u%s", g_routers[ci].name, sg,
                         run == N_TIERS ? " (gate_group off)" : "", n_tok, fused ? " (one launch)" : "");
                if (fused != want) fail_msg("%s: one launch %d, expected %d", what, fused, want);
                fused_seen |= fused;
                gpu_read(bi, gi, np * 4);
                gpu_read(bw, gw, np * 4);
                GPU_OK(vkg_buffer_download(g_dev, vr, route, rb));
                GPU_OK(vkg_buffer_download(g_dev, vl, list, np * 4));
                for (uint32_t i = 0; i < np; i++)
                    if (gi[i] != ri[i])
                        fail_msg("%s: token %u slot %u: expert %d, reference %d", what, i / r->k, i % r->k, gi[i],
                                 ri[i]);
                assert_close_f32(what, gw, rw, np, 1e-7f, 2e-6f);
                check_route(what, ri, np, n_exp, route, list);
                vkg_buffer_free(bl);
                vkg_buffer_free(bi);
                vkg_buffer_free(bw);
                vkg_buffer_free(br);
                vkg_buffer_free(bls);
                vkg_buffer_free(bb);
                gpu_assert_no_validation();
            }
            g_dev->use.gate_group = gg_saved;
            restore_tier();
            free(l);
            free(rw);
            free(gw);
            free(ri);
            free(gi);
            free(route);
            free(list);
        }
    if (g_dev->use.subgroup_arith && g_dev->use.gate_group && g_dev->info.subgroup_max_size >= 8 &&
        g_dev->info.subgroup_max_size <= 64)
        assert_true(fused_seen);
}

/* Both router launches on NaN logits (poison_logits): ids as the reference's (every one a real
 * expert, none twice), NaN weights where the reference has them, route and list consistent. */
static void test_gate_nan(void **state)
{
    g_nan_logits = 1;
    test_gate_variants(state);
    test_gate_group(state);
    g_nan_logits = 0;
}

/* Host weights as f32 values exactly representable in dtype, and their device bytes. */
/* Random Q8_0 / Q4 blocks (scales in [amp/128, amp/64)) and their decoded values. */
static struct vkg_buffer *quant_buffer(uint64_t *seed, float *w, uint64_t n, int q4, float amp, const char *name)
{
    uint64_t bb = q4 ? 18 : 34, bytes = n / 32 * bb;
    uint8_t *q = calloc(1, (bytes + 3) & ~3ull);
    for (uint64_t b = 0; b < n / 32; b++) {
        uint16_t d = ref_f32_to_f16(rng_uniform(seed, amp / 128, amp / 64));
        q[b * bb] = (uint8_t)d;
        q[b * bb + 1] = (uint8_t)(d >> 8);
        for (uint64_t i = 2; i < bb; i++) q[b * bb + i] = (uint8_t)rng_next(seed);
    }
    ref_moe_dequant(q, n, q4, w);
    struct vkg_buffer *buf = gpu_buffer_from(q, (bytes + 3) & ~3ull, name);
    free(q);
    return buf;
}

/* Random blocks of ggml's Q4_1 ... Q6_K (random bytes, random f16 scales of
 * both signs) and their values as ggml dequantizes them. */
static struct vkg_buffer *ggml_buffer(uint64_t *seed, float *w, uint64_t n, enum vkg_dtype dt, const char *name)
{
    uint64_t bytes = n / vkg_dtype_block_size(dt) * vkg_dtype_block_bytes(dt);
    uint8_t *q = calloc(1, (bytes + 3) & ~3ull);
    rng_fill_ggml_blocks(seed, dt, q, bytes);
    ref_ggml_dequantize(dt, q, n, w);
    struct vkg_buffer *buf = gpu_buffer_from(q, (bytes + 3) & ~3ull, name);
    free(q);
    return buf;
}

static struct vkg_buffer *weights_buffer(uint64_t *seed, float *w, uint64_t n, enum vkg_dtype dt, float amp,
                                         const char *name)
{
    if (dt == VKG_DTYPE_Q8_0 || dt == VKG_DTYPE_Q4) return quant_buffer(seed, w, n, dt == VKG_DTYPE_Q4, amp, name);
    if (vkg_dtype_block_size(dt) > 1) return ggml_buffer(seed, w, n, dt, name);
    uint16_t *h = dt == VKG_DTYPE_F32 ? NULL : malloc(n * 2);
    for (uint64_t i = 0; i < n; i++) {
        w[i] = rng_uniform(seed, -amp, amp);
        if (dt == VKG_DTYPE_F16) {
            h[i] = ref_f32_to_f16(w[i]);
            w[i] = ref_f16_to_f32(h[i]);
        }
        if (dt == VKG_DTYPE_BF16) {
            h[i] = ref_f32_to_bf16(w[i]);
            w[i] = ref_bf16_to_f32(h[i]);
        }
    }
    struct vkg_buffer *b = gpu_buffer_from(h ? (void *)h : (void *)w, n * (h ? 2 : 4), name);
    free(h);
    return b;
}

/* Each token row within 1e-4 of the row's largest |value|. */
static void assert_rows_close(const char *what, const float *got, const float *want, uint32_t n_tok, uint32_t n_in)
{
    for (uint32_t t = 0; t < n_tok; t++) {
        float mx = 0;
        for (uint32_t i = 0; i < n_in; i++) mx = fmaxf(mx, fabsf(want[(uint64_t)t * n_in + i]));
        char w[160];
        snprintf(w, sizeof w, "%s token %u (row max %.3g)", what, t, mx);
        assert_close_f32(w, got + (uint64_t)t * n_in, want + (uint64_t)t * n_in, n_in, 1e-4f * mx + 1e-30f, 0);
    }
}

/* One MoE layer's device state. */
struct moe_dev {
    struct vkg_moe_weights w;
    struct vkg_buffer *bg, *bu, *bd, *ids, *wts, *route, *list, *x, *h, *y, *out;
};

static void moe_dev_alloc(struct moe_dev *m, uint32_t n_tok, uint32_t k, const float *x)
{
    uint64_t pairs = (uint64_t)n_tok * k;
    m->ids = gpu_buffer_from(NULL, pairs * 4, "moe ids");
    m->wts = gpu_buffer_from(NULL, pairs * 4, "moe weights");
    m->route = gpu_buffer_from(NULL, vkg_moe_route_bytes(m->w.n_exp, pairs), "moe route");
    m->list = gpu_buffer_from(NULL, pairs * 4, "moe list");
    m->x = gpu_buffer_from(x, (uint64_t)n_tok * m->w.n_in * 4, "moe x");
    m->h = gpu_buffer_from(NULL, pairs * m->w.n_ff * 4, "moe h");
    m->y = gpu_buffer_from(NULL, pairs * m->w.n_in * 4, "moe y");
    m->out = gpu_buffer_from(NULL, (uint64_t)n_tok * m->w.n_in * 4, "moe out");
}

/* Frees the per-batch buffers (weights too when `weights`). */
static void moe_dev_free(struct moe_dev *m, int weights)
{
    struct vkg_buffer **all[] = { &m->ids, &m->wts, &m->route, &m->list, &m->x, &m->h,
                                  &m->y,   &m->out, &m->bg,    &m->bu,   &m->bd };
    for (size_t i = 0; i < (weights ? 11u : 8u); i++) {
        vkg_buffer_free(*all[i]);
        *all[i] = NULL;
    }
}

/* Records group -> experts -> combine for ids/weights already in m->ids, m->wts
 * (the caller orders dependent ops: a barrier between each two, ops.h). */
static void record_experts(struct vkg_cmd *c, struct moe_dev *m, uint32_t n_tok, uint32_t k)
{
    GPU_OK(vkg_op_moe_group(c, n_tok * k, m->w.n_exp, vkg_buffer_view(m->ids), vkg_buffer_view(m->route),
                            vkg_buffer_view(m->list)));
    vkg_cmd_barrier(c);
    GPU_OK(vkg_op_moe_experts(c, &m->w, n_tok, k, vkg_buffer_view(m->x), vkg_buffer_view(m->route),
                              vkg_buffer_view(m->list), vkg_buffer_view(m->h), vkg_buffer_view(m->y),
                              (struct vkg_view){ 0 }));
    vkg_cmd_barrier(c);
    GPU_OK(vkg_op_moe_combine(c, n_tok, k, m->w.n_in, vkg_buffer_view(m->y), vkg_buffer_view(m->wts),
                              vkg_buffer_view(m->out), 0));
}

static int is_float(enum vkg_dtype dt) { return dt == VKG_DTYPE_F32 || dt == VKG_DTYPE_F16 || dt == VKG_DTYPE_BF16; }

/* A copy of an expert stack (n_exp matrices of rows x n_in) with each expert's matrix in 8-row
 * tiles, laid out by the reference tiler (ref_tile_rows, from the layout's definition): float
 * types by texels, block types by 256-value units (one K-quant block, 8 of the others). */
static struct vkg_buffer *tiled_stack(struct vkg_buffer *b, enum vkg_dtype dt, uint32_t n_exp, uint32_t rows,
                                      uint32_t n_in)
{
    int fl = is_float(dt);
    uint32_t es = dt == VKG_DTYPE_F32 ? 4 : fl ? 2 : 1;
    uint32_t rb = fl ? n_in : n_in / vkg_dtype_block_size(dt) * (uint32_t)vkg_dtype_block_bytes(dt); /* elements */
    uint32_t g = fl ? 16 / es : 256 / vkg_dtype_block_size(dt) * (uint32_t)vkg_dtype_block_bytes(dt);
    uint64_t per = (uint64_t)rows * rb * es, n = per * n_exp;
    uint8_t *src = malloc(n), *dst = malloc(n);
    gpu_read(b, src, n);
    for (uint32_t e = 0; e < n_exp; e++)
        if (dt == VKG_DTYPE_Q6_K) ref_tile_q6k(dst + e * per, src + e * per, rows, n_in / 256); /* split fields */
        else ref_tile_rows(dst + e * per, src + e * per, rows, rb, es, g);
    struct vkg_buffer *t = gpu_buffer_from(dst, n, "moe tiled stack");
    free(src);
    free(dst);
    return t;
}

/* Which stacks moe_lane reads in 8-row tiles: float rows of 8k values, block-type rows of 256k (Q6_K:
 * whole tiles of 8 rows); the loader's choice (vkg_op_moe_tileable) leaves Q8_0 out */
static int tileable(enum vkg_dtype dt, uint32_t rows, uint32_t K)
{
    return is_float(dt) ? K % 8 == 0 : K % 256 == 0 && (dt != VKG_DTYPE_Q6_K || rows % 8 == 0);
}

/* Random gate, up (dt) and down (dt_down) stacks of n_exp experts into m's buffers and weights, their
 * values (as the GPU decodes them) into g, u, d (n_exp x n_ff x n_in floats each). */
static void moe_dev_weights(struct moe_dev *m, uint64_t *seed, enum vkg_dtype dt, enum vkg_dtype dt_down,
                            uint32_t n_exp, uint32_t n_in, uint32_t n_ff, float *g, float *u, float *d)
{
    uint64_t mat = (uint64_t)n_exp * n_ff * n_in;
    m->w = (struct vkg_moe_weights){ .dtype = dt, .n_exp = n_exp, .n_in = n_in, .n_ff = n_ff, .dtype_down = dt_down };
    m->bg = weights_buffer(seed, g, mat, dt, 0.3f, "moe gate");
    m->bu = weights_buffer(seed, u, mat, dt, 0.3f, "moe up");
    m->bd = weights_buffer(seed, d, mat, dt_down, 0.3f, "moe down");
    m->w.gate = vkg_buffer_view(m->bg);
    m->w.up = vkg_buffer_view(m->bu);
    m->w.down = vkg_buffer_view(m->bd);
}

/* Routed experts with skewed ids (expert 3 gets every token; 0..2, 4, 13..15
 * none) for n_tok 1, 7, 64 and k 1, 2, 6; dims not multiples of the tiles
 * (Q8_0/Q4: multiples of the 32-value block). */
static void check_experts_mixed(enum vkg_dtype dt, enum vkg_dtype dt_down, uint32_t n_in, uint32_t n_ff)
{
    const uint32_t n_exp = 16;
    static const uint32_t ks[] = { 1, 2, 6 };
    uint64_t seed = 0xe4 + (uint64_t)dt, mat = (uint64_t)n_exp * n_ff * n_in;
    float *g = malloc(mat * 4), *u = malloc(mat * 4), *d = malloc(mat * 4);
    struct moe_dev m = { 0 };
    moe_dev_weights(&m, &seed, dt, dt_down, n_exp, n_in, n_ff, g, u, d);
    /* the stacks again in 8-row tiles per expert (as models on CPU drivers load them; block types
     * with rows of 256k values, Q6_K in split tiles): read by moe_lane only (tier 2), refused by the others */
    struct moe_dev tl = m;
    struct vkg_buffer *tg = NULL, *tu = NULL, *td = NULL;
    tl.w.tiled = tileable(dt, n_ff, n_in);
    tl.w.tiled_down = tileable(dt_down, n_in, n_ff);
    if (tl.w.tiled) {
        tg = tiled_stack(m.bg, dt, n_exp, n_ff, n_in);
        tu = tiled_stack(m.bu, dt, n_exp, n_ff, n_in);
        tl.w.gate = vkg_buffer_view(tg);
        tl.w.up = vkg_buffer_view(tu);
    }
    if (tl.w.tiled_down) {
        td = tiled_stack(m.bd, dt_down, n_exp, n_in, n_ff);
        tl.w.down = vkg_buffer_view(td);
    }
    int lane = g_dev->use.texel && g_dev->use.lane_ok && g_dev->use.quad;
    for (size_t ti = 0; ti < N_NTOKS; ti++)
        for (size_t ki = 0; ki < 3; ki++) {
            uint32_t n_tok = g_ntoks[ti], k = ks[ki], pairs = n_tok * k;
            float *x = malloc((uint64_t)n_tok * n_in * 4), *w = malloc(pairs * 4);
            float *got = malloc((uint64_t)n_tok * n_in * 4), *want = malloc((uint64_t)n_tok * n_in * 4);
            int32_t *ids = malloc(pairs * 4);
            rng_fill_f32(&seed, x, (uint64_t)n_tok * n_in, -1, 1);
            rng_fill_f32(&seed, w, pairs, 0.05f, 1);
            skewed_ids(&seed, n_tok, k, 3, 5, 8, ids);
            ref_moe_ffn(n_tok, k, n_in, n_ff, x, ids, w, g, u, d, want);
            moe_dev_alloc(&m, n_tok, k, x);
            GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m.ids), ids, pairs * 4));
            GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m.wts), w, pairs * 4));
            for (int sg = 0; sg < N_TIERS; sg++) {
                if (!set_tier(sg)) continue;
                struct vkg_cmd *c = begin();
                record_experts(c, &m, n_tok, k);
                finish(c);
                gpu_read(m.out, got, (uint64_t)n_tok * n_in * 4);
                char what[96];
                snprintf(what, sizeof what, "experts %s%s n_tok=%u k=%u", vkg_dtype_name(dt), sg ? " subgroup" : "",
                         n_tok, k);
                assert_rows_close(what, got, want, n_tok, n_in);
            }
            restore_tier();
            if ((tl.w.tiled || tl.w.tiled_down) && set_tier(2) && lane) {
                tl.ids = m.ids, tl.wts = m.wts, tl.route = m.route, tl.list = m.list;
                tl.x = m.x, tl.h = m.h, tl.y = m.y, tl.out = m.out;
                struct vkg_cmd *c = begin();
                vkg_cmd_fill(c, vkg_buffer_view(m.out), 0x7fc00000u); /* NaN: a row left unwritten fails */
                vkg_cmd_barrier(c);
                record_experts(c, &tl, n_tok, k);
                finish(c);
                gpu_read(m.out, got, (uint64_t)n_tok * n_in * 4);
                char what[96];
                snprintf(what, sizeof what, "experts %s/%s tiled%s%s n_tok=%u k=%u", vkg_dtype_name(dt),
                         vkg_dtype_name(dt_down), tl.w.tiled ? " gate/up" : "", tl.w.tiled_down ? " down" : "", n_tok,
                         k);
                assert_rows_close(what, got, want, n_tok, n_in);
                if (ti == 0 && ki == 0 && set_tier(1)) { /* the storage-buffer tiers cannot read tiles */
                    c = begin();
                    assert_int_equal(vkg_op_moe_experts(c, &tl.w, n_tok, k, vkg_buffer_view(m.x),
                                                        vkg_buffer_view(m.route), vkg_buffer_view(m.list),
                                                        vkg_buffer_view(m.h), vkg_buffer_view(m.y),
                                                        (struct vkg_view){ 0 }),
                                     VKG_ERR_UNSUPPORTED);
                    assert_non_null(strstr(vkg_error_detail(), "8-row tiles"));
                    vkg_cmd_free(c);
                }
            }
            restore_tier();
            moe_dev_free(&m, 0);
            free(x);
            free(w);
            free(got);
            free(want);
            free(ids);
            gpu_assert_no_validation();
        }
    moe_dev_free(&m, 1);
    vkg_buffer_free(tg);
    vkg_buffer_free(tu);
    vkg_buffer_free(td);
    free(g);
    free(u);
    free(d);
}

static void check_experts_dims(enum vkg_dtype dt, uint32_t n_in, uint32_t n_ff)
{
    check_experts_mixed(dt, dt, n_in, n_ff);
}

/* Float weights: dims that are not multiples of 8 (one value per load), then
 * multiples of 8 (the 16-byte-vector path, p.vec; tiled stacks in whole tiles), then one of
 * each (only the stack whose rows are multiples of 8 values is tiled, with a partial last tile),
 * then multiples of 16 (moe_lane1 walks K 16 columns per step: 72 and 104 end on a half step). */
static void check_experts(enum vkg_dtype dt)
{
    uint32_t bs = vkg_dtype_block_size(dt); /* 1, 32, or 256 (K-quants) */
    if (bs == 1) {
        check_experts_dims(dt, 70, 101);
        check_experts_dims(dt, 72, 104);
        check_experts_dims(dt, 72, 100);
        check_experts_dims(dt, 100, 72);
        check_experts_dims(dt, 64, 96);
    } else {
        check_experts_dims(dt, bs == 256 ? 256 : 96, bs == 256 ? 512 : 160);
        if (bs == 32) check_experts_dims(dt, 256, 512); /* rows of 256k values: tiled stacks too */
    }
}

static void test_experts_f32(void **state) { check_experts(VKG_DTYPE_F32); }
static void test_experts_f16(void **state) { check_experts(VKG_DTYPE_F16); }
static void test_experts_bf16(void **state) { check_experts(VKG_DTYPE_BF16); }
static void test_experts_q8_0(void **state) { check_experts(VKG_DTYPE_Q8_0); }
static void test_experts_q4(void **state) { check_experts(VKG_DTYPE_Q4); }
static void test_experts_q4_1(void **state) { check_experts(VKG_DTYPE_Q4_1); }
static void test_experts_q5_0(void **state) { check_experts(VKG_DTYPE_Q5_0); }
static void test_experts_q5_1(void **state) { check_experts(VKG_DTYPE_Q5_1); }
static void test_experts_q4_k(void **state) { check_experts(VKG_DTYPE_Q4_K); }
static void test_experts_q5_k(void **state) { check_experts(VKG_DTYPE_Q5_K); }
static void test_experts_q6_k(void **state) { check_experts(VKG_DTYPE_Q6_K); }
/* gate/up and down of different types, as llama.cpp's Q4_K_M writes MoE
 * layers (Q4_K gate/up, Q6_K down) and a float/block pair */
static void test_experts_mixed(void **state)
{
    check_experts_mixed(VKG_DTYPE_Q4_K, VKG_DTYPE_Q6_K, 256, 512);
    check_experts_mixed(VKG_DTYPE_F16, VKG_DTYPE_Q8_0, 96, 160);
    /* gate/up in tiles whose last holds 4 rows (n_ff 100), next to an F16 down that is not tiled */
    check_experts_mixed(VKG_DTYPE_Q4_K, VKG_DTYPE_F16, 256, 100);
    check_experts_mixed(VKG_DTYPE_Q5_0, VKG_DTYPE_F16, 512, 100);
}

/* Router -> grouping -> experts -> combine -> shared expert, all recorded in
 * one command buffer: DeepSeek-V2-style routing (softmax, group-limited top-6,
 * scaled), BF16 routed experts, F16 shared experts (n_ff doubled). */
/* The 8-bit x of dt's experts on CPU drivers (llama.cpp's vec_dot_type of each): xq_q8_0, Q8_0 / Q8_1
 * blocks (the 32-value types but Q8_0); xq_f32, Q8_0's values written back as floats (Q8_0 experts,
 * whose float-x kernels read them); xq_fmt_any, those or Q8_K (the K-quants) */
static int xq_q8_0(enum vkg_dtype dt)
{
    return dt == VKG_DTYPE_Q4 || dt == VKG_DTYPE_Q4_1 || dt == VKG_DTYPE_Q5_0 || dt == VKG_DTYPE_Q5_1;
}
static int xq_f32(enum vkg_dtype dt) { return dt == VKG_DTYPE_Q8_0; }
static int xq_fmt_any(enum vkg_dtype dt)
{
    return xq_q8_0(dt) || xq_f32(dt) || dt == VKG_DTYPE_Q4_K || dt == VKG_DTYPE_Q5_K || dt == VKG_DTYPE_Q6_K;
}
/* words of one row of K values in the format of dt's experts (float ones: as Q8_K, the scratch
 * vkg_op_moe_xq_bytes sizes) */
static uint64_t xq_row_words(enum vkg_dtype dt, uint32_t K)
{
    return xq_f32(dt)    ? K
           : xq_q8_0(dt) ? (uint64_t)K / 32 * VKG_XQ8_0_BLOCK_WORDS
                         : (uint64_t)K / 256 * VKG_XQ8_BLOCK_WORDS;
}

/* Q8_0F scratch words: the same float value (a q of 0 from a negative x may come out as -0) */
static int same_value(uint32_t a, uint32_t b)
{
    float fa, fb;
    memcpy(&fa, &a, 4);
    memcpy(&fb, &b, 4);
    return fa == fb;
}

/* An expert pass over dt experts recorded in c with the XQ8 scratch bq and submitted here: its last
 * launch's name ends in want (NULL: float x, nothing checked), the scratch then holds the pass's n_rows
 * input rows of K values word for word as the reference quantizes them (ref_quantize_xq8: Q8_K;
 * ref_quantize_xq8_0: the 32-value types' Q8_0 / Q8_1, and for Q8_0 experts its dequantized values
 * as floats); deq gets those rows as it dequantizes them. */
static void check_xq_pass(const char *what, struct vkg_cmd *c, const char *want, enum vkg_dtype dt,
                          struct vkg_buffer *bq, const float *rows, uint32_t n_rows, uint32_t K, uint32_t *qwant,
                          uint32_t *qgot, float *deq)
{
    const char *last = c->last_kernel ? c->last_kernel : "none";
    size_t ll = strlen(last), wl = want ? strlen(want) : 0;
    if (want && (ll < wl || strcmp(last + ll - wl, want) != 0))
        fail_msg("%s with a scratch: the last kernel was %s, want *%s", what, last, want);
    finish(c);
    uint64_t qk = xq_row_words(dt, K);
    for (uint32_t r = 0; r < n_rows; r++) {
        if (xq_f32(dt)) {
            ref_quantize_xq8_0(rows + (uint64_t)r * K, K, NULL, deq + (uint64_t)r * K);
            memcpy(qwant + r * qk, deq + (uint64_t)r * K, (size_t)K * 4);
        } else if (xq_q8_0(dt)) ref_quantize_xq8_0(rows + (uint64_t)r * K, K, qwant + r * qk, deq + (uint64_t)r * K);
        else ref_quantize_xq8(rows + (uint64_t)r * K, K, qwant + r * qk, deq + (uint64_t)r * K);
    }
    if (!want) return;
    gpu_read(bq, qgot, n_rows * qk * 4);
    for (uint64_t i = 0; i < n_rows * qk; i++)
        if (qgot[i] != qwant[i] && !(xq_f32(dt) && same_value(qgot[i], qwant[i])))
            fail_msg("%s: scratch word %llu (row %llu): got 0x%08x, want 0x%08x", what, (unsigned long long)i,
                     (unsigned long long)(i / qk), qgot[i], qwant[i]);
}

/* Q4_1 / Q5_1 experts on Q8_1 x: llama.cpp's m s term per block, s = f16(d sum q), where the
 * reference on the dequantized x sums m f16(d) sum q; the difference for row r of expert e of the
 * row-major stack raw (K values per row) against the float input row xr (ref_xq8_1_fix; 0 for the
 * other types) */
static double xq8_1_fix(const uint8_t *raw, enum vkg_dtype dt, uint64_t e, uint32_t rows, uint32_t r, uint32_t K,
                        const float *xr)
{
    if (dt != VKG_DTYPE_Q4_1 && dt != VKG_DTYPE_Q5_1) return 0;
    uint64_t rb = (uint64_t)K / 32 * vkg_dtype_block_bytes(dt);
    float y = 0;
    ref_xq8_1_fix(raw + (e * rows + r) * rb, dt, 1, K, xr, K, 1, &y, 1);
    return y;
}

/* The edge block of the 32-value types' integer sums: block 0 of row 0 of every expert's gate matrix
 * (a Q4 ... Q5_1 stack of n_exp x n_ff rows of n_in values, dequantized values in g) with the largest
 * values (15; 31 with every fifth bit set), against a token whose block quantizes to 127 throughout:
 * Q5's 16 products per half-block then pass 2^15, which reading them out every 2 words keeps under */
static void max_block0(struct moe_dev *m, enum vkg_dtype dt, uint32_t n_exp, uint32_t n_ff, uint32_t n_in, float *g)
{
    uint32_t bb = vkg_dtype_block_bytes(dt), hdr = dt == VKG_DTYPE_Q4 || dt == VKG_DTYPE_Q5_0 ? 2 : 4;
    uint64_t rb = (uint64_t)n_in / 32 * bb, bytes = ((uint64_t)n_exp * n_ff * rb + 3) & ~3ull;
    uint8_t *w = malloc(bytes);
    gpu_read(m->bg, w, bytes);
    for (uint32_t e = 0; e < n_exp; e++) {
        uint8_t *blk = w + (uint64_t)e * n_ff * rb; /* block 0 of expert e's row 0 */
        memset(blk + hdr, 0xff, bb - hdr);          /* qh (Q5) and qs */
        ref_ggml_dequantize(dt, blk, 32, g + (uint64_t)e * n_ff * n_in);
    }
    GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m->bg), w, bytes));
    free(w);
}

/* The row-major device bytes of a Q4_1 / Q5_1 stack b of n values (NULL for other types) */
static uint8_t *raw_q8_1(struct vkg_buffer *b, enum vkg_dtype dt, uint64_t n)
{
    if (dt != VKG_DTYPE_Q4_1 && dt != VKG_DTYPE_Q5_1) return NULL;
    uint64_t bytes = n / 32 * vkg_dtype_block_bytes(dt);
    uint8_t *r = malloc((bytes + 3) & ~3ull);
    gpu_read(b, r, (bytes + 3) & ~3ull);
    return r;
}

/* XQ8 (use.xq8, CPU drivers): the K-quant experts and those of Q4, Q4_1, Q5_0 and Q5_1 take their
 * input rows in 8 bits (Q8_K; Q8_0 / Q8_1 for the 32-value types, as llama.cpp), in a decode step's
 * *_lane1_xq8 (at most VKG_MOE_LANE1_PAIRS_XQ8 pairs per expert) and in 8-pair tiles (*_lane_xq8).
 * The two passes apart, each from a fresh scratch: the scratch must equal the reference quantization
 * of the pass's input word for word (gate_up: x; down: the h the GPU wrote), and every output must
 * match the reference on the dequantized input (Q4_1 / Q5_1: with llama.cpp's m s, xq8_1_fix) within
 * 2e-6 of its sum of |products| (h: propagated through silu(g) u), where the float-x kernels are off
 * by the quantization error (~1e-4 of it). Then the two passes in one vkg_op_moe_experts call must
 * write the same y bit for bit. Without use.xq8 (GPUs) the same calls run the float kernels, checked
 * against the float input at 1e-4. */
static void check_experts_xq8(enum vkg_dtype dt, enum vkg_dtype dt_down, uint32_t n_in, uint32_t n_ff, uint32_t n_tok,
                              int tiled)
{
    const uint32_t n_exp = 16, k = 2, pairs = n_tok * k;
    /* gate_up's and down's input in 8 bits: where the device takes it (use.xq8) for their types */
    const int xg = g_dev->use.xq8 && xq_fmt_any(dt), xdn = g_dev->use.xq8 && xq_fmt_any(dt_down);
    /* a step of at most VKG_MOE_LANE1_PAIRS_XQ8 pairs per expert (the 32-value types: VKG_MOE_LANE1_PAIRS)
     * takes *_lane1_xq8, else 8-pair tiles */
    const uint32_t few_g = xq_q8_0(dt) || xq_f32(dt) ? VKG_MOE_LANE1_PAIRS : VKG_MOE_LANE1_PAIRS_XQ8;
    const uint32_t few_d = xq_q8_0(dt_down) || xq_f32(dt_down) ? VKG_MOE_LANE1_PAIRS : VKG_MOE_LANE1_PAIRS_XQ8;
    /* Q8_0 experts: their float-x kernels (the scratch's content and the outputs tell the rounding) */
    const char *want_g = pairs <= few_g * n_exp ? (xq_f32(dt) ? "_q8_0_lane1" : "_lane1_xq8")
                                                : (xq_f32(dt) ? "_q8_0_lane" : "_lane_xq8");
    const char *want_d = pairs <= few_d * n_exp ? (xq_f32(dt_down) ? "_q8_0_lane1" : "_lane1_xq8")
                                                : (xq_f32(dt_down) ? "_q8_0_lane" : "_lane_xq8");
    uint64_t seed = 0x8e + (uint64_t)dt * 31 + (uint64_t)dt_down * 7 + n_tok, mat = (uint64_t)n_exp * n_ff * n_in;
    float *g = malloc(mat * 4), *u = malloc(mat * 4), *d = malloc(mat * 4);
    struct moe_dev m = { 0 };
    moe_dev_weights(&m, &seed, dt, dt_down, n_exp, n_in, n_ff, g, u, d);
    if (xq_q8_0(dt)) max_block0(&m, dt, n_exp, n_ff, n_in, g);
    struct vkg_buffer *tb[3] = { NULL, NULL, NULL }; /* tiled: the stacks that can be, in 8-row tiles */
    if (tiled && tileable(dt, n_ff, n_in)) {
        tb[0] = tiled_stack(m.bg, dt, n_exp, n_ff, n_in);
        tb[1] = tiled_stack(m.bu, dt, n_exp, n_ff, n_in);
        m.w.gate = vkg_buffer_view(tb[0]);
        m.w.up = vkg_buffer_view(tb[1]);
        m.w.tiled = 1;
    }
    if (tiled && tileable(dt_down, n_in, n_ff)) {
        tb[2] = tiled_stack(m.bd, dt_down, n_exp, n_in, n_ff);
        m.w.down = vkg_buffer_view(tb[2]);
        m.w.tiled_down = 1;
    }
    float *x = malloc((uint64_t)n_tok * n_in * 4), *xd = malloc((uint64_t)n_tok * n_in * 4);
    rng_fill_f32(&seed, x, (uint64_t)n_tok * n_in, -1, 1);
    /* rows of different scales, one of them zero: 1e-2 .. 1e2, and 1e-5 .. 0.1 where an input is in Q8_0
     * blocks, whose d is an f16 (as llama.cpp's): |h| past 127 x 65504 would make it infinite */
    const float lo = xq_q8_0(dt) || xq_q8_0(dt_down) || xq_f32(dt) || xq_f32(dt_down) ? 5.0f : 2.0f;
    for (uint32_t t = 0; t < n_tok; t++)
        for (uint32_t i = 0; i < n_in; i++)
            x[(uint64_t)t * n_in + i] *= t == 3 ? 0.0f : powf(10.0f, (float)(t % 5) - lo);
    if (xq_q8_0(dt)) /* token 0's first block quantizes to 127 throughout (max_block0's edge case) */
        for (uint32_t i = 0; i < 32; i++) x[i] = powf(10.0f, -lo);
    int32_t *ids = malloc(pairs * 4);
    skewed_ids(&seed, n_tok, k, 3, 5, 8, ids);
    moe_dev_alloc(&m, n_tok, k, x);
    GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m.ids), ids, pairs * 4));
    uint64_t qbytes = vkg_op_moe_xq_bytes(&m.w, n_tok, k);
    uint64_t qx = xq_row_words(dt, n_in), qh = xq_row_words(dt_down, n_ff);
    uint8_t *rg = raw_q8_1(m.bg, dt, mat), *ru = raw_q8_1(m.bu, dt, mat), *rd = raw_q8_1(m.bd, dt_down, mat);
    assert_int_equal(qbytes, 4 * (n_tok * qx > pairs * qh ? n_tok * qx : pairs * qh));
    uint32_t *qgot = malloc(qbytes), *qwant = malloc(qbytes);
    struct vkg_buffer *bq = gpu_buffer_from(NULL, qbytes, "moe xq");
    float *h = malloc((uint64_t)pairs * n_ff * 4), *hd = malloc((uint64_t)pairs * n_ff * 4);
    float *y = malloc((uint64_t)pairs * n_in * 4), *y2 = malloc((uint64_t)pairs * n_in * 4);
    char what[128];
    assert_true(set_tier(2) || !g_dev->use.lane_ok);
    /* gate_up */
    struct vkg_cmd *c = begin();
    vkg_cmd_fill(c, vkg_buffer_view(bq), 0xdeadbeefu);
    vkg_cmd_barrier(c);
    GPU_OK(
        vkg_op_moe_group(c, pairs, n_exp, vkg_buffer_view(m.ids), vkg_buffer_view(m.route), vkg_buffer_view(m.list)));
    vkg_cmd_barrier(c);
    GPU_OK(vkg_op_moe_gate_up(c, &m.w, n_tok, k, vkg_buffer_view(m.x), vkg_buffer_view(m.route),
                              vkg_buffer_view(m.list), vkg_buffer_view(m.h), vkg_buffer_view(bq)));
    snprintf(what, sizeof what, "%s gate_up, %u tokens%s", vkg_dtype_name(dt), n_tok, m.w.tiled ? ", tiled" : "");
    check_xq_pass(what, c, xg ? want_g : NULL, dt, bq, x, n_tok, n_in, qwant, qgot, xd);
    gpu_read(m.h, h, (uint64_t)pairs * n_ff * 4);
    const float *xin = xg ? xd : x;
    for (uint32_t p = 0; p < pairs; p++) {
        const float *xr = xin + (uint64_t)(p / k) * n_in;
        uint64_t e = (uint64_t)ids[p];
        for (uint32_t r = 0; r < n_ff; r++) {
            const float *gr = g + (e * n_ff + r) * n_in, *ur = u + (e * n_ff + r) * n_in;
            double gs = 0, us = 0, ga = 0, ua = 0;
            for (uint32_t i = 0; i < n_in; i++) {
                gs += (double)gr[i] * xr[i];
                us += (double)ur[i] * xr[i];
                ga += fabs((double)gr[i] * xr[i]);
                ua += fabs((double)ur[i] * xr[i]);
            }
            if (xg) { /* the fix's size in the sums of |products|: it is all of m s where f16(d) is 0 */
                double fg = xq8_1_fix(rg, dt, e, n_ff, r, n_in, x + (uint64_t)(p / k) * n_in);
                double fu = xq8_1_fix(ru, dt, e, n_ff, r, n_in, x + (uint64_t)(p / k) * n_in);
                gs += fg;
                us += fu;
                ga += fabs(fg);
                ua += fabs(fu);
            }
            double sg = gs / (1.0 + exp(-gs)), want = sg * us, rel = xg ? 2e-6 : 1e-4;
            double tol = rel * (1.1 * ga * (fabs(us) + rel * ua) + fabs(sg) * ua) + 1e-30;
            double got = h[(uint64_t)p * n_ff + r];
            if (!(fabs(got - want) <= tol))
                fail_msg("%s gate_up%s%s n_tok %u pair %u row %u: got %.9g, want %.9g (tolerance %.3g)",
                         vkg_dtype_name(dt), xg ? " xq8" : "", m.w.tiled ? " tiled" : "", n_tok, p, r, got, want, tol);
        }
    }
    /* down, from the h the GPU wrote */
    c = begin();
    vkg_cmd_fill(c, vkg_buffer_view(bq), 0xdeadbeefu);
    vkg_cmd_barrier(c);
    GPU_OK(vkg_op_moe_down(c, &m.w, n_tok, k, vkg_buffer_view(m.h), vkg_buffer_view(m.route), vkg_buffer_view(m.list),
                           vkg_buffer_view(m.y), vkg_buffer_view(bq)));
    snprintf(what, sizeof what, "%s down, %u tokens%s", vkg_dtype_name(dt_down), n_tok,
             m.w.tiled_down ? ", tiled" : "");
    check_xq_pass(what, c, xdn ? want_d : NULL, dt_down, bq, h, pairs, n_ff, qwant, qgot, hd);
    gpu_read(m.y, y, (uint64_t)pairs * n_in * 4);
    const float *hin = xdn ? hd : h;
    for (uint32_t p = 0; p < pairs; p++) {
        uint64_t e = (uint64_t)ids[p];
        for (uint32_t r = 0; r < n_in; r++) {
            const float *dr = d + (e * n_in + r) * n_ff, *hr = hin + (uint64_t)p * n_ff;
            double s = 0, a = 0;
            for (uint32_t i = 0; i < n_ff; i++) {
                s += (double)dr[i] * hr[i];
                a += fabs((double)dr[i] * hr[i]);
            }
            if (xdn) {
                double f = xq8_1_fix(rd, dt_down, e, n_in, r, n_ff, h + (uint64_t)p * n_ff);
                s += f;
                a += fabs(f);
            }
            double tol = (xdn ? 2e-6 : 1e-4) * a + 1e-30, got = y[(uint64_t)p * n_in + r];
            if (!(fabs(got - s) <= tol))
                fail_msg("%s down%s%s n_tok %u pair %u row %u: got %.9g, want %.9g (tolerance %.3g)",
                         vkg_dtype_name(dt_down), xdn ? " xq8" : "", m.w.tiled_down ? " tiled" : "", n_tok, p, r, got,
                         s, tol);
        }
    }
    /* both passes in one call: the same y */
    c = begin();
    vkg_cmd_fill(c, vkg_buffer_view(m.y), 0x7fc00000u);
    vkg_cmd_barrier(c);
    GPU_OK(vkg_op_moe_experts(c, &m.w, n_tok, k, vkg_buffer_view(m.x), vkg_buffer_view(m.route),
                              vkg_buffer_view(m.list), vkg_buffer_view(m.h), vkg_buffer_view(m.y),
                              vkg_buffer_view(bq)));
    finish(c);
    gpu_read(m.y, y2, (uint64_t)pairs * n_in * 4);
    snprintf(what, sizeof what, "%s/%s experts in one call, n_tok %u", vkg_dtype_name(dt), vkg_dtype_name(dt_down),
             n_tok);
    if (memcmp(y, y2, (uint64_t)pairs * n_in * 4) != 0) fail_msg("%s: y differs from the passes apart", what);
    restore_tier();
    gpu_assert_no_validation();
    vkg_buffer_free(bq);
    moe_dev_free(&m, 1);
    for (int i = 0; i < 3; i++) vkg_buffer_free(tb[i]);
    free(g);
    free(u);
    free(d);
    free(x);
    free(xd);
    free(ids);
    free(qgot);
    free(qwant);
    free(rg);
    free(ru);
    free(rd);
    free(h);
    free(hd);
    free(y);
    free(y2);
}

static void test_experts_xq8(void **state)
{
    (void)state;
    /* of 16 experts, 2 each: 1-24 tokens (up to 3 pairs per expert) *_lane1_xq8 (16 and 24, 2 and 3 per
     * expert on average, two pairs per pass: PAIR2), 80 (10 per expert) the 8-pair tiles;
     * in the file's row order, then in 8-row tiles as models on CPU drivers load them (Q6_K: split tiles) */
    static const uint32_t ntoks[] = { 1, 7, 16, 24, 80 };
    /* tiled stacks only where moe_lane runs (the other tiers refuse them: check_experts_mixed) */
    const int lane = g_dev->use.texel && g_dev->use.lane_ok && g_dev->use.quad;
    for (size_t i = 0; i < sizeof ntoks / sizeof ntoks[0]; i++)
        for (int tiled = 0; tiled < (lane ? 2 : 1); tiled++) {
            check_experts_xq8(VKG_DTYPE_Q4_K, VKG_DTYPE_Q4_K, 256, 512, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q5_K, VKG_DTYPE_Q5_K, 512, 256, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q6_K, VKG_DTYPE_Q6_K, 256, 256, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q4_K, VKG_DTYPE_Q6_K, 512, 256, ntoks[i], tiled); /* as Q4_K_M files mix them */
            /* the 32-value types on Q8_0 / Q8_1 x: rows of 256 values and of 96 (3 blocks, never tiled),
             * Q4 with a Q8_0 down (h rounded as Q8_0, read as floats) as llama.cpp's Q4_0 files of
             * 8-expert models have attn_v; Q8_0 experts alone (DeepSeek-V2-Lite's Q4_K_M files have Q8_0
             * down experts: llama.cpp's fallback for Q6_K on rows of 1408) */
            check_experts_xq8(VKG_DTYPE_Q4, VKG_DTYPE_Q4, 256, 96, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q4_1, VKG_DTYPE_Q4_1, 96, 256, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_0, 256, 256, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q5_1, VKG_DTYPE_Q5_1, 256, 96, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q4, VKG_DTYPE_Q8_0, 256, 256, ntoks[i], tiled);
            check_experts_xq8(VKG_DTYPE_Q8_0, VKG_DTYPE_Q8_0, 96, 256, ntoks[i], tiled);
        }
}

static void test_block_end_to_end(void **state)
{
    const uint32_t n_exp = 32, n_in = 48, n_ff = 40, k = 6;
    struct ref_moe_router r = { n_exp, k, 0, 0, 2.0, 4, 2 };
    struct vkg_moe_router gr = to_gpu(&r);
    uint64_t seed = 0xb10c, mat = (uint64_t)n_exp * n_ff * n_in, smat = 2ull * n_ff * n_in;
    float *g = malloc(mat * 4), *u = malloc(mat * 4), *d = malloc(mat * 4);
    float *sg = malloc(smat * 4), *su = malloc(smat * 4), *sd = malloc(smat * 4);
    struct moe_dev m = {
        .w = { .dtype = VKG_DTYPE_BF16, .n_exp = n_exp, .n_in = n_in, .n_ff = n_ff, .dtype_down = VKG_DTYPE_BF16 }
    };
    struct vkg_moe_weights sw = {
        .dtype = VKG_DTYPE_F16, .n_exp = 1, .n_in = n_in, .n_ff = 2 * n_ff, .dtype_down = VKG_DTYPE_F16
    };
    m.bg = weights_buffer(&seed, g, mat, VKG_DTYPE_BF16, 0.4f, "moe gate");
    m.bu = weights_buffer(&seed, u, mat, VKG_DTYPE_BF16, 0.4f, "moe up");
    m.bd = weights_buffer(&seed, d, mat, VKG_DTYPE_BF16, 0.4f, "moe down");
    struct vkg_buffer *sb[3] = { weights_buffer(&seed, sg, smat, VKG_DTYPE_F16, 0.4f, "shared gate"),
                                 weights_buffer(&seed, su, smat, VKG_DTYPE_F16, 0.4f, "shared up"),
                                 weights_buffer(&seed, sd, smat, VKG_DTYPE_F16, 0.4f, "shared down") };
    m.w.gate = vkg_buffer_view(m.bg);
    m.w.up = vkg_buffer_view(m.bu);
    m.w.down = vkg_buffer_view(m.bd);
    sw.gate = vkg_buffer_view(sb[0]);
    sw.up = vkg_buffer_view(sb[1]);
    sw.down = vkg_buffer_view(sb[2]);
    for (size_t ti = 0; ti < N_NTOKS; ti++) {
        uint32_t n_tok = g_ntoks[ti], pairs = n_tok * k;
        uint64_t nx = (uint64_t)n_tok * n_in;
        float *x = malloc(nx * 4), *l = malloc((uint64_t)n_tok * n_exp * 4), *w = malloc(pairs * 4);
        float *got = malloc(nx * 4), *want = malloc(nx * 4), *shared = malloc(nx * 4);
        int32_t *ids = malloc(pairs * 4);
        rng_fill_f32(&seed, x, nx, -1, 1);
        make_logits(&seed, n_tok, n_exp, l);
        moe_dev_alloc(&m, n_tok, k, x);
        struct vkg_buffer *bl = gpu_buffer_from(l, (uint64_t)n_tok * n_exp * 4, "moe logits");
        struct vkg_buffer *sh = gpu_buffer_from(NULL, (uint64_t)n_tok * 2 * n_ff * 4, "shared h");
        struct vkg_buffer *sy = gpu_buffer_from(NULL, nx * 4, "shared y");
        ref_moe_gate(&r, n_tok, l, ids, w);
        ref_moe_ffn(n_tok, k, n_in, n_ff, x, ids, w, g, u, d, want);
        ref_moe_ffn(n_tok, 1, n_in, 2 * n_ff, x, NULL, NULL, sg, su, sd, shared);
        for (uint64_t i = 0; i < nx; i++) want[i] += shared[i];
        for (int tier = 0; tier < 2; tier++) {
            if (!set_tier(tier)) continue;
            struct vkg_cmd *c = begin();
            GPU_OK(vkg_op_moe_gate(c, &gr, n_tok, vkg_buffer_view(bl), vkg_buffer_view(m.ids), vkg_buffer_view(m.wts)));
            vkg_cmd_barrier(c);
            record_experts(c, &m, n_tok, k);
            vkg_cmd_barrier(c); /* the shared experts add to what combine wrote */
            GPU_OK(vkg_op_moe_shared(c, &sw, n_tok, vkg_buffer_view(m.x), vkg_buffer_view(sh), vkg_buffer_view(sy),
                                     vkg_buffer_view(m.out)));
            finish(c);
            gpu_read(m.out, got, nx * 4);
            char what[64];
            snprintf(what, sizeof what, "moe block%s n_tok=%u", tier ? " subgroup" : "", n_tok);
            assert_rows_close(what, got, want, n_tok, n_in);
        }
        restore_tier();
        moe_dev_free(&m, 0);
        vkg_buffer_free(bl);
        vkg_buffer_free(sh);
        vkg_buffer_free(sy);
        free(x);
        free(l);
        free(w);
        free(got);
        free(want);
        free(shared);
        free(ids);
        gpu_assert_no_validation();
    }
    moe_dev_free(&m, 1);
    for (int i = 0; i < 3; i++) vkg_buffer_free(sb[i]);
    free(g);
    free(u);
    free(d);
    free(sg);
    free(su);
    free(sd);
}

/* Deterministic weight value i of stack `id` (regenerated for the reference
 * instead of keeping 576 MiB on the host). */
static float big_val(uint64_t id, uint64_t i)
{
    uint64_t z = (id << 40) + i + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((float)(z >> 40) / 16777216.0f - 0.5f) * 0.2f;
}

static struct vkg_buffer *big_stack(uint64_t id, uint64_t n)
{
    const uint64_t chunk = 4u << 20;
    float *buf = malloc(chunk * 4);
    struct vkg_buffer *b = gpu_buffer_from(NULL, n * 4, "moe big stack");
    for (uint64_t i0 = 0; i0 < n; i0 += chunk) {
        uint64_t len = n - i0 < chunk ? n - i0 : chunk;
        for (uint64_t i = 0; i < len; i++) buf[i] = big_val(id, i0 + i);
        GPU_OK(vkg_buffer_upload(g_dev, vkg_view_sub(vkg_buffer_view(b), i0 * 4, len * 4), buf, len * 4));
    }
    free(buf);
    return b;
}

/* 128 experts x 768 x 512 F32: 192 MiB per stack, beyond one 128 MiB binding,
 * so the experts are split into windows; tokens use experts on both sides of
 * the window boundary (85 experts of 1.5 MiB fit 128 MiB). */
static void test_big_stacks(void **state)
{
    const uint32_t n_exp = 128, n_in = 512, n_ff = 768, n_tok = 7, k = 2;
    const int32_t ids[7 * 2] = { 0, 127, 84, 85, 86, 42, 127, 1, 100, 84, 85, 86, 64, 127 };
    uint64_t seed = 0xb16, per = (uint64_t)n_ff * n_in, nx = (uint64_t)n_tok * n_in;
    struct moe_dev m = {
        .w = { .dtype = VKG_DTYPE_F32, .n_exp = n_exp, .n_in = n_in, .n_ff = n_ff, .dtype_down = VKG_DTYPE_F32 }
    };
    m.bg = big_stack(1, n_exp * per);
    m.bu = big_stack(2, n_exp * per);
    m.bd = big_stack(3, n_exp * per);
    m.w.gate = vkg_buffer_view(m.bg);
    m.w.up = vkg_buffer_view(m.bu);
    m.w.down = vkg_buffer_view(m.bd);
    float *x = malloc(nx * 4), w[14], *got = malloc(nx * 4), *want = malloc(nx * 4);
    float *g = malloc(14 * per * 4), *u = malloc(14 * per * 4), *d = malloc(14 * per * 4);
    int32_t local[14];
    rng_fill_f32(&seed, x, nx, -1, 1);
    rng_fill_f32(&seed, w, 14, 0.1f, 1);
    for (uint32_t p = 0; p < 14; p++) { /* the reference gets a private stack of the used experts, one per pair */
        local[p] = (int32_t)p;
        for (uint64_t i = 0; i < per; i++) {
            uint64_t at = (uint64_t)ids[p] * per + i;
            g[p * per + i] = big_val(1, at);
            u[p * per + i] = big_val(2, at);
            d[p * per + i] = big_val(3, at);
        }
    }
    moe_dev_alloc(&m, n_tok, k, x);
    GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m.ids), ids, sizeof ids));
    GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(m.wts), w, sizeof w));
    ref_moe_ffn(n_tok, k, n_in, n_ff, x, local, w, g, u, d, want);
    for (int sg = 0; sg < N_TIERS; sg++) {
        if (!set_tier(sg)) continue;
        struct vkg_cmd *c = begin();
        record_experts(c, &m, n_tok, k);
        finish(c);
        gpu_read(m.out, got, nx * 4);
        assert_rows_close(sg ? "experts beyond one binding, subgroup" : "experts beyond one binding", got, want, n_tok,
                          n_in);
    }
    restore_tier();
    moe_dev_free(&m, 1);
    free(x);
    free(got);
    free(want);
    free(g);
    free(u);
    free(d);
    gpu_assert_no_validation();
}

/* Unsupported shapes and short views fail with a message, record nothing. */
static void test_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "moe small");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c = begin();
    struct vkg_moe_router r = { .n_exp = 64, .k = 17, .scale = 1 };
    assert_int_equal(vkg_op_moe_gate(c, &r, 1, v, v, v), VKG_ERR_UNSUPPORTED);
    r.k = 4;
    r.n_group = 5;
    r.topk_group = 2;
    assert_int_equal(vkg_op_moe_gate(c, &r, 1, v, v, v), VKG_ERR_UNSUPPORTED);
    r.n_group = 0;
    assert_int_equal(vkg_op_moe_gate(c, &r, 64, v, v, v), VKG_ERR_INVALID_ARG); /* 64x64 logits > 4096 bytes */
    assert_non_null(strstr(vkg_error_detail(), "moe small"));
    struct vkg_moe_weights w = { v, v, v, VKG_DTYPE_F32, 5, 16, 16, VKG_DTYPE_F32 }; /* 5 KiB stacks, 4 KiB view */
    assert_int_equal(vkg_op_moe_experts(c, &w, 1, 2, v, v, v, v, v, v), VKG_ERR_INVALID_ARG);
    w.dtype = VKG_DTYPE_F64;
    assert_int_equal(vkg_op_moe_experts(c, &w, 1, 2, v, v, v, v, v, v), VKG_ERR_UNSUPPORTED);
    w.dtype = VKG_DTYPE_Q8_0; /* rows of 16 values are not whole 32-value blocks */
    assert_int_equal(vkg_op_moe_experts(c, &w, 1, 2, v, v, v, v, v, v), VKG_ERR_INVALID_ARG);
    w.dtype = VKG_DTYPE_F32;
    w.n_exp = 2;
    assert_int_equal(vkg_op_moe_shared(c, &w, 1, v, v, v, v), VKG_ERR_INVALID_ARG);
    finish(c);
    vkg_buffer_free(b);
    gpu_assert_no_validation();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_variants), cmocka_unit_test(test_gate_ties),
        cmocka_unit_test(test_group),         cmocka_unit_test(test_gate_group),
        cmocka_unit_test(test_gate_nan), /* NaN router logits */
        cmocka_unit_test(test_experts_f32),   cmocka_unit_test(test_experts_f16),
        cmocka_unit_test(test_experts_bf16),  cmocka_unit_test(test_experts_q8_0),
        cmocka_unit_test(test_experts_q4),    cmocka_unit_test(test_experts_q4_1),
        cmocka_unit_test(test_experts_q5_0),  cmocka_unit_test(test_experts_q5_1),
        cmocka_unit_test(test_experts_q4_k),  cmocka_unit_test(test_experts_q5_k),
        cmocka_unit_test(test_experts_q6_k),  cmocka_unit_test(test_experts_mixed),
        cmocka_unit_test(test_experts_xq8),   cmocka_unit_test(test_block_end_to_end),
        cmocka_unit_test(test_big_stacks),    cmocka_unit_test(test_errors),
    };
    return gpu_run_tests("test_moe", tests, sizeof tests / sizeof tests[0], argc, argv);
}
