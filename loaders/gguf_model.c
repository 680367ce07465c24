/* gguf_model.c — GGUF metadata -> config.json, GGUF tensors -> HF-named views
 * (gguf_model.h). The key names are llama.cpp's (gguf-py constants.py Keys);
 * the inverse transformations are those of convert_hf_to_gguf.py. */
#include "gguf_model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(expr)                            \
    do {                                     \
        enum vkg_status try_s_ = (expr);     \
        if (try_s_ != VKG_OK) return try_s_; \
    } while (0)

typedef unsigned long long ull;

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* general.architecture -> HF class and our family. */
static const struct arch_row {
    const char *gguf, *cls;
    enum vkg_arch arch;
} ARCHES[] = {
    { "llama", "LlamaForCausalLM", VKG_ARCH_LLAMA },    { "qwen2", "Qwen2ForCausalLM", VKG_ARCH_QWEN2 },
    { "qwen3", "Qwen3ForCausalLM", VKG_ARCH_QWEN3 },    { "qwen3moe", "Qwen3MoeForCausalLM", VKG_ARCH_QWEN3_MOE },
    { "gemma2", "Gemma2ForCausalLM", VKG_ARCH_GEMMA2 }, { "deepseek2", "DeepseekV2ForCausalLM", VKG_ARCH_DEEPSEEK_V2 },
};

static enum vkg_status arch_of(const struct vkg_gguf *g, const struct arch_row **out)
{
    const char *a = NULL, *f = base_name(vkg_gguf_path(g));
    enum vkg_status s = vkg_gguf_get_str(g, "general.architecture", &a);
    if (s == VKG_ERR_NOT_FOUND) return vkg_error(VKG_ERR_CONFIG, "%s: no general.architecture in the metadata", f);
    if (s != VKG_OK) return s;
    for (size_t i = 0; i < sizeof ARCHES / sizeof ARCHES[0]; i++)
        if (strcmp(a, ARCHES[i].gguf) == 0) {
            *out = &ARCHES[i];
            return VKG_OK;
        }
    return vkg_error(VKG_ERR_UNSUPPORTED,
                     "%s: general.architecture '%.64s' is not supported (llama, qwen2, qwen3, qwen3moe, gemma2, "
                     "deepseek2 are)",
                     f, a);
}

/* ---- metadata -> config.json ------------------------------------------------- */

struct cfg_ctx {
    const struct vkg_gguf *g;
    const char *arch; /* the key prefix */
    const char *file;
    cJSON *root;
};

static void key_of(const struct cfg_ctx *c, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.%s", c->arch, suffix);
}

/* {arch}.suffix as a number into the config under name; a per-layer array
 * whose entries are all equal counts as that value. required: absent is an
 * error naming the key. */
static enum vkg_status put_num(struct cfg_ctx *c, const char *suffix, const char *name, bool required, double *got)
{
    char key[160];
    key_of(c, suffix, key, sizeof key);
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(c->g, key);
    double v;
    if (!kv) {
        if (required) return vkg_error(VKG_ERR_CONFIG, "%s: metadata has no %s", c->file, key);
        return VKG_ERR_NOT_FOUND;
    }
    if (kv->type == VKG_GGUF_ARRAY) {
        if (kv->arr_n == 0 || kv->arr_type == VKG_GGUF_STRING || kv->arr_type == VKG_GGUF_BOOL)
            return vkg_error(VKG_ERR_CONFIG, "%s: %s is an empty or non-numeric array", c->file, key);
        v = vkg_gguf_arr_f64(kv, 0);
        for (uint64_t i = 1; i < kv->arr_n; i++)
            if (vkg_gguf_arr_f64(kv, i) != v)
                return vkg_error(VKG_ERR_UNSUPPORTED, "%s: %s differs between layers (entry %llu), not supported",
                                 c->file, key, (ull)i);
    } else {
        TRY(vkg_gguf_get_f64(c->g, key, &v));
    }
    if (kv->type == VKG_GGUF_FLOAT32) v = (double)(float)v; /* keep float32's value; printed shortest below */
    if (name) cJSON_AddItemToObject(c->root, name, cJSON_CreateNumber(v));
    if (got) *got = v;
    return VKG_OK;
}

static enum vkg_status opt_num(struct cfg_ctx *c, const char *suffix, const char *name, double *got)
{
    enum vkg_status s = put_num(c, suffix, name, false, got);
    return s == VKG_ERR_NOT_FOUND ? VKG_OK : s;
}

static bool has_tensor(const struct vkg_gguf *g, const char *name) { return vkg_gguf_find_tensor(g, name) != NULL; }

/* Token ids of the tokenizer metadata (-1 when absent). */
static int64_t token_id(const struct vkg_gguf *g, const char *key)
{
    int64_t v;
    return vkg_gguf_get_i64(g, key, &v) == VKG_OK ? v : -1;
}

static void put_id(cJSON *root, const char *name, int64_t id)
{
    if (id >= 0) cJSON_AddNumberToObject(root, name, (double)id);
    else cJSON_AddNullToObject(root, name);
}

static enum vkg_status rope_scaling(struct cfg_ctx *c, double head_dim)
{
    char key[160];
    const char *type = NULL;
    key_of(c, "rope.scaling.type", key, sizeof key);
    enum vkg_status s = vkg_gguf_get_str(c->g, key, &type);
    if (s == VKG_ERR_NOT_FOUND || (s == VKG_OK && strcmp(type, "none") == 0)) return VKG_OK;
    TRY(s);
    if (strcmp(type, "linear") != 0 && strcmp(type, "yarn") != 0)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: %s '%.32s' is not supported (linear, yarn are)", c->file, key, type);
    cJSON *rs = cJSON_AddObjectToObject(c->root, "rope_scaling");
    cJSON_AddStringToObject(rs, "rope_type", type);
    cJSON *saved = c->root;
    c->root = rs;
    s = put_num(c, "rope.scaling.factor", "factor", true, NULL);
    if (s == VKG_OK) s = opt_num(c, "rope.scaling.original_context_length", "original_max_position_embeddings", NULL);
    double mul = 0;
    if (s == VKG_OK && strcmp(type, "yarn") == 0 &&
        (s = opt_num(c, "rope.scaling.yarn_log_multiplier", NULL, &mul)) == VKG_OK && mul != 0) {
        /* convert_hf_to_gguf writes 0.1 * mscale_all_dim; llama.cpp uses it for both mscales */
        cJSON_AddNumberToObject(rs, "mscale", mul / 0.1);
        cJSON_AddNumberToObject(rs, "mscale_all_dim", mul / 0.1);
    }
    (void)head_dim;
    c->root = saved;
    return s;
}

/* Keys every family has. */
static enum vkg_status common_keys(struct cfg_ctx *c, double *hidden, double *heads, double *head_dim)
{
    const struct vkg_gguf_tensor *emb = vkg_gguf_find_tensor(c->g, "token_embd.weight");
    if (!emb || emb->n_dims != 2)
        return vkg_error(VKG_ERR_CONFIG, "%s: no 2-D token_embd.weight to take vocab_size from", c->file);
    cJSON_AddNumberToObject(c->root, "vocab_size", (double)emb->ne[1]);
    TRY(put_num(c, "embedding_length", "hidden_size", true, hidden));
    TRY(put_num(c, "block_count", "num_hidden_layers", true, NULL));
    TRY(put_num(c, "attention.head_count", "num_attention_heads", true, heads));
    TRY(opt_num(c, "attention.head_count_kv", "num_key_value_heads", NULL));
    TRY(put_num(c, "attention.layer_norm_rms_epsilon", "rms_norm_eps", true, NULL));
    TRY(opt_num(c, "rope.freq_base", "rope_theta", NULL));
    TRY(opt_num(c, "context_length", "max_position_embeddings", NULL));
    *head_dim = *heads > 0 ? *hidden / *heads : 0;
    cJSON_AddBoolToObject(c->root, "tie_word_embeddings", !has_tensor(c->g, "output.weight"));
    put_id(c->root, "bos_token_id", token_id(c->g, "tokenizer.ggml.bos_token_id"));
    put_id(c->root, "eos_token_id", token_id(c->g, "tokenizer.ggml.eos_token_id"));
    put_id(c->root, "pad_token_id", token_id(c->g, "tokenizer.ggml.padding_token_id"));
    return VKG_OK;
}

/* head_dim from attention.key_length (value_length must agree), and partial rotary. */
static enum vkg_status head_keys(struct cfg_ctx *c, double *head_dim)
{
    double k = 0, v = 0, rot = 0;
    TRY(opt_num(c, "attention.key_length", NULL, &k));
    TRY(opt_num(c, "attention.value_length", NULL, &v));
    if (k) *head_dim = k;
    if (v && v != *head_dim)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: %s.attention.value_length %g != key_length %g is not supported",
                         c->file, c->arch, v, *head_dim);
    cJSON_AddNumberToObject(c->root, "head_dim", *head_dim);
    TRY(opt_num(c, "rope.dimension_count", NULL, &rot));
    if (rot && rot != *head_dim) cJSON_AddNumberToObject(c->root, "partial_rotary_factor", rot / *head_dim);
    return rope_scaling(c, *head_dim);
}

static enum vkg_status dense_ffn(struct cfg_ctx *c)
{
    return put_num(c, "feed_forward_length", "intermediate_size", true, NULL);
}

static enum vkg_status qwen3moe_keys(struct cfg_ctx *c)
{
    double eff = 0;
    bool norm = true; /* llama.cpp's qwen3moe graph always renormalizes the top-k weights */
    char key[160];
    TRY(put_num(c, "expert_count", "num_experts", true, NULL));
    TRY(put_num(c, "expert_used_count", "num_experts_per_tok", true, NULL));
    TRY(put_num(c, "expert_feed_forward_length", "moe_intermediate_size", true, &eff));
    if (put_num(c, "feed_forward_length", "intermediate_size", false, NULL) == VKG_ERR_NOT_FOUND)
        cJSON_AddNumberToObject(c->root, "intermediate_size", eff);
    key_of(c, "expert_weights_norm", key, sizeof key);
    enum vkg_status s = vkg_gguf_get_bool(c->g, key, &norm);
    if (s != VKG_OK && s != VKG_ERR_NOT_FOUND) return s;
    cJSON_AddBoolToObject(c->root, "norm_topk_prob", norm);
    cJSON_AddNumberToObject(c->root, "decoder_sparse_step", 1);
    cJSON_AddItemToObject(c->root, "mlp_only_layers", cJSON_CreateArray());
    return VKG_OK;
}

static enum vkg_status gemma2_keys(struct cfg_ctx *c, double hidden, double heads, double head_dim)
{
    double n_layer = 0;
    cJSON_AddStringToObject(c->root, "hidden_activation", "gelu_pytorch_tanh");
    TRY(opt_num(c, "attention.sliding_window", "sliding_window", NULL));
    TRY(opt_num(c, "attn_logit_softcapping", "attn_logit_softcapping", NULL));
    TRY(opt_num(c, "final_logit_softcapping", "final_logit_softcapping", NULL));
    TRY(opt_num(c, "block_count", NULL, &n_layer));
    /* The converter does not store query_pre_attn_scalar; llama.cpp scales by
     * head_dim^-0.5, except Gemma-2 27B (46 layers): (hidden/heads)^-0.5. */
    cJSON_AddNumberToObject(c->root, "query_pre_attn_scalar", n_layer == 46 ? hidden / heads : head_dim);
    return VKG_OK;
}

static enum vkg_status deepseek2_keys(struct cfg_ctx *c)
{
    double rope = 0, k = 0, v = 0, gating = 0, q_lora = 0, n_group = 0;
    bool norm = false;
    char key[160];
    TRY(opt_num(c, "attention.q_lora_rank", NULL, &q_lora));
    if (q_lora > 0) cJSON_AddNumberToObject(c->root, "q_lora_rank", q_lora);
    else cJSON_AddNullToObject(c->root, "q_lora_rank");
    TRY(put_num(c, "attention.kv_lora_rank", "kv_lora_rank", true, NULL));
    TRY(put_num(c, "rope.dimension_count", "qk_rope_head_dim", true, &rope));
    /* newer converters store the MLA sizes as key_length_mla / value_length_mla */
    if (put_num(c, "attention.key_length_mla", NULL, false, &k) == VKG_ERR_NOT_FOUND)
        TRY(put_num(c, "attention.key_length", NULL, true, &k));
    if (put_num(c, "attention.value_length_mla", NULL, false, &v) == VKG_ERR_NOT_FOUND)
        TRY(put_num(c, "attention.value_length", NULL, true, &v));
    cJSON_AddNumberToObject(c->root, "qk_nope_head_dim", k - rope);
    cJSON_AddNumberToObject(c->root, "v_head_dim", v);
    TRY(put_num(c, "expert_count", "n_routed_experts", true, NULL));
    TRY(put_num(c, "expert_used_count", "num_experts_per_tok", true, NULL));
    TRY(put_num(c, "expert_feed_forward_length", "moe_intermediate_size", true, NULL));
    TRY(opt_num(c, "expert_shared_count", "n_shared_experts", NULL));
    TRY(opt_num(c, "leading_dense_block_count", "first_k_dense_replace", NULL));
    TRY(opt_num(c, "expert_weights_scale", "routed_scaling_factor", NULL));
    TRY(opt_num(c, "expert_group_count", "n_group", &n_group));
    TRY(opt_num(c, "expert_group_used_count", "topk_group", NULL));
    TRY(opt_num(c, "expert_gating_func", NULL, &gating));
    cJSON_AddStringToObject(c->root, "scoring_func", gating == 2 ? "sigmoid" : "softmax");
    cJSON_AddStringToObject(c->root, "topk_method", n_group > 1 ? "group_limited_greedy" : "greedy");
    key_of(c, "expert_weights_norm", key, sizeof key);
    enum vkg_status s = vkg_gguf_get_bool(c->g, key, &norm);
    if (s != VKG_OK && s != VKG_ERR_NOT_FOUND) return s;
    cJSON_AddBoolToObject(c->root, "norm_topk_prob", norm);
    cJSON_AddNumberToObject(c->root, "moe_layer_freq", 1);
    /* newer converters write head_count_kv 1 (llama.cpp's MQA view of MLA); HF's is the head count */
    cJSON_ReplaceItemInObject(c->root, "num_key_value_heads",
                              cJSON_CreateNumber(cJSON_GetObjectItem(c->root, "num_attention_heads")->valuedouble));
    cJSON_AddBoolToObject(c->root, "attention_bias", has_tensor(c->g, "blk.0.attn_kv_a_mqa.bias"));
    return VKG_OK;
}

static enum vkg_status fill_config(struct cfg_ctx *c, const struct arch_row *a)
{
    double hidden = 0, heads = 0, head_dim = 0;
    cJSON *archs = cJSON_AddArrayToObject(c->root, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(a->cls));
    cJSON_AddStringToObject(c->root, "model_type", vkg_arch_name(a->arch));
    TRY(common_keys(c, &hidden, &heads, &head_dim));
    if (a->arch == VKG_ARCH_DEEPSEEK_V2) {
        TRY(dense_ffn(c));
        TRY(rope_scaling(c, head_dim));
        return deepseek2_keys(c);
    }
    TRY(head_keys(c, &head_dim));
    if (a->arch == VKG_ARCH_QWEN3_MOE) TRY(qwen3moe_keys(c));
    else TRY(dense_ffn(c));
    if (a->arch == VKG_ARCH_GEMMA2) return gemma2_keys(c, hidden, heads, head_dim);
    cJSON_AddStringToObject(c->root, "hidden_act", "silu");
    if (a->arch == VKG_ARCH_LLAMA) {
        cJSON_AddBoolToObject(c->root, "attention_bias", has_tensor(c->g, "blk.0.attn_q.bias"));
        cJSON_AddBoolToObject(c->root, "mlp_bias", has_tensor(c->g, "blk.0.ffn_gate.bias"));
    }
    return VKG_OK;
}

enum vkg_status vkg_gguf_config_text(const struct vkg_gguf *g, char **json)
{
    *json = NULL;
    const struct arch_row *a;
    TRY(arch_of(g, &a));
    struct cfg_ctx c = { g, a->gguf, base_name(vkg_gguf_path(g)), cJSON_CreateObject() };
    if (!c.root) return vkg_error(VKG_ERR_NOMEM, "%s: config", c.file);
    enum vkg_status s = fill_config(&c, a);
    if (s == VKG_OK && !(*json = cJSON_Print(c.root))) s = vkg_error(VKG_ERR_NOMEM, "%s: config text", c.file);
    cJSON_Delete(c.root);
    return s;
}

enum vkg_status vkg_gguf_generation_text(const struct vkg_gguf *g, char **json)
{
    cJSON *root = cJSON_CreateObject(), *eos = cJSON_CreateArray();
    int64_t e = token_id(g, "tokenizer.ggml.eos_token_id"), t = token_id(g, "tokenizer.ggml.eot_token_id");
    if (e >= 0) cJSON_AddItemToArray(eos, cJSON_CreateNumber((double)e));
    if (t >= 0 && t != e) cJSON_AddItemToArray(eos, cJSON_CreateNumber((double)t)); /* llama.cpp stops on both */
    cJSON_AddItemToObject(root, "eos_token_id", eos);
    put_id(root, "bos_token_id", token_id(g, "tokenizer.ggml.bos_token_id"));
    put_id(root, "pad_token_id", token_id(g, "tokenizer.ggml.padding_token_id"));
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    return *json ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "generation config");
}

/* "FILE.gguf (metadata)": the name config messages give. */
static void meta_name(const char *path, char *buf, size_t cap) { snprintf(buf, cap, "%s (metadata)", base_name(path)); }

enum vkg_status vkg_gguf_hf_config_load(const char *path, struct vkg_hf_config *out)
{
    memset(out, 0, sizeof *out);
    struct vkg_gguf *g;
    char *text = NULL, name[512];
    enum vkg_status s = vkg_gguf_open(path, &g);
    if (s == VKG_OK) s = vkg_gguf_config_text(g, &text);
    meta_name(path, name, sizeof name);
    if (s == VKG_OK) s = vkg_hf_config_parse(text, name, out);
    free(text);
    vkg_gguf_close(g);
    if (s == VKG_OK || s == VKG_ERR_CONFIG || s == VKG_ERR_UNSUPPORTED) return s;
    char why[1024]; /* the reader's detail as a config error; the buffer cannot be both source and target */
    snprintf(why, sizeof why, "%s", vkg_error_detail());
    return vkg_error(VKG_ERR_CONFIG, "%s", why);
}

enum vkg_status vkg_gguf_generation_config_load(const char *path, struct vkg_generation_config *out)
{
    struct vkg_gguf *g;
    char *text = NULL, name[512];
    enum vkg_status s = vkg_gguf_open(path, &g);
    if (s == VKG_OK) s = vkg_gguf_generation_text(g, &text);
    meta_name(path, name, sizeof name);
    if (s == VKG_OK) s = vkg_generation_config_parse(text, strlen(text), name, out);
    free(text);
    vkg_gguf_close(g);
    return s;
}

/* ---- tensors under HF names ---------------------------------------------------- */

/* blk.N.<gguf> -> model.layers.N.<hf>; the same for every family except the
 * Gemma-2 norms (gemma column). */
static const struct {
    const char *gguf, *hf, *gemma;
} LAYER_NAMES[] = {
    { "attn_norm", "input_layernorm", NULL },
    { "attn_q", "self_attn.q_proj", NULL },
    { "attn_k", "self_attn.k_proj", NULL },
    { "attn_v", "self_attn.v_proj", NULL },
    { "attn_output", "self_attn.o_proj", NULL },
    { "attn_q_norm", "self_attn.q_norm", NULL },
    { "attn_k_norm", "self_attn.k_norm", NULL },
    { "ffn_norm", "post_attention_layernorm", "pre_feedforward_layernorm" },
    { "post_attention_norm", NULL, "post_attention_layernorm" },
    { "post_ffw_norm", NULL, "post_feedforward_layernorm" },
    { "ffn_gate", "mlp.gate_proj", NULL },
    { "ffn_up", "mlp.up_proj", NULL },
    { "ffn_down", "mlp.down_proj", NULL },
    { "ffn_gate_inp", "mlp.gate", NULL },
    { "ffn_gate_shexp", "mlp.shared_experts.gate_proj", NULL },
    { "ffn_up_shexp", "mlp.shared_experts.up_proj", NULL },
    { "ffn_down_shexp", "mlp.shared_experts.down_proj", NULL },
    { "attn_q_a", "self_attn.q_a_proj", NULL },
    { "attn_q_a_norm", "self_attn.q_a_layernorm", NULL },
    { "attn_q_b", "self_attn.q_b_proj", NULL },
    { "attn_kv_a_mqa", "self_attn.kv_a_proj_with_mqa", NULL },
    { "attn_kv_a_norm", "self_attn.kv_a_layernorm", NULL },
    { "attn_kv_b", "self_attn.kv_b_proj", NULL },
};
static const char *const EXPERT_MATS[3][2] = { { "ffn_gate_exps", "gate_proj" },
                                               { "ffn_up_exps", "up_proj" },
                                               { "ffn_down_exps", "down_proj" } };

/* What one GGUF tensor becomes. */
struct gw {
    struct vkg_gguf *g;
    struct vkg_tensor_view *views; /* the HF views, built here */
    size_t n, cap;
    char **names; /* [n] owned HF names */
    void **bufs;  /* [n] owned copies (unpermuted q/k, Gemma norms), NULL for zero-copy views */
    int arch;     /* enum vkg_arch */
    uint32_t n_head, n_head_kv;
};

static enum vkg_status gw_add(struct gw *w, const struct vkg_gguf_tensor *t, char *name, const void *data,
                              uint64_t n_bytes, int n_dims, const uint64_t *ne, void *buf)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        void *a = realloc(w->views, cap * sizeof *w->views), *b = a ? realloc(w->names, cap * sizeof *w->names) : NULL,
             *c = b ? realloc(w->bufs, cap * sizeof *w->bufs) : NULL;
        if (a) w->views = a;
        if (b) w->names = b;
        if (c) w->bufs = c;
        if (!c) {
            free(name);
            free(buf);
            return vkg_error(VKG_ERR_NOMEM, "%s: tensor table", base_name(t->file));
        }
        w->cap = cap;
    }
    struct vkg_tensor_view *v = &w->views[w->n];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->dtype = vkg_gguf_type_dtype(t->type);
    v->n_dims = n_dims;
    for (int d = 0; d < n_dims; d++) v->shape[d] = ne[n_dims - 1 - d]; /* ggml order -> row-major */
    v->data = data;
    v->n_bytes = n_bytes;
    v->file = t->file;
    w->names[w->n] = name;
    w->bufs[w->n] = buf;
    w->n++;
    return VKG_OK;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static char *dup_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* llama.cpp's LlamaModel.permute moved row (h, half, j) of each head to
 * (h, j, half): hf[h*D + half*D/2 + j] = gguf[h*D + 2*j + half]. */
static enum vkg_status unpermute(const struct vkg_gguf_tensor *t, uint32_t n_head, void **out)
{
    uint64_t rows = t->n_dims == 1 ? t->ne[0] : t->ne[1], row_bytes = t->n_bytes / (rows ? rows : 1);
    if (t->n_dims == 1) row_bytes = t->n_bytes / rows;
    if (!n_head || rows % ((uint64_t)n_head * 2) != 0 || t->n_dims > 2)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': %llu rows do not split into %u heads of even size",
                         base_name(t->file), t->name, (ull)rows, n_head);
    uint8_t *dst = malloc(t->n_bytes ? (size_t)t->n_bytes : 1);
    if (!dst) return vkg_error(VKG_ERR_NOMEM, "%s: tensor '%s'", base_name(t->file), t->name);
    uint64_t D = rows / n_head, half = D / 2;
    const uint8_t *src = t->data;
    for (uint64_t h = 0; h < n_head; h++)
        for (uint64_t p = 0; p < 2; p++)
            for (uint64_t j = 0; j < half; j++)
                memcpy(dst + (h * D + p * half + j) * row_bytes, src + (h * D + 2 * j + p) * row_bytes,
                       (size_t)row_bytes);
    *out = dst;
    return VKG_OK;
}

/* Gemma-2 norms were stored as w + 1 (convert_hf_to_gguf): F32 copy of w. */
static enum vkg_status gemma_norm(const struct vkg_gguf_tensor *t, void **out)
{
    if (t->type != 0)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tensor '%s': Gemma-2 norm stored as %s, only F32 is handled",
                         base_name(t->file), t->name, vkg_gguf_type_name(t->type));
    float *dst = malloc(t->n_bytes ? (size_t)t->n_bytes : 1);
    if (!dst) return vkg_error(VKG_ERR_NOMEM, "%s: tensor '%s'", base_name(t->file), t->name);
    memcpy(dst, t->data, (size_t)t->n_bytes);
    for (uint64_t i = 0; i < t->n_bytes / 4; i++) dst[i] -= 1.0f; /* exact: fl(1+w) - 1 */
    *out = dst;
    return VKG_OK;
}

/* The per-expert views of a stacked [n_exp][rows][cols] tensor. */
static enum vkg_status split_experts(struct gw *w, const struct vkg_gguf_tensor *t, unsigned layer, const char *mat,
                                     const char *suffix)
{
    if (t->n_dims != 3)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': expert stack has %d dims, want 3", base_name(t->file),
                         t->name, t->n_dims);
    uint64_t n_exp = t->ne[2], each = n_exp ? t->n_bytes / n_exp : 0;
    for (uint64_t e = 0; e < n_exp; e++) {
        char *name = dup_printf("model.layers.%u.mlp.experts.%llu.%s.%s", layer, (ull)e, mat, suffix);
        if (!name) return vkg_error(VKG_ERR_NOMEM, "tensor name");
        TRY(gw_add(w, t, name, (const uint8_t *)t->data + e * each, each, 2, t->ne, NULL));
    }
    return VKG_OK;
}

/* kv_b_proj [H*(nope+v)][kv_lora] from llama.cpp's MLA split (convert_hf_to_gguf,
 * DeepseekV2Model): per head h, attn_k_b [H][kv_lora][nope] is rows 0..nope-1 of
 * head h transposed, attn_v_b [H][v][kv_lora] rows nope..nope+v-1 as they are. Both of one float
 * type: kv_b_proj in that type, element by element. Otherwise (llama.cpp's quantizer stores the
 * pair in block types, k_b's rows of nope values often in a 32-value fallback type): both
 * dequantized as ggml does (vkg_dtype_dequantize) into an F32 kv_b_proj, exact but 4 bytes a value
 * where the file holds ~0.5-1 (V2-Lite: 8 MiB a layer). */
static enum vkg_status rebuild_kv_b(struct gw *w, const struct vkg_gguf_tensor *kb, unsigned layer)
{
    char vname[96];
    snprintf(vname, sizeof vname, "blk.%u.attn_v_b.weight", layer);
    const struct vkg_gguf_tensor *vb = vkg_gguf_find_tensor(w->g, vname);
    const char *f = base_name(kb->file);
    if (!vb) return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s' without '%s'", f, kb->name, vname);
    enum vkg_dtype kt = vkg_gguf_type_dtype(kb->type), vt = vkg_gguf_type_dtype(vb->type);
    if (!vkg_dtype_is_loadable(kt) || !vkg_dtype_is_loadable(vt))
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tensors '%s' (%s) and '%s' (%s): no kv_b_proj from these types", f,
                         kb->name, vkg_gguf_type_name(kb->type), vb->name, vkg_gguf_type_name(vb->type));
    uint64_t nope = kb->ne[0], lora = kb->ne[1], H = kb->ne[2], v = vb->ne[1];
    if (kb->n_dims != 3 || vb->n_dims != 3 || vb->ne[0] != lora || vb->ne[2] != H)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensors '%s' and '%s' do not have the shapes of one kv_b_proj", f,
                         kb->name, vb->name);
    /* as stored (one float type), or F32 values */
    int keep = kt == vt && !vkg_dtype_is_block(kt);
    uint32_t es = keep ? vkg_dtype_block_bytes(kt) : 4;
    uint8_t *dst = malloc((size_t)(H * (nope + v) * lora * es) + 1);
    float *kf = keep ? NULL : malloc((size_t)(H * lora * nope + H * v * lora) * sizeof *kf + 1);
    char *name = dup_printf("model.layers.%u.self_attn.kv_b_proj.weight", layer);
    if (!dst || (!keep && !kf) || !name) {
        free(dst);
        free(kf);
        free(name);
        return vkg_error(VKG_ERR_NOMEM, "%s: kv_b_proj of layer %u", f, layer);
    }
    const uint8_t *k = kb->data, *vv = vb->data;
    if (!keep) { /* the values of both as F32 in kf: k_b's, then v_b's (whole rows, so whole blocks: the
                    reader checked each tensor's size against its row length) */
        if (vkg_dtype_dequantize(kt, k, H * lora * nope, kf) != VKG_OK ||
            vkg_dtype_dequantize(vt, vv, H * v * lora, kf + H * lora * nope) != VKG_OK) {
            free(dst);
            free(kf);
            free(name);
            return vkg_error(VKG_ERR_FORMAT, "%s: tensors '%s' and '%s': rows of %llu / %llu values in %s / %s blocks",
                             f, kb->name, vb->name, (ull)nope, (ull)lora, vkg_dtype_name(kt), vkg_dtype_name(vt));
        }
        k = (const uint8_t *)kf;
        vv = (const uint8_t *)(kf + H * lora * nope);
    }
    for (uint64_t h = 0; h < H; h++) {
        uint8_t *head = dst + h * (nope + v) * lora * es;
        for (uint64_t j = 0; j < nope; j++) /* row j of head h = column j of k_b[h] */
            for (uint64_t c = 0; c < lora; c++)
                memcpy(head + (j * lora + c) * es, k + ((h * lora + c) * nope + j) * es, es);
        memcpy(head + nope * lora * es, vv + h * v * lora * es, (size_t)(v * lora * es));
    }
    free(kf);
    uint64_t ne[2] = { lora, H * (nope + v) };
    TRY(gw_add(w, kb, name, dst, H * (nope + v) * lora * es, 2, ne, dst));
    if (!keep) w->views[w->n - 1].dtype = VKG_DTYPE_F32;
    return VKG_OK;
}

static enum vkg_status map_layer_tensor(struct gw *w, const struct vkg_gguf_tensor *t, unsigned layer, const char *part,
                                        const char *suffix)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(part, EXPERT_MATS[i][0]) == 0) return split_experts(w, t, layer, EXPERT_MATS[i][1], suffix);
    if ((strcmp(part, "attn_k_b") == 0 || strcmp(part, "attn_v_b") == 0)) {
        char kvb[96];
        snprintf(kvb, sizeof kvb, "blk.%u.attn_kv_b.weight", layer);
        if (vkg_gguf_find_tensor(w->g, kvb)) return VKG_OK;         /* older converters wrote both */
        return part[5] == 'k' ? rebuild_kv_b(w, t, layer) : VKG_OK; /* v_b is read with k_b */
    }
    const char *hf = NULL;
    for (size_t i = 0; i < sizeof LAYER_NAMES / sizeof LAYER_NAMES[0]; i++)
        if (strcmp(part, LAYER_NAMES[i].gguf) == 0)
            hf = w->arch == VKG_ARCH_GEMMA2 && LAYER_NAMES[i].gemma ? LAYER_NAMES[i].gemma : LAYER_NAMES[i].hf;
    char *name = hf ? dup_printf("model.layers.%u.%s.%s", layer, hf, suffix) : strdup(t->name);
    if (!name) return vkg_error(VKG_ERR_NOMEM, "tensor name");
    void *buf = NULL;
    enum vkg_status s = VKG_OK;
    bool is_norm = strstr(part, "norm") != NULL && strcmp(part, "attn_q_norm") && strcmp(part, "attn_k_norm");
    if (w->arch == VKG_ARCH_LLAMA && strcmp(part, "attn_q") == 0) s = unpermute(t, w->n_head, &buf);
    else if (w->arch == VKG_ARCH_LLAMA && strcmp(part, "attn_k") == 0) s = unpermute(t, w->n_head_kv, &buf);
    else if (w->arch == VKG_ARCH_GEMMA2 && is_norm) s = gemma_norm(t, &buf);
    if (s != VKG_OK) {
        free(name);
        return s;
    }
    return gw_add(w, t, name, buf ? buf : t->data, t->n_bytes, t->n_dims, t->ne, buf);
}

static enum vkg_status map_tensor(struct gw *w, const struct vkg_gguf_tensor *t)
{
    const char *f = base_name(t->file);
    if (vkg_gguf_type_dtype(t->type) == VKG_DTYPE_UNKNOWN)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: tensor '%s': ggml type %s is not supported yet (F32, F16, BF16, Q8_0 are)", f, t->name,
                         vkg_gguf_type_name(t->type));
    unsigned layer;
    int used = 0;
    char part[64], suffix[16];
    if (sscanf(t->name, "blk.%u.%63[a-z_0-9].%15[a-z]%n", &layer, part, suffix, &used) == 3 && t->name[used] == '\0')
        return map_layer_tensor(w, t, layer, part, suffix);
    static const char *const top[][2] = { { "token_embd.weight", "model.embed_tokens.weight" },
                                          { "output_norm.weight", "model.norm.weight" },
                                          { "output.weight", "lm_head.weight" } };
    if (strcmp(t->name, "rope_freqs.weight") == 0)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: tensor 'rope_freqs.weight' (Llama-3.1 RoPE scaling) is not supported", f);
    for (int i = 0; i < 3; i++)
        if (strcmp(t->name, top[i][0]) == 0) {
            char *name = strdup(top[i][1]);
            void *buf = NULL;
            if (!name) return vkg_error(VKG_ERR_NOMEM, "tensor name");
            if (i == 1 && w->arch == VKG_ARCH_GEMMA2) {
                enum vkg_status s = gemma_norm(t, &buf);
                if (s != VKG_OK) {
                    free(name);
                    return s;
                }
            }
            return gw_add(w, t, name, buf ? buf : t->data, t->n_bytes, t->n_dims, t->ne, buf);
        }
    char *name = strdup(t->name); /* unknown: kept, so the model check names it */
    if (!name) return vkg_error(VKG_ERR_NOMEM, "tensor name");
    return gw_add(w, t, name, t->data, t->n_bytes, t->n_dims, t->ne, NULL);
}

static void gw_free(void *p)
{
    struct gw *w = p;
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->names[i]);
        free(w->bufs[i]);
    }
    free(w->names);
    free(w->bufs);
    free(w->views);
    vkg_gguf_close(w->g);
    free(w);
}

enum vkg_status vkg_gguf_tensors_open(const char *path, struct vkg_safetensors **out)
{
    *out = NULL;
    struct gw *w = calloc(1, sizeof *w);
    if (!w) return vkg_error(VKG_ERR_NOMEM, "%s", path);
    const struct arch_row *a = NULL;
    enum vkg_status s = vkg_gguf_open(path, &w->g);
    if (s == VKG_OK) s = arch_of(w->g, &a);
    if (s == VKG_OK) {
        w->arch = a->arch;
        char key[96];
        snprintf(key, sizeof key, "%s.attention.head_count", a->gguf);
        s = vkg_gguf_get_u32(w->g, key, &w->n_head);
        if (s == VKG_ERR_NOT_FOUND) s = vkg_error(VKG_ERR_CONFIG, "%s: metadata has no %s", base_name(path), key);
        snprintf(key, sizeof key, "%s.attention.head_count_kv", a->gguf);
        enum vkg_status k = s == VKG_OK ? vkg_gguf_get_u32(w->g, key, &w->n_head_kv) : s;
        if (k == VKG_ERR_NOT_FOUND) w->n_head_kv = w->n_head;
        else s = k;
    }
    for (size_t i = 0; s == VKG_OK && i < vkg_gguf_tensor_count(w->g); i++)
        s = map_tensor(w, vkg_gguf_tensor_get(w->g, i));
    if (s != VKG_OK) {
        gw_free(w);
        return s;
    }
    size_t n_parts = vkg_gguf_file_count(w->g);
    const char **parts = malloc(n_parts * sizeof *parts);
    if (!parts) {
        gw_free(w);
        return vkg_error(VKG_ERR_NOMEM, "%s: %zu parts", base_name(path), n_parts);
    }
    for (size_t i = 0; i < n_parts; i++) parts[i] = vkg_gguf_file_path(w->g, i);
    s = vkg_safetensors_adopt(w->views, w->n, parts, n_parts, w, gw_free, out);
    free(parts);
    return s;
}
