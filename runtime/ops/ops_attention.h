/* ops_attention.h — launchers of the attention family over the paged KV
 * cache (kv_cache.h): append new K/V rows, attention (one kernel family for
 * prefill and decode; split-K over long KV when few queries meet it).
 *
 * A token record is { int32 seq, int32 pos }: the sequence id in the cache and
 * the absolute position of the token. Record order: append, barrier,
 * attention (the launchers add no barrier before their first dispatch). */
#ifndef VKG_OPS_ATTENTION_H
#define VKG_OPS_ATTENTION_H

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */
#include "kv_cache.h"

struct vkg_attn_params {
    uint32_t n_heads;    /* query heads: a multiple of the cache's n_kv_heads (GQA; MQA = 1 kv head) */
    float scale;         /* on q.k: 1/sqrt(dk); Gemma-2 1/sqrt(query_pre_attn_scalar); DeepSeek mscale^2/sqrt(dk) */
    float softcap;       /* 0: none; else s = softcap * tanh(s / softcap) before masking (Gemma-2) */
    uint32_t window;     /* 0: none; else attend kv positions > pos - window (HF sliding window) */
    uint32_t n_split;    /* KV splits: 0 picks one (1 when scratch is empty), 1 none */
    uint64_t max_kv_len; /* longest attended sequence: sizes the splits (correct even when too small) */
    int token_runs;      /* 1: the query tokens come in runs of consecutive tokens of one sequence
                            (prefill): attn_rows gives 8 (token, head) rows of a KV head one
                            workgroup, which reads each K/V row once for all rows of a sequence;
                            no KV split. Correct for any token order, fast for long runs */
};

/* Writes the K and V rows of n_tokens new tokens into their pages of `layer`;
 * their pages must be reserved (vkg_kv_reserve) and the tables uploaded. */
enum vkg_status vkg_op_kv_append(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                 struct vkg_view k,      /* [n_tokens][n_kv_heads][dk] f32 */
                                 struct vkg_view v,      /* [n_tokens][n_kv_heads][dv] f32 */
                                 struct vkg_view tokens, /* [n_tokens] {seq, pos} int32 */
                                 uint64_t n_tokens);

/* RoPE in the append (one launch instead of rope(q), rope(k), kv_append):
 * rotates q in place and K on its way into the pages, each token at its
 * record's position, exactly as vkg_op_rope with head_stride dk would; k
 * itself is left as it was. */
struct vkg_kv_rope {
    struct vkg_view q;         /* [n_tokens][n_heads][dk] f32, rotated in place */
    struct vkg_view inv_freq;  /* [rot_dim / 2] f32 */
    uint32_t n_heads;          /* query heads */
    uint32_t rot_dim, dim_off; /* dims [dim_off, dim_off + rot_dim) of each head rotate; rot_dim even */
    int interleaved;           /* 0: pairs (k, k + rot_dim/2) (HF rotate_half); 1: (2k, 2k+1) */
    float attn_factor;         /* scales cos and sin */
};
enum vkg_status vkg_op_kv_append_rope(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                      struct vkg_view k, struct vkg_view v, struct vkg_view tokens, uint64_t n_tokens,
                                      const struct vkg_kv_rope *r);

/* DeepSeek-V2's append (MLA): K and V gathered from where the layer computed
 * them, without copying them into [token][head][d] rows first. Per token t
 * and head h: K = [k[t k_ts + h k_hs ..][0, k_split) | k2[t k2_ts ..][0, dk -
 * k_split)] (k_nope of kv_b_proj's output, then the k_pe shared by the
 * heads), V = v[t v_ts + h v_hs ..][0, dv); strides in floats. */
struct vkg_kv_mla {
    struct vkg_view k, k2, v;
    uint32_t k_ts, k_hs, k2_ts, v_ts, v_hs, k_split;
};
/* r (or NULL): RoPE in the same launch, as vkg_op_kv_append_rope does it (q in place; K's
 * elements in [r->dim_off, r->dim_off + r->rot_dim) rotated on the way: DeepSeek-V2's q rope
 * slices and k_pe, interleaved pairs). */
enum vkg_status vkg_op_kv_append_mla(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                     const struct vkg_kv_mla *g, struct vkg_view tokens, uint64_t n_tokens,
                                     const struct vkg_kv_rope *r);

/* out = softmax(mask(softcap(scale * q K^T))) V for each query token and head,
 * over the token's sequence in the cache: causal (kv pos <= pos), windowed. */
enum vkg_status vkg_op_attention(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                 struct vkg_view q,       /* [n_tokens][n_heads][dk] f32 */
                                 struct vkg_view tokens,  /* [n_tokens] {seq, pos} int32 */
                                 struct vkg_view out,     /* [n_tokens][n_heads][dv] f32 */
                                 struct vkg_view scratch, /* split-K partials (size 0: no split) */
                                 uint64_t n_tokens, const struct vkg_attn_params *p);

/* attn.comp's *_wide kernels run here (use.attn_wide and VKG_ATTN_WIDE_SHARED bytes of shared memory):
 * rows up to VKG_ATTN_WIDE_DK / VKG_ATTN_WIDE_DV off the lane tier. */
int vkg_attn_wide_ok(const struct vkg_device *dev);

/* Query heads one attn_lane workgroup takes (specialization constant 3 of attn_lane*): the
 * largest divisor of n_heads / n_kv_heads that is at most VKG_ATTN_LANE_GH and keeps
 * GH * (dk + dv) / 4 <= VKG_ATTN_LANE_STATE, or, when one head's (dk + dv) / 4 alone passes it,
 * the largest divisor at most VKG_ATTN_LANE_GH_WIDE; 1 without dev->use.attn_group. */
uint32_t vkg_attn_lane_heads(const struct vkg_device *dev, uint32_t n_heads, uint32_t n_kv_heads, uint32_t dk,
                             uint32_t dv);

/* Cascade attention for decode-like queries whose sequences all share their
 * first prefix_len tokens (forked from one prompt, vkg_kv_seq_fork): the
 * prefix K/V is read once per KV head for up to 16 (token, head) rows
 * (attn_prefix) instead of once per token; each token's own positions
 * [prefix_len, pos] are attended by attn_split; combine merges both. Same
 * result as vkg_op_attention. All n_tokens must fit one binding window.
 * scratch: vkg_attn_scratch_bytes(n_tokens, n_heads, dv, 64) always suffices;
 * automatic splits (p->n_split 0) shrink to fit a smaller one, down to 2. */
enum vkg_status vkg_op_attention_shared(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                        struct vkg_view q,       /* [n_tokens][n_heads][dk] f32 */
                                        struct vkg_view tokens,  /* [n_tokens] {seq, pos} int32 */
                                        struct vkg_view out,     /* [n_tokens][n_heads][dv] f32 */
                                        struct vkg_view scratch, /* partials */
                                        uint64_t n_tokens, uint32_t prefix_len, const struct vkg_attn_params *p);

/* Bytes of scratch for n_split KV splits ([n_tokens][n_heads][n_split][2 + dv] f32). */
uint64_t vkg_attn_scratch_bytes(uint64_t n_tokens, uint32_t n_heads, uint32_t dv, uint32_t n_split);

#endif
