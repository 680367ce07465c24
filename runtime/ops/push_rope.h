/* push_rope.h — push constants and op row of the RoPE family; C and GLSL
 * (push_types.h). Offsets count elements inside the bound windows. */
#ifndef VKG_PUSH_ROPE_H
#define VKG_PUSH_ROPE_H

#include "push_types.h"

/* RoPE in place on x[token][head][head_dim]: dims dim_off .. dim_off+rot_dim
 * of every head rotate, pair k by angle pos[token] * inv_freq[k]. */
struct vkg_push_rope {
    uint32_t n_tokens;    /* tokens in this dispatch */
    uint32_t n_heads;     /* heads per token */
    uint32_t head_stride; /* elements between heads */
    uint32_t tok_stride;  /* elements between tokens */
    uint32_t x_off;       /* first element of x inside its window */
    uint32_t pos_off;     /* first position inside its window */
    uint32_t rot_dim;     /* rotated dims (even) */
    uint32_t dim_off;     /* first rotated dim inside a head */
    uint32_t interleaved; /* 0: pairs (k, k + rot_dim/2) (NeoX/HF rotate_half); 1: (2k, 2k+1) (GPT-J) */
    float attn_factor;    /* cos and sin are multiplied by it (YaRN), as HF does */
    uint32_t pad0, pad1;
};

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_ROPE(X) \
    X(ROPE, rope, 3, vkg_push_rope, 256)
/* clang-format on */

#endif
