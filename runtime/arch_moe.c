/* arch_moe.c — the sparse Mixture-of-Experts decoders, as in transformers'
 * modeling_qwen3_moe.py and modeling_mixtral.py. One step, read top to bottom.
 *
 *   Qwen3-MoE  Qwen3 attention (RMSNorm over each q and k head); layers that
 *              cfg.layer_moe marks (decoder_sparse_step, minus mlp_only_layers)
 *              route through mlp.gate to mlp.experts.E.{gate,up,down}_proj, the
 *              others run the dense mlp.{gate,up,down}_proj.
 *   Mixtral    Llama attention; every layer routes through block_sparse_moe.gate
 *              to block_sparse_moe.experts.E.{w1 (gate), w3 (up), w2 (down)}.
 *
 * Routing: softmax over all experts, top-k, renormalised to sum 1 when
 * norm_topk_prob (always for Mixtral: the same as a softmax over the top-k
 * logits). It stays on the GPU: the router, top-k, grouping by expert, the
 * expert FFN and the weighted sum are recorded with barriers and the expert
 * kernels read the ids themselves (ops_moe.h); nothing is read back.
 *
 * The checkpoint holds one tensor per expert; the expert kernels want them
 * stacked. vkg_model_prepare_moe packs them once, on the device, into one
 * buffer per layer and matrix (struct moe_state, hung off m->arch_state). */
#include <stdio.h>
#include <stdlib.h>

#include "arch_common.h"
#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_moe.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V VKG_V

/* Tensor names of a sparse block below model.layers.N. */
struct moe_names {
    const char *block;              /* router: <block>.gate.weight, experts: <block>.experts.E.* */
    const char *gate, *up, *down;   /* the three matrices of one expert */
};
static const struct moe_names QWEN3_MOE_NAMES = { "mlp", "gate_proj", "up_proj", "down_proj" };
static const struct moe_names MIXTRAL_NAMES = { "block_sparse_moe", "w1", "w3", "w2" };

static const struct moe_names *moe_names(const struct vkg_model *m)
{
    return m->cfg.arch == VKG_ARCH_MIXTRAL ? &MIXTRAL_NAMES : &QWEN3_MOE_NAMES;
}

/* The stacked experts of one MoE layer (all NULL for a dense layer). */
struct moe_layer {
    struct vkg_buffer *gate, *up;   /* [n_exp][n_ff][n_in] */
    struct vkg_buffer *down;        /* [n_exp][n_in][n_ff] */
    struct vkg_moe_weights w;       /* views of the three, dtype and shape */
};

struct moe_state {
    uint32_t n_layers;
    int ready;                      /* every MoE layer packed */
    struct moe_layer layer[];       /* [n_layers] */
};

/* ---- the MoE workspace (m->a.moe) ------------------------------------- */

/* Byte offsets of one chunk's routing data and expert activations in
 * m->a.moe; a batch larger than `chunk` tokens runs the block chunk by chunk
 * so that every section fits one binding (maxStorageBufferRange). */
struct moe_ws {
    uint32_t chunk;                 /* tokens per pass */
    uint64_t logits;                /* [chunk][n_exp] f32 router logits */
    uint64_t ids, wts;              /* [chunk][k] i32 experts, f32 weights */
    uint64_t route;                 /* vkg_moe_route_bytes(n_exp, chunk*k) */
    uint64_t list;                  /* [chunk*k] u32 pairs grouped by expert */
    uint64_t h;                     /* [chunk*k][n_ff] f32 silu(gate) * up */
    uint64_t y;                     /* [chunk*k][n_in] f32 expert outputs */
    uint64_t bytes;
};

static uint64_t up256(uint64_t x) { return (x + 255) & ~(uint64_t)255; }
static uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

static struct moe_ws ws_layout(const struct vkg_model *m, uint32_t cap)
{
    const struct vkg_hf_config *c = &m->cfg;
    uint64_t ne = c->n_experts, k = c->n_experts_per_tok ? c->n_experts_per_tok : 1;
    uint64_t d = c->hidden_size, ff = c->moe_intermediate_size ? c->moe_intermediate_size : 1;
    /* the widest section per token bounds the chunk; the tile grid bounds it too */
    uint64_t widest = max2(ne * 4, max2(k * d * 4, k * ff * 4));
    uint64_t chunk = vkg_max_window_bytes(m->dev) / 2 / widest;
    uint64_t max_tiles = m->dev->info.max_workgroup_count[1];
    if (max_tiles > ne && (max_tiles - ne) * 8 / k < chunk) chunk = (max_tiles - ne) * 8 / k;
    if (chunk > cap) chunk = cap;
    if (chunk < 1) chunk = 1;
    struct moe_ws w = { .chunk = (uint32_t)chunk };
    uint64_t p = chunk * k, off = 0;
    w.logits = off, off = up256(off + chunk * ne * 4);
    w.ids = off, off = up256(off + p * 4);
    w.wts = off, off = up256(off + p * 4);
    w.route = off, off = up256(off + vkg_moe_route_bytes((uint32_t)ne, p));
    w.list = off, off = up256(off + p * 4);
    w.h = off, off = up256(off + p * ff * 4);
    w.y = off, off = up256(off + p * d * 4);
    w.bytes = off;
    return w;
}

uint64_t vkg_model_moe_workspace_bytes(const struct vkg_model *m, uint32_t cap)
{
    if (!m->cfg.n_experts || (m->cfg.arch != VKG_ARCH_QWEN3_MOE && m->cfg.arch != VKG_ARCH_MIXTRAL)) return 16;
    return ws_layout(m, cap).bytes;
}

/* ---- packing the experts at the first forward --------------------------- */

static void moe_state_free(struct vkg_model *m)
{
    struct moe_state *st = m->arch_state;
    if (!st) return;
    for (uint32_t l = 0; l < st->n_layers; l++) {
        vkg_buffer_free(st->layer[l].gate);
        vkg_buffer_free(st->layer[l].up);
        vkg_buffer_free(st->layer[l].down);
    }
    free(st);
    m->arch_state = NULL;
    m->arch_free = NULL;
}

/* Records the copies of experts 0..n_exp-1 of one matrix ("<block>.experts.E.<name>.weight",
 * each [rows][cols]) into a new stacked buffer [n_exp][rows][cols]. */
static enum vkg_status stack_matrix(struct vkg_model *m, struct vkg_cmd *cmd, uint32_t l, const char *name,
                                    uint64_t rows, uint64_t cols, struct vkg_buffer **out, enum vkg_dtype *dtype)
{
    const char *block = moe_names(m)->block;
    uint32_t ne = m->cfg.n_experts;
    const struct vkg_weight *w0;
    VKG_TRY(vkg_model_weight_req(m, &w0, "model.layers.%u.%s.experts.0.%s.weight", l, block, name));
    char label[96];
    snprintf(label, sizeof label, "model.layers.%u.%s.experts.*.%s (stacked)", l, block, name);
    VKG_TRY(vkg_buffer_create(m->dev, ne * w0->n_bytes, VKG_MEM_DEVICE, label, out));
    for (uint32_t e = 0; e < ne; e++) {
        const struct vkg_weight *w;
        VKG_TRY(vkg_model_weight_req(m, &w, "model.layers.%u.%s.experts.%u.%s.weight", l, block, e, name));
        if (w->n_dims != 2 || w->shape[0] != rows || w->shape[1] != cols || w->dtype != w0->dtype || !w->buf)
            return vkg_error(VKG_ERR_INVALID_ARG, "%s: tensor '%s': shape [%llu, %llu] %s, expected [%llu, %llu] %s "
                             "like expert 0", m->cfg.architecture, w->name, (unsigned long long)w->shape[0],
                             (unsigned long long)w->shape[1], vkg_dtype_name(w->dtype), (unsigned long long)rows,
                             (unsigned long long)cols, vkg_dtype_name(w0->dtype));
        vkg_cmd_copy(cmd, V(w->buf), vkg_view_sub(V(*out), e * w0->n_bytes, w0->n_bytes), w0->n_bytes);
    }
    *dtype = w0->dtype;
    return VKG_OK;
}

/* Frees the per-expert buffers of one layer once their copies have run. */
static void free_experts(struct vkg_model *m, uint32_t l)
{
    const struct moe_names *nm = moe_names(m);
    const char *names[3] = { nm->gate, nm->up, nm->down };
    for (uint32_t e = 0; e < m->cfg.n_experts; e++)
        for (int i = 0; i < 3; i++) {
            /* the weight table is the model's own (m->w); only its buffer goes */
            struct vkg_weight *w = (struct vkg_weight *)vkg_model_weight(
                m, "model.layers.%u.%s.experts.%u.%s.weight", l, nm->block, e, names[i]);
            if (!w) continue;
            vkg_buffer_free(w->buf);
            w->buf = NULL;
        }
}

/* Stacks gate, up and down of one layer: copy, wait, free the per-expert buffers. */
static enum vkg_status pack_layer(struct vkg_model *m, struct vkg_cmd *cmd, uint32_t l, struct moe_layer *L)
{
    const struct moe_names *nm = moe_names(m);
    const struct vkg_weight *g0;
    VKG_TRY(vkg_model_weight_req(m, &g0, "model.layers.%u.%s.experts.0.%s.weight", l, nm->block, nm->gate));
    uint64_t n_ff = g0->shape[0], n_in = m->cfg.hidden_size;
    if (n_ff > m->cfg.moe_intermediate_size)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: tensor '%s': %llu rows, more than moe_intermediate_size %u",
                         m->cfg.architecture, g0->name, (unsigned long long)n_ff, m->cfg.moe_intermediate_size);
    enum vkg_dtype dt[3];
    VKG_TRY(vkg_cmd_begin(cmd));
    VKG_TRY(stack_matrix(m, cmd, l, nm->gate, n_ff, n_in, &L->gate, &dt[0]));
    VKG_TRY(stack_matrix(m, cmd, l, nm->up, n_ff, n_in, &L->up, &dt[1]));
    VKG_TRY(stack_matrix(m, cmd, l, nm->down, n_in, n_ff, &L->down, &dt[2]));
    if (dt[0] != dt[1] || dt[0] != dt[2])
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: layer %u experts: gate %s, up %s, down %s; the expert kernels "
                         "want one dtype (a quantized --weights needs hidden_size and the expert width %llu to "
                         "be multiples of 32)", m->cfg.architecture, l, vkg_dtype_name(dt[0]),
                         vkg_dtype_name(dt[1]), vkg_dtype_name(dt[2]), (unsigned long long)n_ff);
    vkg_cmd_barrier(cmd);
    VKG_TRY(vkg_cmd_submit_wait(cmd));
    free_experts(m, l);
    L->w = (struct vkg_moe_weights){ .gate = V(L->gate), .up = V(L->up), .down = V(L->down), .dtype = dt[0],
                                     .n_exp = m->cfg.n_experts, .n_in = (uint32_t)n_in, .n_ff = (uint32_t)n_ff };
    return VKG_OK;
}

enum vkg_status vkg_model_prepare_moe(struct vkg_model *m)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct moe_state *st = m->arch_state;
    if (st && st->ready) return VKG_OK;
    if (!st) {
        if (!(st = calloc(1, sizeof *st + c->n_layers * sizeof st->layer[0])))
            return vkg_error(VKG_ERR_NOMEM, "%s: MoE state", c->architecture);
        st->n_layers = c->n_layers;
        m->arch_state = st;
        m->arch_free = moe_state_free;
    }
    struct vkg_cmd *cmd;
    VKG_TRY(vkg_cmd_create(m->dev, &cmd));
    enum vkg_status s = VKG_OK;
    /* layer by layer (a retry after a failure resumes): a layer's per-expert
     * buffers are freed before the next layer's stacks are made */
    for (uint32_t l = 0; s == VKG_OK && l < c->n_layers; l++)
        if (c->layer_moe && c->layer_moe[l] && !st->layer[l].down) s = pack_layer(m, cmd, l, &st->layer[l]);
    vkg_cmd_free(cmd);
    if (s == VKG_OK) st->ready = 1;
    return s;
}

/* ---- the forward pass ---------------------------------------------------- */

/* Sparse MoE block: h -> delta[t] = sum_j weight[t][j] * expert_{id[t][j]}(h[t]),
 * over chunks of tokens that fit the workspace (one chunk when decoding). */
static enum vkg_status sparse_moe(struct vkg_model *m, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const struct moe_state *st = m->arch_state;
    const struct vkg_moe_weights *ew = &st->layer[l].w;
    const struct vkg_weight *router;
    VKG_TRY(vkg_model_weight_req(m, &router, "model.layers.%u.%s.gate.weight", l, moe_names(m)->block));
    const struct vkg_moe_router r = { .n_exp = c->n_experts, .k = c->n_experts_per_tok, .sigmoid = 0,
                                      .norm = c->norm_topk_prob, .scale = 1.0f };
    const struct moe_ws ws = ws_layout(m, a->cap);
    const uint64_t row = (uint64_t)c->hidden_size * 4, k = r.k;
    struct vkg_view w = V(a->moe);
    for (uint32_t t0 = 0; t0 < n; t0 += ws.chunk) {
        uint32_t nt = n - t0 < ws.chunk ? n - t0 : ws.chunk;
        uint64_t p = (uint64_t)nt * k;
        struct vkg_view x = vkg_view_sub(V(a->h), t0 * row, nt * row);
        struct vkg_view out = vkg_view_sub(V(a->delta), t0 * row, nt * row);
        struct vkg_view logits = vkg_view_sub(w, ws.logits, (uint64_t)nt * r.n_exp * 4);
        struct vkg_view ids = vkg_view_sub(w, ws.ids, p * 4), wts = vkg_view_sub(w, ws.wts, p * 4);
        struct vkg_view route = vkg_view_sub(w, ws.route, vkg_moe_route_bytes(r.n_exp, p));
        struct vkg_view list = vkg_view_sub(w, ws.list, p * 4);
        struct vkg_view h = vkg_view_sub(w, ws.h, p * ew->n_ff * 4), y = vkg_view_sub(w, ws.y, p * row);
        /* router logits = x gate^T: [nt][n_exp] */
        VKG_TRY(vkg_arch_linear(m, router, NULL, x, logits, nt));
        vkg_cmd_barrier(m->cmd);
        /* softmax over all experts -> top-k ids and weights (renormalised when norm_topk_prob) */
        VKG_TRY(vkg_op_moe_gate(m->cmd, &r, nt, logits, ids, wts));
        /* group the nt*k (token, slot) pairs by expert: counts, offsets, lists on the GPU */
        VKG_TRY(vkg_op_moe_group(m->cmd, (uint32_t)p, r.n_exp, ids, route, list));
        /* every pair through its expert: y[p] = down(silu(gate(x)) * up(x)) */
        VKG_TRY(vkg_op_moe_experts(m->cmd, ew, nt, r.k, x, route, list, h, y));
        /* delta[t] = sum_j weight[t][j] * y[t*k + j] */
        VKG_TRY(vkg_op_moe_combine(m->cmd, nt, r.k, c->hidden_size, y, wts, out, 0));
    }
    return VKG_OK;
}

/* The whole trunk: embeddings -> layers -> final norm, into m->a.h. */
enum vkg_status vkg_arch_moe_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    (void)n_out;
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const float eps = (float)c->rms_norm_eps;
    const uint32_t d = c->hidden_size;
    const struct vkg_weight *emb, *norm, *ln1, *ln2;
    /* the stacked experts, made once at the first step */
    VKG_TRY(vkg_model_prepare_moe(m));
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
        VKG_TRY(vkg_arch_attention(m, kv, l, n));
        /* res += attention output; h = post-attention norm(res) */
        VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln2->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
        vkg_cmd_barrier(m->cmd);
        /* the routed experts, or (Qwen3-MoE mlp_only_layers / sparse step) the dense MLP */
        if (c->layer_moe && c->layer_moe[l]) VKG_TRY(sparse_moe(m, l, n));
        else VKG_TRY(vkg_arch_mlp(m, l, "mlp", n)); /* Qwen3-MoE mlp_only_layers */
    }
    /* res += last block output; h = final norm(res) */
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(norm->buf), V(a->h), n, d, eps, VKG_RMSNORM_PLAIN));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}
