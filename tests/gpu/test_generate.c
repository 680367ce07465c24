/* test_generate — batch invariance of generation on a tiny Llama
 * (make_tiny_models.py; VKG_TEST_GEN_MODEL names another, e.g. deepseek_v2):
 * K samples generated together equal the same samples generated one by one
 * with the same seeds, greedy and sampled, two prompts in one batch equal
 * each prompt alone, and stop strings cut a sample where they appear.
 * VKG_TEST_EXPECT_MLA_LATENT=1 (DeepSeek-V2): where the device takes the
 * latent (use.mla_latent: attn_lane, or attn_wide with VKGRM_MLA_LATENT=1)
 * the KV cache must hold it, one KV head of kv_lora + rope / kv_lora;
 * elsewhere every head's k and v. */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"

static struct vkg_model *g_model;

static void model_path(char *path, size_t n)
{
    const char *dir = getenv("VKGRM_TINY_MODELS"), *name = getenv("VKG_TEST_GEN_MODEL");
    snprintf(path, n, "%s/%s", dir ? dir : "build/tiny-models", name && *name ? name : "llama");
}

static int setup(void **state)
{
    if (gpu_setup(state)) return -1;
    char path[1024];
    model_path(path, sizeof path);
    enum vkg_status s = vkg_model_load(g_dev, path, NULL, &g_model);
    if (s != VKG_OK) fprintf(stderr, "%s: %s\n", path, vkg_error_detail());
    return s == VKG_OK ? 0 : -1;
}

static int teardown(void **state)
{
    vkg_model_free(g_model);
    return gpu_teardown(state);
}

static const int32_t P1[] = { 791, 1404, 374, 264, 4382, 13, 578, 4062, 18, 22 };
static const int32_t P2[] = { 9906, 11, 1917, 0, 578, 3363 };

static struct vkg_gen_request req(const int32_t *p, uint32_t n, uint32_t k, uint32_t first, float temp)
{
    struct vkg_gen_request r = { .prompt = p, .n_prompt = n, .n_samples = k, .first_sample = first, .max_tokens = 12 };
    r.sampler = vkg_sampler_greedy();
    r.sampler.temperature = temp;
    r.sampler.top_p = temp > 0 ? 0.95f : 1.0f;
    r.sampler.seed = 7;
    return r;
}

static void assert_same(const struct vkg_gen_sample *a, const struct vkg_gen_sample *b, const char *what)
{
    if (a->n != b->n || memcmp(a->tokens, b->tokens, a->n * 4) != 0)
        fail_msg("%s: %u tokens vs %u tokens (first %d vs %d)", what, a->n, b->n, a->n ? a->tokens[0] : -1,
                 b->n ? b->tokens[0] : -1);
}

static void together_vs_alone(float temp)
{
    struct vkg_gen_opts o = { 0 };
    struct vkg_gen_sample all[4], one[1];
    struct vkg_gen_request r = req(P1, 10, 4, 0, temp);
    GPU_OK(vkg_generate(g_model, &r, 1, &o, all));
    int distinct = 0;
    for (uint32_t j = 0; j < 4; j++) {
        struct vkg_gen_request rj = req(P1, 10, 1, j, temp);
        GPU_OK(vkg_generate(g_model, &rj, 1, &o, one));
        char what[64];
        snprintf(what, sizeof what, "sample %u (temp %.1f)", j, temp);
        assert_same(&all[j], &one[0], what);
        distinct += j > 0 && (all[j].n != all[0].n || memcmp(all[j].tokens, all[0].tokens, all[0].n * 4));
        vkg_gen_results_free(one, 1);
    }
    if (temp == 0) assert_int_equal(distinct, 0); /* greedy: every sample the same */
    else assert_true(distinct > 0);               /* sampled: the streams differ */
    vkg_gen_results_free(all, 4);
    gpu_assert_no_validation();
}

static void test_greedy_batch_invariance(void **s) { together_vs_alone(0); }
static void test_sampled_batch_invariance(void **s) { together_vs_alone(0.9f); }

static void test_two_prompts_in_one_batch(void **s)
{
    struct vkg_gen_opts o = { 0 };
    struct vkg_gen_request both[2] = { req(P1, 10, 2, 0, 0.9f), req(P2, 6, 2, 0, 0.9f) };
    struct vkg_gen_sample out[4], a[2], b[2];
    GPU_OK(vkg_generate(g_model, both, 2, &o, out));
    GPU_OK(vkg_generate(g_model, &both[0], 1, &o, a));
    GPU_OK(vkg_generate(g_model, &both[1], 1, &o, b));
    assert_same(&out[0], &a[0], "prompt 1 sample 0");
    assert_same(&out[1], &a[1], "prompt 1 sample 1");
    assert_same(&out[2], &b[0], "prompt 2 sample 0");
    assert_same(&out[3], &b[1], "prompt 2 sample 1");
    vkg_gen_results_free(out, 4);
    vkg_gen_results_free(a, 2);
    vkg_gen_results_free(b, 2);
    gpu_assert_no_validation();
}

/* A stop string ends a sample at the token that completes it; the tokens are
 * a prefix of the unstopped run. */
static void test_stop_string(void **s)
{
    char path[1024];
    model_path(path, sizeof path);
    struct vkg_tokenizer *tok;
    GPU_OK(vkg_tokenizer_load(path, &tok));
    struct vkg_gen_opts o = { .tok = tok };
    struct vkg_gen_request r = req(P1, 10, 1, 0, 0);
    struct vkg_gen_sample full, cut;
    GPU_OK(vkg_generate(g_model, &r, 1, &o, &full));
    /* the stop: an ASCII piece of a later token that the text before it lacks */
    char *stop = NULL;
    uint32_t at = 0;
    for (uint32_t i = 3; i < full.n && !stop; i++) {
        char *piece, *before;
        GPU_OK(vkg_tokenizer_decode(tok, &full.tokens[i], 1, 0, &piece));
        GPU_OK(vkg_tokenizer_decode(tok, full.tokens, i, 0, &before));
        int ascii = piece[0] != 0;
        for (const char *c = piece; *c; c++) ascii &= (unsigned char)*c < 128;
        if (ascii && !strstr(before, piece)) {
            stop = piece;
            at = i;
        } else {
            free(piece);
        }
        free(before);
    }
    if (!stop) fail_msg("no usable stop string in the greedy run");
    const char *stops[1] = { stop };
    o.stop = stops;
    o.n_stop = 1;
    GPU_OK(vkg_generate(g_model, &r, 1, &o, &cut));
    assert_int_equal(cut.finish, VKG_FINISH_STOP);
    assert_int_equal(cut.n, at + 1);
    assert_memory_equal(cut.tokens, full.tokens, cut.n * 4);
    free(stop);
    vkg_gen_results_free(&full, 1);
    vkg_gen_results_free(&cut, 1);
    vkg_tokenizer_free(tok);
    gpu_assert_no_validation();
}

/* The KV form: the MLA latent where the run expects it (config sizes), every head's k and v otherwise. */
static void test_kv_form(void **s)
{
    const struct vkg_hf_config *c = &g_model->cfg;
    struct vkg_kv_config k = vkg_model_kv_config(g_model, 1, 16);
    const char *want = getenv("VKG_TEST_EXPECT_MLA_LATENT");
    if (want && strcmp(want, "1") == 0 && g_model->dev->use.mla_latent) { /* where the device takes it */
        assert_int_equal(c->arch, VKG_ARCH_DEEPSEEK_V2);
        assert_int_equal(k.n_kv_heads, 1);
        assert_int_equal(k.dk, c->kv_lora_rank + c->qk_rope_head_dim);
        assert_int_equal(k.dv, c->kv_lora_rank);
    } else if (c->arch == VKG_ARCH_DEEPSEEK_V2) {
        assert_int_equal(k.n_kv_heads, c->n_heads);
        assert_int_equal(k.dk, c->qk_nope_head_dim + c->qk_rope_head_dim);
        assert_int_equal(k.dv, c->v_head_dim);
    } else {
        assert_int_equal(k.n_kv_heads, c->n_kv_heads);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_form),
        cmocka_unit_test(test_greedy_batch_invariance),
        cmocka_unit_test(test_sampled_batch_invariance),
        cmocka_unit_test(test_two_prompts_in_one_batch),
        cmocka_unit_test(test_stop_string),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
