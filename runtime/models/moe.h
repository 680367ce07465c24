/* moe.h — the sparse Mixture-of-Experts pieces that qwen3_moe_mixtral.c
 * (Qwen3-MoE, Mixtral) and deepseek2.c (DeepSeek-V2) share: the layout
 * of the MoE workspace, the stacking of the per-expert checkpoint tensors
 * into one buffer per layer and matrix, the routed-expert block recorded
 * chunk by chunk, and the pre-norm decoder trunk both run. Each architecture
 * keeps its own state, router settings and attention; what is here only
 * differs between them by the tensor names and the arguments passed in. */
#ifndef VKG_MOE_COMMON_H
#define VKG_MOE_COMMON_H

#include <stddef.h>

#include "model.h"
#include "ops_moe.h"

/* Byte offsets of one chunk's routing data and expert activations in a MoE
 * workspace; a batch larger than `chunk` tokens runs the block chunk by chunk
 * so that every section fits one binding (maxStorageBufferRange). */
struct vkg_moe_ws {
    uint32_t chunk;                 /* tokens per pass */
    uint64_t logits;                /* [chunk][n_exp] f32 router logits */
    uint64_t ids, wts;              /* [chunk][k] i32 experts, f32 weights */
    uint64_t route;                 /* vkg_moe_route_bytes(n_exp, chunk*k) */
    uint64_t list;                  /* [chunk*k] u32 pairs grouped by expert */
    uint64_t h;                     /* [chunk*k][n_ff] f32 silu(gate) * up */
    uint64_t y;                     /* [chunk*k][hidden] f32 expert outputs */
    uint64_t bytes;                 /* the whole workspace */
};

/* The workspace layout for batches of up to cap tokens, from m->cfg
 * (n_experts, n_experts_per_tok, hidden_size, moe_intermediate_size) and the
 * device limits. */
struct vkg_moe_ws vkg_moe_ws_layout(const struct vkg_model *m, uint32_t cap);

/* The stacked experts of one MoE layer (all NULL for a dense layer). */
struct vkg_moe_stack {
    struct vkg_buffer *gate, *up;   /* [n_exp][n_ff][hidden] */
    struct vkg_buffer *down;        /* [n_exp][hidden][n_ff] */
    struct vkg_moe_weights w;       /* views of the three, dtype and shape */
};

/* Stacks "model.layers.<l>.<block>.experts.E.{<gate>,<up>,<down>}.weight"
 * into *out on the device (records into cmd, waits), then frees the
 * per-expert buffers. The expert width is that of expert 0's gate, at most
 * cfg.moe_intermediate_size. */
enum vkg_status vkg_moe_stack_layer(struct vkg_model *m, struct vkg_cmd *cmd, uint32_t l, const char *block,
                                    const char *gate, const char *up, const char *down, struct vkg_moe_stack *out);
/* vkg_moe_stack_layer for every layer cfg.layer_moe marks and layers[] does
 * not hold yet (a retry after a failure resumes), layer by layer. */
enum vkg_status vkg_moe_stack_layers(struct vkg_model *m, struct vkg_moe_stack *layers, const char *block,
                                     const char *gate, const char *up, const char *down);
/* Frees the three stacked buffers (the struct itself is the caller's). */
void vkg_moe_stack_free(struct vkg_moe_stack *s);

/* The routed experts: m->a.h -> m->a.delta, delta[t] (+)= sum_j wts[t][j] *
 * expert_{ids[t][j]}(h[t]) (added to delta when accumulate, else written),
 * over chunks of the layout vkg_moe_ws_layout(m, ws_cap) in the workspace ws.
 * router is the [n_exp][hidden] gate matrix, r the scoring settings. */
enum vkg_status vkg_moe_routed(struct vkg_model *m, const struct vkg_weight *router, const struct vkg_moe_router *r,
                               const struct vkg_moe_weights *ew, struct vkg_view ws, uint32_t ws_cap, uint32_t n,
                               int accumulate);

/* m->arch_state, made (calloc'd, `bytes`) and hung off the model with
 * arch_free = free_fn when there is none yet; NULL when out of memory. */
void *vkg_moe_state(struct vkg_model *m, size_t bytes, void (*free_fn)(struct vkg_model *m));

#endif
