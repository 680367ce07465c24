/* moe.c — the MoE pieces qwen3_moe_mixtral.c and deepseek2.c share
 * (moe.h). They were written twice, once per architecture; here they
 * are once, and the architectures pass what differs: tensor names, router
 * settings, the workspace buffer, their attention and MLP blocks. */
#include <stdio.h>
#include <stdlib.h>

#include "blocks.h"
#include "moe.h"
#include "vk_check.h"

#define V VKG_V

static uint64_t up256(uint64_t x) { return (x + 255) & ~(uint64_t)255; }
static uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* One layout serves both sizing the workspace (at allocation) and slicing it
 * (every step), so the two can never disagree. */
struct vkg_moe_ws vkg_moe_ws_layout(const struct vkg_model *m, uint32_t cap)
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
    struct vkg_moe_ws w = { .chunk = (uint32_t)chunk };
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

/* ---- stacking the experts ------------------------------------------------- */

/* The checkpoint holds one tensor per expert, the expert kernels want one
 * [n_exp][rows][cols] buffer: records the copies of experts 0..n_exp-1 of one
 * matrix ("<block>.experts.E.<name>.weight", each [rows][cols], all of expert
 * 0's dtype) into a new stacked buffer. */
static enum vkg_status stack_matrix(struct vkg_model *m, struct vkg_cmd *cmd, uint32_t l, const char *block,
                                    const char *name, uint64_t rows, uint64_t cols, struct vkg_buffer **out,
                                    enum vkg_dtype *dtype)
{
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

/* Once stacked, the per-expert buffers are dead weight (a second copy of
 * every expert): frees them for one layer once their copies have run. The
 * weight table is the model's own (m->w); only the buffers go. */
static void free_experts(struct vkg_model *m, uint32_t l, const char *block, const char *const names[3])
{
    for (uint32_t e = 0; e < m->cfg.n_experts; e++)
        for (int i = 0; i < 3; i++) {
            struct vkg_weight *w = (struct vkg_weight *)vkg_model_weight(
                m, "model.layers.%u.%s.experts.%u.%s.weight", l, block, e, names[i]);
            if (!w) continue;
            vkg_buffer_free(w->buf);
            w->buf = NULL;
        }
}

/* One layer at a time, so that peak memory is the checkpoint plus one
 * layer's stacks: copy gate, up and down, wait, free the per-expert buffers. */
enum vkg_status vkg_moe_stack_layer(struct vkg_model *m, struct vkg_cmd *cmd, uint32_t l, const char *block,
                                    const char *gate, const char *up, const char *down, struct vkg_moe_stack *out)
{
    const char *const names[3] = { gate, up, down };
    const struct vkg_weight *g0;
    VKG_TRY(vkg_model_weight_req(m, &g0, "model.layers.%u.%s.experts.0.%s.weight", l, block, gate));
    uint64_t n_ff = g0->shape[0], n_in = m->cfg.hidden_size;
    /* the workspace is sized by moe_intermediate_size */
    if (n_ff > m->cfg.moe_intermediate_size)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: tensor '%s': %llu rows, more than moe_intermediate_size %u",
                         m->cfg.architecture, g0->name, (unsigned long long)n_ff, m->cfg.moe_intermediate_size);
    enum vkg_dtype dt[3];
    VKG_TRY(vkg_cmd_begin(cmd));
    VKG_TRY(stack_matrix(m, cmd, l, block, gate, n_ff, n_in, &out->gate, &dt[0]));
    VKG_TRY(stack_matrix(m, cmd, l, block, up, n_ff, n_in, &out->up, &dt[1]));
    VKG_TRY(stack_matrix(m, cmd, l, block, down, n_in, n_ff, &out->down, &dt[2]));
    if (dt[0] != dt[1] || dt[0] != dt[2])
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: layer %u experts: gate %s, up %s, down %s; the expert kernels "
                         "want one dtype (a quantized --weights needs hidden_size and the expert width %llu to "
                         "be multiples of 32)", m->cfg.architecture, l, vkg_dtype_name(dt[0]),
                         vkg_dtype_name(dt[1]), vkg_dtype_name(dt[2]), (unsigned long long)n_ff);
    vkg_cmd_barrier(cmd);
    VKG_TRY(vkg_cmd_submit_wait(cmd));
    free_experts(m, l, block, names);
    out->w = (struct vkg_moe_weights){ .gate = V(out->gate), .up = V(out->up), .down = V(out->down),
                                       .dtype = dt[0], .n_exp = m->cfg.n_experts, .n_in = (uint32_t)n_in,
                                       .n_ff = (uint32_t)n_ff };
    return VKG_OK;
}

/* Both architectures pack at their first step, skipping the layers already
 * packed so that a retry after a failure (out of memory) resumes. */
enum vkg_status vkg_moe_stack_layers(struct vkg_model *m, struct vkg_moe_stack *layers, const char *block,
                                     const char *gate, const char *up, const char *down)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_cmd *cmd;
    VKG_TRY(vkg_cmd_create(m->dev, &cmd));
    enum vkg_status s = VKG_OK;
    /* a layer's per-expert buffers are freed before the next layer's stacks are made */
    for (uint32_t l = 0; s == VKG_OK && l < c->n_layers; l++)
        if (c->layer_moe && c->layer_moe[l] && !layers[l].down)
            s = vkg_moe_stack_layer(m, cmd, l, block, gate, up, down, &layers[l]);
    vkg_cmd_free(cmd);
    return s;
}

/* The architectures' state teardown frees every layer's stacks this way. */
void vkg_moe_stack_free(struct vkg_moe_stack *s)
{
    vkg_buffer_free(s->gate);
    vkg_buffer_free(s->up);
    vkg_buffer_free(s->down);
    s->gate = s->up = s->down = NULL;
}

/* ---- the forward pass ---------------------------------------------------- */

/* The routing stays on the GPU: router, top-k, grouping by expert, the expert
 * FFN and the weighted sum are recorded with barriers and the expert kernels
 * read the ids themselves (ops_moe.h); nothing is read back. Chunks of tokens
 * keep every section within one binding (one chunk when decoding). */
enum vkg_status vkg_moe_routed(struct vkg_model *m, const struct vkg_weight *router, const struct vkg_moe_router *r,
                               const struct vkg_moe_weights *ew, struct vkg_view ws, uint32_t ws_cap, uint32_t n,
                               int accumulate)
{
    struct vkg_acts *a = &m->a;
    const struct vkg_moe_ws lay = vkg_moe_ws_layout(m, ws_cap);
    const uint64_t row = (uint64_t)m->cfg.hidden_size * 4, k = r->k;
    for (uint32_t t0 = 0; t0 < n; t0 += lay.chunk) {
        uint32_t nt = n - t0 < lay.chunk ? n - t0 : lay.chunk;
        uint64_t p = (uint64_t)nt * k;
        struct vkg_view x = vkg_view_sub(V(a->h), t0 * row, nt * row);
        struct vkg_view out = vkg_view_sub(V(a->delta), t0 * row, nt * row);
        struct vkg_view logits = vkg_view_sub(ws, lay.logits, (uint64_t)nt * r->n_exp * 4);
        struct vkg_view ids = vkg_view_sub(ws, lay.ids, p * 4), wts = vkg_view_sub(ws, lay.wts, p * 4);
        struct vkg_view route = vkg_view_sub(ws, lay.route, vkg_moe_route_bytes(r->n_exp, p));
        struct vkg_view list = vkg_view_sub(ws, lay.list, p * 4);
        struct vkg_view h = vkg_view_sub(ws, lay.h, p * ew->n_ff * 4), y = vkg_view_sub(ws, lay.y, p * row);
        /* router logits = x gate^T: [nt][n_exp] */
        VKG_TRY(vkg_arch_linear(m, router, NULL, x, logits, nt));
        vkg_cmd_barrier(m->cmd);
        /* scores -> top-k ids and weights (r: softmax or sigmoid, groups, renormalised or scaled) */
        VKG_TRY(vkg_op_moe_gate(m->cmd, r, nt, logits, ids, wts));
        /* group the nt*k (token, slot) pairs by expert: counts, offsets, lists on the GPU */
        VKG_TRY(vkg_op_moe_group(m->cmd, (uint32_t)p, r->n_exp, ids, route, list));
        /* every pair through its expert: y[p] = down(silu(gate(x)) * up(x)) */
        VKG_TRY(vkg_op_moe_experts(m->cmd, ew, nt, r->k, x, route, list, h, y));
        /* delta[t] (+)= sum_j weight[t][j] * y[t*k + j] */
        VKG_TRY(vkg_op_moe_combine(m->cmd, nt, r->k, m->cfg.hidden_size, y, wts, out, accumulate));
    }
    return VKG_OK;
}

/* Both architectures hang one state struct off the model, made at the first
 * step and freed by vkg_model_free through arch_free. */
void *vkg_moe_state(struct vkg_model *m, size_t bytes, void (*free_fn)(struct vkg_model *m))
{
    if (!m->arch_state && (m->arch_state = calloc(1, bytes))) m->arch_free = free_fn;
    return m->arch_state;
}
