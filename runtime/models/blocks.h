/* blocks.h — the pieces several forward passes share: a linear layer
 * by weight, RoPE on q/k, per-head RMSNorm, the standard (GQA) self-attention
 * block and the gated MLP. Each reads its weights by the Hugging Face names
 * under model.layers.N and records into m->cmd with barriers after itself. */
#ifndef VKG_ARCH_COMMON_H
#define VKG_ARCH_COMMON_H

#include "model.h"

#define VKG_V(b) vkg_buffer_view(b)

/* y[n][n_out] = x[n][n_in] W^T (+ bias when bias != NULL). */
enum vkg_status vkg_arch_linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                struct vkg_view x, struct vkg_view y, uint32_t n);
/* RoPE (half rotation) in place on x [n][heads][head_dim], positions m->a.pos. */
enum vkg_status vkg_arch_rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads);
/* RMSNorm over each head_dim slice of x [n][heads][head_dim], in place (Qwen3 q_norm/k_norm). */
enum vkg_status vkg_arch_head_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t n,
                                   uint32_t heads);
/* Self-attention of layer l, m->a.h -> m->a.delta: q/k/v projections (bias
 * when present), per-head q/k norm (cfg.qk_norm), RoPE, KV append, paged
 * attention (cfg scale, soft-cap, sliding window of local layers), o_proj. */
enum vkg_status vkg_arch_attention(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, uint32_t n);
/* Gated MLP at "model.layers.<l>.<block>": m->a.h -> m->a.delta =
 * down(act(gate(h)) * up(h)), act from cfg.act (SiLU, or tanh-GELU). */
enum vkg_status vkg_arch_mlp(struct vkg_model *m, uint32_t l, const char *block, uint32_t n);

/* What a decoder plugs into vkg_arch_trunk. The blocks read m->a.h and write
 * m->a.delta, recording into m->cmd with barriers after themselves. */
struct vkg_decoder {
    enum vkg_status (*prepare)(struct vkg_model *m); /* device state before recording, or NULL */
    enum vkg_status (*attention)(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, uint32_t n);
    enum vkg_status (*moe)(struct vkg_model *m, uint32_t l, uint32_t n); /* cfg.layer_moe layers, or NULL */
    enum vkg_status (*mlp)(struct vkg_model *m, uint32_t l, const char *block, uint32_t n); /* the others: "mlp" */
};

/* One step of a pre-norm decoder: dec->prepare, then embeddings -> per layer
 * input_layernorm, attention, post_attention_layernorm, MoE or dense MLP
 * (residual adds fused into the norms) -> final norm, into m->a.h. */
enum vkg_status vkg_arch_trunk(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n,
                               const struct vkg_decoder *dec);

#endif
