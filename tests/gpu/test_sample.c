/* test_sample — argmax and sampling on the GPU vs the plain-C reference
 * (ref_sample.c, HF warper semantics in doubles with a full sort).
 * Rows with NaN / -inf / +inf logits follow the contract of ops_sample.h.
 * Tolerances: tokens exact (argmax always; a sampled token may differ only
 * when the reference flags the draw as within 1e-5 of a float boundary, at
 * most 1 such row per setting); probabilities |got - want| <= 1e-6 + 1e-4 *
 * want (float exp and 2^-40 fixed-point masses on the device vs doubles). */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_sample.h"
#include "ref_sample.h"
#include "sampler.h"

#define V152K 151936u
#define V256K 256000u

struct run_out {
    int32_t tokens[4096]; /* [submits][rows] */
    float probs[4096];
};

/* Records argmax (params == NULL) or sample once (flags | vkg_sampler_flags:
 * passes no row needs are left out), submits it `submits` times and reads
 * tokens/probs after each; params come back updated (step advance). */
static void gpu_run(const float *logits, uint32_t rows, uint32_t vocab, struct vkg_sample_params *params,
                    uint32_t flags, uint32_t submits, struct run_out *out)
{
    assert_true(rows * submits <= 4096);
    struct vkg_buffer *lb = gpu_buffer_from(logits, (uint64_t)rows * vocab * 4, "logits");
    struct vkg_buffer *pb = params ? gpu_buffer_from(params, rows * sizeof *params, "sample params") : NULL;
    struct vkg_buffer *wb = gpu_buffer_from(NULL, vkg_sample_workspace_bytes(rows, vocab), "sample work");
    struct vkg_buffer *tb = gpu_buffer_from(NULL, rows * 4, "tokens"), *fb = gpu_buffer_from(NULL, rows * 4, "probs");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    if (params)
        GPU_OK(vkg_op_sample(c, vkg_buffer_view(lb), vkg_buffer_view(pb), vkg_buffer_view(wb), vkg_buffer_view(tb),
                             vkg_buffer_view(fb), rows, vocab, flags | vkg_sampler_flags(params, rows)));
    else
        GPU_OK(vkg_op_argmax(c, vkg_buffer_view(lb), vkg_buffer_view(wb), vkg_buffer_view(tb), vkg_buffer_view(fb),
                             rows, vocab));
    /* the tier the device flags ask for ran (the last pass tells): no silent fallback */
    const struct vkg_device *d = g_dev;
    int lane = d->use.lane_tier && d->use.texel && d->use.subgroup_arith;
    const char *want = params ? (lane ? "sample_draw_lane" : "sample_draw")
                              : (lane                    ? "argmax_final_lane"
                                 : d->use.subgroup_arith ? "argmax_final_sg"
                                                         : "argmax_final");
    if (!c->last_kernel || strcmp(c->last_kernel, want) != 0)
        fail_msg("last pass %s, expected %s", c->last_kernel ? c->last_kernel : "(none)", want);
    for (uint32_t s = 0; s < submits; s++) {
        GPU_OK(vkg_cmd_submit_wait(c));
        gpu_read(tb, out->tokens + s * rows, rows * 4);
        gpu_read(fb, out->probs + s * rows, rows * 4);
    }
    if (params) gpu_read(pb, params, rows * sizeof *params);
    vkg_cmd_free(c);
    vkg_buffer_free(lb);
    vkg_buffer_free(pb);
    vkg_buffer_free(wb);
    vkg_buffer_free(tb);
    vkg_buffer_free(fb);
    gpu_assert_no_validation();
}

/* kind 0, 1: logits like a model's, roughly normal (sd ~1), on kind 1 with a
 * head of 30 tokens 5..12 above: a top-k search then lists a few thousand
 * candidates after its first digit. kind 2: uniform in [4, 8), all in one
 * first-digit bin, so the candidate list overflows (vocab > 16384) and the
 * search reads the logits in every pass. */
static void make_logits(uint64_t *s, float *x, size_t v, int kind)
{
    for (size_t i = 0; i < v; i++)
        x[i] = kind == 2 ? rng_uniform(s, 4, 8)
                         : 2.0f * (rng_uniform(s, 0, 1) + rng_uniform(s, 0, 1) + rng_uniform(s, 0, 1) - 1.5f);
    for (int h = 0; kind == 1 && h < 30; h++) x[rng_next(s) % v] += rng_uniform(s, 5, 12);
}

static void check_prob(const char *what, uint32_t row, float got, double want)
{
    if (fabs(got - want) > 1e-6 + 1e-4 * want) fail_msg("%s row %u: prob %.9g, reference %.9g", what, row, got, want);
}

/* ---- RNG ---- */

/* Known-answer vectors of Random123 (kat_vectors: philox4x32 10). */
static void test_philox_kat(void **state)
{
    static const uint32_t kat[3][10] = {
        { 0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 },
        { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd },
        { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
          0x24126ea1 },
    };
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        ref_philox4x32_10(kat[k], kat[k] + 4, out);
        for (int i = 0; i < 4; i++) assert_int_equal(out[i], kat[k][6 + i]);
    }
}

/* ---- argmax ---- */

/* Rows of random logits with planted edge cases: the max repeated in several
 * chunks (lowest index wins), -inf entries, a row of only -inf, a constant row. */
static void plant_edges(uint64_t *s, float *x, uint32_t rows, uint32_t v)
{
    for (uint32_t r = 0; r < rows; r++) {
        float *row = x + (size_t)r * v;
        if (r % 3 == 1)
            for (uint32_t i = 0; i < v / 7 + 1; i++) row[rng_next(s) % v] = -INFINITY;
        if (r % 4 == 2 && v > 2) { /* ties: the same max at 3 places, the lowest not first in its chunk */
            uint32_t a = (uint32_t)(rng_next(s) % v), b = v - 1, c = v / 2;
            row[a] = row[b] = row[c] = 100.0f;
        }
        if (r == 5 % rows && rows > 1)
            for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
        if (r == 6 % rows && rows > 2)
            for (uint32_t i = 0; i < v; i++) row[i] = 0.25f;
    }
}

static void check_argmax(uint32_t rows, uint32_t v, uint64_t seed)
{
    float *x = malloc((size_t)rows * v * 4);
    rng_fill_f32(&seed, x, (size_t)rows * v, -20, 20);
    plant_edges(&seed, x, rows, v);
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, NULL, 0, 1, o);
    char what[64];
    snprintf(what, sizeof what, "argmax %ux%u", rows, v);
    for (uint32_t r = 0; r < rows; r++) {
        double pr;
        int32_t want = ref_argmax(x + (size_t)r * v, v, &pr);
        if (o->tokens[r] != want) fail_msg("%s row %u: token %d, reference %d", what, r, o->tokens[r], want);
        check_prob(what, r, o->probs[r], pr);
    }
    free(x);
    free(o);
}

static void test_argmax_shapes(void **state)
{
    static const uint32_t shapes[][2] = { { 1, 1 },    { 3, 7 },      { 2, 255 },  { 7, 4097 },
                                          { 9, 8205 }, { 32, V152K }, { 3, V256K } };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) check_argmax(shapes[k][0], shapes[k][1], 77 + k);
}

/* 136 x 256000 f32 = 139 MB: beyond one 128 MiB binding, so the rows come in two batches. */
static void test_argmax_beyond_binding(void **state) { check_argmax(136, V256K, 4242); }

/* ---- sampling vs reference ---- */

struct setting {
    const char *name;
    float temperature, top_p, min_p;
    uint32_t top_k;
    int is_argmax; /* must equal argmax */
};

static const struct setting g_settings[] = {
    { "T=1", 1.0f, 1.0f, 0.0f, 0, 0 },
    { "T=0.7 top_k=50", 0.7f, 1.0f, 0.0f, 50, 0 },
    { "T=1 top_p=0.9", 1.0f, 0.9f, 0.0f, 0, 0 },
    { "T=0.8 top_k=40 top_p=0.95 min_p=0.05", 0.8f, 0.95f, 0.05f, 40, 0 },
    { "T=1.3 top_k=1000 top_p=0.5", 1.3f, 0.5f, 0.0f, 1000, 0 },
    { "T=1 min_p=0.1", 1.0f, 1.0f, 0.1f, 0, 0 },
    { "T=0.5 top_k=vocab+7 top_p=0.999", 0.5f, 0.999f, 0.0f, V256K + 7, 0 },
    { "T=1e4 (huge)", 1e4f, 1.0f, 0.0f, 0, 0 },
    { "T=2 top_p=0.3", 2.0f, 0.3f, 0.0f, 0, 0 },
    { "top_k=1", 1.0f, 1.0f, 0.0f, 1, 1 },
    { "top_p=1e-6", 1.0f, 1e-6f, 0.0f, 0, 1 },
    { "T=0 (greedy)", 0.0f, 0.9f, 0.0f, 50, 1 },
};

static struct vkg_sample_params row_params(const struct setting *st, uint64_t seed, uint32_t step)
{
    struct vkg_sampler s = {
        .temperature = st->temperature, .top_k = st->top_k, .top_p = st->top_p, .min_p = st->min_p, .seed = seed
    };
    return vkg_sampler_row(&s, 0, step);
}

static struct ref_sample_args ref_args(const struct vkg_sample_params *p)
{
    return (struct ref_sample_args){ .temperature = p->temperature,
                                     .top_k = p->top_k,
                                     .top_p = p->top_p,
                                     .min_p = p->min_p,
                                     .seed = p->seed_lo | (uint64_t)p->seed_hi << 32,
                                     .step = p->step };
}

/* Compares one run's rows with the reference; returns the number of fragile mismatches. */
static int check_rows(const char *what, const float *x, uint32_t rows, uint32_t v, uint32_t *const *orders,
                      const struct vkg_sample_params *prm, const int32_t *tok, const float *prob, int is_argmax)
{
    int fragile = 0;
    for (uint32_t r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * v;
        struct ref_sample_args a = ref_args(&prm[r]);
        struct ref_sample_result want = ref_sample(row, v, orders ? orders[r] : NULL, &a);
        if (is_argmax && want.token != ref_argmax(row, v, NULL))
            fail_msg("%s row %u: the reference itself is not argmax", what, r);
        if (tok[r] != want.token) {
            if (!want.fragile)
                fail_msg("%s row %u: token %d, reference %d (kept %zu, seed %08x%08x step %u)", what, r, tok[r],
                         want.token, want.n_kept, prm[r].seed_hi, prm[r].seed_lo, prm[r].step);
            printf("  %s row %u: token %d vs %d at a float boundary\n", what, r, tok[r], want.token);
            fragile++;
            continue;
        }
        check_prob(what, r, prob[r], want.prob);
    }
    return fragile;
}

/* 32 rows (32 seeds) per setting; rows cycle through the 3 kinds of make_logits. */
static void check_settings(uint32_t v, const struct setting *st, size_t n_st, uint64_t seed)
{
    const uint32_t rows = 32;
    float *x = malloc((size_t)rows * v * 4);
    uint32_t *orders[32];
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, r % 3);
        orders[r] = malloc(v * sizeof(uint32_t));
        ref_sort_desc(x + (size_t)r * v, v, orders[r]);
    }
    struct run_out *o = malloc(sizeof *o);
    for (size_t k = 0; k < n_st; k++) {
        struct vkg_sample_params prm[32];
        for (uint32_t r = 0; r < rows; r++) prm[r] = row_params(&st[k], 1000 + 31 * r + k, 3 * r);
        gpu_run(x, rows, v, prm, 0, 1, o);
        char what[96];
        snprintf(what, sizeof what, "sample %s vocab %u", st[k].name, v);
        int fragile = check_rows(what, x, rows, v, orders, prm, o->tokens, o->probs, st[k].is_argmax);
        if (fragile > 1) fail_msg("%s: %d rows at float boundaries (at most 1 expected)", what, fragile);
    }
    for (uint32_t r = 0; r < rows; r++) free(orders[r]);
    free(x);
    free(o);
}

static void test_sample_settings_152k(void **state)
{
    check_settings(V152K, g_settings, sizeof g_settings / sizeof g_settings[0], 5150);
}

static void test_sample_settings_256k(void **state) { check_settings(V256K, g_settings + 3, 2, 9090); }

/* The tiers besides the device's default: scalar trees (no subgroup
 * arithmetic), 256-wide workgroups with subgroup reductions (GPUs), the lane
 * tier (CPU drivers: workgroups of one SIMD slice, texel reads). */
static int g_saved_tier, g_saved_lane, g_saved_texel;

static const char *tier_name(void)
{
    const struct vkg_device *d = g_dev;
    if (d->use.lane_tier && d->use.texel && d->use.subgroup_arith) return "lane";
    return d->use.subgroup_arith ? "subgroup, 256-wide" : "scalar";
}

static void save_tier(void)
{
    g_saved_tier = g_dev->use.subgroup_arith, g_saved_lane = g_dev->use.lane_tier, g_saved_texel = g_dev->use.texel;
}

/* Restores the device's tier even when the test failed half-way (cmocka teardown). */
static int restore_tier(void **state)
{
    g_dev->use.subgroup_arith = g_saved_tier, g_dev->use.lane_tier = g_saved_lane, g_dev->use.texel = g_saved_texel;
    return 0;
}

static void test_top_p_exact_boundary(void **state);

static void test_scalar_tier(void **state)
{
    save_tier();
    printf("  default tier: %s; now scalar\n", tier_name());
    g_dev->use.subgroup_arith = 0;
    check_argmax(9, 8205, 3);
    check_argmax(32, V152K, 4);
    check_settings(V152K, g_settings + 2, 2, 5);
    check_settings(V152K, g_settings + 11, 1, 6); /* greedy rows: sample_init writes the outputs */
}

/* Every row shape and setting class once more in a tier: argmax shapes with
 * planted ties and rows that start mid-texel, small and large vocabularies,
 * top-k / top-p cuts, kept ties in index order (the exact boundary test). */
static void check_tier(uint64_t seed)
{
    printf("  tier: %s\n", tier_name());
    check_argmax(7, 4097, seed);
    check_argmax(9, 8205, seed + 1);
    check_argmax(32, V152K, seed + 2);
    check_settings(9001, g_settings, 6, seed + 3);
    check_settings(V152K, g_settings + 1, 5, seed + 4);
    check_settings(V152K, g_settings + 11, 1, seed + 5); /* greedy rows: sample_init writes the outputs */
    test_top_p_exact_boundary(NULL);
}

/* The 256-wide subgroup passes, the GPU tier, where the device defaults to the lane tier. */
static void test_wide_tier(void **state)
{
    save_tier();
    if (!g_dev->use.subgroup_arith) skip(); /* the default run and test_scalar_tier cover this device */
    g_dev->use.lane_tier = 0;
    check_tier(4100);
}

/* The lane tier, also where the device's default is the 256-wide one (a GPU): its workgroups of
 * VKG_SAMPLE_LANE_WG invocations are one subgroup wherever lane_ok holds. */
static void test_lane_tier(void **state)
{
    save_tier();
    if (!g_dev->use.lane_ok || !g_dev->use.subgroup_arith || g_dev->info.max_texel_elements < (1u << 20)) skip();
    g_dev->use.lane_tier = 1, g_dev->use.texel = 1;
    check_tier(4200);
}

/* Small vocabularies and sizes that are not multiples of the workgroup / chunk. */
static void test_sample_small_vocab(void **state)
{
    static const uint32_t vocabs[] = { 1, 2, 17, 255, 4097, 9001 };
    for (size_t k = 0; k < sizeof vocabs / sizeof vocabs[0]; k++) check_settings(vocabs[k], g_settings, 5, 60 + k);
}

/* Draws 64 rows of the same logits at one top_p and checks them against the
 * reference exactly (these probabilities are exact binary fractions, so no
 * float boundary excuse): n_kept tokens, each drawn with prob 1/n_kept, all
 * of them seen. */
static void check_exact_top_p(const float *row, uint32_t v, float temperature, float top_p, size_t n_kept)
{
    const uint32_t rows = 64;
    float *x = malloc((size_t)rows * v * 4);
    for (uint32_t r = 0; r < rows; r++) memcpy(x + (size_t)r * v, row, (size_t)v * 4);
    struct setting st = { "exact", temperature, top_p, 0.0f, 0, 0 };
    struct vkg_sample_params prm[64];
    for (uint32_t r = 0; r < rows; r++) prm[r] = row_params(&st, 77 + r, 0);
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm, 0, 1, o);
    size_t n_seen = 0;
    for (uint32_t r = 0; r < rows; r++) {
        struct ref_sample_args a = ref_args(&prm[r]);
        struct ref_sample_result want = ref_sample(row, v, NULL, &a);
        if (want.n_kept != n_kept) fail_msg("top_p %g: reference keeps %zu, expected %zu", top_p, want.n_kept, n_kept);
        if (o->tokens[r] != want.token)
            fail_msg("top_p %g row %u: token %d, reference %d", top_p, r, o->tokens[r], want.token);
        assert_float_equal(o->probs[r], 1.0f / (float)n_kept, 0);
        int first = 1;
        for (uint32_t q = 0; q < r; q++) first &= o->tokens[q] != o->tokens[r];
        n_seen += first;
    }
    if (n_seen != n_kept) fail_msg("top_p %g: %zu different tokens drawn, %zu kept", top_p, n_seen, n_kept);
    free(x);
    free(o);
}

/* 136 x 256000 f32 = 139 MB: two row batches; every 8th row with top-k and
 * top-p, the others T = 0.9 with min_p 0.02. */
static void test_sample_beyond_binding(void **state)
{
    const uint32_t v = V256K, rows = 136;
    uint64_t seed = 8080;
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params *prm = malloc(rows * sizeof *prm);
    struct setting filt = { "top-k/top-p", 0.9f, 0.9f, 0.0f, 50, 0 }, plain = { "min_p", 0.9f, 1.0f, 0.02f, 0, 0 };
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, r % 3);
        prm[r] = row_params(r % 8 == 0 ? &filt : &plain, 700 + r, r);
    }
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm, 0, 1, o);
    int fragile = check_rows("sample 136x256000", x, rows, v, NULL, prm, o->tokens, o->probs, 0);
    if (fragile > 1) fail_msg("%d rows at float boundaries (at most 1 expected)", fragile);
    free(x);
    free(prm);
    free(o);
}

/* HF's top-p boundary ("ascending cumsum <= 1 - top_p is removed") on exact
 * values, the rest of the row -inf.
 * A: 4 tied top logits, T = 1 (prob 1/4 each): top_p 0.25 keeps 1, 0.5 keeps
 *    2, 0.75 keeps 3, 0.76 keeps 4; ties stay in index order.
 * B: 8 logits, T = +inf so every weight is exactly exp(0) = 1 (prob 1/8,
 *    the uniform limit; vkg_sampler_check would refuse it, the device takes
 *    it) while the keys stay distinct: top_p 0.5 cuts between two different logits (3.6 |
 *    3.5), 0.75 cuts inside the tie 3.5 at 100/200/300 with higher logits at
 *    later indices (400..700) — kept ties must be the first ones in index order.
 * C: the same with the ties a few logits apart (below). */
static void test_top_p_exact_boundary(void **state)
{
    const uint32_t v = 5000;
    float *row = malloc(v * 4);
    for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
    row[100] = row[1700] = row[4200] = row[4999] = 3.5f;
    static const float tps[] = { 0.25f, 0.5f, 0.75f, 0.76f };
    for (int k = 0; k < 4; k++) check_exact_top_p(row, v, 1.0f, tps[k], (size_t)k + 1);
    for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
    row[50] = 3.9f;
    row[400] = 3.8f;
    row[600] = 3.7f;
    row[700] = 3.6f;
    row[100] = row[200] = row[300] = 3.5f;
    row[4500] = 3.0f;
    check_exact_top_p(row, v, INFINITY, 0.5f, 4);
    check_exact_top_p(row, v, INFINITY, 0.75f, 6);
    /* C: five ties close together, two in one texel and two more within the same 32 logits (one
       block of the lane tier's draw, other lanes), a higher logit between them: cut inside the
       ties, the first in index order stay and the ones after the cut weigh nothing */
    for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
    row[10] = 3.9f;
    row[1045] = 3.8f;
    row[1033] = row[1034] = row[1041] = row[1050] = row[1058] = 3.5f;
    check_exact_top_p(row, v, INFINITY, 0.5f, 4);
    check_exact_top_p(row, v, INFINITY, 0.75f, 6);
    free(row);
}

/* ---- statistics, batch invariance, step advance, errors ---- */

/* 2,000 draws (2,000 rows, one seed each) of a 16-token distribution; chi-square
 * with 15 degrees of freedom against the softmax at that temperature must stay
 * below 37.70 (p = 0.001). Fixed seeds: it passes or fails the same way every run. */
static void chi_square(float temperature, uint32_t top_k)
{
    const uint32_t v = 16, rows = 2000;
    float logit[16];
    double want[16], z = 0;
    for (uint32_t i = 0; i < v; i++) logit[i] = logf((float)(i % 5 + 1) * (i < 8 ? 1.0f : 2.5f));
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params *prm = malloc(rows * sizeof *prm);
    struct vkg_sampler s = { .temperature = temperature, .top_k = top_k, .top_p = 1.0f, .seed = 2024 };
    for (uint32_t r = 0; r < rows; r++) {
        memcpy(x + (size_t)r * v, logit, sizeof logit);
        prm[r] = vkg_sampler_row(&s, r, 0);
    }
    uint32_t order[16];
    ref_sort_desc(logit, v, order);
    for (uint32_t i = 0; i < v; i++) {
        int kept = !top_k;
        for (uint32_t j = 0; j < top_k; j++) kept |= order[j] == i;
        want[i] = kept ? exp(logit[i] / temperature) : 0;
        z += want[i];
    }
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm, 0, 1, o);
    uint32_t count[16] = { 0 };
    for (uint32_t r = 0; r < rows; r++) {
        assert_in_range(o->tokens[r], 0, v - 1);
        count[o->tokens[r]]++;
    }
    double chi2 = 0;
    int df = -1;
    for (uint32_t i = 0; i < v; i++) {
        double e = rows * want[i] / z;
        if (e == 0) {
            assert_int_equal(count[i], 0);
            continue;
        }
        chi2 += (count[i] - e) * (count[i] - e) / e;
        df++;
    }
    printf("  chi-square T=%g top_k=%u: %.2f (%d dof)\n", temperature, top_k, chi2, df);
    if (chi2 > (df == 15 ? 37.70 : 24.32))
        fail_msg("chi-square %.2f too large for %d dof", chi2, df); /* 24.32: 7 dof */
    free(x);
    free(prm);
    free(o);
}

static void test_chi_square(void **state)
{
    chi_square(1.0f, 0);
    chi_square(2.0f, 0);
    chi_square(0.8f, 8);
}

/* Row r's token and prob are the same alone, in a batch of 8, and at another slot of the batch. */
static void test_batch_invariance(void **state)
{
    const uint32_t v = V152K, rows = 8;
    uint64_t seed = 31337;
    float *x = malloc((size_t)rows * v * 4), *rev = malloc((size_t)rows * v * 4);
    struct vkg_sample_params prm[8], rprm[8];
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, r % 3);
        prm[r] = row_params(&g_settings[r % 9], 555 + r, r);
    }
    for (uint32_t r = 0; r < rows; r++) {
        memcpy(rev + (size_t)r * v, x + (size_t)(rows - 1 - r) * v, (size_t)v * 4);
        rprm[r] = prm[rows - 1 - r];
    }
    struct run_out *batch = malloc(sizeof *batch), *one = malloc(sizeof *one), *back = malloc(sizeof *back);
    gpu_run(x, rows, v, prm, 0, 1, batch);
    gpu_run(rev, rows, v, rprm, 0, 1, back);
    for (uint32_t r = 0; r < rows; r++) {
        struct vkg_sample_params p1 = prm[r];
        gpu_run(x + (size_t)r * v, 1, v, &p1, 0, 1, one);
        if (one->tokens[0] != batch->tokens[r] || back->tokens[rows - 1 - r] != batch->tokens[r])
            fail_msg("row %u: token %d in the batch, %d alone, %d at slot %u", r, batch->tokens[r], one->tokens[0],
                     back->tokens[rows - 1 - r], rows - 1 - r);
        assert_memory_equal(&one->probs[0], &batch->probs[r], 4);
        assert_memory_equal(&back->probs[rows - 1 - r], &batch->probs[r], 4);
    }
    free(x);
    free(rev);
    free(batch);
    free(one);
    free(back);
}

/* VKG_SAMPLE_ADVANCE: one recorded command buffer submitted 3 times draws steps s, s+1, s+2. */
static void test_advance_step(void **state)
{
    const uint32_t v = 9000, rows = 4;
    uint64_t seed = 99;
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params prm[4], start[4];
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, 1);
        start[r] = prm[r] = row_params(&g_settings[r == 3 ? 11 : r], 4000 + r, 10 * r); /* row 3: greedy */
    }
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm, VKG_SAMPLE_ADVANCE, 3, o);
    for (uint32_t r = 0; r < rows; r++) {
        assert_int_equal(prm[r].step, start[r].step + 3);
        for (uint32_t s = 0; s < 3; s++) {
            struct vkg_sample_params p = start[r];
            p.step += s;
            int f = check_rows("advance", x + (size_t)r * v, 1, v, NULL, &p, &o->tokens[s * rows + r],
                               &o->probs[s * rows + r], 0);
            assert_true(f == 0);
        }
    }
    free(x);
    free(o);
}

/* VKG_SAMPLE_NO_TOP_K | VKG_SAMPLE_NO_TOP_P turn the filters off whatever
 * the params say: top_k=1, top_p=0.5 rows then draw like T-only rows. */
static void test_flags_switch_filters_off(void **state)
{
    const uint32_t v = 9000, rows = 8;
    uint64_t seed = 123;
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params prm[8];
    struct setting filtered = { "filtered", 1.0f, 0.5f, 0.0f, 1, 0 }, plain = { "plain", 1.0f, 1.0f, 0.0f, 0, 0 };
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, 0);
        prm[r] = row_params(&filtered, 9 + r, 0);
    }
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm, VKG_SAMPLE_NO_TOP_K | VKG_SAMPLE_NO_TOP_P, 1, o);
    for (uint32_t r = 0; r < rows; r++) prm[r] = row_params(&plain, 9 + r, 0);
    assert_true(check_rows("flags", x, rows, v, NULL, prm, o->tokens, o->probs, 0) <= 1);
    int differs = 0;
    for (uint32_t r = 0; r < rows; r++) differs |= o->tokens[r] != ref_argmax(x + (size_t)r * v, v, NULL);
    assert_true(differs); /* with top_k = 1 honoured every row would be its argmax */
    free(x);
    free(o);
}

/* ---- non-finite logits (the contract in ops_sample.h) ---- */

#define NF_VOCAB 20000u /* 5 chunks of VKG_SAMPLE_CHUNK: a long row beyond one workgroup */
#define NF_CASES 9

static float bits_f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

/* Case k of a row: 0 NaN at the first logit, 1 at the last, 2 in the middle
 * of the third chunk, 3 all NaN, 4 all -inf, 5 all -inf but one NaN, 6 a
 * signalling NaN and a negative NaN, 7 +inf at two places (argmax the
 * first, prob 1/2; sampling draws between them), 8 untouched. */
static void make_nonfinite(float *row, uint32_t v, int k)
{
    switch (k) {
    case 0: row[0] = NAN; break;
    case 1: row[v - 1] = NAN; break;
    case 2: row[2 * VKG_SAMPLE_CHUNK + 300] = NAN; break;
    case 3:
        for (uint32_t i = 0; i < v; i++) row[i] = NAN;
        break;
    case 4:
        for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
        break;
    case 5:
        for (uint32_t i = 0; i < v; i++) row[i] = -INFINITY;
        row[v / 2 + 1] = NAN;
        break;
    case 6:
        row[VKG_SAMPLE_CHUNK - 1] = bits_f32(0x7f800001u);
        row[v / 2] = bits_f32(0xffc00123u);
        break;
    case 7:
        row[v / 3] = INFINITY;
        row[v - 2] = INFINITY;
        break;
    default: break;
    }
}

/* Every case in one batch against the reference (argmax when prm is NULL). */
static void check_nonfinite_batch(const struct vkg_sample_params *prm0, const char *what)
{
    const uint32_t v = NF_VOCAB, rows = NF_CASES;
    uint64_t seed = 4711;
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params prm[NF_CASES];
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, 1);
        make_nonfinite(x + (size_t)r * v, v, (int)r);
        if (prm0) {
            prm[r] = *prm0;
            prm[r].seed_lo += r;
        }
    }
    struct run_out *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm0 ? prm : NULL, 0, 1, o);
    for (uint32_t r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * v;
        double pr;
        int32_t want = ref_argmax(row, v, &pr);
        if (r < 7 && want != -1) fail_msg("%s row %u: the reference does not flag it", what, r);
        if (!prm0) {
            if (o->tokens[r] != want) fail_msg("%s row %u: token %d, reference %d", what, r, o->tokens[r], want);
            check_prob(what, r, o->probs[r], pr);
        }
    }
    if (prm0 && check_rows(what, x, rows, v, NULL, prm, o->tokens, o->probs, 0) > 1)
        fail_msg("%s: more than one row at a float boundary", what);
    free(x);
    free(o);
}

/* One row of a batch made non-finite: the other rows' tokens and probs stay bit for bit. */
static void check_nonfinite_isolated(const struct vkg_sample_params *prm0, const char *what)
{
    const uint32_t v = NF_VOCAB, rows = 4, bad = 2;
    uint64_t seed = 99;
    float *x = malloc((size_t)rows * v * 4);
    struct vkg_sample_params prm[4];
    for (uint32_t r = 0; r < rows; r++) {
        make_logits(&seed, x + (size_t)r * v, v, (int)(r % 3));
        if (prm0) {
            prm[r] = *prm0;
            prm[r].seed_lo += 17 * r;
        }
    }
    struct run_out *clean = malloc(sizeof *clean), *o = malloc(sizeof *o);
    gpu_run(x, rows, v, prm0 ? prm : NULL, 0, 1, clean);
    for (int k = 0; k < NF_CASES - 1; k++) {
        float *row = x + (size_t)bad * v, *keep = malloc((size_t)v * 4);
        memcpy(keep, row, (size_t)v * 4);
        make_nonfinite(row, v, k);
        gpu_run(x, rows, v, prm0 ? prm : NULL, 0, 1, o);
        for (uint32_t r = 0; r < rows; r++) {
            if (r == bad) continue;
            if (o->tokens[r] != clean->tokens[r] || memcmp(&o->probs[r], &clean->probs[r], 4) != 0)
                fail_msg("%s: case %d in row %u changed row %u: token %d prob %.9g, alone %d %.9g", what, k, bad, r,
                         o->tokens[r], o->probs[r], clean->tokens[r], clean->probs[r]);
        }
        int flagged = k < 7;
        if (flagged && (o->tokens[bad] != -1 || o->probs[bad] != 0.0f))
            fail_msg("%s: case %d: token %d prob %g, want -1 and 0", what, k, o->tokens[bad], o->probs[bad]);
        if (!flagged && o->tokens[bad] != (int32_t)(v / 3) && o->tokens[bad] != (int32_t)(v - 2))
            fail_msg("%s: case %d (+inf): token %d, not one of the +inf logits", what, k, o->tokens[bad]);
        memcpy(row, keep, (size_t)v * 4);
        free(keep);
    }
    free(x);
    free(clean);
    free(o);
}

static void check_nonfinite(const char *tier)
{
    char what[96];
    snprintf(what, sizeof what, "argmax %s", tier);
    check_nonfinite_batch(NULL, what);
    check_nonfinite_isolated(NULL, what);
    static const struct setting st[] = {
        { "T=1", 1.0f, 1.0f, 0.0f, 0, 0 },
        { "T=0.7 top_k=50 top_p=0.9 min_p=0.05", 0.7f, 0.9f, 0.05f, 50, 0 },
        { "T=0 (greedy)", 0.0f, 1.0f, 0.0f, 0, 1 },
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        struct vkg_sample_params p = row_params(&st[i], 321 + i, 5);
        snprintf(what, sizeof what, "sample %s %s", st[i].name, tier);
        check_nonfinite_batch(&p, what);
        check_nonfinite_isolated(&p, what);
    }
}

/* Every tier the device has: its default, then the 256-wide one and the scalar one. */
static void test_nonfinite_rows(void **state)
{
    save_tier();
    check_nonfinite(tier_name());
    if (g_saved_tier && g_saved_lane && g_saved_texel) {
        g_dev->use.lane_tier = 0;
        check_nonfinite(tier_name());
    }
    if (g_saved_tier) {
        g_dev->use.subgroup_arith = 0;
        check_nonfinite(tier_name());
    }
}

/* Bad shapes and views fail with VKG_ERR_INVALID_ARG naming the buffer; nothing is recorded. */
static void test_errors(void **state)
{
    struct vkg_buffer *lb = gpu_buffer_from(NULL, 4096, "small logits");
    struct vkg_buffer *wb = gpu_buffer_from(NULL, vkg_sample_workspace_bytes(1, 1024), "sample work");
    struct vkg_buffer *tb = gpu_buffer_from(NULL, 64, "tokens"), *fb = gpu_buffer_from(NULL, 64, "probs");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_view l = vkg_buffer_view(lb), w = vkg_buffer_view(wb), t = vkg_buffer_view(tb), f = vkg_buffer_view(fb);
    assert_int_equal(vkg_op_argmax(c, l, w, t, f, 2, 1024), VKG_ERR_INVALID_ARG); /* 2 rows need 8 KiB */
    assert_non_null(strstr(vkg_error_detail(), "small logits"));
    assert_int_equal(vkg_op_argmax(c, l, w, t, f, 1, 0), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_argmax(c, l, vkg_view_sub(w, 0, 64), t, f, 1, 1024), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "sample work"));
    assert_int_equal(vkg_op_sample(c, l, vkg_view_sub(t, 0, 16), w, t, f, 1, 1024, 0), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "params")); /* 32 bytes per row */
    struct vkg_sampler s = vkg_sampler_greedy();
    s.top_p = 1.5f;
    assert_int_equal(vkg_sampler_check(&s), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "top_p"));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(lb);
    vkg_buffer_free(wb);
    vkg_buffer_free(tb);
    vkg_buffer_free(fb);
    gpu_assert_no_validation();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),
        cmocka_unit_test(test_argmax_shapes),
        cmocka_unit_test(test_argmax_beyond_binding),
        cmocka_unit_test_teardown(test_scalar_tier, restore_tier),
        cmocka_unit_test_teardown(test_wide_tier, restore_tier),
        cmocka_unit_test_teardown(test_lane_tier, restore_tier),
        cmocka_unit_test(test_sample_small_vocab),
        cmocka_unit_test(test_top_p_exact_boundary),
        cmocka_unit_test(test_sample_settings_152k),
        cmocka_unit_test(test_sample_settings_256k),
        cmocka_unit_test(test_sample_beyond_binding),
        cmocka_unit_test(test_chi_square),
        cmocka_unit_test(test_batch_invariance),
        cmocka_unit_test(test_advance_step),
        cmocka_unit_test(test_flags_switch_filters_off),
        cmocka_unit_test_teardown(test_nonfinite_rows, restore_tier),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
