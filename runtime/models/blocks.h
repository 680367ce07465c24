/* blocks.h — the pieces the forward functions share: a linear layer, RoPE on
 * q/k, per-head RMSNorm, the embeddings and the residual norms, the standard
 * (GQA) self-attention block and the gated MLP. Each takes its weights from
 * the resolved structs (model.h: struct vkg_layer, struct vkg_mlp_weights)
 * and records into m->cmd with a barrier after itself. */
#ifndef VKG_ARCH_COMMON_H
#define VKG_ARCH_COMMON_H

#include "model.h"
#include "ops_attention.h"
#include "ops_norm.h"

#define VKG_V(b) vkg_buffer_view(b)

/* y[n][W rows] = x[n][W cols] W^T (+ bias when bias != NULL); no barrier. */
enum vkg_status vkg_arch_linear(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                struct vkg_view x, struct vkg_view y, uint32_t n);
/* The same with rows xs and ys floats apart (0: contiguous); no barrier. */
enum vkg_status vkg_arch_linear_ex(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                   struct vkg_view x, uint64_t xs, struct vkg_view y, uint64_t ys, uint32_t n);
/* The output projection of a block and the norm after it (norm != NULL):
 * res += x W^T (+ bias); h = norm(res), plain kind (vkg_op_matmul_add_norm: one launch on CPU
 * drivers). norm NULL: delta = x W^T (+ bias), the caller adds it. Barrier after. */
enum vkg_status vkg_arch_linear_out(struct vkg_model *m, const struct vkg_weight *w, const struct vkg_weight *bias,
                                    struct vkg_view x, uint32_t n, const struct vkg_weight *norm);
/* RoPE (half rotation) in place on x [n][heads][head_dim], positions m->a.pos; no barrier. */
enum vkg_status vkg_arch_rope(struct vkg_model *m, struct vkg_view x, uint32_t n, uint32_t heads);
/* RMSNorm over each head_dim slice of x [n][heads][head_dim], in place (Qwen3 q_norm/k_norm); no barrier. */
enum vkg_status vkg_arch_head_norm(struct vkg_model *m, const struct vkg_weight *w, struct vkg_view x, uint32_t n,
                                   uint32_t heads);

/* res = embed_tokens[ids] * scale. */
enum vkg_status vkg_arch_embed(struct vkg_model *m, uint32_t n, float scale);
/* h = norm(res) with weight w (the first layer's input norm). */
enum vkg_status vkg_arch_norm(struct vkg_model *m, const struct vkg_weight *w, uint32_t n, enum vkg_rmsnorm_kind kind);
/* res += delta; h = norm(res) with weight w: a residual add fused into the next norm. */
enum vkg_status vkg_arch_add_norm(struct vkg_model *m, const struct vkg_weight *w, uint32_t n,
                                  enum vkg_rmsnorm_kind kind);

/* Paged attention of layer l over the step's tokens, m->a.q -> m->a.attn:
 * the cascade (vkg_op_attention_shared) when the step's sequences share a
 * long prefix of pages (m->step_prefix_len), else vkg_op_attention. */
enum vkg_status vkg_arch_attend(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t l, struct vkg_attn_params *p,
                                uint32_t n);
/* Self-attention of layer l, m->a.h -> m->a.delta: q/k/v projections (+ bias),
 * per-head q/k norm (L->q_norm), RoPE, KV append, paged attention (cfg scale,
 * soft-cap, sliding window of local layers), o_proj (+ bias); with norm != NULL
 * o_proj adds into m->a.res and h = norm(res) (vkg_arch_linear_out). */
enum vkg_status vkg_arch_attention(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_layer *L, uint32_t l,
                                   uint32_t n, const struct vkg_weight *norm);
/* Gated MLP, m->a.h -> m->a.delta = down(act(gate(h)) * up(h)) (+ biases),
 * act from cfg.act (SiLU, or tanh-GELU); with norm != NULL down adds into
 * m->a.res and h = norm(res) (vkg_arch_linear_out). */
enum vkg_status vkg_arch_mlp(struct vkg_model *m, const struct vkg_mlp_weights *w, uint32_t n,
                             const struct vkg_weight *norm);

#endif
