/* ops_rope.h — rotary position embedding in place on F32 activations; the
 * work is split into token chunks whose windows fit one binding. The
 * inv_freq tables come from runtime/models/rope.h (vkg_rope_inv_freq). */
#ifndef VKG_OPS_ROPE_H
#define VKG_OPS_ROPE_H

#include "command.h"
#include "op_table.h"

/* RoPE in place. x: [tokens][tok_stride] holding n_heads heads of
 * head_stride elements; pos: [tokens] int32; inv_freq: [rot_dim/2] F32
 * (vkg_rope_inv_freq). Dims [dim_off, dim_off + rot_dim) of each head
 * rotate; cos/sin are multiplied by attn_factor.
 * interleaved = 0: pairs (k, k + rot_dim/2), HF rotate_half (Llama, Qwen, Gemma).
 * interleaved = 1: pairs (2k, 2k+1), GPT-J. HF DeepSeek-V2 does exactly this
 * (view_as_complex over (2k, 2k+1) times freqs_cis[k]). HF DeepSeek-V3 with
 * rope_interleave permutes q/k (view(..., d/2, 2).transpose) and applies
 * rotate_half, leaving the rope slice de-interleaved; that gives the same
 * q.k as rotating (2k, 2k+1) in place, which is what this does (q and k
 * just must agree). DeepSeek's rope slice sits after the nope dims:
 * dim_off = qk_nope_head_dim, rot_dim = qk_rope_head_dim; k_pe is one
 * shared head (n_heads = 1). */
struct vkg_rope_args {
    struct vkg_view x, pos, inv_freq;
    uint64_t tokens;
    uint32_t n_heads, head_stride;
    uint64_t tok_stride;
    uint32_t rot_dim, dim_off;
    int interleaved;
    float attn_factor;
};
enum vkg_status vkg_op_rope(struct vkg_cmd *c, const struct vkg_rope_args *a);

#endif
