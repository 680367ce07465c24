/* moe.c — the MoE pieces qwen3_moe_mixtral.c and deepseek2.c share
 * (moe.h): the workspace layout, the stacked expert buffers, the routed
 * block. The architectures pass what differs: router settings and whether
 * the routed experts add to a shared expert's output. */
#include <stdio.h>
#include <stdlib.h>

#include "blocks.h"
#include "moe.h"
#include "vk_check.h"

#define V VKG_V

static uint64_t up256(uint64_t x) { return (x + 255) & ~(uint64_t)255; }
static uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The next section of `bytes` at *off; *off moves past it, 256-byte aligned. */
static uint64_t take(uint64_t *off, uint64_t bytes)
{
    uint64_t at = *off;
    *off = up256(at + bytes);
    return at;
}

/* One layout serves both sizing the workspace (at allocation) and slicing it
 * (every step), so the two can never disagree. */
struct vkg_moe_ws vkg_moe_ws_layout(const struct vkg_hf_config *c, const struct vkg_device *dev, uint32_t cap)
{
    uint64_t ne = c->n_experts, k = c->n_experts_per_tok ? c->n_experts_per_tok : 1;
    uint64_t d = c->hidden_size, ff = c->moe_intermediate_size ? c->moe_intermediate_size : 1;
    /* the widest section per token bounds the chunk; the tile grid bounds it too */
    uint64_t widest = max2(ne * 4, max2(k * d * 4, k * ff * 4));
    uint64_t chunk = vkg_max_window_bytes(dev) / 2 / widest;
    uint64_t max_tiles = dev->info.max_workgroup_count[1];
    if (max_tiles > ne && (max_tiles - ne) * 8 / k < chunk) chunk = (max_tiles - ne) * 8 / k;
    if (chunk > cap) chunk = cap;
    if (chunk < 1) chunk = 1;
    struct vkg_moe_ws w = { .chunk = (uint32_t)chunk };
    uint64_t p = chunk * k, off = 0;
    w.logits = take(&off, chunk * ne * 4);
    w.ids = take(&off, p * 4);
    w.wts = take(&off, p * 4);
    w.route = take(&off, vkg_moe_route_bytes((uint32_t)ne, p));
    w.list = take(&off, p * 4);
    w.h = take(&off, p * ff * 4);
    w.y = take(&off, p * d * 4);
    w.bytes = off;
    return w;
}

/* ---- the stacked experts ------------------------------------------------- */

/* The checkpoint holds one tensor per expert, the expert kernels want one
 * [n_exp][rows][cols] buffer per matrix: the load streams each expert's
 * tensor straight into its slice (weights.h opts.dest), so no per-expert
 * copy ever exists on the device. */
enum vkg_status vkg_moe_stack_create(struct vkg_device *dev, uint32_t l, enum vkg_dtype dtype,
                                     enum vkg_dtype dtype_down, uint32_t n_exp, uint32_t n_in, uint32_t n_ff,
                                     uint64_t gu_bytes, uint64_t down_bytes, struct vkg_moe_stack *out)
{
    static const char *const names[3] = { "gate", "up", "down" };
    struct vkg_buffer **b[3] = { &out->gate, &out->up, &out->down };
    char label[96];
    for (int i = 0; i < 3; i++) {
        snprintf(label, sizeof label, "model.layers.%u experts %s (stacked)", l, names[i]);
        VKG_TRY(
            vkg_buffer_create(dev, (uint64_t)n_exp * (i == 2 ? down_bytes : gu_bytes), VKG_MEM_DEVICE, label, b[i]));
    }
    out->w = (struct vkg_moe_weights){ .gate = V(out->gate),
                                       .up = V(out->up),
                                       .down = V(out->down),
                                       .dtype = dtype,
                                       .n_exp = n_exp,
                                       .n_in = n_in,
                                       .n_ff = n_ff,
                                       .dtype_down = dtype_down };
    out->slice_bytes[0] = out->slice_bytes[1] = gu_bytes;
    out->slice_bytes[2] = down_bytes;
    return VKG_OK;
}

struct vkg_view vkg_moe_stack_slice(const struct vkg_moe_stack *s, uint32_t e, int matrix)
{
    const struct vkg_buffer *b = matrix == 0 ? s->gate : matrix == 1 ? s->up : s->down;
    return vkg_view_sub(V(b), e * s->slice_bytes[matrix], s->slice_bytes[matrix]);
}

void vkg_moe_stack_free(struct vkg_moe_stack *s)
{
    vkg_buffer_free(s->gate);
    vkg_buffer_free(s->up);
    vkg_buffer_free(s->down);
    s->gate = s->up = s->down = NULL;
}

/* ---- the forward pass ---------------------------------------------------- */

/* The routing stays on the GPU: router, top-k, grouping by expert, the expert
 * FFN and the weighted sum are recorded with a barrier after each (the
 * launchers add none, ops.h) and the expert kernels read the ids themselves
 * (ops_moe.h); nothing is read back. Chunks of tokens keep every section
 * within one binding (one chunk when decoding). Ends with a barrier, like
 * the blocks of blocks.h. */
enum vkg_status vkg_moe_routed(struct vkg_model *m, const struct vkg_weight *router, const struct vkg_moe_router *r,
                               const struct vkg_moe_weights *ew, uint32_t n, int accumulate,
                               const struct vkg_weight *norm)
{
    struct vkg_acts *a = &m->a;
    const struct vkg_moe_ws lay = vkg_moe_ws_layout(&m->cfg, m->dev, a->cap);
    const struct vkg_view ws = V(a->moe);
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
        /* scores -> top-k ids and weights (r: softmax or sigmoid, groups, renormalised or scaled),
         * then the nt*k (token, slot) pairs grouped by expert: counts, offsets, lists on the GPU
         * (one launch for a decode step) */
        VKG_TRY(vkg_op_moe_gate_group(m->cmd, r, nt, logits, ids, wts, route, list));
        vkg_cmd_barrier(m->cmd);
        /* every pair through its expert: y[p] = down(silu(gate(x)) * up(x)) */
        VKG_TRY(vkg_op_moe_experts(m->cmd, ew, nt, r->k, x, route, list, h, y, V(a->xq)));
        vkg_cmd_barrier(m->cmd);
        /* delta[t] (+)= sum_j weight[t][j] * y[t*k + j]; the next chunk reuses the workspace.
         * With norm: res[t] += that, h[t] = norm(res[t]) for the chunk's rows (one launch on CPU
         * drivers; the chunk's experts are done with its h rows) */
        if (norm)
            VKG_TRY(vkg_op_moe_combine_add_norm(m->cmd, nt, r->k, m->cfg.hidden_size, y, wts, out, accumulate,
                                                vkg_view_sub(V(a->res), t0 * row, nt * row), norm->view, x,
                                                (float)m->cfg.rms_norm_eps, VKG_RMSNORM_PLAIN));
        else VKG_TRY(vkg_op_moe_combine(m->cmd, nt, r->k, m->cfg.hidden_size, y, wts, out, accumulate));
        vkg_cmd_barrier(m->cmd);
    }
    return VKG_OK;
}
