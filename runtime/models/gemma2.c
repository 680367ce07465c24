/* gemma2.c — Gemma-2 (the base of DeepSeek-GRM-27B and its MetaRM), as
 * transformers' modeling_gemma2.py computes it: embeddings x sqrt(hidden),
 * (1 + w) RMSNorms before and after attention and the MLP, GeGLU (tanh GELU),
 * attention scaled by query_pre_attn_scalar^-1/2 with logit soft-capping,
 * sliding-window attention on the layers config marks local. The final logit
 * soft-cap is applied by the head (model.c). One step, read top to bottom. */
#include <math.h>

#include "blocks.h"
#include "vk_check.h"

#define V VKG_V
#define GEMMA VKG_RMSNORM_GEMMA

/* delta = post-norm(delta) in place (Gemma-2's norm on a block's output) */
static enum vkg_status post_norm(struct vkg_model *m, const struct vkg_weight *w, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    VKG_TRY(vkg_op_rmsnorm(m->cmd, V(m->a.delta), w->view, V(m->a.delta), n, c->hidden_size, (float)c->rms_norm_eps,
                           GEMMA));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_gemma2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    /* embeddings scaled by sqrt(hidden) into the residual stream */
    VKG_TRY(vkg_arch_embed(m, n, sqrtf((float)c->hidden_size)));
    /* h = input_layernorm(res) of layer 0 */
    VKG_TRY(vkg_arch_norm(m, m->layers[0].attn_norm, n, GEMMA));
    for (uint32_t l = 0; l < c->n_layers; l++) {
        const struct vkg_layer *L = &m->layers[l];
        /* delta = self-attention(h), soft-capped, windowed on local layers */
        VKG_TRY(vkg_arch_attention(m, kv, L, l, n, NULL));
        /* res += post_attention_layernorm(delta); h = pre_feedforward_layernorm(res) */
        VKG_TRY(post_norm(m, L->attn_post_norm, n));
        VKG_TRY(vkg_arch_add_norm(m, L->ffn_norm, n, GEMMA));
        /* delta = down(gelu_tanh(gate(h)) * up(h)) */
        VKG_TRY(vkg_arch_mlp(m, &L->mlp, n, NULL));
        /* res += post_feedforward_layernorm(delta); h = the next input_layernorm(res), or the final norm */
        VKG_TRY(post_norm(m, L->ffn_post_norm, n));
        VKG_TRY(vkg_arch_add_norm(m, l + 1 < c->n_layers ? m->layers[l + 1].attn_norm : m->norm, n, GEMMA));
    }
    return VKG_OK;
}
