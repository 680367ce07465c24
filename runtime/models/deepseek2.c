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
 *                  (dv) of every head (vkg_model_kv_config).
 *   MLP            layers cfg.layer_moe leaves dense (first_k_dense_replace,
 *                  moe_layer_freq) run mlp.{gate,up,down}_proj; the others
 *                  route through mlp.gate (softmax or sigmoid scores, greedy or
 *                  group-limited top-k, x routed_scaling_factor) to
 *                  mlp.experts.E.*, plus the always-on mlp.shared_experts.
 *
 * Two steps have no dedicated kernel and run as small F32 matmuls against
 * constant matrices made at the first step: broadcasting k_pe into the rope
 * slice of every head (a [heads*dk][rope] 0/1 matrix), and splitting
 * kv_b_proj's per-head [k_nope | v] rows into k and v (identity matrices over
 * (token, head) rows with strided x and y). Both are exact copies.
 *
 * Routed experts are stacked per layer into one buffer per matrix, routed
 * through a workspace of DeepSeek's own and run inside the shared pre-norm
 * trunk: moe.c, as for Qwen3-MoE / Mixtral (qwen3_moe_mixtral.c). */
#include <stdlib.h>

#include "model.h"
#include "blocks.h"
#include "moe.h"
#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V(b) vkg_buffer_view(b)
#define LORA_EPS 1e-6f /* q_a_layernorm / kv_a_layernorm: DeepseekV2RMSNorm(rank), default eps */

struct ds2_state {
    int ready;                      /* constants made, every MoE layer packed */
    struct vkg_buffer *k_rope;      /* [heads*dk][rope] F32: 1 at (h*dk + nope + i, i) */
    struct vkg_buffer *eye_nope;    /* [nope][nope] F32 identity */
    struct vkg_buffer *eye_v;       /* [dv][dv] F32 identity */
    struct vkg_buffer *ws;          /* MoE workspace for ws_cap tokens (its own: model.c sizes m->a.moe
                                       for qwen3_moe_mixtral.c); laid out by vkg_moe_ws_layout */
    uint32_t ws_cap;
    uint32_t n_layers;
    struct vkg_moe_stack layer[];   /* [n_layers]: the stacked routed experts (moe.h) */
};

/* ---- device state made at the first step ---------------------------------- */

static void ds2_state_free(struct vkg_model *m)
{
    struct ds2_state *st = m->arch_state;
    if (!st) return;
    for (uint32_t l = 0; l < st->n_layers; l++) vkg_moe_stack_free(&st->layer[l]);
    vkg_buffer_free(st->k_rope);
    vkg_buffer_free(st->eye_nope);
    vkg_buffer_free(st->eye_v);
    vkg_buffer_free(st->ws);
    free(st);
    m->arch_state = NULL;
    m->arch_free = NULL;
}

/* A rows x cols F32 matrix with 1 at (row0 + r*row_step + i, i) for r < reps, i < cols. */
static enum vkg_status make_01(struct vkg_model *m, const char *name, uint64_t rows, uint32_t cols, uint32_t reps,
                               uint64_t row0, uint64_t row_step, struct vkg_buffer **out)
{
    float *h = calloc(rows * cols, sizeof *h);
    if (!h) return vkg_error(VKG_ERR_NOMEM, "%s: %s", m->cfg.architecture, name);
    for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < cols; i++) h[(row0 + r * row_step + i) * cols + i] = 1.0f;
    enum vkg_status s = vkg_buffer_create(m->dev, rows * cols * 4, VKG_MEM_DEVICE, name, out);
    if (s == VKG_OK) s = vkg_buffer_upload(m->dev, V(*out), h, rows * cols * 4);
    free(h);
    return s;
}

/* The constant copy matrices and the stacked experts, once; the workspace
 * whenever the activations grew. */
static enum vkg_status prepare(struct vkg_model *m)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct ds2_state *st = vkg_moe_state(m, sizeof *st + c->n_layers * sizeof st->layer[0], ds2_state_free);
    if (!st) return vkg_error(VKG_ERR_NOMEM, "%s: DeepSeek-V2 state", c->architecture);
    st->n_layers = c->n_layers;
    const uint32_t nope = c->qk_nope_head_dim, rope = c->qk_rope_head_dim, dk = nope + rope;
    if (!st->ready) {
        if (!st->k_rope)
            VKG_TRY(make_01(m, "mla k_pe broadcast", (uint64_t)c->n_heads * dk, rope, c->n_heads, nope, dk, &st->k_rope));
        if (!st->eye_nope) VKG_TRY(make_01(m, "mla k_nope copy", nope, nope, 1, 0, 0, &st->eye_nope));
        if (!st->eye_v) VKG_TRY(make_01(m, "mla v copy", c->v_head_dim, c->v_head_dim, 1, 0, 0, &st->eye_v));
        VKG_TRY(vkg_moe_stack_layers(m, st->layer, "mlp", "gate_proj", "up_proj", "down_proj"));
        st->ready = 1;
    }
    if (st->ws_cap < m->a.cap && c->n_experts) {
        vkg_buffer_free(st->ws);
        st->ws = NULL;
        st->ws_cap = 0;
        VKG_TRY(vkg_buffer_create(m->dev, vkg_moe_ws_layout(m, m->a.cap).bytes, VKG_MEM_DEVICE,
                                  "moe workspace (deepseek2)", &st->ws));
        st->ws_cap = m->a.cap;
    }
    return VKG_OK;
}

/* ---- the forward pass ---------------------------------------------------- */

/* W must be [rows][cols], what the config implies. */
static enum vkg_status shape_req(struct vkg_model *m, const struct vkg_weight *w, uint64_t rows, uint64_t cols)
{
    if (w->n_dims != 2 || w->shape[0] != rows || w->shape[1] != cols)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: tensor '%s': shape [%llu, %llu], the config implies [%llu, %llu]",
                         m->cfg.architecture, w->name, (unsigned long long)w->shape[0],
                         (unsigned long long)(w->n_dims > 1 ? w->shape[1] : 0), (unsigned long long)rows,
                         (unsigned long long)cols);
    return VKG_OK;
}

/* y[n][rows] = x[n][cols] W^T (+ bias), rows/cols of W checked against what the config implies. */
static enum vkg_status linear_ex(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                 uint64_t rows, uint64_t cols, struct vkg_view x, uint64_t xs, struct vkg_view y,
                                 uint64_t ys, uint32_t n)
{
    VKG_TRY(shape_req(m, w, rows, cols));
    struct vkg_view bv = bias ? V(bias->buf) : (struct vkg_view){ 0 };
    struct vkg_matmul_args a = { .w = V(w->buf), .wt = w->dtype, .n_out = (uint32_t)rows, .n_in = (uint32_t)cols,
                                 .x = x, .x_stride = xs, .y = y, .y_stride = ys, .n_tok = n,
                                 .bias = bias ? &bv : NULL };
    return vkg_op_matmul_ex(m->cmd, &a);
}

/* Contiguous x [n][W cols] and y [n][W rows]. */
static enum vkg_status linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                              struct vkg_view x, struct vkg_view y, uint32_t n)
{
    return linear_ex(m, w, bias, w->shape[0], w->n_dims > 1 ? w->shape[1] : 0, x, 0, y, 0, n);
}

/* y[t][0..cols) = x[t][0..cols) for n rows with strides xs, ys: an exact copy through an F32 identity matmul. */
static enum vkg_status strided_copy(struct vkg_model *m, const struct vkg_buffer *eye, uint32_t cols,
                                    struct vkg_view x, uint64_t xs, struct vkg_view y, uint64_t ys, uint32_t n)
{
    struct vkg_matmul_args a = { .w = V(eye), .wt = VKG_DTYPE_F32, .n_out = cols, .n_in = cols, .x = x,
                                 .x_stride = xs, .y = y, .y_stride = ys, .n_tok = n };
    return vkg_op_matmul_ex(m->cmd, &a);
}

/* RMSNorm over the first `cols` of each row of stride xs, in place (the LoRA norms: eps 1e-6). */
static enum vkg_status lora_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t cols,
                                 uint64_t xs, uint32_t n)
{
    struct vkg_rmsnorm_args a = { .x = x, .w = V(w->buf), .y = x, .tokens = n, .group = 1, .n = cols,
                                  .x_stride = xs, .y_stride = xs, .eps = LORA_EPS, .kind = VKG_RMSNORM_PLAIN };
    return vkg_op_rmsnorm_ex(m->cmd, &a);
}

/* RoPE on interleaved pairs of dims [dim_off, dim_off + rope) of each head. */
static enum vkg_status rope_pairs(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads,
                                  uint32_t head_stride, uint32_t dim_off)
{
    struct vkg_rope_args r = { .x = x, .pos = V(m->a.pos), .inv_freq = V(m->inv_freq), .tokens = n,
                               .n_heads = heads, .head_stride = head_stride,
                               .tok_stride = (uint64_t)heads * head_stride, .rot_dim = m->cfg.qk_rope_head_dim,
                               .dim_off = dim_off, .interleaved = 1, .attn_factor = m->rope_attn_factor };
    return vkg_op_rope(m->cmd, &r);
}

/* Multi-head latent attention of one layer: h -> delta. Scratch m->a.lat:
 * A [cap][kv_lora + rope] (compressed kv), then B [cap][max(q_lora, heads*(nope+dv))]. */
static enum vkg_status attention(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    struct vkg_cmd *cmd = m->cmd;
    const uint32_t H = c->n_heads, nope = c->qk_nope_head_dim, rope = c->qk_rope_head_dim, dv = c->v_head_dim;
    const uint32_t dk = nope + rope, r = c->kv_lora_rank, ra = r + rope, d = c->hidden_size;
    const struct ds2_state *st = m->arch_state;
    struct vkg_view A = vkg_view_sub(V(a->lat), 0, (uint64_t)a->cap * ra * 4);
    struct vkg_view B = vkg_view_sub(V(a->lat), A.size, V(a->lat).size - A.size);
    const struct vkg_weight *wkva, *wkvn, *wkvb, *wo, *wq, *wqa = NULL, *wqn = NULL;
    VKG_TRY(vkg_model_weight_req(m, &wkva, "model.layers.%u.self_attn.kv_a_proj_with_mqa.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wkvn, "model.layers.%u.self_attn.kv_a_layernorm.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wkvb, "model.layers.%u.self_attn.kv_b_proj.weight", l));
    VKG_TRY(vkg_model_weight_req(m, &wo, "model.layers.%u.self_attn.o_proj.weight", l));
    if (c->q_lora_rank) {
        VKG_TRY(vkg_model_weight_req(m, &wqa, "model.layers.%u.self_attn.q_a_proj.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &wqn, "model.layers.%u.self_attn.q_a_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &wq, "model.layers.%u.self_attn.q_b_proj.weight", l));
    } else VKG_TRY(vkg_model_weight_req(m, &wq, "model.layers.%u.self_attn.q_proj.weight", l));

    /* compressed kv = kv_a_proj_with_mqa(h): A [n][latent | k_pe]; q = q_proj(h), or q_a_proj(h) into B */
    VKG_TRY(linear_ex(m, wkva, vkg_model_weight(m, "model.layers.%u.self_attn.kv_a_proj_with_mqa.bias", l), ra, d,
                      V(a->h), 0, A, 0, n));
    if (c->q_lora_rank)
        VKG_TRY(linear_ex(m, wqa, vkg_model_weight(m, "model.layers.%u.self_attn.q_a_proj.bias", l), c->q_lora_rank,
                          d, V(a->h), 0, B, 0, n));
    else VKG_TRY(linear_ex(m, wq, NULL, (uint64_t)H * dk, d, V(a->h), 0, V(a->q), 0, n));
    vkg_cmd_barrier(cmd);
    /* kv_a_layernorm on the latent, q_a_layernorm on q's latent, RoPE on k_pe (one head), in place */
    VKG_TRY(lora_norm(m, wkvn, A, r, ra, n));
    if (c->q_lora_rank) VKG_TRY(lora_norm(m, wqn, B, c->q_lora_rank, c->q_lora_rank, n));
    VKG_TRY(rope_pairs(m, A, n, 1, ra, r));
    vkg_cmd_barrier(cmd);
    /* q = q_b_proj(normed q latent): [n][heads][nope | rope];
     * k's rope slice of every head = the rotated k_pe (0/1 matrix; the nope slices get 0 here) */
    if (c->q_lora_rank)
        VKG_TRY(linear_ex(m, wq, NULL, (uint64_t)H * dk, c->q_lora_rank, B, 0, V(a->q), 0, n));
    struct vkg_matmul_args bc = { .w = V(st->k_rope), .wt = VKG_DTYPE_F32, .n_out = H * dk, .n_in = rope,
                                  .x = vkg_view_sub(A, (uint64_t)r * 4, A.size - (uint64_t)r * 4), .x_stride = ra,
                                  .y = V(a->k), .n_tok = n };
    VKG_TRY(vkg_op_matmul_ex(cmd, &bc));
    vkg_cmd_barrier(cmd);
    /* RoPE (interleaved pairs) on q's rope slices; per head [k_nope | v] = kv_b_proj(latent) into B */
    VKG_TRY(rope_pairs(m, V(a->q), n, H, dk, nope));
    VKG_TRY(linear_ex(m, wkvb, NULL, (uint64_t)H * (nope + dv), r, A, ra, B, 0, n));
    vkg_cmd_barrier(cmd);
    /* k_nope into the first nope dims of each head of k, v into v: copies over the n*heads (token, head) rows */
    VKG_TRY(strided_copy(m, st->eye_nope, nope, B, nope + dv, V(a->k), dk, n * H));
    VKG_TRY(strided_copy(m, st->eye_v, dv, vkg_view_sub(B, (uint64_t)nope * 4, B.size - (uint64_t)nope * 4),
                         nope + dv, V(a->v), dv, n * H));
    vkg_cmd_barrier(cmd);
    /* append this step's k, v to the paged cache, then attend over it */
    VKG_TRY(vkg_op_kv_append(cmd, kv, l, V(a->k), V(a->v), V(a->tokens), n));
    vkg_cmd_barrier(cmd);
    struct vkg_attn_params p = { .n_heads = H, .scale = (float)c->attn_scale, .max_kv_len = m->step_kv_len };
    VKG_TRY(vkg_op_attention(cmd, kv, l, V(a->q), V(a->tokens), V(a->attn), V(a->attn_scratch), n, &p));
    vkg_cmd_barrier(cmd);
    /* output projection */
    VKG_TRY(linear_ex(m, wo, vkg_model_weight(m, "model.layers.%u.self_attn.o_proj.bias", l), d, (uint64_t)H * dv,
                      V(a->attn), 0, V(a->delta), 0, n));
    vkg_cmd_barrier(cmd);
    return VKG_OK;
}

/* SwiGLU MLP under model.layers.l.<block> (mlp, or mlp.shared_experts):
 * h -> delta = down(silu(gate(h)) * up(h)). */
static enum vkg_status mlp(struct vkg_model *m, uint32_t l, const char *block, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    const struct vkg_weight *g, *u, *d;
    VKG_TRY(vkg_model_weight_req(m, &g, "model.layers.%u.%s.gate_proj.weight", l, block));
    VKG_TRY(vkg_model_weight_req(m, &u, "model.layers.%u.%s.up_proj.weight", l, block));
    VKG_TRY(vkg_model_weight_req(m, &d, "model.layers.%u.%s.down_proj.weight", l, block));
    VKG_TRY(linear(m, g, vkg_model_weight(m, "model.layers.%u.%s.gate_proj.bias", l, block), V(a->h), V(a->gate), n));
    VKG_TRY(linear(m, u, vkg_model_weight(m, "model.layers.%u.%s.up_proj.bias", l, block), V(a->h), V(a->up), n));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(vkg_op_glu(m->cmd, VKG_GLU_SWIGLU, V(a->gate), V(a->up), V(a->ff), n, (uint32_t)g->shape[0]));
    vkg_cmd_barrier(m->cmd);
    VKG_TRY(linear(m, d, vkg_model_weight(m, "model.layers.%u.%s.down_proj.bias", l, block), V(a->ff), V(a->delta), n));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

/* DeepseekV2Moe: delta = shared_experts(h) + sum_j weight[t][j] * expert_{id[t][j]}(h[t]),
 * routed over chunks of tokens that fit the workspace (one chunk when decoding). */
static enum vkg_status moe(struct vkg_model *m, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    const struct ds2_state *st = m->arch_state;
    const struct vkg_weight *router;
    VKG_TRY(vkg_model_weight_req(m, &router, "model.layers.%u.mlp.gate.weight", l));
    if (c->topk_method == VKG_MOE_TOPK_NOAUX_TC)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: topk_method noaux_tc is DeepSeek-V3 routing, not DeepSeek-V2",
                         c->architecture);
    /* DeepseekV2TopkRouter: softmax (or sigmoid, scoring_func) scores; top-k, within the topk_group best
     * groups (group score = its best expert) for group_limited_greedy; weights x routed_scaling_factor.
     * norm_topk_prob (false in every published V2): renormalised instead of scaled, as DeepSeek's code
     * does (transformers 5 ignores it) */
    const int grouped = c->topk_method == VKG_MOE_TOPK_GROUP_LIMITED && c->n_group > 1;
    const int norm = c->norm_topk_prob && c->n_experts_per_tok > 1;
    const struct vkg_moe_router r = { .n_exp = c->n_experts, .k = c->n_experts_per_tok,
                                      .sigmoid = c->scoring == VKG_MOE_SIGMOID, .norm = norm,
                                      .scale = norm ? 1.0f : (float)c->routed_scaling_factor,
                                      .n_group = grouped ? c->n_group : 0, .topk_group = grouped ? c->topk_group : 0 };
    /* the shared experts (one MLP n_shared * moe_intermediate_size wide) write delta; the routed ones add */
    const int shared = c->n_shared_experts > 0;
    if (shared) VKG_TRY(mlp(m, l, "mlp.shared_experts", n));
    /* routed through DeepSeek's own workspace (moe.c), which takes the router's shape as it is */
    VKG_TRY(shape_req(m, router, c->n_experts, c->hidden_size));
    VKG_TRY(vkg_moe_routed(m, router, &r, &st->layer[l].w, V(st->ws), st->ws_cap, n, shared));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}

/* The copy matrices and stacked experts (first step) and the MoE workspace;
 * MLA; shared + routed experts on the MoE layers, the dense MLP on the
 * first_k_dense_replace ones. */
static const struct vkg_decoder DS2_DECODER = {
    .prepare = prepare, .attention = attention, .moe = moe, .mlp = mlp,
};

/* The whole trunk: embeddings -> layers -> final norm, into m->a.h (moe.c). */
enum vkg_status vkg_arch_deepseek2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    (void)n_out;
    return vkg_arch_trunk(m, kv, n, &DS2_DECODER);
}
