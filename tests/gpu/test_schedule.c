/* test_schedule — the continuous-batching scheduler (runtime/gen/schedule.c)
 * against vkg_generate run on each prompt alone (generate.c, whose logits the
 * numpy reference checks): groups of k samples with shared and distinct
 * prompts, chunked prefill mixed with decode, a KV pool so small that samples
 * are paused and resumed, the cross-group prefix cache, and groups that can
 * never run. Every sample's tokens must equal the lone run's, greedy and
 * sampled (sample j of a group draws stream j of its seed). Tiny Llama and
 * DeepSeek-V2 (MLA + MoE) models from make_tiny_models.py. */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "schedule.h"

static struct vkg_model *g_llama, *g_ds2;

static struct vkg_model *load(const char *env, const char *fallback, const char *name)
{
    const char *dir = getenv(env);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : fallback, name);
    struct vkg_model *m = NULL;
    if (vkg_model_load(g_dev, path, NULL, &m) != VKG_OK) fprintf(stderr, "%s: %s\n", path, vkg_error_detail());
    return m;
}

static int setup(void **state)
{
    if (gpu_setup(state)) return -1;
    /* a Llama with a 512-token vocabulary (make_score_models.py): the 128k-vocabulary tiny
     * llama spends most of a step in its output head, under validation, for nothing here */
    g_llama = load("VKGRM_SCORE_MODELS", "build/score-models", "judge");
    g_ds2 = load("VKGRM_TINY_MODELS", "build/tiny-models", "deepseek_v2");
    return g_llama && g_ds2 ? 0 : -1;
}

static int teardown(void **state)
{
    vkg_model_free(g_llama);
    vkg_model_free(g_ds2);
    return gpu_teardown(state);
}

#define MAX_K 4
#define N_GROUPS 5
#define MAX_LEN 224
#define HEAD 24       /* shared head of every prompt */
#define LONG_HEAD 176 /* the cascade cases: a head long enough for cascade attention (model.c) */

/* Group g, sample j: a shared head of head tokens, then tokens that differ per group
 * and (for some groups) per sample; samples 1 and 3 of group 2 repeat
 * sample 0's prompt (one node, two forks). */
struct spec {
    uint32_t k;
    float temp;
    uint32_t max_tokens;
    int32_t prompt[MAX_K][MAX_LEN];
    uint32_t n[MAX_K];
};

static void make_specs(struct spec *sp, uint32_t vocab, uint32_t head_len)
{
    uint64_t r = 0x5eed;
    int32_t head[LONG_HEAD];
    for (uint32_t i = 0; i < head_len; i++) head[i] = (int32_t)(rng_next(&r) % 5000) + 10;
    const uint32_t ks[N_GROUPS] = { 1, 3, 4, 2, 1 };
    const float temps[N_GROUPS] = { 0.0f, 0.0f, 0.9f, 0.7f, 0.8f };
    for (uint32_t g = 0; g < N_GROUPS; g++) {
        struct spec *s = &sp[g];
        s->k = ks[g];
        s->temp = temps[g];
        s->max_tokens = 6 + 3 * g;
        uint32_t tail = 5 + 7 * g;
        for (uint32_t j = 0; j < s->k; j++) {
            uint32_t n = 0;
            for (uint32_t i = 0; i < head_len; i++) /* the long head: ids within the vocabulary */
                s->prompt[j][n++] = head_len == HEAD ? head[i] : 5 + head[i] % (int32_t)(vocab - 5);
            for (uint32_t i = 0; i < tail; i++) {
                uint64_t v = (g * 977 + i * 31 + ((g == 2 && (j & 1)) ? 0 : j) * 7919 * (i >= tail / 2)) % vocab;
                s->prompt[j][n++] = (int32_t)(v < 5 ? v + 5 : v);
            }
            s->n[j] = n;
        }
    }
}

static struct vkg_sampler spec_sampler(const struct spec *s, uint32_t g)
{
    struct vkg_sampler sm = vkg_sampler_greedy();
    sm.temperature = s->temp;
    sm.top_p = s->temp > 0 ? 0.95f : 1.0f;
    sm.seed = 1000 + g;
    return sm;
}

/* The reference: each sample alone through vkg_generate (stream j). */
static void lone_runs(struct vkg_model *m, const struct spec *sp, struct vkg_gen_sample ref[N_GROUPS][MAX_K])
{
    for (uint32_t g = 0; g < N_GROUPS; g++)
        for (uint32_t j = 0; j < sp[g].k; j++) {
            struct vkg_gen_request r = { .prompt = sp[g].prompt[j],
                                         .n_prompt = sp[g].n[j],
                                         .n_samples = 1,
                                         .first_sample = j,
                                         .max_tokens = sp[g].max_tokens,
                                         .sampler = spec_sampler(&sp[g], g) };
            struct vkg_gen_opts o = { 0 };
            GPU_OK(vkg_generate(m, &r, 1, &o, &ref[g][j]));
        }
}

/* All groups through one scheduler; returns its stats. */
static struct vkg_sched_stats sched_runs(struct vkg_model *m, const struct spec *sp, struct vkg_sched_opts o,
                                         struct vkg_sched_done out[N_GROUPS])
{
    struct vkg_sched *s;
    GPU_OK(vkg_sched_create(m, &o, &s));
    for (uint32_t g = 0; g < N_GROUPS; g++) {
        const int32_t *p[MAX_K];
        for (uint32_t j = 0; j < sp[g].k; j++) p[j] = sp[g].prompt[j];
        struct vkg_sched_group in = { .user = g,
                                      .k = sp[g].k,
                                      .prompts = p,
                                      .n_prompt = sp[g].n,
                                      .sampler = spec_sampler(&sp[g], g),
                                      .max_tokens = sp[g].max_tokens };
        GPU_OK(vkg_sched_add(s, &in));
    }
    uint32_t got = 0;
    for (int guard = 0; !vkg_sched_idle(s) && guard < 10000; guard++) {
        GPU_OK(vkg_sched_step(s));
        struct vkg_sched_done d;
        while (vkg_sched_poll(s, &d)) {
            assert_true(d.user < N_GROUPS);
            out[d.user] = d;
            got++;
        }
    }
    assert_int_equal(got, N_GROUPS);
    struct vkg_sched_stats st = *vkg_sched_stats(s);
    vkg_sched_free(s);
    return st;
}

static void compare(const struct spec *sp, struct vkg_gen_sample ref[N_GROUPS][MAX_K],
                    struct vkg_sched_done out[N_GROUPS], const char *what)
{
    for (uint32_t g = 0; g < N_GROUPS; g++) {
        if (out[g].status != VKG_OK) fail_msg("%s: group %u failed: %s", what, g, out[g].error);
        for (uint32_t j = 0; j < sp[g].k; j++) {
            const struct vkg_gen_sample *a = &out[g].samples[j], *b = &ref[g][j];
            if (a->n != b->n || a->finish != b->finish || memcmp(a->tokens, b->tokens, a->n * 4) != 0)
                fail_msg("%s: group %u sample %u: %u tokens (finish %d) vs alone %u (finish %d), first %d vs %d", what,
                         g, j, a->n, a->finish, b->n, b->finish, a->n ? a->tokens[0] : -1, b->n ? b->tokens[0] : -1);
        }
    }
}

/* Prompt tokens the scheduler must prefill when nothing is paused: per group the
 * prefix all its prompts share (but each prompt's last token, which its samples
 * feed themselves) minus what the cache (group 0's prefix, from 16 tokens on)
 * already holds, plus each distinct prompt's rest. */
static void expected_prefill(const struct spec *sp, int cache, uint64_t *prefill, uint64_t *cached)
{
    uint32_t P0 = 0;
    *prefill = *cached = 0;
    for (uint32_t g = 0; g < N_GROUPS; g++) {
        const struct spec *s = &sp[g];
        uint32_t P = UINT32_MAX;
        for (uint32_t j = 0; j < s->k; j++) P = s->n[j] - 1 < P ? s->n[j] - 1 : P;
        for (uint32_t j = 1; j < s->k; j++) {
            uint32_t i = 0;
            while (i < P && s->prompt[j][i] == s->prompt[0][i]) i++;
            P = i;
        }
        uint32_t C = 0;
        if (g == 0) P0 = P;
        else if (cache && P0 >= 16)
            while (C < P && C < P0 && sp[0].prompt[0][C] == s->prompt[0][C]) C++;
        *prefill += P - C;
        *cached += C;
        for (uint32_t j = 0; j < s->k; j++) {
            int dup = 0;
            for (uint32_t i = 0; i < j; i++)
                dup |= s->n[i] == s->n[j] && !memcmp(s->prompt[i], s->prompt[j], s->n[j] * 4);
            if (!dup) *prefill += s->n[j] - 1 - P;
        }
    }
}

static void run_case_head(struct vkg_model *m, struct vkg_sched_opts o, const char *what, struct vkg_sched_stats *st,
                          uint32_t head_len)
{
    struct spec sp[N_GROUPS];
    make_specs(sp, m->cfg.vocab_size, head_len);
    struct vkg_gen_sample ref[N_GROUPS][MAX_K];
    lone_runs(m, sp, ref);
    struct vkg_sched_done out[N_GROUPS];
    memset(out, 0, sizeof out);
    *st = sched_runs(m, sp, o, out);
    compare(sp, ref, out, what);
    uint64_t prompt = 0;
    for (uint32_t g = 0; g < N_GROUPS; g++)
        for (uint32_t j = 0; j < sp[g].k; j++) {
            prompt += sp[g].n[j];
            vkg_gen_results_free(&ref[g][j], 1);
        }
    assert_int_equal(st->prompt_tokens, prompt);
    if (!st->pauses) { /* exactly the shared tree, each shared prefix once */
        uint64_t pre, cached;
        expected_prefill(sp, !o.no_prefix_cache, &pre, &cached);
        assert_int_equal(st->prefill_tokens, pre);
        assert_int_equal(st->cached_tokens, cached);
        assert_true(pre + cached < prompt);
    }
    for (uint32_t g = 0; g < N_GROUPS; g++) vkg_sched_done_free(&out[g]);
    gpu_assert_no_validation();
}

static void run_case(struct vkg_model *m, struct vkg_sched_opts o, const char *what, struct vkg_sched_stats *st)
{
    run_case_head(m, o, what, st, HEAD);
}

/* Chunked prefill (24-token steps) mixed with decode; shared prefixes run once. */
static void test_llama_groups(void **state)
{
    struct vkg_sched_stats st;
    run_case(g_llama, (struct vkg_sched_opts){ .max_running = 8, .max_step_tokens = 24, .ctx = 256 }, "llama", &st);
    /* the cache gives every later group at least the 24-token head */
    assert_true(st.cached_tokens >= 24u * (N_GROUPS - 1));
    assert_int_equal(st.pauses, 0);
}

/* A pool of 8 pages: samples pause and resume; the tokens do not change. */
static void test_llama_tight_pool(void **state)
{
    struct vkg_sched_stats st;
    run_case(g_llama, (struct vkg_sched_opts){ .max_running = 8, .max_step_tokens = 32, .ctx = 128, .kv_tokens = 128 },
             "llama tight pool", &st);
    assert_true(st.pauses > 0);
    assert_true(st.recomputed_tokens > 0);
}

/* MLA + MoE, no prefix cache, one group at a time. */
static void test_deepseek2_groups(void **state)
{
    struct vkg_sched_stats st;
    run_case(g_ds2, (struct vkg_sched_opts){ .max_running = 4, .max_step_tokens = 40, .no_prefix_cache = 1 },
             "deepseek_v2", &st);
    assert_int_equal(st.cached_tokens, 0);
}

/* Decode steps of many samples whose prompts share a long head (every group's
 * through the prefix cache): attention reads the shared pages once for all
 * (cascade, model.c) and the tokens still equal the lone runs (plain attention).
 * The cascade runs on the tiled attention tier (forced here); under attn_lane
 * (CPU drivers) no step takes it, with the same tokens. */
static void test_cascade(void **state)
{
    struct vkg_model *ms[2] = { g_llama, g_ds2 };
    const char *names[2] = { "llama cascade", "deepseek_v2 cascade" };
    for (int i = 0; i < 2; i++) {
        struct vkg_sched_stats st;
        int lane = ms[i]->dev->use.attn_lane;
        ms[i]->dev->use.attn_lane = 0;
        uint64_t before = ms[i]->cascade_steps;
        run_case_head(ms[i], (struct vkg_sched_opts){ .max_running = 16, .max_step_tokens = 64, .ctx = 256 }, names[i],
                      &st, LONG_HEAD);
        ms[i]->dev->use.attn_lane = lane;
        assert_int_equal(st.pauses, 0);
        if (ms[i]->cascade_steps == before) fail_msg("%s: no step took the cascade path", names[i]);
        if (!lane) continue;
        before = ms[i]->cascade_steps;
        run_case_head(ms[i], (struct vkg_sched_opts){ .max_running = 16, .max_step_tokens = 64, .ctx = 256 }, names[i],
                      &st, LONG_HEAD);
        if (ms[i]->cascade_steps != before) fail_msg("%s: a cascade step under attn_lane", names[i]);
    }
}

/* A prompt beyond the context and a sample beyond the pool come back as failed groups. */
static void test_groups_that_cannot_run(void **state)
{
    struct vkg_sched *s;
    GPU_OK(vkg_sched_create(g_llama, &(struct vkg_sched_opts){ .max_running = 4, .ctx = 64, .kv_tokens = 64 }, &s));
    int32_t long_prompt[80];
    for (int i = 0; i < 80; i++) long_prompt[i] = 100 + i;
    const int32_t *p[1] = { long_prompt };
    uint32_t n80 = 80, n40 = 40;
    struct vkg_sched_group a = {
        .user = 1, .k = 1, .prompts = p, .n_prompt = &n80, .sampler = vkg_sampler_greedy(), .max_tokens = 4
    };
    struct vkg_sched_group b = {
        .user = 2, .k = 1, .prompts = p, .n_prompt = &n40, .sampler = vkg_sampler_greedy(), .max_tokens = 200
    };
    GPU_OK(vkg_sched_add(s, &a));
    GPU_OK(vkg_sched_add(s, &b));
    /* b: 40 + min(200, 64 - 40) = 64 tokens = 4 pages + 2 > 4 pages in the pool */
    struct vkg_sched_done d;
    int seen = 0;
    while (vkg_sched_poll(s, &d)) {
        assert_int_equal(d.status, VKG_ERR_LIMIT);
        assert_non_null(d.error);
        if (d.user == 1) assert_non_null(strstr(d.error, "80 tokens does not fit the context of 64"));
        if (d.user == 2) assert_non_null(strstr(d.error, "KV pages"));
        seen |= 1 << d.user;
        vkg_sched_done_free(&d);
    }
    assert_int_equal(seen, 6);
    assert_true(vkg_sched_idle(s));
    /* a group larger than the running limit is a usage error */
    const int32_t *p5[5] = { long_prompt, long_prompt, long_prompt, long_prompt, long_prompt };
    uint32_t n5[5] = { 8, 8, 8, 8, 8 };
    struct vkg_sched_group c = {
        .user = 3, .k = 5, .prompts = p5, .n_prompt = n5, .sampler = vkg_sampler_greedy(), .max_tokens = 4
    };
    assert_int_equal(vkg_sched_add(s, &c), VKG_ERR_INVALID_ARG);
    vkg_sched_free(s);
    gpu_assert_no_validation();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_groups),           cmocka_unit_test(test_llama_tight_pool),
        cmocka_unit_test(test_deepseek2_groups),       cmocka_unit_test(test_cascade),
        cmocka_unit_test(test_groups_that_cannot_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
