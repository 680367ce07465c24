/* gemma2.c — Gemma-2 (the base of DeepSeek-GRM-27B and its MetaRM), as
 * transformers' modeling_gemma2.py computes it: embeddings x sqrt(hidden),
 * (1 + w) RMSNorms before and after attention and the MLP, GeGLU (tanh GELU),
 * attention scaled by query_pre_attn_scalar^-1/2 with logit soft-capping,
 * sliding-window attention on the layers config marks local. The final logit
 * soft-cap is applied by the head (model.c). */
#include <math.h>

#include "blocks.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V VKG_V
#define GEMMA VKG_RMSNORM_GEMMA

/* delta = post-norm(delta); res += delta; h = next pre-norm(res) */
static enum vkg_status post_and_pre(struct vkg_model *m, const struct vkg_weight *post, const struct vkg_weight *pre,
                                    uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const float eps = (float)c->rms_norm_eps;
    VKG_TRY(vkg_op_rmsnorm(m->cmd, V(a->delta), V(post->buf), V(a->delta), n, c->hidden_size, eps, GEMMA));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(pre->buf), V(a->h), n, c->hidden_size, eps, GEMMA));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_gemma2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const uint32_t d = c->hidden_size;
    const struct vkg_weight *emb, *norm, *ln_in, *ln_post_attn, *ln_pre_ff, *ln_post_ff;
    VKG_TRY(vkg_model_weight_req(m, &emb, "model.embed_tokens.weight"));
    VKG_TRY(vkg_model_weight_req(m, &norm, "model.norm.weight"));
    /* embeddings scaled by sqrt(hidden) into the residual stream */
    VKG_TRY(vkg_op_embed(m->cmd, V(emb->buf), emb->dtype, emb->shape[0], d, V(a->ids), n, sqrtf((float)d), V(a->res)));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_model_weight_req(m, &ln_in, "model.layers.0.input_layernorm.weight"));
    VKG_TRY(vkg_op_rmsnorm(m->cmd, V(a->res), V(ln_in->buf), V(a->h), n, d, (float)c->rms_norm_eps, GEMMA));
    vkg_cmd_barrier(m->cmd);
    for (uint32_t l = 0; l < c->n_layers; l++) {
        VKG_TRY(vkg_model_weight_req(m, &ln_post_attn, "model.layers.%u.post_attention_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &ln_pre_ff, "model.layers.%u.pre_feedforward_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &ln_post_ff, "model.layers.%u.post_feedforward_layernorm.weight", l));
        /* attention block: h = input_norm(res) was made before */
        VKG_TRY(vkg_arch_attention(m, kv, l, n)); /* soft-cap and window from the config */
        /* res += post_attention_norm(attn); h = pre_feedforward_norm(res) */
        VKG_TRY(post_and_pre(m, ln_post_attn, ln_pre_ff, n));
        VKG_TRY(vkg_arch_mlp(m, l, "mlp", n)); /* GeGLU: hidden_activation gelu_pytorch_tanh */
        /* res += post_feedforward_norm(mlp); h = next input_norm(res), or the final norm */
        if (l + 1 < c->n_layers) VKG_TRY(vkg_model_weight_req(m, &ln_in, "model.layers.%u.input_layernorm.weight", l + 1));
        VKG_TRY(post_and_pre(m, ln_post_ff, l + 1 < c->n_layers ? ln_in : norm, n));
    }
    return VKG_OK;
}
