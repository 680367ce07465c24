/* qwen3_moe_mixtral.c — the sparse Mixture-of-Experts decoders, as in transformers'
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
 * buffer per layer and matrix (struct moe_state, hung off m->arch_state).
 * The stacking, the workspace layout, the routed block and the trunk are
 * moe.c's, shared with deepseek2.c. */
#include <stdlib.h>

#include "blocks.h"
#include "moe.h"
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

struct moe_state {
    uint32_t n_layers;
    int ready;                      /* every MoE layer packed */
    struct vkg_moe_stack layer[];   /* [n_layers]: the stacked experts (moe.h) */
};

/* The MoE workspace is m->a.moe, which model.c sizes with this. */
uint64_t vkg_model_moe_workspace_bytes(const struct vkg_model *m, uint32_t cap)
{
    if (!m->cfg.n_experts || (m->cfg.arch != VKG_ARCH_QWEN3_MOE && m->cfg.arch != VKG_ARCH_MIXTRAL)) return 16;
    return vkg_moe_ws_layout(m, cap).bytes;
}

/* ---- packing the experts at the first forward --------------------------- */

static void moe_state_free(struct vkg_model *m)
{
    struct moe_state *st = m->arch_state;
    if (!st) return;
    for (uint32_t l = 0; l < st->n_layers; l++) vkg_moe_stack_free(&st->layer[l]);
    free(st);
    m->arch_state = NULL;
    m->arch_free = NULL;
}

enum vkg_status vkg_model_prepare_moe(struct vkg_model *m)
{
    const struct moe_names *nm = moe_names(m);
    struct moe_state *st = vkg_moe_state(m, sizeof *st + m->cfg.n_layers * sizeof st->layer[0], moe_state_free);
    if (!st) return vkg_error(VKG_ERR_NOMEM, "%s: MoE state", m->cfg.architecture);
    if (st->ready) return VKG_OK;
    st->n_layers = m->cfg.n_layers;
    /* layer by layer (a retry after a failure resumes) */
    VKG_TRY(vkg_moe_stack_layers(m, st->layer, nm->block, nm->gate, nm->up, nm->down));
    st->ready = 1;
    return VKG_OK;
}

/* ---- the forward pass ---------------------------------------------------- */

/* Sparse MoE block: h -> delta[t] = sum_j weight[t][j] * expert_{id[t][j]}(h[t]),
 * routed through the workspace m->a.moe (moe.c). */
static enum vkg_status sparse_moe(struct vkg_model *m, uint32_t l, uint32_t n)
{
    const struct vkg_hf_config *c = &m->cfg;
    const struct moe_state *st = m->arch_state;
    const struct vkg_weight *router;
    VKG_TRY(vkg_model_weight_req(m, &router, "model.layers.%u.%s.gate.weight", l, moe_names(m)->block));
    /* softmax over all experts -> top-k ids and weights (renormalised when norm_topk_prob) */
    const struct vkg_moe_router r = { .n_exp = c->n_experts, .k = c->n_experts_per_tok, .sigmoid = 0,
                                      .norm = c->norm_topk_prob, .scale = 1.0f };
    return vkg_moe_routed(m, router, &r, &st->layer[l].w, V(m->a.moe), m->a.cap, n, 0);
}

/* Qwen3 / Llama attention (blocks.c), the routed experts on the sparse
 * layers, the dense MLP on the others (Qwen3-MoE mlp_only_layers / sparse step). */
static const struct vkg_decoder MOE_DECODER = {
    .prepare = vkg_model_prepare_moe, .attention = vkg_arch_attention, .moe = sparse_moe, .mlp = vkg_arch_mlp,
};

/* The whole trunk: embeddings -> layers -> final norm, into m->a.h (moe.c). */
enum vkg_status vkg_arch_moe_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    (void)n_out;
    return vkg_arch_trunk(m, kv, n, &MOE_DECODER);
}
