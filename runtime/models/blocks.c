/* blocks.c — see blocks.h. */
#include "blocks.h"

#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V VKG_V

enum vkg_status vkg_arch_linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                struct vkg_view x, struct vkg_view y, uint32_t n)
{
    struct vkg_view bv = bias ? V(bias->buf) : (struct vkg_view){ 0 };
    return vkg_op_matmul(m->cmd, V(w->buf), w->dtype, (uint32_t)w->shape[0], (uint32_t)w->shape[1], x, y, n,
                         bias ? &bv : NULL);
}

enum vkg_status vkg_arch_rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rope_args r = { .x = x, .pos = V(m->a.pos), .inv_freq = V(m->inv_freq), .tokens = n,
                               .n_heads = heads, .head_stride = c->head_dim,
                               .tok_stride = (uint64_t)heads * c->head_dim,
                               .rot_dim = c->rope.dim ? c->rope.dim : c->head_dim, .dim_off = 0,
                               .interleaved = 0, .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

enum vkg_status vkg_arch_head_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t n,
                                   uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rmsnorm_args a = { .x = x, .w = V(w->buf), .y = x, .tokens = n, .group = heads, .n = c->head_dim,
                                  .x_stride = (uint64_t)heads * c->head_dim,
                                  .y_stride = (uint64_t)heads * c->head_dim, .eps = (float)c->rms_norm_eps,
                                  .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_rmsnorm_ex(m->cmd, &a);
}

/* q, k, v = h W^T (+ b), for layer l */
static enum vkg_status qkv(struct vkg_model *m, uint32_t l, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    static const char *const names[3] = { "q_proj", "k_proj", "v_proj" };
    struct vkg_buffer *out[3] = { a->q, a->k, a->v };
    for (int i = 0; i < 3; i++) {
        const struct vkg_weight *w;
        VKG_TRY(vkg_model_weight_req(m, &w, "model.layers.%u.self_attn.%s.weight", l, names[i]));
        const struct vkg_weight *b = vkg_model_weight(m, "model.layers.%u.self_attn.%s.bias", l, names[i]);
        VKG_TRY(vkg_arch_linear(m, w, b, V(a->h), V(out[i]), n));
    }
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_attention(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    /* q, k, v projections (Qwen2: with bias) */
    VKG_TRY(qkv(m, l, n));
    /* Qwen3: per-head RMSNorm of q and k before RoPE */
    if (c->qk_norm) {
        const struct vkg_weight *qn, *kn;
        VKG_TRY(vkg_model_weight_req(m, &qn, "model.layers.%u.self_attn.q_norm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &kn, "model.layers.%u.self_attn.k_norm.weight", l));
        VKG_TRY(vkg_arch_head_norm(m, qn, V(a->q), n, c->n_heads));
        VKG_TRY(vkg_arch_head_norm(m, kn, V(a->k), n, c->n_kv_heads));
        vkg_cmd_barrier(cmd);
    }
    /* rotary position embedding (half rotation) on q and k */
    VKG_TRY(vkg_arch_rope(m, V(a->q), n, c->n_heads));
    VKG_TRY(vkg_arch_rope(m, V(a->k), n, c->n_kv_heads));
    vkg_cmd_barrier(cmd);
    /* append this step's k, v to the paged cache, then attend over it */
    VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = c->n_heads, .scale = (float)c->attn_scale,
                                 .softcap = (float)c->attn_logit_softcapping,
                                 .window = c->layer_sliding && c->layer_sliding[l] ? c->sliding_window : 0,
                                 .max_kv_len = m->step_kv_len };
    VKG_TRY(vkg_op_attention(cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n, &p));
    vkg_cmd_barrier(cmd);
    /* output projection */
    const struct vkg_weight *wo;
    VKG_TRY(vkg_model_weight_req(m, &wo, "model.layers.%u.self_attn.o_proj.weight", l));
    VKG_TRY(vkg_arch_linear(m, wo, vkg_model_weight(m, "model.layers.%u.self_attn.o_proj.bias", l), V(a->attn),
                            V(a->delta), n));
    vkg_cmd_barrier(cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_mlp(struct vkg_model *m, uint32_t l, const char *block, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    const char *p = "model.layers.%u.%s.%s.%s";
    const struct vkg_weight *g, *u, *d;
    VKG_TRY(vkg_model_weight_req(m, &g, p, l, block, "gate_proj", "weight"));
    VKG_TRY(vkg_model_weight_req(m, &u, p, l, block, "up_proj", "weight"));
    VKG_TRY(vkg_model_weight_req(m, &d, p, l, block, "down_proj", "weight"));
    VKG_TRY(vkg_arch_linear(m, g, vkg_model_weight(m, p, l, block, "gate_proj", "bias"), V(a->h), V(a->gate), n));
    VKG_TRY(vkg_arch_linear(m, u, vkg_model_weight(m, p, l, block, "up_proj", "bias"), V(a->h), V(a->up), n));
    vkg_cmd_barrier(m->cmd);
    enum vkg_glu_kind kind = m->cfg.act == VKG_ACT_SILU ? VKG_GLU_SWIGLU : VKG_GLU_GEGLU;
    if (m->cfg.act == VKG_ACT_GELU)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: hidden_act 'gelu' (erf) MLPs are not implemented", m->cfg.architecture);
    VKG_TRY(vkg_op_glu(m->cmd, kind, V(a->gate), V(a->up), V(a->ff), n, (uint32_t)g->shape[0]));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_arch_linear(m, d, vkg_model_weight(m, p, l, block, "down_proj", "bias"), V(a->ff), V(a->delta), n));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

/* Llama, Qwen, Qwen3-MoE, Mixtral and DeepSeek-V2 share this pre-norm trunk
 * around their own attention and MLP/MoE blocks; written once. */
enum vkg_status vkg_arch_trunk(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n,
                               const struct vkg_decoder *dec)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const float eps = (float)c->rms_norm_eps;
    const uint32_t d = c->hidden_size;
    const enum vkg_rmsnorm_kind plain = VKG_RMSNORM_PLAIN;
    const struct vkg_weight *emb, *norm, *ln1, *ln2;
    /* the architecture's device state (stacked experts, ...), made at the first step */
    if (dec->prepare) VKG_TRY(dec->prepare(m));
    VKG_TRY(vkg_model_weight_req(m, &emb, "model.embed_tokens.weight"));
    VKG_TRY(vkg_model_weight_req(m, &norm, "model.norm.weight"));
    /* token embeddings into the residual stream */
    VKG_TRY(vkg_op_embed(m->cmd, V(emb->buf), emb->dtype, emb->shape[0], d, V(a->ids), n, 1.0f, V(a->res)));
    vkg_cmd_barrier(m->cmd);
    for (uint32_t l = 0; l < c->n_layers; l++) {
        VKG_TRY(vkg_model_weight_req(m, &ln1, "model.layers.%u.input_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &ln2, "model.layers.%u.post_attention_layernorm.weight", l));
        /* h = norm(res), after adding the previous block's output to res */
        if (l == 0) VKG_TRY(vkg_op_rmsnorm(m->cmd, V(a->res), V(ln1->buf), V(a->h), n, d, eps, plain));
        else VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln1->buf), V(a->h), n, d, eps, plain));
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(dec->attention(m, kv, l, n));
        /* res += attention output; h = post-attention norm(res) */
        VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln2->buf), V(a->h), n, d, eps, plain));
        vkg_cmd_barrier(m->cmd);
        /* the routed experts on the layers cfg.layer_moe marks, the dense MLP on the others */
        if (dec->moe && c->layer_moe && c->layer_moe[l]) VKG_TRY(dec->moe(m, l, n));
        else VKG_TRY(dec->mlp(m, l, "mlp", n));
    }
    /* res += last block output; h = final norm(res) */
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(norm->buf), V(a->h), n, d, eps, plain));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}
