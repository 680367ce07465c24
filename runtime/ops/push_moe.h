/* push_moe.h — push constants and op rows of the moe family (router top-k,
 * token grouping per expert, expert FFN over stacked weights, combine).
 * C and GLSL (push_types.h). */
#ifndef VKG_PUSH_MOE_H
#define VKG_PUSH_MOE_H

#include "push_types.h"

/* Largest expert count and top-k the shaders hold in shared memory / registers. */
#define VKG_MOE_MAX_EXPERTS 512u
#define VKG_MOE_MAX_K 16u
#define VKG_MOE_MAX_GROUPS 64u
/* moe_gate flags */
#define VKG_MOE_GATE_SIGMOID 1u   /* sigmoid scores instead of softmax over all experts */
#define VKG_MOE_GATE_NORM 2u      /* renormalise the k weights to sum 1 */
#define VKG_MOE_GATE_BIAS 4u      /* choose on score + bias (binding 3), weigh by the score */
#define VKG_MOE_GATE_V3_GROUPS 8u /* group score = sum of top-2; other groups excluded (-inf) */
/* moe_combine flags */
#define VKG_MOE_COMBINE_ACCUMULATE 1u /* out += ... instead of out = ... */
#define VKG_MOE_COMBINE_UNIT 2u       /* every weight is 1 (no weights binding read) */

/* moe_gate: one workgroup (scalar) or subgroup (SG) per token. */
struct vkg_push_moe_gate {
    uint32_t n_tok, n_exp, k;
    uint32_t flags;      /* VKG_MOE_GATE_* */
    uint32_t n_group;    /* group-limited top-k when > 1 (n_exp % n_group == 0) */
    uint32_t topk_group; /* groups kept */
    float scale;         /* routed_scaling_factor, applied last */
    uint32_t logit_off;  /* first element inside the bound windows */
    uint32_t ids_off, w_off;
    uint32_t tok_per_wg; /* SG tier: tokens (subgroups) per workgroup */
    uint32_t bias_off;   /* first element of the bias inside its window */
    uint32_t route_off;  /* moe_gate_group_sg: first element of route and list in their windows */
    uint32_t list_off;
    uint32_t pad[3];
};
/* moe_gate_group_sg (router and grouping in one workgroup): up to this many tokens */
#define VKG_MOE_GATE_GROUP_MAX_TOK 64u

/* Pairs per tile of the expert FFN: the scan lists the tiles of every expert. */
#define VKG_MOE_TILE 8u /* moe_lane.comp shares x over two quads: written for 8 */
/* moe_lane (CPU drivers, float weights): output rows per invocation, VKG_MOE_LANE_LOCAL invocations */
#define VKG_MOE_LANE_ROWS_GATE_UP 2u
#define VKG_MOE_LANE_ROWS_DOWN 4u
#define VKG_MOE_LANE_LOCAL 32u
/* moe_lane1: a routed pass whose pairs are at most this many per expert on average takes the
 * *_lane1 kernels (each pair of a tile in turn) instead of 8-pair tiles */
#define VKG_MOE_LANE1_PAIRS 2u
/* the same for K-quant experts that take x in 8 bits (*_lane1_xq8; the 32-value types' *_xq8 keep
 * VKG_MOE_LANE1_PAIRS: ops_moe.c, few_pairs): their sub-blocks are unrolled,
 * and from VKG_MOE_LANE2_PAIRS_XQ8 per expert they take two pairs per pass. The moe-100m preset's
 * Q4_K_M file (16 experts, top-2): a 64-token prefill, 8 per expert, ran 1.09x faster through
 * *_lane1_xq8 than through the 8-pair tiles, a 128-token one (16 per expert) alike (pair.py) */
#define VKG_MOE_LANE1_PAIRS_XQ8 8u
/* *_lane1_xq8 passes with at least this many pairs per expert on average take a tile's pairs two at
 * a time (moe_lane.comp's PAIR2: each weight fetched and decoded once for both; a tile of one pair
 * computes it twice and stores it once) */
#define VKG_MOE_LANE2_PAIRS_XQ8 2u
/* moe_group: up to this many pairs one workgroup groups them (moe_group1), one launch */
#define VKG_MOE_GROUP1_MAX_PAIRS 2048u
/* moe_count / moe_scan / moe_scatter. The route buffer holds, in words:
 * counts[n_exp], offsets[n_exp] (exclusive prefix sum), cursors[n_exp]
 * (scatter), n_tiles, tiles[max_tiles] (expert | tile index << 10), where
 * max_tiles = ceil(n_pairs / VKG_MOE_TILE) + min(n_exp, n_pairs). */
struct vkg_push_moe_route {
    uint32_t n_pairs; /* n_tok * k (token, slot) pairs */
    uint32_t n_exp;
    uint32_t ids_off, route_off, list_off; /* first element inside the bound windows */
    uint32_t pad[3];
};

/* moe_gate_up_* / moe_down_*: out[pair][m] for m < M over the pairs of every
 * tile (route's tile list; workgroup y = tile) whose expert lies in the bound
 * weight window (experts e_base .. e_base + n_win - 1); workgroup x covers
 * m_per_wg output rows. */
struct vkg_push_moe_ffn {
    uint32_t n_exp;  /* experts in total (route array stride) */
    uint32_t e_base; /* first expert of the bound weight window */
    uint32_t K, M;   /* inner dim, output rows per expert */
    uint32_t in_div; /* input row = pair / in_div (k for gate_up, 1 for down) */
    uint32_t dense;  /* 1: every pair 0..n_rows-1 goes to expert 0 (shared expert) */
    uint32_t n_rows; /* dense: rows */
    uint32_t in_off, w0_off, w1_off, route_off, list_off, out_off; /* offsets in the windows: elements
                                                                    (weights: bytes for block types) */
    uint32_t n_win;                                                /* experts in the bound weight window */
    uint32_t m_per_wg; /* output rows per workgroup (a multiple of the shader's NR) */
    uint32_t vec;      /* float weights: K % 8 == 0 and input / weight windows 16-byte aligned (8 per load);
                          | VKG_MOE_W_TILED (moe_lane only) */
};
/* vkg_push_moe_ffn.vec: each expert's matrix in 8-row tiles (VKG_MATMUL_W_TILED's layout, per expert) */
#define VKG_MOE_W_TILED 2u

/* moe_combine: out[t][i] (+)= sum_j w[t][j] * y[t*k+j][i]. */
struct vkg_push_moe_combine {
    uint32_t n_tok, k, n_in;
    uint32_t flags; /* VKG_MOE_COMBINE_* */
    uint32_t y_off, w_off, out_off;
    uint32_t pad;
};

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_MOE(X)                                                         \
    X(MOE_GATE,         moe_gate,         4, vkg_push_moe_gate,    64)         \
    X(MOE_GATE_SG,      moe_gate_sg,      4, vkg_push_moe_gate,    64)         \
    X(MOE_GATE_GROUP_SG, moe_gate_group_sg, 6, vkg_push_moe_gate,  64)         \
    X(MOE_COUNT,        moe_count,        2, vkg_push_moe_route,   256)        \
    X(MOE_SCAN,         moe_scan,         1, vkg_push_moe_route,   256)        \
    X(MOE_SCATTER,      moe_scatter,      3, vkg_push_moe_route,   256)        \
    X(MOE_GROUP1,       moe_group1,       3, vkg_push_moe_route,   256)        \
    X(MOE_GATE_UP_F32,  moe_gate_up_f32,  6, vkg_push_moe_ffn,     64)         \
    X(MOE_GATE_UP_F16,  moe_gate_up_f16,  6, vkg_push_moe_ffn,     64)         \
    X(MOE_GATE_UP_BF16, moe_gate_up_bf16, 6, vkg_push_moe_ffn,     64)         \
    X(MOE_DOWN_F32,     moe_down_f32,     5, vkg_push_moe_ffn,     64)         \
    X(MOE_DOWN_F16,     moe_down_f16,     5, vkg_push_moe_ffn,     64)         \
    X(MOE_DOWN_BF16,    moe_down_bf16,    5, vkg_push_moe_ffn,     64)         \
    X(MOE_GATE_UP_F32_SG,  moe_gate_up_f32_sg,  6, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_F16_SG,  moe_gate_up_f16_sg,  6, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_BF16_SG, moe_gate_up_bf16_sg, 6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_F32_SG,     moe_down_f32_sg,     5, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_F16_SG,     moe_down_f16_sg,     5, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_BF16_SG,    moe_down_bf16_sg,    5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_F32_LANE,  moe_gate_up_f32_lane,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_F16_LANE,  moe_gate_up_f16_lane,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_BF16_LANE, moe_gate_up_bf16_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_F32_LANE,     moe_down_f32_lane,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_F16_LANE,     moe_down_f16_lane,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_BF16_LANE,    moe_down_bf16_lane,    5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_F32_LANE1,  moe_gate_up_f32_lane1,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_F16_LANE1,  moe_gate_up_f16_lane1,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_BF16_LANE1, moe_gate_up_bf16_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_F32_LANE1,     moe_down_f32_lane1,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_F16_LANE1,     moe_down_f16_lane1,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_BF16_LANE1,    moe_down_bf16_lane1,    5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q8_0_LANE,  moe_gate_up_q8_0_lane,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q8_0_LANE,     moe_down_q8_0_lane,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q8_0_LANE1, moe_gate_up_q8_0_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q8_0_LANE1,    moe_down_q8_0_lane1,    5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_LANE,  moe_gate_up_q4_lane,  6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_LANE,     moe_down_q4_lane,     5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_LANE1, moe_gate_up_q4_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_LANE1,    moe_down_q4_lane1,    5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_1_LANE, moe_gate_up_q4_1_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_1_LANE1, moe_gate_up_q4_1_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_1_LANE, moe_down_q4_1_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_1_LANE1, moe_down_q4_1_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_0_LANE, moe_gate_up_q5_0_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_0_LANE1, moe_gate_up_q5_0_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_0_LANE, moe_down_q5_0_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_0_LANE1, moe_down_q5_0_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_1_LANE, moe_gate_up_q5_1_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_1_LANE1, moe_gate_up_q5_1_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_1_LANE, moe_down_q5_1_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_1_LANE1, moe_down_q5_1_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_K_LANE, moe_gate_up_q4_k_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_K_LANE1, moe_gate_up_q4_k_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_K_LANE, moe_down_q4_k_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_K_LANE1, moe_down_q4_k_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_K_LANE, moe_gate_up_q5_k_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_K_LANE1, moe_gate_up_q5_k_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_K_LANE, moe_down_q5_k_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_K_LANE1, moe_down_q5_k_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q6_K_LANE, moe_gate_up_q6_k_lane, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q6_K_LANE1, moe_gate_up_q6_k_lane1, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q6_K_LANE, moe_down_q6_k_lane, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q6_K_LANE1, moe_down_q6_k_lane1, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_K_LANE1_XQ8, moe_gate_up_q4_k_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_K_LANE1_XQ8, moe_down_q4_k_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_K_LANE1_XQ8, moe_gate_up_q5_k_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_K_LANE1_XQ8, moe_down_q5_k_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q6_K_LANE1_XQ8, moe_gate_up_q6_k_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q6_K_LANE1_XQ8, moe_down_q6_k_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_K_LANE_XQ8, moe_gate_up_q4_k_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_K_LANE_XQ8, moe_down_q4_k_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_K_LANE_XQ8, moe_gate_up_q5_k_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_K_LANE_XQ8, moe_down_q5_k_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q6_K_LANE_XQ8, moe_gate_up_q6_k_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q6_K_LANE_XQ8, moe_down_q6_k_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_LANE1_XQ8, moe_gate_up_q4_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_LANE1_XQ8, moe_down_q4_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_1_LANE1_XQ8, moe_gate_up_q4_1_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_1_LANE1_XQ8, moe_down_q4_1_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_0_LANE1_XQ8, moe_gate_up_q5_0_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_0_LANE1_XQ8, moe_down_q5_0_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_1_LANE1_XQ8, moe_gate_up_q5_1_lane1_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_1_LANE1_XQ8, moe_down_q5_1_lane1_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_LANE_XQ8, moe_gate_up_q4_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_LANE_XQ8, moe_down_q4_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q4_1_LANE_XQ8, moe_gate_up_q4_1_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q4_1_LANE_XQ8, moe_down_q4_1_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_0_LANE_XQ8, moe_gate_up_q5_0_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_0_LANE_XQ8, moe_down_q5_0_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q5_1_LANE_XQ8, moe_gate_up_q5_1_lane_xq8, 6, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_DOWN_Q5_1_LANE_XQ8, moe_down_q5_1_lane_xq8, 5, vkg_push_moe_ffn, VKG_MOE_LANE_LOCAL) \
    X(MOE_GATE_UP_Q8_0,    moe_gate_up_q8_0,    6, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4,      moe_gate_up_q4,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q8_0,       moe_down_q8_0,       5, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4,         moe_down_q4,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q8_0_SG, moe_gate_up_q8_0_sg, 6, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4_SG,   moe_gate_up_q4_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q8_0_SG,    moe_down_q8_0_sg,    5, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4_SG,      moe_down_q4_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4_1,      moe_gate_up_q4_1,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4_1,         moe_down_q4_1,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_0,      moe_gate_up_q5_0,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_0,         moe_down_q5_0,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_1,      moe_gate_up_q5_1,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_1,         moe_down_q5_1,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4_K,      moe_gate_up_q4_k,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4_K,         moe_down_q4_k,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_K,      moe_gate_up_q5_k,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_K,         moe_down_q5_k,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q6_K,      moe_gate_up_q6_k,      6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q6_K,         moe_down_q6_k,         5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4_1_SG,   moe_gate_up_q4_1_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4_1_SG,      moe_down_q4_1_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_0_SG,   moe_gate_up_q5_0_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_0_SG,      moe_down_q5_0_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_1_SG,   moe_gate_up_q5_1_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_1_SG,      moe_down_q5_1_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q4_K_SG,   moe_gate_up_q4_k_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q4_K_SG,      moe_down_q4_k_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q5_K_SG,   moe_gate_up_q5_k_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q5_K_SG,      moe_down_q5_k_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_GATE_UP_Q6_K_SG,   moe_gate_up_q6_k_sg,   6, vkg_push_moe_ffn, 64)      \
    X(MOE_DOWN_Q6_K_SG,      moe_down_q6_k_sg,      5, vkg_push_moe_ffn, 64)      \
    X(MOE_COMBINE,      moe_combine,      3, vkg_push_moe_combine, 256)
/* clang-format on */

#endif
