/* deepseek2.c — DeepSeek-V2 (the base of DeepSeek-GRM-16B), as
 * transformers' modeling_deepseek_v2.py computes it. One step, read top to
 * bottom.
 *
 *   MLA attention  q = q_proj(h) (q_lora_rank 0, V2-Lite) or
 *                  q_b_proj(q_a_layernorm(q_a_proj(h))), per head [nope | rope];
 *                  kv_a_proj_with_mqa(h) = [latent (kv_lora_rank) | k_pe (rope)];
 *                  per head [k_nope | v] = kv_b_proj(kv_a_layernorm(latent));
 *                  k = [k_nope | k_pe], k_pe one head shared by all heads.
 *                  RoPE on interleaved pairs (2i, 2i+1) of q's rope slices and
 *                  of k_pe (apply_rotary_emb, view_as_complex), cos/sin times
 *                  the YaRN attention factor (m->rope_attn_factor); softmax
 *                  scale cfg.attn_scale = (nope+rope)^-1/2 * mscale(all_dim)^2.
 *                  The cache holds the decompressed k (dk = nope + rope) and v
 *                  (dv) of every head (vkg_model_kv_config), or, with
 *                  cfg.mla_latent_kv (the memory plan's choice on CPU drivers;
 *                  GPUs with VKGRM_MLA_LATENT=1),
 *                  the latent [kv_lora | k_pe] once per token (V its first
 *                  kv_lora: no V pool) with kv_b_proj absorbed into q and o
 *                  (attention_latent).
 *   MLP            layers cfg.layer_moe leaves dense (first_k_dense_replace,
 *                  moe_layer_freq) run mlp.{gate,up,down}_proj; the others
 *                  route through mlp.gate (softmax or sigmoid scores, greedy or
 *                  group-limited top-k, x routed_scaling_factor) to
 *                  mlp.experts.E.*, plus the always-on mlp.shared_experts.
 *
 * k and v are assembled from kv_b_proj's per-head [k_nope | v] rows and the
 * one rotated k_pe by exact strided copies (vkg_op_copy_strided, mla_kv).
 *
 * Routed experts are stacked per layer at load (L->experts) and routed
 * through the model's MoE workspace by moe.c, as for Qwen3-MoE / Mixtral
 * (qwen3_moe_mixtral.c). */
#include "blocks.h"
#include "moe.h"
#include "ops_attention.h"
#include "ops_convert.h"
#include "ops_matmul.h"
#include "ops_rope.h"
#include "vk_check.h"

#define V VKG_V
#define LORA_EPS 1e-6f /* q_a_layernorm / kv_a_layernorm: DeepseekV2RMSNorm(rank), default eps */

/* ---- the MLA copies --------------------------------------------------------- */

/* k [n][H][nope | rope] and v [n][H][dv] from kv_b_proj's output B [n][H][nope | dv]
 * and the rotated k_pe, the last rope floats of each A row [n][kv_lora + rope]:
 * three exact copies of disjoint elements, so no barrier between them. */
static enum vkg_status mla_kv(struct vkg_model *m, struct vkg_view A, struct vkg_view B, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    const uint32_t H = c->n_heads, nope = c->qk_nope_head_dim, rope = c->qk_rope_head_dim, dv = c->v_head_dim;
    const uint32_t dk = nope + rope, ra = c->kv_lora_rank + rope;
    struct vkg_view k = V(m->a.k);
    /* k_nope: the first nope floats of each (token, head) row of B into k's nope slice */
    struct vkg_copy_strided_args k_nope = {
        .src = B, .dst = k, .cols = nope, .rows = n * H, .blocks = 1, .src_row = nope + dv, .dst_row = dk
    };
    /* v: the last dv floats of each (token, head) row of B into v */
    struct vkg_copy_strided_args v = { .src = vkg_view_sub(B, (uint64_t)nope * 4, B.size - (uint64_t)nope * 4),
                                       .dst = V(m->a.v),
                                       .cols = dv,
                                       .rows = n * H,
                                       .blocks = 1,
                                       .src_row = nope + dv,
                                       .dst_row = dv };
    /* k_pe: one head per token (source row stride 0), broadcast into the rope slice of every head */
    uint64_t pe = (uint64_t)c->kv_lora_rank * 4;
    struct vkg_copy_strided_args k_pe = { .src = vkg_view_sub(A, pe, A.size - pe),
                                          .dst = vkg_view_sub(k, (uint64_t)nope * 4, k.size - (uint64_t)nope * 4),
                                          .cols = rope,
                                          .rows = H,
                                          .blocks = n,
                                          .src_row = 0,
                                          .src_block = ra,
                                          .dst_row = dk,
                                          .dst_block = (uint64_t)H * dk };
    VKG_TRY(vkg_op_copy_strided(m->cmd, &k_nope));
    VKG_TRY(vkg_op_copy_strided(m->cmd, &v));
    return vkg_op_copy_strided(m->cmd, &k_pe);
}

/* ---- the blocks ------------------------------------------------------------- */

/* RMSNorm over the first `cols` of each row of stride xs, in place (the LoRA norms: eps 1e-6). */
static enum vkg_status lora_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t cols,
                                 uint64_t xs, uint32_t n)
{
    struct vkg_rmsnorm_args a = { .x = x,
                                  .w = w->view,
                                  .y = x,
                                  .tokens = n,
                                  .group = 1,
                                  .n = cols,
                                  .x_stride = xs,
                                  .y_stride = xs,
                                  .eps = LORA_EPS,
                                  .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_rmsnorm_ex(m->cmd, &a);
}

/* RoPE on interleaved pairs of dims [dim_off, dim_off + rope) of each head. */
static enum vkg_status rope_pairs(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads,
                                  uint32_t head_stride, uint32_t dim_off)
{
    struct vkg_rope_args r = { .x = x,
                               .pos = V(m->a.pos),
                               .inv_freq = V(m->inv_freq),
                               .tokens = n,
                               .n_heads = heads,
                               .head_stride = head_stride,
                               .tok_stride = (uint64_t)heads * head_stride,
                               .rot_dim = m->cfg.qk_rope_head_dim,
                               .dim_off = dim_off,
                               .interleaved = 1,
                               .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

/* Multi-head latent attention of one layer: h -> res += o_proj(...), h = post_attention_layernorm(res)
 * (vkg_arch_linear_out). Scratch m->a.lat:
 * A [cap][kv_lora + rope] (compressed kv), then B [cap][max(q_lora, heads*(nope+dv))]. */
static enum vkg_status attention(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_layer *L, uint32_t l,
                                 uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    const uint32_t H = c->n_heads, nope = c->qk_nope_head_dim, rope = c->qk_rope_head_dim;
    const uint32_t dk = nope + rope, r = c->kv_lora_rank, ra = r + rope;
    struct vkg_view A = vkg_view_sub(V(a->lat), 0, (uint64_t)a->cap * ra * 4);
    struct vkg_view B = vkg_view_sub(V(a->lat), A.size, V(a->lat).size - A.size);

    /* compressed kv = kv_a_proj_with_mqa(h): A [n][latent | k_pe]; q = q_proj(h), or q_a_proj(h) into B */
    VKG_TRY(vkg_arch_linear(m, L->wkv_a, L->bkv_a, V(a->h), A, n));
    if (c->q_lora_rank) VKG_TRY(vkg_arch_linear(m, L->wq_a, L->bq_a, V(a->h), B, n));
    else VKG_TRY(vkg_arch_linear(m, L->wq, NULL, V(a->h), V(a->q), n));
    vkg_cmd_barrier(cmd);
    /* kv_a_layernorm on the latent, q_a_layernorm on q's latent, RoPE on k_pe (one head), in place */
    VKG_TRY(lora_norm(m, L->kv_a_norm, A, r, ra, n));
    if (c->q_lora_rank) VKG_TRY(lora_norm(m, L->q_a_norm, B, c->q_lora_rank, c->q_lora_rank, n));
    const int gather = m->dev->use.mla_append; /* the append rotates k_pe and q's rope slices itself */
    if (!gather) VKG_TRY(rope_pairs(m, A, n, 1, ra, r));
    vkg_cmd_barrier(cmd);
    /* q = q_b_proj(normed q latent): [n][heads][nope | rope] */
    if (c->q_lora_rank) {
        VKG_TRY(vkg_arch_linear(m, L->wq, NULL, B, V(a->q), n));
        vkg_cmd_barrier(cmd); /* before kv_b_proj overwrites B */
    }
    /* RoPE (interleaved pairs) on q's rope slices (or in the append); per head [k_nope | v] =
     * kv_b_proj(latent) into B */
    if (!gather) VKG_TRY(rope_pairs(m, V(a->q), n, H, dk, nope));
    VKG_TRY(vkg_arch_linear_ex(m, L->wkv_b, NULL, A, ra, B, 0, n));
    vkg_cmd_barrier(cmd);
    /* k = [k_nope | k_pe] per head (k_pe shared by all heads), v = v, out of B and A into this step's
     * pages: gathered by the append itself (one launch), or copied into k, v rows first */
    if (gather) {
        const uint32_t dv = c->v_head_dim, row = nope + dv;
        struct vkg_kv_rope rp = { .q = V(a->q),
                                  .inv_freq = V(m->inv_freq),
                                  .n_heads = H,
                                  .rot_dim = rope,
                                  .dim_off = nope,
                                  .interleaved = 1,
                                  .attn_factor = m->rope_attn_factor };
        struct vkg_kv_mla g = { .k = B,
                                .k_ts = H * row,
                                .k_hs = row,
                                .k_split = nope,
                                .v = vkg_view_sub(B, (uint64_t)nope * 4, B.size - (uint64_t)nope * 4),
                                .v_ts = H * row,
                                .v_hs = row,
                                .k2 = vkg_view_sub(A, (uint64_t)r * 4, A.size - (uint64_t)r * 4),
                                .k2_ts = ra };
        VKG_TRY(vkg_op_kv_append_mla(cmd, kv, l, &g, V(a->tokens), n, &rp));
    } else {
        VKG_TRY(mla_kv(m, A, B, n));
        vkg_cmd_barrier(cmd);
        VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    }
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = H, .scale = (float)c->attn_scale };
    VKG_TRY(vkg_arch_attend(m, kv, l, &p, n));
    vkg_cmd_barrier(cmd);
    /* output projection; res += its output; h = post_attention_layernorm(res) */
    return vkg_arch_linear_out(m, L->wo, L->bo, V(a->attn), n, L->ffn_norm);
}

/* Per head h of H: y[t][h] = W_h x[t][h] with W_h = w rows [h * row_step + row0, + rows) (or a kbt head),
 * x rows xs floats apart from x_head * h, y rows ys apart from y_head * h. No barrier. */
struct head_mm {
    struct vkg_view x, y;
    uint64_t xs, x_head, ys, y_head;
};
static enum vkg_status heads_mm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_buffer *kbt, uint64_t row0,
                                uint64_t rows, uint64_t row_step, const struct head_mm *g, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    const uint32_t r = c->kv_lora_rank, nope = c->qk_nope_head_dim;
    for (uint32_t h = 0; h < c->n_heads; h++) {
        struct vkg_matmul_args a = { .x = vkg_view_sub(g->x, h * g->x_head * 4, g->x.size - h * g->x_head * 4),
                                     .x_stride = g->xs,
                                     .y = vkg_view_sub(g->y, h * g->y_head * 4, g->y.size - h * g->y_head * 4),
                                     .y_stride = g->ys,
                                     .n_tok = n };
        if (kbt) { /* [H][kv_lora][nope] F32: head h's [kv_lora][nope] */
            uint64_t hb = (uint64_t)r * nope * 4;
            a.w = vkg_view_sub(vkg_buffer_view(kbt), h * hb, hb);
            a.wt = VKG_DTYPE_F32;
            a.n_out = r;
            a.n_in = nope;
        } else VKG_TRY(vkg_mla_rows(w, h * row_step + row0, rows, &a));
        VKG_TRY(vkg_op_matmul_ex(m->cmd, &a));
    }
    return VKG_OK;
}

/* The same attention with the latent cached (cfg.mla_latent_kv), kv_b_proj absorbed (DeepSeek's
 * inference form): per head, q_nope . k_nope = (W_UK^T q_nope) . latent and o = W_UV (p . latent), so
 * the cache holds [latent | k_pe] once per token, attended as one KV head of dk kv_lora + rope and
 * dv kv_lora (V = the first kv_lora of the K row: kv_cache.h v_in_k) by all H query heads [W_UK^T q_nope | q_pe] (L->kbt = each head's W_UK^T); each head's
 * latent output then goes through its v rows of kv_b_proj into o_proj's input. Scratch: m->a.lat
 * A [cap][kv_lora + rope], then B (q's latent, then the heads' v outputs [n][H][dv]); m->a.attn holds
 * q as projected, [n][H][nope | rope], until the absorbed q [n][H][kv_lora | rope] is in m->a.q. */
static enum vkg_status attention_latent(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_layer *L,
                                        uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    const uint32_t H = c->n_heads, nope = c->qk_nope_head_dim, rope = c->qk_rope_head_dim, dv = c->v_head_dim;
    const uint32_t dq = nope + rope, r = c->kv_lora_rank, ra = r + rope;
    struct vkg_view A = vkg_view_sub(V(a->lat), 0, (uint64_t)a->cap * ra * 4);
    struct vkg_view B = vkg_view_sub(V(a->lat), A.size, V(a->lat).size - A.size);
    struct vkg_view qd = V(a->attn);

    /* A = kv_a_proj_with_mqa(h) [n][latent | k_pe]; q = q_proj(h) into qd, or q_a_proj(h) into B */
    VKG_TRY(vkg_arch_linear(m, L->wkv_a, L->bkv_a, V(a->h), A, n));
    if (c->q_lora_rank) VKG_TRY(vkg_arch_linear(m, L->wq_a, L->bq_a, V(a->h), B, n));
    else VKG_TRY(vkg_arch_linear(m, L->wq, NULL, V(a->h), qd, n));
    vkg_cmd_barrier(cmd);
    /* kv_a_layernorm on the latent, q_a_layernorm on q's latent, RoPE on k_pe (or in the append) */
    VKG_TRY(lora_norm(m, L->kv_a_norm, A, r, ra, n));
    if (c->q_lora_rank) VKG_TRY(lora_norm(m, L->q_a_norm, B, c->q_lora_rank, c->q_lora_rank, n));
    const int gather = m->dev->use.mla_append;
    if (!gather) VKG_TRY(rope_pairs(m, A, n, 1, ra, r));
    vkg_cmd_barrier(cmd);
    if (c->q_lora_rank) { /* q = q_b_proj(normed q latent) into qd */
        VKG_TRY(vkg_arch_linear(m, L->wq, NULL, B, qd, n));
        vkg_cmd_barrier(cmd);
    }
    /* absorbed q [n][H][W_UK^T q_nope | q_pe] into a->q: one product per head, and q_pe copied */
    struct head_mm qa = {
        .x = qd, .xs = (uint64_t)H * dq, .x_head = dq, .y = V(a->q), .ys = (uint64_t)H * ra, .y_head = ra
    };
    VKG_TRY(heads_mm(m, NULL, L->kbt, 0, 0, 0, &qa, n));
    struct vkg_copy_strided_args pe = { .src = vkg_view_sub(qd, (uint64_t)nope * 4, qd.size - (uint64_t)nope * 4),
                                        .dst = vkg_view_sub(V(a->q), (uint64_t)r * 4, V(a->q).size - (uint64_t)r * 4),
                                        .cols = rope,
                                        .rows = n * H,
                                        .blocks = 1,
                                        .src_row = dq,
                                        .dst_row = ra };
    VKG_TRY(vkg_op_copy_strided(cmd, &pe));
    vkg_cmd_barrier(cmd);
    /* the cache's one KV head: K = [normed latent | rotated k_pe] (A's rows), V = the normed latent */
    if (gather) {
        struct vkg_kv_rope rp = { .q = V(a->q),
                                  .inv_freq = V(m->inv_freq),
                                  .n_heads = H,
                                  .rot_dim = rope,
                                  .dim_off = r,
                                  .interleaved = 1,
                                  .attn_factor = m->rope_attn_factor };
        struct vkg_kv_mla g = { .k = A,
                                .k_ts = ra,
                                .k_hs = r,
                                .k_split = r,
                                .v = A,
                                .v_ts = ra,
                                .v_hs = r,
                                .k2 = vkg_view_sub(A, (uint64_t)r * 4, A.size - (uint64_t)r * 4),
                                .k2_ts = ra };
        VKG_TRY(vkg_op_kv_append_mla(cmd, kv, l, &g, V(a->tokens), n, &rp));
    } else {
        VKG_TRY(rope_pairs(m, V(a->q), n, H, ra, r));
        vkg_cmd_barrier(cmd);
        /* K = A's rows; V is their start (the latent cache keeps no V pool: the append writes K alone) */
        VKG_TRY(vkg_op_kv_append(cmd, kv, l, A, A, V(a->tokens), n));
    }
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = H, .scale = (float)c->attn_scale };
    VKG_TRY(vkg_arch_attend(m, kv, l, &p, n));
    vkg_cmd_barrier(cmd);
    /* each head's latent output [n][H][kv_lora] through its v rows of kv_b_proj: B [n][H][dv] */
    struct head_mm oa = {
        .x = V(a->attn), .xs = (uint64_t)H * r, .x_head = r, .y = B, .ys = (uint64_t)H * dv, .y_head = dv
    };
    VKG_TRY(heads_mm(m, L->wkv_b, NULL, nope, dv, nope + dv, &oa, n));
    vkg_cmd_barrier(cmd);
    return vkg_arch_linear_out(m, L->wo, L->bo, vkg_view_sub(B, 0, (uint64_t)a->cap * H * dv * 4), n, L->ffn_norm);
}

/* DeepseekV2Moe: delta = shared_experts(h) + sum_j weight[t][j] * expert_{id[t][j]}(h[t]),
 * routed over chunks of tokens that fit the workspace (one chunk when decoding). */
static enum vkg_status moe(struct vkg_model *m, const struct vkg_layer *L, uint32_t n,
                           const struct vkg_weight *next_norm)
{
    const struct vkg_hf_config *c = &m->cfg;
    /* DeepseekV2TopkRouter: softmax (or sigmoid, scoring_func) scores; top-k, within the topk_group best
     * groups (group score = its best expert) for group_limited_greedy; weights x routed_scaling_factor.
     * norm_topk_prob (false in every published V2): renormalised instead of scaled, as DeepSeek's code
     * does (transformers 5 ignores it) */
    const int grouped = c->topk_method == VKG_MOE_TOPK_GROUP_LIMITED && c->n_group > 1;
    const int norm = c->norm_topk_prob && c->n_experts_per_tok > 1;
    const struct vkg_moe_router r = { .n_exp = c->n_experts,
                                      .k = c->n_experts_per_tok,
                                      .sigmoid = c->scoring == VKG_MOE_SIGMOID,
                                      .norm = norm,
                                      .scale = norm ? 1.0f : (float)c->routed_scaling_factor,
                                      .n_group = grouped ? c->n_group : 0,
                                      .topk_group = grouped ? c->topk_group : 0 };
    /* the shared experts (one MLP n_shared * moe_intermediate_size wide) write delta; the routed ones add */
    const int shared = L->shared.gate != NULL;
    if (shared) VKG_TRY(vkg_arch_mlp(m, &L->shared, n, NULL));
    return vkg_moe_routed(m, L->router, &r, &L->experts.w, n, shared, next_norm); /* ends with a barrier */
}

/* ---- the forward pass ------------------------------------------------------- */

enum vkg_status vkg_arch_deepseek2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n)
{
    const enum vkg_rmsnorm_kind plain = VKG_RMSNORM_PLAIN;
    /* token embeddings into the residual stream: res = embed_tokens[ids] */
    VKG_TRY(vkg_arch_embed(m, n, 1.0f));
    /* h = input_layernorm(res) of layer 0 */
    VKG_TRY(vkg_arch_norm(m, m->layers[0].attn_norm, n, plain));
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        const struct vkg_layer *L = &m->layers[l];
        const struct vkg_weight *next = l + 1 < m->cfg.n_layers ? m->layers[l + 1].attn_norm : m->norm;
        /* multi-head latent attention(h); res += its output; h = post_attention_layernorm(res) */
        VKG_TRY(m->cfg.mla_latent_kv ? attention_latent(m, kv, L, l, n) : attention(m, kv, L, l, n));
        /* shared + routed experts on MoE layers, the dense MLP on the first_k_dense_replace ones;
         * res += their output, h = the next input_layernorm(res) or the final norm */
        if (L->moe) {
            VKG_TRY(moe(m, L, n, next));
        } else {
            VKG_TRY(vkg_arch_mlp(m, &L->mlp, n, next));
        }
    }
    return VKG_OK;
}
