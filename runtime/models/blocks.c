/* blocks.c — see blocks.h. */
#include "blocks.h"

#include "ops_attention.h"
#include "ops_matmul.h"
#include "vk_check.h"

#define V VKG_V

/* vkg_arch_linear_ex; ready: the caller quantized x into the XQ8 scratch already (xq_once) */
static enum vkg_status linear_q(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                struct vkg_view x, uint64_t xs, struct vkg_view y, uint64_t ys, uint32_t n, int ready)
{
    struct vkg_view bv = bias ? bias->view : (struct vkg_view){ 0 };
    struct vkg_matmul_args a = { .w = w->view,
                                 .wt = w->dtype,
                                 .n_out = (uint32_t)w->shape[0],
                                 .n_in = (uint32_t)w->shape[1],
                                 .x = x,
                                 .x_stride = xs,
                                 .y = y,
                                 .y_stride = ys,
                                 .n_tok = n,
                                 .bias = bias ? &bv : NULL,
                                 .w_tiled = w->tiled,
                                 .xq = V(m->a.xq),
                                 .xq_ready = ready };
    return vkg_op_matmul_ex(m->cmd, &a);
}

enum vkg_status vkg_arch_linear_ex(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                   struct vkg_view x, uint64_t xs, struct vkg_view y, uint64_t ys, uint32_t n)
{
    return linear_q(m, w, bias, x, xs, y, ys, n, 0);
}

enum vkg_status vkg_arch_linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                struct vkg_view x, struct vkg_view y, uint32_t n)
{
    return vkg_arch_linear_ex(m, w, bias, x, 0, y, 0, n);
}

/* Several projections of one x [n][n_in] (n_in: ws[0]'s): where the device takes x in 8 bits (XQ8)
 * and at least two of them take it in the same format (vkg_op_matmul_xq_fmt; the K-quants' first),
 * and the scratch holds the rows, x is quantized once into it with a barrier after. ready[i] is then 1
 * for the projections of that format and -1 for the others (float x: the scratch is not theirs to
 * overwrite), else 0 (each launch quantizes x for itself). */
static enum vkg_status xq_once(struct vkg_model *m, const struct vkg_weight *const *ws, int n_w, struct vkg_view x,
                               uint32_t n, int *ready)
{
    uint32_t n_in = (uint32_t)ws[0]->shape[1];
    int cnt[VKG_XQ8_FMTS] = { 0 };
    enum vkg_xq8_fmt f[3];
    for (int i = 0; i < n_w; i++) {
        ready[i] = 0;
        f[i] = ws[i]->shape[1] == n_in ? vkg_op_matmul_xq_fmt(m->dev, ws[i]->dtype, n, n_in) : VKG_XQ8_NONE;
        cnt[f[i]]++;
    }
    enum vkg_xq8_fmt fmt = VKG_XQ8_NONE;
    for (int k = VKG_XQ8_Q8K; k < VKG_XQ8_FMTS && fmt == VKG_XQ8_NONE; k++)
        if (cnt[k] >= 2) fmt = (enum vkg_xq8_fmt)k;
    uint64_t max = vkg_max_window_bytes(m->dev); /* one binding each: vkg_op_quantize_x's limit */
    if (fmt == VKG_XQ8_NONE || V(m->a.xq).size < vkg_op_matmul_xq_bytes(n, n_in) || (uint64_t)n * n_in * 4 > max ||
        vkg_op_matmul_xq_bytes(n, n_in) > max)
        return VKG_OK;
    VKG_TRY(vkg_op_quantize_x_fmt(m->cmd, fmt, x, 0, n_in, n, V(m->a.xq)));
    vkg_cmd_barrier(m->cmd);
    for (int i = 0; i < n_w; i++) ready[i] = f[i] == fmt ? 1 : -1;
    return VKG_OK;
}

enum vkg_status vkg_arch_linear_out(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                    struct vkg_view x, uint32_t n, const struct vkg_weight *norm)
{
    struct vkg_acts *a = &m->a;
    if (!norm) {
        VKG_TRY(vkg_arch_linear(m, w, bias, x, V(a->delta), n));
    } else {
        struct vkg_view bv = bias ? bias->view : (struct vkg_view){ 0 };
        struct vkg_matmul_norm_args r = { .mm = { .w = w->view,
                                                  .wt = w->dtype,
                                                  .n_out = (uint32_t)w->shape[0],
                                                  .n_in = (uint32_t)w->shape[1],
                                                  .x = x,
                                                  .y = V(a->res),
                                                  .n_tok = n,
                                                  .bias = bias ? &bv : NULL,
                                                  .w_tiled = w->tiled,
                                                  .xq = V(a->xq) },
                                          .norm_w = norm->view,
                                          .h = V(a->h),
                                          .tmp = V(a->delta),
                                          .counters = V(a->counters),
                                          .eps = (float)m->cfg.rms_norm_eps,
                                          .kind = VKG_RMSNORM_PLAIN };
        VKG_TRY(vkg_op_matmul_add_norm(m->cmd, &r));
    }
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rope_args r = { .x = x,
                               .pos = V(m->a.pos),
                               .inv_freq = V(m->inv_freq),
                               .tokens = n,
                               .n_heads = heads,
                               .head_stride = c->head_dim,
                               .tok_stride = (uint64_t)heads * c->head_dim,
                               .rot_dim = c->rope.dim ? c->rope.dim : c->head_dim,
                               .dim_off = 0,
                               .interleaved = 0,
                               .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

enum vkg_status vkg_arch_head_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t n,
                                   uint32_t heads)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_rmsnorm_args a = { .x = x,
                                  .w = w->view,
                                  .y = x,
                                  .tokens = n,
                                  .group = heads,
                                  .n = c->head_dim,
                                  .x_stride = (uint64_t)heads * c->head_dim,
                                  .y_stride = (uint64_t)heads * c->head_dim,
                                  .eps = (float)c->rms_norm_eps,
                                  .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_rmsnorm_ex(m->cmd, &a);
}

enum vkg_status vkg_arch_embed(struct vkg_model *m, uint32_t n, float scale)
{
    const struct vkg_weight *e = m->embed;
    VKG_TRY(vkg_op_embed_ex(m->cmd, e->view, e->dtype, e->shape[0], m->cfg.hidden_size, V(m->a.ids), n, scale,
                            V(m->a.res), e->tiled));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_norm(struct vkg_model *m, const struct vkg_weight *w, uint32_t n, enum vkg_rmsnorm_kind kind)
{
    VKG_TRY(vkg_op_rmsnorm(m->cmd, V(m->a.res), w->view, V(m->a.h), n, m->cfg.hidden_size, (float)m->cfg.rms_norm_eps,
                           kind));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_add_norm(struct vkg_model *m, const struct vkg_weight *w, uint32_t n,
                                  enum vkg_rmsnorm_kind kind)
{
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(m->a.delta), V(m->a.res), w->view, V(m->a.h), n, m->cfg.hidden_size,
                               (float)m->cfg.rms_norm_eps, kind));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_arch_attend(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, struct vkg_attn_params *p,
                                uint32_t n)
{
    struct vkg_acts *a = &m->a;
    p->max_kv_len = m->step_kv_len;
    p->token_runs = m->step_token_runs;
    if (m->step_prefix_len)
        return vkg_op_attention_shared(m->cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n,
                                       m->step_prefix_len, p);
    return vkg_op_attention(m->cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n, p);
}

enum vkg_status vkg_arch_attention(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_layer *L, uint32_t l,
                                   uint32_t n, const struct vkg_weight *norm)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    /* q, k, v projections (Qwen2: with bias); one launch when stacked at load */
    if (L->qkv.w_buf) {
        const struct vkg_fused *f = &L->qkv;
        struct vkg_matmul_fused_args fa = { .w = f->w,
                                            .wt = f->dtype,
                                            .n_in = f->n_in,
                                            .n_parts = 3,
                                            .rows = { f->rows[0], f->rows[1], f->rows[2] },
                                            .x = V(a->h),
                                            .y = { V(a->q), V(a->k), V(a->v) },
                                            .n_tok = n,
                                            .bias = f->b_buf ? &f->b : NULL,
                                            .w_tiled = f->tiled,
                                            .kind = VKG_MATMUL_FUSE_PARTS,
                                            .xq = V(a->xq) };
        if (L->q_norm) { /* Qwen3: the per-head q/k norms come with the projections */
            fa.q_norm = &L->q_norm->view;
            fa.k_norm = &L->k_norm->view;
            fa.head_dim = c->head_dim;
            fa.eps = (float)c->rms_norm_eps;
            fa.counters = V(a->counters);
        }
        VKG_TRY(vkg_op_matmul_fused(cmd, &fa));
    } else { /* apart (their types differ): x in 8 bits once for the three where they take it (XQ8) */
        const struct vkg_weight *ws[3] = { L->wq, L->wk, L->wv };
        int ready[3];
        VKG_TRY(xq_once(m, ws, 3, V(a->h), n, ready));
        VKG_TRY(linear_q(m, L->wq, L->bq, V(a->h), 0, V(a->q), 0, n, ready[0]));
        VKG_TRY(linear_q(m, L->wk, L->bk, V(a->h), 0, V(a->k), 0, n, ready[1]));
        VKG_TRY(linear_q(m, L->wv, L->bv, V(a->h), 0, V(a->v), 0, n, ready[2]));
    }
    vkg_cmd_barrier(cmd);
    /* Qwen3: per-head RMSNorm of q and k before RoPE (done above with stacked projections) */
    if (L->q_norm && !L->qkv.w_buf) {
        VKG_TRY(vkg_arch_head_norm(m, L->q_norm, V(a->q), n, c->n_heads));
        VKG_TRY(vkg_arch_head_norm(m, L->k_norm, V(a->k), n, c->n_kv_heads));
        vkg_cmd_barrier(cmd);
    }
    /* rotary position embedding (half rotation) on q and k, and this step's k, v into the paged
     * cache: one launch where the cache's rows are heads of head_dim, else rope, rope, append */
    if (m->dev->use.rope_append && kv->cfg.dk == c->head_dim) {
        struct vkg_kv_rope r = { .q = V(a->q),
                                 .inv_freq = V(m->inv_freq),
                                 .n_heads = c->n_heads,
                                 .rot_dim = c->rope.dim ? c->rope.dim : c->head_dim,
                                 .dim_off = 0,
                                 .interleaved = 0,
                                 .attn_factor = m->rope_attn_factor };
        VKG_TRY(vkg_op_kv_append_rope(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n, &r));
    } else {
        VKG_TRY(vkg_arch_rope(m, V(a->q), n, c->n_heads));
        VKG_TRY(vkg_arch_rope(m, V(a->k), n, c->n_kv_heads));
        vkg_cmd_barrier(cmd);
        VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    }
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = c->n_heads,
                                 .scale = (float)c->attn_scale,
                                 .softcap = (float)c->attn_logit_softcapping,
                                 .window = c->layer_sliding && c->layer_sliding[l] ? c->sliding_window : 0 };
    VKG_TRY(vkg_arch_attend(m, kv, l, &p, n));
    vkg_cmd_barrier(cmd);
    /* output projection (and the residual add and the next norm) */
    return vkg_arch_linear_out(m, L->wo, L->bo, V(a->attn), n, norm);
}

enum vkg_status vkg_arch_mlp(struct vkg_model *m, const struct vkg_mlp_weights *w, uint32_t n,
                             const struct vkg_weight *norm)
{
    struct vkg_acts *a = &m->a;
    /* SiLU, or tanh-GELU (Gemma-2; with VKGRM_GELU_F16 ggml's table GELU, llama.cpp's numbers); erf-GELU
     * configs are refused at load (check_config.c) */
    int silu = m->cfg.act == VKG_ACT_SILU, g16 = m->dev->use.gelu_f16;
    if (w->gate_up.w_buf) { /* stacked at load: gate, up and the activation in one launch */
        const struct vkg_fused *f = &w->gate_up;
        struct vkg_matmul_fused_args fa = { .w = f->w,
                                            .wt = f->dtype,
                                            .n_in = f->n_in,
                                            .n_parts = 2,
                                            .rows = { f->rows[0], f->rows[1] },
                                            .x = V(a->h),
                                            .y = { V(a->ff) },
                                            .tmp = { V(a->gate), V(a->up) },
                                            .n_tok = n,
                                            .bias = f->b_buf ? &f->b : NULL,
                                            .w_tiled = f->tiled,
                                            .kind = silu  ? VKG_MATMUL_FUSE_SWIGLU
                                                    : g16 ? VKG_MATMUL_FUSE_GEGLU_F16
                                                          : VKG_MATMUL_FUSE_GEGLU,
                                            .xq = V(a->xq) };
        VKG_TRY(vkg_op_matmul_fused(m->cmd, &fa));
    } else {
        VKG_TRY(vkg_arch_linear(m, w->gate, w->gate_b, V(a->h), V(a->gate), n));
        VKG_TRY(vkg_arch_linear(m, w->up, w->up_b, V(a->h), V(a->up), n));
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(vkg_op_glu(m->cmd,
                           silu  ? VKG_GLU_SWIGLU
                           : g16 ? VKG_GLU_GEGLU_F16
                                 : VKG_GLU_GEGLU,
                           V(a->gate), V(a->up), V(a->ff), n, (uint32_t)w->gate->shape[0]));
    }
    vkg_cmd_barrier(m->cmd);
    return vkg_arch_linear_out(m, w->down, w->down_b, V(a->ff), n, norm);
}
