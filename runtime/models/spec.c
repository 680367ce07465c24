/* spec.c — the tensors each architecture reads (spec.h). One function per
 * family below; the shapes are those of transformers' modeling code for the
 * config (nn.Linear weights [out_features, in_features], norms [dim]). */
#include "spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

struct list {
    struct vkg_tensor_spec *v;
    size_t n, cap;
    int oom;
};

#define LAYER(field) offsetof(struct vkg_layer, field)
#define MODEL(field) offsetof(struct vkg_model, field)

/* Appends one tensor: 1-D when why1 is NULL. */
static struct vkg_tensor_spec *add(struct list *s, int32_t layer, size_t slot, uint64_t d0, const char *why0,
                                   uint64_t d1, const char *why1, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static struct vkg_tensor_spec *add(struct list *s, int32_t layer, size_t slot, uint64_t d0, const char *why0,
                                   uint64_t d1, const char *why1, const char *fmt, ...)
{
    static struct vkg_tensor_spec sink;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct vkg_tensor_spec *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            s->oom = 1;
            return &sink;
        }
        s->v = v;
        s->cap = cap;
    }
    struct vkg_tensor_spec *t = &s->v[s->n++];
    *t = (struct vkg_tensor_spec){ .n_dims = why1 ? 2 : 1,
                                   .shape = { d0, why1 ? d1 : 0 },
                                   .why = { why0, why1 },
                                   .layer = layer,
                                   .slot = slot,
                                   .expert = -1,
                                   .index = -1 };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    return t;
}

/* A linear layer's weight [out][in] and, when bias, its bias [out]. */
static void linear(struct list *s, uint32_t l, size_t w_slot, size_t b_slot, int bias, uint64_t out,
                   const char *why_out, uint64_t in, const char *why_in, const char *name)
{
    add(s, (int32_t)l, w_slot, out, why_out, in, why_in, "model.layers.%u.%s.weight", l, name);
    if (bias) add(s, (int32_t)l, b_slot, out, why_out, 0, NULL, "model.layers.%u.%s.bias", l, name);
}

static void norm(struct list *s, uint32_t l, size_t slot, uint64_t n, const char *why, const char *name)
{
    add(s, (int32_t)l, slot, n, why, 0, NULL, "model.layers.%u.%s.weight", l, name);
}

/* Embedding, final norm, and the head: score (classifier), lm_head unless tied. */
static void globals(struct list *s, const struct vkg_hf_config *c)
{
    add(s, -1, MODEL(embed), c->vocab_size, "vocab_size", c->hidden_size, "hidden_size", "model.embed_tokens.weight");
    add(s, -1, MODEL(norm), c->hidden_size, "hidden_size", 0, NULL, "model.norm.weight");
    if (c->seq_cls) add(s, -1, MODEL(head), c->num_labels, "num_labels", c->hidden_size, "hidden_size", "score.weight");
    else if (!c->tie_word_embeddings)
        add(s, -1, MODEL(head), c->vocab_size, "vocab_size", c->hidden_size, "hidden_size", "lm_head.weight");
}

/* Llama / Qwen / Mixtral / Gemma-2 self-attention (GQA), Qwen3's q/k norms. */
static void attention(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    uint64_t d = c->hidden_size, q = (uint64_t)c->n_heads * c->head_dim, kv = (uint64_t)c->n_kv_heads * c->head_dim;
    const char *wq = "num_attention_heads*head_dim", *wkv = "num_key_value_heads*head_dim";
    linear(s, l, LAYER(wq), LAYER(bq), c->qkv_bias, q, wq, d, "hidden_size", "self_attn.q_proj");
    linear(s, l, LAYER(wk), LAYER(bk), c->qkv_bias, kv, wkv, d, "hidden_size", "self_attn.k_proj");
    linear(s, l, LAYER(wv), LAYER(bv), c->qkv_bias, kv, wkv, d, "hidden_size", "self_attn.v_proj");
    linear(s, l, LAYER(wo), LAYER(bo), c->o_bias, d, "hidden_size", q, wq, "self_attn.o_proj");
    if (c->qk_norm) {
        norm(s, l, LAYER(q_norm), c->head_dim, "head_dim", "self_attn.q_norm");
        norm(s, l, LAYER(k_norm), c->head_dim, "head_dim", "self_attn.k_norm");
    }
}

/* DeepSeek-V2 multi-head latent attention (modeling_deepseek_v2.py: q_proj has
 * no bias; q_a_proj, kv_a_proj_with_mqa and o_proj have attention_bias). */
static void mla(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    uint64_t d = c->hidden_size, H = c->n_heads, rope = c->qk_rope_head_dim;
    uint64_t q = H * (c->qk_nope_head_dim + rope), kvb = H * (c->qk_nope_head_dim + c->v_head_dim);
    const char *wq = "num_attention_heads*(qk_nope_head_dim+qk_rope_head_dim)";
    if (c->q_lora_rank) {
        linear(s, l, LAYER(wq_a), LAYER(bq_a), c->qkv_bias, c->q_lora_rank, "q_lora_rank", d, "hidden_size",
               "self_attn.q_a_proj");
        norm(s, l, LAYER(q_a_norm), c->q_lora_rank, "q_lora_rank", "self_attn.q_a_layernorm");
        linear(s, l, LAYER(wq), 0, 0, q, wq, c->q_lora_rank, "q_lora_rank", "self_attn.q_b_proj");
    } else {
        linear(s, l, LAYER(wq), 0, 0, q, wq, d, "hidden_size", "self_attn.q_proj");
    }
    linear(s, l, LAYER(wkv_a), LAYER(bkv_a), c->qkv_bias, c->kv_lora_rank + rope, "kv_lora_rank+qk_rope_head_dim", d,
           "hidden_size", "self_attn.kv_a_proj_with_mqa");
    norm(s, l, LAYER(kv_a_norm), c->kv_lora_rank, "kv_lora_rank", "self_attn.kv_a_layernorm");
    linear(s, l, LAYER(wkv_b), 0, 0, kvb, "num_attention_heads*(qk_nope_head_dim+v_head_dim)", c->kv_lora_rank,
           "kv_lora_rank", "self_attn.kv_b_proj");
    linear(s, l, LAYER(wo), LAYER(bo), c->o_bias, d, "hidden_size", H * c->v_head_dim, "num_attention_heads*v_head_dim",
           "self_attn.o_proj");
}

/* A gated MLP under model.layers.l.<block>, width ff, into the struct at `part`. */
static void mlp(struct list *s, const struct vkg_hf_config *c, uint32_t l, size_t part, const char *block, uint64_t ff,
                const char *why)
{
    char n[3][96];
    static const char *const mats[3] = { "gate_proj", "up_proj", "down_proj" };
    for (int i = 0; i < 3; i++) snprintf(n[i], sizeof n[i], "%s.%s", block, mats[i]);
    size_t p = part;
    int b = c->mlp_bias;
    uint64_t d = c->hidden_size;
    linear(s, l, p + offsetof(struct vkg_mlp_weights, gate), p + offsetof(struct vkg_mlp_weights, gate_b), b, ff, why,
           d, "hidden_size", n[0]);
    linear(s, l, p + offsetof(struct vkg_mlp_weights, up), p + offsetof(struct vkg_mlp_weights, up_b), b, ff, why, d,
           "hidden_size", n[1]);
    linear(s, l, p + offsetof(struct vkg_mlp_weights, down), p + offsetof(struct vkg_mlp_weights, down_b), b, d,
           "hidden_size", ff, why, n[2]);
}

static const struct vkg_moe_names QWEN_MOE = { "mlp", { "gate_proj", "up_proj", "down_proj" } };
static const struct vkg_moe_names MIXTRAL_MOE = { "block_sparse_moe", { "w1", "w3", "w2" } };

const struct vkg_moe_names *vkg_moe_names_of(enum vkg_arch arch)
{
    return arch == VKG_ARCH_MIXTRAL ? &MIXTRAL_MOE : &QWEN_MOE;
}

/* The router and every routed expert of one MoE layer (stacked at load, no bias). */
static void experts(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    const struct vkg_moe_names *nm = vkg_moe_names_of(c->arch);
    const char *wn = c->arch == VKG_ARCH_DEEPSEEK_V2 ? "n_routed_experts"
                     : c->arch == VKG_ARCH_MIXTRAL   ? "num_local_experts"
                                                     : "num_experts";
    const char *wf = c->arch == VKG_ARCH_MIXTRAL ? "intermediate_size" : "moe_intermediate_size";
    uint64_t d = c->hidden_size, ff = c->moe_intermediate_size;
    add(s, (int32_t)l, LAYER(router), c->n_experts, wn, d, "hidden_size", "model.layers.%u.%s.gate.weight", l,
        nm->block);
    for (uint32_t e = 0; e < c->n_experts; e++)
        for (int i = 0; i < 3; i++) {
            struct vkg_tensor_spec *t = add(s, (int32_t)l, 0, i == 2 ? d : ff, i == 2 ? "hidden_size" : wf,
                                            i == 2 ? ff : d, i == 2 ? wf : "hidden_size",
                                            "model.layers.%u.%s.experts.%u.%s.weight", l, nm->block, e, nm->mat[i]);
            t->expert = (int32_t)e;
            t->matrix = (uint8_t)i;
        }
}

/* The feed-forward block of layer l: dense MLP, or router + experts (+ DeepSeek's shared experts). */
static void feed_forward(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    if (!(c->layer_moe && c->layer_moe[l])) {
        mlp(s, c, l, LAYER(mlp), "mlp", c->intermediate_size, "intermediate_size");
        return;
    }
    experts(s, c, l);
    if (c->arch == VKG_ARCH_DEEPSEEK_V2 && c->n_shared_experts)
        mlp(s, c, l, LAYER(shared), "mlp.shared_experts", c->shared_expert_intermediate_size,
            "n_shared_experts*moe_intermediate_size");
}

/* Llama, Qwen2/3, Qwen3-MoE, Mixtral: pre-norm decoder layers. */
static void layer_pre_norm(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    norm(s, l, LAYER(attn_norm), c->hidden_size, "hidden_size", "input_layernorm");
    attention(s, c, l);
    norm(s, l, LAYER(ffn_norm), c->hidden_size, "hidden_size", "post_attention_layernorm");
    feed_forward(s, c, l);
}

/* DeepSeek-V2: MLA, then the dense MLP (first_k_dense_replace) or MoE. */
static void layer_deepseek2(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    norm(s, l, LAYER(attn_norm), c->hidden_size, "hidden_size", "input_layernorm");
    mla(s, c, l);
    norm(s, l, LAYER(ffn_norm), c->hidden_size, "hidden_size", "post_attention_layernorm");
    feed_forward(s, c, l);
}

/* Gemma-2: four norms around attention and the MLP. */
static void layer_gemma2(struct list *s, const struct vkg_hf_config *c, uint32_t l)
{
    const uint64_t d = c->hidden_size;
    norm(s, l, LAYER(attn_norm), d, "hidden_size", "input_layernorm");
    attention(s, c, l);
    norm(s, l, LAYER(attn_post_norm), d, "hidden_size", "post_attention_layernorm");
    norm(s, l, LAYER(ffn_norm), d, "hidden_size", "pre_feedforward_layernorm");
    mlp(s, c, l, LAYER(mlp), "mlp", c->intermediate_size, "intermediate_size");
    norm(s, l, LAYER(ffn_post_norm), d, "hidden_size", "post_feedforward_layernorm");
}

enum vkg_status vkg_model_spec(const struct vkg_hf_config *c, uint32_t n_layers, struct vkg_tensor_spec **out,
                               size_t *n)
{
    *out = NULL;
    *n = 0;
    void (*layer)(struct list *, const struct vkg_hf_config *, uint32_t) = NULL;
    switch (c->arch) {
    case VKG_ARCH_LLAMA:
    case VKG_ARCH_QWEN2:
    case VKG_ARCH_QWEN3:
    case VKG_ARCH_QWEN3_MOE:
    case VKG_ARCH_MIXTRAL: layer = layer_pre_norm; break;
    case VKG_ARCH_DEEPSEEK_V2: layer = layer_deepseek2; break;
    case VKG_ARCH_GEMMA2: layer = layer_gemma2; break;
    default: return vkg_error(VKG_ERR_UNSUPPORTED, "%s: no tensor list for this architecture", c->architecture);
    }
    struct list s = { 0 };
    globals(&s, c);
    if (n_layers > c->n_layers) n_layers = c->n_layers;
    for (uint32_t l = 0; l < n_layers && !s.oom; l++) layer(&s, c, l);
    if (s.oom) {
        free(s.v);
        return vkg_error(VKG_ERR_NOMEM, "%s: tensor list of %u layers", c->architecture, n_layers);
    }
    *out = s.v;
    *n = s.n;
    return VKG_OK;
}
