/* moe.h — the sparse Mixture-of-Experts pieces that qwen3_moe_mixtral.c
 * (Qwen3-MoE, Mixtral) and deepseek2.c (DeepSeek-V2) share: the layout of the
 * MoE workspace, the stacked expert buffers a load streams the experts into,
 * and the routed-expert block recorded chunk by chunk. The architectures pass
 * what differs: router settings, and whether the block adds to delta. */
#ifndef VKG_MOE_COMMON_H
#define VKG_MOE_COMMON_H

#include <stddef.h>

#include "model.h"
#include "ops_moe.h"

/* Byte offsets of one chunk's routing data and expert activations in a MoE
 * workspace; a batch larger than `chunk` tokens runs the block chunk by chunk
 * so that every section fits one binding (maxStorageBufferRange). */
struct vkg_moe_ws {
    uint32_t chunk;    /* tokens per pass */
    uint64_t logits;   /* [chunk][n_exp] f32 router logits */
    uint64_t ids, wts; /* [chunk][k] i32 experts, f32 weights */
    uint64_t route;    /* vkg_moe_route_bytes(n_exp, chunk*k) */
    uint64_t list;     /* [chunk*k] u32 pairs grouped by expert */
    uint64_t h;        /* [chunk*k][n_ff] f32 silu(gate) * up */
    uint64_t y;        /* [chunk*k][hidden] f32 expert outputs */
    uint64_t bytes;    /* the whole workspace */
};

/* The workspace layout for batches of up to cap tokens, from the config
 * (n_experts, n_experts_per_tok, hidden_size, moe_intermediate_size) and the
 * device limits. One layout sizes the workspace (model.c, plan.c) and slices
 * it (every step). */
struct vkg_moe_ws vkg_moe_ws_layout(const struct vkg_hf_config *c, const struct vkg_device *dev, uint32_t cap);

/* Creates layer l's three stacked buffers for n_exp experts (gate/up of
 * `dtype`, down of `dtype_down`), each expert's gate/up slice `gu_bytes` and
 * down slice `down_bytes`, and the views of out->w ([n_exp][n_ff][hidden]
 * gate/up, [n_exp][hidden][n_ff] down). */
enum vkg_status vkg_moe_stack_create(struct vkg_device *dev, uint32_t l, enum vkg_dtype dtype,
                                     enum vkg_dtype dtype_down, uint32_t n_exp, uint32_t n_in, uint32_t n_ff,
                                     uint64_t gu_bytes, uint64_t down_bytes, struct vkg_moe_stack *out);
/* The slice of expert e's matrix (0 gate, 1 up, 2 down) in a stack. */
struct vkg_view vkg_moe_stack_slice(const struct vkg_moe_stack *s, uint32_t e, int matrix);
/* Frees the three stacked buffers (the struct itself is the caller's). */
void vkg_moe_stack_free(struct vkg_moe_stack *s);

/* The routed experts: m->a.h -> m->a.delta, delta[t] (+)= sum_j wts[t][j] *
 * expert_{ids[t][j]}(h[t]) (added to delta when accumulate, else written),
 * over chunks of the workspace m->a.moe (laid out for m->a.cap tokens).
 * router is the [n_exp][hidden] gate matrix, r the scoring settings. With
 * norm != NULL the layer's residual add and the next RMSNorm follow:
 * res += that sum, h = norm(res) (vkg_op_moe_combine_add_norm: one launch
 * with the combine on CPU drivers, delta then unspecified).
 * Records a barrier between its dependent ops and one after itself. */
enum vkg_status vkg_moe_routed(struct vkg_model *m, const struct vkg_weight *router, const struct vkg_moe_router *r,
                               const struct vkg_moe_weights *ew, uint32_t n, int accumulate,
                               const struct vkg_weight *norm);

#endif
