/* test_model_plan — the host-only parts of loading a model (runtime/models):
 * the tensor list an architecture declares (spec.h) for published configs,
 * against the shapes of the published checkpoints (Llama-3.1-8B,
 * DeepSeek-V2-Lite: their model.safetensors.index.json / headers), and the
 * memory plan (plan.h) against sizes worked out by hand for a device with
 * lavapipe's limits: the KV cache of -c 8192, a refused -c 1e9 (one layer's
 * pool beyond maxStorageBufferRange) and a refused total beyond the heap,
 * each message naming the sizes and the flag to lower. No GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "plan.h"
#include "spec.h"

#define CONFIG_DIR VKG_SOURCE_DIR "/tests/data/configs"

static const struct vkg_tensor_spec *find(const struct vkg_tensor_spec *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0) return &s[i];
    fail_msg("no tensor '%s' in the list", name);
    return NULL;
}

static void want_shape(const struct vkg_tensor_spec *s, size_t n, const char *name, uint64_t d0, uint64_t d1)
{
    const struct vkg_tensor_spec *t = find(s, n, name);
    if (t->shape[0] != d0 || t->shape[1] != d1 || t->n_dims != (d1 ? 2 : 1))
        fail_msg("%s: [%llu, %llu], want [%llu, %llu]", name, (unsigned long long)t->shape[0],
                 (unsigned long long)t->shape[1], (unsigned long long)d0, (unsigned long long)d1);
}

/* Meta-Llama-3.1-8B: 291 tensors (32 layers x 9, embed, norm, lm_head). */
static void test_spec_llama31_8b(void **state)
{
    struct vkg_hf_config c;
    assert_int_equal(vkg_hf_config_load(CONFIG_DIR "/llama31_8b", &c), VKG_OK);
    struct vkg_tensor_spec *s;
    size_t n;
    assert_int_equal(vkg_model_spec(&c, c.n_layers, &s, &n), VKG_OK);
    assert_int_equal(n, 291);
    want_shape(s, n, "model.embed_tokens.weight", 128256, 4096);
    want_shape(s, n, "lm_head.weight", 128256, 4096);
    want_shape(s, n, "model.layers.31.self_attn.q_proj.weight", 4096, 4096);
    want_shape(s, n, "model.layers.31.self_attn.k_proj.weight", 1024, 4096);
    want_shape(s, n, "model.layers.0.self_attn.o_proj.weight", 4096, 4096);
    want_shape(s, n, "model.layers.0.mlp.gate_proj.weight", 14336, 4096);
    want_shape(s, n, "model.layers.0.mlp.down_proj.weight", 4096, 14336);
    want_shape(s, n, "model.layers.7.post_attention_layernorm.weight", 4096, 0);
    free(s);
    vkg_hf_config_free(&c);
}

/* DeepSeek-V2-Lite: MLA without q_lora, 64 routed experts of 1408 + 2 shared, layer 0 dense. */
static void test_spec_deepseek_v2_lite(void **state)
{
    struct vkg_hf_config c;
    assert_int_equal(vkg_hf_config_load(CONFIG_DIR "/deepseek_v2_lite", &c), VKG_OK);
    struct vkg_tensor_spec *s;
    size_t n;
    assert_int_equal(vkg_model_spec(&c, c.n_layers, &s, &n), VKG_OK);
    /* embed, norm, lm_head; layer 0: 2 norms, q, kv_a, kv_a_norm, kv_b, o, 3 mlp; 26 MoE layers:
     * 2 norms, 5 attention, router, 64 x 3 experts, 3 shared */
    assert_int_equal(n, 3 + 10 + 26 * (2 + 5 + 1 + 64 * 3 + 3));
    want_shape(s, n, "model.layers.0.self_attn.q_proj.weight", 3072, 2048);
    want_shape(s, n, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight", 576, 2048);
    want_shape(s, n, "model.layers.0.self_attn.kv_a_layernorm.weight", 512, 0);
    want_shape(s, n, "model.layers.0.self_attn.kv_b_proj.weight", 4096, 512);
    want_shape(s, n, "model.layers.0.self_attn.o_proj.weight", 2048, 2048);
    want_shape(s, n, "model.layers.0.mlp.gate_proj.weight", 10944, 2048);
    want_shape(s, n, "model.layers.1.mlp.gate.weight", 64, 2048);
    want_shape(s, n, "model.layers.1.mlp.experts.63.down_proj.weight", 2048, 1408);
    want_shape(s, n, "model.layers.26.mlp.shared_experts.up_proj.weight", 2816, 2048);
    const struct vkg_tensor_spec *e = find(s, n, "model.layers.5.mlp.experts.17.up_proj.weight");
    assert_int_equal(e->layer, 5);
    assert_int_equal(e->expert, 17);
    assert_int_equal(e->matrix, 1);
    free(s);
    vkg_hf_config_free(&c);
}

/* A device with lavapipe's limits (vkgrm-info on the build machine) and a chosen heap. */
static struct vkg_device fake_device(uint64_t heap)
{
    struct vkg_device d;
    memset(&d, 0, sizeof d);
    d.info.max_storage_buffer_range = 128ull << 20;
    d.info.max_memory_allocation_size = 2048ull << 20;
    d.info.max_buffer_size = 4096ull << 20;
    d.info.min_storage_offset_alignment = 16;
    d.info.max_workgroup_count[0] = d.info.max_workgroup_count[1] = d.info.max_workgroup_count[2] = 65535;
    d.info.n_heaps = 1;
    d.info.heap_size[0] = heap;
    d.info.heap_device_local[0] = 1;
    return d;
}

/* Llama-3.1-8B in BF16: 8030261248 parameters, embed/lm_head 128256 x 4096 the largest. */
static void llama_report(struct vkg_model_report *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(vkg_hf_config_load(CONFIG_DIR "/llama31_8b", &r->cfg), VKG_OK);
    r->config_ok = 1;
    r->dir = strdup("llama31_8b");
    r->weight_bytes = 8030261248ull * 2;
    r->largest_tensor_bytes = 128256ull * 4096 * 2;
    snprintf(r->largest_tensor, sizeof r->largest_tensor, "model.embed_tokens.weight");
}

static void test_plan_kv_8k(void **state)
{
    struct vkg_model_report r;
    llama_report(&r);
    struct vkg_device dev = fake_device(64ull << 30);
    struct vkg_model_plan p;
    struct vkg_plan_request q = { .ctx = 8192, .n_seqs = 1 };
    assert_int_equal(vkg_model_plan(&r, &dev, &q, &p), VKG_OK);
    /* 32 layers x (K + V) x 8 KV heads x 128 dims x 4 bytes x 8192 tokens = 2 GiB; one layer's K pool 32 MiB */
    assert_true(p.kv == 32ull * 2 * 8 * 128 * 4 * 8192);
    assert_true(p.kv_layer_pool == 8ull * 128 * 4 * 8192);
    assert_true(p.weights == 8030261248ull * 2);
    assert_true(p.total == p.weights + p.kv + p.scratch);
    assert_true(p.scratch > 512ull * 14336 * 4 * 3); /* at least gate, up, ff of a 512-token step */
    vkg_model_report_free(&r);
}

/* DeepSeek-V2-Lite on a CPU driver (attn_lane; lavapipe's 128 MiB binding): the MLA latent by default
 * (16 x (192 + 128) floats per token and layer against 576, V being the first 512 of them: 8.9x); the
 * shapes of the bundled toy judge (4 x (64 + 32) against 160: 2.4x < 3) keep every head's k and v until
 * those do not fit
 * and the latent does; VKGRM_MLA_LATENT=0 and the limit's error. Sizes from the published shapes:
 * 27 layers, 16 heads, k 128 + 64, v 128, kv_lora 512. */
static void test_plan_mla_latent(void **state)
{
    struct vkg_model_report r;
    memset(&r, 0, sizeof r);
    assert_int_equal(vkg_hf_config_load(CONFIG_DIR "/deepseek_v2_lite", &r.cfg), VKG_OK);
    r.config_ok = 1;
    r.dir = strdup("deepseek_v2_lite");
    r.weight_bytes = 15706484224ull * 2;
    r.largest_tensor_bytes = 102400ull * 2048 * 2;
    struct vkg_device dev = fake_device(64ull << 30);
    dev.use.attn_lane = 1;
    dev.use.mla_latent = 1; /* VKGRM_MLA_LATENT unset */
    struct vkg_model_plan p;
    struct vkg_plan_request small = { .ctx = 1024, .n_seqs = 1 }, big = { .ctx = 4096, .n_seqs = 4 };
    assert_int_equal(vkg_model_plan(&r, &dev, &small, &p), VKG_OK);
    assert_int_equal(p.mla_latent, 1);
    assert_true(p.kv_layer_pool == 1024ull * 576 * 4);
    assert_true(p.kv == 27ull * 1024 * 576 * 4); /* no V pool: V is the latent, the start of each K row */
    assert_true(p.weights == 15706484224ull * 2 + 27ull * 16 * 512 * 128 * 4); /* + each layer's W_UK^T, F32 */
    dev.use.mla_latent = 0;                                                    /* VKGRM_MLA_LATENT=0, or no attn_lane */
    assert_int_equal(vkg_model_plan(&r, &dev, &small, &p), VKG_OK);
    assert_int_equal(p.mla_latent, 0);
    assert_true(p.kv_layer_pool == 1024ull * 16 * 192 * 4);
    assert_true(p.kv == 27ull * 1024 * 16 * (192 + 128) * 4); /* 8.9x the latent's */
    assert_true(p.weights == 15706484224ull * 2);
    /* 16384 tokens: one layer's K pool of every head, 16384 x 16 x 192 x 4 = 192 MiB > 128 MiB */
    vkg_error_clear();
    assert_int_equal(vkg_model_plan(&r, &dev, &big, &p), VKG_ERR_LIMIT);
    assert_non_null(strstr(vkg_error_detail(), "192.0 MiB"));
    assert_int_equal(p.mla_latent, 0);
    /* the toy judge's attention shapes */
    r.cfg.n_heads = r.cfg.n_kv_heads = 4;
    r.cfg.kv_lora_rank = 128;
    r.cfg.qk_nope_head_dim = r.cfg.qk_rope_head_dim = r.cfg.v_head_dim = 32;
    dev.use.mla_latent = 1;
    assert_int_equal(vkg_model_plan(&r, &dev, &small, &p), VKG_OK);
    assert_int_equal(p.mla_latent, 0);
    assert_true(p.kv_layer_pool == 1024ull * 4 * 64 * 4);
    /* 160000 tokens: every head's K pool 160000 x 4 x 64 x 4 = 156.25 MiB > 128; the latent's 97.7 MiB */
    struct vkg_plan_request many = { .ctx = 40000, .n_seqs = 4 };
    assert_int_equal(vkg_model_plan(&r, &dev, &many, &p), VKG_OK);
    assert_int_equal(p.mla_latent, 1);
    assert_true(p.kv_layer_pool == 160000ull * 160 * 4);
    dev.use.mla_latent = 2; /* VKGRM_MLA_LATENT=1 */
    assert_int_equal(vkg_model_plan(&r, &dev, &small, &p), VKG_OK);
    assert_int_equal(p.mla_latent, 1);
    vkg_model_report_free(&r);
}

static void test_plan_refuses_huge_ctx(void **state)
{
    struct vkg_model_report r;
    llama_report(&r);
    struct vkg_device dev = fake_device(64ull << 30);
    struct vkg_model_plan p;
    struct vkg_plan_request q = { .ctx = 1000000000, .n_seqs = 1 };
    vkg_error_clear();
    assert_int_equal(vkg_model_plan(&r, &dev, &q, &p), VKG_ERR_LIMIT);
    const char *msg = vkg_error_detail();
    /* 62500000 pages x 16 tokens x 8 heads x 128 x 4 bytes = 4096000000000 bytes = 3906250 MiB */
    assert_true(p.kv_layer_pool == 62500000ull * 16 * 8 * 128 * 4);
    const char *want[] = { "-c 1000000000 x --n-samples 1", "3906250.0 MiB", "maxStorageBufferRange 128 MiB",
                           "lower -c or --n-samples" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(msg, want[i])) fail_msg("no '%s' in: %s", want[i], msg);
    vkg_model_report_free(&r);
}

static void test_plan_refuses_total_beyond_heap(void **state)
{
    struct vkg_model_report r;
    llama_report(&r);
    struct vkg_device dev = fake_device(8ull << 30);
    struct vkg_model_plan p;
    struct vkg_plan_request q = { .ctx = 4096, .n_seqs = 4 };
    vkg_error_clear();
    assert_int_equal(vkg_model_plan(&r, &dev, &q, &p), VKG_ERR_DEVICE_OOM);
    const char *msg = vkg_error_detail();
    /* weights 16060522496 bytes = 15316.5 MiB; KV 32 x 2 x 8 x 128 x 4 x 4096 x 4 = 4096 MiB; heap 8192 MiB */
    const char *want[] = { "weights 15316.5 MiB", "KV cache 4096.0 MiB for -c 4096 x --n-samples 4",
                           "largest heap holds 8192.0 MiB", "lower -c, --n-samples or --weights" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(msg, want[i])) fail_msg("no '%s' in: %s", want[i], msg);
    vkg_model_report_free(&r);
}

static void test_plan_refuses_tensor_beyond_buffer(void **state)
{
    struct vkg_model_report r;
    llama_report(&r);
    r.largest_tensor_bytes = 3ull << 30; /* 3 GiB > maxMemoryAllocationSize 2 GiB */
    struct vkg_device dev = fake_device(64ull << 30);
    struct vkg_model_plan p;
    vkg_error_clear();
    assert_int_equal(vkg_model_plan(&r, &dev, NULL, &p), VKG_ERR_LIMIT);
    const char *msg = vkg_error_detail();
    if (!strstr(msg, "'model.embed_tokens.weight' needs 3072.0 MiB") ||
        !strstr(msg, "maxMemoryAllocationSize 2048 MiB"))
        fail_msg("%s", msg);
    vkg_model_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_llama31_8b),
        cmocka_unit_test(test_spec_deepseek_v2_lite),
        cmocka_unit_test(test_plan_kv_8k),
        cmocka_unit_test(test_plan_mla_latent),
        cmocka_unit_test(test_plan_refuses_huge_ctx),
        cmocka_unit_test(test_plan_refuses_total_beyond_heap),
        cmocka_unit_test(test_plan_refuses_tensor_beyond_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
