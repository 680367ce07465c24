/* push_norm.h — push constants and op rows of the norm family: embedding
 * lookup, RMSNorm, gated activations and element-wise pieces.
 * C and GLSL (push_types.h). All offsets count elements (floats or ids)
 * inside the bound window, except embed's table_skip (bytes). */
#ifndef VKG_PUSH_NORM_H
#define VKG_PUSH_NORM_H

#include "push_types.h"

/* Embedding: out[t][j] = table[ids[t]][j] * scale, for the table rows
 * [row_lo, row_hi) present in the bound table window. */
struct vkg_push_embed {
    uint32_t n_tokens;   /* tokens in this dispatch */
    uint32_t dim;        /* row length (elements) */
    uint32_t ids_off;    /* first id inside the ids window */
    uint32_t out_off;    /* first output float inside the out window */
    uint32_t table_skip; /* byte of row row_lo inside the table window */
    uint32_t row_lo;     /* first table row in the window */
    uint32_t row_hi;     /* one past the last table row in the window */
    uint32_t vocab;      /* rows of the whole table: ids outside [0, vocab) give zeros */
    uint32_t write_oob;  /* 1 on exactly one window per token range: it writes the zero rows */
    float scale;         /* multiplier (1, or Gemma's sqrt(hidden)) */
    uint32_t tiled;      /* the table in 8-row tiles, as the matmul reads a tied head: F32/F16/BF16 in
                            push_matmul.h's VKG_MATMUL_W_TILED layout, the block types (dim % 256 == 0) in
                            256-value units (use.tiled_blocks, vkg_weights_tile_rows) */
    uint32_t pad1;
};

/* RMSNorm over rows of n elements. Row r of the dispatch is head r % group
 * of token r / group: x[x_off + (r/group)*x_stride + (r%group)*n] (same for
 * the residual r with x's layout, and y with y_stride). */
struct vkg_push_rmsnorm {
    uint32_t n;        /* row length (elements) */
    uint32_t rows;     /* rows in this dispatch (tokens * group) */
    uint32_t group;    /* rows per token: heads for a per-head norm, else 1 */
    uint32_t x_stride; /* elements between tokens in x (and the residual) */
    uint32_t y_stride; /* elements between tokens in y */
    uint32_t x_off;    /* first element of x inside its window */
    uint32_t r_off;    /* first element of the residual inside its window */
    uint32_t y_off;    /* first element of y inside its window */
    float eps;
    float w_add; /* 0: y = x/rms * w (Llama, Qwen); 1: y = x/rms * (1 + w) (Gemma) */
    /* rmsnorm_combine_lane: x is the k expert outputs of each token ([tokens * k][n]); the row's
     * values are sum_j w[t][j] x[t*k + j] (+ d[t] with VKG_MOE_COMBINE_ACCUMULATE; weights 1
     * with VKG_MOE_COMBINE_UNIT), as moe_combine.comp sums them, before the residual add */
    uint32_t k;
    uint32_t flags;
    uint32_t w_off; /* first routing weight inside its window */
    uint32_t d_off; /* first element of d (the shared experts' output) inside its window */
};

/* Gated activation: out[r][j] = act(gate[r][j]) * up[r][j], rows of n. */
struct vkg_push_glu {
    uint32_t n;           /* row length of out (elements) */
    uint32_t rows;        /* rows in this dispatch */
    uint32_t gate_off;    /* first gate element inside its window */
    uint32_t gate_stride; /* elements between gate rows */
    uint32_t up_off;      /* first up element inside its window */
    uint32_t up_stride;   /* elements between up rows */
    uint32_t out_off;     /* first out element inside its window */
    uint32_t out_stride;  /* elements between out rows */
};

/* Element-wise over n floats: softcap (out = f * tanh(a / f)), add
 * (out = a + b), scale (out = a * f). */
struct vkg_push_eltwise {
    uint32_t n;       /* elements in this dispatch */
    uint32_t a_off;   /* first element of a inside its window */
    uint32_t b_off;   /* first element of b inside its window (add) */
    uint32_t out_off; /* first element of out inside its window */
    float f;          /* softcap: the cap c; scale: the factor */
    uint32_t pad0, pad1, pad2;
};

/* Row-reduction workgroup size: a power of two (tree reduction), <= 1024. */
#define VKG_RMSNORM_LOCAL 256
/* The lane tier (rmsnorm.comp LANE): 4 rows of 8 lanes per workgroup. */
#define VKG_RMSNORM_LANE_LOCAL 32

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_NORM(X)                                                           \
    X(EMBED_F32,      embed_f32,      3, vkg_push_embed,    256)                  \
    X(EMBED_F16,      embed_f16,      3, vkg_push_embed,    256)                  \
    X(EMBED_BF16,     embed_bf16,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q8_0,     embed_q8_0,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q4,       embed_q4,       3, vkg_push_embed,    256)                  \
    X(EMBED_Q4_1,      embed_q4_1,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q5_0,      embed_q5_0,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q5_1,      embed_q5_1,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q4_K,      embed_q4_k,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q5_K,      embed_q5_k,     3, vkg_push_embed,    256)                  \
    X(EMBED_Q6_K,      embed_q6_k,     3, vkg_push_embed,    256)                  \
    X(RMSNORM,        rmsnorm,        3, vkg_push_rmsnorm,  VKG_RMSNORM_LOCAL)    \
    X(RMSNORM_ADD,    rmsnorm_add,    4, vkg_push_rmsnorm,  VKG_RMSNORM_LOCAL)    \
    X(RMSNORM_SG,     rmsnorm_sg,     3, vkg_push_rmsnorm,  VKG_RMSNORM_LOCAL)    \
    X(RMSNORM_ADD_SG, rmsnorm_add_sg, 4, vkg_push_rmsnorm,  VKG_RMSNORM_LOCAL)    \
    X(RMSNORM_LANE,   rmsnorm_lane,   3, vkg_push_rmsnorm,  VKG_RMSNORM_LANE_LOCAL) \
    X(RMSNORM_ADD_LANE, rmsnorm_add_lane, 4, vkg_push_rmsnorm, VKG_RMSNORM_LANE_LOCAL) \
    X(RMSNORM_COMBINE_LANE, rmsnorm_combine_lane, 6, vkg_push_rmsnorm, VKG_RMSNORM_LANE_LOCAL) \
    X(RMSNORM_LANE_TX, rmsnorm_lane_tx, 3, vkg_push_rmsnorm, VKG_RMSNORM_LANE_LOCAL) \
    X(RMSNORM_ADD_LANE_TX, rmsnorm_add_lane_tx, 5, vkg_push_rmsnorm, VKG_RMSNORM_LANE_LOCAL) \
    X(RMSNORM_COMBINE_LANE_TX, rmsnorm_combine_lane_tx, 7, vkg_push_rmsnorm, VKG_RMSNORM_LANE_LOCAL) \
    X(SWIGLU,         swiglu,         3, vkg_push_glu,      256)                  \
    X(GEGLU,          geglu,          3, vkg_push_glu,      256)                  \
    X(GEGLU_F16,      geglu_f16,      3, vkg_push_glu,      256)                  \
    X(SOFTCAP,        softcap,        2, vkg_push_eltwise,  256)                  \
    X(ADD,            add,            3, vkg_push_eltwise,  256)                  \
    X(SCALE,          scale,          2, vkg_push_eltwise,  256)
/* clang-format on */

#endif
