/* test_hf_config.c — config.json parsing against transformers.
 *
 * tests/data/configs/<name>/config.json are hand-written in the shape of the
 * published configs (Llama-3/3.1, SmolLM2, Qwen2.5, Qwen3, Qwen3-MoE,
 * Mixtral, DeepSeek-V2-Lite, Gemma-2) plus minimal ones that exercise the
 * defaults. tests/data/configs/expected.json holds what transformers'
 * AutoConfig makes of each (tests/reference/hf_config_reference.py); every
 * field of struct vkg_hf_config is compared with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hf_config.h"

#define CONFIG_DIR VKG_SOURCE_DIR "/tests/data/configs"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

enum ftype { F_U32, F_U64, F_I32, F_F64, F_BOOL };
struct field {
    const char *key;
    enum ftype type;
    size_t off;
};
#define FLD(t, key, member)                            \
    {                                                  \
        key, t, offsetof(struct vkg_hf_config, member) \
    }

static const struct field g_fields[] = {
    FLD(F_BOOL, "seq_cls", seq_cls),
    FLD(F_U32, "vocab_size", vocab_size),
    FLD(F_U32, "hidden_size", hidden_size),
    FLD(F_U32, "intermediate_size", intermediate_size),
    FLD(F_U32, "n_layers", n_layers),
    FLD(F_U32, "n_heads", n_heads),
    FLD(F_U32, "n_kv_heads", n_kv_heads),
    FLD(F_U32, "head_dim", head_dim),
    FLD(F_U64, "max_position_embeddings", max_position_embeddings),
    FLD(F_F64, "rms_norm_eps", rms_norm_eps),
    FLD(F_BOOL, "tie_word_embeddings", tie_word_embeddings),
    FLD(F_BOOL, "qkv_bias", qkv_bias),
    FLD(F_BOOL, "o_bias", o_bias),
    FLD(F_BOOL, "mlp_bias", mlp_bias),
    FLD(F_BOOL, "qk_norm", qk_norm),
    FLD(F_F64, "attn_scale", attn_scale),
    FLD(F_U32, "sliding_window", sliding_window),
    FLD(F_F64, "query_pre_attn_scalar", query_pre_attn_scalar),
    FLD(F_F64, "attn_logit_softcapping", attn_logit_softcapping),
    FLD(F_F64, "final_logit_softcapping", final_logit_softcapping),
    FLD(F_U32, "n_experts", n_experts),
    FLD(F_U32, "n_experts_per_tok", n_experts_per_tok),
    FLD(F_U32, "moe_intermediate_size", moe_intermediate_size),
    FLD(F_U32, "n_shared_experts", n_shared_experts),
    FLD(F_U32, "shared_expert_intermediate_size", shared_expert_intermediate_size),
    FLD(F_BOOL, "norm_topk_prob", norm_topk_prob),
    FLD(F_U32, "decoder_sparse_step", decoder_sparse_step),
    FLD(F_U32, "moe_layer_freq", moe_layer_freq),
    FLD(F_U32, "first_k_dense_replace", first_k_dense_replace),
    FLD(F_U32, "n_group", n_group),
    FLD(F_U32, "topk_group", topk_group),
    FLD(F_F64, "routed_scaling_factor", routed_scaling_factor),
    FLD(F_U32, "q_lora_rank", q_lora_rank),
    FLD(F_U32, "kv_lora_rank", kv_lora_rank),
    FLD(F_U32, "qk_nope_head_dim", qk_nope_head_dim),
    FLD(F_U32, "qk_rope_head_dim", qk_rope_head_dim),
    FLD(F_U32, "v_head_dim", v_head_dim),
    FLD(F_U32, "num_labels", num_labels),
    FLD(F_I32, "pad_token_id", pad_token_id),
    FLD(F_I32, "bos_token_id", bos_token_id),
};

#define RFLD(t, key, member)                      \
    {                                             \
        key, t, offsetof(struct vkg_rope, member) \
    }
static const struct field g_rope_fields[] = {
    RFLD(F_F64, "theta", theta),
    RFLD(F_F64, "partial_rotary_factor", partial_rotary_factor),
    RFLD(F_U32, "dim", dim),
    RFLD(F_F64, "factor", factor),
    RFLD(F_U64, "original_max_position_embeddings", original_max_position_embeddings),
    RFLD(F_F64, "low_freq_factor", low_freq_factor),
    RFLD(F_F64, "high_freq_factor", high_freq_factor),
    RFLD(F_F64, "beta_fast", beta_fast),
    RFLD(F_F64, "beta_slow", beta_slow),
    RFLD(F_F64, "mscale", mscale),
    RFLD(F_F64, "mscale_all_dim", mscale_all_dim),
    RFLD(F_F64, "attention_factor", attention_factor),
    RFLD(F_BOOL, "truncate", truncate),
};

/* Compare one field; prints the config and key before failing so a mismatch
 * reads "qwen2_seqcls.rope.factor: got 1 want 2". */
static void check_field(const char *where, const struct field *f, const void *base, const cJSON *want)
{
    const char *p = (const char *)base + f->off;
    double got = 0;
    switch (f->type) {
    case F_U32: got = *(const uint32_t *)p; break;
    case F_U64: got = (double)*(const uint64_t *)p; break;
    case F_I32: got = *(const int32_t *)p; break;
    case F_F64: got = *(const double *)p; break;
    case F_BOOL: got = *(const bool *)p; break;
    }
    if (!want) {
        fail_msg("%s.%s: missing in expected.json", where, f->key);
        return;
    }
    double w = cJSON_IsBool(want) ? cJSON_IsTrue(want) : want->valuedouble;
    if (fabs(got - w) > 1e-12 * fmax(1.0, fabs(w))) fail_msg("%s.%s: got %.17g want %.17g", where, f->key, got, w);
}

static void check_layers(const char *where, const char *key, const uint8_t *got, uint32_t n, const cJSON *want)
{
    assert_int_equal(cJSON_GetArraySize(want), n);
    for (uint32_t i = 0; i < n; i++)
        if (got[i] != cJSON_GetArrayItem(want, (int)i)->valueint) fail_msg("%s.%s[%u]: got %u", where, key, i, got[i]);
}

static void check_ids(const char *where, const int32_t *ids, uint32_t n, const cJSON *want)
{
    if ((int)n != cJSON_GetArraySize(want)) fail_msg("%s: eos count %u want %d", where, n, cJSON_GetArraySize(want));
    for (uint32_t i = 0; i < n; i++) assert_int_equal(ids[i], cJSON_GetArrayItem(want, (int)i)->valueint);
}

static const char *rope_name(enum vkg_rope_type t)
{
    static const char *const names[] = { "default", "linear", "dynamic", "llama3", "yarn" };
    return names[t];
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void check_enums(const char *name, const struct vkg_hf_config *cfg, const cJSON *want)
{
    static const char *const acts[] = { "silu", "gelu_tanh", "gelu" };
    static const char *const topk[] = { "greedy", "group_limited_greedy", "noaux_tc" };
    assert_string_equal(vkg_arch_name(cfg->arch), str(want, "arch"));
    assert_string_equal(cfg->architecture, str(want, "architecture"));
    assert_string_equal(cfg->dtype, str(want, "dtype"));
    assert_string_equal(acts[cfg->act], str(want, "act"));
    assert_string_equal(cfg->scoring == VKG_MOE_SOFTMAX ? "softmax" : "sigmoid", str(want, "scoring"));
    assert_string_equal(topk[cfg->topk_method], str(want, "topk_method"));
    const cJSON *rope = cJSON_GetObjectItemCaseSensitive(want, "rope");
    if (strcmp(rope_name(cfg->rope.type), str(rope, "type")))
        fail_msg("%s.rope.type: got %s", name, rope_name(cfg->rope.type));
}

static void check_config(const char *name, const cJSON *want)
{
    char dir[512], where[160];
    snprintf(dir, sizeof dir, "%s/%s", CONFIG_DIR, name);
    struct vkg_hf_config cfg;
    enum vkg_status st = vkg_hf_config_load(dir, &cfg);
    if (st != VKG_OK) fail_msg("%s: %s: %s", name, vkg_status_name(st), vkg_error_detail());
    for (size_t i = 0; i < sizeof g_fields / sizeof g_fields[0]; i++)
        check_field(name, &g_fields[i], &cfg, cJSON_GetObjectItemCaseSensitive(want, g_fields[i].key));
    const cJSON *rope = cJSON_GetObjectItemCaseSensitive(want, "rope");
    snprintf(where, sizeof where, "%s.rope", name);
    for (size_t i = 0; i < sizeof g_rope_fields / sizeof g_rope_fields[0]; i++)
        check_field(where, &g_rope_fields[i], &cfg.rope, cJSON_GetObjectItemCaseSensitive(rope, g_rope_fields[i].key));
    check_enums(name, &cfg, want);
    check_layers(name, "layer_sliding", cfg.layer_sliding, cfg.n_layers,
                 cJSON_GetObjectItemCaseSensitive(want, "layer_sliding"));
    check_layers(name, "layer_moe", cfg.layer_moe, cfg.n_layers, cJSON_GetObjectItemCaseSensitive(want, "layer_moe"));
    check_ids(name, cfg.eos_token_ids, cfg.n_eos, cJSON_GetObjectItemCaseSensitive(want, "eos_token_ids"));
    vkg_hf_config_free(&cfg);
}

static void check_generation(const char *name, const cJSON *want)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", CONFIG_DIR, name);
    struct vkg_generation_config g;
    assert_int_equal(vkg_generation_config_load(dir, &g), VKG_OK);
    assert_int_equal(g.present, cJSON_IsTrue(cJSON_GetObjectItem(want, "present")));
    if (!g.present) { /* defaults of transformers' generate() */
        assert_int_equal(g.n_eos, 0);
        assert_false(g.do_sample);
        assert_true(g.temperature == 1.0 && g.top_p == 1.0 && g.top_k == 50);
        return;
    }
    assert_int_equal(g.bos_token_id, cJSON_GetObjectItem(want, "bos_token_id")->valueint);
    assert_int_equal(g.pad_token_id, cJSON_GetObjectItem(want, "pad_token_id")->valueint);
    assert_int_equal(g.do_sample, cJSON_IsTrue(cJSON_GetObjectItem(want, "do_sample")));
    assert_true(g.temperature == cJSON_GetObjectItem(want, "temperature")->valuedouble);
    assert_true(g.top_p == cJSON_GetObjectItem(want, "top_p")->valuedouble);
    assert_int_equal(g.top_k, cJSON_GetObjectItem(want, "top_k")->valueint);
    check_ids(name, g.eos_token_ids, g.n_eos, cJSON_GetObjectItem(want, "eos_token_ids"));
}

/* Every directory listed in expected.json, against transformers. */
static void test_against_transformers(void **state)
{
    char *text = slurp(CONFIG_DIR "/expected.json");
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        check_config(e->string, cJSON_GetObjectItem(e, "config"));
        check_generation(e->string, cJSON_GetObjectItem(e, "generation"));
        n++;
    }
    assert_true(n >= 16); /* every architecture and both heads are covered */
    cJSON_Delete(root);
    free(text);
}

/* Parse `json`, expect status `want` and a message containing `needle`. */
static void expect_error(const char *json, enum vkg_status want, const char *needle)
{
    struct vkg_hf_config cfg;
    vkg_error_clear();
    enum vkg_status st = vkg_hf_config_parse(json, "x/config.json", &cfg);
    if (st == VKG_OK) vkg_hf_config_free(&cfg);
    if (st != want || !strstr(vkg_error_detail(), needle))
        fail_msg("got %s '%s', want %s with '%s'", vkg_status_name(st), vkg_error_detail(), vkg_status_name(want),
                 needle);
    assert_null(cfg.layer_sliding); /* nothing left to free after an error */
    assert_null(cfg.layer_moe);
}

#define BASE                                                                 \
    "\"vocab_size\": 100, \"hidden_size\": 64, \"intermediate_size\": 128, " \
    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4"

static void test_minimal_ok(void **state)
{
    struct vkg_hf_config cfg;
    assert_int_equal(vkg_hf_config_parse("{\"architectures\": [\"LlamaForCausalLM\"], " BASE "}", "x", &cfg), VKG_OK);
    assert_int_equal(cfg.head_dim, 16);
    assert_int_equal(cfg.n_kv_heads, 4);
    assert_false(cfg.seq_cls);
    vkg_hf_config_free(&cfg);
    vkg_hf_config_free(&cfg); /* free twice is harmless */
}

static void test_unknown_architecture(void **state)
{
    expect_error("{\"architectures\": [\"BertForMaskedLM\"], " BASE "}", VKG_ERR_UNSUPPORTED,
                 "'BertForMaskedLM' is not supported; supported: {Llama, Qwen2, Qwen3, Qwen3Moe, "
                 "Mixtral, DeepseekV2, Gemma2}ForCausalLM");
    expect_error("{\"architectures\": [\"Qwen2ForTokenClassification\"], " BASE "}", VKG_ERR_UNSUPPORTED,
                 "Qwen2ForTokenClassification");
    expect_error("{" BASE "}", VKG_ERR_CONFIG, "x/config.json: required field 'architectures' is missing");
    expect_error("{\"architectures\": [], " BASE "}", VKG_ERR_CONFIG, "'architectures' must be");
}

static void test_missing_required(void **state)
{
    expect_error("{\"architectures\": [\"Qwen3ForCausalLM\"], \"vocab_size\": 10, "
                 "\"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2}",
                 VKG_ERR_CONFIG, "x/config.json: required field 'hidden_size' is missing");
    expect_error("{\"architectures\": [\"Qwen3ForCausalLM\"], " BASE ", \"hidden_size\": null}", VKG_ERR_CONFIG,
                 "'hidden_size'"); /* duplicate key: the last one wins, as in Python */
    expect_error("{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"num_experts\": 8, " BASE "}", VKG_ERR_CONFIG,
                 "required field 'moe_intermediate_size' is missing");
    expect_error("{\"architectures\": [\"DeepseekV2ForCausalLM\"], \"n_routed_experts\": 8, "
                 "\"moe_intermediate_size\": 8, " BASE "}",
                 VKG_ERR_CONFIG, "required field 'num_experts_per_tok' is missing");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"rope_scaling\": "
                 "{\"rope_type\": \"llama3\", \"factor\": 8}, " BASE "}",
                 VKG_ERR_CONFIG, "rope_scaling: required field 'low_freq_factor' is missing");
}

static void test_wrong_type(void **state)
{
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"num_key_value_heads\": \"4\", " BASE "}",
                 VKG_ERR_CONFIG, "field 'num_key_value_heads' must be a non-negative integer, got a string");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"head_dim\": 2.5, " BASE "}", VKG_ERR_CONFIG,
                 "'head_dim' must be a non-negative integer, got a number");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"tie_word_embeddings\": 1, " BASE "}", VKG_ERR_CONFIG,
                 "'tie_word_embeddings' must be true or false");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"rope_scaling\": 2, " BASE "}", VKG_ERR_CONFIG,
                 "'rope_scaling' must be an object");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"eos_token_id\": [1, \"2\"], " BASE "}", VKG_ERR_CONFIG,
                 "'eos_token_id' must be a list of token ids");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"num_key_value_heads\": 3, " BASE "}", VKG_ERR_CONFIG,
                 "not a multiple of num_key_value_heads 3");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_act\": \"relu2\", " BASE "}",
                 VKG_ERR_UNSUPPORTED, "hidden_act 'relu2' is not supported");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"rope_scaling\": "
                 "{\"type\": \"longrope\", \"factor\": 2}, " BASE "}",
                 VKG_ERR_UNSUPPORTED, "rope type 'longrope' is not supported");
    expect_error("{\"architectures\": [\"Gemma2ForSequenceClassification\"], \"num_labels\": 3, "
                 "\"id2label\": {\"0\": \"a\"}, " BASE "}",
                 VKG_ERR_CONFIG, "num_labels 3 disagrees with id2label (1 entries)");
    expect_error("{\"architectures\": [\"Qwen2ForCausalLM\"], \"num_key_value_heads\": 4, "
                 "\"use_sliding_window\": true, \"layer_types\": [\"full_attention\"], " BASE "}",
                 VKG_ERR_CONFIG, "'layer_types' must be");
}

/* A repeated key means what it means to Python's json (and so to
 * transformers): the last value. */
static void test_duplicate_key_last_wins(void **state)
{
    struct vkg_hf_config cfg;
    assert_int_equal(vkg_hf_config_parse("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": null, " BASE
                                         ", \"num_attention_heads\": 8, \"vocab_size\": 7}",
                                         "x", &cfg),
                     VKG_OK);
    assert_int_equal(cfg.hidden_size, 64);
    assert_int_equal(cfg.n_heads, 8);
    assert_int_equal(cfg.head_dim, 8);
    assert_int_equal(cfg.vocab_size, 7);
    vkg_hf_config_free(&cfg);
}

static void test_not_json(void **state)
{
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], ", VKG_ERR_CONFIG,
                 "x/config.json is not valid JSON: expected a member name in double quotes at line 1");
    /* trailing data is an error, as in Python (cJSON alone ignores it) */
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], " BASE "} {}", VKG_ERR_CONFIG,
                 "x/config.json is not valid JSON: extra data after the JSON value");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], " BASE ", \"rms_norm_eps\": NaN}", VKG_ERR_CONFIG,
                 "NaN is not a number JSON allows");
    expect_error("[1, 2]", VKG_ERR_CONFIG, "top level is not an object");
    expect_error("", VKG_ERR_CONFIG, "not valid JSON");
}

static void test_missing_file(void **state)
{
    struct vkg_hf_config cfg;
    assert_int_equal(vkg_hf_config_load(VKG_SOURCE_DIR "/tests/data/no-such-model", &cfg), VKG_ERR_CONFIG);
    assert_non_null(strstr(vkg_error_detail(), "no-such-model/config.json: not found"));
    struct vkg_generation_config g;
    assert_int_equal(vkg_generation_config_load(VKG_SOURCE_DIR "/tests/data/no-such-model", &g), VKG_OK);
    assert_false(g.present);
    assert_int_equal(g.bos_token_id, -1);
}

/* generation_config.json: a broken file is an error naming it, never the defaults. */
static void test_generation_config_errors(void **state)
{
    char dir[] = "/tmp/vkgrm-genconfig-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    struct vkg_generation_config g;
    const char *bad[] = { "{\"do_sample\": true,}", "{\"temperature\": 0.5} x", "[1]", "{\"top_p\": 2}" };
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        assert_int_equal(vkg_generation_config_load(dir, &g), VKG_ERR_CONFIG);
        assert_non_null(strstr(vkg_error_detail(), path));
    }
    const char *dup = "{\"temperature\": 0.1, \"do_sample\": true, \"temperature\": 0.7}";
    assert_int_equal(vkg_generation_config_parse(dup, strlen(dup), "g.json", &g), VKG_OK);
    assert_true(g.present && g.do_sample);
    assert_true(g.temperature == 0.7);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_transformers),
        cmocka_unit_test(test_minimal_ok),
        cmocka_unit_test(test_unknown_architecture),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_duplicate_key_last_wins),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_generation_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
