/* hf_config.c — config.json / generation_config.json parsing (see hf_config.h).
 *
 * Defaults are those of the transformers 5.x configuration classes; each
 * family's table of defaults sits in one function below so that it can be
 * read next to configuration_<family>.py. */
#include "hf_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "gguf_model.h"
#include "json.h"

/* ---- file and JSON helpers ------------------------------------------------ */

/* Reads and parses a JSON file of the model directory (json.h: Python's
 * json semantics, regular files only). VKG_ERR_NOT_FOUND when it does not
 * exist, so callers can treat optional files as absent; other problems are
 * VKG_ERR_CONFIG naming the file. */
static enum vkg_status as_config_error(void)
{
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", vkg_error_detail());
    return vkg_error(VKG_ERR_CONFIG, "%s", detail);
}

static enum vkg_status load_json(const char *path, cJSON **out)
{
    enum vkg_status st = vkg_json_load(path, VKG_JSON_MAX_CONFIG, 0, out);
    if (st == VKG_OK || st == VKG_ERR_NOT_FOUND || st == VKG_ERR_NOMEM) return st;
    return as_config_error();
}

/* The object being parsed and the name of its file, for messages. */
struct jctx {
    const cJSON *obj;
    const char *name;
};

static const cJSON *jget(const struct jctx *c, const char *key) { return vkg_json_get(c->obj, key); }

static bool jabsent(const cJSON *v) { return !v || cJSON_IsNull(v); }

static const char *jtype(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "null";
}

static enum vkg_status jwrong(const struct jctx *c, const char *key, const cJSON *v, const char *want)
{
    return vkg_error(VKG_ERR_CONFIG, "%s: field '%s' must be %s, got %s", c->name, key, want, jtype(v));
}

/* Unsigned integer field. Absent → def, null → null_val (transformers None).
 * JSON writers emit 2.0 for ints at times, so any integral number is taken. */
static enum vkg_status j_u64(const struct jctx *c, const char *key, uint64_t def, uint64_t null_val, uint64_t *out)
{
    const cJSON *v = jget(c, key);
    if (!v) {
        *out = def;
        return VKG_OK;
    }
    if (cJSON_IsNull(v)) {
        *out = null_val;
        return VKG_OK;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    if (!(d >= 0.0 && d <= 9007199254740992.0 && d == floor(d))) return jwrong(c, key, v, "a non-negative integer");
    *out = (uint64_t)d;
    return VKG_OK;
}

static enum vkg_status j_u32(const struct jctx *c, const char *key, uint32_t def, uint32_t null_val, uint32_t *out)
{
    uint64_t v;
    enum vkg_status st = j_u64(c, key, def, null_val, &v);
    if (st == VKG_OK && v > UINT32_MAX)
        return vkg_error(VKG_ERR_CONFIG, "%s: field '%s' = %llu is too large", c->name, key, (unsigned long long)v);
    *out = (uint32_t)v;
    return st;
}

static enum vkg_status j_f64(const struct jctx *c, const char *key, double def, double null_val, double *out)
{
    const cJSON *v = jget(c, key);
    if (!v) {
        *out = def;
        return VKG_OK;
    }
    if (cJSON_IsNull(v)) {
        *out = null_val;
        return VKG_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return jwrong(c, key, v, "a finite number");
    *out = v->valuedouble;
    return VKG_OK;
}

static enum vkg_status j_bool(const struct jctx *c, const char *key, bool def, bool *out)
{
    const cJSON *v = jget(c, key);
    if (jabsent(v)) {
        *out = def;
        return VKG_OK;
    }
    if (!cJSON_IsBool(v)) return jwrong(c, key, v, "true or false");
    *out = cJSON_IsTrue(v);
    return VKG_OK;
}

/* String field copied into a fixed buffer; absent/null → def. */
static enum vkg_status j_str(const struct jctx *c, const char *key, const char *def, char *buf, size_t cap)
{
    const cJSON *v = jget(c, key);
    const char *s = def;
    if (!jabsent(v)) {
        if (!cJSON_IsString(v)) return jwrong(c, key, v, "a string");
        s = v->valuestring;
    }
    if (strlen(s) >= cap) return vkg_error(VKG_ERR_CONFIG, "%s: field '%s' is too long", c->name, key);
    memcpy(buf, s, strlen(s) + 1);
    return VKG_OK;
}

/* Token id: absent → def, null → -1 (None), else an integer >= 0. */
static enum vkg_status j_token(const struct jctx *c, const char *key, int32_t def, int32_t *out)
{
    const cJSON *v = jget(c, key);
    if (!v) {
        *out = def;
        return VKG_OK;
    }
    if (cJSON_IsNull(v)) {
        *out = -1;
        return VKG_OK;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    if (!(d >= 0.0 && d <= INT32_MAX && d == floor(d))) return jwrong(c, key, v, "a token id (an integer >= 0)");
    *out = (int32_t)d;
    return VKG_OK;
}

/* eos_token_id: int or list of ints (Qwen3, Gemma-3, Llama-3.1 list several). */
static enum vkg_status j_eos(const struct jctx *c, int32_t def, int32_t *ids, uint32_t *n)
{
    const cJSON *v = jget(c, "eos_token_id");
    *n = 0;
    if (!cJSON_IsArray(v)) {
        int32_t id;
        enum vkg_status st = j_token(c, "eos_token_id", def, &id);
        if (st == VKG_OK && id >= 0) ids[(*n)++] = id;
        return st;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1.0;
        if (!(d >= 0.0 && d <= INT32_MAX && d == floor(d)))
            return jwrong(c, "eos_token_id", e, "a list of token ids, an element");
        if (*n == 8) return vkg_error(VKG_ERR_CONFIG, "%s: more than 8 eos_token_id values", c->name);
        ids[(*n)++] = (int32_t)d;
    }
    return VKG_OK;
}

/* ---- architecture ------------------------------------------------------- */

static const char *const g_arch_names[] = {
#define VKG_X_ARCH(e, mt, cls) mt,
    VKG_ARCH_LIST(VKG_X_ARCH)
#undef VKG_X_ARCH
};
static const char *const g_arch_classes[] = {
#define VKG_X_ARCH(e, mt, cls) cls,
    VKG_ARCH_LIST(VKG_X_ARCH)
#undef VKG_X_ARCH
};
_Static_assert(sizeof g_arch_names / sizeof g_arch_names[0] == VKG_ARCH_COUNT, "arch table");

const char *vkg_arch_name(enum vkg_arch arch)
{
    return (unsigned)arch < VKG_ARCH_COUNT ? g_arch_names[arch] : "unknown";
}

/* Split "Qwen2ForSequenceClassification" into family + head. Every family
 * accepts both heads: the trunk is the same, only the last matrix differs. */
static bool match_class(const char *name, enum vkg_arch *arch, bool *seq_cls)
{
    for (int a = 0; a < VKG_ARCH_COUNT; a++) {
        size_t n = strlen(g_arch_classes[a]);
        if (strncmp(name, g_arch_classes[a], n) != 0) continue;
        bool causal = strcmp(name + n, "ForCausalLM") == 0;
        bool cls = strcmp(name + n, "ForSequenceClassification") == 0;
        if (causal || cls) {
            *arch = (enum vkg_arch)a;
            *seq_cls = cls;
            return true;
        }
    }
    return false;
}

static enum vkg_status parse_architecture(const struct jctx *c, struct vkg_hf_config *cfg)
{
    const cJSON *v = jget(c, "architectures");
    if (jabsent(v)) return vkg_error(VKG_ERR_CONFIG, "%s: required field 'architectures' is missing", c->name);
    const cJSON *first = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0) : NULL;
    if (!cJSON_IsString(first)) return jwrong(c, "architectures", v, "a non-empty list of class names");
    if (!match_class(first->valuestring, &cfg->arch, &cfg->seq_cls)) {
        char list[512] = "";
        for (int a = 0; a < VKG_ARCH_COUNT; a++) {
            strcat(list, a ? ", " : "");
            strcat(list, g_arch_classes[a]);
        }
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: architecture '%s' is not supported; supported: "
                         "{%s}ForCausalLM and {%s}ForSequenceClassification",
                         c->name, first->valuestring, list, list);
    }
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", first->valuestring);
    return VKG_OK;
}

/* ---- per-family defaults ---------------------------------------------- */

/* The defaults that differ between the configuration classes. Shape fields
 * are required, so only the ones that exist only as defaults are here. */
struct family_defaults {
    uint64_t max_pos;
    double rms_eps, theta;
    bool tie;
    int32_t pad, bos, eos;
    uint32_t kv_heads_default; /* 0 = n_heads */
};

static struct family_defaults family_defaults(enum vkg_arch a)
{
    switch (a) {
    case VKG_ARCH_LLAMA: return (struct family_defaults){ 2048, 1e-6, 1e4, false, -1, 1, 2, 0 };
    case VKG_ARCH_QWEN2: return (struct family_defaults){ 32768, 1e-6, 1e4, false, -1, -1, -1, 32 };
    case VKG_ARCH_QWEN3: return (struct family_defaults){ 32768, 1e-6, 1e4, false, -1, -1, -1, 32 };
    case VKG_ARCH_QWEN3_MOE: return (struct family_defaults){ 32768, 1e-6, 1e4, false, -1, -1, -1, 4 };
    case VKG_ARCH_MIXTRAL: return (struct family_defaults){ 131072, 1e-5, 1e6, false, -1, 1, 2, 8 };
    case VKG_ARCH_DEEPSEEK_V2: return (struct family_defaults){ 2048, 1e-6, 1e4, false, -1, 1, 2, 0 };
    case VKG_ARCH_GEMMA2: return (struct family_defaults){ 8192, 1e-6, 1e4, true, 0, 2, 1, 4 };
    default: break;
    }
    return (struct family_defaults){ 0 };
}

static enum vkg_status require(const struct jctx *c, const char *const *keys)
{
    for (; *keys; keys++)
        if (jabsent(jget(c, *keys)))
            return vkg_error(VKG_ERR_CONFIG, "%s: required field '%s' is missing", c->name, *keys);
    return VKG_OK;
}

static enum vkg_status parse_act(const struct jctx *c, const char *key, const char *def, enum vkg_act *out)
{
    char name[32];
    enum vkg_status st = j_str(c, key, def, name, sizeof name);
    if (st != VKG_OK) return st;
    if (!strcmp(name, "silu") || !strcmp(name, "swish")) *out = VKG_ACT_SILU;
    else if (!strcmp(name, "gelu_pytorch_tanh") || !strcmp(name, "gelu_new") || !strcmp(name, "gelu_fast"))
        *out = VKG_ACT_GELU_TANH;
    else if (!strcmp(name, "gelu")) *out = VKG_ACT_GELU;
    else
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: %s '%s' is not supported (silu, gelu, gelu_pytorch_tanh)", c->name,
                         key, name);
    return VKG_OK;
}

/* Fields every family has, with the family's defaults. */
static enum vkg_status parse_common(const struct jctx *c, struct vkg_hf_config *cfg)
{
    static const char *const req[] = { "vocab_size",          "hidden_size",       "num_hidden_layers",
                                       "num_attention_heads", "intermediate_size", NULL };
    struct family_defaults d = family_defaults(cfg->arch);
    enum vkg_status st = require(c, req);
    if (st == VKG_OK) st = j_u32(c, "vocab_size", 0, 0, &cfg->vocab_size);
    if (st == VKG_OK) st = j_u32(c, "hidden_size", 0, 0, &cfg->hidden_size);
    if (st == VKG_OK) st = j_u32(c, "intermediate_size", 0, 0, &cfg->intermediate_size);
    if (st == VKG_OK) st = j_u32(c, "num_hidden_layers", 0, 0, &cfg->n_layers);
    if (st == VKG_OK) st = j_u32(c, "num_attention_heads", 0, 0, &cfg->n_heads);
    if (st != VKG_OK) return st;
    if (!cfg->hidden_size || !cfg->n_layers || !cfg->n_heads || !cfg->vocab_size)
        return vkg_error(VKG_ERR_CONFIG,
                         "%s: vocab_size, hidden_size, num_hidden_layers and "
                         "num_attention_heads must be > 0",
                         c->name);
    if (cfg->n_layers > 65536) /* bounds the per-layer tables below; runtime/models checks the checkpoint */
        return vkg_error(VKG_ERR_CONFIG, "%s: num_hidden_layers %u is more than 65536", c->name, cfg->n_layers);
    uint32_t kv_def = d.kv_heads_default ? d.kv_heads_default : cfg->n_heads;
    st = j_u32(c, "num_key_value_heads", kv_def, cfg->n_heads, &cfg->n_kv_heads);
    if (st == VKG_OK) st = j_u64(c, "max_position_embeddings", d.max_pos, d.max_pos, &cfg->max_position_embeddings);
    if (st == VKG_OK) st = j_f64(c, "rms_norm_eps", d.rms_eps, d.rms_eps, &cfg->rms_norm_eps);
    if (st == VKG_OK) st = j_bool(c, "tie_word_embeddings", d.tie, &cfg->tie_word_embeddings);
    if (st == VKG_OK) st = j_token(c, "pad_token_id", d.pad, &cfg->pad_token_id);
    if (st == VKG_OK) st = j_token(c, "bos_token_id", d.bos, &cfg->bos_token_id);
    if (st == VKG_OK) st = j_eos(c, d.eos, cfg->eos_token_ids, &cfg->n_eos);
    if (st != VKG_OK) return st;
    if (!cfg->n_kv_heads || cfg->n_heads % cfg->n_kv_heads)
        return vkg_error(VKG_ERR_CONFIG,
                         "%s: num_attention_heads %u is not a multiple of "
                         "num_key_value_heads %u",
                         c->name, cfg->n_heads, cfg->n_kv_heads);
    /* "dtype" replaced "torch_dtype" in transformers 5; the new key wins. */
    st = j_str(c, "torch_dtype", "", cfg->dtype, sizeof cfg->dtype);
    if (st == VKG_OK && !jabsent(jget(c, "dtype"))) st = j_str(c, "dtype", "", cfg->dtype, sizeof cfg->dtype);
    return st;
}

/* num_labels: len(id2label) when id2label is given, else num_labels, else 2. */
static enum vkg_status parse_labels(const struct jctx *c, struct vkg_hf_config *cfg)
{
    const cJSON *map = jget(c, "id2label");
    if (jabsent(map)) return j_u32(c, "num_labels", 2, 2, &cfg->num_labels);
    if (!cJSON_IsObject(map)) return jwrong(c, "id2label", map, "an object");
    cfg->num_labels = (uint32_t)cJSON_GetArraySize(map);
    uint32_t given = cfg->num_labels;
    enum vkg_status st = j_u32(c, "num_labels", cfg->num_labels, cfg->num_labels, &given);
    if (st == VKG_OK && given != cfg->num_labels)
        return vkg_error(VKG_ERR_CONFIG, "%s: num_labels %u disagrees with id2label (%u entries)", c->name, given,
                         cfg->num_labels);
    return st;
}

/* ---- RoPE --------------------------------------------------------------- */

/* transformers' yarn get_mscale(): attention temperature for a scale factor. */
static double yarn_mscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * log(scale) + 1.0; }

static enum vkg_status parse_rope_type(const struct jctx *rc, enum vkg_rope_type *type)
{
    char name[32];
    const char *key = jabsent(jget(rc, "rope_type")) ? "type" : "rope_type";
    enum vkg_status st = j_str(rc, key, "default", name, sizeof name);
    if (st != VKG_OK) return st;
    static const char *const names[] = { "default", "linear", "dynamic", "llama3", "yarn" };
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) {
            *type = (enum vkg_rope_type)i;
            return VKG_OK;
        }
    return vkg_error(VKG_ERR_UNSUPPORTED,
                     "%s: rope type '%s' is not supported (default, linear, dynamic, llama3, yarn)", rc->name, name);
}

/* Scaling parameters of the chosen type. As in transformers, `factor` is
 * required by every scaled type and llama3 also needs its two band factors;
 * original_max_position_embeddings falls back to a top-level key, then to
 * max_position_embeddings (standardize_rope_params). */
static enum vkg_status parse_rope_scaling(const struct jctx *c, const struct jctx *rc, const struct vkg_hf_config *cfg,
                                          struct vkg_rope *r)
{
    static const char *const req_factor[] = { "factor", NULL };
    static const char *const req_llama3[] = { "factor", "low_freq_factor", "high_freq_factor", NULL };
    enum vkg_status st = VKG_OK;
    if (r->type == VKG_ROPE_LINEAR || r->type == VKG_ROPE_DYNAMIC) st = require(rc, req_factor);
    if (r->type == VKG_ROPE_LLAMA3) st = require(rc, req_llama3);
    if (r->type == VKG_ROPE_YARN && !jget(rc, "factor"))
        st = require(rc, req_factor); /* yarn: present-but-null means "derive" */
    uint64_t omax = cfg->max_position_embeddings;
    if (st == VKG_OK) st = j_u64(rc, "original_max_position_embeddings", omax, omax, &omax);
    if (st == VKG_OK) st = j_u64(c, "original_max_position_embeddings", omax, omax, &omax);
    r->original_max_position_embeddings = omax;
    if (st == VKG_OK) st = j_f64(rc, "factor", 1.0, 0.0, &r->factor);
    if (st == VKG_OK) st = j_f64(rc, "low_freq_factor", 1.0, 1.0, &r->low_freq_factor);
    if (st == VKG_OK) st = j_f64(rc, "high_freq_factor", 4.0, 4.0, &r->high_freq_factor);
    if (st == VKG_OK) st = j_f64(rc, "beta_fast", 32.0, 32.0, &r->beta_fast);
    if (st == VKG_OK) st = j_f64(rc, "beta_slow", 1.0, 1.0, &r->beta_slow);
    if (st == VKG_OK) st = j_f64(rc, "mscale", 0.0, 0.0, &r->mscale);
    if (st == VKG_OK) st = j_f64(rc, "mscale_all_dim", 0.0, 0.0, &r->mscale_all_dim);
    if (st == VKG_OK) st = j_f64(rc, "attention_factor", -1.0, -1.0, &r->attention_factor);
    if (st == VKG_OK) st = j_bool(rc, "truncate", true, &r->truncate);
    if (st != VKG_OK || r->type != VKG_ROPE_YARN) {
        r->attention_factor = 1.0;
        return st;
    }
    /* `beta_fast or 32`: a zero means the default in Python too. */
    if (r->beta_fast == 0.0) r->beta_fast = 32.0;
    if (r->beta_slow == 0.0) r->beta_slow = 1.0;
    if (r->factor == 0.0 && r->original_max_position_embeddings) /* factor: null */
        r->factor = (double)cfg->max_position_embeddings / (double)omax;
    if (r->attention_factor < 0.0)
        r->attention_factor = r->mscale != 0.0 && r->mscale_all_dim != 0.0
                                  ? yarn_mscale(r->factor, r->mscale) / yarn_mscale(r->factor, r->mscale_all_dim)
                                  : yarn_mscale(r->factor, 1.0);
    return VKG_OK;
}

/* rope_scaling (legacy, wins when non-empty, as in transformers 5) or
 * rope_parameters; rope_theta and partial_rotary_factor may sit inside the
 * dict or at the top level. rope_head_dim: the per-head width RoPE acts on. */
static enum vkg_status parse_rope(const struct jctx *c, struct vkg_hf_config *cfg, uint32_t rope_head_dim)
{
    struct vkg_rope *r = &cfg->rope;
    const cJSON *dict = jget(c, "rope_scaling");
    const char *dict_name = "rope_scaling";
    if (!jabsent(dict) && !cJSON_IsObject(dict)) return jwrong(c, dict_name, dict, "an object");
    if (!cJSON_IsObject(dict) || !dict->child) {
        dict = jget(c, "rope_parameters");
        dict_name = "rope_parameters";
    }
    if (!jabsent(dict) && !cJSON_IsObject(dict)) return jwrong(c, dict_name, dict, "an object");
    static const cJSON empty = { 0 };
    char name[128];
    snprintf(name, sizeof name, "%s: %s", c->name, dict_name);
    struct jctx rc = { jabsent(dict) ? &empty : dict, name };
    double theta_def = family_defaults(cfg->arch).theta;
    enum vkg_status st = j_f64(c, "rope_theta", theta_def, theta_def, &r->theta);
    if (st == VKG_OK) st = j_f64(&rc, "rope_theta", r->theta, r->theta, &r->theta);
    if (st == VKG_OK) st = j_f64(c, "partial_rotary_factor", 1.0, 1.0, &r->partial_rotary_factor);
    if (st == VKG_OK)
        st = j_f64(&rc, "partial_rotary_factor", r->partial_rotary_factor, r->partial_rotary_factor,
                   &r->partial_rotary_factor);
    if (st == VKG_OK) st = parse_rope_type(&rc, &r->type);
    if (st == VKG_OK) st = parse_rope_scaling(c, &rc, cfg, r);
    if (st != VKG_OK) return st;
    if (!(r->theta > 0.0) || !(r->partial_rotary_factor > 0.0 && r->partial_rotary_factor <= 1.0))
        return vkg_error(VKG_ERR_CONFIG,
                         "%s: rope_theta must be > 0 and partial_rotary_factor "
                         "in (0, 1]",
                         c->name);
    r->dim = (uint32_t)((double)rope_head_dim * r->partial_rotary_factor);
    return VKG_OK;
}

/* ---- attention: heads, biases, windows, softcaps -------------------------- */

static enum vkg_status parse_attention(const struct jctx *c, struct vkg_hf_config *cfg)
{
    enum vkg_arch a = cfg->arch;
    uint32_t hd_def = a == VKG_ARCH_QWEN3 ? 128 : a == VKG_ARCH_GEMMA2 ? 256 : cfg->hidden_size / cfg->n_heads;
    enum vkg_status st = j_u32(c, "head_dim", hd_def, cfg->hidden_size / cfg->n_heads, &cfg->head_dim);
    bool bias = false;
    if (st == VKG_OK) st = j_bool(c, "attention_bias", false, &bias);
    if (st == VKG_OK) st = j_bool(c, "mlp_bias", false, &cfg->mlp_bias);
    if (st != VKG_OK) return st;
    /* Which class fields exist decides what a key means: Qwen2 hard-codes a
     * q/k/v bias and no o bias; Mixtral has neither; MLP bias only exists in
     * the Llama and DeepSeek-V2 classes. */
    cfg->qkv_bias = a == VKG_ARCH_QWEN2 ? true : a == VKG_ARCH_MIXTRAL ? false : bias;
    cfg->o_bias = a == VKG_ARCH_QWEN2 || a == VKG_ARCH_MIXTRAL ? false : bias;
    if (a != VKG_ARCH_LLAMA && a != VKG_ARCH_DEEPSEEK_V2) cfg->mlp_bias = false;
    cfg->qk_norm = a == VKG_ARCH_QWEN3 || a == VKG_ARCH_QWEN3_MOE;
    cfg->attn_scale = 1.0 / sqrt((double)cfg->head_dim);
    if (a != VKG_ARCH_GEMMA2) return parse_act(c, "hidden_act", "silu", &cfg->act);
    /* Gemma-2 reads hidden_activation; hidden_act is a leftover key. */
    st = parse_act(c, "hidden_activation", "gelu_pytorch_tanh", &cfg->act);
    if (st == VKG_OK) st = j_f64(c, "query_pre_attn_scalar", 256, 256, &cfg->query_pre_attn_scalar);
    if (st == VKG_OK) st = j_f64(c, "attn_logit_softcapping", 50.0, 0.0, &cfg->attn_logit_softcapping);
    if (st == VKG_OK) st = j_f64(c, "final_logit_softcapping", 30.0, 0.0, &cfg->final_logit_softcapping);
    if (st == VKG_OK && !(cfg->query_pre_attn_scalar > 0.0))
        return vkg_error(VKG_ERR_CONFIG, "%s: query_pre_attn_scalar must be > 0", c->name);
    cfg->attn_scale = 1.0 / sqrt(cfg->query_pre_attn_scalar);
    return st;
}

/* Explicit layer_types (Qwen2, Qwen3, Gemma-2 classes): "sliding_attention"
 * or "full_attention" per layer. */
static enum vkg_status parse_layer_types(const struct jctx *c, struct vkg_hf_config *cfg)
{
    const cJSON *v = jget(c, "layer_types");
    if (!cJSON_IsArray(v) || (uint32_t)cJSON_GetArraySize(v) != cfg->n_layers)
        return vkg_error(VKG_ERR_CONFIG,
                         "%s: field 'layer_types' must be a list of %u entries "
                         "(num_hidden_layers)",
                         c->name, cfg->n_layers);
    uint32_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e) ||
            (strcmp(e->valuestring, "sliding_attention") && strcmp(e->valuestring, "full_attention")))
            return vkg_error(VKG_ERR_CONFIG,
                             "%s: layer_types entries must be "
                             "\"sliding_attention\" or \"full_attention\"",
                             c->name);
        cfg->layer_sliding[i++] &= !strcmp(e->valuestring, "sliding_attention");
    }
    return VKG_OK;
}

/* Which layers use a local window. Qwen2/Qwen3: only with use_sliding_window,
 * layers >= max_window_layers; Qwen3-MoE and Mixtral: all layers when a
 * window is set; Gemma-2: even layers (0, 2, ...). */
static enum vkg_status parse_sliding(const struct jctx *c, struct vkg_hf_config *cfg)
{
    enum vkg_arch a = cfg->arch;
    bool qwen = a == VKG_ARCH_QWEN2 || a == VKG_ARCH_QWEN3 || a == VKG_ARCH_QWEN3_MOE;
    bool use = a == VKG_ARCH_MIXTRAL || a == VKG_ARCH_GEMMA2;
    uint32_t def = a == VKG_ARCH_MIXTRAL ? 0 : 4096, max_window_layers = 28;
    enum vkg_status st = VKG_OK;
    if (qwen) st = j_bool(c, "use_sliding_window", false, &use);
    if (st == VKG_OK && (qwen || use)) st = j_u32(c, "sliding_window", def, 0, &cfg->sliding_window);
    if (st == VKG_OK) st = j_u32(c, "max_window_layers", 28, 28, &max_window_layers);
    if (st != VKG_OK) return st;
    if (!use) cfg->sliding_window = 0;
    for (uint32_t i = 0; i < cfg->n_layers; i++) {
        bool on = cfg->sliding_window != 0;
        if (a == VKG_ARCH_QWEN2 || a == VKG_ARCH_QWEN3) on = on && i >= max_window_layers;
        if (a == VKG_ARCH_GEMMA2) on = on && i % 2 == 0;
        cfg->layer_sliding[i] = on;
    }
    bool has_types = a == VKG_ARCH_QWEN2 || a == VKG_ARCH_QWEN3 || a == VKG_ARCH_GEMMA2;
    if (has_types && !jabsent(jget(c, "layer_types"))) {
        for (uint32_t i = 0; i < cfg->n_layers; i++) cfg->layer_sliding[i] = cfg->sliding_window != 0;
        return parse_layer_types(c, cfg);
    }
    return VKG_OK;
}

/* ---- mixture of experts --------------------------------------------------- */

static enum vkg_status parse_mlp_only_layers(const struct jctx *c, struct vkg_hf_config *cfg)
{
    const cJSON *v = jget(c, "mlp_only_layers"), *e;
    if (jabsent(v)) return VKG_OK;
    if (!cJSON_IsArray(v)) return jwrong(c, "mlp_only_layers", v, "a list of layer indices");
    cJSON_ArrayForEach(e, v)
    {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1.0;
        if (!(d >= 0.0 && d == floor(d))) return jwrong(c, "mlp_only_layers", e, "a list of layer indices, an element");
        if (d < cfg->n_layers) /* an index past the last layer changes nothing */
            cfg->layer_moe[(uint32_t)d] = 0;
    }
    return VKG_OK;
}

/* Qwen3-MoE: num_experts (alias of num_local_experts), every
 * decoder_sparse_step-th layer unless listed in mlp_only_layers. */
static enum vkg_status parse_moe_qwen3(const struct jctx *c, struct vkg_hf_config *cfg)
{
    static const char *const req[] = { "moe_intermediate_size", NULL };
    const char *experts = jabsent(jget(c, "num_local_experts")) ? "num_experts" : "num_local_experts";
    const char *const req_e[] = { experts, NULL };
    enum vkg_status st = require(c, req);
    if (st == VKG_OK) st = require(c, req_e);
    if (st == VKG_OK) st = j_u32(c, experts, 128, 128, &cfg->n_experts);
    if (st == VKG_OK) st = j_u32(c, "num_experts_per_tok", 8, 8, &cfg->n_experts_per_tok);
    if (st == VKG_OK) st = j_u32(c, "moe_intermediate_size", 768, 768, &cfg->moe_intermediate_size);
    if (st == VKG_OK) st = j_bool(c, "norm_topk_prob", false, &cfg->norm_topk_prob);
    if (st == VKG_OK) st = j_u32(c, "decoder_sparse_step", 1, 1, &cfg->decoder_sparse_step);
    if (st == VKG_OK && !cfg->decoder_sparse_step)
        return vkg_error(VKG_ERR_CONFIG, "%s: decoder_sparse_step must be > 0", c->name);
    for (uint32_t i = 0; st == VKG_OK && i < cfg->n_layers; i++)
        cfg->layer_moe[i] = cfg->n_experts > 0 && (i + 1) % cfg->decoder_sparse_step == 0;
    return st == VKG_OK ? parse_mlp_only_layers(c, cfg) : st;
}

/* Mixtral: every layer routes to top-k of num_local_experts experts of width
 * intermediate_size; the top-k softmax weights are always renormalized. */
static enum vkg_status parse_moe_mixtral(const struct jctx *c, struct vkg_hf_config *cfg)
{
    const char *experts = jabsent(jget(c, "num_experts")) ? "num_local_experts" : "num_experts";
    enum vkg_status st = j_u32(c, experts, 8, 8, &cfg->n_experts);
    if (st == VKG_OK) st = j_u32(c, "num_experts_per_tok", 2, 2, &cfg->n_experts_per_tok);
    cfg->moe_intermediate_size = cfg->intermediate_size;
    cfg->norm_topk_prob = true;
    for (uint32_t i = 0; i < cfg->n_layers; i++) cfg->layer_moe[i] = cfg->n_experts > 0;
    return st;
}

static enum vkg_status parse_router_deepseek(const struct jctx *c, struct vkg_hf_config *cfg)
{
    char topk[32], scoring[16];
    enum vkg_status st = j_str(c, "topk_method", "greedy", topk, sizeof topk);
    if (st == VKG_OK) st = j_str(c, "scoring_func", "softmax", scoring, sizeof scoring);
    if (st != VKG_OK) return st;
    if (!strcmp(topk, "greedy") || !strcmp(topk, "gready")) /* "gready": remote-code default */
        cfg->topk_method = VKG_MOE_TOPK_GREEDY;
    else if (!strcmp(topk, "group_limited_greedy")) cfg->topk_method = VKG_MOE_TOPK_GROUP_LIMITED;
    else if (!strcmp(topk, "noaux_tc")) cfg->topk_method = VKG_MOE_TOPK_NOAUX_TC;
    else
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: topk_method '%s' is not supported (greedy, "
                         "group_limited_greedy, noaux_tc)",
                         c->name, topk);
    if (strcmp(scoring, "softmax") && strcmp(scoring, "sigmoid"))
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "%s: scoring_func '%s' is not supported (softmax, "
                         "sigmoid)",
                         c->name, scoring);
    cfg->scoring = scoring[1] == 'o' ? VKG_MOE_SOFTMAX : VKG_MOE_SIGMOID;
    if (cfg->topk_method == VKG_MOE_TOPK_GROUP_LIMITED &&
        (!cfg->n_group || !cfg->topk_group || cfg->n_experts % cfg->n_group))
        return vkg_error(VKG_ERR_CONFIG,
                         "%s: group_limited_greedy needs n_group dividing "
                         "n_routed_experts and topk_group > 0",
                         c->name);
    return VKG_OK;
}

/* DeepSeek-V2: n_routed_experts routed + n_shared_experts always-on experts;
 * layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0
 * (the DeepSeek reference code; transformers 5 drops moe_layer_freq, which
 * every released V2 checkpoint sets to 1). */
static enum vkg_status parse_moe_deepseek(const struct jctx *c, struct vkg_hf_config *cfg)
{
    static const char *const req[] = { "n_routed_experts", "num_experts_per_tok", "moe_intermediate_size", NULL };
    enum vkg_status st = require(c, req);
    if (st == VKG_OK) st = j_u32(c, "n_routed_experts", 64, 0, &cfg->n_experts);
    if (st == VKG_OK) st = j_u32(c, "num_experts_per_tok", 0, 0, &cfg->n_experts_per_tok);
    if (st == VKG_OK) st = j_u32(c, "moe_intermediate_size", 1407, 1407, &cfg->moe_intermediate_size);
    if (st == VKG_OK) st = j_u32(c, "n_shared_experts", 2, 0, &cfg->n_shared_experts);
    if (st == VKG_OK) st = j_bool(c, "norm_topk_prob", false, &cfg->norm_topk_prob);
    if (st == VKG_OK) st = j_u32(c, "first_k_dense_replace", 0, 0, &cfg->first_k_dense_replace);
    if (st == VKG_OK) st = j_u32(c, "moe_layer_freq", 1, 1, &cfg->moe_layer_freq);
    if (st == VKG_OK) st = j_f64(c, "routed_scaling_factor", 1.0, 1.0, &cfg->routed_scaling_factor);
    if (st == VKG_OK) st = j_u32(c, "n_group", 0, 0, &cfg->n_group);
    if (st == VKG_OK) st = j_u32(c, "topk_group", 0, 0, &cfg->topk_group);
    if (st == VKG_OK) st = parse_router_deepseek(c, cfg);
    if (st != VKG_OK) return st;
    if (!cfg->moe_layer_freq) return vkg_error(VKG_ERR_CONFIG, "%s: moe_layer_freq must be > 0", c->name);
    cfg->shared_expert_intermediate_size = cfg->n_shared_experts * cfg->moe_intermediate_size;
    for (uint32_t i = 0; i < cfg->n_layers; i++)
        cfg->layer_moe[i] = cfg->n_experts > 0 && i >= cfg->first_k_dense_replace && i % cfg->moe_layer_freq == 0;
    return VKG_OK;
}

/* DeepSeek-V2 multi-head latent attention dims and its softmax scale. */
static enum vkg_status parse_mla(const struct jctx *c, struct vkg_hf_config *cfg)
{
    enum vkg_status st = j_u32(c, "q_lora_rank", 1536, 0, &cfg->q_lora_rank);
    if (st == VKG_OK) st = j_u32(c, "kv_lora_rank", 512, 512, &cfg->kv_lora_rank);
    if (st == VKG_OK) st = j_u32(c, "qk_nope_head_dim", 128, 128, &cfg->qk_nope_head_dim);
    if (st == VKG_OK) st = j_u32(c, "qk_rope_head_dim", 64, 64, &cfg->qk_rope_head_dim);
    if (st == VKG_OK) st = j_u32(c, "v_head_dim", 128, 128, &cfg->v_head_dim);
    if (st == VKG_OK) st = parse_rope(c, cfg, cfg->qk_rope_head_dim);
    if (st != VKG_OK) return st;
    cfg->head_dim = cfg->qk_nope_head_dim + cfg->qk_rope_head_dim;
    cfg->attn_scale = 1.0 / sqrt((double)cfg->head_dim);
    /* yarn_apply_mscale: the YaRN temperature enters the scale squared. */
    if (cfg->rope.type != VKG_ROPE_DEFAULT && cfg->rope.mscale_all_dim != 0.0) {
        double m = yarn_mscale(cfg->rope.factor, cfg->rope.mscale_all_dim);
        cfg->attn_scale *= m * m;
    }
    return VKG_OK;
}

/* ---- entry points ------------------------------------------------------- */

static enum vkg_status parse_family(const struct jctx *c, struct vkg_hf_config *cfg)
{
    enum vkg_status st = parse_attention(c, cfg);
    if (st == VKG_OK) st = parse_sliding(c, cfg);
    if (st == VKG_OK) st = parse_labels(c, cfg);
    if (st != VKG_OK) return st;
    cfg->decoder_sparse_step = 1;
    cfg->moe_layer_freq = 1;
    cfg->routed_scaling_factor = 1.0;
    switch (cfg->arch) {
    case VKG_ARCH_QWEN3_MOE: st = parse_moe_qwen3(c, cfg); break;
    case VKG_ARCH_MIXTRAL: st = parse_moe_mixtral(c, cfg); break;
    case VKG_ARCH_DEEPSEEK_V2: st = parse_moe_deepseek(c, cfg); break;
    default: break;
    }
    if (st != VKG_OK) return st;
    if (cfg->n_experts && (cfg->n_experts_per_tok == 0 || cfg->n_experts_per_tok > cfg->n_experts))
        return vkg_error(VKG_ERR_CONFIG, "%s: num_experts_per_tok %u must be in 1..%u", c->name, cfg->n_experts_per_tok,
                         cfg->n_experts);
    if (cfg->arch == VKG_ARCH_DEEPSEEK_V2) return parse_mla(c, cfg);
    return parse_rope(c, cfg, cfg->head_dim);
}

/* Fills *out from a parsed config.json object (root is borrowed). */
static enum vkg_status parse_config_root(const cJSON *root, const char *name, struct vkg_hf_config *out)
{
    struct jctx c = { root, name };
    enum vkg_status st =
        cJSON_IsObject(root) ? VKG_OK : vkg_error(VKG_ERR_CONFIG, "%s: top level is not an object", name);
    if (st == VKG_OK) st = parse_architecture(&c, out);
    if (st == VKG_OK) st = parse_common(&c, out);
    if (st == VKG_OK &&
        (!(out->layer_sliding = calloc(out->n_layers, 1)) || !(out->layer_moe = calloc(out->n_layers, 1))))
        st = vkg_error(VKG_ERR_NOMEM, "%s: %u layers", name, out->n_layers);
    if (st == VKG_OK) st = parse_family(&c, out);
    if (st != VKG_OK) vkg_hf_config_free(out);
    return st;
}

/* vkg_json_parse, with a syntax error reported as VKG_ERR_CONFIG. */
static enum vkg_status parse_text(const char *text, size_t len, const char *name, cJSON **root)
{
    enum vkg_status st = vkg_json_parse(text, len, name, 0, root);
    return st == VKG_ERR_FORMAT ? as_config_error() : st;
}

enum vkg_status vkg_hf_config_parse(const char *json, const char *name, struct vkg_hf_config *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root;
    enum vkg_status st = parse_text(json, strlen(json), name, &root);
    if (st == VKG_OK) st = parse_config_root(root, name, out);
    cJSON_Delete(root);
    return st;
}

enum vkg_status vkg_hf_config_load(const char *model_dir, struct vkg_hf_config *out)
{
    memset(out, 0, sizeof *out);
    if (vkg_gguf_is_path(model_dir)) return vkg_gguf_hf_config_load(model_dir, out); /* gguf_model.h */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/config.json", model_dir) >= (int)sizeof path)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: path too long", model_dir);
    enum vkg_status st = vkg_file_check_dir(model_dir);
    if (st != VKG_OK && st != VKG_ERR_NOT_FOUND)
        return as_config_error(); /* a FIFO or a file given as the model directory */
    cJSON *root;
    st = load_json(path, &root);
    if (st == VKG_ERR_NOT_FOUND)
        return vkg_error(VKG_ERR_CONFIG, "%s: not found (a model directory needs config.json)", path);
    if (st != VKG_OK) return st;
    st = parse_config_root(root, path, out);
    cJSON_Delete(root);
    return st;
}

void vkg_hf_config_free(struct vkg_hf_config *cfg)
{
    if (!cfg) return;
    free(cfg->layer_sliding);
    free(cfg->layer_moe);
    cfg->layer_sliding = cfg->layer_moe = NULL;
}

/* ---- generation_config.json -------------------------------------------- */

static enum vkg_status parse_generation(const struct jctx *c, struct vkg_generation_config *g)
{
    enum vkg_status st = j_token(c, "bos_token_id", -1, &g->bos_token_id);
    if (st == VKG_OK) st = j_token(c, "pad_token_id", -1, &g->pad_token_id);
    if (st == VKG_OK) st = j_eos(c, -1, g->eos_token_ids, &g->n_eos);
    if (st == VKG_OK) st = j_bool(c, "do_sample", false, &g->do_sample);
    if (st == VKG_OK) st = j_f64(c, "temperature", 1.0, 1.0, &g->temperature);
    if (st == VKG_OK) st = j_u32(c, "top_k", 50, 50, &g->top_k);
    if (st == VKG_OK) st = j_f64(c, "top_p", 1.0, 1.0, &g->top_p);
    if (st == VKG_OK && (g->temperature < 0.0 || g->top_p < 0.0 || g->top_p > 1.0))
        return vkg_error(VKG_ERR_CONFIG, "%s: temperature must be >= 0 and top_p in [0, 1]", c->name);
    return st;
}

static void generation_defaults(struct vkg_generation_config *out)
{
    *out = (struct vkg_generation_config){
        .bos_token_id = -1, .pad_token_id = -1, .temperature = 1.0, .top_k = 50, .top_p = 1.0
    };
}

static enum vkg_status generation_root(const cJSON *root, const char *name, struct vkg_generation_config *out)
{
    if (!cJSON_IsObject(root)) return vkg_error(VKG_ERR_CONFIG, "%s: top level is not an object", name);
    struct jctx c = { root, name };
    out->present = true;
    return parse_generation(&c, out);
}

enum vkg_status vkg_generation_config_parse(const char *text, size_t len, const char *name,
                                            struct vkg_generation_config *out)
{
    generation_defaults(out);
    cJSON *root;
    enum vkg_status st = parse_text(text, len, name, &root);
    if (st == VKG_OK) st = generation_root(root, name, out);
    cJSON_Delete(root);
    return st;
}

enum vkg_status vkg_generation_config_load(const char *model_dir, struct vkg_generation_config *out)
{
    generation_defaults(out);
    if (vkg_gguf_is_path(model_dir)) return vkg_gguf_generation_config_load(model_dir, out);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/generation_config.json", model_dir) >= (int)sizeof path)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: path too long", model_dir);
    cJSON *root;
    enum vkg_status st = load_json(path, &root);
    if (st == VKG_ERR_NOT_FOUND) return VKG_OK; /* optional file: the defaults stand */
    if (st == VKG_OK) st = generation_root(root, path, out);
    cJSON_Delete(root);
    return st;
}
