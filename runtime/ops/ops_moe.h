/* ops_moe.h — Mixture-of-Experts launchers. Routing stays on the GPU: the
 * router's ids/weights, the per-expert token lists and the expert FFN are
 * recorded into one command buffer with barriers, no host readback.
 *
 * A sparse MoE block (Qwen3-MoE, Mixtral, DeepSeek-V2/V3) is:
 *   logits = x @ router^T                  (matmul family, F32)
 *   vkg_op_moe_gate    logits -> ids, weights          [n_tok][k]
 *   vkg_op_moe_group   ids -> route (counts|offsets|cursors), list
 *   vkg_op_moe_gate_group  both (one launch for decode steps)
 *   vkg_op_moe_experts x, route, list -> y [n_tok*k][n_in] (scratch h)
 *   vkg_op_moe_combine y, weights -> out [n_tok][n_in]
 *   vkg_op_moe_shared  (DeepSeek shared experts) out += mlp(x)
 * with a vkg_cmd_barrier between each two: the caller orders ops (ops.h);
 * no launcher here records a barrier before or after itself (group and
 * experts have internal ones between their own passes). */
#ifndef VKG_OPS_MOE_H
#define VKG_OPS_MOE_H

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */
#include "dtype.h"
#include "ops_norm.h" /* enum vkg_rmsnorm_kind */

struct vkg_moe_router {
    uint32_t n_exp, k;   /* experts; experts per token (k <= 16, n_exp <= 512) */
    int sigmoid;         /* 0: softmax over all experts; 1: sigmoid per expert */
    int norm;            /* renormalise the k weights: w /= (sum + 1e-20) */
    float scale;         /* routed_scaling_factor (1 for Qwen3-MoE / Mixtral) */
    uint32_t n_group;    /* > 1: group-limited top-k (DeepSeek), n_exp % n_group == 0, <= 64 */
    uint32_t topk_group; /* groups kept when n_group > 1 */
    /* DeepSeek-V3 (noaux_tc): bias.buf set: experts are chosen by score + bias
     * (e_score_correction_bias [n_exp] F32) and weighed by the score. v3_groups:
     * group score = sum of its top-2 choices, other groups' experts excluded
     * (-inf); otherwise DeepSeek-V2: group max, others' scores set to 0. */
    struct vkg_view bias;
    int v3_groups;
};

/* Stacked expert weights (the loader packs HF's per-expert tensors this way). */
struct vkg_moe_weights {
    struct vkg_view gate; /* [n_exp][n_ff][n_in] */
    struct vkg_view up;   /* [n_exp][n_ff][n_in] */
    struct vkg_view down; /* [n_exp][n_in][n_ff] */
    enum vkg_dtype dtype; /* gate and up: F32, F16, BF16 or a block type (whole blocks along each row: n_in) */
    uint32_t n_exp, n_in, n_ff;
    enum vkg_dtype dtype_down; /* down's, which may differ (llama.cpp's Q4_K_M keeps some down
                                  stacks in Q6_K): whole blocks along its rows, n_ff */
    int tiled;                 /* gate and up: each expert's matrix in 8-row tiles (VKG_MATMUL_W_TILED's layout,
                       vkg_weights_tile_rows), read only by the moe_lane kernels; others refuse */
    int tiled_down;            /* down: the same */
};

/* Bytes of the route buffer for n_pairs = n_tok*k pairs: counts, offsets and
 * cursors (n_exp words each), then the tile list of the expert FFN. */
uint64_t vkg_moe_route_bytes(uint32_t n_exp, uint64_t n_pairs);

/* Top-k routing of n_tok tokens, ids best first. Ties: the lower expert index
 * first (torch.topk leaves the order of equal values unspecified). */
enum vkg_status vkg_op_moe_gate(struct vkg_cmd *c, const struct vkg_moe_router *r, uint32_t n_tok,
                                struct vkg_view logits /* [n_tok][n_exp] F32 */,
                                struct vkg_view ids /* [n_tok][k] I32 */, struct vkg_view weights /* [n_tok][k] F32 */);

/* Groups the n_pairs = n_tok*k pairs p = t*k + j by expert: route holds
 * counts, offsets (exclusive prefix sum) and cursors, n_exp words each, then
 * the tile list (vkg_moe_route_bytes); the pairs of expert e are
 * list[offsets[e] .. offsets[e] + counts[e]). */
enum vkg_status vkg_op_moe_group(struct vkg_cmd *c, uint32_t n_pairs, uint32_t n_exp,
                                 struct vkg_view ids /* [n_pairs] I32 */,
                                 struct vkg_view route /* vkg_moe_route_bytes() U32 */,
                                 struct vkg_view list /* [n_pairs] U32 */);

/* vkg_op_moe_gate, then vkg_op_moe_group of its n_tok*k pairs: one launch
 * (moe_gate_group_sg, one workgroup) for up to VKG_MOE_GATE_GROUP_MAX_TOK
 * tokens on the subgroup tier (dev->use.gate_group), else the two with a
 * barrier between them.
 * The same ids, weights, route and list (list order inside an expert is
 * arbitrary either way). */
enum vkg_status vkg_op_moe_gate_group(struct vkg_cmd *c, const struct vkg_moe_router *r, uint32_t n_tok,
                                      struct vkg_view logits /* [n_tok][n_exp] F32 */,
                                      struct vkg_view ids /* [n_tok][k] I32 */,
                                      struct vkg_view weights /* [n_tok][k] F32 */,
                                      struct vkg_view route /* vkg_moe_route_bytes() U32 */,
                                      struct vkg_view list /* [n_tok*k] U32 */);

/* y[p] = down_e(silu(gate_e(x[p / k])) * up_e(x[p / k])) for every pair p of
 * every expert e, reading counts and lists on the GPU. */
enum vkg_status
vkg_op_moe_experts(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                   struct vkg_view x /* [n_tok][n_in] F32 */, struct vkg_view route /* vkg_moe_route_bytes() U32 */,
                   struct vkg_view list /* [n_tok*k] U32 */, struct vkg_view h /* scratch [n_tok*k][n_ff] F32 */,
                   struct vkg_view y /* [n_tok*k][n_in] F32 */, struct vkg_view xq /* XQ8 scratch, or an empty view */);

/* XQ8 (dev->use.xq8; Q4_K, Q5_K, Q6_K, Q4, Q4_1, Q5_0 and Q5_1 experts on moe_lane): each routed pass
 * first quantizes its input rows (gate_up: x, down: h) into xq as llama.cpp's dot products take them
 * (vkg_op_quantize_x_fmt: Q8_K for the K-quants, Q8_0 / Q8_1 for the others) and sums the products in
 * integers (moe_lane's *_xq8 kernels), where xq holds at least vkg_op_moe_xq_bytes(w, n_tok, k) bytes;
 * an empty or smaller xq keeps x in floats. Float and Q8_0 experts keep x in floats. */
uint64_t vkg_op_moe_xq_bytes(const struct vkg_moe_weights *w, uint64_t n_tok, uint32_t k);

/* Whether the loader stores an expert matrix of dtype dt, rows x K, in 8-row tiles for dev (struct
 * vkg_moe_weights' tiled, tiled_down): CPU drivers (use.tiled); float types with K % 8 == 0, block
 * types (use.tiled_blocks) with K % 256 == 0 in 256-value units but Q8_0 (moe_lane reads its tiles,
 * measured no faster), Q6_K in the dense kernels' split tiles (vkg_weights_tile_q6k,
 * VKG_Q6K_SPLIT_*), which need whole tiles (rows % 8 == 0). */
int vkg_op_moe_tileable(const struct vkg_device *dev, enum vkg_dtype dt, uint64_t rows, uint64_t K);

/* The two passes of vkg_op_moe_experts, for benchmarks and for callers that
 * want a barrier-free slot between them (the caller puts a barrier between
 * gate_up and down):
 * h[p] = silu(gate_e(x[p / k])) * up_e(x[p / k]);  y[p] = down_e(h[p]). */
enum vkg_status vkg_op_moe_gate_up(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                                   struct vkg_view x /* [n_tok][n_in] F32 */,
                                   struct vkg_view route /* vkg_moe_route_bytes() U32 */,
                                   struct vkg_view list /* [n_tok*k] U32 */,
                                   struct vkg_view h /* [n_tok*k][n_ff] F32 */, struct vkg_view xq /* as above */);
enum vkg_status vkg_op_moe_down(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                                struct vkg_view h /* [n_tok*k][n_ff] F32 */,
                                struct vkg_view route /* vkg_moe_route_bytes() U32 */,
                                struct vkg_view list /* [n_tok*k] U32 */, struct vkg_view y /* [n_tok*k][n_in] F32 */,
                                struct vkg_view xq /* as above */);

/* out[t] = (accumulate ? out[t] : 0) + sum_j weights[t][j] * y[t*k + j]. */
enum vkg_status vkg_op_moe_combine(struct vkg_cmd *c, uint32_t n_tok, uint32_t k, uint32_t n_in,
                                   struct vkg_view y /* [n_tok*k][n_in] F32 */,
                                   struct vkg_view weights /* [n_tok][k] F32 */,
                                   struct vkg_view out /* [n_tok][n_in] F32 */, int accumulate);

/* The combine, the residual add and the next RMSNorm of a MoE layer:
 *   delta[t] = (accumulate ? delta[t] : 0) + sum_j weights[t][j] * y[t*k + j]   (vkg_op_moe_combine)
 *   res[t] += delta[t];  h[t] = res[t] / rms(res[t]) * w   (GEMMA: * (1 + w); vkg_op_rmsnorm_add)
 * res, h, delta: [n_tok][n_in]; weights.buf NULL: every weight 1. One launch of
 * rmsnorm_combine_lane where dev->use.resnorm and every tensor fits one binding window (delta is
 * then only read), else the two launches and a barrier: the same bits. No barrier after. */
enum vkg_status vkg_op_moe_combine_add_norm(struct vkg_cmd *c, uint32_t n_tok, uint32_t k, uint32_t n_in,
                                            struct vkg_view y, struct vkg_view weights, struct vkg_view delta,
                                            int accumulate, struct vkg_view res, struct vkg_view norm_w,
                                            struct vkg_view h, float eps, enum vkg_rmsnorm_kind kind);

/* Shared experts as one dense MLP (w->n_exp == 1, n_ff = n_shared *
 * moe_intermediate_size): out[t] += down(silu(gate(x[t])) * up(x[t])). Runs
 * the expert kernels with an "every token, weight 1" list. */
enum vkg_status vkg_op_moe_shared(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok,
                                  struct vkg_view x /* [n_tok][n_in] F32 */,
                                  struct vkg_view h /* scratch [n_tok][n_ff] F32 */,
                                  struct vkg_view y /* scratch [n_tok][n_in] F32 */,
                                  struct vkg_view out /* [n_tok][n_in] F32 */);

#endif
