/* push_matmul.h — push constants and op rows of the matmul family: decode
 * mat-vec (1..8 vectors), tiled prefill GEMM, and the load-time quantizers.
 * C and GLSL (push_types.h); the weight readers shared by matvec.comp and
 * matmul.comp are in shaders/matmul_load.glsl.
 *
 * Weight offsets count the weight's own addressing unit inside the bound
 * window: 32-bit words for F32, 16-bit elements for F16/BF16, bytes for the
 * block types Q8_0/Q4 and ggml's Q4_1 ... Q6_K (blocks of 18 to 210 bytes,
 * not word aligned; every block size is even). All
 * other offsets and strides count floats. */
#ifndef VKG_PUSH_MATMUL_H
#define VKG_PUSH_MATMUL_H

#include "push_types.h"

/* y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o]) for the n_out rows and n_tok
 * tokens of one dispatch (one binding window of each tensor). */
struct vkg_push_matmul {
    uint32_t n_out;    /* weight rows in this dispatch */
    uint32_t n_in;     /* weight columns = x row length used */
    uint32_t n_tok;    /* tokens (vectors) in this dispatch */
    uint32_t w_off;    /* row 0 of W inside its window (words / 16-bit elements / bytes, see above) */
    uint32_t x_off;    /* x[0][0] inside its window (floats) */
    uint32_t x_stride; /* floats between tokens in x */
    uint32_t y_off;    /* y[0][0] inside its window (floats) */
    uint32_t y_stride; /* floats between tokens in y */
    uint32_t b_off;    /* bias[0] inside its window (floats) */
    uint32_t has_bias; /* 0: binding 3 is a dummy and is not read */
    uint32_t vec;      /* VKG_MATMUL_VEC_*: which tensors may be read in 16-byte vectors */
    uint32_t mode;     /* VKG_MATMUL_MODE_*: matmul_lane / matvec1_lane_tx only, 0 elsewhere */
    /* VKG_MATMUL_MODE_PARTS: weight rows [0, seg1) go to y, [seg1, seg2) to y1 (row - seg1),
     * [seg2, n_out) to y2 (row - seg2), each with its own offset and token stride (floats) */
    uint32_t seg1, seg2;
    uint32_t y1_off, y1_stride;
    uint32_t y2_off, y2_stride;
    /* VKG_MATMUL_MODE_RESNORM: Y is a residual stream and takes += (W x + bias); the workgroup that
     * finishes last for its block of tokens (arrival counter CNT[c_off + block], binding 7, zero
     * before and after) writes Y1[t][o] = Y[t][o] / rms(Y[t]) * (G[g_off + o] + w_add) for the
     * block's tokens (y1_off, y1_stride), eps inside the square root as rmsnorm.comp */
    float eps;
    float w_add;
    uint32_t g_off;
    uint32_t c_off;
    /* VKG_MATMUL_MODE_PARTS_QKNORM: after the PARTS stores, the last workgroup of each token block
     * (the same counters) applies RMSNorm in place to every norm_n-value head of the block's y rows
     * (q, weight G from g_off) and y1 rows (k, weight G1 from g1_off), as rmsnorm_lane per head */
    uint32_t g1_off;
    uint32_t norm_n;
};
/* How matmul_lane / matvec1_lane_tx store: */
#define VKG_MATMUL_MODE_PLAIN 0u /* y[t][o] */
#define VKG_MATMUL_MODE_PARTS 1u /* fused projections (q|k|v): rows split over y, y1, y2 */
/* fused gate|up: W holds 2 n_out rows (gate rows, then up rows) and
 * y[t][o] = act(gate_o . x_t + b[o]) * (up_o . x_t + b[n_out + o]) */
#define VKG_MATMUL_MODE_SWIGLU 2u
#define VKG_MATMUL_MODE_GEGLU 3u
/* y += W x (+ bias), then RMSNorm of the updated rows into y1 (the fields after y2_stride) */
#define VKG_MATMUL_MODE_RESNORM 4u
/* PARTS, then Qwen3's per-head RMSNorm of q (y) and k (y1) in place (the fields after c_off) */
#define VKG_MATMUL_MODE_PARTS_QKNORM 5u
/* GEGLU with ggml's table GELU (act.glsl act_gelu_f16; VKGRM_GELU_F16: llama.cpp's numbers) */
#define VKG_MATMUL_MODE_GEGLU_F16 6u
/* W rows start 16-byte aligned in the window and n_in % 8 == 0 (float types only) */
#define VKG_MATMUL_VEC_W 1u
/* x rows start 16-byte aligned in the window and n_in % 8 == 0 */
#define VKG_MATMUL_VEC_X 2u
/* matmul_lane / matvec1_lane_tx, 32-value block types: W rows start at any even byte of a texel
 * and n_in % 256 may be != 0 (rows end inside a group of 8 blocks) */
#define VKG_MATMUL_ROWS_ANY 4u
/* matmul_lane / matvec1_lane_tx / matvec1_lane_cs, float types: W is stored in tiles of
 * VKG_MATMUL_TILE_ROWS rows (vkg_weights_tile_rows; the last tile may hold fewer), each
 * tile texel-column-major: texel kt of the tile's row r at tile_start + kt * tile_rows + r.
 * llvmpipe runs a workgroup as a loop over 8-lane SIMD chunks, each through the whole kernel:
 * with 8-row tiles a chunk's 8 consecutive rows are one sequential stream (128 bytes per step)
 * where row-major order gave it 8 row streams and 8-row tiles a 128-byte piece of every
 * 1 KB (README, "Tiled weights").
 * The block types (matmul_lane / matvec1_lane_tx, float or 8-bit x; rows of 256k values) the same
 * way with 256 values as the unit, a Q4_K / Q5_K / Q6_K block or 8 blocks of the 32-value types:
 * unit kb of the tile's row r at tile_start + (kb * tile_rows + r) unit bytes (vkg_weights_tile_rows
 * with 1-byte elements, g = the unit's bytes), so the 8 lanes of a chunk read 8 neighbouring units
 * (1.1-2.2 KB in one run) where row-major order gave them 8 rows' units a row apart. Q6_K's
 * 8 units of a tile column (1680 bytes, on a texel) are stored field by field instead (the Q6_K
 * split, VKG_Q6K_SPLIT_*): 8 ql[128], then 8 qh[64], 8 scales[16], 8 d, so every row's fields
 * start on a texel and the kernels read them without realigning a 210-byte block; hence tiled Q6_K
 * matrices hold whole tiles (n_out % 8 == 0) and start on a texel. */
#define VKG_MATMUL_W_TILED 8u
#define VKG_MATMUL_TILE_ROWS 8u
/* byte offsets, inside a tiled Q6_K matrix's tile column of 8 units (tile start + kb * 1680), of
 * row r's (r < 8) ql[128], qh[64], scales[16] and d (ggml's block_q6_K fields, in that order there) */
#define VKG_Q6K_SPLIT_QL(r) (128u * (r))
#define VKG_Q6K_SPLIT_QH(r) (1024u + 64u * (r))
#define VKG_Q6K_SPLIT_SC(r) (1536u + 16u * (r))
#define VKG_Q6K_SPLIT_D(r) (1664u + 2u * (r))

/* Quantize n_blocks blocks of 32 values (one invocation per block). */
struct vkg_push_quantize {
    uint32_t n_blocks; /* blocks in this dispatch */
    uint32_t src_off;  /* first source element inside its window (F32/F16/BF16 elements) */
    uint32_t dst_off;  /* first destination byte inside its window (even) */
    uint32_t pad0;
};

/* quantize_x_q8k: F32 activation rows -> the 8-bit x of the XQ8 kernels (matmul_lane /
 * matvec1_lane_tx *_q4_k_xq8, *_q5_k_xq8, *_q6_k_xq8), one invocation per 256-value block of a row, quantized
 * as llama.cpp's quantize_row_q8_K_ref does (d = 1 / (-127 / m), m the value of largest |x|;
 * q = nearest(x * -127 / m), at most 127). A block is VKG_XQ8_BLOCK_WORDS words: [0] d (f32
 * bits), [1 + s] the sum of sub-block s's 32 q (s < 8), [9..11] 0, then per sub-block s 16 words
 * at 12 + 16 s: word 2 i + e (i < 8, e < 2) = q[32 s + 4 i + 2 + e] + q[32 s + 4 i + e] * 65536 as
 * a 32-bit integer, so that one 32-bit multiply by two weights (w0 + w1 * 65536: Q4_K's 4-bit
 * values, Q5_K's 5-bit ones, Q6_K's 6-bit ones minus 32) leaves w0 q0 + w1 q2 (resp. q1, q3) in its upper half. */
struct vkg_push_quantize_x {
    uint32_t n_tok;    /* rows */
    uint32_t n_blk;    /* 256-value blocks per row */
    uint32_t x_off;    /* x[0][0] inside its window (floats, a multiple of 4) */
    uint32_t x_stride; /* floats between rows (a multiple of 4) */
    uint32_t q_off;    /* row 0 inside the output window (words, a multiple of 4) */
    uint32_t q_stride; /* words between rows (n_blk * VKG_XQ8_BLOCK_WORDS) */
    uint32_t pad0, pad1;
};
#define VKG_XQ8_BLOCK_WORDS 140u
#define VKG_XQ8_BLOCK_TEXELS 35u
/* quantize_x_q8_0: the same F32 rows -> the 8-bit x of the 32-value types' XQ8 kernels (matmul_lane /
 * matvec1_lane_tx *_q4_xq8, *_q4_1_xq8, *_q5_0_xq8, *_q5_1_xq8), one invocation per 32-value block of a row, quantized
 * as llama.cpp's x86 quantize_row_q8_0 / quantize_row_q8_1 (the activations of its Q4_0 / Q5_0 and
 * Q4_1 / Q5_1 dot products): m the largest |x|, d = m / 127 stored as f16, q = nearest-even(x * 127 / m)
 * (0 where m == 0). A block is VKG_XQ8_0_BLOCK_WORDS words: [0] d (the f16 value as f32 bits), [1] the
 * sum of the 32 q, [2] s = d * sum as f16 (Q8_1's s, as f32 bits; d before its rounding), [3] 0, then
 * at 4 + 2 i + e (i < 8, e < 2) q[4 i + 2 + e] + q[4 i + e] * 65536 (Q8_K's sub-block pairing above).
 * n_blk / q_stride count these blocks; n_in a multiple of 32. */
#define VKG_XQ8_0_BLOCK_WORDS 20u
#define VKG_XQ8_0_BLOCK_TEXELS 5u
/* quantize_x_q8_0f: the same Q8_0 rounding for Q8_0 weights, written back as F32 rows (f16(d) * q, each
 * exact) that the float-x Q8_0 kernels read in place of x: q_stride = n_in words, n_blk as above. 8-bit
 * weights gain nothing from the integer products (two products of 127 * 127 fill a 16-bit half, one
 * pair per read-out), so their kernels stay float and take llama.cpp's rounding of x this way. */

/* Fixed shapes the shaders are written for (defines there, not spec constants,
 * because the pipeline code passes only constant 0 = local_size_x):
 *   matvec: VKG_MATVEC_LOCAL threads (a power of two: tree reduction), 4 rows
 *           per workgroup, up to VKG_MATVEC_MAX_TOK vectors per launch
 *           (matvec1_*: exactly one vector, for plain decode);
 *   matmul: 64x64 output tile (rows x tokens), K step 32, 64 threads each
 *           owning an 8x8 block of the tile. */
#define VKG_MATVEC_LOCAL 64
#define VKG_MATVEC_ROWS 4
#define VKG_MATVEC_MAX_TOK 8
/* LANE tier (CPU drivers): one row per invocation, VKG_MATVEC_LANE_LOCAL rows per workgroup */
#define VKG_MATVEC_LANE_LOCAL 32
#define VKG_MATVEC_LANE_ROWS 4
/* AUTO on a CPU driver runs up to this many vectors through the lane tier, in
 * blocks of 8 (workgroup z), instead of the tiled GEMM (see ops_matmul.c). */
#define VKG_MATVEC_LANE_MAX_TOK 64
/* matmul_lane / matvec1_lane_tx (CPU drivers with texel reads): weight rows
 * per invocation; VKG_MATMUL_LANE_LOCAL invocations (one SIMD row of
 * llvmpipe's 8 lanes), 8 tokens per workgroup, token blocks in grid x so that
 * a row group's blocks run back to back and find its rows in cache (4096^2
 * F16 x 64 tokens: 97 -> 78 ms). Small workgroups: a workgroup runs on one
 * thread, and a 576-row projection in workgroups of 32 x 8 rows gave the 2
 * cores 3 workgroups to share (64 rows: 9). Measured on SmolLM2 decode,
 * fused launches: local size 8 against 32, 20.2 against 15.3 tokens/s at
 * batch 1. */
/* Rows per invocation of matmul_lane (8-token blocks): 16 for the K-quants,
 * 8 for the rest; matvec1_lane_tx (one token): 8. llvmpipe (Mesa 22.3)
 * compiles each texel fetch to a call of a gather function, and a call
 * clobbers every vector register: per multiply-add the Q4_K GEMM spent ~1.6
 * instructions in the 16 x-fetch calls of each 8-value step and ~3.5 around
 * them (disassembled from Mesa's shader cache). x fetches per multiply-add fall
 * as 1 / rows: 16 rows, 4.2 instructions per multiply-add instead of 5.1;
 * 4096x4096 Q4_K x 64 tokens, min of 5 alternating runs: 8 rows 69.7 ms,
 * 16 rows 53.1, 24 rows 55.0, 32 rows 56.0 (more spills, fewer workgroups);
 * Qwen2.5-Coder-1.5B Q4_K_M prefill +24 %. LLVM's compile time grows faster
 * than the rows: 16 rows took Q4_K 5 -> 13 s, Q6_K 11 -> 29 s, but Q4_1
 * 16 -> 61 s and Q5_0 over a minute, so the 32-value block types (whose
 * realigning walk is larger code) and the float types keep 8. */
#define VKG_MATMUL_LANE_ROWS 8
#define VKG_MATMUL_LANE_ROWS_K 16
#define VKG_MATVEC1_TX_ROWS 8
/* matvec1_lane_cs_* (float weights, one token): the workgroup's 8 lanes share 16 rows and split
 * their columns, a contiguous 128-byte run of each row per step (the row-per-lane walk keeps 64 row
 * streams per workgroup). For rows of 2048+ columns it is faster on lavapipe: vkgrm-bench --ops,
 * 4096x4096 x 1 vector (two runs): F16 3.7 / 4.8 -> 2.4 / 2.5 ms, BF16 3.8 / 3.8 -> 3.1 / 2.1, F32
 * 6.3 / 6.5 -> 3.1 / 5.3; a 2048-wide BF16 Llama (4 layers, FFN 5632) decodes one sequence at
 * 14-19 -> 22-28 tokens/s with 8 rows and 30 with 16 (32: 16-19). For narrow rows it is not:
 * SmolLM2 (576 columns) took 13 % more CPU time per token, its 1536-wide down projection the same,
 * so narrower rows keep the row-per-lane walk (dev->use.matvec_cs 1, the default). */
#define VKG_MATVEC1_CS_ROWS 16
#define VKG_MATVEC1_CS_MIN_IN 2048
/* vkg_op_matmul_add_norm's one launch (RESNORM) for at most this many tokens (one block of 8);
 * more take the matmul and rmsnorm_add launches. The one launch's norm tail (the last workgroup of
 * each 8-token block reloads and normalises the block's rows, a lane loop per storage access on
 * llvmpipe) costs about what the second launch does, and once the matmul got cheaper (mode
 * specialization) the two launches came out ahead for many tokens: vkgrm-bench --ops 128x128 x 160
 * tokens 876-927 -> 781-785 us, the demo's matmul_lane_f16 + rmsnorm_add_lane 2.06-2.13 ->
 * 1.89-1.94 s of kernel time; SmolLM2-135M at batch 32 the same within the noise. One token keeps
 * the one launch, which measured faster there (batch 1: 29-31 against 22-27 tokens/s). */
#define VKG_MATMUL_RESNORM_MAX_TOK 8
/* matmul_lane / matvec1_lane_*: local size 0 = the device's lane width (dev->use.lane_width: 8, or 16
 * where llvmpipe runs 16-lane vectors) */
#define VKG_MATMUL_LANE_LOCAL 0
#define VKG_MATMUL_LOCAL 64
#define VKG_MATMUL_TILE 64

/* clang-format off */
/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_MATMUL(X)                                                             \
    X(MATVEC1_F32_SG,  matvec1_f32_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_F16_SG,  matvec1_f16_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_BF16_SG, matvec1_bf16_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q8_0_SG, matvec1_q8_0_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4_SG,   matvec1_q4_sg,    4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4_1_SG,  matvec1_q4_1_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_0_SG,  matvec1_q5_0_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_1_SG,  matvec1_q5_1_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4_K_SG,  matvec1_q4_k_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_K_SG,  matvec1_q5_k_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q6_K_SG,  matvec1_q6_k_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_F32,     matvec1_f32,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_F16,     matvec1_f16,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_BF16,    matvec1_bf16,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q8_0,    matvec1_q8_0,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4,      matvec1_q4,       4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4_1,     matvec1_q4_1,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_0,     matvec1_q5_0,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_1,     matvec1_q5_1,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q4_K,     matvec1_q4_k,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q5_K,     matvec1_q5_k,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_Q6_K,     matvec1_q6_k,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_F32_SG,  matvec_f32_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_F16_SG,  matvec_f16_sg,  4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_BF16_SG, matvec_bf16_sg, 4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q8_0_SG, matvec_q8_0_sg, 4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4_SG,   matvec_q4_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4_1_SG,   matvec_q4_1_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_0_SG,   matvec_q5_0_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_1_SG,   matvec_q5_1_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4_K_SG,   matvec_q4_k_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_K_SG,   matvec_q5_k_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q6_K_SG,   matvec_q6_k_sg,   4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_F32,     matvec_f32,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_F16,     matvec_f16,     4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_BF16,    matvec_bf16,    4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q8_0,    matvec_q8_0,    4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4,      matvec_q4,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4_1,      matvec_q4_1,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_0,      matvec_q5_0,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_1,      matvec_q5_1,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q4_K,      matvec_q4_k,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q5_K,      matvec_q5_k,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC_Q6_K,      matvec_q6_k,      4, vkg_push_matmul,   VKG_MATVEC_LOCAL)         \
    X(MATVEC1_F32_LANE, matvec1_f32_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_F16_LANE, matvec1_f16_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_BF16_LANE, matvec1_bf16_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q8_0_LANE, matvec1_q8_0_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q4_LANE, matvec1_q4_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q4_1_LANE, matvec1_q4_1_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q5_0_LANE, matvec1_q5_0_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q5_1_LANE, matvec1_q5_1_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q4_K_LANE, matvec1_q4_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q5_K_LANE, matvec1_q5_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC1_Q6_K_LANE, matvec1_q6_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_F32_LANE, matvec_f32_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_F16_LANE, matvec_f16_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_BF16_LANE, matvec_bf16_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q8_0_LANE, matvec_q8_0_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q4_LANE, matvec_q4_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q4_1_LANE, matvec_q4_1_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q5_0_LANE, matvec_q5_0_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q5_1_LANE, matvec_q5_1_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q4_K_LANE, matvec_q4_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q5_K_LANE, matvec_q5_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATVEC_Q6_K_LANE, matvec_q6_k_lane, 4, vkg_push_matmul, VKG_MATVEC_LANE_LOCAL) \
    X(MATMUL_F32,     matmul_f32,     4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_F16,     matmul_f16,     4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_BF16,    matmul_bf16,    4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q8_0,    matmul_q8_0,    4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q4,      matmul_q4,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q4_1,      matmul_q4_1,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q5_0,      matmul_q5_0,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q5_1,      matmul_q5_1,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q4_K,      matmul_q4_k,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q5_K,      matmul_q5_k,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_Q6_K,      matmul_q6_k,      4, vkg_push_matmul,   VKG_MATMUL_LOCAL)         \
    X(MATMUL_LANE_F32,  matmul_lane_f32,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_F16,  matmul_lane_f16,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_BF16, matmul_lane_bf16, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q8_0, matmul_lane_q8_0, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q4,   matmul_lane_q4,   9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q4_1, matmul_lane_q4_1, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q5_0, matmul_lane_q5_0, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q5_1, matmul_lane_q5_1, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q4_K, matmul_lane_q4_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q5_K, matmul_lane_q5_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATMUL_LANE_Q6_K, matmul_lane_q6_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL)   \
    X(MATVEC1_LANE_TX_F32,  matvec1_lane_tx_f32,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_F16,  matvec1_lane_tx_f16,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_BF16, matvec1_lane_tx_bf16, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q8_0, matvec1_lane_tx_q8_0, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4,   matvec1_lane_tx_q4,   9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4_1, matvec1_lane_tx_q4_1, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_0, matvec1_lane_tx_q5_0, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_1, matvec1_lane_tx_q5_1, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4_K, matvec1_lane_tx_q4_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_K, matvec1_lane_tx_q5_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q6_K, matvec1_lane_tx_q6_k, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q4_K_XQ8, matmul_lane_q4_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4_K_XQ8, matvec1_lane_tx_q4_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q5_K_XQ8, matmul_lane_q5_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_K_XQ8, matvec1_lane_tx_q5_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q6_K_XQ8, matmul_lane_q6_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q6_K_XQ8, matvec1_lane_tx_q6_k_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(QUANTIZE_X_Q8K, quantize_x_q8k, 2, vkg_push_quantize_x, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q4_XQ8, matmul_lane_q4_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q4_1_XQ8, matmul_lane_q4_1_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q5_0_XQ8, matmul_lane_q5_0_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATMUL_LANE_Q5_1_XQ8, matmul_lane_q5_1_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4_XQ8, matvec1_lane_tx_q4_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q4_1_XQ8, matvec1_lane_tx_q4_1_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_0_XQ8, matvec1_lane_tx_q5_0_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_TX_Q5_1_XQ8, matvec1_lane_tx_q5_1_xq8, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(QUANTIZE_X_Q8_0, quantize_x_q8_0, 2, vkg_push_quantize_x, VKG_MATMUL_LANE_LOCAL) \
    X(QUANTIZE_X_Q8_0F, quantize_x_q8_0f, 2, vkg_push_quantize_x, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_CS_F32,  matvec1_lane_cs_f32,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_CS_F16,  matvec1_lane_cs_f16,  9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(MATVEC1_LANE_CS_BF16, matvec1_lane_cs_bf16, 9, vkg_push_matmul, VKG_MATMUL_LANE_LOCAL) \
    X(QUANTIZE_F32_Q8_0,  quantize_f32_q8_0,  2, vkg_push_quantize, 64)               \
    X(QUANTIZE_F16_Q8_0,  quantize_f16_q8_0,  2, vkg_push_quantize, 64)               \
    X(QUANTIZE_BF16_Q8_0, quantize_bf16_q8_0, 2, vkg_push_quantize, 64)               \
    X(QUANTIZE_F32_Q4,    quantize_f32_q4,    2, vkg_push_quantize, 64)               \
    X(QUANTIZE_F16_Q4,    quantize_f16_q4,    2, vkg_push_quantize, 64)               \
    X(QUANTIZE_BF16_Q4,   quantize_bf16_q4,   2, vkg_push_quantize, 64)
/* clang-format on */

#endif
