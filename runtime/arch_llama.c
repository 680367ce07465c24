/* arch_llama.c — the dense decoder of Llama, Qwen2 (q/k/v bias) and Qwen3
 * (RMSNorm over each q and k head), as in transformers' modeling_llama.py,
 * modeling_qwen2.py and modeling_qwen3.py. One step, read top to bottom. */
#include <math.h>

#include "model.h"
#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V(b) vkg_buffer_view(b)

/* y[n][n_out] = x[n][n_in] W^T (+ bias), W by name. */
static enum vkg_status linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                              struct vkg_view x, struct vkg_view y, uint32_t n)
{
    struct vkg_view bv = bias ? V(bias->buf) : (struct vkg_view){ 0 };
    return vkg_op_matmul(m->cmd, V(w->buf), w->dtype, (uint32_t)w->shape[0], (uint32_t)w->shape[1], x, y, n,
                         bias ? &bv : NULL);
}

static enum vkg_status rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rope_args r = { .x = x, .pos = V(m->a.pos), .inv_freq = V(m->inv_freq), .tokens = n,
                               .n_heads = heads, .head_stride = c->head_dim,
                               .tok_stride = (uint64_t)heads * c->head_dim,
                               .rot_dim = c->rope.dim ? c->rope.dim : c->head_dim, .dim_off = 0,
                               .interleaved = 0, .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

/* Qwen3: q_norm / k_norm over each head_dim slice, in place. */
static enum vkg_status head_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t n,
                                 uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rmsnorm_args a = { .x = x, .w = V(w->buf), .y = x, .tokens = n, .group = heads, .n = c->head_dim,
                                  .x_stride = (uint64_t)heads * c->head_dim,
                                  .y_stride = (uint64_t)heads * c->head_dim, .eps = (float)c->rms_norm_eps,
                                  .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_rmsnorm_ex(m->cmd, &a);
}

/* self-attention of one layer: h -> delta */
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
    /* q, k, v projections (Qwen2: with bias) */
    VKG_TRY(linear(m, wq, vkg_model_weight(m, "model.layers.%u.self_attn.q_proj.bias", l), V(a->h), V(a->q), n));
    VKG_TRY(linear(m, wk, vkg_model_weight(m, "model.layers.%u.self_attn.k_proj.bias", l), V(a->h), V(a->k), n));
    VKG_TRY(linear(m, wv, vkg_model_weight(m, "model.layers.%u.self_attn.v_proj.bias", l), V(a->h), V(a->v), n));
    vkg_cmd_barrier(cmd);
    /* Qwen3: per-head RMSNorm of q and k before RoPE */
    if (c->qk_norm) {
        const struct vkg_weight *qn, *kn;
        VKG_TRY(vkg_model_weight_req(m, &qn, "model.layers.%u.self_attn.q_norm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &kn, "model.layers.%u.self_attn.k_norm.weight", l));
        VKG_TRY(head_norm(m, qn, V(a->q), n, c->n_heads));
        VKG_TRY(head_norm(m, kn, V(a->k), n, c->n_kv_heads));
        vkg_cmd_barrier(cmd);
    }
    /* rotary position embedding (half rotation) on q and k */
    VKG_TRY(rope(m, V(a->q), n, c->n_heads));
    VKG_TRY(rope(m, V(a->k), n, c->n_kv_heads));
    vkg_cmd_barrier(cmd);
    /* append this step's k, v to the paged cache, then attend over it */
    VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = c->n_heads, .scale = (float)c->attn_scale,
                                 .window = c->layer_sliding && c->layer_sliding[l] ? c->sliding_window : 0,
                                 .max_kv_len = m->step_kv_len };
    VKG_TRY(vkg_op_attention(cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n, &p));
    vkg_cmd_barrier(cmd);
    /* output projection */
    VKG_TRY(linear(m, wo, vkg_model_weight(m, "model.layers.%u.self_attn.o_proj.bias", l), V(a->attn), V(a->delta), n));
    vkg_cmd_barrier(cmd);
    return VKG_OK;
}

/* SwiGLU MLP: h -> delta = down(silu(gate(h)) * up(h)) */
static enum vkg_status mlp(struct vkg_model *m, uint32_t l, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    const struct vkg_weight *g, *u, *d;
    VKG_TRY(vkg_model_weight_req(m, &g, "model.layers.%u.mlp.gate_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &u, "model.layers.%u.mlp.up_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &d, "model.layers.%u.mlp.down_proj.weight", l));
    VKG_TRY(linear(m, g, vkg_model_weight(m, "model.layers.%u.mlp.gate_proj.bias", l), V(a->h), V(a->gate), n));
    VKG_TRY(linear(m, u, vkg_model_weight(m, "model.layers.%u.mlp.up_proj.bias", l), V(a->h), V(a->up), n));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_op_glu(m->cmd, VKG_GLU_SWIGLU, V(a->gate), V(a->up), V(a->ff), n, (uint32_t)g->shape[0]));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(linear(m, d, vkg_model_weight(m, "model.layers.%u.mlp.down_proj.bias", l), V(a->ff), V(a->delta), n));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

/* The whole trunk: embeddings -> layers -> final norm, into m->a.h. */
enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const float eps = (float)c->rms_norm_eps;
    const uint32_t d = c->hidden_size;
    const struct vkg_weight *emb, *norm, *ln1, *ln2;
    VKG_TRY(vkg_model_weight_req(m, &emb, "model.embed_tokens.weight"));
    VKG_TRY(vkg_model_weight_req(m, &norm, "model.norm.weight"));
    /* token embeddings into the residual stream */
    VKG_TRY(vkg_op_embed(m->cmd, V(emb->buf), emb->dtype, emb->shape[0], d, V(a->ids), n, 1.0f, V(a->res)));
    vkg_cmd_barrier(m->cmd);
    for (uint32_t l = 0; l < c->n_layers; l++) {
        VKG_TRY(vkg_model_weight_req(m, &ln1, "model.layers.%u.input_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &ln2, "model.layers.%u.post_attention_layernorm.weight", l));
        /* h = norm(res), after adding the previous block's output to res */
        if (l == 0) VKG_TRY(vkg_op_rmsnorm(m->cmd, V(a->res), V(ln1->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
        else VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln1->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(attention(m, kv, l, n));
        /* res += attention output; h = post-attention norm(res) */
        VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln2->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(mlp(m, l, n));
    }
    /* res += last MLP output; h = final norm(res) */
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(norm->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}
