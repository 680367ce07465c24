/* arch_gemma2.c — Gemma-2 (the base of DeepSeek-GRM-27B and its MetaRM), as
 * transformers' modeling_gemma2.py computes it: embeddings x sqrt(hidden),
 * (1 + w) RMSNorms before and after attention and the MLP, GeGLU (tanh GELU),
 * attention scaled by query_pre_attn_scalar^-1/2 with logit soft-capping,
 * sliding-window attention on the layers config marks local. The final logit
 * soft-cap is applied by the head (model.c). */
#include <math.h>

#include "model.h"
#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V(b) vkg_buffer_view(b)
#define GEMMA VKG_RMSNORM_GEMMA

static enum vkg_status linear(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, struct vkg_view y,
                              uint32_t n)
{
    return vkg_op_matmul(m->cmd, V(w->buf), w->dtype, (uint32_t)w->shape[0], (uint32_t)w->shape[1], x, y, n, NULL);
}

static enum vkg_status rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rope_args r = { .x = x, .pos = V(m->a.pos), .inv_freq = V(m->inv_freq), .tokens = n,
                               .n_heads = heads, .head_stride = c->head_dim,
                               .tok_stride = (uint64_t)heads * c->head_dim,
                               .rot_dim = c->rope.dim ? c->rope.dim : c->head_dim, .interleaved = 0,
                               .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

/* self-attention of layer l: h -> delta */
static enum vkg_status attention(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    const struct vkg_weight *wq, *wk, *wv, *wo;
    VKG_TRY(vkg_model_weight_req(m, &wq, "model.layers.%u.self_attn.q_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wk, "model.layers.%u.self_attn.k_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wv, "model.layers.%u.self_attn.v_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wo, "model.layers.%u.self_attn.o_proj.weight", l));
    /* q, k, v projections; rotary embedding on q and k */
    VKG_TRY(linear(m, wq, V(a->h), V(a->q), n));
    VKG_TRY(linear(m, wk, V(a->h), V(a->k), n));
    VKG_TRY(linear(m, wv, V(a->h), V(a->v), n));
    vkg_cmd_barrier(cmd);
    VKG_TRY(rope(m, V(a->q), n, c->n_heads));
    VKG_TRY(rope(m, V(a->k), n, c->n_kv_heads));
    vkg_cmd_barrier(cmd);
    /* cache k, v; attend with the soft-cap, a window on local layers */
    VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = c->n_heads, .scale = (float)c->attn_scale,
                                 .softcap = (float)c->attn_logit_softcapping,
                                 .window = c->layer_sliding && c->layer_sliding[l] ? c->sliding_window : 0,
                                 .max_kv_len = m->step_kv_len };
    VKG_TRY(vkg_op_attention(cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n, &p));
    vkg_cmd_barrier(cmd);
    VKG_TRY(linear(m, wo, V(a->attn), V(a->delta), n));
    vkg_cmd_barrier(cmd);
    return VKG_OK;
}

/* GeGLU MLP: h -> delta = down(gelu_tanh(gate(h)) * up(h)) */
static enum vkg_status mlp(struct vkg_model *m, uint32_t l, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    const struct vkg_weight *g, *u, *d;
    VKG_TRY(vkg_model_weight_req(m, &g, "model.layers.%u.mlp.gate_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &u, "model.layers.%u.mlp.up_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &d, "model.layers.%u.mlp.down_proj.weight", l));
    VKG_TRY(linear(m, g, V(a->h), V(a->gate), n));
    VKG_TRY(linear(m, u, V(a->h), V(a->up), n));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_op_glu(m->cmd, VKG_GLU_GEGLU, V(a->gate), V(a->up), V(a->ff), n, (uint32_t)g->shape[0]));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(linear(m, d, V(a->ff), V(a->delta), n));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

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
        VKG_TRY(attention(m, kv, l, n));
        /* res += post_attention_norm(attn); h = pre_feedforward_norm(res) */
        VKG_TRY(post_and_pre(m, ln_post_attn, ln_pre_ff, n));
        VKG_TRY(mlp(m, l, n));
        /* res += post_feedforward_norm(mlp); h = next input_norm(res), or the final norm */
        if (l + 1 < c->n_layers) VKG_TRY(vkg_model_weight_req(m, &ln_in, "model.layers.%u.input_layernorm.weight", l + 1));
        VKG_TRY(post_and_pre(m, ln_post_ff, l + 1 < c->n_layers ? ln_in : norm, n));
    }
    return VKG_OK;
}
