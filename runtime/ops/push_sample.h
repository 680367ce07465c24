/* push_sample.h — push constants, per-row parameters, workspace layout and op
 * rows of the sample family (argmax and sampling over logits [rows][vocab]);
 * C and GLSL (push_types.h). The shaders' own helpers (state words, RNG,
 * fixed-point masses) are in shaders/sample_common.glsl. */
#ifndef VKG_PUSH_SAMPLE_H
#define VKG_PUSH_SAMPLE_H

#include "push_types.h"

/* One push block for every op of the family. Offsets count elements inside
 * the bound windows (vkg_view_window aligns a binding down). */
struct vkg_push_sample {
    uint32_t vocab;      /* logits per row */
    uint32_t n_rows;     /* rows in this dispatch (a batch that fits one logits window) */
    uint32_t row0;       /* first row of the batch: index into params / work / tokens / probs */
    uint32_t logits_off; /* element of logits[row0][0] inside the logits window */
    uint32_t n_chunks;   /* chunks per row (ceil(vocab / chunk)) */
    uint32_t chunk;      /* logits per chunk (one workgroup) */
    uint32_t pass;       /* hist/select: radix pass 0..7 (0-3 top-k, 4-7 top-p) */
    uint32_t flags;      /* VKG_SAMPLE_ADVANCE, VKG_SAMPLE_NO_TOP_K, VKG_SAMPLE_NO_TOP_P */
    uint32_t params_off; /* record of params[0] inside its window (struct vkg_sample_params) */
    uint32_t work_off;   /* word of row row0's workspace inside its window */
    uint32_t tokens_off; /* element of tokens[0] inside its window */
    uint32_t probs_off;  /* element of probs[0] inside its window */
};

/* flags */
#define VKG_SAMPLE_ADVANCE 1u  /* the draw pass increments params[row].step after using it */
#define VKG_SAMPLE_NO_TOP_K 2u /* top_k of every row is taken as 0 and its passes are not recorded */
#define VKG_SAMPLE_NO_TOP_P 4u /* top_p of every row is taken as 1 and its passes are not recorded */

/* Per-row sampling parameters as they sit in the device buffer (the shaders
 * bind an array of this struct). HF semantics, in this order:
 * logits / temperature -> top-k -> top-p -> min-p -> draw. */
struct vkg_sample_params {
    float temperature; /* <= 0: greedy (argmax) */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* >= 1: off */
    float min_p;       /* <= 0: off */
    uint32_t seed_lo;  /* 64-bit seed, low word */
    uint32_t seed_hi;  /* 64-bit seed, high word */
    uint32_t step;     /* RNG counter: u = Philox4x32-10(key = seed, counter = {step, 0, 0, 0}) */
    uint32_t reserved; /* 0 */
};

/* Workspace: per row, VKG_SAMPLE_STATE_WORDS of state, a 256-bin histogram
 * (count, mass low word, mass high word), 4 words per chunk and room for
 * VKG_SAMPLE_CAND candidate keys (the logits that can still matter once the
 * first top-k digit, else the first top-p digit, is known and they fit; the
 * later radix passes read only them). */
#define VKG_SAMPLE_CHUNK 4096u /* logits per workgroup (256 invocations x 16; the lane tier: 8 x 512) */
#define VKG_SAMPLE_STATE_WORDS 16u
#define VKG_SAMPLE_HIST_WORDS (3u * 256u)
#define VKG_SAMPLE_HIST_AT VKG_SAMPLE_STATE_WORDS                           /* first histogram word of a row */
#define VKG_SAMPLE_PART_AT (VKG_SAMPLE_STATE_WORDS + VKG_SAMPLE_HIST_WORDS) /* first per-chunk word of a row */
#define VKG_SAMPLE_CAND 16384u                                              /* at most; min(VKG_SAMPLE_CAND, vocab) */
#define VKG_SAMPLE_ROW_WORDS(n_chunks, vocab)                           \
    (VKG_SAMPLE_STATE_WORDS + VKG_SAMPLE_HIST_WORDS + 4u * (n_chunks) + \
     ((vocab) < VKG_SAMPLE_CAND ? (vocab) : VKG_SAMPLE_CAND))

/* The lane tier (device use.lane_tier with texel and subgroup_arith: CPU
 * drivers): every pass in workgroups of VKG_SAMPLE_LANE_WG invocations, one
 * SIMD slice there, the logits read as 16-byte texels. Same workspace, same
 * chunks, same tokens (the masses are exact integers; only argmax's sum of
 * exponentials, hence a greedy row's prob, adds in another order). */
#define VKG_SAMPLE_LANE_WG 8u

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_SAMPLE(X)                                                \
    X(ARGMAX_PARTIAL, argmax_partial, 4, vkg_push_sample, 256)           \
    X(ARGMAX_FINAL,   argmax_final,   4, vkg_push_sample, 256)           \
    X(SAMPLE_INIT,    sample_init,    5, vkg_push_sample, 256)           \
    X(SAMPLE_HIST,    sample_hist,    5, vkg_push_sample, 256)           \
    X(SAMPLE_SELECT,  sample_select,  5, vkg_push_sample, 256)           \
    X(SAMPLE_COMPACT, sample_compact, 5, vkg_push_sample, 256)           \
    X(SAMPLE_MASS,    sample_mass,    5, vkg_push_sample, 256)           \
    X(SAMPLE_DRAW,    sample_draw,    5, vkg_push_sample, 256)           \
    X(ARGMAX_PARTIAL_SG, argmax_partial_sg, 4, vkg_push_sample, 256)     \
    X(ARGMAX_FINAL_SG,   argmax_final_sg,   4, vkg_push_sample, 256)     \
    X(SAMPLE_INIT_SG,    sample_init_sg,    5, vkg_push_sample, 256)     \
    X(ARGMAX_PARTIAL_LANE, argmax_partial_lane, 4, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(ARGMAX_FINAL_LANE,   argmax_final_lane,   4, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_INIT_LANE,    sample_init_lane,    5, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_HIST_LANE,    sample_hist_lane,    5, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_SELECT_LANE,  sample_select_lane,  5, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_COMPACT_LANE, sample_compact_lane, 5, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_MASS_LANE,    sample_mass_lane,    5, vkg_push_sample, VKG_SAMPLE_LANE_WG) \
    X(SAMPLE_DRAW_LANE,    sample_draw_lane,    5, vkg_push_sample, VKG_SAMPLE_LANE_WG)
/* clang-format on */

#endif
